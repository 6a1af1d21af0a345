//! `propusk verifier init | sync` and `propusk verify`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::ArgMatches;
use propusk_eudcc::SignerCertificate;
use propusk_trust_list::{Lang, Locale, Report, parse_public_key};
use propusk_verifier::{Input, Session, Store, VerifierError, render};

use crate::error::{CliError, now, parse_at, verdict_exit};
pub use crate::language::{lang, lang_parser};

/// `propusk verifier ...`.
#[derive(Debug, clap::Subcommand)]
pub enum VerifierCommand {
    /// Set up a verifier store pinned to the issuer's root public key (idempotent; another root
    /// for the same store is refused, exit 78).
    #[command(after_help = "Examples:\n  propusk verifier init --store V --root ISS/root.pub")]
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
    /// stick, a mirror); without either, from where the last sync took it; then the trust data
    /// of every other root the store trusts, each from its own source. Exit 0 when updated or already up to date, 65 when the data is refused
    /// (signature, rollback, another jurisdiction), 69 when the server cannot be reached (the
    /// trust data in force is kept), 74 when files cannot be read, 78 without a store; 3 when the
    /// data in force after the sync is stale, 4 when it is past its hard expiry.
    #[command(
        after_help = "Examples:\n  propusk verifier sync --store V --url https://trust.example\n  propusk verifier sync --store V --from /media/usb"
    )]
    Sync {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// The directory that `propusk issuer publish` wrote (with `index.cbor`): a USB stick.
        #[arg(long, conflicts_with = "url")]
        from: Option<PathBuf>,
        /// The issuer's server (`propusk serve`), e.g. `https://trust.example`.
        #[arg(long)]
        url: Option<String>,
        /// The time of the sync (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// Language of the messages: `en` or `ru` (default: from `LANG`).
        #[arg(long, value_parser = lang_parser())]
        lang: Option<Lang>,
    },
    /// What the store holds: its root key, the trust data's sequence, age and expiry dates, the
    /// signing keys and their statuses, the EU signers. Exit 78 without a store.
    #[command(
        after_help = "Examples:\n  propusk verifier status --store V\n  propusk verifier status --store V --json"
    )]
    Status {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// One JSON object (times in RFC 3339, UTC).
        #[arg(long)]
        json: bool,
        /// The time to judge the data's age by (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// Language of the words: `en` or `ru` (default: from `LANG`).
        #[arg(long, value_parser = lang_parser())]
        lang: Option<Lang>,
    },
    /// The other issuers' roots the store trusts besides its own.
    #[command(
        subcommand,
        after_help = "Examples:\n  propusk verifier trust add --store V --root BY/root.pub --url https://trust.by\n  propusk verifier trust list --store V\n  propusk verifier trust remove --store V 1a2b3c4d"
    )]
    Trust(crate::trust::TrustCommand),
    /// The door policy this store's door judges by (`verify` takes it unless --policy says
    /// otherwise): `set NAME` chooses one of the rules in force, `clear` goes back to each
    /// credential on its own type, `show` tells the choice and the policies in force.
    #[command(
        subcommand,
        after_help = "Examples:\n  propusk verifier policy set --store V qr-regime\n  propusk verifier policy show --store V\n  propusk verifier policy clear --store V"
    )]
    Policy(PolicyCommand),
}

