//! The verifier's error type.

use std::path::PathBuf;

use propusk_trust_list::TrustError;
use thiserror::Error;

/// A Unix time as RFC 3339 for a message.
/// An instant in words with its zone (UTC: an error does not know the jurisdiction's zone).
fn time(secs: i64) -> String {
    propusk_spec::Timestamp::from_unix(secs).map_or_else(
        || secs.to_string(),
        |t| propusk_trust_list::Locale::utc(propusk_trust_list::Lang::En).time(t),
    )
}

/// Why a verifier operation failed.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum VerifierError {
    /// A file the index named was not found (a newer publication took its place a moment
    /// ago): the index is read again.
    #[error("{0} answered 404")]
    Gone(String),
    /// `--store` has not been set up with `propusk verifier init`.
    #[error("no verifier store in {0}: run `propusk verifier init` first")]
    NotInitialised(PathBuf),
    /// The store is pinned to another root key.
    #[error(
        "this store is pinned to another root key; trust another issuer besides with \
         `propusk verifier trust add`"
    )]
    OtherRoot,
    /// `trust add` with a root the store trusts already (its own, or one added before).
    #[error("the store trusts root key {0} already")]
    AlreadyTrusted(String),
    /// `trust remove` with the store's own root, which it is pinned to.
    #[error("root key {0} is the one this store is pinned to; it cannot be removed")]
    HomeRoot(String),
    /// `trust remove` with a key id the store does not trust, or that names several roots.
    #[error("the store trusts no single added root with key id {0}")]
    NoSuchRoot(String),
    /// An added root's sync failed (the others went on).
    #[error("{name}: {source}")]
    OfRoot {
        /// The root's name and key id.
        name: String,
        /// Why.
        source: Box<VerifierError>,
    },
    /// `sync` without a source for a root that has none remembered.
    #[error("no source to sync from: give --url or --from once, later syncs remember it")]
    NoSource,
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
        "the validation time {} is before the signed trust data in force ({}): is the device \
         clock set back?",
        time(*.at),
        time(*.newest)
    )]
    ClockBehind {
        /// The validation time (Unix seconds).
        at: i64,
        /// The newest signed time seen (Unix seconds).
        newest: i64,
    },
    /// The trust data is signed further in the future than the allowed clock skew.
    #[error(
        "the trust data is signed at {}, after this device's clock ({}) by more than {} minutes: \
         check the clock of this device or of the issuer",
        time(*.issued_at),
        time(*.now),
        .skew_s / 60
    )]
    FromTheFuture {
        /// When it was signed (Unix seconds).
        issued_at: i64,
        /// This device's time (Unix seconds).
        now: i64,
        /// The skew allowed (seconds).
        skew_s: i64,
    },
    /// The issuer's server could not be reached, or answered with an error.
    #[error("network: {0}")]
    Network(String),
    /// Something in the store is not what was written.
    #[error("the verifier store is damaged: {0}")]
    Corrupt(&'static str),
    /// SQLite failed.
    #[cfg(feature = "store")]
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
