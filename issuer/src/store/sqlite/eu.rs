//! The SQLite rows of the issuer's own EU DCC keys and of credentials' EU twins.

use propusk_spec::{CredentialId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::timestamp;
use crate::error::StoreError;
use crate::records::Row;
use crate::store::{EuRole, EuTwinRecord, StoredEuKey};
use propusk_trust_list::EuSigner;

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

pub(super) fn add_signer(
    conn: &Connection,
    kid: &str,
    signer: &EuSigner,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO eu_signers (key_id, der, country, added_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![kid, signer.der, signer.country, at.unix()],
    )?;
    Ok(inserted == 1)
}

pub(super) fn signers(conn: &Connection) -> Result<Vec<EuSigner>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT der, country FROM eu_signers ORDER BY key_id")?;
    let rows = stmt.query_map([], |r| {
        Ok(EuSigner {
            der: r.get(0)?,
            country: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn remove_signer(conn: &Connection, kid: &str) -> Result<bool, StoreError> {
    conn.execute(
        "DELETE FROM proofs WHERE kind = ?1 AND row_key = ?2",
        params![Row::EU_SIGNER, kid],
    )?;
    let removed = conn.execute("DELETE FROM eu_signers WHERE key_id = ?1", params![kid])?;
    Ok(removed == 1)
}

/// Replaces every row of one kind of EU trust data, and drops the proofs of the rows gone (the
/// caller proves the new ones in the same transaction).
pub(super) fn set_data(
    conn: &Connection,
    kind: &str,
    all: &[(String, Vec<u8>)],
    at: Timestamp,
) -> Result<(), StoreError> {
    let proof_kind = format!("{}:{kind}", Row::EU_DATA);
    conn.execute("DELETE FROM proofs WHERE kind = ?1", params![proof_kind])?;
    conn.execute("DELETE FROM eu_data WHERE kind = ?1", params![kind])?;
    for (name, body) in all {
        conn.execute(
            "INSERT INTO eu_data (kind, name, body, added_at) VALUES (?1, ?2, ?3, ?4)",
            params![kind, name, body, at.unix()],
        )?;
    }
    Ok(())
}

pub(super) fn data(conn: &Connection, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT name, body FROM eu_data WHERE kind = ?1 ORDER BY name")?;
    let rows = stmt.query_map(params![kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
