//! The portal's concurrent reads on PostgreSQL: a bounded pool of connections, each opened when
//! needed. At most [`PgLookup::MAX`] are open at once (more would only make the database's
//! processes fight over the cores); a lookup waits for a free one. A connection that failed is
//! dropped, so that the pool heals when the database returns.

use std::sync::{Condvar, Mutex};

use propusk_spec::CredentialId;

use super::conn::Conn;
use super::connect;
use super::rows::{CredentialKey, select_credential};
use crate::error::StoreError;
use crate::store::{CredentialRecord, Lookup};

/// Idle connections, and how many are open in all (idle or in use).
struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

pub(super) struct PgLookup {
    url: String,
    pool: Mutex<Pool>,
    freed: Condvar,
}

impl PgLookup {
    /// Connections open at most, per server.
    const MAX: usize = 8;

    pub(super) fn new(url: &str) -> Self {
        PgLookup {
            url: url.to_owned(),
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn poisoned() -> StoreError {
        StoreError::Unavailable("the connection pool's lock is poisoned".into())
    }

    /// A connection: an idle one, a new one while fewer than `MAX` are open, else the next one
    /// freed.
    fn take(&self) -> Result<Conn, StoreError> {
        let mut pool = self.pool.lock().map_err(|_| Self::poisoned())?;
        loop {
            if let Some(conn) = pool.idle.pop() {
                if !conn.is_closed() {
                    return Ok(conn);
                }
                pool.open -= 1;
                continue;
            }
            if pool.open < Self::MAX {
                pool.open += 1;
                drop(pool);
                return connect(&self.url).map(Conn::new).inspect_err(|_| {
                    if let Ok(mut pool) = self.pool.lock() {
                        pool.open -= 1;
                    }
                    self.freed.notify_one();
                });
            }
            pool = self.freed.wait(pool).map_err(|_| Self::poisoned())?;
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.take()?;
        let result = f(&mut conn);
        if let Ok(mut pool) = self.pool.lock() {
            if result.is_ok() {
                pool.idle.push(conn);
            } else {
                // It may be broken: opened anew next time.
                pool.open -= 1;
            }
        }
        self.freed.notify_one();
        result
    }
}

impl Lookup for PgLookup {
    fn credential(&self, id: &CredentialId) -> Result<Option<CredentialRecord>, StoreError> {
        self.with(|c| select_credential(c, CredentialKey::Id, &id.to_string()))
    }

    fn latest_publication(&self) -> Result<Option<u64>, StoreError> {
        self.with(|c| {
            let last: Option<i64> = c
                .query_one("SELECT max(sequence) FROM publications", &[])?
                .get(0);
            last.map(|s| u64::try_from(s).map_err(|_| StoreError::Corrupt("a negative sequence")))
                .transpose()
        })
    }

    fn publication_files(&self, sequence: u64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let sequence =
            i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a sequence out of range"))?;
        self.with(|c| {
            Ok(c.query(
                "SELECT name, bytes FROM publication_files WHERE sequence = $1",
                &[&sequence],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }
}
