//! `propusk serve`: the trust bundle, the portal and the operator API over HTTP.

use std::path::PathBuf;

use crate::error::CliError;
use crate::opening::unlocked;

/// Arguments of `propusk serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The issuer's directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// Address to listen on: `HOST:PORT` (`localhost:8080`, `0.0.0.0:443`, `[::1]:8080`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// The issuer's PostgreSQL database, shared by every `serve` of the issuer (default:
    /// PROPUSK_DATABASE_URL; without either, the SQLite file in --dir).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// A read-only replica of the PostgreSQL database for the portal's lookups (default:
    /// PROPUSK_READ_DATABASE_URL); issuing, revoking and publishing stay on --database.
    #[arg(long, value_name = "URL")]
    pub read_database: Option<String>,
    /// Portal lookups one client address may make in a burst and per minute (0: no limit, for
    /// load tests only).
    #[arg(long, default_value_t = propusk_issuer::server::PORTAL_RATE)]
    pub portal_rate: u32,
    /// Also serve `GET /metrics` (Prometheus text format) without a token on this address, one
    /// only the monitoring reaches; on --addr it always needs the operator's token.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Log lines as text for a terminal, or as JSON objects for a log collector.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How `serve` writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// A line of text per event.
    Text,
    /// A JSON object per line.
    Json,
}

/// `HOST:PORT` to a socket address: a name (`localhost`) is looked up, IPv4 first.
fn resolve(addr: &str) -> Result<std::net::SocketAddr, CliError> {
    use std::net::ToSocketAddrs;
    let usage = |why: &str| {
        CliError::Usage(format!(
            "--addr {addr}: {why} (write HOST:PORT, e.g. localhost:8080)"
        ))
    };
    let mut found: Vec<std::net::SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|_| usage("not an address"))?
        .collect();
    found.sort_by_key(|a| !a.is_ipv4());
    found
        .into_iter()
        .next()
        .ok_or_else(|| usage("no such host"))
}

/// Runs `propusk serve` until interrupted.
pub fn run_serve(args: &ServeArgs) -> Result<u8, CliError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Text => log.try_init(),
        LogFormat::Json => log.json().try_init(),
    };
    let addr = resolve(&args.addr)?;
    let metrics = args.metrics_addr.as_deref().map(resolve).transpose()?;
    crate::opening::choose_database(args.database.as_deref())?;
    let mut issuer = unlocked(&args.dir)?;
    let replica = args
        .read_database
        .clone()
        .or_else(|| std::env::var("PROPUSK_READ_DATABASE_URL").ok())
        .filter(|u| !u.is_empty());
    if let Some(url) = replica {
        issuer.read_from(&url).map_err(|_| {
            CliError::Usage(
                "--read-database (or PROPUSK_READ_DATABASE_URL) must be a PostgreSQL URL".into(),
            )
        })?;
    }
    propusk_issuer::server::run(&args.dir, issuer, addr, metrics, args.portal_rate)?;
    Ok(0)
}
