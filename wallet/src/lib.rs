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

mod choose;
mod error;
mod eu;
mod pdf;
mod pdf_read;
mod pdf_travel;
mod store;
mod trust;

use std::fmt;
use std::path::Path;

use propusk_spec::{
    Credential, CredentialId, CredentialType, Link, LinkError, Timestamp, UnverifiedCredential,
    decode_any,
};
use propusk_trust_list::{Reason, Report, Verdict, check_many};
use serde::{Serialize, Serializer};

pub use error::WalletError;

pub use choose::Best;
pub use store::STORE_FILE;

use crate::store::WalletStore;

/// A credential that is valid now and ends within this many seconds is "expiring soon".
pub const EXPIRING_SOON_S: i64 = 14 * 86_400;

/// The signature check made when a credential is added: a warning, never a refusal (the
/// credential is kept either way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureCheck {
    /// It verifies with a key of the wallet's trust data.
    Verified,
    /// The wallet has no trust data to check it with.
    NotChecked,
    /// It does not verify (the format's words for why).
    Failed(String),
}

impl fmt::Display for SignatureCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureCheck::Verified => f.write_str("verified"),
            SignatureCheck::NotChecked => f.write_str("not checked: the wallet has no trust data"),
            SignatureCheck::Failed(why) => write!(f, "warning: {why}"),
        }
    }
}

impl Serialize for SignatureCheck {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a credential's QR code is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrFormat {
    /// A 1-bit PNG, 6 pixels a module.
    Png,
    /// An SVG document.
    Svg,
    /// Unicode half blocks for a terminal; `light` draws dark modules for a light background.
    Terminal {
        /// The terminal shows dark text on light.
        light: bool,
    },
}

/// What adding did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Added {
    /// The credential's id.
    pub id: CredentialId,
    /// Its type.
    #[serde(rename = "type")]
    pub credential_type: CredentialType,
    /// `false` when the wallet already held it (nothing was added twice).
    pub new: bool,
    /// The signature check against the wallet's trust data.
    pub signature: SignatureCheck,
}

/// One credential as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The id.
    pub id: CredentialId,
    /// The type.
    #[serde(rename = "type")]
    pub credential_type: CredentialType,
    /// Whom it is for: the full name and the date of birth (the holder's own wallet shows the
    /// whole name; masking is for verifiers).
    pub holder: String,
    /// The holder's full name, as written natively.
    pub name: String,
    /// The date of birth, as precise as recorded (`1980-05-12`, `1980-05`, `1980`).
    pub birth_date: String,
    /// The person key it is grouped by.
    pub person: String,
    /// Issued at.
    pub issued_at: Timestamp,
    /// Valid until, by the rules when the wallet has trust data, else by its own expiry.
    pub valid_until: Timestamp,
    /// The verdict now.
    pub verdict: Verdict,
    /// Why, when not valid.
    pub reason: Option<Reason>,
    /// Valid now and ending within [`EXPIRING_SOON_S`].
    pub expiring_soon: bool,
    /// For a Propusk credential: the id of its EU DCC twin in the wallet, if kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eu_twin: Option<CredentialId>,
    /// For an EU DCC: the Propusk credential it is the twin of (its UVCI names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twin_of: Option<CredentialId>,
}

/// The wallet.
pub struct Wallet {
    store: WalletStore,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

impl Wallet {
    /// Opens (creating if needed) the wallet in `dir`.
    pub fn open(dir: &Path) -> Result<Self, WalletError> {
        Ok(Wallet {
            store: WalletStore::open(dir, true)?,
        })
    }

    /// Opens the wallet in `dir` to read it: [`WalletError::NoWallet`] when there is none.
    pub fn open_existing(dir: &Path) -> Result<Self, WalletError> {
        Ok(Wallet {
            store: WalletStore::open(dir, false)?,
        })
    }

