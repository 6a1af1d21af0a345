//! A registry that cannot split: the issuer's directory remembers which store published last
//! and the sequence it reached (`published.json`), so a store another one has overtaken (the
//! old SQLite file after `migrate`, a copy restored from a backup, a second database) refuses
//! to issue, revoke or publish, naming the store to use. `migrate` also marks the SQLite file
//! itself as moved (`store::sqlite::mark_moved`), wherever the file goes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IssuerError, StoreError};
use crate::store::Store;

/// The file in the issuer's directory that names the last publication's store and sequence.
pub const PUBLISHED_FILE: &str = "published.json";

/// What `published.json` says.
#[derive(Debug, Serialize, Deserialize)]
struct Published {
    sequence: u64,
    store: String,
}

/// Refuses `store` when the issuer in `dir` published a newer sequence than any of `store`'s own:
/// from another store, or from this one's file before an older copy replaced it. A directory without the file (an issuer from before it, or one that never
/// published) refuses nothing.
pub(crate) fn check(dir: &Path, store: &dyn Store) -> Result<(), StoreError> {
    let Ok(bytes) = std::fs::read(dir.join(PUBLISHED_FILE)) else {
        return Ok(());
    };
    let last: Published = serde_json::from_slice(&bytes)
        .map_err(|_| StoreError::Corrupt("published.json in the issuer's directory"))?;
    let latest = store.latest_sequence()?;
    if latest >= Some(last.sequence) {
        return Ok(());
    }
    Err(StoreError::Overtaken {
        sequence: last.sequence,
        theirs: last.store,
        ours: store.label(),
        latest: latest.unwrap_or(0),
    })
}

/// Records in `dir` that `store` published `sequence` (written whole or not at all).
pub(crate) fn record(dir: &Path, store: &dyn Store, sequence: u64) -> Result<(), IssuerError> {
    let path = dir.join(PUBLISHED_FILE);
    let last = Published {
        sequence,
        store: store.label(),
    };
    let json = serde_json::to_vec(&last).map_err(|_| StoreError::Corrupt("published.json"))?;
    propusk_trust_list::write_atomically(&path, &json).map_err(|e| IssuerError::io(&path, e))
}
