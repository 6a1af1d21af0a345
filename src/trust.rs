//! `propusk verifier sync` and `propusk verifier trust add | list | remove`: the trust data of
//! the store's own root and of the other issuers it trusts.

use std::path::PathBuf;

use indicatif::ProgressDrawTarget;
use propusk_spec::Timestamp;
use propusk_trust_list::{Lang, Locale, TrustState, parse_public_key};
use propusk_verifier::{
    Session, Source, Store, SyncOutcome, VerifierError, changes, freshness_warning, sync_words,
};

use crate::error::{CliError, parse_at, trust_exit};
use crate::language::{lang, lang_parser};
use crate::progress_bar;

/// `propusk verifier trust ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TrustCommand {
    /// Trust another issuer's root besides the store's own (a neighbouring country): its trust
    /// data is synced from the source at once, and the root is trusted only when that worked.
    /// Its credentials are then checked with its keys and revocations, under the rules of the
    /// store's own jurisdiction. Exit 64 for a root trusted already.
    #[command(
        after_help = "Examples:\n  propusk verifier trust add --store V --root BY/root.pub --url https://trust.by --name \"Belarus\"\n  propusk verifier trust add --store V --root BY/root.pub --from /media/usb/by"
    )]
    Add {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// The other issuer's root public key file (its `root.pub`).
        #[arg(long)]
        root: PathBuf,
        /// A directory its `propusk issuer publish` wrote (with `index.cbor`).
        #[arg(long, required_unless_present = "url", conflicts_with = "url")]
        from: Option<PathBuf>,
        /// Its server (`propusk serve`) or a static mirror of its published files.
        #[arg(long)]
        url: Option<String>,
        /// What to call it in lists (default: the issuer's name from its trust data).
        #[arg(long)]
        name: Option<String>,
        /// The time of the sync (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// Language of the messages: `en` or `ru` (default: from `LANG`).
        #[arg(long, value_parser = lang_parser())]
        lang: Option<Lang>,
    },
    /// The roots the store trusts, its own first: key id, name, jurisdiction, the trust data's
    /// sequence, state and age, and where it syncs from.
    List {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// One JSON array.
        #[arg(long)]
        json: bool,
        /// The time to judge the data's age by (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// Language of the words: `en` or `ru` (default: from `LANG`).
        #[arg(long, value_parser = lang_parser())]
        lang: Option<Lang>,
    },
    /// Stop trusting an added root (its credentials answer `unknown_key` from then on); the
    /// store's own root cannot be removed.
    Remove {
        /// The store directory.
        #[arg(long)]
        store: PathBuf,
        /// The root's key id, as `trust list` shows it.
        root_key_id: String,
        /// Language of the messages: `en` or `ru` (default: from `LANG`).
        #[arg(long, value_parser = lang_parser())]
        lang: Option<Lang>,
    },
}

/// Runs `propusk verifier trust ...`.
pub fn run_trust(cmd: &TrustCommand) -> Result<u8, CliError> {
    match cmd {
        TrustCommand::Add {
            store,
            root,
            from,
            url,
            name,
            at,
            lang: flag,
        } => {
            let lang = lang(*flag);
            let now = parse_at(at.as_deref())?;
            let text = std::fs::read_to_string(root).map_err(|e| CliError::io(root, e))?;
            let key = parse_public_key(&text).ok_or_else(|| {
                CliError::Usage(format!(
                    "{} does not hold an Ed25519 public key",
                    root.display()
                ))
            })?;
            let source = source_of(from.as_ref(), url.as_ref())
                .ok_or_else(|| CliError::Usage("give --url or --from".into()))?;
            let mut home = Store::open(store)?;
            let (outcome, shown) =
                home.add_root(key, name.as_deref(), &source, now, &mut |s, source| {
                    sync_with_bar(s, source, now)
                })?;
            let kid = propusk_trust_list::key_id_of(&key);
            match lang {
                Lang::En => println!("trusting root key {kid} ({shown}) besides the store's own"),
                Lang::Ru => println!("добавлен доверенный корневой ключ {kid} ({shown})"),
            }
            println!("{}", sync_words(&outcome, lang));
            Ok(0)
        }
        TrustCommand::List {
            store,
            json,
            at,
            lang: flag,
        } => {
            let at = parse_at(at.as_deref())?;
            let roots = Store::open(store)?.roots(at)?;
            if *json {
                let all: Vec<_> = roots.iter().map(|r| r.to_json()).collect();
                println!("{}", serde_json::Value::Array(all));
            } else {
                let locale = Locale::utc(lang(*flag));
                for r in &roots {
                    println!("{}", r.to_text(&locale, at));
                }
            }
            Ok(0)
        }
        TrustCommand::Remove {
            store,
            root_key_id,
            lang: flag,
        } => {
            let removed = Store::open(store)?.remove_root(root_key_id)?;
            match lang(*flag) {
                Lang::En => println!(
                    "no longer trusting root key {} ({}): its credentials answer unknown_key",
                    removed.key_id(),
                    removed.name
                ),
                Lang::Ru => println!(
                    "корневой ключ {} ({}) больше не доверенный: его документы проверяются как \
                     выданные неизвестным ключом",
                    removed.key_id(),
                    removed.name
                ),
            }
            Ok(0)
        }
    }
}

