//! The trust-data error type.

use thiserror::Error;

/// Why trust data was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustError {
    /// The bundle bytes are not a signed bundle (or are larger than the cap).
    #[error("not a signed trust bundle: {0}")]
    Malformed(&'static str),
    /// The bundle is signed by another key than the pinned root key.
    #[error("the bundle is signed by key {0}, not by the pinned root key")]
    WrongRoot(String),
    /// The bundle's signature does not verify with the pinned root key.
    #[error("the bundle's signature does not verify with the pinned root key")]
    BadSignature,
    /// A key in the trust list is malformed (position in the list).
    #[error("key {0} of the trust list is malformed")]
    MalformedKey(usize),
    /// Two keys share one key id.
    #[error("two keys of the trust list share the key id {0}")]
    KeyIdCollision(String),
    /// The rule set names a time zone that does not exist.
    #[error("unknown time zone {0:?} in the rule set")]
    TimeZone(String),
    /// The rule set is malformed.
    #[error("rule set: {0}")]
    Rules(String),
    /// The bundle is for another jurisdiction than the verifier's.
    #[error("the bundle is for jurisdiction {found}, the verifier was set up for {expected}")]
    Jurisdiction {
        /// The verifier's jurisdiction.
        expected: String,
        /// The bundle's.
        found: String,
    },
    /// The bundle is not newer than the one in force (rollback or replay).
    #[error("bundle sequence {found} is not newer than {current}, the one in force")]
    Rollback {
        /// The sequence in force.
        current: u64,
        /// The offered sequence.
        found: u64,
    },
    /// A revocation partition is malformed.
    #[error("revocation partition {0} is malformed")]
    Revocation(u32),
}
