//! `propusk wallet trust`: take an issuer's trust data (the first root is the wallet's own,
//! another adds an issuer abroad), list the roots, forget one.

use std::path::Path;

use propusk_trust_list::{Lang, Locale, parse_public_key};
use propusk_wallet::Wallet;

use crate::error::CliError;

/// Where trust data is taken from.
pub enum Source<'a> {
    /// A published directory.
    Dir(&'a Path),
    /// The issuer's server.
    Url(&'a str),
}

/// Runs `wallet trust`: `--list`, `--remove KEY_ID`, or taking data from `source`.
pub fn run(
    wallet: &mut Wallet,
    root: Option<&Path>,
    source: Option<Source<'_>>,
    list: bool,
    remove: Option<&str>,
    json: bool,
    locale: &Locale,
) -> Result<(), CliError> {
    if list {
        return trusted(wallet, json, locale);
    }
    if let Some(id) = remove {
        let gone = wallet.untrust(id)?;
        match locale.lang {
            Lang::En => println!(
                "no longer trusted: root {} ({})",
                gone.root_key_id, gone.jurisdiction
            ),
            Lang::Ru => println!(
                "больше не доверяет: корневой ключ {} ({})",
                gone.root_key_id, gone.jurisdiction
            ),
        }
        return Ok(());
    }
    let key = match root {
        Some(root) => {
            let text = std::fs::read_to_string(root).map_err(|e| CliError::io(root, e))?;
            Some(parse_public_key(&text).ok_or_else(|| {
                CliError::Usage(format!("{} holds no public key", root.display()))
            })?)
        }
        None => None,
    };
    let seq = match source {
        Some(Source::Dir(dir)) => {
            let key =
                key.ok_or_else(|| CliError::Usage("--from needs the issuer's --root key".into()))?;
            wallet.set_trust(&key, dir)?
        }
        Some(Source::Url(url)) => wallet.set_trust_from_url(key.as_ref(), url)?,
        None => return Err(CliError::Usage("give --from DIR or --url URL".into())),
    };
    match locale.lang {
        Lang::En => println!("trust data in the wallet: sequence {seq}"),
        Lang::Ru => println!("данные проверки в кошельке: выпуск {seq}"),
    }
    Ok(())
}

/// `wallet trust --list`: the roots the wallet trusts, its own first.
fn trusted(wallet: &Wallet, json: bool, locale: &Locale) -> Result<(), CliError> {
    let roots = wallet.trusted()?;
    if json {
        println!("{}", crate::json(&roots, false));
        return Ok(());
    }
    if roots.is_empty() {
        println!(
            "{}",
            match locale.lang {
                Lang::En => "the wallet trusts no root yet (propusk wallet trust --root …)",
                Lang::Ru =>
                    "кошелёк ещё не доверяет ни одному корневому ключу (propusk wallet trust --root …)",
            }
        );
    }
    for r in roots {
        let made = locale.time(r.issued_at);
        let own = match (r.home, locale.lang) {
            (true, Lang::En) => ", the wallet's own",
            (true, Lang::Ru) => ", собственный ключ кошелька",
            (false, _) => "",
        };
        let from = r.source.as_deref().unwrap_or("?");
        println!(
            "{}",
            match locale.lang {
                Lang::En => format!(
                    "{} {}{own}: sequence {}, made {made}, from {from}",
                    r.root_key_id, r.jurisdiction, r.sequence
                ),
                Lang::Ru => format!(
                    "{} {}{own}: выпуск {}, от {made}, из {from}",
                    r.root_key_id, r.jurisdiction, r.sequence
                ),
            }
        );
    }
    Ok(())
}
