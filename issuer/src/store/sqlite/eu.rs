//! The SQLite rows of the issuer's own EU DCC keys and of credentials' EU twins.

use propusk_spec::{CredentialId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::timestamp;
use crate::error::StoreError;
use crate::store::{EuRole, EuTwinRecord, StoredEuKey};

pub(super) fn insert_key(conn: &Connection, k: &StoredEuKey) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO eu_keys (key_id, role, certificate, sealed, active, not_before, not_after,
             created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            k.key_id,
            k.role.as_str(),
            k.certificate,
            k.sealed,
            k.active,
            k.not_before.unix(),
            k.not_after.unix(),
            k.created_at.unix()
        ],
    )?;
    Ok(())
}

type KeyRow = (String, String, Vec<u8>, Vec<u8>, bool, i64, i64, i64);

pub(super) fn keys(conn: &Connection) -> Result<Vec<StoredEuKey>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, role, certificate, sealed, active, not_before, not_after, created_at
         FROM eu_keys ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })?;
    rows.map(|row| {
        let (key_id, role, certificate, sealed, active, nb, na, created): KeyRow = row?;
        Ok(StoredEuKey {
            key_id,
            role: match role.as_str() {
                "csca" => EuRole::Csca,
                "dsc" => EuRole::Dsc,
                _ => return Err(StoreError::Corrupt("an EU key of no known role")),
            },
            certificate,
            sealed,
            active,
            not_before: timestamp(nb)?,
            not_after: timestamp(na)?,
            created_at: timestamp(created)?,
        })
    })
    .collect()
}

pub(super) fn retire(conn: &Connection, key_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE eu_keys SET active = 0 WHERE key_id = ?1",
        params![key_id],
    )?;
    Ok(())
}

pub(super) fn insert_twin(conn: &Connection, t: &EuTwinRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO eu_twins (credential_id, uci, key_id, signature, text)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            t.credential_id.to_string(),
            t.uci,
            t.key_id,
            t.signature,
            t.text
        ],
    )?;
    Ok(())
}

const TWIN_COLUMNS: &str = "t.credential_id, t.uci, t.key_id, t.signature, t.text";

fn twin_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, Vec<u8>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_twin(row: (String, String, String, Vec<u8>, String)) -> Result<EuTwinRecord, StoreError> {
    let (id, uci, key_id, signature, text) = row;
    Ok(EuTwinRecord {
        credential_id: id
            .parse()
            .map_err(|_| StoreError::Corrupt("a malformed credential id"))?,
        uci,
        key_id,
        signature,
        text,
    })
}

pub(super) fn twin(
    conn: &Connection,
    id: &CredentialId,
) -> Result<Option<EuTwinRecord>, StoreError> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {TWIN_COLUMNS} FROM eu_twins t WHERE t.credential_id = ?1"
        ))?
        .query_row(params![id.to_string()], twin_row)
        .optional()?;
    row.map(to_twin).transpose()
}

pub(super) fn revoked_twins(
    conn: &Connection,
    now: Timestamp,
) -> Result<Vec<(EuTwinRecord, Timestamp)>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TWIN_COLUMNS}, c.expires_at FROM eu_twins t
         JOIN credentials c ON c.id = t.credential_id
         WHERE c.status = 'revoked' AND c.expires_at > ?1
         ORDER BY t.credential_id"
    ))?;
    let rows = stmt.query_map(params![now.unix()], |r| {
        Ok((twin_row(r)?, r.get::<_, i64>(5)?))
    })?;
    rows.map(|row| {
        let (twin, expires) = row?;
        Ok((to_twin(twin)?, timestamp(expires)?))
    })
    .collect()
}
