//! The PostgreSQL rows of the issuer's own EU DCC keys and of credentials' EU twins.

use propusk_spec::{CredentialId, Timestamp};

use super::conn::Conn;
use super::rows::{self, timestamp};
use crate::error::StoreError;
use crate::records::Row;
use crate::store::{EuTwinRecord, StoredEuKey};
use propusk_trust_list::EuSigner;

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

pub(super) fn add_signer(
    db: &mut Conn,
    kid: &str,
    signer: &EuSigner,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = db.execute(
        "INSERT INTO eu_signers (key_id, der, country, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[&kid, &signer.der, &signer.country, &at.unix()],
    )?;
    Ok(inserted == 1)
}

pub(super) fn signers(db: &mut Conn) -> Result<Vec<EuSigner>, StoreError> {
    Ok(db
        .query("SELECT der, country FROM eu_signers ORDER BY key_id", &[])?
        .iter()
        .map(|r| EuSigner {
            der: r.get(0),
            country: r.get(1),
        })
        .collect())
}

pub(super) fn remove_signer(db: &mut Conn, kid: &str) -> Result<bool, StoreError> {
    db.execute(
        "DELETE FROM proofs WHERE kind = $1 AND row_key = $2",
        &[&Row::EU_SIGNER, &kid],
    )?;
    let removed = db.execute("DELETE FROM eu_signers WHERE key_id = $1", &[&kid])?;
    Ok(removed == 1)
}

/// Replaces every row of one kind of EU trust data, and drops the proofs of the rows gone (the
/// caller proves the new ones in the same transaction).
pub(super) fn set_data(
    db: &mut Conn,
    kind: &str,
    all: &[(String, Vec<u8>)],
    at: Timestamp,
) -> Result<(), StoreError> {
    let proof_kind = format!("{}:{kind}", Row::EU_DATA);
    db.execute("DELETE FROM proofs WHERE kind = $1", &[&proof_kind])?;
    db.execute("DELETE FROM eu_data WHERE kind = $1", &[&kind])?;
    for (name, body) in all {
        db.execute(
            "INSERT INTO eu_data (kind, name, body, added_at) VALUES ($1, $2, $3, $4)",
            &[&kind, name, body, &at.unix()],
        )?;
    }
    Ok(())
}

pub(super) fn data(db: &mut Conn, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    Ok(db
        .query(
            "SELECT name, body FROM eu_data WHERE kind = $1 ORDER BY name",
            &[&kind],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}