    fn store(
        &mut self,
        unverified: &UnverifiedCredential,
        text: &str,
    ) -> Result<Added, WalletError> {
        let c = unverified.unverified_claims();
        let signature = match self.bundle()? {
            None => SignatureCheck::NotChecked,
            Some(bundle) => match unverified.verify(bundle.trust_list()) {
                Ok(_) => SignatureCheck::Verified,
                Err(e) => SignatureCheck::Failed(e.to_string()),
            },
        };
        let now = Timestamp::from_system(std::time::SystemTime::now());
        let new = self.store.insert(unverified, text, &person_key(c), now)?;
        Ok(Added {
            id: c.id,
            credential_type: c.credential_type(),
            new,
            signature,
        })
    }

    /// Adds credential text or an offline-verifiable link. The same credential twice is kept
    /// once.
    pub fn add_text(&mut self, input: &str) -> Result<Added, WalletError> {
        let input = input.trim();
        if input.starts_with(propusk_eudcc::PREFIX) {
            return self.add_eu(input);
        }
        let unverified = decode_any(input)?;
        let text = match Link::parse(input) {
            Ok(link) => link.credential.unwrap_or_else(|| input.to_owned()),
            Err(_) => input.to_owned(),
        };
        self.store(&unverified, &text)
    }

    /// Adds the credential whose QR code a PDF carries: a certificate this wallet exported, or a
    /// scanned document with the code in a JPEG image.
    pub fn add_pdf(&mut self, path: &Path) -> Result<Added, WalletError> {
        let io = |source| WalletError::Io {
            path: path.to_path_buf(),
            source,
        };
        // Bounded by the bytes read, whatever the file is (a device has no length).
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                std::fs::File::open(path).map_err(io)?,
                pdf_read::MAX_PDF_LEN as u64 + 1,
            ),
            &mut bytes,
        )
        .map_err(io)?;
        let text = pdf_read::qr_text(&bytes)?;
        self.add_text(&text)
    }

    /// Adds the credential in a QR image (PNG or JPEG: a photo, a screenshot).
    pub fn add_image(&mut self, path: &Path) -> Result<Added, WalletError> {
        let text = propusk_qr::read_qr_file(path)?;
        self.add_text(&text)
    }

    /// Adds the credential behind a portal link: an offline-verifiable link needs no network; a
    /// short link is fetched from the portal (`{link}/credential`).
    pub fn add_link(&mut self, url: &str) -> Result<Added, WalletError> {
        let link = Link::parse(url.trim()).map_err(propusk_spec::Error::Link)?;
        if link.credential.is_some() {
            return self.add_text(url);
        }
        let fetch = format!("{}/c/{}/credential", link.base, link.id);
        let network = |message: String| WalletError::Network {
            url: fetch.clone(),
            message,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .get(&fetch)
            .call()
            .map_err(|e| network(e.to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(network(format!("answered {status}")));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(propusk_spec::MAX_TEXT_LEN as u64)
            .read_to_string()
            .map_err(|e| network(e.to_string()))?;
        let unverified = propusk_spec::decode(text.trim())?;
        if unverified.unverified_claims().id != link.id {
            return Err(propusk_spec::Error::Link(LinkError::IdMismatch).into());
        }
        self.store(&unverified, text.trim())
    }

    /// The credential text of an id.
    pub fn text(&self, id: &str) -> Result<String, WalletError> {
        let not_found = || WalletError::NotFound(id.to_owned());
        let id: CredentialId = id.parse().map_err(|_| not_found())?;
        self.store.text(&id)?.ok_or_else(not_found)
    }

    /// The credential's QR code, drawn as `format`.
    pub fn qr(&self, id: &str, format: QrFormat) -> Result<Vec<u8>, WalletError> {
        let text = self.text(id)?;
        Ok(match format {
            QrFormat::Png => propusk_qr::render_png(&text, 6)?,
            QrFormat::Svg => propusk_qr::render_svg(&text)?.into_bytes(),
            QrFormat::Terminal { light } => propusk_qr::render_terminal(&text, light)?.into_bytes(),
        })
    }

    /// A printable A4 certificate (PDF) of one credential, in Russian and English, with its QR;
    /// with a second page in English for travel when the wallet keeps its EU DCC twin. An EU
    /// DCC on its own gets the travel page alone.
    pub fn certificate_pdf(&self, id: &str) -> Result<Vec<u8>, WalletError> {
        let text = self.text(id)?;
        let bundle = self.bundle()?;
        let tz = bundle
            .as_ref()
            .map_or_else(|| "UTC".to_owned(), |b| b.content().rules.time_zone.clone());
        if text.starts_with(propusk_eudcc::PREFIX) {
            return pdf::travel(&text, &tz);
        }
        let unverified = decode_any(&text)?;
        let own_id = unverified.unverified_claims().id;
        let twin = self
            .texts()?
            .into_iter()
            .find(|t| eu::twin_of(t) == Some(own_id));
        // The issuing authority by the key that signed it, when the trust data knows the key.
        let issuer = bundle.as_ref().and_then(|b| {
            b.trust_list()
                .key(unverified.key_id())
                .map(|k| (k.issuer.clone(), k.country.clone()))
        });
        pdf::certificate(
            unverified.unverified_claims(),
            &text,
            &tz,
            issuer,
            twin.as_deref(),
        )
    }

    /// Every credential's text, oldest first.
    pub fn texts(&self) -> Result<Vec<String>, WalletError> {
        self.store.texts()
    }

    /// Every credential judged at `at` with the verifier's engine, grouped by person (sorted by
    /// person, then newest first).
    pub fn list(&self, at: Timestamp) -> Result<Vec<Entry>, WalletError> {
        let (eu, texts): (Vec<String>, Vec<String>) = self
            .texts()?
            .into_iter()
            .partition(|t| t.starts_with(propusk_eudcc::PREFIX));
        let bundle = self.bundle()?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let reports = check_many(bundle.as_ref(), &refs, at);
        let mut entries: Vec<Entry> = texts
            .iter()
            .zip(&reports)
            .filter_map(|(t, r)| entry(t, r, at, bundle.is_some()))
            .collect();
        entries.extend(
            eu.iter()
                .filter_map(|t| eu::eu_entry(t, bundle.as_ref(), at)),
        );
        // Both forms of one record together: the credential names its twin.
        let twins: Vec<(CredentialId, CredentialId)> = entries
            .iter()
            .filter_map(|e| Some((e.twin_of?, e.id)))
            .collect();
        for e in &mut entries {
            e.eu_twin = twins.iter().find(|(of, _)| *of == e.id).map(|(_, id)| *id);
        }
        entries.sort_by(|a, b| {
            a.person
                .cmp(&b.person)
                .then(b.issued_at.cmp(&a.issued_at))
                .then(a.twin_of.is_some().cmp(&b.twin_of.is_some()))
        });
        Ok(entries)
    }
}

/// The holder's names as written natively: family name, given name, patronymic.
pub fn full_name(h: &propusk_spec::Holder) -> String {
    h.names()
        .map(propusk_spec::Name::native)
        .collect::<Vec<_>>()
        .join(" ")
}

fn entry(text: &str, report: &Report, at: Timestamp, trusted: bool) -> Option<Entry> {
    let unverified = decode_any(text).ok()?;
    let c = unverified.unverified_claims();
    let (verdict, reason, until) = if trusted {
        (
            report.verdict,
            report.reason,
            report.valid_until.unwrap_or(c.expires_at),
        )
    } else if at >= c.expires_at {
        // Without trust data the wallet can only read the credential's own expiry.
        (Verdict::Invalid, Some(Reason::Expired), c.expires_at)
    } else {
        (
            Verdict::Unknown,
            Some(Reason::TrustDataMissing),
            c.expires_at,
        )
    };
    let soon = verdict == Verdict::Valid && until.unix() - at.unix() < EXPIRING_SOON_S;
    Some(Entry {
        id: c.id,
        credential_type: c.credential_type(),
        holder: format!("{} {}", full_name(&c.holder), c.holder.birth_date),
        name: full_name(&c.holder),
        birth_date: c.holder.birth_date.to_string(),
        person: person_key(c),
        issued_at: c.issued_at,
        valid_until: until,
        verdict,
        reason,
        expiring_soon: soon,
        eu_twin: None,
        twin_of: None,
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
