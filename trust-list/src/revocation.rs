//! The revocation set: withdrawn credentials as 64-bit hashes of their ids, partitioned by the
//! month in which the credentials expire, each partition a sorted set coded with Golomb–Rice
//! codes; plus withdrawn keys in bulk ("everything key K signed before T").
//!
//! Design (see the crate docs for the figures):
//! - A credential id is 96 random bits, so a list of ids would let anyone holding it look
//!   credentials up on the portal; the set holds `SHA-256("propusk/revocation/v1" ‖ id)`
//!   truncated to 64 bits instead.
//! - Exactness: 64-bit hashes make the set exact for every practical purpose — at 10 million
//!   entries a credential that is not revoked collides with one that is with probability
//!   n / 2⁶⁴ ≈ 5 × 10⁻¹³ per lookup. A hit is reported as `revoked` on that basis; the figure
//!   is stated here and in the verifier's documentation.
//! - Size: the gaps between sorted hashes are Rice-coded with parameter
//!   k = ⌊log₂(2⁶⁴ / n)⌋, about k + 2 bits per entry, within 2 % of the information-theoretic
//!   bound log₂ C(2⁶⁴, n) / n; a block index every 128 entries (128 bits) adds 1 bit.
//! - Speed: a lookup binary-searches the block index and decodes at most 128 gaps, a word at a time.
//! - Expiry: a credential is only looked up in the partition of its own expiry month, and a
//!   partition whose month has passed can be dropped whole, since every credential in it has
//!   expired anyway.

use std::collections::BTreeMap;

use propusk_spec::{CredentialId, KeyId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::TrustError;

/// Entries between two block-index entries.
const BLOCK: usize = 128;

/// The revocation hash of a credential id.
pub fn revocation_hash(id: &CredentialId) -> u64 {
    let mut h = Sha256::new();
    h.update(b"propusk/revocation/v1");
    h.update(id.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The partition of a credential: months since January 1970 of its expiry (UTC).
pub fn partition_of(expires_at: Timestamp) -> u32 {
    let days = expires_at.unix().div_euclid(86_400);
    let date = propusk_spec::Date::from_days(days);
    date.map(|d| ((d.year() - 1970) * 12 + i32::from(d.month()) - 1).max(0) as u32)
        .unwrap_or(0)
}

struct BitWriter {
    bytes: Vec<u8>,
    bits: u64,
}

impl BitWriter {
    fn push(&mut self, bit: bool) {
        if self.bits.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 0x80 >> (self.bits % 8);
        }
        self.bits += 1;
    }

    fn push_bits(&mut self, value: u64, n: u8) {
        for i in (0..n).rev() {
            self.push(value >> i & 1 == 1);
        }
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    at: u64,
}

impl BitReader<'_> {
    /// The next bits from `at`, left-aligned in a word: at least 57 of them are real (zeros past
    /// the end).
    fn peek(&self) -> u64 {
        let byte = (self.at / 8) as usize;
        let mut word = [0u8; 8];
        if let Some(rest) = self.bytes.get(byte..) {
            let n = rest.len().min(8);
            word[..n].copy_from_slice(&rest[..n]);
        }
        u64::from_be_bytes(word) << (self.at % 8)
    }

    fn remaining(&self) -> u64 {
        (self.bytes.len() as u64 * 8).saturating_sub(self.at)
    }

    /// `n` bits (n ≤ 56) as a number.
    fn bits(&mut self, n: u8) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        if u64::from(n) > self.remaining() {
            return None;
        }
        let v = self.peek() >> (64 - u32::from(n));
        self.at += u64::from(n);
        Some(v)
    }

    /// One Rice-coded gap: a unary quotient (ones closed by a zero), then `k` bits.
    fn gap(&mut self, k: u8) -> Option<u64> {
        if k > 64 {
            return None;
        }
        let mut q = 0u64;
        loop {
            let ones = u64::from((!self.peek()).leading_zeros()).min(56);
            if ones > self.remaining() {
                return None;
            }
            q += ones;
            self.at += ones;
            if ones < 56 {
                break;
            }
            if q > 1 << 20 {
                return None;
            }
        }
        if self.remaining() == 0 {
            return None;
        }
        self.at += 1; // the closing zero
        let low = if k > 56 {
            let high = self.bits(k - 32)?;
            high << 32 | self.bits(32)?
        } else {
            self.bits(k)?
        };
        q.checked_shl(u32::from(k))?.checked_add(low)
    }
}

/// The coded data of a partition is inconsistent (it was not made by [`Partition::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorruptPartition;

/// One partition: a sorted set of 64-bit hashes, Rice-coded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// Entries.
    pub count: u64,
    /// The Rice parameter.
    pub k: u8,
    /// The coded gaps.
    #[serde(with = "serde_bytes")]
    pub bits: Vec<u8>,
    /// For every block of 128 entries: the value before the block (0 for the first) and the bit
    /// offset where the block starts.
    pub index: Vec<(u64, u64)>,
}

