//! `propusk wallet ...`.

use std::path::PathBuf;

use propusk_trust_list::{Lang, Locale, words};
use propusk_wallet::{Best, Entry, QrFormat, Wallet};

use crate::error::{CliError, EXIT_INVALID, parse_at};
use crate::json;

/// Arguments of `propusk wallet`.
#[derive(Debug, clap::Args)]
pub struct WalletArgs {
    /// The wallet's directory (before or after the subcommand).
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
    /// The time to judge at (RFC 3339; default now), before or after the subcommand.
    #[arg(long, global = true)]
    pub at: Option<String>,
    /// Language of the words: `en` or `ru` (default: from `LANG`).
    #[arg(long, global = true, value_parser = crate::language::lang_parser())]
    pub lang: Option<Lang>,
    /// What to do.
    #[command(subcommand)]
    pub command: WalletCommand,
}

/// `propusk wallet --dir DIR ...`.
#[derive(Debug, clap::Subcommand)]
pub enum WalletCommand {
    /// Add a credential: its text (or an offline-verifiable link), a QR image (photo or
    /// screenshot), a PDF, a portal link (fetched when online) or the issuer's answer. The same
    /// credential twice is kept once; a signature that cannot be checked is a warning, not a
    /// refusal.
    #[command(
        after_help = "Examples:\n  propusk wallet --dir W add 'PR2:...' --name 'Иванов Иван Иванович'\n  propusk wallet --dir W add --image photo.jpg\n  propusk wallet --dir W add --link https://portal.example/c/ID\n  propusk wallet --dir W add --issued answer.json"
    )]
    Add(crate::wallet_add::AddArgs),
    /// The credentials, grouped by person: type, issued, valid until, status now.
    #[command(
        after_help = "Examples:\n  propusk wallet --dir W list\n  propusk wallet --dir W list --json"
    )]
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show one credential's QR: in the terminal (Unicode half blocks), or as PNG or SVG.
    #[command(
        after_help = "Examples:\n  propusk wallet --dir W show ID\n  propusk wallet --dir W show ID --qr png --out qr.png"
    )]
    Show {
        /// Which: `best`, a number from `list`, an id, or the beginning of one.
        id: String,
        /// `terminal`, `png` or `svg`.
        #[arg(long, default_value = "terminal", value_parser = ["terminal", "png", "svg"])]
        qr: String,
        /// Where to write PNG or SVG (default: standard output for SVG, required for PNG).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Draw dark modules on a light terminal (default: for light text on dark).
        #[arg(long)]
        light_terminal: bool,
    },
    /// The credential a verifier would accept now, judged with the verifier's engine; when none
    /// would, each credential's reason (exit 1).
    #[command(
        after_help = "Examples:\n  propusk wallet --dir W best\n  propusk wallet --dir W --lang ru best"
    )]
    Best {
        /// Only this person's credentials (a part of the name, any case), in a family wallet.
        #[arg(long)]
        person: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// A printable A4 certificate in Russian and English with the QR large enough to scan from
    /// paper.
    #[command(after_help = "Examples:\n  propusk wallet --dir W export ID --pdf certificate.pdf")]
    Export {
        /// Which: `best`, a number from `list`, an id, or the beginning of one.
        id: String,
        /// Where to write the PDF.
        #[arg(long)]
        pdf: PathBuf,
    },
    /// Before a trip: each credential judged offline as the destination would on the day, by its
    /// Propusk rules or the EU business rules in the trust data; the failing rules named, the
    /// form to show there, and a warning for a credential that ends before the return. Exit 0
    /// when one would be accepted, 1 when none, 2 when no rules are known for the country.
    #[command(
        after_help = "Examples:\n  propusk wallet --dir W trip --to DE --on 2026-07-01\n  propusk wallet --dir W trip --to DE --on 2026-07-01 --back 2026-07-20 --json"
    )]
    Trip {
        /// The destination (ISO 3166-1 alpha-2).
        #[arg(long)]
        to: String,
        /// The day of travel (`2026-07-01`, judged at noon UTC, or an RFC 3339 time); default
        /// --at or now.
        #[arg(long)]
        on: Option<String>,
        /// The day of return: a credential that ends before it is flagged.
        #[arg(long)]
        back: Option<String>,
        /// Only this person's credentials (a part of the name, any case).
        #[arg(long)]
        person: Option<String>,
        /// Judge by this door policy of the destination (a Propusk jurisdiction's): the answer
        /// is whether it admits the holder.
        #[arg(long)]
        policy: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Take an issuer's trust data (a published directory or its server) to check signatures
    /// and rules. The first root taken is the wallet's own; another root adds an issuer abroad
    /// (its credentials checked with its keys, and `trip` judged by its rules there).
    #[command(
        after_help = "Examples:\n  propusk wallet --dir W trust --root ISS/root.pub --from USB\n  propusk wallet --dir W trust --url https://portal.example\n  propusk wallet --dir W trust --root BY/root.pub --url https://portal.example.by\n  propusk wallet --dir W trust --list\n  propusk wallet --dir W trust --remove 3f2a"
    )]
    Trust {
        /// The issuer's root public key file (`root.pub`); for a server already trusted, not
        /// needed.
        #[arg(long)]
        root: Option<PathBuf>,
        /// The published directory (with `index.cbor`): a USB stick, a mirror.
        #[arg(long, required_unless_present_any = ["url", "list", "remove"], conflicts_with_all = ["url", "list", "remove"])]
        from: Option<PathBuf>,
        /// The issuer's server (`propusk serve`), to refresh online.
        #[arg(long, conflicts_with_all = ["list", "remove"])]
        url: Option<String>,
        /// The roots the wallet trusts.
        #[arg(long, conflicts_with_all = ["root", "remove"])]
        list: bool,
        /// Forget a root (its key id, or the beginning of it) and its trust data.
        #[arg(long, value_name = "KEY_ID", conflicts_with = "root")]
        remove: Option<String>,
        /// JSON output (with --list).
        #[arg(long, requires = "list")]
        json: bool,
    },
}

