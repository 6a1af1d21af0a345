//! The trust list: the issuer keys a verifier accepts, and what each may sign when.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{Credential, CredentialType, KeyId, KeyProvider};
use serde::{Deserialize, Serialize};

use crate::error::TrustError;
use crate::reason::Reason;

/// The life of a signing key, as the issuer's operators set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyStatus {
    /// Announced ahead of use; it signs from its `not_before` on.
    Next,
    /// In use.
    Active,
    /// Signs nothing after `since` (Unix seconds); what it signed until then stays valid.
    Retired {
        /// When the key was retired.
        since: i64,
    },
    /// Distrusted from `since` (Unix seconds) on: credentials issued at or after it are refused.
    Compromised {
        /// From when the key is distrusted.
        since: i64,
    },
}

impl KeyStatus {
    /// Since when a retired or compromised key is so (Unix seconds).
    pub fn since(self) -> Option<i64> {
        match self {
            KeyStatus::Retired { since } | KeyStatus::Compromised { since } => Some(since),
            KeyStatus::Next | KeyStatus::Active => None,
        }
    }

    /// The status from its name and, for `retired` and `compromised`, its time: the inverse of
    /// [`KeyStatus::as_str`] and [`KeyStatus::since`]. `None` for anything else.
    pub fn from_parts(name: &str, since: Option<i64>) -> Option<Self> {
        match (name, since) {
            ("next", _) => Some(KeyStatus::Next),
            ("active", _) => Some(KeyStatus::Active),
            ("retired", Some(since)) => Some(KeyStatus::Retired { since }),
            ("compromised", Some(since)) => Some(KeyStatus::Compromised { since }),
            _ => None,
        }
    }

    /// The snake_case name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Next => "next",
            KeyStatus::Active => "active",
            KeyStatus::Retired { .. } => "retired",
            KeyStatus::Compromised { .. } => "compromised",
        }
    }
}

/// One issuer key a verifier accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    /// The key id, as in the credential's protected header.
    #[serde(with = "serde_bytes")]
    pub key_id: Vec<u8>,
    /// The raw 32-byte Ed25519 public key.
    #[serde(with = "serde_bytes")]
    pub public_key: Vec<u8>,
    /// The issuing authority's name.
    pub issuer: String,
    /// The issuing authority's country (ISO 3166-1 alpha-2).
    pub country: String,
    /// Earliest issued-at (Unix seconds) of a credential this key may sign.
    pub not_before: i64,
    /// Latest issued-at (Unix seconds) of a credential this key may sign; every credential it
    /// signs also expires by then.
    pub not_after: i64,
    /// The credential types the key may sign.
    pub types: Vec<CredentialType>,
    /// Its status.
    pub status: KeyStatus,
}

/// Why a key may not vouch for a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// The key may not sign this credential type.
    #[error("the key may not sign this type")]
    WrongType,
    /// The credential's issued-at or expiry lies outside the key's window.
    #[error("issued or expiring outside the key's window")]
    OutsideWindow,
    /// The credential was issued at or after the key's retirement.
    #[error("issued after the key was retired")]
    Retired,
    /// The credential was issued at or after the key's compromise.
    #[error("issued after the key was compromised")]
    Compromised,
}

impl KeyRefusal {
    /// The reason a verifier reports.
    pub fn reason(self) -> Reason {
        match self {
            KeyRefusal::WrongType | KeyRefusal::OutsideWindow => Reason::KeyUsage,
            KeyRefusal::Retired => Reason::KeyRetired,
            KeyRefusal::Compromised => Reason::KeyRevoked,
        }
    }
}

impl TrustedKey {
    /// The key id as a [`KeyId`], when well-formed.
    pub fn id(&self) -> Option<KeyId> {
        KeyId::new(&self.key_id)
    }

    /// The public key, when it is a canonical Ed25519 point not of small order (SPEC §6.4).
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        let bytes: [u8; 32] = self.public_key.as_slice().try_into().ok()?;
        propusk_spec::strict::verifying_key(&bytes)
    }

    /// Whether this key may vouch for this (signature-checked) credential.
    pub fn allows(&self, credential: &Credential) -> Result<(), KeyRefusal> {
        let issued = credential.issued_at.unix();
        match self.status {
            KeyStatus::Compromised { since } if issued >= since => {
                return Err(KeyRefusal::Compromised);
            }
            // A key retired at T may have signed up to and including the second T itself.
            KeyStatus::Retired { since } if issued > since => return Err(KeyRefusal::Retired),
            _ => {}
        }
        if !self.types.contains(&credential.credential_type()) {
            return Err(KeyRefusal::WrongType);
        }
        if issued < self.not_before
            || issued > self.not_after
            || credential.expires_at.unix() > self.not_after
        {
            return Err(KeyRefusal::OutsideWindow);
        }
        Ok(())
    }
}

/// The keys of a trust list, indexed by key id. Key ids are unique: a list with two keys under
/// one id is refused.
#[derive(Clone, Debug, Default)]
pub struct TrustList {
    keys: Vec<TrustedKey>,
    by_id: HashMap<KeyId, (usize, VerifyingKey)>,
}

impl TrustList {
    /// Indexes `keys`, refusing malformed keys and colliding key ids.
    pub fn new(keys: Vec<TrustedKey>) -> Result<Self, TrustError> {
        let mut by_id = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            let id = key.id().ok_or(TrustError::MalformedKey(i))?;
            let vk = key.verifying_key().ok_or(TrustError::MalformedKey(i))?;
            if by_id.insert(id.clone(), (i, vk)).is_some() {
                return Err(TrustError::KeyIdCollision(id.to_string()));
            }
        }
        Ok(TrustList { keys, by_id })
    }

    /// The key with this id.
    pub fn key(&self, id: &KeyId) -> Option<&TrustedKey> {
        self.by_id.get(id).map(|(i, _)| &self.keys[*i])
    }

    /// All keys, in list order.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }
}

impl KeyProvider for TrustList {
    fn verifying_key(&self, key_id: &KeyId) -> Option<VerifyingKey> {
        self.by_id.get(key_id).map(|(_, vk)| *vk)
    }
}
