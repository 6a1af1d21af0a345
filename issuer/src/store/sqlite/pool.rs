//! The portal's concurrent reads: a small pool of read-only connections.

use std::path::PathBuf;
use std::sync::Mutex;

use propusk_spec::CredentialId;
use rusqlite::{Connection, OpenFlags};

use super::rows::select_credential;
use crate::error::StoreError;
use crate::store::{CredentialRecord, Lookup};

/// Read-only SQLite connections for the portal, so that lookups wait neither for the issuer's
/// writes nor for each other. At most [`ReadPool::IDLE`] idle connections are kept (as many as
/// a loaded portal has lookups in flight: fewer made it open a connection per request).
pub(super) struct ReadPool {
    pub(super) path: PathBuf,
    pub(super) idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    const IDLE: usize = 64;

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

    fn latest_publication(&self) -> Result<Option<u64>, StoreError> {
        self.with(|conn| {
            let last: Option<i64> =
                conn.query_row("SELECT max(sequence) FROM publications", [], |r| r.get(0))?;
            last.map(|s| u64::try_from(s).map_err(|_| StoreError::Corrupt("a negative sequence")))
                .transpose()
        })
    }

    fn publication_files(&self, sequence: u64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let sequence =
            i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a sequence out of range"))?;
        self.with(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT name, bytes FROM publication_files WHERE sequence = ?1")?;
            let rows = stmt.query_map([sequence], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}
