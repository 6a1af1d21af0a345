//! EU trust data carried in the bundle, as an EU verifier has it: value sets, business rules
//! (per country, as published), and revocation lists (per signer and hash type). The bundle
//! holds them as data; reading them (CertLogic, hashes of a certificate) is the EU engine's.

use serde::{Deserialize, Serialize};

/// Length of an EU revocation hash: the first 128 bits of SHA-256.
pub const EU_HASH_LEN: usize = 16;

/// The EU trust data an issuer imported and publishes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EuTrustData {
    /// EU value sets, each its JSON as published (named by its `valueSetId`).
    #[serde(default)]
    pub value_sets: Vec<EuDocument>,
    /// EU business rules, each country's a JSON array of rules (named by the country).
    #[serde(default)]
    pub rules: Vec<EuDocument>,
    /// EU revocation lists, one per signer and hash type.
    #[serde(default)]
    pub revocations: Vec<EuRevocationList>,
}

/// A JSON document of EU trust data, by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EuDocument {
    /// Its name: a value set's id, a country's code.
    pub name: String,
    /// The JSON.
    pub json: String,
}

/// The revoked certificates of one EU signer, by one form of hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EuRevocationList {
    /// The country whose gateway batch it came from.
    pub country: String,
    /// The signer's key id (8 bytes).
    #[serde(with = "serde_bytes")]
    pub kid: Vec<u8>,
    /// `UCI`, `COUNTRYCODEUCI` or `SIGNATURE`, as the gateway names the form.
    pub hash_type: String,
    /// When the last of its entries may be dropped (Unix seconds).
    pub expires: i64,
    /// The hashes, each [`EU_HASH_LEN`] bytes, sorted, without repeats, one after another.
    #[serde(with = "serde_bytes")]
    pub hashes: Vec<u8>,
}

impl EuRevocationList {
    /// Builds a list from its hashes (sorted and deduplicated here).
    pub fn new(
        country: &str,
        kid: &[u8],
        hash_type: &str,
        expires: i64,
        mut hashes: Vec<[u8; EU_HASH_LEN]>,
    ) -> Self {
        hashes.sort_unstable();
        hashes.dedup();
        EuRevocationList {
            country: country.to_owned(),
            kid: kid.to_vec(),
            hash_type: hash_type.to_owned(),
            expires,
            hashes: hashes.concat(),
        }
    }

    /// How many hashes it holds.
    pub fn len(&self) -> usize {
        self.hashes.len() / EU_HASH_LEN
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether it lists this hash (a binary search over the sorted hashes).
    pub fn contains(&self, hash: &[u8; EU_HASH_LEN]) -> bool {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let at = &self.hashes[mid * EU_HASH_LEN..(mid + 1) * EU_HASH_LEN];
            match at.cmp(hash.as_slice()) {
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
            }
        }
        false
    }
}

impl EuTrustData {
    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.value_sets.is_empty() && self.rules.is_empty() && self.revocations.is_empty()
    }

    /// The list that revokes a certificate of the signer `kid` with these hashes (each form's,
    /// by the gateway's name for it), if one does.
    pub fn revoked_by(
        &self,
        kid: &[u8],
        hashes: &[(&str, [u8; EU_HASH_LEN])],
    ) -> Option<&EuRevocationList> {
        self.revocations.iter().find(|list| {
            list.kid == kid
                && hashes
                    .iter()
                    .any(|(form, hash)| list.hash_type == *form && list.contains(hash))
        })
    }

    /// The JSON of a country's business rules, if the data has them.
    pub fn rules_of(&self, country: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(country))
            .map(|d| d.json.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_finds_exactly_its_hashes() {
        let hashes: Vec<[u8; 16]> = (0u8..50).map(|i| [i.wrapping_mul(37); 16]).collect();
        let list = EuRevocationList::new("DE", &[1; 8], "UCI", 0, hashes.clone());
        assert_eq!(list.len(), 50);
        for h in &hashes {
            assert!(list.contains(h));
        }
        assert!(!list.contains(&[255; 16]));
        let data = EuTrustData {
            revocations: vec![list],
            ..EuTrustData::default()
        };
        assert!(data.revoked_by(&[1; 8], &[("UCI", hashes[3])]).is_some());
        // Another form, or another signer, with the same bytes: not revoked.
        assert!(
            data.revoked_by(&[1; 8], &[("SIGNATURE", hashes[3])])
                .is_none()
        );
        assert!(data.revoked_by(&[2; 8], &[("UCI", hashes[3])]).is_none());
    }
}
