//! Rows of the issuer's tables to typed records and back: nothing here trusts what it reads.

use ed25519_dalek::VerifyingKey;
use propusk_spec::{KeyId, MAX_TIMESTAMP, Timestamp};
use propusk_trust_list::KeyStatus;
use rusqlite::{Connection, OptionalExtension, Row};

use crate::error::StoreError;
use crate::records::CredentialStatus;
use crate::store::{CredentialRecord, StoredKey};

pub(super) const CREDENTIAL_COLUMNS: &str =
    "id, record_id, type, key_id, issued_at, expires_at, status, revoked_at, text, proof, holder";

pub(super) fn corrupt(what: &'static str) -> impl Fn() -> StoreError {
    move || StoreError::Corrupt(what)
}

pub(super) fn timestamp(secs: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix(secs).ok_or(StoreError::Corrupt("a time out of range"))
}

fn key_id(hex: &str) -> Result<KeyId, StoreError> {
    KeyId::from_hex(hex).ok_or(StoreError::Corrupt("a malformed key id"))
}

pub(super) type KeyRow = (
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
);

pub(super) fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

pub(super) fn stored_key(row: KeyRow) -> Result<StoredKey, StoreError> {
    let (kid, role, public, sealed, status, since, not_before, not_after, created_at) = row;
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| StoreError::Corrupt("a malformed public key"))?;
    Ok(StoredKey {
        key_id: key_id(&kid)?,
        role: role
            .parse()
            .map_err(|()| StoreError::Corrupt("an unknown key role"))?,
        public_key: VerifyingKey::from_bytes(&public)
            .map_err(|_| StoreError::Corrupt("a malformed public key"))?,
        sealed,
        status: KeyStatus::from_parts(&status, since)
            .ok_or(StoreError::Corrupt("an unknown key status"))?,
        not_before: timestamp(not_before)?,
        // Stores made before keys could have no end hold a far-future sentinel for the root.
        not_after: not_after
            .filter(|&t| t <= MAX_TIMESTAMP)
            .map(timestamp)
            .transpose()?,
        created_at: timestamp(created_at)?,
    })
}

type CredentialRow = (
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    String,
    Option<i64>,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

pub(super) fn credential_row(r: &Row<'_>) -> rusqlite::Result<CredentialRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

pub(super) fn credential_record(row: CredentialRow) -> Result<CredentialRecord, StoreError> {
    let (id, record_id, kind, kid, issued_at, expires_at, status, revoked_at, text, proof, holder) =
        row;
    let revoked_at = revoked_at.map(timestamp).transpose()?;
    let status = CredentialStatus::from_parts(&status, revoked_at)
        .ok_or(StoreError::Corrupt("an unknown credential status"))?;
    Ok(CredentialRecord {
        id: id
            .parse()
            .map_err(|_| StoreError::Corrupt("a malformed credential id"))?,
        record_id,
        credential_type: kind
            .parse()
            .map_err(|_| StoreError::Corrupt("an unknown credential type"))?,
        key_id: key_id(&kid)?,
        issued_at: timestamp(issued_at)?,
        expires_at: timestamp(expires_at)?,
        status,
        text,
        proof,
        holder,
    })
}

pub(super) fn select_credential(
    conn: &Connection,
    column: &str,
    value: &str,
) -> Result<Option<CredentialRecord>, StoreError> {
    let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE {column} = ?1");
    conn.prepare_cached(&sql)?
        .query_row([value], credential_row)
        .optional()?
        .map(credential_record)
        .transpose()
}
