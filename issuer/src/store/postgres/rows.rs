//! PostgreSQL rows to the issuer's typed records: nothing here trusts what it reads.

use postgres::Row;

use super::conn::Conn;
use propusk_spec::{CredentialId, KeyId, Timestamp};
use propusk_trust_list::KeyStatus;

use crate::error::StoreError;
use crate::records::{AuditEntry, CredentialStatus};
use crate::store::{CredentialRecord, EuRole, EuTwinRecord, StoredEuKey, StoredKey};

pub(super) fn timestamp(secs: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix(secs).ok_or(StoreError::Corrupt("a time out of range"))
}

pub(super) fn key_id(hex: &str) -> Result<KeyId, StoreError> {
    KeyId::from_hex(hex).ok_or(StoreError::Corrupt("a malformed key id"))
}

pub(super) fn credential_id(text: &str) -> Result<CredentialId, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt("a malformed credential id"))
}

pub(super) fn credential_record(r: &Row) -> Result<CredentialRecord, StoreError> {
    let revoked_at = r.get::<_, Option<i64>>(7).map(timestamp).transpose()?;
    let status = CredentialStatus::from_parts(r.get(6), revoked_at)
        .ok_or(StoreError::Corrupt("an unknown credential status"))?;
    Ok(CredentialRecord {
        id: credential_id(r.get(0))?,
        record_id: r.get(1),
        credential_type: r
            .get::<_, &str>(2)
            .parse()
            .map_err(|_| StoreError::Corrupt("an unknown credential type"))?,
        key_id: key_id(r.get(3))?,
        issued_at: timestamp(r.get(4))?,
        expires_at: timestamp(r.get(5))?,
        status,
        text: r.get(8),
        proof: r.get(9),
        holder: r.get(10),
    })
}

/// The column a credential is looked up by.
#[derive(Clone, Copy)]
pub(super) enum CredentialKey {
    /// Its id.
    Id,
    /// Its registry record id.
    Record,
}

/// The columns [`credential_record`] reads, in its order (a literal, for `concat!`).
macro_rules! credential_columns {
    () => {
        "id, record_id, type, key_id, issued_at, expires_at, status, revoked_at, text, proof, \
         holder"
    };
}
pub(super) use credential_columns;

macro_rules! select_credential_by {
    ($column:literal) => {
        select_credential_by!($column, "$1")
    };
    ($column:literal, $value:literal) => {
        concat!(
            "SELECT ",
            credential_columns!(),
            " FROM credentials WHERE ",
            $column,
            " = ",
            $value
        )
    };
}

/// The credentials with any of these ids, in no order (one round trip for many lookups).
pub(super) fn select_credentials(conn: &mut Conn, ids: &[String]) -> Result<Vec<Row>, StoreError> {
    Ok(conn.query(select_credential_by!("id", "ANY($1)"), &[&ids])?)
}

pub(super) fn select_credential(
    conn: &mut Conn,
    key: CredentialKey,
    value: &str,
) -> Result<Option<CredentialRecord>, StoreError> {
    let sql = match key {
        CredentialKey::Id => select_credential_by!("id"),
        CredentialKey::Record => select_credential_by!("record_id"),
    };
    conn.query_opt(sql, &[&value])?
        .as_ref()
        .map(credential_record)
        .transpose()
}

pub(super) fn stored_key(r: &Row) -> Result<StoredKey, StoreError> {
    let public: [u8; 32] = r
        .get::<_, Vec<u8>>(2)
        .try_into()
        .map_err(|_| StoreError::Corrupt("a malformed public key"))?;
    Ok(StoredKey {
        key_id: key_id(r.get(0))?,
        role: r
            .get::<_, &str>(1)
            .parse()
            .map_err(|()| StoreError::Corrupt("an unknown key role"))?,
        public_key: ed25519_dalek::VerifyingKey::from_bytes(&public)
            .map_err(|_| StoreError::Corrupt("a malformed public key"))?,
        sealed: r.get(3),
        status: KeyStatus::from_parts(r.get(4), r.get(5))
            .ok_or(StoreError::Corrupt("an unknown key status"))?,
        not_before: timestamp(r.get(6))?,
        not_after: r.get::<_, Option<i64>>(7).map(timestamp).transpose()?,
        created_at: timestamp(r.get(8))?,
    })
}

pub(super) fn twin(r: &Row) -> Result<EuTwinRecord, StoreError> {
    Ok(EuTwinRecord {
        credential_id: credential_id(r.get(0))?,
        uci: r.get(1),
        key_id: r.get(2),
        signature: r.get(3),
        text: r.get(4),
    })
}

pub(super) fn eu_key(r: &Row) -> Result<StoredEuKey, StoreError> {
    Ok(StoredEuKey {
        key_id: r.get(0),
        role: match r.get::<_, &str>(1) {
            "csca" => EuRole::Csca,
            "dsc" => EuRole::Dsc,
            _ => return Err(StoreError::Corrupt("an EU key of no known role")),
        },
        certificate: r.get(2),
        sealed: r.get(3),
        active: r.get(4),
        not_before: timestamp(r.get(5))?,
        not_after: timestamp(r.get(6))?,
        created_at: timestamp(r.get(7))?,
    })
}

/// An audit log row (`seq, at, op, detail`).
pub(super) fn audit_entry(r: &Row) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: u64::try_from(r.get::<_, i64>(0))
            .map_err(|_| StoreError::Corrupt("an audit sequence"))?,
        at: timestamp(r.get(1))?,
        op: r
            .get::<_, &str>(2)
            .parse()
            .map_err(|()| StoreError::Corrupt("an unknown audit operation"))?,
        detail: r.get(3),
    })
}
