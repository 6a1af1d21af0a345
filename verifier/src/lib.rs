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
//!     eu_signers: vec![],
//!     eu: Default::default(),
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

mod accept;
mod describe;
mod error;
mod eu;
mod present;
#[cfg(feature = "store")]
mod queue;
#[cfg(feature = "store")]
mod roots;
mod session;
#[cfg(feature = "store")]
mod status;
#[cfg(feature = "store")]
mod store;
#[cfg(feature = "store")]
mod sync;

pub use accept::{
    CLOCK_SKEW_S, DeltaTaken, InForce, Offered, clock_guard, delta_from, not_from_the_future,
    offered_bundle, offered_delta, rebuild,
};
pub use describe::describe;
pub use error::VerifierError;
pub use eu::{value_sets, verify_eu, verify_eu_with};
pub use present::{
    SyncOutcome, TrustView, detail_lines, fact_lines, freshness_warning, holder_lines, printable,
    render, summary, sync_words, to_json, to_text, verdict_line,
};
pub use propusk_trust_list::{Lang, Locale};
#[cfg(feature = "store")]
pub use queue::{MAX_LINE, QUEUE_BATCH, scanned};
#[cfg(feature = "store")]
pub use roots::{ROOTS_DIR, RootView, Source, TrustedRoot};
#[cfg(feature = "store")]
pub use session::verify_all;
pub use session::{Input, Session, TOGETHER_S, UnknownPolicy};
#[cfg(feature = "store")]
pub use status::{Changes, Status, changes};
#[cfg(feature = "store")]
pub use store::{BundleMeta, STORE_FILE, Store};
#[cfg(feature = "store")]
pub use sync::agent as trust_data_agent;