impl Partition {
    /// Codes a set of hashes (sorted and deduplicated here).
    pub fn new(mut hashes: Vec<u64>) -> Self {
        hashes.sort_unstable();
        hashes.dedup();
        let n = hashes.len() as u64;
        let k = u64::MAX
            .checked_div(n)
            .map_or(0, |ratio| (63 - ratio.leading_zeros()) as u8);
        let mut w = BitWriter {
            bytes: Vec::with_capacity(hashes.len() * (usize::from(k) + 2) / 8 + 1),
            bits: 0,
        };
        let mut index = Vec::with_capacity(hashes.len() / BLOCK + 1);
        let mut prev = 0u64;
        for (i, &h) in hashes.iter().enumerate() {
            if i % BLOCK == 0 {
                index.push((prev, w.bits));
            }
            let gap = h - prev;
            for _ in 0..gap >> k {
                w.push(true);
            }
            w.push(false);
            w.push_bits(gap & ((1u64 << k) - 1), k);
            prev = h;
        }
        Partition {
            count: n,
            k,
            bits: w.bytes,
            index,
        }
    }

    /// Whether the hash is in the set. `Err` when the coded data is inconsistent.
    pub fn contains(&self, hash: u64) -> Result<bool, CorruptPartition> {
        if self.count == 0 {
            return Ok(false);
        }
        // The block whose range (prev, next prev] may hold the hash.
        let block = self
            .index
            .partition_point(|(prev, _)| *prev < hash)
            .saturating_sub(1);
        let (mut value, offset) = *self.index.get(block).ok_or(CorruptPartition)?;
        let mut r = BitReader {
            bytes: &self.bits,
            at: offset,
        };
        let remaining = self.count - (block * BLOCK) as u64;
        for _ in 0..remaining.min(BLOCK as u64) {
            value = value
                .checked_add(r.gap(self.k).ok_or(CorruptPartition)?)
                .ok_or(CorruptPartition)?;
            if value >= hash {
                return Ok(value == hash);
            }
        }
        Ok(false)
    }

    /// All hashes, in order (for merging and tests).
    pub fn hashes(&self) -> Result<Vec<u64>, CorruptPartition> {
        let mut r = BitReader {
            bytes: &self.bits,
            at: 0,
        };
        let mut value = 0u64;
        // Every entry takes at least one bit: a partition claiming more entries than it has bits
        // is corrupt (and must not make us reserve memory for them).
        if self.count > self.bits.len() as u64 * 8 {
            return Err(CorruptPartition);
        }
        let mut out =
            Vec::with_capacity(usize::try_from(self.count).map_err(|_| CorruptPartition)?);
        for _ in 0..self.count {
            value = value
                .checked_add(r.gap(self.k).ok_or(CorruptPartition)?)
                .ok_or(CorruptPartition)?;
            out.push(value);
        }
        Ok(out)
    }

    /// Size in bits of the coded set and its index.
    pub fn size_bits(&self) -> u64 {
        self.bits.len() as u64 * 8 + self.index.len() as u64 * 128
    }
}

/// "Everything key `key_id` signed before `before`" is withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRevocation {
    /// The key.
    #[serde(with = "serde_bytes")]
    pub key_id: Vec<u8>,
    /// Credentials issued before this instant (Unix seconds) are withdrawn.
    pub before: i64,
}

/// The whole revocation set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationSet {
    /// Partitions by expiry month (months since January 1970).
    pub partitions: BTreeMap<u32, Partition>,
    /// Bulk withdrawals by key.
    pub bulk: Vec<BulkRevocation>,
}

/// Why a credential counts as withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// The credential itself was revoked.
    Credential,
    /// Everything its key signed before some time was withdrawn.
    Key,
}

impl RevocationSet {
    /// Builds the set from revoked credentials (id and expiry) and bulk withdrawals, leaving out
    /// credentials that expired before `now`'s month.
    pub fn build(
        revoked: impl IntoIterator<Item = (CredentialId, Timestamp)>,
        bulk: Vec<BulkRevocation>,
        now: Timestamp,
    ) -> Self {
        let current = partition_of(now);
        let mut by_month: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for (id, exp) in revoked {
            let month = partition_of(exp);
            if month >= current {
                by_month
                    .entry(month)
                    .or_default()
                    .push(revocation_hash(&id));
            }
        }
        let partitions = by_month
            .into_iter()
            .map(|(m, h)| (m, Partition::new(h)))
            .collect();
        RevocationSet { partitions, bulk }
    }

