//! The PostgreSQL rows of the issuer's own EU DCC keys and of credentials' EU twins.

use propusk_spec::{CredentialId, Timestamp};

use super::conn::Conn;
use super::rows::{self, timestamp};
use crate::error::StoreError;
use crate::store::{EuTwinRecord, StoredEuKey};

pub(super) fn insert_key(db: &mut Conn, k: &StoredEuKey) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO eu_keys (key_id, role, certificate, sealed, active, not_before, not_after,
                 created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &k.key_id,
            &k.role.as_str(),
            &k.certificate,
            &k.sealed,
            &k.active,
            &k.not_before.unix(),
            &k.not_after.unix(),
            &k.created_at.unix(),
        ],
    )?;
    Ok(())
}

pub(super) fn keys(db: &mut Conn) -> Result<Vec<StoredEuKey>, StoreError> {
    db.query(
        "SELECT key_id, role, certificate, sealed, active, not_before, not_after,
                        created_at
                 FROM eu_keys ORDER BY created_at, seq",
        &[],
    )?
    .iter()
    .map(rows::eu_key)
    .collect()
}

pub(super) fn retire(db: &mut Conn, key_id: &str) -> Result<(), StoreError> {
    db.execute(
        "UPDATE eu_keys SET active = false WHERE key_id = $1",
        &[&key_id],
    )?;
    Ok(())
}

pub(super) fn insert_twin(db: &mut Conn, t: &EuTwinRecord) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO eu_twins (credential_id, uci, key_id, signature, text)
             VALUES ($1, $2, $3, $4, $5)",
        &[
            &t.credential_id.to_string(),
            &t.uci,
            &t.key_id,
            &t.signature,
            &t.text,
        ],
    )?;
    Ok(())
}

pub(super) fn twin(db: &mut Conn, id: &CredentialId) -> Result<Option<EuTwinRecord>, StoreError> {
    db.query_opt(
        "SELECT credential_id, uci, key_id, signature, text FROM eu_twins
                 WHERE credential_id = $1",
        &[&id.to_string()],
    )?
    .as_ref()
    .map(rows::twin)
    .transpose()
}

pub(super) fn revoked_twins(
    db: &mut Conn,
    now: Timestamp,
) -> Result<Vec<(EuTwinRecord, Timestamp)>, StoreError> {
    db.query(
        "SELECT t.credential_id, t.uci, t.key_id, t.signature, t.text, c.expires_at
                 FROM eu_twins t JOIN credentials c ON c.id = t.credential_id
                 WHERE c.status = 'revoked' AND c.expires_at > $1 ORDER BY t.credential_id",
        &[&now.unix()],
    )?
    .iter()
    .map(|r| Ok((rows::twin(r)?, timestamp(r.get(5))?)))
    .collect()
}
