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
CREATE TABLE IF NOT EXISTS trust (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    root_key BLOB NOT NULL,
    bundle BLOB NOT NULL
);
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
        Ok(WalletStore { conn })
    }

    /// Keeps `bundle` (already verified with `root`) as the wallet's trust data.
    pub(crate) fn set_trust(&self, root: &VerifyingKey, bundle: &[u8]) -> Result<(), WalletError> {
        self.conn.execute(
            "INSERT INTO trust (id, root_key, bundle) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET root_key = ?1, bundle = ?2",
            params![root.as_bytes().to_vec(), bundle],
        )?;
        Ok(())
    }

    /// The root key and the bundle bytes, when the wallet has trust data.
    pub(crate) fn trust(&self) -> Result<Option<(VerifyingKey, Vec<u8>)>, WalletError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .query_row("SELECT root_key, bundle FROM trust WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((root, bytes)) = row else {
            return Ok(None);
        };
        let root = <[u8; 32]>::try_from(root)
            .ok()
            .and_then(|b| propusk_spec::strict::verifying_key(&b))
            .ok_or(WalletError::Corrupt("malformed root key"))?;
        Ok(Some((root, bytes)))
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
