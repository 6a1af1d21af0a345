//! `propusk issuer ...`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use propusk_issuer::{Issuer, IssuerError, Request};
use propusk_spec::{CredentialId, offline_link};

use crate::verify::{EXIT_CONFIG, EXIT_DATA_REFUSED, parse_at};
use crate::{EXIT_IO, EXIT_USAGE};

/// Exit code: the passphrase is wrong or missing (sysexits `EX_NOPERM`).
pub const EXIT_NOPERM: u8 = 77;

/// `propusk issuer ...`.
#[derive(Debug, clap::Subcommand)]
pub enum IssuerCommand {
    /// Create an issuer: a root key (signs trust bundles only), a first signing key,
    /// `DIR/root.pub` (the key verifiers pin) and `DIR/operator.token` (owner-readable). Secret
    /// keys are sealed with the passphrase in PROPUSK_PASSPHRASE, or one asked on the terminal.
    Init {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The authority's name, as verifiers show it.
        #[arg(long, default_value = "Propusk issuer")]
        name: String,
        /// The jurisdiction (ISO 3166-1 alpha-2).
        #[arg(long, default_value = "RU")]
        country: String,
        /// The portal's base URL, for link-form QR codes.
        #[arg(long)]
        url: Option<String>,
        /// The jurisdiction's IANA time zone, in which the rules count days.
        #[arg(long, default_value = "Europe/Moscow")]
        time_zone: String,
        /// The time of creation (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Issue one credential from the issuance JSON; prints the credential text (or, with
    /// `--link`, the portal link) as the last line. Exit 65 when the input is malformed or the
    /// rules forbid it.
    Issue {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The issuance JSON file (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// The issuance time (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// Also write the QR code as PNG.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Also write the QR code as SVG.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Print (and draw) the portal link form instead of the credential text: the short link
        /// with the whole signed credential in its fragment, so a phone opens the portal and a
        /// verifier checks it offline.
        #[arg(long)]
        link: bool,
    },
    /// Issue from a registry export: CSV with a header row (columns in the README) or JSON
    /// Lines (`.jsonl`). Idempotent on the record id; writes one QR PNG per record and
    /// `issued.csv` (record_id,credential_id) into OUT. Bad rows are reported by line and the
    /// good ones issued; exit 65 when any row was bad.
    Batch {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The registry export.
        #[arg(long)]
        input: PathBuf,
        /// Where the QR images and `issued.csv` go.
        #[arg(long)]
        out: PathBuf,
        /// The issuance time (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// Write no QR images (only `issued.csv`).
        #[arg(long)]
        no_images: bool,
    },
    /// Was a registry record issued, and when? Prints the record's credential as JSON (id,
    /// type, key, issued_at, expires_at, status); exit 65 when the record was never issued.
    Record {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The registry record id.
        record_id: String,
    },
    /// Import EU DCC document signer certificates (DER or PEM X.509) to publish with the trust
    /// bundle, so that verifiers check EU certificates with the same trust data.
    EuImport {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The country that issued them (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: String,
        /// The certificate files.
        #[arg(required = true)]
        certificates: Vec<PathBuf>,
    },
    /// Manage signing keys.
    Key {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The time of the operation (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// What to do.
        #[command(subcommand)]
        op: KeyOp,
    },
    /// Revoke a credential (the holder fell ill, or it was issued in error); it enters the
    /// revocation set at the next `publish`.
    Revoke {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The credential id.
        id: String,
        /// The time of revocation (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Write the signed trust bundle (trust list, revocation list, rule set), deltas from recent
    /// publications and the signed index as static files.
    Publish {
        /// The issuer's directory.
        #[arg(long)]
        dir: PathBuf,
        /// Where to write the files.
        #[arg(long)]
        out: PathBuf,
        /// The publication time (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
}

/// `propusk issuer key ...`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyOp {
    /// List the keys (`--json`: an array of key_id, public_key, status, not_before, not_after).
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Make the announced key (or a new one) active and retire the active one; with
    /// `--announce`, only announce a new key (published, not yet signing).
    Rotate {
        /// Announce a new key ahead of use instead of rotating.
        #[arg(long)]
        announce: bool,
    },
    /// Retire a signing key: it signs nothing new; what it signed stays valid.
    Retire {
        /// The key id.
        kid: String,
    },
    /// Distrust a signing key from a time on: credentials it signed then or later are refused.
    Compromise {
        /// The key id.
        kid: String,
        /// From when (RFC 3339; default: the time of the operation).
        #[arg(long)]
        since: Option<String>,
    },
}

fn exit_for(e: &IssuerError) -> u8 {
    match e {
        IssuerError::NotInitialised(_) | IssuerError::AlreadyInitialised(_) => EXIT_CONFIG,
        IssuerError::Passphrase(_) => EXIT_NOPERM,
        IssuerError::Io { .. } => EXIT_IO,
        IssuerError::Input(_)
        | IssuerError::Refused(_)
        | IssuerError::UnknownCredential(_)
        | IssuerError::Key(_) => EXIT_DATA_REFUSED,
        _ => EXIT_IO,
    }
}

fn fail(e: &IssuerError) -> u8 {
    eprintln!("propusk: {e}");
    exit_for(e)
}

/// The passphrase: PROPUSK_PASSPHRASE, or asked on the terminal.
fn passphrase() -> Result<String, IssuerError> {
    if let Ok(p) = std::env::var("PROPUSK_PASSPHRASE") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(IssuerError::Passphrase(
            "set PROPUSK_PASSPHRASE (no terminal to ask on)",
        ));
    }
    rpassword::prompt_password("Passphrase: ")
        .map_err(|_| IssuerError::Passphrase("could not be read from the terminal"))
}

fn unlocked(dir: &Path) -> Result<Issuer, IssuerError> {
    let mut issuer = Issuer::open(dir)?;
    issuer.unlock(&passphrase()?)?;
    Ok(issuer)
}

fn read_input(path: &Path) -> Result<String, IssuerError> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
            IssuerError::Io {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| IssuerError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), IssuerError> {
    std::fs::write(path, bytes).map_err(|e| IssuerError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Runs `propusk issuer ...`.
pub fn run(cmd: &IssuerCommand) -> u8 {
    let at = match cmd {
        IssuerCommand::Record { .. } | IssuerCommand::EuImport { .. } => &None,
        IssuerCommand::Init { at, .. }
        | IssuerCommand::Issue { at, .. }
        | IssuerCommand::Batch { at, .. }
        | IssuerCommand::Key { at, .. }
        | IssuerCommand::Revoke { at, .. }
        | IssuerCommand::Publish { at, .. } => at,
    };
    let now = match parse_at(at.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("propusk: {e}");
            return EXIT_USAGE;
        }
    };
    let result = match cmd {
        IssuerCommand::Init { dir, name, country, url, time_zone, .. } => passphrase().and_then(|p| {
            let issuer = Issuer::init(dir, name, country, url.as_deref(), time_zone, &p, now)?;
            println!("issuer {name} ready in {}", dir.display());
            for key in issuer.keys()? {
                println!("  {} key {} ({})", key.role, key.key_id, key.status);
            }
            println!("verifiers pin {}", dir.join(propusk_issuer::ROOT_PUB_FILE).display());
            Ok(())
        }),
        IssuerCommand::Issue { dir, input, png, svg, link, .. } => issue(dir, input, png.as_deref(), svg.as_deref(), *link, now),
        IssuerCommand::Batch { dir, input, out, no_images, .. } => {
            return match batch(dir, input, out, !no_images, now) {
                Ok(code) => code,
                Err(e) => fail(&e),
            };
        }
        IssuerCommand::Record { dir, record_id } => Issuer::open(dir).and_then(|i| i.record(record_id)).and_then(|found| {
            let mut issued = found.ok_or_else(|| IssuerError::Input(format!("record {record_id} was never issued")))?;
            issued.credential.clear();
            let mut v = serde_json::to_value(&issued).map_err(|e| IssuerError::Store(e.to_string()))?;
            if let Some(o) = v.as_object_mut() {
                o.remove("credential");
            }
            println!("{v}");
            Ok(())
        }),
        IssuerCommand::EuImport { dir, country, certificates } => {
            let mut files = Vec::new();
            for path in certificates {
                match std::fs::read(path) {
                    Ok(b) => files.push(b),
                    Err(e) => return fail(&IssuerError::Io { path: path.clone(), message: e.to_string() }),
                }
            }
            Issuer::open(dir).and_then(|mut i| i.import_eu_signers(&files, country, now)).map(|ids| {
                println!("EU signers imported: {}; they are published with the next bundle", ids.join(", "));
            })
        }
        IssuerCommand::Key { dir, op, .. } => key(dir, op, now),
        IssuerCommand::Revoke { dir, id, .. } => match id.parse::<CredentialId>() {
            Err(e) => Err(IssuerError::Input(format!("credential id: {e}"))),
            Ok(id) => Issuer::open(dir).and_then(|mut i| i.revoke(&id, now)).map(|c| {
                println!("credential {} ({}) revoked; it enters the revocation list at the next publish", c.id, c.credential_type);
            }),
        },
        IssuerCommand::Publish { dir, out, .. } => unlocked(dir).and_then(|mut i| i.publish(out, now)).map(|p| {
            println!(
                "published sequence {} ({} revoked credentials, deltas from {:?}) to {}",
                p.sequence,
                p.revoked,
                p.deltas_from,
                p.bundle.display()
            );
        }),
    };
    match result {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

fn issue(
    dir: &Path,
    input: &Path,
    png: Option<&Path>,
    svg: Option<&Path>,
    link: bool,
    now: propusk_spec::Timestamp,
) -> Result<(), IssuerError> {
    let request = Request::from_json(&read_input(input)?)?;
    let mut issuer = unlocked(dir)?;
    let issued = issuer.issue(&request, now)?;
    let shown = if link {
        let base = issuer
            .base_url()
            .ok_or_else(|| IssuerError::Input("--link: the issuer has no --url".into()))?;
        let id: CredentialId = issued
            .id
            .parse()
            .map_err(|e| IssuerError::Store(format!("{e}")))?;
        offline_link(base, &id, &issued.credential)
            .map_err(|e| IssuerError::Input(e.to_string()))?
    } else {
        issued.credential.clone()
    };
    if let Some(path) = png {
        write(
            path,
            &propusk_qr::render_png(&shown, 4).map_err(|e| IssuerError::Refused(e.to_string()))?,
        )?;
    }
    if let Some(path) = svg {
        write(
            path,
            propusk_qr::render_svg(&shown)
                .map_err(|e| IssuerError::Refused(e.to_string()))?
                .as_bytes(),
        )?;
    }
    eprintln!(
        "issued {} {} (key {}), valid until {}",
        issued.credential_type, issued.id, issued.key_id, issued.expires_at
    );
    println!("{shown}");
    Ok(())
}

fn key(dir: &Path, op: &KeyOp, now: propusk_spec::Timestamp) -> Result<(), IssuerError> {
    match op {
        KeyOp::List { json } => {
            let keys = Issuer::open(dir)?.keys()?;
            if *json {
                let v = serde_json::to_string_pretty(&keys)
                    .map_err(|e| IssuerError::Store(e.to_string()))?;
                println!("{v}");
            } else {
                for k in keys {
                    let since = k.since.map(|s| format!(" since {s}")).unwrap_or_default();
                    println!(
                        "{} {:7} {:11}{since}  {} .. {}",
                        k.key_id, k.role, k.status, k.not_before, k.not_after
                    );
                }
            }
            Ok(())
        }
        KeyOp::Rotate { announce } => {
            let key = unlocked(dir)?.rotate(now, *announce)?;
            println!("signing key {} is {}", key.key_id, key.status);
            Ok(())
        }
        KeyOp::Retire { kid } => {
            Issuer::open(dir)?.retire(kid, now)?;
            println!("signing key {kid} retired");
            Ok(())
        }
        KeyOp::Compromise { kid, since } => {
            let since = match since {
                Some(s) => parse_at(Some(s)).map_err(IssuerError::Input)?,
                None => now,
            };
            Issuer::open(dir)?.compromise(kid, since, now)?;
            println!("signing key {kid} distrusted since {since}");
            Ok(())
        }
    }
}

fn batch(
    dir: &Path,
    input: &Path,
    out: &Path,
    images: bool,
    now: propusk_spec::Timestamp,
) -> Result<u8, IssuerError> {
    let bytes = std::fs::read(input).map_err(|e| IssuerError::Io {
        path: input.to_path_buf(),
        message: e.to_string(),
    })?;
    let jsonl = input
        .extension()
        .is_some_and(|e| e == "jsonl" || e == "ndjson");
    let rows = if jsonl {
        propusk_issuer::read_jsonl(&String::from_utf8_lossy(&bytes))
    } else {
        propusk_issuer::read_csv(&bytes)?
    };
    let mut issuer = unlocked(dir)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(rows.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} records, {per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let report = issuer.issue_batch(&rows, now, out, images, |done| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for (line, why) in &report.bad {
        eprintln!("line {line}: {why}");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "issued {} new, {} already issued, {} bad rows, {} QR images; {:.0} records per second; {}",
        report.issued,
        report.existing,
        report.bad.len(),
        report.images,
        (report.issued + report.existing) as f64 / secs.max(1e-9),
        out.join("issued.csv").display()
    );
    Ok(if report.bad.is_empty() {
        0
    } else {
        EXIT_DATA_REFUSED
    })
}

/// Arguments of `propusk serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The issuer's directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Portal lookups one client address may make in a burst and per minute (0: no limit, for
    /// load tests only).
    #[arg(long, default_value_t = propusk_issuer::server::PORTAL_RATE)]
    pub portal_rate: u32,
}

/// Runs `propusk serve` until interrupted.
pub fn run_serve(args: &ServeArgs) -> u8 {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let state = match unlocked(&args.dir).and_then(|issuer| {
        propusk_issuer::server::AppState::new(&args.dir, issuer, args.portal_rate)
    }) {
        Ok(state) => state,
        Err(e) => return fail(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("propusk: cannot start the runtime: {e}");
            return EXIT_IO;
        }
    };
    match runtime.block_on(propusk_issuer::server::serve(state, args.addr)) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}
