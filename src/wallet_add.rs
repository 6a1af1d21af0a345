//! `propusk wallet add`: a credential in, from whatever the holder has of it.

use std::io::Read;
use std::path::{Path, PathBuf};

use propusk_trust_list::{Lang, Locale, words};
use propusk_wallet::{SignatureCheck, Wallet};

use crate::error::CliError;

/// The largest issuer's answer read (`--issued`).
const MAX_ANSWER: u64 = 1 << 20;

/// Arguments of `propusk wallet add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Credential text or link.
    text: Option<String>,
    /// A QR image, PNG or JPEG.
    #[arg(long, conflicts_with_all = ["text", "link"])]
    image: Option<PathBuf>,
    /// A PDF with the QR code: a certificate `export` wrote (its name kept as the note), or a
    /// scan.
    #[arg(long, conflicts_with_all = ["text", "link", "image"])]
    pdf: Option<PathBuf>,
    /// A portal link.
    #[arg(long, conflicts_with = "text")]
    link: Option<String>,
    /// The issuer's answer (its issuance API's JSON, as a registry hands it to the holder):
    /// the credential, its EU twin if any, and the names kept as the note.
    #[arg(long, conflicts_with_all = ["text", "link", "image", "pdf"])]
    issued: Option<PathBuf>,
    /// The holder's name, as your own note: a credential carries initials only. Shown in
    /// `list` and printed on the certificate; a verifier never relies on it.
    #[arg(long)]
    name: Option<String>,
}

/// Adds what `args` names to `wallet`, and says what was added.
pub(crate) fn run(
    wallet: &mut Wallet,
    args: &AddArgs,
    at: propusk_spec::Timestamp,
    locale: &Locale,
) -> Result<(), CliError> {
    let AddArgs {
        text,
        image,
        link,
        pdf,
        issued,
        name,
    } = args;
    let added = match (text, image, link, pdf, issued) {
        (Some(t), None, None, None, None) => wallet.add_text(t),
        (None, Some(path), None, None, None) => wallet.add_image(path),
        (None, None, Some(url), None, None) => wallet.add_link(url),
        (None, None, None, Some(path), None) => wallet.add_pdf(path),
        (None, None, None, None, Some(path)) => wallet.add_issued(&read_answer(path)?),
        _ => {
            return Err(CliError::Usage(
                "give one of TEXT, --image, --link, --pdf or --issued".into(),
            ));
        }
    }?;
    if let Some(name) = name {
        wallet.note_name(&added.id, name)?;
    }
    let kind = words::credential_type(added.credential_type, locale.lang);
    let signature = match (&added.signature, locale.lang) {
        (_, Lang::En) => added.signature.to_string(),
        (SignatureCheck::Verified, Lang::Ru) => "проверена".to_owned(),
        (SignatureCheck::NotChecked, Lang::Ru) => {
            "не проверена: в кошельке нет данных проверки".to_owned()
        }
        (SignatureCheck::Failed(why), Lang::Ru) => format!("внимание: {why}"),
    };
    match (added.new, locale.lang) {
        (true, Lang::En) => println!("added {kind} {} (signature: {signature})", added.id),
        (false, Lang::En) => println!(
            "already in the wallet: {kind} {} (signature: {signature})",
            added.id
        ),
        (true, Lang::Ru) => {
            println!("добавлен: {kind} {} (подпись: {signature})", added.id);
        }
        (false, Lang::Ru) => {
            println!("уже в кошельке: {kind} {} (подпись: {signature})", added.id);
        }
    }
    warn_if_refused(wallet, &added.id, at, locale)
}

/// The issuer's answer in `path`, at most [`MAX_ANSWER`] bytes of UTF-8.
fn read_answer(path: &Path) -> Result<String, CliError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_ANSWER + 1).read_to_end(&mut bytes))
        .map_err(|e| CliError::io(path, e))?;
    let refused = |why: &str| CliError::Wallet(propusk_wallet::WalletError::Issued(why.into()));
    if bytes.len() as u64 > MAX_ANSWER {
        return Err(refused("larger than 1 MiB"));
    }
    String::from_utf8(bytes).map_err(|_| refused("not UTF-8"))
}

/// Warns on standard error when a verifier would refuse this credential now (revoked, expired,
/// a signature that does not verify...): the holder should not count on it.
pub(crate) fn warn_if_refused(
    wallet: &Wallet,
    id: &propusk_spec::CredentialId,
    at: propusk_spec::Timestamp,
    locale: &Locale,
) -> Result<(), CliError> {
    let Some(e) = wallet.list(at)?.into_iter().find(|e| &e.id == id) else {
        return Ok(());
    };
    // Refused for sure: invalid with the trust data, or past its own expiry whatever the data.
    let reason = match (e.verdict, e.reason) {
        (propusk_trust_list::Verdict::Invalid, reason) => reason,
        _ if e.valid_until <= at => Some(propusk_trust_list::Reason::Expired),
        _ => return Ok(()),
    };
    let why = reason.map_or("", |r| words::reason(r, locale.lang));
    match locale.lang {
        Lang::En => eprintln!(
            "propusk: warning: a verifier would refuse {} now: {why}",
            e.id
        ),
        Lang::Ru => eprintln!(
            "propusk: внимание: проверяющий сейчас отклонит {}: {why}",
            e.id
        ),
    }
    Ok(())
}
