//! The holder's wallet: every credential of a person (or a family) in one SQLite file, added from
//! credential text, a QR image or a portal link; judged with the verifier's own engine against
//! the wallet's copy of the trust bundle; and the one a verifier would accept now.
//!
//! ```
//! use propusk_wallet::Wallet;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("propusk-wallet-doc-{}", std::process::id()));
//! let mut wallet = Wallet::open(&dir)?;
//! // Not a credential: refused with the layer that refused it, and nothing is stored.
//! assert!(wallet.add_text("HC1:NOT-OURS").is_err());
//! assert!(wallet.texts()?.is_empty());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod pdf;

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{Credential, Link, Timestamp, UnverifiedCredential, decode_any};
use propusk_trust_list::{Bundle, Report, Verdict, check_many, read_index, read_named};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use thiserror::Error;

/// The store's file inside `--dir`.
pub const STORE_FILE: &str = "wallet.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    type TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    person TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trust (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    root_key BLOB NOT NULL,
    bundle BLOB NOT NULL
);
";

/// Why a wallet operation failed.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum WalletError {
    /// The input is not a credential (the layer that refused it is named).
    #[error("not a credential: {0}")]
    Decode(#[from] propusk_spec::Error),
    /// No QR code could be read from the image.
    #[error("image: {0}")]
    Scan(String),
    /// The portal could not be reached or answered with an error.
    #[error("network: {0}")]
    Network(String),
    /// The trust data was refused.
    #[error("trust data: {0}")]
    Trust(String),
    /// No credential with this id in the wallet.
    #[error("no credential {0} in this wallet")]
    NotFound(String),
    /// The wallet's store failed.
    #[error("wallet store: {0}")]
    Store(String),
}

impl From<rusqlite::Error> for WalletError {
    fn from(e: rusqlite::Error) -> Self {
        WalletError::Store(e.to_string())
    }
}

/// What adding did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Added {
    /// The credential's id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// `false` when the wallet already held it (nothing was added twice).
    pub new: bool,
    /// The signature check against the wallet's trust data: `verified`, or why it could not be
    /// checked or failed (a warning: the credential is kept either way).
    pub signature: String,
}

/// One credential as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The id.
    pub id: String,
    /// The type.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// Whom it is for: initials and date of birth.
    pub holder: String,
    /// The person key it is grouped by.
    pub person: String,
    /// Issued at (RFC 3339).
    pub issued_at: String,
    /// Valid until, by the rules when the wallet has trust data, else by its own expiry.
    pub valid_until: String,
    /// The verdict now: `valid`, `invalid` or `unknown`.
    pub verdict: String,
    /// Why, when not valid.
    pub reason: Option<String>,
    /// Valid now and ending within 14 days.
    pub expiring_soon: bool,
}

/// The wallet.
pub struct Wallet {
    conn: Connection,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet").finish_non_exhaustive()
    }
}