/// The source given on the command line.
pub fn source_of(from: Option<&PathBuf>, url: Option<&String>) -> Option<Source> {
    match (from, url) {
        (Some(dir), _) => Some(Source::Dir(dir.clone())),
        (_, Some(url)) => Some(Source::Url(url.clone())),
        _ => None,
    }
}

/// Syncs one store, with a progress bar only for a large download (over a megabyte).
fn sync_with_bar(
    store: &mut Store,
    source: &Source,
    now: Timestamp,
) -> Result<SyncOutcome, VerifierError> {
    let bar = progress_bar(0, "{bar:40} {bytes}/{total_bytes} {bytes_per_sec}");
    bar.iter()
        .for_each(|b| b.set_draw_target(ProgressDrawTarget::hidden()));
    let outcome = store.sync_from(source, now, &mut |done, total| {
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

/// `propusk verifier sync`: the store's own root from `source` (or the one it remembers), then
/// every added root from its own, each atomically; one failing does not stop the others. The
/// exit code is the first failure's, else the freshness of the data in force (3 stale, 4
/// expired, the worst over all roots).
pub fn sync(
    store: &std::path::Path,
    source: Option<Source>,
    at: Option<&str>,
    lang: Lang,
) -> Result<u8, CliError> {
    let now = parse_at(at)?;
    let home = Store::open(store)?;
    let trusted = home.trusted()?;
    let home_source = match source {
        Some(s) => Some(s),
        None => home.source()?,
    };
    if home_source.is_none() && trusted.is_empty() {
        return Err(VerifierError::NoSource.into());
    }
    let mut first_failure: Option<CliError> = None;
    let mut worst = TrustState::Fresh;
    if let Some(source) = home_source {
        match sync_home(store, &source, now, lang) {
            Ok(state) => worst = worst.worse(state),
            Err(e) => first_failure = Some(e),
        }
    }
    for root in trusted {
        let label = format!("{} ({})", root.name, root.key_id());
        let synced = home.root_store(&root).and_then(|mut s| {
            let source = s.source()?.ok_or(VerifierError::NoSource)?;
            let outcome = sync_with_bar(&mut s, &source, now)?;
            let state = Session::load(&s, now)?.trust().state;
            Ok((outcome, state))
        });
        match synced {
            Ok((outcome, state)) => {
                println!("{label}: {}", sync_words(&outcome, lang));
                worst = worst.worse(state);
            }
            Err(e) => {
                let e = CliError::Verifier(VerifierError::OfRoot {
                    name: label,
                    source: Box::new(e),
                });
                if first_failure.is_some() {
                    eprintln!("propusk: {}", e.words(lang));
                } else {
                    first_failure = Some(e);
                }
            }
        }
    }
    match first_failure {
        Some(e) => Err(e),
        None => Ok(trust_exit(worst)),
    }
}

/// Syncs the store's own root and says what changed; the state of its data afterwards.
fn sync_home(
    store: &std::path::Path,
    source: &Source,
    now: Timestamp,
    lang: Lang,
) -> Result<TrustState, CliError> {
    // What was in force, to say what changed (a damaged store has nothing to compare; the sync
    // repairs it).
    let before = Store::open(store)?
        .bundle()
        .ok()
        .flatten()
        .map(|(b, _)| b.content().clone());
    let result = Store::open(store).and_then(|mut s| sync_with_bar(&mut s, source, now));
    match result {
        Ok(outcome) => println!("{}", sync_words(&outcome, lang)),
        Err(e) => {
            if let Ok(Some(meta)) = Store::open(store).and_then(|s| s.meta()) {
                let age = Locale::utc(lang).age(now.unix() - meta.issued_at);
                match lang {
                    Lang::En => eprintln!(
                        "propusk: keeping the trust data in force (sequence {}, made {age} ago)",
                        meta.sequence
                    ),
                    Lang::Ru => eprintln!(
                        "propusk: действуют прежние данные проверки (выпуск {}, выпущены {age} назад)",
                        meta.sequence
                    ),
                }
            }
            return Err(e.into());
        }
    }
    // What changed, until when it is good, and whether it is stale or expired already.
    let session = Session::load(&Store::open(store)?, now)?;
    if let Some(content) = session.content() {
        let changes = changes(before.as_ref(), content, now);
        println!(
            "{}",
            changes.to_text(&session.locale().clone().with_lang(lang))
        );
    }
    let trust = session.trust();
    if let Some(warning) = freshness_warning(trust, lang) {
        println!("{warning}");
    }
    Ok(trust.state)
}
