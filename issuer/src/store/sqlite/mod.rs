//! The embedded default: one SQLite file, `issuer.sqlite`, in the issuer's directory (WAL,
//! `synchronous=FULL`, owner-only). Every SQL statement of the issuer is in this module.

mod eu;
pub(crate) mod moved;
mod pool;
mod rows;
mod vouched;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use propusk_spec::{CredentialId, KeyId, Timestamp};
use propusk_trust_list::{EuSigner, KeyStatus};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    CredentialRecord, EuTwinRecord, Inserted, Lookup, Reissuable, Revoked, RuleVersion, Settings,
    Store, StoredEuKey, StoredKey,
};
use crate::error::StoreError;
use crate::records::{AuditEntry, AuditOp, CredentialStatus, KeyRole};
use pool::ReadPool;
use rows::{corrupt, key_row, select_credential, stored_key, timestamp};

/// The store's file inside the issuer's directory.
pub const STORE_FILE: &str = "issuer.sqlite";

const SCHEMA: &str = include_str!("schema.sql");
/// The issuer's SQLite store.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    in_transaction: bool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Columns added since a table was first made (`ALTER TABLE … ADD COLUMN` has no `IF NOT
/// EXISTS` in SQLite): added to a store that lacks them.
fn upgrade(conn: &Connection) -> Result<(), StoreError> {
    for (table, column, kind) in [
        ("credentials", "proof", "BLOB"),
        ("credentials", "holder", "BLOB"),
        ("config", "name_latin", "TEXT"),
    ] {
        let has: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |r| r.get(0),
        )?;
        if !has {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Whether `dir` holds an issuer's SQLite file.
    pub fn exists(dir: &Path) -> bool {
        dir.join(STORE_FILE).exists()
    }

    /// Opens (creating when needed) the store in `dir`, owner-readable only.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(STORE_FILE);
        let conn = Connection::open(&path)?;
        restrict(&path);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        upgrade(&conn)?;
        if let Some(to) = moved::moved_to(&conn)? {
            return Err(StoreError::Moved(to));
        }
        Ok(SqliteStore {
            conn,
            path,
            in_transaction: false,
        })
    }
}

#[cfg(unix)]
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // Best effort: the directory itself is 0700.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict(_path: &Path) {}

