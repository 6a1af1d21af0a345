//! The SQLite rows that publications vouch for besides the issuer's own tables: the versions of
//! the rules the operator set, and the proofs of rows (the issuer's proofs module).

use rusqlite::{Connection, params};

use propusk_spec::Timestamp;

use super::rows::timestamp;
use crate::error::StoreError;
use crate::records::{CredentialStatus, Row};
use crate::store::{Revoked, RuleVersion};

pub(super) fn insert_rule_version(conn: &Connection, v: &RuleVersion) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO rule_versions (version, effective_from, rules, created_at)
             VALUES (?1, ?2, ?3, ?4)",
        params![v.version, v.effective_from, v.rules, v.created_at.unix()],
    )?;
    Ok(())
}

pub(super) fn rule_versions(conn: &Connection) -> Result<Vec<RuleVersion>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, effective_from, rules, created_at FROM rule_versions
             ORDER BY version",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (version, effective_from, rules, created_at) = row?;
        Ok(RuleVersion {
            version,
            effective_from,
            rules,
            created_at: timestamp(created_at)?,
        })
    })
    .collect()
}

pub(super) fn set_proof(
    conn: &Connection,
    kind: &str,
    row: &str,
    proof: &[u8],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO proofs (kind, row_key, proof) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kind, row_key) DO UPDATE SET proof = excluded.proof",
    )?
    .execute(params![kind, row, proof])?;
    Ok(())
}

pub(super) fn proofs(conn: &Connection, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT row_key, proof FROM proofs WHERE kind = ?1")?;
    let rows = stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The revoked credentials that have not expired at `now`, with their proofs.
pub(super) fn revoked_unexpired(
    conn: &Connection,
    now: Timestamp,
) -> Result<Vec<Revoked>, StoreError> {
    // Every row that is not plainly issued is read, so that a damaged status cell is found
    // rather than leaving a revoked credential out of the next publication.
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.expires_at, c.status, c.revoked_at, p.proof FROM credentials c
         LEFT JOIN proofs p ON p.kind = ?2 AND p.row_key = c.id
         WHERE c.expires_at > ?1 AND (c.status IS NOT 'issued' OR c.revoked_at IS NOT NULL)",
    )?;
    let rows = stmt.query_map(params![now.unix(), Row::REVOCATION], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<i64>>(3)?,
            r.get::<_, Option<Vec<u8>>>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (id, expires, status, revoked_at, proof) = row?;
        let revoked_at = revoked_at.map(timestamp).transpose()?;
        let Some(CredentialStatus::Revoked { at }) =
            CredentialStatus::from_parts(status.as_deref().unwrap_or(""), revoked_at)
        else {
            return Err(StoreError::Corrupt(
                "a credential whose status and revocation time disagree",
            ));
        };
        Ok(Revoked {
            id: id
                .parse()
                .map_err(|_| StoreError::Corrupt("a malformed credential id"))?,
            expires_at: timestamp(expires)?,
            revoked_at: at,
            proof,
        })
    })
    .collect()
}
