//! The embedded default: one SQLite file, `issuer.sqlite`, in the issuer's directory (WAL,
//! `synchronous=FULL`, owner-only). Every SQL statement of the issuer is in this file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{CredentialId, KeyId, MAX_TIMESTAMP, Timestamp};
use propusk_trust_list::{EuSigner, KeyStatus};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use super::{CredentialRecord, Inserted, Lookup, Settings, Store, StoredKey};
use crate::error::StoreError;
use crate::records::{AuditEntry, AuditOp, CredentialStatus, KeyRole};

/// The store's file inside the issuer's directory.
pub const STORE_FILE: &str = "issuer.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    url TEXT,
    time_zone TEXT NOT NULL,
    salt BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('root', 'signing')),
    public_key BLOB NOT NULL,
    sealed BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('next', 'active', 'retired', 'compromised')),
    since INTEGER,
    not_before INTEGER NOT NULL,
    not_after INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    record_id TEXT UNIQUE,
    type TEXT NOT NULL,
    key_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'revoked')),
    revoked_at INTEGER,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    op TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS eu_signers (
    key_id TEXT PRIMARY KEY,
    der BLOB NOT NULL,
    country TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS publications (
    sequence INTEGER PRIMARY KEY,
    issued_at INTEGER NOT NULL,
    content BLOB NOT NULL
);
";

const CREDENTIAL_COLUMNS: &str =
    "id, record_id, type, key_id, issued_at, expires_at, status, revoked_at, text";

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

fn corrupt(what: &'static str) -> impl Fn() -> StoreError {
    move || StoreError::Corrupt(what)
}

fn timestamp(secs: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix(secs).ok_or(StoreError::Corrupt("a time out of range"))
}

fn key_id(hex: &str) -> Result<KeyId, StoreError> {
    KeyId::from_hex(hex).ok_or(StoreError::Corrupt("a malformed key id"))
}

type KeyRow = (
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
);

fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn stored_key(row: KeyRow) -> Result<StoredKey, StoreError> {
    let (kid, role, public, sealed, status, since, not_before, not_after, created_at) = row;
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| StoreError::Corrupt("a malformed public key"))?;
    Ok(StoredKey {
        key_id: key_id(&kid)?,
        role: role
            .parse()
            .map_err(|()| StoreError::Corrupt("an unknown key role"))?,
        public_key: VerifyingKey::from_bytes(&public)
            .map_err(|_| StoreError::Corrupt("a malformed public key"))?,
        sealed,
        status: KeyStatus::from_parts(&status, since)
            .ok_or(StoreError::Corrupt("an unknown key status"))?,
        not_before: timestamp(not_before)?,
        // Stores made before keys could have no end hold a far-future sentinel for the root.
        not_after: not_after
            .filter(|&t| t <= MAX_TIMESTAMP)
            .map(timestamp)
            .transpose()?,
        created_at: timestamp(created_at)?,
    })
}

type CredentialRow = (
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
    String,
    Option<i64>,
    String,
);

fn credential_row(r: &Row<'_>) -> rusqlite::Result<CredentialRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn credential_record(row: CredentialRow) -> Result<CredentialRecord, StoreError> {
    let (id, record_id, kind, kid, issued_at, expires_at, status, revoked_at, text) = row;
    let revoked_at = revoked_at.map(timestamp).transpose()?;
    let status = CredentialStatus::from_parts(&status, revoked_at)
        .ok_or(StoreError::Corrupt("an unknown credential status"))?;
    Ok(CredentialRecord {
        id: id
            .parse()
            .map_err(|_| StoreError::Corrupt("a malformed credential id"))?,
        record_id,
        credential_type: kind
            .parse()
            .map_err(|_| StoreError::Corrupt("an unknown credential type"))?,
        key_id: key_id(&kid)?,
        issued_at: timestamp(issued_at)?,
        expires_at: timestamp(expires_at)?,
        status,
        text,
    })
}

fn select_credential(
    conn: &Connection,
    column: &str,
    value: &str,
) -> Result<Option<CredentialRecord>, StoreError> {
    let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE {column} = ?1");
    conn.prepare_cached(&sql)?
        .query_row([value], credential_row)
        .optional()?
        .map(credential_record)
        .transpose()
}

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
                "SELECT name, country, url, time_zone, salt, created_at FROM config WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()?
            .map(|(name, country, url, time_zone, salt, created_at)| {
                Ok::<_, StoreError>(Settings {
                    name,
                    country,
                    url,
                    time_zone,
                    salt,
                    created_at: timestamp(created_at)?,
                })
            })
            .transpose()
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
             (id, record_id, type, key_id, issued_at, expires_at, status, revoked_at, text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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
                c.text
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

    fn revoked_unexpired(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(CredentialId, Timestamp)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, expires_at FROM credentials WHERE status = ?2 AND expires_at > ?1",
        )?;
        let revoked = CredentialStatus::Revoked { at: now }.as_str();
        let rows = stmt.query_map(params![now.unix(), revoked], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (id, expires) = row?;
            let id = id
                .parse()
                .map_err(|_| StoreError::Corrupt("a malformed credential id"))?;
            Ok((id, timestamp(expires)?))
        })
        .collect()
    }

    fn add_eu_signer(
        &mut self,
        kid: &str,
        signer: &EuSigner,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO eu_signers (key_id, der, country, added_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![kid, signer.der, signer.country, at.unix()],
        )?;
        Ok(inserted == 1)
    }

    fn eu_signers(&self) -> Result<Vec<EuSigner>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT der, country FROM eu_signers ORDER BY key_id")?;
        let rows = stmt.query_map([], |r| {
            Ok(EuSigner {
                der: r.get(0)?,
                country: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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
    ) -> Result<(), StoreError> {
        let sequence =
            i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a sequence out of range"))?;
        self.conn.execute(
            "INSERT INTO publications (sequence, issued_at, content) VALUES (?1, ?2, ?3)",
            params![sequence, issued_at.unix(), content],
        )?;
        Ok(())
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

/// Read-only SQLite connections for the portal, so that lookups wait neither for the issuer's
/// writes nor for each other. At most [`ReadPool::IDLE`] idle connections are kept.
struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    const IDLE: usize = 16;

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(c) => c,
            None => Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < Self::IDLE
        {
            idle.push(conn);
        }
        result
    }
}

impl Lookup for ReadPool {
    fn credential(&self, id: &CredentialId) -> Result<Option<CredentialRecord>, StoreError> {
        self.with(|conn| select_credential(conn, "id", &id.to_string()))
    }
}
