//! The verifier's local copy of its trust data, in SQLite under `--store`.

use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use propusk_spec::Timestamp;
use propusk_trust_list::{Bundle, BundleContent, Index, read_index, read_named, sha256_hex};
use rusqlite::{Connection, OptionalExtension, params};

use crate::accept;
use crate::error::VerifierError;
use crate::present::SyncOutcome;

/// The store's file inside `--store`.
pub const STORE_FILE: &str = "verifier.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    root_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bundle (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sequence INTEGER NOT NULL,
    jurisdiction TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    synced_at INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS http_cache (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    base_url TEXT NOT NULL,
    index_etag TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS delta (
    sequence INTEGER PRIMARY KEY,
    bytes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    newest_signed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS source (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kind TEXT NOT NULL CHECK (kind IN ('url', 'dir')),
    location TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trusted (
    root_key BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS door (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    policy TEXT NOT NULL
);
";

/// What the store knows of the bundle in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleMeta {
    /// Its sequence.
    pub sequence: u64,
    /// Its jurisdiction.
    pub jurisdiction: String,
    /// When the issuer made it (Unix seconds).
    pub issued_at: i64,
    /// When this verifier took it into force (Unix seconds).
    pub synced_at: i64,
}

/// The verifier's store.
pub struct Store {
    pub(crate) conn: Connection,
    root: VerifyingKey,
    pub(crate) dir: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn connect(dir: &Path) -> Result<Connection, VerifierError> {
    let conn = Connection::open(dir.join(STORE_FILE))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

impl Store {
    /// Sets up a store in `dir` pinned to `root`. Running it again with the same root changes
    /// nothing; with another root it is refused (the pinned root never changes silently).
    pub fn init(dir: &Path, root: VerifyingKey, now: Timestamp) -> Result<Self, VerifierError> {
        std::fs::create_dir_all(dir).map_err(|source| VerifierError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let conn = connect(dir)?;
        let existing: Option<Vec<u8>> = conn
            .query_row("SELECT root_key FROM config WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        match existing {
            Some(key) if key != root.as_bytes() => return Err(VerifierError::OtherRoot),
            Some(_) => {}
            None => {
                conn.execute(
                    "INSERT INTO config (id, root_key, created_at) VALUES (1, ?1, ?2)",
                    params![root.as_bytes().to_vec(), now.unix()],
                )?;
            }
        }
        Ok(Store {
            conn,
            root,
            dir: dir.to_path_buf(),
        })
    }

    /// The door policy this store's door judges by, when one was chosen.
    pub fn door_policy(&self) -> Result<Option<String>, VerifierError> {
        Ok(self
            .conn
            .query_row("SELECT policy FROM door WHERE id = 1", [], |r| r.get(0))
            .optional()?)
    }

    /// Chooses the door policy (`None`: none, each credential on its own type).
    pub fn set_door_policy(&self, policy: Option<&str>) -> Result<(), VerifierError> {
        match policy {
            Some(name) => self.conn.execute(
                "INSERT INTO door (id, policy) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET policy = excluded.policy",
                params![name],
            )?,
            None => self.conn.execute("DELETE FROM door", [])?,
        };
        Ok(())
    }

    /// Opens the store in `dir`, which `init` must have set up.
    pub fn open(dir: &Path) -> Result<Self, VerifierError> {
        if !dir.join(STORE_FILE).exists() {
            return Err(VerifierError::NotInitialised(dir.to_path_buf()));
        }
        let conn = connect(dir)?;
        let key: Option<Vec<u8>> = conn
            .query_row("SELECT root_key FROM config WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        let key: [u8; 32] = key
            .ok_or_else(|| VerifierError::NotInitialised(dir.to_path_buf()))?
            .try_into()
            .map_err(|_| VerifierError::Corrupt("the pinned root key"))?;
        let root = propusk_spec::strict::verifying_key(&key)
            .ok_or(VerifierError::Corrupt("the pinned root key"))?;
        Ok(Store {
            conn,
            root,
            dir: dir.to_path_buf(),
        })
    }

    /// The pinned root key.
    pub fn root(&self) -> &VerifyingKey {
        &self.root
    }

    /// The bundle in force, if any.
    pub fn meta(&self) -> Result<Option<BundleMeta>, VerifierError> {
        Ok(self
            .conn
            .query_row(
                "SELECT sequence, jurisdiction, issued_at, synced_at FROM bundle WHERE id = 1",
                [],
                |r| {
                    Ok(BundleMeta {
                        sequence: r.get::<_, i64>(0)? as u64,
                        jurisdiction: r.get(1)?,
                        issued_at: r.get(2)?,
                        synced_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// The bundle in force — the stored full bundle and the deltas applied on top of it, every
    /// root signature checked again — and what the store knows of it.
    pub fn bundle(&self) -> Result<Option<(Bundle, BundleMeta)>, VerifierError> {
        let Some(meta) = self.meta()? else {
            return Ok(None);
        };
        let content = self.content()?;
        let bundle = Bundle::from_content(content)
            .map_err(|_| VerifierError::Corrupt("the stored bundle"))?;
        Ok(Some((bundle, meta)))
    }

    fn content(&self) -> Result<BundleContent, VerifierError> {
        let (bytes, sequence, digest): (Vec<u8>, i64, String) = self.conn.query_row(
            "SELECT bytes, sequence, content_sha256 FROM bundle WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut stmt = self
            .conn
            .prepare("SELECT bytes FROM delta ORDER BY sequence")?;
        let deltas = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let sequence =
            u64::try_from(sequence).map_err(|_| VerifierError::Corrupt("the stored bundle"))?;
        accept::rebuild(
            &bytes,
            deltas.iter().map(Vec::as_slice),
            &self.root,
            sequence,
            &digest,
        )
    }

    /// The newest signed time this verifier has seen (Unix seconds).
    pub fn newest_signed(&self) -> Result<Option<i64>, VerifierError> {
        Ok(self
            .conn
            .query_row("SELECT newest_signed FROM clock WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Refuses a validation time earlier than the signed trust data in force (beyond the allowed
    /// skew): someone set the device clock back.
    pub fn check_clock(&self, at: Timestamp) -> Result<(), VerifierError> {
        accept::clock_guard(self.newest_signed()?, at)
    }

    /// Takes the bundle that `dir` (a published directory, a USB stick) names in its index into
    /// force: the index and the bundle must verify with the pinned root, the bundle must match
    /// the index's hash, be for the jurisdiction in force, and be newer than the bundle in force.
    /// Either all of it is in force afterwards, or nothing changed.
    pub fn sync_from_dir(
        &mut self,
        dir: &Path,
        now: Timestamp,
    ) -> Result<SyncOutcome, VerifierError> {
        let index = read_index(dir, &self.root)?;
        let file = |name: &str| read_named(dir, name).map_err(VerifierError::from);
        self.take(index, now, &mut |name| file(name))
    }

    /// Takes the publication `index` names into force: by the delta from the sequence in force
    /// when the index names one and it leads where the index says; else — none, or a delta
    /// that cannot be had, is damaged, or leads elsewhere — by the full bundle. `fetch` gets a
    /// file by name.
    pub(crate) fn take(
        &mut self,
        index: Index,
        now: Timestamp,
        fetch: &mut dyn FnMut(&str) -> Result<Vec<u8>, VerifierError>,
    ) -> Result<SyncOutcome, VerifierError> {
        let current = self.meta()?.map(|c| c.sequence);
        // A source behind the data in force (signed by the same root, only older) is lag: the
        // data in force stays and nothing is fetched.
        if let Some(held) = current.filter(|&held| held > index.sequence) {
            return Ok(SyncOutcome::Behind {
                source: index.sequence,
                held,
            });
        }
        if let Some(entry) = accept::delta_from(&index, current) {
            let taken = fetch(&entry.file).and_then(|bytes| {
                if sha256_hex(&bytes) != entry.sha256 {
                    return Err(VerifierError::IndexMismatch);
                }
                self.install_delta(&bytes, &index, now)
            });
            match taken {
                Ok(outcome) => return Ok(outcome),
                // A damaged store is repaired by the full bundle as well.
                Err(
                    VerifierError::Trust(_)
                    | VerifierError::IndexMismatch
                    | VerifierError::Io { .. }
                    | VerifierError::Network(_)
                    | VerifierError::Corrupt(_),
                ) => {}
                Err(other) => return Err(other),
            }
        }
        let bytes = fetch(&index.full)?;
        self.install(&bytes, Some(&index), now)
    }

    /// The index's ETag from the last sync over HTTP, and the base URL it came from.
    pub(crate) fn http_cache(&self) -> Result<Option<(String, String)>, VerifierError> {
        Ok(self
            .conn
            .query_row(
                "SELECT base_url, index_etag FROM http_cache WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Keeps the index's ETag for the next conditional request to `base`.
    pub(crate) fn set_http_cache(&self, base: &str, etag: &str) -> Result<(), VerifierError> {
        self.conn.execute(
            "INSERT INTO http_cache (id, base_url, index_etag) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET base_url = ?1, index_etag = ?2",
            params![base, etag],
        )?;
        Ok(())
    }

    /// Applies a signed delta to the bundle in force (see [`Store::sync_from_dir`]).
    pub fn install_delta(
        &mut self,
        bytes: &[u8],
        index: &Index,
        now: Timestamp,
    ) -> Result<SyncOutcome, VerifierError> {
        let current = self.content()?;
        let taken = accept::offered_delta(bytes, index, &self.root, &current, now)?;
        let (delta, content) = (taken.delta, taken.content);
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO delta (sequence, bytes) VALUES (?1, ?2)",
            params![delta.to as i64, bytes],
        )?;
        tx.execute(
            "UPDATE bundle SET sequence = ?1, issued_at = ?2, synced_at = ?3, content_sha256 = ?4 WHERE id = 1",
            params![delta.to as i64, delta.issued_at, now.unix(), delta.result_sha256],
        )?;
        Self::saw(&tx, taken.newest)?;
        tx.commit()?;
        Ok(SyncOutcome::Updated {
            from: Some(current.sequence),
            to: content.sequence,
        })
    }

    /// Records the signed time of the trust data taken into force, for the clock guard. It is
    /// that data's time, not the largest ever seen: a newer publication dated right is the way
    /// back from one dated in the future.
    fn saw(tx: &rusqlite::Transaction<'_>, newest: i64) -> Result<(), VerifierError> {
        tx.execute(
            "INSERT INTO clock (id, newest_signed) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET newest_signed = ?1",
            params![newest],
        )?;
        Ok(())
    }

    /// Takes a signed bundle into force (see [`Store::sync_from_dir`]); `index`, when given, must
    /// name it.
    pub fn install(
        &mut self,
        bytes: &[u8],
        index: Option<&Index>,
        now: Timestamp,
    ) -> Result<SyncOutcome, VerifierError> {
        let current = self.meta()?;
        let digest_in_force: Option<String> = match &current {
            Some(_) => Some(self.conn.query_row(
                "SELECT content_sha256 FROM bundle WHERE id = 1",
                [],
                |r| r.get(0),
            )?),
            None => None,
        };
        let in_force = current
            .as_ref()
            .zip(digest_in_force.as_deref())
            .map(|(c, digest)| accept::InForce {
                sequence: c.sequence,
                jurisdiction: &c.jurisdiction,
                digest,
            });
        let (bundle, digest, newest) =
            match accept::offered_bundle(bytes, index, &self.root, in_force, now)? {
                accept::Offered::UpToDate(sequence) => return Ok(SyncOutcome::UpToDate(sequence)),
                accept::Offered::Newer {
                    bundle,
                    digest,
                    newest,
                } => (bundle, digest, newest),
            };
        let content = bundle.content();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO bundle (id, sequence, jurisdiction, issued_at, synced_at, content_sha256, bytes)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET sequence = ?1, jurisdiction = ?2, issued_at = ?3,
                 synced_at = ?4, content_sha256 = ?5, bytes = ?6",
            params![content.sequence as i64, content.jurisdiction, content.issued_at, now.unix(), digest, bytes],
        )?;
        tx.execute("DELETE FROM delta", [])?;
        Self::saw(&tx, newest)?;
        tx.commit()?;
        Ok(SyncOutcome::Updated {
            from: current.map(|c| c.sequence),
            to: content.sequence,
        })
    }

    /// Where the store lives.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STORE_FILE)
    }
}
