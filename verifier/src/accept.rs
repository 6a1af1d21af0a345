//! Whether offered trust data may be taken into force: the checks every verifier makes before it
//! keeps a bundle or a delta, whether it keeps them in SQLite (the command line) or in the
//! browser's storage (the web app, through the same code compiled to WebAssembly).

use ed25519_dalek::VerifyingKey;
use propusk_spec::Timestamp;
use propusk_trust_list::{
    Bundle, BundleContent, Delta, Index, IndexDelta, TrustError, content_digest, sha256_hex,
};

use crate::error::VerifierError;

/// The clock skew allowed between an issuer and a verifier, in seconds: trust data signed up to
/// this far in the verifier's future is taken, and a validation time up to this far before the
/// newest signed data is not taken for a clock set back.
pub const CLOCK_SKEW_S: i64 = 10 * 60;

/// Refuses trust data signed further in the future than the allowed skew (the issuer's clock, or
/// this device's, is wrong): once taken, it would stop every check until the clock catches up.
pub fn not_from_the_future(issued_at: i64, now: Timestamp) -> Result<(), VerifierError> {
    if issued_at > now.unix() + CLOCK_SKEW_S {
        return Err(VerifierError::FromTheFuture {
            issued_at,
            now: now.unix(),
            skew_s: CLOCK_SKEW_S,
        });
    }
    Ok(())
}

/// Refuses a validation time earlier than `newest`, the signed time of the trust data in force
/// (beyond the allowed skew): someone set the device clock back.
pub fn clock_guard(newest: Option<i64>, at: Timestamp) -> Result<(), VerifierError> {
    match newest {
        Some(newest) if at.unix() + CLOCK_SKEW_S < newest => Err(VerifierError::ClockBehind {
            at: at.unix(),
            newest,
        }),
        _ => Ok(()),
    }
}

/// The trust data in force, as far as taking newer data needs it.
#[derive(Clone, Copy, Debug)]
pub struct InForce<'a> {
    /// Its sequence.
    pub sequence: u64,
    /// Its jurisdiction.
    pub jurisdiction: &'a str,
    /// [`content_digest`] of its content.
    pub digest: &'a str,
}

/// What an offered full bundle comes to.
#[derive(Debug)]
pub enum Offered {
    /// It is the bundle in force.
    UpToDate(u64),
    /// It is newer: to be taken into force.
    Newer {
        /// The bundle, verified against the root.
        bundle: Box<Bundle>,
        /// Its content's digest.
        digest: String,
        /// The newest signed time among it and its index (for the clock guard).
        newest: i64,
    },
}

/// The delta `index` offers from the sequence in force, if any.
pub fn delta_from(index: &Index, current: Option<u64>) -> Option<&IndexDelta> {
    current.and_then(|c| index.deltas.iter().find(|d| d.from == c))
}

/// Checks a full bundle offered in place of the trust data in force: it must verify with the
/// pinned `root`, match the `index` that names it (hash, sequence, jurisdiction), be for the
/// jurisdiction in force, newer than it (or the same), and not signed in the future.
pub fn offered_bundle(
    bytes: &[u8],
    index: Option<&Index>,
    root: &VerifyingKey,
    current: Option<InForce<'_>>,
    now: Timestamp,
) -> Result<Offered, VerifierError> {
    if index.is_some_and(|i| i.full_sha256 != sha256_hex(bytes)) {
        return Err(VerifierError::IndexMismatch);
    }
    let bundle = Bundle::open(bytes, root)?;
    let content = bundle.content();
    if index
        .is_some_and(|i| i.sequence != content.sequence || i.jurisdiction != content.jurisdiction)
    {
        return Err(VerifierError::IndexMismatch);
    }
    let digest = content_digest(content)?;
    if let Some(current) = current {
        if current.jurisdiction != content.jurisdiction {
            return Err(TrustError::Jurisdiction {
                expected: current.jurisdiction.to_owned(),
                found: content.jurisdiction.clone(),
            }
            .into());
        }
        if current.sequence == content.sequence && current.digest == digest {
            return Ok(Offered::UpToDate(current.sequence));
        }
        if content.sequence <= current.sequence {
            return Err(TrustError::Rollback {
                current: current.sequence,
                found: content.sequence,
            }
            .into());
        }
    }
    let newest = index.map_or(content.issued_at, |i| i.issued_at.max(content.issued_at));
    not_from_the_future(newest, now)?;
    Ok(Offered::Newer {
        bundle: Box::new(bundle),
        digest,
        newest,
    })
}

/// A delta checked and applied to the content in force.
#[derive(Debug)]
pub struct DeltaTaken {
    /// The delta, verified against the root.
    pub delta: Delta,
    /// The content it leads to.
    pub content: BundleContent,
    /// The newest signed time among it and its index (for the clock guard).
    pub newest: i64,
}

/// Checks a delta offered from the content in force: it must verify with the pinned `root`,
/// lead where `index` says, not be signed in the future, and apply to `current` into content
/// that makes a valid bundle.
pub fn offered_delta(
    bytes: &[u8],
    index: &Index,
    root: &VerifyingKey,
    current: &BundleContent,
    now: Timestamp,
) -> Result<DeltaTaken, VerifierError> {
    let delta = Delta::open(bytes, root)?;
    if delta.to != index.sequence || delta.jurisdiction != index.jurisdiction {
        return Err(VerifierError::IndexMismatch);
    }
    let newest = index.issued_at.max(delta.issued_at);
    not_from_the_future(newest, now)?;
    let content = delta.apply(current)?;
    Bundle::from_content(content.clone())?;
    Ok(DeltaTaken {
        delta,
        content,
        newest,
    })
}

/// The trust data in force rebuilt from what was kept: the full bundle and the deltas taken
/// since, in order. It must come to the `sequence` and `digest` recorded when it was taken: a
/// delta lost or deleted would otherwise roll revocations back while the store still says
/// "fresh".
pub fn rebuild<'a>(
    bundle: &[u8],
    deltas: impl IntoIterator<Item = &'a [u8]>,
    root: &VerifyingKey,
    sequence: u64,
    digest: &str,
) -> Result<BundleContent, VerifierError> {
    let corrupt = |_| VerifierError::Corrupt("the stored bundle");
    let mut content = Bundle::open(bundle, root)
        .map_err(corrupt)?
        .content()
        .clone();
    for delta in deltas {
        let delta = Delta::open(delta, root).map_err(corrupt)?;
        content = delta.apply(&content).map_err(corrupt)?;
    }
    if content.sequence != sequence || content_digest(&content)? != digest {
        return Err(VerifierError::Corrupt(
            "the stored deltas do not rebuild the trust data in force",
        ));
    }
    Ok(content)
}