/// `propusk verifier policy ...`.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Choose the door policy (one of the rules in force; an unknown name is refused, listing
    /// the known ones, exit 64).
    #[command(after_help = "Examples:\n  propusk verifier policy set --store V qr-regime")]
    Set {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// The policy to judge by.
        name: String,
        /// The time whose rules count (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
    /// The door policy chosen, and the policies of the rules in force.
    #[command(after_help = "Examples:\n  propusk verifier policy show --store V")]
    Show {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// The time whose rules count (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
    /// No door policy: each credential on its own type.
    #[command(after_help = "Examples:\n  propusk verifier policy clear --store V")]
    Clear {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
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
    /// Language of the words for a person: `en` or `ru` (default: from `LC_ALL`,
    /// `LC_MESSAGES` or `LANG`, Russian when it starts with `ru`).
    #[arg(long, value_parser = lang_parser())]
    pub lang: Option<Lang>,
    /// QR image files (PNG or JPEG: photos of paper or screens) shown together with any texts.
    #[arg(long = "image", value_name = "FILE")]
    pub images: Vec<PathBuf>,
    /// The door's policy (one of the rules' in force, published by the issuer): what one
    /// holder's credentials must together be; exit 5 when they are genuine but not enough.
    #[arg(long, value_name = "NAME")]
    pub policy: Option<String>,
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
        VerifierCommand::Status {
            store,
            json,
            at,
            lang: flag,
        } => {
            let at = parse_at(at.as_deref())?;
            let status = Store::open(store)?.status(at)?;
            if *json {
                println!("{}", status.to_json());
            } else {
                let tz = status.content().map(|c| c.rules.time_zone.clone());
                let locale = Locale::named(lang(*flag), tz.as_deref().unwrap_or("UTC"));
                print!("{}", status.to_text(&locale));
            }
            Ok(0)
        }
        VerifierCommand::Policy(command) => run_policy(command),
        VerifierCommand::Sync {
            store,
            from,
            url,
            at,
            lang: flag,
        } => crate::trust::sync(
            store,
            crate::trust::source_of(from.as_ref(), url.as_ref()),
            at.as_deref(),
            lang(*flag),
        ),
        VerifierCommand::Trust(cmd) => crate::trust::run_trust(cmd),
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
    let locale = (!args.json).then(|| session.locale());
    let mut out = std::io::stdout().lock();
    out.write_all(render(reports, session.trust(), locale).as_bytes())?;
    out.flush()?;
    // What to do about an issuer this store does not trust: not a sync, a decision.
    if !args.json
        && reports
            .iter()
            .any(|r| r.reason == Some(propusk_trust_list::Reason::UntrustedIssuer))
    {
        eprintln!(
            "{}",
            match lang(args.lang) {
                Lang::En =>
                    "to trust that issuer, add its root key and trust data: propusk verifier \
                     trust add --store DIR --root ROOT_KEY_FILE (--url URL | --from DIR)",
                Lang::Ru =>
                    "чтобы доверять этому издателю, добавьте его корневой ключ и данные: \
                     propusk verifier trust add --store DIR --root ROOT_KEY_FILE \
                     (--url URL | --from DIR)",
            }
        );
    }
    Ok(())
}

/// Usage and file mistakes, found before anything is verified: they are not verdicts.
fn check_inputs(args: &VerifyArgs, inputs: &[Input]) -> Result<(), CliError> {
    let looks_like_credential = |t: &str| {
        let t = t.trim().to_ascii_uppercase();
        ["PR2:", "PR1:", "HC1:", "HTTP://", "HTTPS://"]
            .iter()
            .any(|p| t.starts_with(p))
            || propusk_verifier::scanned(&t).is_some_and(|s| s != t)
    };
    let texts: Vec<&String> = args.credentials.iter().filter(|c| *c != "-").collect();
    if texts.len() > 1
        && let Some(stray) = texts.iter().find(|t| !looks_like_credential(t))
    {
        return Err(CliError::Usage(match lang(args.lang) {
            Lang::En => format!(
                "{stray:?} is not a credential text or link: a text with spaces must be quoted \
                 ('PR2:…'), or piped on standard input"
            ),
            Lang::Ru => format!(
                "{stray:?} — не текст документа и не ссылка: текст с пробелами возьмите в \
                 кавычки ('PR2:…') или подайте на стандартный ввод"
            ),
        }));
    }
    for input in inputs {
        let Input::Image(path) = input else { continue };
        let mut head = [0u8; 8];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|e| CliError::io(path, e))?;
        if head[..read].starts_with(b"%PDF") {
            return Err(CliError::Usage(match lang(args.lang) {
                Lang::En => format!(
                    "{} is a PDF: give the QR code as a PNG or JPEG image (a screenshot or \
                     photo), or import the PDF with `propusk wallet add --pdf`",
                    path.display()
                ),
                Lang::Ru => format!(
                    "{} — это PDF: дайте QR-код изображением PNG или JPEG (снимок экрана или \
                     фото) или добавьте PDF в кошелёк: propusk wallet add --pdf",
                    path.display()
                ),
            }));
        }
    }
    Ok(())
}

/// Runs `propusk verifier policy ...`.
fn run_policy(command: &PolicyCommand) -> Result<u8, CliError> {
    match command {
        PolicyCommand::Set { store, name, at } => {
            let at = parse_at(at.as_deref())?;
            let opened = Store::open(store)?;
            Session::load(&opened, at)?
                .with_policy(name)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            opened.set_door_policy(Some(name))?;
            println!("this door judges by the policy {name}");
        }
        PolicyCommand::Clear { store } => {
            Store::open(store)?.set_door_policy(None)?;
            println!("this door judges each credential on its own type");
        }
        PolicyCommand::Show { store, at } => {
            let at = parse_at(at.as_deref())?;
            let opened = Store::open(store)?;
            match opened.door_policy()? {
                Some(p) => println!("door policy: {p}"),
                None => println!("door policy: none (each credential on its own type)"),
            }
            let known = Session::load(&opened, at)?.policies();
            println!(
                "policies in force: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            );
        }
    }
    Ok(0)
}

/// Runs `propusk verify`.
pub fn run_verify(args: &VerifyArgs, inputs: &[Input]) -> Result<u8, CliError> {
    let at = parse_at(args.at.as_deref())?;
    check_inputs(args, inputs)?;
    let mut eu_signers = Vec::new();
    for path in &args.trust_cert {
        let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
        let cert = SignerCertificate::parse(&bytes)
            .map_err(|e| CliError::Usage(format!("--trust-cert {}: {e}", path.display())))?;
        eu_signers.push(cert);
    }
    // The door's policy: --policy, else the store's choice.
    let mut policy = args.policy.clone();
    let loaded = match &args.store {
        Some(store) => Store::open(store).and_then(|s| {
            if policy.is_none() {
                policy = s.door_policy()?;
            }
            Session::load(&s, at)
        }),
        None => Ok(Session::without_trust_data(at)),
    };
    // Summaries in the language shown; JSON keeps English.
    let lang = if args.json { Lang::En } else { lang(args.lang) };
    let session = match loaded {
        // Without --at, a queue or a door display that runs on checks at the clock's time.
        Ok(s) if args.at.is_none() => s.with_eu_signers(eu_signers).with_lang(lang).live(),
        Ok(s) => s.with_eu_signers(eu_signers).with_lang(lang),
        // The clock guard is the verifier's answer "cannot tell"; in JSON, as JSON.
        Err(e @ VerifierError::ClockBehind { .. }) if args.json => {
            let v = serde_json::json!({
                "verdict": "unknown",
                "reason": "clock_behind",
                "error": e.to_string(),
            });
            println!("{v}");
            return Err(CliError::CannotTell(e));
        }
        Err(e @ VerifierError::ClockBehind { .. }) => return Err(CliError::CannotTell(e)),
        Err(e) => return Err(e.into()),
    };
    let mut session = match (&policy, &args.policy) {
        (Some(name), Some(_)) => session
            .with_policy(name)
            .map_err(|e| CliError::Usage(format!("--policy: {e}")))?,
        // The store's choice, gone from the rules in force: the door must choose again.
        (Some(name), None) => session.with_policy(name).map_err(|e| {
            CliError::Usage(format!(
                "this door's policy: {e}; choose another (propusk verifier policy set --store DIR NAME)"
            ))
        })?,
        (None, _) => session,
    };
    if !inputs.is_empty() {
        let reports = session.answer(inputs);
        print(&session, &reports, args)?;
        return Ok(verdict_exit(reports.iter().map(|r| r.verdict)));
    }
    // At a door: a terminal on both ends and words for a person.
    let verdicts =
        if !args.json && std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            crate::door::run(&mut session)?
        } else {
            // A scanner's queue: each line answered as soon as it is read (see
            // `Session::answer_lines`).
            session.answer_lines(std::io::BufReader::new(std::io::stdin()), |reports| {
                print(&session, reports, args)
            })?
        };
    if verdicts.is_empty() {
        return Err(CliError::Usage(match lang {
            Lang::En => "nothing to verify: give credential texts, --image files, or scan them \
                         on standard input"
                .into(),
            Lang::Ru => "проверять нечего: дайте тексты документов, файлы --image или \
                         сканируйте их на стандартный ввод"
                .into(),
        }));
    }
    Ok(verdict_exit(verdicts))
}
