//! The portal's concurrent reads on PostgreSQL: a small pool of connections, each opened when
//! needed; one that failed is dropped, so that the pool heals when the database returns.

use std::sync::Mutex;

use propusk_spec::CredentialId;

use super::conn::Conn;
use super::connect;
use super::rows::{CredentialKey, select_credential};
use crate::error::StoreError;
use crate::store::{CredentialRecord, Lookup};

pub(super) struct PgLookup {
    url: String,
    idle: Mutex<Vec<Conn>>,
}

impl PgLookup {
    /// Connections kept idle at most.
    const IDLE: usize = 32;

    pub(super) fn new(url: &str) -> Self {
        PgLookup {
            url: url.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut client = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => Conn::new(connect(&self.url)?),
        };
        let result = f(&mut client);
        if result.is_ok()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < Self::IDLE
        {
            idle.push(client);
        }
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
