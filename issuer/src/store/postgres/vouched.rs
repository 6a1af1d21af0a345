//! The PostgreSQL rows that publications vouch for with their proofs (the issuer's proofs module): the
//! revocations to publish, the versions of the rules the operator set, the proofs themselves.

use propusk_spec::Timestamp;

use super::conn::Conn;
use super::rows::{credential_id, timestamp};
use crate::error::StoreError;
use crate::records::CredentialStatus;
use crate::records::Row;
use crate::store::{Revoked, RuleVersion};

pub(super) fn insert_rule_version(db: &mut Conn, v: &RuleVersion) -> Result<(), StoreError> {
    let version =
        i32::try_from(v.version).map_err(|_| StoreError::Corrupt("a rule version out of range"))?;
    db.execute(
        "INSERT INTO rule_versions (version, effective_from, rules, created_at)
             VALUES ($1, $2, $3, $4)",
        &[&version, &v.effective_from, &v.rules, &v.created_at.unix()],
    )?;
    Ok(())
}

pub(super) fn rule_versions(db: &mut Conn) -> Result<Vec<RuleVersion>, StoreError> {
    db.query(
        "SELECT version, effective_from, rules, created_at FROM rule_versions
                 ORDER BY version",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(RuleVersion {
            version: u32::try_from(r.get::<_, i32>(0))
                .map_err(|_| StoreError::Corrupt("a negative rule version"))?,
            effective_from: r.get(1),
            rules: r.get(2),
            created_at: timestamp(r.get(3))?,
        })
    })
    .collect()
}

pub(super) fn set_proof(
    db: &mut Conn,
    kind: &str,
    row: &str,
    proof: &[u8],
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO proofs (kind, row_key, proof) VALUES ($1, $2, $3)
             ON CONFLICT (kind, row_key) DO UPDATE SET proof = excluded.proof",
        &[&kind, &row, &proof],
    )?;
    Ok(())
}

pub(super) fn proofs(db: &mut Conn, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    Ok(db
        .query(
            "SELECT row_key, proof FROM proofs WHERE kind = $1",
            &[&kind],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The revoked credentials not expired at `now`, each with its proof.
pub(super) fn revoked_unexpired(db: &mut Conn, now: Timestamp) -> Result<Vec<Revoked>, StoreError> {
    // Every row that is not plainly issued is read, so that a damaged status cell is found.
    let rows = db.query(
        "SELECT c.id, c.expires_at, c.status, c.revoked_at, p.proof FROM credentials c
             LEFT JOIN proofs p ON p.kind = $2 AND p.row_key = c.id
             WHERE c.expires_at > $1 AND (c.status <> 'issued' OR c.revoked_at IS NOT NULL)",
        &[&now.unix(), &Row::REVOCATION],
    )?;
    rows.iter()
        .map(|r| {
            let revoked_at = r.get::<_, Option<i64>>(3).map(timestamp).transpose()?;
            let Some(CredentialStatus::Revoked { at }) =
                CredentialStatus::from_parts(r.get(2), revoked_at)
            else {
                return Err(StoreError::Corrupt(
                    "a credential whose status and revocation time disagree",
                ));
            };
            Ok(Revoked {
                id: credential_id(r.get(0))?,
                expires_at: timestamp(r.get(1))?,
                revoked_at: at,
                proof: r.get(4),
            })
        })
        .collect()
}
