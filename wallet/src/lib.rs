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
#[cfg(feature = "store")]
mod kept;
mod page;
mod pdf;
#[cfg(feature = "store")]
mod pdf_read;
mod pdf_travel;
#[cfg(feature = "store")]
mod store;
mod trip;
#[cfg(feature = "store")]
mod trust;

use std::fmt;

use propusk_spec::{Credential, CredentialId, CredentialType, Timestamp, decode_any};
use propusk_trust_list::{Bundle, Reason, Report, Verdict, check_among};
use serde::{Serialize, Serializer};

pub use error::WalletError;

pub use choose::{Best, choose};
#[cfg(feature = "store")]
pub use kept::Wallet;
pub use pdf::{PrintContext, certificate_in, certificate_of};
#[cfg(feature = "store")]
pub use store::STORE_FILE;
pub use trip::{
    FailedRule, NotCounted, Trip, TripCheck, TripForm, TripPolicy, TripQuery, TripRules, trip,
    trip_words,
};
#[cfg(feature = "store")]
pub use trust::TrustedRoot;

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
    /// Whom it is for: the name and the date of birth.
    pub holder: String,
    /// The holder's name as the wallet knows it: the holder's own note when one was kept (a
    /// credential carries initials only), else the EU twin's names, else the initials.
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

/// The person a credential belongs to (SPEC §8.4): its door form — date of birth, initials,
/// masked document.
pub fn person_key(c: &Credential) -> String {
    let h = &c.holder;
    format!(
        "{}|{}|{}",
        h.birth_date,
        h.initials.letters().iter().collect::<String>(),
        h.document.masked()
    )
}

/// The id the wallet keeps a credential under: its own, or for an EU certificate one made
/// from its text; `None` for what is not a credential.
pub fn id_of(text: &str) -> Option<CredentialId> {
    if text.starts_with(propusk_eudcc::PREFIX) {
        eu::eu_id(text)
    } else {
        decode_any(text).ok().map(|u| u.unverified_claims().id)
    }
}

/// `entries` with the holder's notes of their name (credential id, name): a note on one
/// credential names every credential of that person.
pub fn with_notes(mut entries: Vec<Entry>, notes: &[(String, String)]) -> Vec<Entry> {
    let named: Vec<(String, String)> = entries
        .iter()
        .filter_map(|e| {
            let id = e.id.to_string();
            let (_, name) = notes.iter().find(|(i, _)| *i == id)?;
            Some((e.person.clone(), name.clone()))
        })
        .collect();
    for e in &mut entries {
        if let Some((_, name)) = named.iter().find(|(p, _)| *p == e.person) {
            e.holder = format!("{name} {}", e.birth_date);
            e.name = name.clone();
        }
    }
    entries
}

/// Credentials judged at `at` with the verifier's engine against `bundle` (without one: by
/// their own expiry only), grouped by person (sorted by person, then newest first), each
/// credential with its EU twin. What [`Wallet::list`] shows; the web app's wallet the same.
pub fn entries(texts: &[String], bundle: Option<&Bundle>, at: Timestamp) -> Vec<Entry> {
    entries_among(texts, bundle, &[], at)
}

/// [`entries`] judged against the trust data of several roots: `home`'s rules decide, and a
/// credential of an issuer in `others` is checked with that issuer's keys and revocations (as
/// a verifier trusting several roots judges it).
pub fn entries_among(
    texts: &[String],
    home: Option<&Bundle>,
    others: &[&Bundle],
    at: Timestamp,
) -> Vec<Entry> {
    let bundle = home;
    let (eu, texts): (Vec<&String>, Vec<&String>) = texts
        .iter()
        .partition(|t| t.starts_with(propusk_eudcc::PREFIX));
    let refs: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
    let reports = check_among(bundle, others, &refs, at);
    let mut entries: Vec<Entry> = texts
        .iter()
        .zip(&reports)
        .filter_map(|(t, r)| entry(t, r, at, bundle.is_some()))
        .collect();
    entries.extend(eu.iter().filter_map(|t| eu::eu_entry(t, bundle, at)));
    // Both forms of one record together: the credential names its twin.
    let twins: Vec<(CredentialId, CredentialId)> = entries
        .iter()
        .filter_map(|e| Some((e.twin_of?, e.id)))
        .collect();
    for e in &mut entries {
        e.eu_twin = twins.iter().find(|(of, _)| *of == e.id).map(|(_, id)| *id);
    }
    // A twin is its credential's person's, and names them in full: its names stand for the
    // credential's initials.
    let of_twins: Vec<(CredentialId, String, String)> = entries
        .iter()
        .filter_map(|e| {
            let twin = entries.iter().find(|t| Some(t.id) == e.eu_twin)?;
            Some((e.id, e.person.clone(), twin.name.clone()))
        })
        .collect();
    for (own, person, name) in of_twins {
        for e in entries.iter_mut() {
            if e.id == own {
                e.holder = format!("{name} {}", e.birth_date);
                e.name = name.clone();
            } else if e.twin_of == Some(own) {
                e.person = person.clone();
            }
        }
    }
    entries.sort_by(|a, b| {
        a.person
            .cmp(&b.person)
            .then(b.issued_at.cmp(&a.issued_at))
            .then(a.twin_of.is_some().cmp(&b.twin_of.is_some()))
    });
    entries
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
        holder: format!("{} {}", c.holder.initials, c.holder.birth_date),
        name: c.holder.initials.to_string(),
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
    fn people_are_grouped_by_what_the_door_form_carries() {
        use propusk_spec::{CredentialId, CredentialType, Document, DocumentKind, Name, examples};
        let a = examples::credential(
            CredentialType::Vaccination,
            CredentialId::from_bytes([1; 12]),
        );
        let with = |edit: &dyn Fn(&mut propusk_spec::Holder)| {
            let mut h = examples::holder();
            edit(&mut h);
            let mut c = a.clone();
            c.holder = h.door();
            person_key(&c)
        };
        assert_eq!(person_key(&a), with(&|_| {}));
        assert_eq!(
            person_key(&a),
            with(&|h| h.family_name = Name::new("Игнатов", None).unwrap_or_else(|e| panic!("{e}"))),
            "the door form carries initials only"
        );
        assert_ne!(
            person_key(&a),
            with(
                &|h| h.given_name = Some(Name::new("Пётр", None).unwrap_or_else(|e| panic!("{e}")))
            )
        );
        assert_ne!(
            person_key(&a),
            with(&|h| h.birth_date = "1980-05".parse().unwrap_or_else(|e| panic!("{e}"))),
            "another date of birth is another person"
        );
        assert_ne!(
            person_key(&a),
            with(&|h| {
                h.document = Document::new(DocumentKind::Passport, "4610 123789")
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
            "another passport is another person"
        );
    }
}