fn line(e: &Entry, locale: &Locale) -> String {
    let ru = locale.lang == Lang::Ru;
    let soon = match (e.expiring_soon, ru) {
        (false, _) => "",
        (true, false) => "  (expiring soon)",
        (true, true) => "  (скоро истекает)",
    };
    let reason = e
        .reason
        .map(|r| format!(": {}", words::reason(r, locale.lang)))
        .unwrap_or_default();
    let issued = e
        .issued_at
        .date()
        .map(|d| locale.date(d))
        .unwrap_or_default();
    let (issued_word, until_word) = if ru {
        ("выдан", "действителен до")
    } else {
        ("issued", "valid until")
    };
    // The EU twin of a record (for travel) is shown as such, right under its credential.
    let kind = match (e.twin_of.is_some(), ru) {
        (false, _) => words::credential_type(e.credential_type, locale.lang).to_owned(),
        (true, false) => format!(
            "EU DCC for travel ({})",
            words::credential_type(e.credential_type, locale.lang)
        ),
        (true, true) => format!(
            "EU DCC для поездок ({})",
            words::credential_type(e.credential_type, locale.lang)
        ),
    };
    format!(
        "  {}  {kind}  {issued_word} {issued}  {until_word} {}  {}{reason}{soon}",
        e.id,
        locale.time(e.valid_until),
        words::verdict(e.verdict, locale.lang)
    )
}

/// The holder as their own wallet shows them: the full name and the date of birth.
fn holder(e: &Entry, locale: &Locale) -> String {
    let born = e
        .birth_date
        .parse::<propusk_spec::BirthDate>()
        .map_or_else(|_| e.birth_date.clone(), |b| locale.birth_date(&b));
    format!("{}, {born}", e.name)
}

