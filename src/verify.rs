//! `propusk verifier init | sync` and `propusk verify`.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use propusk_spec::Timestamp;
use propusk_trust_list::parse_public_key;
use propusk_verifier::{
    Lang, Session, Store, SyncOutcome, VerifierError, exit_code, to_json, to_text,
};

use crate::{EXIT_IO, EXIT_UNKNOWN, EXIT_USAGE};

/// Exit code: trust data was refused (bad signature, rollback, another jurisdiction...).
pub const EXIT_DATA_REFUSED: u8 = 65;
/// Exit code: the issuer's server cannot be reached (sysexits `EX_UNAVAILABLE`).
pub const EXIT_UNAVAILABLE: u8 = 69;
/// Exit code: the store is not set up, or pinned to another root.
pub const EXIT_CONFIG: u8 = 78;

/// `propusk verifier ...`.
#[derive(Debug, clap::Subcommand)]
pub enum VerifierCommand {
    /// Set up a verifier store pinned to the issuer's root public key (idempotent; another root
    /// for the same store is refused, exit 78).
    Init {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// The root public key file (`root.pub` of `propusk issuer init`: base64url or hex of
        /// the 32-byte Ed25519 key).
        #[arg(long)]
        root: PathBuf,
    },
    /// Take newer trust data into force from the issuer's server or a published directory (a USB
    /// stick, a mirror). Exit 0 when updated or already up to date, 65 when the data is refused
    /// (signature, rollback, another jurisdiction), 69 when the server cannot be reached (the
    /// trust data in force is kept), 74 when files cannot be read, 78 without a store.
    Sync {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// The directory that `propusk issuer publish` wrote (with `index.cbor`): a USB stick.
        #[arg(long, required_unless_present = "url", conflicts_with = "url")]
        from: Option<PathBuf>,
        /// The issuer's server (`propusk serve`), e.g. `https://trust.example`.
        #[arg(long)]
        url: Option<String>,
        /// The time of the sync (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
}

/// Arguments of `propusk verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The store directory.
    #[arg(long, required_unless_present = "trust_cert")]
    pub store: Option<PathBuf>,
    /// An EU signer certificate (DER or PEM X.509) to check EU Digital COVID Certificates
    /// (`HC1:`) against; repeatable; works with or without `--store`.
    #[arg(long = "trust-cert", value_name = "FILE")]
    pub trust_cert: Vec<PathBuf>,
    /// The validation time (RFC 3339; default now).
    #[arg(long)]
    pub at: Option<String>,
    /// One JSON object per credential.
    #[arg(long)]
    pub json: bool,
    /// Language of the words for a person: `en` or `ru`.
    #[arg(long, default_value = "en", value_parser = ["en", "ru"])]
    pub lang: String,
    /// QR image files (PNG or JPEG: photos of paper or screens) shown together with any texts.
    #[arg(long = "image", value_name = "FILE")]
    pub images: Vec<PathBuf>,
    /// Credential texts or links shown together (one verdict over all; a holder mismatch is its
    /// own reason); `-` or nothing reads one per line from standard input, as a hardware scanner
    /// types them, and answers each line.
    pub credentials: Vec<String>,
}

/// The validation time: `--at` or now.
pub fn parse_at(at: Option<&str>) -> Result<Timestamp, String> {
    match at {
        Some(text) => text.parse().map_err(|e| format!("--at: {e}")),
        None => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| "the system clock is before 1970".to_owned())?;
            Timestamp::from_unix(now.as_secs() as i64)
                .ok_or_else(|| "the system clock is out of range".into())
        }
    }
}

fn error_code(e: &VerifierError) -> u8 {
    match e {
        VerifierError::NotInitialised(_) | VerifierError::OtherRoot => EXIT_CONFIG,
        VerifierError::Io { .. } => EXIT_IO,
        VerifierError::ClockBehind { .. } => EXIT_UNKNOWN,
        VerifierError::Network(_) => EXIT_UNAVAILABLE,
        _ => EXIT_DATA_REFUSED,
    }
}

fn fail(e: &VerifierError) -> u8 {
    eprintln!("propusk: {e}");
    error_code(e)
}

