//! The signed trust bundle: trust list, revocation set and rule set in one COSE_Sign1, signed by
//! the issuer's root key, with a sequence number and three times (issued, soft and hard expiry).

use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use propusk_spec::{KeyId, Timestamp, hex, to_be_signed};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::TrustError;
use crate::eu::EuTrustData;
use crate::keys::{TrustList, TrustedKey};
use crate::revocation::RevocationSet;
use crate::rules::{RuleSet, Rules};

/// Largest bundle accepted, in bytes (10 million revocations take about 55 MB).
pub const MAX_BUNDLE_LEN: usize = 256 << 20;

/// What a bundle says, as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleContent {
    /// The jurisdiction (ISO 3166-1 alpha-2) whose trust data this is.
    pub jurisdiction: String,
    /// Raised by one on every publication; a verifier refuses an older or equal one.
    pub sequence: u64,
    /// When the bundle was made (Unix seconds).
    pub issued_at: i64,
    /// After this, verdicts carry a `stale` warning (Unix seconds).
    pub soft_expiry: i64,
    /// After this, the verifier cannot tell: verdict `unknown` (Unix seconds).
    pub hard_expiry: i64,
    /// The keys.
    pub keys: Vec<TrustedKey>,
    /// The withdrawn credentials and keys.
    pub revocations: RevocationSet,
    /// The rules.
    pub rules: RuleSet,
    /// EU Digital COVID Certificate signer certificates the issuer vouches for (X.509 DER), so
    /// that verifiers check travellers' EU certificates with the same trust data.
    #[serde(default)]
    pub eu_signers: Vec<EuSigner>,
    /// EU value sets, business rules and revocation lists the issuer imported.
    #[serde(default, skip_serializing_if = "EuTrustData::is_empty")]
    pub eu: EuTrustData,
}

/// An EU DCC document signer certificate carried in the bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EuSigner {
    /// The certificate, DER.
    #[serde(with = "serde_bytes")]
    pub der: Vec<u8>,
    /// The country that issued it (ISO 3166-1 alpha-2), as the operator imported it.
    pub country: String,
}

/// The key id of a root key: the first 4 bytes of SHA-256 over its 32 bytes.
pub fn key_id_of(key: &VerifyingKey) -> KeyId {
    let digest = Sha256::digest(key.as_bytes());
    // safe: 4 bytes is within a key id's 1..=16.
    KeyId::new(&digest[..4]).unwrap_or_else(|| unreachable!("4-byte key id"))
}

/// The key id of a signing key, as every credential it signs carries it (SPEC §6.2): the first
/// 2 bytes of SHA-256 over its 32 bytes. An issuer draws a key again whose id one of its keys
/// has; verifiers trusting several issuers try each issuer that lists an id.
pub fn signing_key_id_of(key: &VerifyingKey) -> KeyId {
    let digest = Sha256::digest(key.as_bytes());
    // safe: 2 bytes is within a key id's 1..=16.
    KeyId::new(&digest[..2]).unwrap_or_else(|| unreachable!("2-byte key id"))
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes))
}

pub(crate) fn cbor(value: &impl Serialize) -> Result<Vec<u8>, TrustError> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|_| TrustError::Malformed("cannot encode"))?;
    Ok(out)
}

/// Signs a document with the root key as a COSE_Sign1 (the signature comes from `sign`, the key
/// stays with the caller).
pub(crate) fn sign_document(
    content: &impl Serialize,
    root_key_id: &KeyId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
) -> Result<Vec<u8>, TrustError> {
    let protected = cbor(&Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer((-8).into())),
        (
            Value::Integer(4.into()),
            Value::Bytes(root_key_id.as_bytes().to_vec()),
        ),
    ]))?;
    let payload = cbor(content)?;
    let signature = sign(&to_be_signed(&protected, &payload));
    cbor(&Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(vec![]),
        Value::Bytes(payload),
        Value::Bytes(signature.to_vec()),
    ]))
}

/// Signs a bundle with the root key and returns the bytes to publish.
pub fn sign_bundle(
    content: &BundleContent,
    root_key_id: &KeyId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
) -> Result<Vec<u8>, TrustError> {
    sign_document(content, root_key_id, sign)
}

/// Signs an index with the root key and returns the bytes to publish.
pub fn sign_index(
    index: &Index,
    root_key_id: &KeyId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
) -> Result<Vec<u8>, TrustError> {
    sign_document(index, root_key_id, sign)
}

/// Checks a root-signed document with the pinned root key and returns its payload bytes.
/// Nothing of an unverified document is decoded beyond its envelope.
pub(crate) fn open_document(bytes: &[u8], root: &VerifyingKey) -> Result<Vec<u8>, TrustError> {
    if bytes.len() > MAX_BUNDLE_LEN {
        return Err(TrustError::Malformed("larger than 256 MiB"));
    }
    let envelope: Value = ciborium::de::from_reader_with_recursion_limit(bytes, 4)
        .map_err(|_| TrustError::Malformed("not CBOR"))?;
    let Value::Array(items) = envelope else {
        return Err(TrustError::Malformed("not a COSE_Sign1"));
    };
    let [
        Value::Bytes(protected),
        Value::Map(_),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ] = items.as_slice()
    else {
        return Err(TrustError::Malformed("not a COSE_Sign1"));
    };
    let header: Value = ciborium::de::from_reader_with_recursion_limit(protected.as_slice(), 2)
        .map_err(|_| TrustError::Malformed("protected header"))?;
    let Value::Map(entries) = &header else {
        return Err(TrustError::Malformed("protected header"));
    };
    let label = |k: &Value| match k {
        Value::Integer(i) => i64::try_from(*i).ok(),
        _ => None,
    };
    let alg = entries
        .iter()
        .find(|(k, _)| label(k) == Some(1))
        .map(|(_, v)| label(v));
    if alg != Some(Some(-8)) {
        return Err(TrustError::Malformed("algorithm is not EdDSA"));
    }
    let kid = entries.iter().find_map(|(k, v)| match v {
        Value::Bytes(b) if label(k) == Some(4) => Some(b.clone()),
        _ => None,
    });
    if kid.as_deref() != Some(key_id_of(root).as_bytes()) {
        let shown = kid.map_or_else(|| "(none)".into(), |k| propusk_spec::hex::encode(&k));
        return Err(TrustError::WrongRoot(shown));
    }
    let signature: [u8; 64] = signature
        .as_slice()
        .try_into()
        .map_err(|_| TrustError::BadSignature)?;
    root.verify_strict(
        &to_be_signed(protected, payload),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| TrustError::BadSignature)?;
    Ok(payload.clone())
}