/// Runs `propusk wallet ...`.
pub fn run(args: &WalletArgs) -> Result<u8, CliError> {
    let at = parse_at(args.at.as_deref())?;
    // Adding (or taking trust data) makes the wallet; reading a wallet that is not there is an
    // error, so a mistyped --dir creates nothing.
    let dir = args
        .dir
        .as_deref()
        .ok_or_else(|| CliError::Usage("the wallet's --dir is required".into()))?;
    let mut wallet = match &args.command {
        WalletCommand::Add(_)
        | WalletCommand::Trust {
            list: false,
            remove: None,
            ..
        } => Wallet::open(dir)?,
        _ => Wallet::open_existing(dir)?,
    };
    let tz = wallet.time_zone()?;
    let locale = Locale::named(
        crate::language::lang(args.lang),
        tz.as_deref().unwrap_or("UTC"),
    );
    match &args.command {
        WalletCommand::Add(add) => crate::wallet_add::run(&mut wallet, add, at, &locale)?,
        WalletCommand::List { json: as_json, .. } => {
            let entries = wallet.list(at)?;
            if *as_json {
                println!("{}", json(&entries, true));
                return Ok(0);
            }
            let mut person = None;
            for (i, e) in entries.iter().enumerate() {
                if person.as_ref() != Some(&e.person) {
                    println!("{}", holder(e, &locale));
                    person = Some(e.person.clone());
                }
                // The number `show` and `export` take.
                println!("{:>3}.{}", i + 1, line(e, &locale));
            }
        }
        WalletCommand::Show {
            id,
            qr,
            out,
            light_terminal,
            ..
        } => {
            let format = match qr.as_str() {
                "png" => QrFormat::Png,
                "svg" => QrFormat::Svg,
                _ => QrFormat::Terminal {
                    light: *light_terminal,
                },
            };
            if format == QrFormat::Png && out.is_none() {
                return Err(CliError::Usage("--qr png needs --out FILE".into()));
            }
            let id = wallet.resolve(id, at)?;
            crate::wallet_add::warn_if_refused(&wallet, &id, at, &locale)?;
            let drawn = wallet.qr(&id.to_string(), format)?;
            match out {
                Some(path) => std::fs::write(path, drawn).map_err(|e| CliError::io(path, e))?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &drawn)?,
            }
            if let QrFormat::Terminal { light } = format {
                // One line under the code: what it is, and the switch for the other background.
                let kind = wallet
                    .list(at)?
                    .into_iter()
                    .find(|e| e.id == id)
                    .map(|e| words::credential_type(e.credential_type, locale.lang));
                let kind = kind.unwrap_or_default();
                let switch = match (locale.lang, light) {
                    (Lang::En, false) => "dark modules on a light terminal: --light-terminal",
                    (Lang::En, true) => "for a dark terminal leave out --light-terminal",
                    (Lang::Ru, false) => "светлый терминал: --light-terminal",
                    (Lang::Ru, true) => "тёмный терминал: без --light-terminal",
                };
                println!("{kind} {id} · {switch}");
            }
        }
        WalletCommand::Best {
            json: as_json,
            person,
            ..
        } => {
            let (best, note, code) = match wallet.best_of(at, person.as_deref())? {
                Best::Valid(best) => (best, None, 0),
                Best::ByOwnDates { best, trust_age_s } => {
                    let age = trust_age_s.map(|a| locale.age(a));
                    let note = match (locale.lang, age) {
                        (Lang::En, Some(age)) => format!(
                            "the wallet's trust data is {age} old, too old to vouch for it: judged \
                             by its own dates only; refresh it with `propusk wallet trust`"
                        ),
                        (Lang::En, None) => "the wallet has no trust data: judged by its own \
                             dates only; take it with `propusk wallet trust`"
                            .to_owned(),
                        (Lang::Ru, Some(age)) => format!(
                            "данным проверки в кошельке {age}, они устарели: документ выбран только \
                             по его собственным датам; обновите их (propusk wallet trust)"
                        ),
                        (Lang::Ru, None) => "в кошельке нет данных проверки: документ выбран \
                             только по его собственным датам; получите их (propusk wallet trust)"
                            .to_owned(),
                    };
                    (best, Some(note), crate::error::EXIT_UNKNOWN)
                }
                Best::None(all) => {
                    if *as_json {
                        println!("{}", serde_json::json!({"best": null, "credentials": all}));
                    } else {
                        println!(
                            "{}",
                            match locale.lang {
                                Lang::En => "no credential would be accepted now:",
                                Lang::Ru => "сейчас не был бы принят ни один документ:",
                            }
                        );
                        for e in &all {
                            println!("{}", line(e, &locale));
                        }
                    }
                    return Ok(EXIT_INVALID);
                }
            };
            if *as_json {
                let mut v = serde_json::to_value(&best).unwrap_or_default();
                v["judged_by_own_dates"] = serde_json::Value::Bool(note.is_some());
                println!("{v}");
                return Ok(code);
            }
            let (kind, until) = (
                words::credential_type(best.credential_type, locale.lang),
                locale.time(best.valid_until),
            );
            match locale.lang {
                Lang::En => println!(
                    "show this one: {kind} {} for {}, valid until {until}",
                    best.id,
                    holder(&best, &locale)
                ),
                Lang::Ru => println!(
                    "предъявите: {kind} {} на имя {}, действителен до {until}",
                    best.id,
                    holder(&best, &locale)
                ),
            }
            if let Some(note) = note {
                println!("{note}");
            }
            return Ok(code);
        }
        WalletCommand::Export { id, pdf, .. } => {
            let id = wallet.resolve(id, at)?;
            crate::wallet_add::warn_if_refused(&wallet, &id, at, &locale)?;
            let bytes = wallet.certificate_pdf(&id.to_string())?;
            std::fs::write(pdf, bytes).map_err(|e| CliError::io(pdf, e))?;
            println!("certificate written to {}", pdf.display());
        }
        WalletCommand::Trip {
            to,
            on,
            back,
            person,
            policy,
            json,
        } => {
            return crate::trip::run(
                &wallet,
                to,
                on.as_deref(),
                back.as_deref(),
                person.as_deref(),
                policy.as_deref(),
                *json,
                at,
                &locale,
            );
        }
        WalletCommand::Trust {
            root,
            from,
            url,
            list,
            remove,
            json,
        } => {
            let source = match (from, url) {
                (Some(dir), _) => Some(crate::wallet_trust::Source::Dir(dir)),
                (None, Some(url)) => Some(crate::wallet_trust::Source::Url(url)),
                (None, None) => None,
            };
            crate::wallet_trust::run(
                &mut wallet,
                root.as_deref(),
                source,
                *list,
                remove.as_deref(),
                *json,
                &locale,
            )?;
        }
    }
    Ok(0)
}
