//! The SQLite rows that publications vouch for besides the issuer's own tables: the versions of
//! the rules the operator set, and the proofs of rows (`crate::proof`).

use rusqlite::{Connection, params};

use super::rows::timestamp;
use crate::error::StoreError;
use crate::store::RuleVersion;

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
