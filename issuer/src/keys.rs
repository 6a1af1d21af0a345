//! The keys' lifecycle: created and sealed, announced, rotated, retired, compromised — each step
//! in the audit log. Secret keys leave the store only sealed, and are unsealed only in memory.

use propusk_spec::{KeyId, Timestamp};
use propusk_trust_list::{KeyStatus, format_public_key, key_id_of};

use crate::error::{IssuerError, KeyError, StoreError};
use crate::issuer::{Issuer, SIGNING_KEY_LIFETIME_S};
use crate::records::Row;
use crate::records::{AuditOp, KeyInfo, KeyRole};
use crate::store::StoredKey;

impl From<&StoredKey> for KeyInfo {
    fn from(k: &StoredKey) -> Self {
        KeyInfo {
            key_id: k.key_id.clone(),
            role: k.role,
            public_key: k.public_key,
            status: k.status,
            not_before: k.not_before,
            not_after: k.not_after,
            in_token: crate::token::token_id(&k.sealed).is_some(),
        }
    }
}

/// Whether a key with this status is announced (published, not yet signing).
pub(crate) fn is_next(status: KeyStatus) -> bool {
    matches!(status, KeyStatus::Next)
}

/// The id of a new key: 4 bytes for the root, 2 for a signing key (every credential carries
/// it; SPEC §6.2).
pub(crate) fn key_id_for(role: KeyRole, key: &ed25519_dalek::VerifyingKey) -> KeyId {
    match role {
        KeyRole::Root => key_id_of(key),
        KeyRole::Signing => propusk_trust_list::signing_key_id_of(key),
    }
}

/// Whether a key with this status signs now.
pub(crate) fn is_active(status: KeyStatus) -> bool {
    matches!(status, KeyStatus::Active)
}

impl Issuer {
    /// Creates a key, seals its secret half and stores it with its audit entry (call it inside a
    /// transaction); a new key whose id collides with a known one is drawn again.
    pub(crate) fn add_key(
        &mut self,
        role: KeyRole,
        status: KeyStatus,
        now: Timestamp,
        not_before: Timestamp,
        not_after: Option<Timestamp>,
    ) -> Result<KeyInfo, IssuerError> {
        loop {
            let (public_key, sealed) = self.new_ed25519(role)?;
            let key = StoredKey {
                key_id: key_id_for(role, &public_key),
                role,
                public_key,
                sealed,
                status,
                not_before,
                not_after,
                created_at: now,
            };
            if self.store.insert_key(&key)? {
                self.prove(Row::Key(key.key_id.clone()))?;
                self.audit(
                    now,
                    AuditOp::KeyCreate,
                    &format!("{role} key {}, {}", key.key_id, status.as_str()),
                )?;
                return Ok(KeyInfo::from(&key));
            }
        }
    }

    /// Every key, root first.
    pub fn keys(&self) -> Result<Vec<KeyInfo>, IssuerError> {
        Ok(self.store.keys()?.iter().map(KeyInfo::from).collect())
    }

    pub(crate) fn root_key(&self) -> Result<StoredKey, IssuerError> {
        self.store
            .keys()?
            .into_iter()
            .find(|k| k.role == KeyRole::Root)
            .ok_or_else(|| StoreError::Corrupt("no root key").into())
    }

    /// The newest signing key whose status passes `wanted`.
    pub(crate) fn signing_key(
        &self,
        wanted: fn(KeyStatus) -> bool,
    ) -> Result<Option<StoredKey>, IssuerError> {
        Ok(self
            .store
            .keys()?
            .into_iter()
            .rfind(|k| k.role == KeyRole::Signing && wanted(k.status)))
    }

    fn signing_key_by_id(&self, kid: &str) -> Result<StoredKey, IssuerError> {
        let no_such = || KeyError::NoSuchKey(kid.to_owned());
        let id = KeyId::from_hex(kid).ok_or_else(no_such)?;
        self.store
            .keys()?
            .into_iter()
            .find(|k| k.key_id == id && k.role == KeyRole::Signing)
            .ok_or_else(|| no_such().into())
    }

