//! The issuer: a health authority's key store (root and signing keys, sealed at rest, rotated,
//! retired and revoked with an append-only audit log), issuance that refuses what the rule set
//! would reject, revocation, and publishing the signed trust bundle as static files.
//!
//! ```
//! use propusk_issuer::{Issuer, Request};
//! use propusk_spec::Timestamp;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("propusk-issuer-doc-{}", std::process::id()));
//! let now: Timestamp = "2021-06-02T09:00:00Z".parse()?;
//! let mut issuer = Issuer::init(&dir, "Минздрав России", "RU", Some("https://portal.example"), "Europe/Moscow", "a long passphrase", now)?;
//! let request = Request::from_json(r#"{"type": "vaccination",
//!   "holder": {"family_name": "Иванов", "given_name": "Иван", "birth_date": "1980-05-12",
//!              "document": {"kind": "passport", "number": "4510 123789"}},
//!   "vaccination": {"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "2021-06-01",
//!                   "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}"#)?;
//! let issued = issuer.issue(&request, now)?;
//! assert!(issued.credential.starts_with("PR2:"));
//! assert_eq!(issued.expires_at.to_string(), "2022-05-31T21:00:00Z"); // 365 days, Moscow midnight
//!
//! // A first dose of a two-dose course is refused, with the reason.
//! let first = Request::from_json(&r#"{"type": "vaccination",
//!   "holder": {"family_name": "Иванов", "birth_date": "1980", "document": {"kind": "foreign", "number": "X1"}},
//!   "vaccination": {"product": "Sputnik-V", "dose": 1, "doses": 2, "date": "2021-06-01",
//!                   "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}"#)?;
//! assert!(issuer.issue(&first, now).unwrap_err().to_string().contains("course not complete"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod app;
mod audit;
mod batch;
mod custody;
mod error;
mod eu;
mod eu_import;
mod holders;
mod issuance;
mod issued_csv;
mod issuer;
mod keys;
mod proof;
mod publish;
mod records;
mod reissue;
mod rules;
mod secret;
pub mod server;
mod split;
pub mod store;
mod token;

pub use batch::{BatchOutput, BatchReport, CHUNK, RowError};
pub use error::{EuError, IssuerError, KeyError, Refusal, StoreError, TokenError};
pub use eu::{
    CA_RENEWAL_S, CSCA_LIFETIME_S, DSC_LIFETIME_S, EU_REVOCATIONS_FILE, EuKeyInfo, MIN_DSC_LIFE_S,
};
pub use eu_import::TrustListImport;
pub use issued_csv::image_name;
pub use issuer::{
    Database, Issuer, MIN_PASSPHRASE_CHARS, ROOT_PUB_FILE, SIGNING_KEY_LIFETIME_S, TOKEN_FILE,
};
pub use proof::Vouching;
pub use propusk_input::{
    CSV_COLUMNS, InputError, Registry, Request, RotateRequest, Row, read_csv, read_jsonl,
    read_registry, registry,
};
pub use publish::{DELTAS_KEPT, HARD_EXPIRY_S, REPUBLISH_AFTER_S, RotationAdvice, SOFT_EXPIRY_S};
pub use records::{
    AuditEntry, AuditOp, CredentialStatus, EuDataKind, Issued, KeyInfo, KeyRole, Links, Published,
};
pub use reissue::{Reissue, ReissueReport};
pub use rules::{RulesFile, RulesVersion, RulesView};
pub use secret::{KDF_MEMORY_KIB, KDF_PASSES, SecretKey, Vault};
pub use split::PUBLISHED_FILE;
pub use store::sqlite::STORE_FILE;
pub use token::{PKCS11_FILE, Token, TokenPlace};
