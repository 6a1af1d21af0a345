//! Opening the issuer for a command: the database of this run, the passphrase (from
//! PROPUSK_PASSPHRASE or the terminal) and the token's PIN (PROPUSK_PKCS11_PIN or the
//! terminal), files read and written, and the issuer's local time. Every `propusk issuer …` command module opens through here.

use std::io::IsTerminal;
use std::path::Path;

use zeroize::Zeroizing;

use propusk_issuer::{Database, Issuer, IssuerError, Token, TokenError, TokenPlace};

use crate::error::CliError;

/// The database of this run: `--database`, else `PROPUSK_DATABASE_URL`, else the SQLite file in
/// the issuer's directory.
static DATABASE: std::sync::OnceLock<Database> = std::sync::OnceLock::new();

/// Chooses the database of this run (once, before any issuer is opened).
pub(crate) fn choose_database(flag: Option<&str>) -> Result<(), CliError> {
    let url = match flag {
        Some(url) => Some(url.to_owned()),
        None => std::env::var("PROPUSK_DATABASE_URL").ok(),
    };
    let database = Database::from_url(url.as_deref()).map_err(|_| {
        CliError::Usage(
            "--database (or PROPUSK_DATABASE_URL) must be a PostgreSQL URL: \
             postgres://user@host:5432/name"
                .into(),
        )
    })?;
    let _ = DATABASE.set(database);
    Ok(())
}

pub(crate) fn database() -> &'static Database {
    DATABASE.get_or_init(|| {
        Database::from_url(std::env::var("PROPUSK_DATABASE_URL").ok().as_deref())
            .unwrap_or_default()
    })
}

/// Opens the issuer of `dir` in this run's database, without its secrets.
pub(crate) fn open(dir: &Path) -> Result<Issuer, IssuerError> {
    Issuer::open_in(dir, database())
}

/// A new issuer's passphrase: PROPUSK_PASSPHRASE, or asked twice on the terminal (both must
/// agree); its length is the issuer's to check.
pub(crate) fn new_passphrase() -> Result<Zeroizing<String>, IssuerError> {
    if std::env::var_os("PROPUSK_PASSPHRASE").is_some() || !std::io::stdin().is_terminal() {
        return passphrase();
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|_| IssuerError::Passphrase("could not be read from the terminal"))
    };
    let first = ask(&format!(
        "New passphrase (at least {} characters): ",
        propusk_issuer::MIN_PASSPHRASE_CHARS
    ))?;
    if *ask("The same passphrase again: ")? != *first {
        return Err(IssuerError::Passphrase(
            "the two passphrases differ; nothing was created",
        ));
    }
    Ok(first)
}

/// A secret from the environment variable `var`, or asked on the terminal with `prompt`;
/// `missing` when there is neither. Zeroized when dropped.
fn secret(var: &str, prompt: &str, missing: IssuerError) -> Result<Zeroizing<String>, IssuerError> {
    if let Ok(p) = std::env::var(var) {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(missing);
    }
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|_| IssuerError::Passphrase("could not be read from the terminal"))
}

/// The passphrase: PROPUSK_PASSPHRASE, or asked on the terminal.
fn passphrase() -> Result<Zeroizing<String>, IssuerError> {
    let missing = IssuerError::Passphrase("set PROPUSK_PASSPHRASE (no terminal to ask on)");
    secret("PROPUSK_PASSPHRASE", "Passphrase: ", missing)
}

/// The token's PIN: PROPUSK_PKCS11_PIN, or asked on the terminal.
fn pin() -> Result<Zeroizing<String>, IssuerError> {
    secret(
        "PROPUSK_PKCS11_PIN",
        "Token PIN: ",
        TokenError::NoPin.into(),
    )
}

/// The token at `place`, logged in with the PIN.
pub(crate) fn token(place: TokenPlace) -> Result<Token, IssuerError> {
    Token::open(place, &pin()?)
}

/// Opens the issuer of `dir` with its secrets: the token its directory names (with the PIN)
/// and the passphrase, each when its keys need it.
pub(crate) fn unlocked(dir: &Path) -> Result<Issuer, IssuerError> {
    let mut issuer = open(dir)?;
    match TokenPlace::read(dir)? {
        Some(place) => {
            let token = token(place)?;
            let passphrase = match issuer.root_in_token()? {
                true => None,
                false => Some(passphrase()?),
            };
            issuer.unlock_with_token(token, passphrase.as_deref().map(String::as_str))?;
        }
        None => issuer.unlock(&passphrase()?)?,
    }
    Ok(issuer)
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.map(|()| bytes).map_err(|e| CliError::io(path, e))
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| CliError::io(path, e))
}

/// The issuer's jurisdiction's time zone, for the times its messages show (in English).
pub(crate) fn local(issuer: &Issuer) -> propusk_trust_list::Locale {
    propusk_trust_list::Locale::named(propusk_trust_list::Lang::En, issuer.time_zone())
}
