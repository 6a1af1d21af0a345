//! A batch's chunk of credentials in one statement (`unnest` of one array per column), so that a
//! chunk costs one round trip to the database instead of one per record.

use std::collections::HashSet;

use propusk_spec::Timestamp;

use super::conn::Conn;
use crate::error::StoreError;
use crate::store::CredentialRecord;

/// Inserts every record whose id and record id are free; returns the ids inserted.
pub(super) fn insert(
    db: &mut Conn,
    records: &[CredentialRecord],
) -> Result<HashSet<String>, StoreError> {
    let column = |f: &dyn Fn(&CredentialRecord) -> String| -> Vec<String> {
        records.iter().map(f).collect()
    };
    let ids = column(&|c| c.id.to_string());
    let kinds = column(&|c| c.credential_type.as_str().to_owned());
    let keys = column(&|c| c.key_id.to_string());
    let statuses = column(&|c| c.status.as_str().to_owned());
    let texts = column(&|c| c.text.clone());
    let proofs: Vec<Option<Vec<u8>>> = records.iter().map(|c| c.proof.clone()).collect();
    let holders: Vec<Option<Vec<u8>>> = records.iter().map(|c| c.holder.clone()).collect();
    let record_ids: Vec<Option<String>> = records.iter().map(|c| c.record_id.clone()).collect();
    let issued: Vec<i64> = records.iter().map(|c| c.issued_at.unix()).collect();
    let expires: Vec<i64> = records.iter().map(|c| c.expires_at.unix()).collect();
    let revoked: Vec<Option<i64>> = records
        .iter()
        .map(|c| c.status.since().map(Timestamp::unix))
        .collect();
    Ok(db
        .query(
            "INSERT INTO credentials
             (id, record_id, type, key_id, issued_at, expires_at, status, revoked_at, text,
              proof, holder)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                                  $5::bigint[], $6::bigint[], $7::text[], $8::bigint[],
                                  $9::text[], $10::bytea[], $11::bytea[])
             ON CONFLICT DO NOTHING RETURNING id",
            &[
                &ids,
                &record_ids,
                &kinds,
                &keys,
                &issued,
                &expires,
                &statuses,
                &revoked,
                &texts,
                &proofs,
                &holders,
            ],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}