/// Runs `propusk verifier ...`.
pub fn run_verifier(cmd: &VerifierCommand) -> u8 {
    match cmd {
        VerifierCommand::Init { store, root } => {
            let text = match std::fs::read_to_string(root) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("propusk: cannot read {}: {e}", root.display());
                    return EXIT_IO;
                }
            };
            let Some(key) = parse_public_key(&text) else {
                eprintln!(
                    "propusk: {} does not hold an Ed25519 public key",
                    root.display()
                );
                return EXIT_USAGE;
            };
            let now = match parse_at(None) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("propusk: {e}");
                    return EXIT_USAGE;
                }
            };
            match Store::init(store, key, now) {
                Ok(_) => {
                    println!(
                        "verifier store ready in {}, pinned to root key {}",
                        store.display(),
                        propusk_trust_list::key_id_of(&key)
                    );
                    0
                }
                Err(e) => fail(&e),
            }
        }
        VerifierCommand::Sync {
            store,
            from,
            url,
            at,
        } => {
            let now = match parse_at(at.as_deref()) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("propusk: {e}");
                    return EXIT_USAGE;
                }
            };
            let result = Store::open(store).and_then(|mut s| match (from, url) {
                (Some(dir), _) => s.sync_from_dir(dir, now),
                (None, Some(url)) => {
                    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
                        let bar = indicatif::ProgressBar::hidden();
                        bar.set_style(
                            indicatif::ProgressStyle::with_template(
                                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                        );
                        bar
                    });
                    let outcome = s.sync_from_url(url, now, &mut |done, total| {
                        if let Some(bar) = &bar {
                            // Only a large download (over a megabyte) is worth a bar.
                            if total.is_some_and(|t| t > 1 << 20) && bar.is_hidden() {
                                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                            }
                            bar.set_length(total.unwrap_or(done));
                            bar.set_position(done);
                        }
                    });
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                    }
                    outcome
                }
                (None, None) => Err(VerifierError::Corrupt("neither --from nor --url")),
            });
            match result {
                Ok(SyncOutcome::Updated {
                    from: Some(old),
                    to,
                }) => println!("trust data updated: sequence {old} → {to}"),
                Ok(SyncOutcome::Updated { from: None, to }) => {
                    println!("trust data in force: sequence {to}")
                }
                Ok(SyncOutcome::UpToDate(seq)) => {
                    println!("trust data already up to date: sequence {seq}")
                }
                Err(e) => {
                    if let Ok(Some(meta)) = Store::open(store).and_then(|s| s.meta()) {
                        eprintln!(
                            "propusk: keeping the trust data in force (sequence {}, made {} s before now)",
                            meta.sequence,
                            now.unix() - meta.issued_at
                        );
                    }
                    return fail(&e);
                }
            }
            0
        }
    }
}

fn answer(
    session: &Session,
    eu: &[propusk_eudcc::SignerCertificate],
    inputs: &[String],
    args: &VerifyArgs,
    out: &mut impl Write,
) -> u8 {
    print_reports(session, session.verify_with_eu(inputs, eu), args, out)
}

fn print_reports(
    session: &Session,
    reports: Vec<propusk_trust_list::Report>,
    args: &VerifyArgs,
    out: &mut impl Write,
) -> u8 {
    let lang = if args.lang == "ru" {
        Lang::Ru
    } else {
        Lang::En
    };
    for r in &reports {
        let line = if args.json {
            to_json(r, session.trust()).to_string()
        } else {
            to_text(r, session.trust(), lang)
        };
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = out.flush();
    exit_code(reports.iter().map(|r| &r.verdict))
}

/// Runs `propusk verify`.
pub fn run_verify(args: &VerifyArgs) -> u8 {
    let at = match parse_at(args.at.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("propusk: {e}");
            return EXIT_USAGE;
        }
    };
    let mut eu_signers = Vec::new();
    for path in &args.trust_cert {
        let parsed = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                propusk_eudcc::SignerCertificate::parse(&bytes).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(cert) => eu_signers.push(cert),
            Err(e) => {
                eprintln!("propusk: --trust-cert {}: {e}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    let loaded = match &args.store {
        Some(store) => Store::open(store).and_then(|s| Session::load(&s, at)),
        None => Ok(Session::without_trust_data(at)),
    };
    let session = match loaded {
        Ok(s) => s,
        Err(e @ VerifierError::NotInitialised(_)) => {
            eprintln!("propusk: {e}");
            return EXIT_UNKNOWN;
        }
        Err(e) => return fail(&e),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !args.images.is_empty() {
        // Images, and any texts with them, are shown together: read every image first.
        let mut texts: Vec<String> = args
            .credentials
            .iter()
            .filter(|c| *c != "-")
            .cloned()
            .collect();
        let mut unreadable = Vec::new();
        for path in &args.images {
            match propusk_qr::read_qr_file(path) {
                Ok(text) => texts.push(text),
                Err(e) => unreadable
                    .push(session.unreadable(e.code(), format!("{}: {e}", path.display()))),
            }
        }
        let mut reports = session.verify_with_eu(&texts, &eu_signers);
        reports.extend(unreadable);
        return print_reports(&session, reports, args, &mut out);
    }
    if !args.credentials.is_empty() && args.credentials != ["-"] {
        return answer(&session, &eu_signers, &args.credentials, args, &mut out);
    }
    let mut worst = 0u8;
    let rank = |code: u8| match code {
        1 => 2,
        2 => 1,
        _ => 0,
    };
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else {
            eprintln!("propusk: cannot read standard input");
            return EXIT_IO;
        };
        let code = answer(
            &session,
            &eu_signers,
            &[line.trim_end_matches(['\r', '\n']).to_owned()],
            args,
            &mut out,
        );
        if rank(code) > rank(worst) {
            worst = code;
        }
    }
    worst
}