/// Latin names folded so that two transliterations of one name meet: upper case, letters
/// only, and the common variants (YA/IA, YU/IU, YE/IE/E, YO/E, KS/X, J and Y as I) made one.
pub fn fold_name(latin: &str) -> String {
    let letters: String = latin
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let mut s = letters;
    for (from, to) in [
        ("YA", "IA"),
        ("YU", "IU"),
        ("YO", "E"),
        ("YE", "E"),
        ("IE", "E"),
        ("KS", "X"),
        ("J", "I"),
        ("Y", "I"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// The person a credential belongs to: date of birth and folded family and given names.
pub fn person_key(c: &Credential) -> String {
    let given = c
        .holder
        .given_name
        .as_ref()
        .map(|n| fold_name(n.latin()))
        .unwrap_or_default();
    format!(
        "{}|{}|{}",
        c.holder.birth_date,
        fold_name(c.holder.family_name.latin()),
        given
    )
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Wallet {
    /// Opens (creating if needed) the wallet in `dir`.
    pub fn open(dir: &Path) -> Result<Self, WalletError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| WalletError::Store(format!("{}: {e}", dir.display())))?;
        let path = dir.join(STORE_FILE);
        let conn = Connection::open(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Wallet { conn })
    }

    /// Takes trust data from a published directory (a USB stick, a mirror), checked with the
    /// issuer's root key; returns its sequence.
    pub fn set_trust(&mut self, root: &VerifyingKey, dir: &Path) -> Result<u64, WalletError> {
        let index = read_index(dir, root).map_err(|e| WalletError::Trust(e.to_string()))?;
        let bytes = read_named(dir, &index.full).map_err(|e| WalletError::Trust(e.to_string()))?;
        let bundle = Bundle::open(&bytes, root).map_err(|e| WalletError::Trust(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO trust (id, root_key, bundle) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET root_key = ?1, bundle = ?2",
            params![root.as_bytes().to_vec(), bytes],
        )?;
        Ok(bundle.sequence())
    }

    fn bundle(&self) -> Result<Option<Bundle>, WalletError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .query_row("SELECT root_key, bundle FROM trust WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((root, bytes)) = row else {
            return Ok(None);
        };
        let root: [u8; 32] = root
            .try_into()
            .map_err(|_| WalletError::Store("malformed root key".into()))?;
        let root = VerifyingKey::from_bytes(&root)
            .map_err(|_| WalletError::Store("malformed root key".into()))?;
        Bundle::open(&bytes, &root)
            .map(Some)
            .map_err(|e| WalletError::Trust(e.to_string()))
    }

    fn store(
        &mut self,
        unverified: &UnverifiedCredential,
        text: &str,
    ) -> Result<Added, WalletError> {
        let c = unverified.unverified_claims();
        let signature = match self.bundle()? {
            None => "not checked: the wallet has no trust data".to_owned(),
            Some(bundle) => match unverified.verify(bundle.trust_list()) {
                Ok(_) => "verified".to_owned(),
                Err(e) => format!("warning: {e}"),
            },
        };
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO credentials (id, text, type, issued_at, expires_at, person, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![c.id.to_string(), text, c.credential_type().as_str(), c.issued_at.unix(), c.expires_at.unix(), person_key(c), now_secs()],
        )?;
        Ok(Added {
            id: c.id.to_string(),
            credential_type: c.credential_type().as_str().into(),
            new: inserted == 1,
            signature,
        })
    }

    /// Adds credential text or an offline-verifiable link. The same credential twice is kept
    /// once.
    pub fn add_text(&mut self, input: &str) -> Result<Added, WalletError> {
        let input = input.trim();
        let unverified = decode_any(input)?;
        let text = match Link::parse(input) {
            Ok(link) => link.credential.unwrap_or_else(|| input.to_owned()),
            Err(_) => input.to_owned(),
        };
        self.store(&unverified, &text)
    }

    /// Adds the credential in a QR image (PNG or JPEG: a photo or a screenshot).
    pub fn add_image(&mut self, path: &Path) -> Result<Added, WalletError> {
        let text = propusk_qr::read_qr_file(path).map_err(|e| WalletError::Scan(e.to_string()))?;
        self.add_text(&text)
    }

    /// Adds the credential behind a portal link: an offline-verifiable link needs no network; a
    /// short link is fetched from the portal (`{link}/credential`).
    pub fn add_link(&mut self, url: &str) -> Result<Added, WalletError> {
        let link = Link::parse(url.trim())
            .map_err(|e| WalletError::Decode(propusk_spec::Error::Link(e)))?;
        if link.credential.is_some() {
            return self.add_text(url);
        }
        let fetch = format!("{}/c/{}/credential", link.base, link.id);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .get(&fetch)
            .call()
            .map_err(|e| WalletError::Network(format!("{fetch}: {e}")))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(WalletError::Network(format!("{fetch} answered {status}")));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(propusk_spec::MAX_TEXT_LEN as u64)
            .read_to_string()
            .map_err(|e| WalletError::Network(format!("{fetch}: {e}")))?;
        let unverified = propusk_spec::decode(text.trim())?;
        if unverified.unverified_claims().id != link.id {
            return Err(WalletError::Decode(propusk_spec::Error::Link(
                propusk_spec::LinkError::IdMismatch,
            )));
        }
        self.store(&unverified, text.trim())
    }

    /// The credential text of an id.
    pub fn text(&self, id: &str) -> Result<String, WalletError> {
        let id = id
            .parse::<propusk_spec::CredentialId>()
            .map(|i| i.to_string())
            .unwrap_or_else(|_| id.to_owned());
        self.conn
            .query_row("SELECT text FROM credentials WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or(WalletError::NotFound(id))
    }

    /// A printable A4 certificate (PDF) of one credential, in Russian and English, with its QR.
    pub fn certificate_pdf(&self, id: &str) -> Result<Vec<u8>, WalletError> {
        let text = self.text(id)?;
        let unverified = decode_any(&text)?;
        pdf::certificate(unverified.unverified_claims(), &text)
    }

    /// Every credential's text, oldest first.
    pub fn texts(&self) -> Result<Vec<String>, WalletError> {
        let mut stmt = self
            .conn
            .prepare("SELECT text FROM credentials ORDER BY issued_at, id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every credential judged at `at` with the verifier's engine, grouped by person (sorted by
    /// person, then newest first).
    pub fn list(&self, at: Timestamp) -> Result<Vec<Entry>, WalletError> {
        let texts = self.texts()?;
        let bundle = self.bundle()?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let reports = check_many(bundle.as_ref(), &refs, at);
        let mut entries: Vec<Entry> = texts
            .iter()
            .zip(&reports)
            .filter_map(|(t, r)| entry(t, r, at, bundle.is_some()))
            .collect();
        entries.sort_by(|a, b| a.person.cmp(&b.person).then(b.issued_at.cmp(&a.issued_at)));
        Ok(entries)
    }

    /// The credential a verifier would accept now: among those valid at `at`, the one valid the
    /// longest (a newer one that is not valid yet does not displace it). `Err` lists every
    /// credential with its reason when none is valid.
    pub fn best(&self, at: Timestamp) -> Result<Result<Entry, Vec<Entry>>, WalletError> {
        let entries = self.list(at)?;
        let best = entries
            .iter()
            .filter(|e| e.verdict == "valid")
            .max_by(|a, b| {
                a.valid_until
                    .cmp(&b.valid_until)
                    .then(a.issued_at.cmp(&b.issued_at))
            })
            .cloned();
        Ok(best.ok_or(entries))
    }
}

fn entry(text: &str, report: &Report, at: Timestamp, trusted: bool) -> Option<Entry> {
    let unverified = decode_any(text).ok()?;
    let c = unverified.unverified_claims();
    let (mut verdict, mut reason, mut until) = (
        report.verdict,
        report.reason.map(str::to_owned),
        report.valid_until.unwrap_or(c.expires_at),
    );
    if !trusted {
        // Without trust data the wallet can only read the credential's own expiry.
        until = c.expires_at;
        let expired = at >= c.expires_at;
        verdict = if expired {
            Verdict::Invalid
        } else {
            Verdict::Unknown
        };
        reason = Some(
            if expired {
                "expired"
            } else {
                "not_checked: no trust data in the wallet"
            }
            .to_owned(),
        );
    }
    let soon = verdict == Verdict::Valid && until.unix() - at.unix() < 14 * 86_400;
    Some(Entry {
        id: c.id.to_string(),
        credential_type: c.credential_type().as_str().into(),
        holder: format!("{} {}", c.holder.initials(), c.holder.birth_date),
        person: person_key(c),
        issued_at: c.issued_at.to_string(),
        valid_until: until.to_string(),
        verdict: verdict.as_str().into(),
        reason,
        expiring_soon: soon,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_transliterations_of_one_name_meet() {
        assert_eq!(fold_name("IULIIA"), fold_name("YULIYA"));
        assert_eq!(fold_name("ALEKSANDR"), fold_name("ALEXANDR"));
        assert_eq!(fold_name("SERGEI"), fold_name("SERGEY"));
        assert_eq!(fold_name("ANNA-MARIIA"), fold_name("Anna Mariya"));
        assert_ne!(fold_name("IVANOV"), fold_name("PETROV"));
    }

    #[test]
    fn people_are_grouped_by_birth_date_and_folded_names() {
        use propusk_spec::{CredentialId, CredentialType, Name, examples};
        let a = examples::credential(
            CredentialType::Vaccination,
            CredentialId::from_bytes([1; 12]),
        );
        let mut b = a.clone();
        b.holder.given_name =
            Some(Name::new("Иван", Some("IWAN")).unwrap_or_else(|e| panic!("{e}")));
        let mut c = a.clone();
        c.holder.family_name =
            Name::new("Иванов", Some("IVANOFF")).unwrap_or_else(|e| panic!("{e}"));
        c.holder.birth_date = "1980-05".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(person_key(&a), person_key(&a.clone()));
        assert_ne!(
            person_key(&a),
            person_key(&b),
            "IVAN and IWAN are not folded together"
        );
        assert_ne!(
            person_key(&a),
            person_key(&c),
            "another date of birth is another person"
        );
    }
}