    /// Whether a credential (its id, expiry, key and issued-at) is withdrawn.
    pub fn check(
        &self,
        id: &CredentialId,
        expires_at: Timestamp,
        key_id: &KeyId,
        issued_at: Timestamp,
    ) -> Result<Option<Revoked>, TrustError> {
        let month = partition_of(expires_at);
        let partition = self.partitions.get(&month);
        let hit = partition
            .map(|p| p.contains(revocation_hash(id)))
            .transpose();
        if hit.map_err(|_| TrustError::Revocation(month))? == Some(true) {
            return Ok(Some(Revoked::Credential));
        }
        let bulk = self
            .bulk
            .iter()
            .any(|b| b.key_id == key_id.as_bytes() && issued_at.unix() < b.before);
        Ok(bulk.then_some(Revoked::Key))
    }

    /// How many withdrawals of this set that still matter at `now` (partitions from `now`'s
    /// month on, and bulk withdrawals) `newer` has lost: zero when `newer` only grew or dropped
    /// what expired.
    pub fn lost_in(&self, newer: &RevocationSet, now: Timestamp) -> Result<u64, TrustError> {
        let current = partition_of(now);
        let mut lost = 0;
        for (&month, partition) in self.partitions.range(current..) {
            let hashes = partition
                .hashes()
                .map_err(|_| TrustError::Revocation(month))?;
            let kept = match newer.partitions.get(&month) {
                Some(p) => p.hashes().map_err(|_| TrustError::Revocation(month))?,
                None => Vec::new(),
            };
            lost += hashes
                .iter()
                .filter(|h| kept.binary_search(h).is_err())
                .count() as u64;
        }
        lost += self.bulk.iter().filter(|b| !newer.bulk.contains(b)).count() as u64;
        Ok(lost)
    }

    /// Entries over all partitions.
    pub fn len(&self) -> u64 {
        self.partitions.values().map(|p| p.count).sum()
    }

    /// Whether no credential is revoked one by one.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64) -> impl Iterator<Item = u64> {
        let mut s = seed;
        std::iter::repeat_with(move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s ^ (s >> 29)
        })
    }

    #[test]
    fn partitions_hold_exactly_their_members() {
        for n in [0usize, 1, 2, 255, 256, 257, 5000] {
            let members: Vec<u64> = lcg(n as u64).take(n).collect();
            let p = Partition::new(members.clone());
            for m in &members {
                assert_eq!(p.contains(*m), Ok(true), "n={n} {m}");
            }
            let mut sorted = members.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(p.hashes(), Ok(sorted));
            for other in lcg(n as u64 + 1000).take(2000) {
                assert_eq!(p.contains(other), Ok(members.contains(&other)), "n={n}");
            }
        }
        let edges = Partition::new(vec![0, 1, u64::MAX]);
        assert_eq!(edges.contains(0), Ok(true));
        assert_eq!(edges.contains(u64::MAX), Ok(true));
        assert_eq!(edges.contains(2), Ok(false));
    }

    #[test]
    fn size_is_within_the_bound() {
        let n = 200_000usize;
        let p = Partition::new(lcg(7).take(n).collect());
        let per_entry = p.size_bits() as f64 / n as f64;
        // log2 C(2^64, n) / n ≈ 64 − log2 n + log2 e (n ≪ 2^64).
        let bound = 64.0 - (n as f64).log2() + std::f64::consts::LOG2_E;
        assert!(
            per_entry <= 1.15 * bound,
            "{per_entry:.2} bits per entry, bound {bound:.2}"
        );
    }

    #[test]
    fn corrupt_partitions_are_errors_not_panics() {
        let mut p = Partition::new(lcg(3).take(1000).collect());
        p.bits.truncate(10);
        assert!(p.hashes().is_err());
        let probe = lcg(3).nth(500).unwrap_or(0);
        assert!(p.contains(probe).is_err() || p.contains(probe) == Ok(false));
        p.index.clear();
        assert!(p.contains(1).is_err());
    }

    #[test]
    fn a_partition_that_claims_more_than_it_holds_is_corrupt_not_an_allocation() {
        let mut p = Partition::new(lcg(5).take(100).collect());
        p.count = 1 << 40;
        assert_eq!(p.hashes(), Err(CorruptPartition));
        // A Rice parameter wider than a word is no coding at all.
        let mut wide = Partition::new(lcg(7).take(100).collect());
        wide.k = 200;
        wide.bits = vec![0x55; 64];
        assert_eq!(wide.hashes(), Err(CorruptPartition));
        assert!(wide.contains(12345).is_err() || wide.contains(12345) == Ok(false));
    }
}
