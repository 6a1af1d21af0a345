//! The verifier's error type.

use std::path::PathBuf;

use propusk_trust_list::TrustError;
use thiserror::Error;

/// Why a verifier operation failed.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum VerifierError {
    /// `--store` has not been set up with `propusk verifier init`.
    #[error("no verifier store in {0}: run `propusk verifier init` first")]
    NotInitialised(PathBuf),
    /// The store is pinned to another root key.
    #[error("this store is pinned to another root key; use a new --store for another issuer")]
    OtherRoot,
    /// A file could not be read or written.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The trust data was refused (signature, rollback, jurisdiction, ...).
    #[error("trust data refused: {0}")]
    Trust(#[from] TrustError),
    /// The bundle is not the one the index names.
    #[error("trust data refused: the bundle is not the one its index names")]
    IndexMismatch,
    /// The validation time is before the newest signed data seen.
    #[error(
        "the validation time {at} is before the newest signed trust data this verifier has seen \
         ({newest}): is the device clock set back?"
    )]
    ClockBehind {
        /// The validation time (Unix seconds).
        at: i64,
        /// The newest signed time seen (Unix seconds).
        newest: i64,
    },
    /// The issuer's server could not be reached, or answered with an error.
    #[error("network: {0}")]
    Network(String),
    /// Something in the store is not what was written.
    #[error("the verifier store is damaged: {0}")]
    Corrupt(&'static str),
    /// SQLite failed.
    #[error("verifier store: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl From<propusk_trust_list::DirError> for VerifierError {
    fn from(e: propusk_trust_list::DirError) -> Self {
        match e {
            propusk_trust_list::DirError::Trust(t) => VerifierError::Trust(t),
            propusk_trust_list::DirError::Io { path, source } => VerifierError::Io { path, source },
        }
    }
}