/// The small signed file that says which bundle is newest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The jurisdiction.
    pub jurisdiction: String,
    /// The newest bundle's sequence.
    pub sequence: u64,
    /// When the index was made (Unix seconds).
    pub issued_at: i64,
    /// File name of the full bundle, relative to the index.
    pub full: String,
    /// SHA-256 of the full bundle file, hex.
    pub full_sha256: String,
    /// Deltas that lead from recent sequences to this one.
    #[serde(default)]
    pub deltas: Vec<IndexDelta>,
}

/// A delta named by the index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDelta {
    /// The sequence the delta applies to.
    pub from: u64,
    /// Its file name, relative to the index.
    pub file: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

impl Index {
    /// Checks the root signature and decodes the index.
    pub fn open(bytes: &[u8], root: &VerifyingKey) -> Result<Self, TrustError> {
        let payload = open_document(bytes, root)?;
        ciborium::de::from_reader_with_recursion_limit(payload.as_slice(), 4)
            .map_err(|_| TrustError::Malformed("index content"))
    }

    /// The sequence an index file names, its signature NOT checked: for a publisher that must
    /// not put an older index over a newer one, never for trusting anything.
    pub fn peek_sequence(bytes: &[u8]) -> Option<u64> {
        let envelope: Value = ciborium::de::from_reader_with_recursion_limit(bytes, 4).ok()?;
        let Value::Array(items) = envelope else {
            return None;
        };
        let Some(Value::Bytes(payload)) = items.get(2) else {
            return None;
        };
        let index: Index =
            ciborium::de::from_reader_with_recursion_limit(payload.as_slice(), 4).ok()?;
        Some(index.sequence)
    }
}

/// A bundle whose root signature verified, ready to judge credentials with.
#[derive(Clone, Debug)]
pub struct Bundle {
    content: BundleContent,
    trust_list: TrustList,
    rules: Rules,
}

impl Bundle {
    /// Checks the root signature over `bytes` with the pinned root key, then decodes and
    /// indexes the content.
    pub fn open(bytes: &[u8], root: &VerifyingKey) -> Result<Self, TrustError> {
        let payload = open_document(bytes, root)?;
        let content: BundleContent =
            ciborium::de::from_reader_with_recursion_limit(payload.as_slice(), 16)
                .map_err(|_| TrustError::Malformed("content"))?;
        Bundle::from_content(content)
    }

    /// Indexes content that is already trusted (the issuer's own, before signing).
    pub fn from_content(content: BundleContent) -> Result<Self, TrustError> {
        if !(content.issued_at <= content.soft_expiry && content.soft_expiry <= content.hard_expiry)
        {
            return Err(TrustError::Malformed("times out of order"));
        }
        if content.rules.jurisdiction != content.jurisdiction {
            return Err(TrustError::Rules(
                "the rule set is for another jurisdiction".into(),
            ));
        }
        let trust_list = TrustList::new(content.keys.clone())?;
        let rules = Rules::new(content.rules.clone())?;
        Ok(Bundle {
            content,
            trust_list,
            rules,
        })
    }

    /// The content.
    pub fn content(&self) -> &BundleContent {
        &self.content
    }

    /// The trust list.
    pub fn trust_list(&self) -> &TrustList {
        &self.trust_list
    }

    /// The rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The sequence number.
    pub fn sequence(&self) -> u64 {
        self.content.sequence
    }

    /// How fresh the bundle is at `at`.
    pub fn state(&self, at: Timestamp) -> TrustState {
        TrustState::of(&self.content, at)
    }
}

/// How fresh a verifier's trust data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustState {
    /// Within its soft expiry.
    Fresh,
    /// Past its soft expiry, within its hard expiry: verdicts carry a warning.
    Stale,
    /// Past its hard expiry: the verifier cannot tell.
    Expired,
    /// No trust data at all.
    Missing,
}

impl TrustState {
    /// The state of trust data with this content at `at`: fresh, stale past its soft expiry,
    /// expired past its hard expiry.
    pub fn of(content: &BundleContent, at: Timestamp) -> Self {
        if at.unix() >= content.hard_expiry {
            TrustState::Expired
        } else if at.unix() >= content.soft_expiry {
            TrustState::Stale
        } else {
            TrustState::Fresh
        }
    }

    /// The less fresh of two states: fresh, stale, expired, missing.
    pub fn worse(self, other: TrustState) -> TrustState {
        let rank = |s| match s {
            TrustState::Fresh => 0,
            TrustState::Stale => 1,
            TrustState::Expired => 2,
            TrustState::Missing => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustState::Fresh => "fresh",
            TrustState::Stale => "stale",
            TrustState::Expired => "expired",
            TrustState::Missing => "missing",
        }
    }
}
