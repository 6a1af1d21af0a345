//! The wallet's SQLite file: every SQL statement of the wallet.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{CredentialId, Timestamp, UnverifiedCredential};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::WalletError;

/// The store's file inside `--dir`.
pub const STORE_FILE: &str = "wallet.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    type TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    person TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS roots (
    root_key BLOB PRIMARY KEY,
    bundle BLOB NOT NULL,
    source TEXT
);
";

/// A wallet made before it held several roots kept its one root in `trust`: moved to `roots`,
/// where it is the first (the wallet's own).
const ONE_ROOT_BEFORE: &str = "
INSERT OR IGNORE INTO roots (root_key, bundle) SELECT root_key, bundle FROM trust;
DROP TABLE trust;
";

/// One stored credential's columns.
pub(crate) struct Row<'a> {
    pub(crate) id: &'a CredentialId,
    pub(crate) text: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) person: &'a str,
    pub(crate) now: Timestamp,
}

/// A trusted root as stored: its key, its bundle's bytes, where they were taken from.
pub(crate) struct Held {
    pub(crate) root: VerifyingKey,
    pub(crate) bundle: Vec<u8>,
    pub(crate) source: Option<String>,
}

pub(crate) struct WalletStore {
    conn: Connection,
}

impl WalletStore {
    /// Opens the wallet in `dir`; `create`: make it when there is none (to add to it), else a
    /// missing wallet is [`WalletError::NoWallet`] (a mistyped `--dir` creates nothing).
    pub(crate) fn open(dir: &Path, create: bool) -> Result<Self, WalletError> {
        if !create && !dir.join(STORE_FILE).exists() {
            return Err(WalletError::NoWallet(dir.to_path_buf()));
        }
        std::fs::create_dir_all(dir).map_err(|source| WalletError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(STORE_FILE);
        let conn = Connection::open(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA)?;
        let before: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'trust'",
            [],
            |r| r.get(0),
        )?;
        if before {
            conn.execute_batch(&format!("BEGIN; {ONE_ROOT_BEFORE} COMMIT;"))?;
        }
        // The holder's own note of the name, added after the first wallets were made.
        let noted: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('credentials') WHERE name = 'name'",
            [],
            |r| r.get(0),
        )?;
        if !noted {
            conn.execute_batch("ALTER TABLE credentials ADD COLUMN name TEXT")?;
        }
        Ok(WalletStore { conn })
    }

    /// Keeps `bundle` (already verified with `root`) as the trust data of `root`: a root held
    /// already has its data replaced (and its source, when one is given); another is added after
    /// those held (the first ever added is the wallet's own).
    pub(crate) fn set_trust(
        &self,
        root: &VerifyingKey,
        bundle: &[u8],
        source: Option<&str>,
    ) -> Result<(), WalletError> {
        self.conn.execute(
            "INSERT INTO roots (root_key, bundle, source) VALUES (?1, ?2, ?3)
             ON CONFLICT (root_key) DO UPDATE SET bundle = ?2, source = coalesce(?3, source)",
            params![root.as_bytes().to_vec(), bundle, source],
        )?;
        Ok(())
    }

    /// Every root the wallet trusts with its bundle bytes and where it was last taken from, the
    /// wallet's own first, then in the order they were added.
    pub(crate) fn trusts(&self) -> Result<Vec<Held>, WalletError> {
        let mut stmt = self
            .conn
            .prepare("SELECT root_key, bundle, source FROM roots ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut held = Vec::new();
        for row in rows {
            let (root, bundle, source) = row?;
            let root = <[u8; 32]>::try_from(root)
                .ok()
                .and_then(|b| propusk_spec::strict::verifying_key(&b))
                .ok_or(WalletError::Corrupt("malformed root key"))?;
            held.push(Held {
                root,
                bundle,
                source,
            });
        }
        Ok(held)
    }

    /// Forgets a root and its trust data; `false` when it was not held.
    pub(crate) fn remove_trust(&self, root: &VerifyingKey) -> Result<bool, WalletError> {
        let removed = self.conn.execute(
            "DELETE FROM roots WHERE root_key = ?1",
            [root.as_bytes().to_vec()],
        )?;
        Ok(removed == 1)
    }

    /// Stores a credential once; `false` when it was already there.
    pub(crate) fn insert(
        &self,
        unverified: &UnverifiedCredential,
        text: &str,
        person: &str,
        now: Timestamp,
    ) -> Result<bool, WalletError> {
        let c = unverified.unverified_claims();
        self.insert_row(&Row {
            id: &c.id,
            text,
            kind: c.credential_type().as_str(),
            issued_at: c.issued_at.unix(),
            expires_at: c.expires_at.unix(),
            person,
            now,
        })
    }

    /// Stores one credential (of either kind) unless its id is held; `true` when stored.
    pub(crate) fn insert_row(&self, row: &Row<'_>) -> Result<bool, WalletError> {
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO credentials (id, text, type, issued_at, expires_at, person, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![row.id.to_string(), row.text, row.kind, row.issued_at, row.expires_at, row.person, row.now.unix()],
        )?;
        Ok(inserted == 1)
    }

    /// Keeps `name` as the holder's own note on a credential; `false` when it is not held.
    pub(crate) fn set_name(&self, id: &CredentialId, name: &str) -> Result<bool, WalletError> {
        let set = self.conn.execute(
            "UPDATE credentials SET name = ?2 WHERE id = ?1",
            params![id.to_string(), name],
        )?;
        Ok(set == 1)
    }

    /// Every note of a name, by credential id.
    pub(crate) fn names(&self) -> Result<Vec<(String, String)>, WalletError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name FROM credentials WHERE name IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The credential text of an id.
    pub(crate) fn text(&self, id: &CredentialId) -> Result<Option<String>, WalletError> {
        Ok(self
            .conn
            .query_row(
                "SELECT text FROM credentials WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every credential's text, oldest first.
    pub(crate) fn texts(&self) -> Result<Vec<String>, WalletError> {
        let mut stmt = self
            .conn
            .prepare("SELECT text FROM credentials ORDER BY issued_at, id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wallet made when it held one root keeps it, as its own, when opened now.
    #[test]
    fn a_wallet_of_one_root_keeps_it_as_its_own() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let old = Connection::open(dir.path().join(STORE_FILE)).unwrap_or_else(|e| panic!("{e}"));
        old.execute_batch(
            "CREATE TABLE trust (id INTEGER PRIMARY KEY CHECK (id = 1), root_key BLOB NOT NULL,
             bundle BLOB NOT NULL);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        old.execute(
            "INSERT INTO trust VALUES (1, ?1, x'0102')",
            [root.as_bytes().to_vec()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        drop(old);
        for _ in 0..2 {
            let store = WalletStore::open(dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
            let held = store.trusts().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(held.len(), 1);
            assert_eq!(
                (held[0].root, held[0].bundle.as_slice()),
                (root, &[1u8, 2][..])
            );
        }
    }
}
