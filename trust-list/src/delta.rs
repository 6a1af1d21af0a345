//! Deltas: what changed from one bundle to the next, so that a verifier on a slow link pays for
//! the change and not for the whole revocation set.
//!
//! A delta carries the new keys and rules whole (they are small), the revocation partitions'
//! *added* hashes (Rice-coded like a partition), the month before which partitions are dropped
//! (their credentials have all expired), and the SHA-256 of the full content it leads to. A
//! verifier applies it to the content in force and checks that digest, so a delta applied to
//! the wrong base, or a mixed-up set of files, is refused rather than half-applied.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use propusk_spec::KeyId;
use serde::{Deserialize, Serialize};

use crate::bundle::{BundleContent, cbor, open_document, sha256_hex, sign_document};
use crate::error::TrustError;
use crate::keys::TrustedKey;
use crate::revocation::{BulkRevocation, Partition, RevocationSet};
use crate::rules::RuleSet;

/// The change from bundle `from` to bundle `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// The jurisdiction.
    pub jurisdiction: String,
    /// The sequence this delta applies to.
    pub from: u64,
    /// The sequence it leads to.
    pub to: u64,
    /// The new bundle's issued-at.
    pub issued_at: i64,
    /// The new bundle's soft expiry.
    pub soft_expiry: i64,
    /// The new bundle's hard expiry.
    pub hard_expiry: i64,
    /// The new trust list, whole.
    pub keys: Vec<TrustedKey>,
    /// The new rule set, whole.
    pub rules: RuleSet,
    /// The new bulk revocations, whole.
    pub bulk: Vec<BulkRevocation>,
    /// The new EU signer certificates, whole.
    #[serde(default)]
    pub eu_signers: Vec<crate::bundle::EuSigner>,
    /// The new EU trust data (value sets, rules, revocation lists), whole.
    #[serde(default, skip_serializing_if = "crate::eu::EuTrustData::is_empty")]
    pub eu: crate::eu::EuTrustData,
    /// Hashes added, by partition month.
    pub added: BTreeMap<u32, Partition>,
    /// Partitions of months before this one are dropped.
    pub drop_before: u32,
    /// SHA-256 (hex) of the deterministic CBOR of the resulting [`BundleContent`].
    pub result_sha256: String,
}

/// SHA-256 (hex) of a bundle content's CBOR encoding.
pub fn content_digest(content: &BundleContent) -> Result<String, TrustError> {
    Ok(sha256_hex(&cbor(content)?))
}

impl Delta {
    /// The delta that turns `old` into `new`. Revocations only grow, except by whole partitions
    /// dropped at the front; a hash that left a live partition makes the delta impossible, and
    /// `None` says to publish a full bundle only.
    pub fn between(old: &BundleContent, new: &BundleContent) -> Result<Option<Self>, TrustError> {
        if old.jurisdiction != new.jurisdiction || new.sequence <= old.sequence {
            return Ok(None);
        }
        let drop_before = new
            .revocations
            .partitions
            .keys()
            .next()
            .copied()
            .unwrap_or(u32::MAX);
        let mut added = BTreeMap::new();
        for (month, partition) in &new.revocations.partitions {
            let now = partition
                .hashes()
                .map_err(|_| TrustError::Revocation(*month))?;
            let before = match old.revocations.partitions.get(month) {
                Some(p) => p.hashes().map_err(|_| TrustError::Revocation(*month))?,
                None => Vec::new(),
            };
            if before.iter().any(|h| now.binary_search(h).is_err()) {
                return Ok(None);
            }
            let fresh: Vec<u64> = now
                .into_iter()
                .filter(|h| before.binary_search(h).is_err())
                .collect();
            if !fresh.is_empty() {
                added.insert(*month, Partition::new(fresh));
            }
        }
        if old
            .revocations
            .partitions
            .keys()
            .any(|m| *m >= drop_before && !new.revocations.partitions.contains_key(m))
        {
            return Ok(None);
        }
        Ok(Some(Delta {
            jurisdiction: new.jurisdiction.clone(),
            from: old.sequence,
            to: new.sequence,
            issued_at: new.issued_at,
            soft_expiry: new.soft_expiry,
            hard_expiry: new.hard_expiry,
            keys: new.keys.clone(),
            rules: new.rules.clone(),
            bulk: new.revocations.bulk.clone(),
            eu_signers: new.eu_signers.clone(),
            eu: new.eu.clone(),
            added,
            drop_before,
            result_sha256: content_digest(new)?,
        }))
    }

    /// Applies the delta to the content in force; refused unless it is for that sequence and
    /// jurisdiction and the result has the promised digest.
    pub fn apply(&self, old: &BundleContent) -> Result<BundleContent, TrustError> {
        if self.from != old.sequence || self.jurisdiction != old.jurisdiction {
            return Err(TrustError::Malformed("the delta is for another bundle"));
        }
        let mut partitions = BTreeMap::new();
        let months = old
            .revocations
            .partitions
            .keys()
            .chain(self.added.keys())
            .copied()
            .filter(|m| *m >= self.drop_before);
        for month in months.collect::<std::collections::BTreeSet<_>>() {
            let old_partition = old.revocations.partitions.get(&month);
            let partition = match (old_partition, self.added.get(&month)) {
                (Some(p), None) => p.clone(),
                (None, Some(p)) => p.clone(),
                (Some(p), Some(add)) => {
                    let mut hashes = p.hashes().map_err(|_| TrustError::Revocation(month))?;
                    hashes.extend(add.hashes().map_err(|_| TrustError::Revocation(month))?);
                    Partition::new(hashes)
                }
                (None, None) => continue,
            };
            partitions.insert(month, partition);
        }
        let content = BundleContent {
            jurisdiction: old.jurisdiction.clone(),
            sequence: self.to,
            issued_at: self.issued_at,
            soft_expiry: self.soft_expiry,
            hard_expiry: self.hard_expiry,
            keys: self.keys.clone(),
            revocations: RevocationSet {
                partitions,
                bulk: self.bulk.clone(),
            },
            rules: self.rules.clone(),
            eu_signers: self.eu_signers.clone(),
            eu: self.eu.clone(),
        };
        if content_digest(&content)? != self.result_sha256 {
            return Err(TrustError::Malformed(
                "the delta does not lead to the bundle it promises",
            ));
        }
        Ok(content)
    }

    /// Signs the delta with the root key.
    pub fn sign(
        &self,
        root_key_id: &KeyId,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<Vec<u8>, TrustError> {
        sign_document(self, root_key_id, sign)
    }

    /// Checks the root signature and decodes a delta.
    pub fn open(bytes: &[u8], root: &VerifyingKey) -> Result<Self, TrustError> {
        let payload = open_document(bytes, root)?;
        ciborium::de::from_reader_with_recursion_limit(payload.as_slice(), 16)
            .map_err(|_| TrustError::Malformed("delta content"))
    }
}
