//! The verifier: a local trust store pinned to the issuer's root key, synced from published
//! trust data, and offline verification of what a scanner reads — with only initials, date of
//! birth and a masked document number shown of the holder, and nothing about a scan stored.
//!
//! ```
//! use ed25519_dalek::{Signer, SigningKey};
//! use propusk_spec::{CredentialId, CredentialType, Timestamp, encode, examples};
//! use propusk_trust_list::*;
//! use propusk_verifier::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("propusk-verifier-doc-{}", std::process::id()));
//! let (store_dir, published) = (dir.join("store"), dir.join("usb"));
//!
//! // The issuer's side: a root key, a signing key, a published bundle.
//! let root = SigningKey::from_bytes(&[1; 32]);
//! let signer = SigningKey::from_bytes(&[2; 32]);
//! let kid = key_id_of(&signer.verifying_key());
//! let at: Timestamp = "2021-09-01T10:00:00Z".parse()?;
//! let content = BundleContent {
//!     jurisdiction: "RU".into(),
//!     sequence: 1,
//!     issued_at: at.unix() - 3600,
//!     soft_expiry: at.unix() + 86_400,
//!     hard_expiry: at.unix() + 7 * 86_400,
//!     keys: vec![TrustedKey {
//!         key_id: kid.as_bytes().to_vec(),
//!         public_key: signer.verifying_key().as_bytes().to_vec(),
//!         issuer: "Минздрав России".into(),
//!         country: "RU".into(),
//!         not_before: 1_577_836_800,
//!         not_after: 1_893_456_000,
//!         types: CredentialType::ALL.to_vec(),
//!         status: KeyStatus::Active,
//!     }],
//!     revocations: RevocationSet::default(),
//!     rules: RuleSet::standard("RU", "Europe/Moscow"),
//! };
//! write_dir(&published, &content, &[], &key_id_of(&root.verifying_key()), &|d| root.sign(d).to_bytes())?;
//!
//! // The verifier's side: pin the root, sync from the USB stick, verify offline.
//! let mut store = Store::init(&store_dir, root.verifying_key(), at)?;
//! store.sync_from_dir(&published, at)?;
//! let credential = examples::credential(CredentialType::Vaccination, CredentialId::from_bytes([9; 12]));
//! let text = encode(&credential, &kid, |d| signer.sign(d).to_bytes())?;
//! let answers = verify_all(&store, &[text], at)?;
//! assert_eq!(answers[0].verdict, Verdict::Valid);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod error;
mod present;
mod store;

use propusk_spec::Timestamp;
use propusk_trust_list::{Report, Verdict, check_many};

pub use error::VerifierError;
pub use present::{Lang, TrustView, to_json, to_text};
pub use store::{BundleMeta, STORE_FILE, Store, SyncOutcome};

/// Trust data loaded once for a run of verifications at one validation time (a scanner's
/// queue reads the store once, not once per code).
#[derive(Debug)]
pub struct Session {
    bundle: Option<propusk_trust_list::Bundle>,
    trust: TrustView,
    at: Timestamp,
}

impl Session {
    /// Loads the store's trust data for verifications at `at`. Refuses a validation time before
    /// the newest signed trust data seen (the clock guard).
    pub fn load(store: &Store, at: Timestamp) -> Result<Self, VerifierError> {
        store.check_clock(at)?;
        let loaded = store.bundle()?;
        let trust = TrustView {
            state: loaded
                .as_ref()
                .map_or(propusk_trust_list::TrustState::Missing, |(b, _)| {
                    b.state(at)
                }),
            age_s: loaded.as_ref().map(|(_, m)| at.unix() - m.issued_at),
        };
        Ok(Session {
            bundle: loaded.map(|(b, _)| b),
            trust,
            at,
        })
    }

    /// The trust data's state and age.
    pub fn trust(&self) -> TrustView {
        self.trust
    }

    /// The report for an input that could not be read at all (an image without a readable
    /// code).
    pub fn unreadable(&self, reason: &'static str, detail: impl Into<String>) -> Report {
        Report::unreadable(reason, detail, self.trust.state)
    }

    /// Verifies credentials shown together, offline. They must belong to one person: when two
    /// verified credentials disagree on the holder (Latin names or date of birth), each of them
    /// that would be valid is invalid with `holder_mismatch`.
    pub fn verify(&self, inputs: &[String]) -> Vec<Report> {
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let mut reports = check_many(self.bundle.as_ref(), &refs, self.at);
        let person = |r: &Report| {
            r.credential.as_ref().map(|c| {
                let h = &c.holder;
                let name = |n: Option<&propusk_spec::Name>| n.map(|n| n.latin().to_owned());
                (
                    h.family_name.latin().to_owned(),
                    name(h.given_name.as_ref()),
                    name(h.patronymic.as_ref()),
                    h.birth_date,
                )
            })
        };
        let people: Vec<_> = reports.iter().filter_map(person).collect();
        if people.windows(2).any(|w| w[0] != w[1]) {
            for r in reports
                .iter_mut()
                .filter(|r| r.credential.is_some() && r.verdict == Verdict::Valid)
            {
                r.verdict = Verdict::Invalid;
                r.reason = Some("holder_mismatch");
                r.detail = Some("the credentials shown together belong to different people".into());
            }
        }
        reports
    }
}

/// Verifies credentials shown together at `at` (see [`Session::verify`]).
pub fn verify_all(
    store: &Store,
    inputs: &[String],
    at: Timestamp,
) -> Result<Vec<Report>, VerifierError> {
    Ok(Session::load(store, at)?.verify(inputs))
}

/// The exit code for a set of verdicts: 0 all valid, 1 any invalid, 2 otherwise any unknown.
pub fn exit_code<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> u8 {
    match verdicts.into_iter().max() {
        Some(Verdict::Invalid) => 1,
        Some(Verdict::Unknown) => 2,
        _ => 0,
    }
}
