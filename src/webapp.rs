//! `propusk app export`: the web app (verifier and wallet) as static files, pinned to the
//! issuer's root, for any web server or CDN.

use std::path::PathBuf;

use propusk_issuer::app::{OtherRoot, config, export_files};
use propusk_trust_list::parse_public_key;

use crate::error::CliError;

/// The web app.
#[derive(Debug, clap::Subcommand)]
pub enum AppCommand {
    /// Write the web app as static files for any web server or CDN: pinned to the issuer's root
    /// key (as `verifier init --root` pins it), syncing from the issuer's published trust data.
    /// Serve DIR over HTTPS (a service worker needs it, or localhost) under any path.
    #[command(
        after_help = "Examples:\n  propusk app export --dir ISS --out site/app\n  propusk app export --dir ISS --out site/app --url https://trust.example --trust BY/root.pub=https://trust.by"
    )]
    Export(ExportArgs),
}

/// Arguments of `propusk app export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The issuer's directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// Where to write the app (created; its files replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// The base URL whose `/bundle/` holds the issuer's published trust data (default: the
    /// issuer's portal URL, `issuer config --url`). It must allow the app's origin (CORS) when
    /// it is another.
    #[arg(long)]
    pub url: Option<String>,
    /// Another issuer's root to trust besides this one: `ROOT.pub=URL` (its root public key file
    /// and the base URL of its trust data). Repeatable.
    #[arg(long = "trust", value_name = "ROOT.pub=URL")]
    pub trust: Vec<String>,
    /// The issuer's PostgreSQL database (default: PROPUSK_DATABASE_URL; else the SQLite file).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

/// Runs `propusk app …`.
pub fn run(command: &AppCommand) -> Result<u8, CliError> {
    let AppCommand::Export(args) = command;
    crate::opening::choose_database(args.database.as_deref())?;
    let issuer = crate::opening::open(&args.dir)?;
    let url = match args.url.clone().or_else(|| issuer.settings().url.clone()) {
        Some(url) => {
            origin(&url).map_err(|why| CliError::Usage(format!("--url {url}: {why}")))?;
            url
        }
        None => {
            return Err(CliError::Usage(
                "the issuer has no portal URL: give --url (where its published trust data is)"
                    .into(),
            ));
        }
    };
    let others = args
        .trust
        .iter()
        .map(|t| other_root(t))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(&args.out).map_err(|e| CliError::io(&args.out, e))?;
    let mut origins: Vec<String> = std::iter::once(url.as_str())
        .chain(others.iter().map(|o| o.url.as_str()))
        .filter_map(|u| origin(u).ok())
        .collect();
    origins.sort();
    origins.dedup();
    let written = export_files(config(&issuer, &url, &others)?, &origins);
    for f in &written {
        let path = args.out.join(f.name);
        std::fs::write(&path, &f.bytes).map_err(|e| CliError::io(&path, e))?;
    }
    println!(
        "wrote the web app ({} files) to {}: trust data from {url}/bundle/",
        written.len(),
        args.out.display()
    );
    Ok(0)
}

fn other_root(given: &str) -> Result<OtherRoot, CliError> {
    let usage = |why: String| CliError::Usage(format!("--trust {given}: {why}"));
    let (path, url) = given
        .split_once('=')
        .ok_or_else(|| usage("write ROOT.pub=URL".into()))?;
    let path = PathBuf::from(path);
    let text = std::fs::read_to_string(&path).map_err(|e| CliError::io(&path, e))?;
    let key = parse_public_key(&text)
        .ok_or_else(|| usage(format!("{} holds no Ed25519 public key", path.display())))?;
    origin(url).map_err(|why| usage(format!("{url}: {why}")))?;
    Ok(OtherRoot {
        key,
        url: url.to_owned(),
    })
}

/// The origin (`scheme://host[:port]`) of a trust data URL: HTTPS, or plain HTTP only on this
/// machine (a trust host reached in clear could feed the app anything but signed data, and
/// whoever is on the way would see which verifier asks).
fn origin(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "not an http(s) URL".to_owned())?;
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host_port.is_empty() || host_port.contains(['@', ' ']) {
        return Err("not an http(s) URL with a host".into());
    }
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    let loopback = host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback());
    match scheme {
        "https" => Ok(format!("https://{host_port}")),
        "http" if loopback => Ok(format!("http://{host_port}")),
        "http" => Err("plain http:// is only for this machine (localhost): use https://".into()),
        _ => Err("not an http(s) URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn trust_urls_are_https_or_this_machine() {
        assert_eq!(
            origin("https://trust.example/a/b").as_deref(),
            Ok("https://trust.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin("http://localhost:9/x").as_deref(),
            Ok("http://localhost:9")
        );
        assert_eq!(origin("http://[::1]:7").as_deref(), Ok("http://[::1]:7"));
        assert!(origin("http://trust.example.org").is_err());
        assert!(origin("http://127.0.0.1.evil.example").is_err());
        assert!(origin("ftp://x").is_err());
        assert!(origin("https://").is_err());
    }
}
