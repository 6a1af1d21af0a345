//! `propusk verifier init | sync` and `propusk verify`.

use std::io::Write;
use std::path::PathBuf;

use clap::ArgMatches;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use indicatif::ProgressDrawTarget;
use propusk_eudcc::SignerCertificate;
use propusk_trust_list::{Lang, Report, parse_public_key};
use propusk_verifier::{Input, Session, Store, VerifierError, freshness_warning, render};

use crate::error::{CliError, now, parse_at, trust_exit, verdict_exit};
use crate::progress_bar;

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
    /// trust data in force is kept), 74 when files cannot be read, 78 without a store; 3 when the
    /// data in force after the sync is stale, 4 when it is past its hard expiry.
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
    #[arg(long, default_value = "en", value_parser = PossibleValuesParser::new(["en", "ru"])
        .map(|l| l.parse::<Lang>().unwrap_or_default()))]
    pub lang: Lang,
    /// QR image files (PNG or JPEG: photos of paper or screens) shown together with any texts.
    #[arg(long = "image", value_name = "FILE")]
    pub images: Vec<PathBuf>,
    /// Credential texts or links shown together (one verdict over all; a holder mismatch is its
    /// own reason); `-` or nothing reads one per line from standard input, as a hardware scanner
    /// types them, and answers each line.
    pub credentials: Vec<String>,
}

/// Runs `propusk verifier ...`.
pub fn run_verifier(cmd: &VerifierCommand) -> Result<u8, CliError> {
    match cmd {
        VerifierCommand::Init { store, root } => {
            let text = std::fs::read_to_string(root).map_err(|e| CliError::io(root, e))?;
            let key = parse_public_key(&text).ok_or_else(|| {
                CliError::Usage(format!(
                    "{} does not hold an Ed25519 public key",
                    root.display()
                ))
            })?;
            Store::init(store, key, now()?)?;
            println!(
                "verifier store ready in {}, pinned to root key {}",
                store.display(),
                propusk_trust_list::key_id_of(&key)
            );
            Ok(0)
        }
        VerifierCommand::Sync {
            store,
            from,
            url,
            at,
        } => {
            let now = parse_at(at.as_deref())?;
            let result = Store::open(store).and_then(|mut s| match (from, url) {
                (Some(dir), _) => s.sync_from_dir(dir, now),
                (_, url) => {
                    let url = url.as_deref().unwrap_or_default();
                    // A bar only for a large download (over a megabyte).
                    let bar = progress_bar(0, "{bar:40} {bytes}/{total_bytes} {bytes_per_sec}");
                    bar.iter()
                        .for_each(|b| b.set_draw_target(ProgressDrawTarget::hidden()));
                    let outcome = s.sync_from_url(url, now, &mut |done, total| {
                        let large = total.is_some_and(|t| t > 1 << 20);
                        if let Some(bar) = bar.as_ref().filter(|_| large) {
                            if bar.is_hidden() {
                                bar.set_draw_target(ProgressDrawTarget::stderr());
                            }
                            bar.set_length(total.unwrap_or(done));
                            bar.set_position(done);
                        }
                    });
                    bar.inspect(indicatif::ProgressBar::finish_and_clear);
                    outcome
                }
            });
            match result {
                Ok(outcome) => println!("{outcome}"),
                Err(e) => {
                    if let Ok(Some(meta)) = Store::open(store).and_then(|s| s.meta()) {
                        eprintln!(
                            "propusk: keeping the trust data in force (sequence {}, made {} s before now)",
                            meta.sequence,
                            now.unix() - meta.issued_at
                        );
                    }
                    return Err(e.into());
                }
            }
            // Data that is already stale or expired is said so, with its own exit code.
            let trust = Session::load(&Store::open(store)?, now)?.trust();
            if let Some(warning) = freshness_warning(trust) {
                println!("{warning}");
            }
            Ok(trust_exit(trust.state))
        }
    }
}

/// The texts and images of `verify`, in the order they were given on the command line.
pub fn inputs(args: &VerifyArgs, matches: &ArgMatches) -> Vec<Input> {
    let at = |id: &str| matches.indices_of(id).into_iter().flatten();
    let mut placed: Vec<(usize, Input)> = at("credentials")
        .zip(&args.credentials)
        .filter(|(_, c)| *c != "-")
        .map(|(i, c)| (i, Input::Text(c.clone())))
        .chain(
            at("images")
                .zip(&args.images)
                .map(|(i, p)| (i, Input::Image(p.clone()))),
        )
        .collect();
    placed.sort_by_key(|(i, _)| *i);
    placed.into_iter().map(|(_, input)| input).collect()
}

fn print(session: &Session, reports: &[Report], args: &VerifyArgs) -> Result<(), CliError> {
    let lang = (!args.json).then_some(args.lang);
    let mut out = std::io::stdout().lock();
    out.write_all(render(reports, session.trust(), lang).as_bytes())?;
    Ok(out.flush()?)
}

/// Runs `propusk verify`.
pub fn run_verify(args: &VerifyArgs, inputs: &[Input]) -> Result<u8, CliError> {
    let at = parse_at(args.at.as_deref())?;
    let mut eu_signers = Vec::new();
    for path in &args.trust_cert {
        let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
        let cert = SignerCertificate::parse(&bytes)
            .map_err(|e| CliError::Usage(format!("--trust-cert {}: {e}", path.display())))?;
        eu_signers.push(cert);
    }
    let loaded = match &args.store {
        Some(store) => Store::open(store).and_then(|s| Session::load(&s, at)),
        None => Ok(Session::without_trust_data(at)),
    };
    let session = match loaded {
        Ok(s) => s.with_eu_signers(eu_signers),
        // Without its trust store a verifier cannot tell (exit 2), not a broken setup.
        Err(e @ VerifierError::NotInitialised(_)) => return Err(CliError::CannotTell(e)),
        Err(e) => return Err(e.into()),
    };
    if !inputs.is_empty() {
        let reports = session.answer(inputs);
        print(&session, &reports, args)?;
        return Ok(verdict_exit(reports.iter().map(|r| r.verdict)));
    }
    // A scanner's queue: each line answered as soon as it is read (see `Session::answer_lines`).
    let verdicts = session.answer_lines(std::io::BufReader::new(std::io::stdin()), |reports| {
        print(&session, reports, args)
    })?;
    if verdicts.is_empty() {
        eprintln!("propusk: nothing to verify: the input was empty");
    }
    Ok(verdict_exit(verdicts))
}
