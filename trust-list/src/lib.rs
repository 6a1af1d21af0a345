//! Trust data for offline verification: the trust list (issuer keys a verifier accepts), the
//! revocation set, the rule set, the signed bundle that carries all three, and the engine that
//! judges a credential against them.
//!
//! A round trip — sign a bundle, open it with the pinned root key, judge credentials:
//!
//! ```
//! use ed25519_dalek::{Signer, SigningKey};
//! use propusk_spec::{CredentialId, CredentialType, Timestamp, encode, examples};
//! use propusk_trust_list::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//!
//! let root = SigningKey::from_bytes(&[1; 32]);
//! let signer = SigningKey::from_bytes(&[2; 32]);
//! let kid = key_id_of(&signer.verifying_key());
//! let key = TrustedKey {
//!     key_id: kid.as_bytes().to_vec(),
//!     public_key: signer.verifying_key().as_bytes().to_vec(),
//!     issuer: "Минздрав России".into(),
//!     country: "RU".into(),
//!     not_before: 1_577_836_800, // 2020-01-01
//!     not_after: 1_893_456_000,  // 2030-01-01
//!     types: CredentialType::ALL.to_vec(),
//!     status: KeyStatus::Active,
//! };
//! let credential = examples::credential(CredentialType::Vaccination, CredentialId::from_bytes([9; 12]));
//! let text = encode(&credential, &kid, |d| signer.sign(d).to_bytes())?;
//! let at: Timestamp = "2021-09-01T10:00:00Z".parse()?;
//!
//! let revoked = RevocationSet::build([(CredentialId::from_bytes([8; 12]), credential.expires_at)], vec![], at);
//! let content = BundleContent {
//!     jurisdiction: "RU".into(),
//!     sequence: 1,
//!     issued_at: at.unix() - 3600,
//!     soft_expiry: at.unix() + 86_400,
//!     hard_expiry: at.unix() + 7 * 86_400,
//!     keys: vec![key],
//!     revocations: revoked,
//!     rules: RuleSet::standard("RU", "Europe/Moscow"),
//!     eu_signers: vec![],
//!     eu: Default::default(),
//! };
//! let bytes = sign_bundle(&content, &key_id_of(&root.verifying_key()), |d| root.sign(d).to_bytes())?;
//! let bundle = Bundle::open(&bytes, &root.verifying_key())?;
//!
//! let report = check(Some(&bundle), &text, at);
//! assert_eq!(report.verdict, Verdict::Valid);
//! assert_eq!(report.holder.as_ref().map(|h| h.document.as_str()), Some("45** ***789"));
//!
//! // A year on, the trust data itself is past its hard expiry: the verifier cannot tell.
//! let later: Timestamp = "2022-06-02T10:00:00Z".parse()?;
//! assert_eq!(check(Some(&bundle), &text, later).reason, Some(Reason::TrustDataExpired));
//!
//! // A bundle signed by any other key than the pinned root is refused.
//! let forged = sign_bundle(&content, &key_id_of(&root.verifying_key()), |d| signer.sign(d).to_bytes())?;
//! assert_eq!(Bundle::open(&forged, &root.verifying_key()).err(), Some(TrustError::BadSignature));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod bundle;
mod check;
mod delta;
mod door;
mod error;
mod eu;
mod keys;
mod person;
mod policy;
mod publish;
mod reason;
mod report;
mod revocation;
mod rules;
pub mod words;

pub use bundle::{
    Bundle, BundleContent, EuSigner, Index, IndexDelta, MAX_BUNDLE_LEN, TrustState, key_id_of,
    sha256_hex, sign_bundle, sign_index, signing_key_id_of,
};
pub use check::{
    CheckOutcome, Checks, HolderView, IssuerView, Report, Verdict, check, check_among, check_many,
    check_vouched, judge_by_rules,
};
pub use delta::{Delta, content_digest};
pub use error::TrustError;
pub use eu::{EU_HASH_LEN, EuDocument, EuRevocationList, EuTrustData};
pub use keys::{KeyRefusal, KeyStatus, TrustList, TrustedKey};
pub use person::Person;
pub use policy::{Policy, PolicyEntry};
pub use publish::{
    DirError, INDEX_FILE, Publication, PublishError, Written, format_public_key, parse_public_key,
    read_index, read_named, sign_publication, write_atomically, write_dir, write_publication,
};
pub use reason::{Reason, UnknownReason};
pub use revocation::{
    BulkRevocation, Partition, RevocationSet, Revoked, partition_of, revocation_hash,
};
pub use rules::{Rule, RuleEntry, RuleFailure, RuleOutcome, RuleSet, Rules};
pub use words::{Lang, Locale, UnknownLang};