impl Store for SqliteStore {
    fn begin(&mut self) -> Result<(), StoreError> {
        if self.in_transaction {
            return Err(StoreError::Transaction("a transaction is already open"));
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.in_transaction = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if !self.in_transaction {
            return Err(StoreError::Transaction("commit outside a transaction"));
        }
        self.conn.execute_batch("COMMIT")?;
        self.in_transaction = false;
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        if !self.in_transaction {
            return Err(StoreError::Transaction("rollback outside a transaction"));
        }
        self.in_transaction = false;
        self.conn.execute_batch("ROLLBACK")?;
        Ok(())
    }

    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, country, url, time_zone, salt, created_at, name_latin FROM config
                 WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get::<_, i64>(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?
            .map(
                |(name, country, url, time_zone, salt, created_at, name_latin)| {
                    Ok::<_, StoreError>(Settings {
                        name,
                        country,
                        url,
                        time_zone,
                        salt,
                        created_at: timestamp(created_at)?,
                        name_latin,
                    })
                },
            )
            .transpose()
    }

    fn update_settings(&mut self, s: &Settings) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE config SET name = ?1, url = ?2, time_zone = ?3, name_latin = ?4 WHERE id = 1",
            params![s.name, s.url, s.time_zone, s.name_latin],
        )?;
        Ok(())
    }

    fn create(&mut self, s: &Settings) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO config (id, name, country, url, time_zone, salt, created_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                s.name,
                s.country,
                s.url,
                s.time_zone,
                s.salt,
                s.created_at.unix()
            ],
        )?;
        Ok(())
    }

    fn insert_key(&mut self, k: &StoredKey) -> Result<bool, StoreError> {
        let (status, since) = (k.status.as_str(), k.status.since());
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO keys
             (key_id, role, public_key, sealed, status, since, not_before, not_after, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                k.key_id.to_string(),
                k.role.as_str(),
                k.public_key.as_bytes().to_vec(),
                k.sealed,
                status,
                since,
                k.not_before.unix(),
                k.not_after.map(Timestamp::unix),
                k.created_at.unix()
            ],
        )?;
        Ok(inserted == 1)
    }

    fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key_id, role, public_key, sealed, status, since, not_before, not_after,
                    created_at
             FROM keys ORDER BY role = ?1, created_at, key_id",
        )?;
        let rows = stmt.query_map([KeyRole::Signing.as_str()], key_row)?;
        rows.map(|row| stored_key(row?)).collect()
    }

    fn set_key_status(&mut self, kid: &KeyId, status: KeyStatus) -> Result<bool, StoreError> {
        let (name, since) = (status.as_str(), status.since());
        let changed = self.conn.execute(
            "UPDATE keys SET status = ?2, since = ?3 WHERE key_id = ?1 AND role = ?4",
            params![kid.to_string(), name, since, KeyRole::Signing.as_str()],
        )?;
        Ok(changed == 1)
    }

    fn activate_key(&mut self, kid: &KeyId, from: Timestamp) -> Result<(), StoreError> {
        let active = KeyStatus::Active.as_str();
        self.conn.execute(
            "UPDATE keys SET status = ?3, since = NULL, not_before = min(not_before, ?2)
             WHERE key_id = ?1",
            params![kid.to_string(), from.unix(), active],
        )?;
        Ok(())
    }

    fn insert_credential(&mut self, c: &CredentialRecord) -> Result<Inserted, StoreError> {
        let (status, revoked_at) = (c.status.as_str(), c.status.since().map(Timestamp::unix));
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO credentials
             (id, record_id, type, key_id, issued_at, expires_at, status, revoked_at, text,
              proof, holder)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                c.id.to_string(),
                c.record_id,
                c.credential_type.as_str(),
                c.key_id.to_string(),
                c.issued_at.unix(),
                c.expires_at.unix(),
                status,
                revoked_at,
                c.text,
                c.proof,
                c.holder
            ])?;
        if inserted == 1 {
            return Ok(Inserted::Inserted);
        }
        let record_taken = match &c.record_id {
            Some(record) => self.credential_for_record(record)?.is_some(),
            None => false,
        };
        Ok(if record_taken {
            Inserted::RecordTaken
        } else {
            Inserted::IdTaken
        })
    }

    fn credential(&self, id: &CredentialId) -> Result<Option<CredentialRecord>, StoreError> {
        select_credential(&self.conn, "id", &id.to_string())
    }

    fn credential_for_record(
        &self,
        record_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        select_credential(&self.conn, "record_id", record_id)
    }

    fn revoke(&mut self, id: &CredentialId, at: Timestamp) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE credentials SET status = ?3, revoked_at = ?2 WHERE id = ?1 AND status = ?4",
            params![
                id.to_string(),
                at.unix(),
                CredentialStatus::Revoked { at }.as_str(),
                CredentialStatus::Issued.as_str()
            ],
        )?;
        Ok(changed == 1)
    }

    fn to_reissue(&self, which: &Reissuable) -> Result<Vec<CredentialRecord>, StoreError> {
        moved::to_reissue(&self.conn, which)
    }

    fn supersede(&mut self, id: &CredentialId, at: Timestamp) -> Result<bool, StoreError> {
        moved::supersede(&self.conn, id, at)
    }

    fn revoked_unexpired(&self, now: Timestamp) -> Result<Vec<Revoked>, StoreError> {
        vouched::revoked_unexpired(&self.conn, now)
    }

    fn insert_rule_version(&mut self, v: &RuleVersion) -> Result<(), StoreError> {
        vouched::insert_rule_version(&self.conn, v)
    }

    fn rule_versions(&self) -> Result<Vec<RuleVersion>, StoreError> {
        vouched::rule_versions(&self.conn)
    }

    fn set_proof(&mut self, kind: &str, row: &str, proof: &[u8]) -> Result<(), StoreError> {
        vouched::set_proof(&self.conn, kind, row, proof)
    }

    fn proofs(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        vouched::proofs(&self.conn, kind)
    }

    fn add_eu_signer(
        &mut self,
        kid: &str,
        s: &EuSigner,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        eu::add_signer(&self.conn, kid, s, at)
    }

    fn eu_signers(&self) -> Result<Vec<EuSigner>, StoreError> {
        eu::signers(&self.conn)
    }

    fn remove_eu_signer(&mut self, kid: &str) -> Result<bool, StoreError> {
        eu::remove_signer(&self.conn, kid)
    }

    fn set_eu_data(
        &mut self,
        kind: &str,
        all: &[(String, Vec<u8>)],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        eu::set_data(&self.conn, kind, all, at)
    }

    fn eu_data(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        eu::data(&self.conn, kind)
    }

    fn insert_eu_key(&mut self, key: &StoredEuKey) -> Result<(), StoreError> {
        eu::insert_key(&self.conn, key)
    }

    fn eu_keys(&self) -> Result<Vec<StoredEuKey>, StoreError> {
        eu::keys(&self.conn)
    }

    fn retire_eu_key(&mut self, key_id: &str) -> Result<(), StoreError> {
        eu::retire(&self.conn, key_id)
    }

    fn insert_eu_twin(&mut self, twin: &EuTwinRecord) -> Result<(), StoreError> {
        eu::insert_twin(&self.conn, twin)
    }

    fn eu_twin(&self, id: &CredentialId) -> Result<Option<EuTwinRecord>, StoreError> {
        eu::twin(&self.conn, id)
    }

    fn revoked_eu_twins(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(EuTwinRecord, Timestamp)>, StoreError> {
        eu::revoked_twins(&self.conn, now)
    }

    fn next_publication_sequence(&mut self) -> Result<u64, StoreError> {
        if !self.in_transaction {
            return Err(StoreError::Transaction(
                "a publication sequence is reserved inside a transaction",
            ));
        }
        // BEGIN IMMEDIATE holds the database's write lock: no other writer reads this maximum
        // until the transaction ends.
        let last: i64 = self.conn.query_row(
            "SELECT coalesce(max(sequence), 0) FROM publications",
            [],
            |r| r.get(0),
        )?;
        u64::try_from(last)
            .map(|l| l + 1)
            .map_err(|_| StoreError::Corrupt("a negative publication sequence"))
    }

    fn insert_publication(
        &mut self,
        sequence: u64,
        issued_at: Timestamp,
        content: &[u8],
        files: &[(String, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let sequence =
            i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a sequence out of range"))?;
        self.conn.execute(
            "INSERT INTO publications (sequence, issued_at, content) VALUES (?1, ?2, ?3)",
            params![sequence, issued_at.unix(), content],
        )?;
        for (name, bytes) in files {
            self.conn.execute(
                "INSERT INTO publication_files (sequence, name, bytes) VALUES (?1, ?2, ?3)",
                params![sequence, name, bytes],
            )?;
        }
        self.conn.execute(
            "DELETE FROM publication_files WHERE sequence < ?1 - 1",
            [sequence],
        )?;
        Ok(())
    }

    fn latest_sequence(&self) -> Result<Option<u64>, StoreError> {
        let last: Option<i64> =
            self.conn
                .query_row("SELECT max(sequence) FROM publications", [], |r| r.get(0))?;
        last.map(|s| u64::try_from(s).map_err(|_| StoreError::Corrupt("a negative sequence")))
            .transpose()
    }

    fn label(&self) -> String {
        format!("the SQLite store {}", self.path.display())
    }

    fn recent_publications(&self, n: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT content FROM publications ORDER BY sequence DESC LIMIT ?1")?;
        let limit = i64::try_from(n).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit], |r| r.get::<_, Vec<u8>>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn append_audit(&mut self, at: Timestamp, op: AuditOp, detail: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO audit (at, op, detail) VALUES (?1, ?2, ?3)",
            params![at.unix(), op.as_str(), detail],
        )?;
        Ok(())
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, op, detail FROM audit ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, at, op, detail) = row?;
            Ok(AuditEntry {
                seq: u64::try_from(seq).map_err(|_| corrupt("an audit sequence")())?,
                at: timestamp(at)?,
                op: op
                    .parse()
                    .map_err(|()| corrupt("an unknown audit operation")())?,
                detail,
            })
        })
        .collect()
    }

    fn lookup(&self) -> Result<Arc<dyn Lookup>, StoreError> {
        Ok(Arc::new(ReadPool {
            path: self.path.clone(),
            idle: Mutex::new(Vec::new()),
        }))
    }
}
