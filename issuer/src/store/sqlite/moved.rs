//! Rows that move: the SQLite store itself, marked as moved to PostgreSQL by `migrate`; and
//! credentials replaced by new ones (a correction, or signed again after a compromise).

use std::path::Path;
use std::time::Duration;

use propusk_spec::{CredentialId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::STORE_FILE;
use super::rows;
use crate::error::StoreError;
use crate::records::CredentialStatus;
use crate::store::{CredentialRecord, Reissuable};

/// Where `migrate` moved the store in this file, when it did.
pub(crate) fn moved_to(conn: &Connection) -> Result<Option<String>, StoreError> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'moved'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(None);
    }
    Ok(conn
        .query_row("SELECT target FROM moved WHERE id = 1", [], |r| r.get(0))
        .optional()?)
}

/// Marks the store in `dir` as moved to `target` at `at` (after `migrate` copied it): every
/// later opening refuses, naming the target.
pub(crate) fn mark_moved(dir: &Path, target: &str, at: Timestamp) -> Result<(), StoreError> {
    let conn = Connection::open(dir.join(STORE_FILE))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS moved (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             target TEXT NOT NULL,
             at INTEGER NOT NULL
         )",
    )?;
    conn.execute(
        "INSERT OR REPLACE INTO moved (id, target, at) VALUES (1, ?1, ?2)",
        params![target, at.unix()],
    )?;
    Ok(())
}

/// The next credentials to sign again (see [`Reissuable`]), in id order.
pub(super) fn to_reissue(
    conn: &Connection,
    which: &Reissuable,
) -> Result<Vec<CredentialRecord>, StoreError> {
    let sql = format!(
        "SELECT {} FROM credentials WHERE status = 'issued' AND expires_at > ?1
           AND key_id != ?2 AND (?3 IS NULL OR key_id = ?3) AND id > ?4
         ORDER BY id LIMIT ?5",
        rows::CREDENTIAL_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let found = stmt.query_map(
        params![
            which.now.unix(),
            which.not_key.to_string(),
            which.key.as_ref().map(ToString::to_string),
            which
                .after
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            i64::try_from(which.limit).unwrap_or(i64::MAX)
        ],
        rows::credential_row,
    )?;
    found.map(|row| rows::credential_record(row?)).collect()
}

/// Revokes a credential (kept revoked from before, if it was) and frees its record id.
pub(super) fn supersede(
    conn: &Connection,
    id: &CredentialId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE credentials SET record_id = NULL, status = ?3,
             revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
        params![
            id.to_string(),
            at.unix(),
            CredentialStatus::Revoked { at }.as_str()
        ],
    )?;
    Ok(changed == 1)
}