    /// Rotates: the announced (`next`) key, or a new one, becomes active, and the active key
    /// retires (it signs nothing new; what it signed stays valid). With `announce`, a new key is
    /// only announced (published, not yet signing); the next rotation activates it.
    pub fn rotate(&mut self, now: Timestamp, announce: bool) -> Result<KeyInfo, IssuerError> {
        self.vault()?;
        let next = self.signing_key(is_next)?;
        let end = Some(now.plus_seconds(SIGNING_KEY_LIFETIME_S));
        if announce {
            if let Some(next) = next {
                return Err(KeyError::AlreadyAnnounced(next.key_id).into());
            }
            return self
                .in_transaction(|i| i.add_key(KeyRole::Signing, KeyStatus::Next, now, now, end));
        }
        self.in_transaction(|issuer| {
            let old = issuer.signing_key(is_active)?;
            let new = match next {
                Some(next) => {
                    issuer.store.activate_key(&next.key_id, now)?;
                    issuer.prove(Row::Key(next.key_id.clone()))?;
                    issuer.audit(
                        now,
                        AuditOp::KeyActivate,
                        &format!("signing key {}", next.key_id),
                    )?;
                    issuer.key_info(&next.key_id)?
                }
                None => issuer.add_key(KeyRole::Signing, KeyStatus::Active, now, now, end)?,
            };
            if let Some(old) = old {
                issuer.set_status(&old.key_id, KeyStatus::Retired { since: now.unix() }, now)?;
            }
            Ok(new)
        })
    }

    fn key_info(&self, id: &KeyId) -> Result<KeyInfo, IssuerError> {
        self.keys()?
            .into_iter()
            .find(|k| &k.key_id == id)
            .ok_or_else(|| KeyError::NoSuchKey(id.to_string()).into())
    }

    fn set_status(
        &mut self,
        kid: &KeyId,
        status: KeyStatus,
        now: Timestamp,
    ) -> Result<(), IssuerError> {
        if !self.store.set_key_status(kid, status)? {
            return Err(KeyError::NoSuchKey(kid.to_string()).into());
        }
        self.prove(Row::Key(kid.clone()))?;
        let (op, since) = match status {
            KeyStatus::Compromised { since } => (AuditOp::KeyCompromise, since),
            KeyStatus::Retired { since } => (AuditOp::KeyRetire, since),
            KeyStatus::Next | KeyStatus::Active => (AuditOp::KeyActivate, now.unix()),
        };
        let since = Timestamp::from_unix(since).unwrap_or(now);
        self.audit(now, op, &format!("signing key {kid} since {since}"))
    }

    /// Retires a signing key now: it signs nothing new. (Like every change of the keys, it needs
    /// the issuer unlocked.)
    pub fn retire(&mut self, kid: &str, now: Timestamp) -> Result<(), IssuerError> {
        self.vault()?;
        let key = self.signing_key_by_id(kid)?;
        match key.status {
            KeyStatus::Compromised { .. } => return Err(KeyError::Compromised(key.key_id).into()),
            KeyStatus::Active => return Err(KeyError::OnlyActive(key.key_id).into()),
            KeyStatus::Retired { since } => {
                return Err(KeyError::AlreadyRetired {
                    key: key.key_id,
                    since: Timestamp::from_unix(since).unwrap_or(now),
                }
                .into());
            }
            KeyStatus::Next => {}
        }
        let retired = KeyStatus::Retired { since: now.unix() };
        self.in_transaction(|i| i.set_status(&key.key_id, retired, now))
    }

    /// Marks a signing key compromised since `since`: credentials it signed from then on are
    /// refused by verifiers.
    pub fn compromise(
        &mut self,
        kid: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<(), IssuerError> {
        self.vault()?;
        let key = self.signing_key_by_id(kid)?;
        if key.status == KeyStatus::Active {
            return Err(KeyError::OnlyActive(key.key_id).into());
        }
        let status = KeyStatus::Compromised {
            since: since.unix(),
        };
        self.in_transaction(|i| i.set_status(&key.key_id, status, now))
    }

    /// The root public key, as `root.pub` holds it.
    pub fn root_public(&self) -> Result<String, IssuerError> {
        Ok(format_public_key(&self.root_key()?.public_key))
    }
}
