//! Several issuers in one verifier: besides the root it is pinned to (its own jurisdiction), a
//! store may trust the roots of other issuers (neighbouring countries). Each added root has a
//! store of its own under `roots/` — its own bundle, sequence, deltas, clock guard and sync
//! source — so that one root's data never mixes with another's, and a sync of one is atomic
//! and independent of the others.

use std::path::PathBuf;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{Timestamp, hex};
use propusk_trust_list::{Lang, Locale, TrustState, key_id_of, words};
use rusqlite::{OptionalExtension, params};

use crate::error::VerifierError;
use crate::present::SyncOutcome;
use crate::store::Store;

/// The directory of the added roots' stores, inside `--store`.
pub const ROOTS_DIR: &str = "roots";

/// Where a root's trust data is synced from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The issuer's server (or a static mirror of its published files).
    Url(String),
    /// A published directory (a USB stick, a mounted share).
    Dir(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Url(url) => f.write_str(url),
            Source::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// A root trusted besides the store's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedRoot {
    /// The root public key.
    pub key: VerifyingKey,
    /// The name the verifier's operator gave it.
    pub name: String,
    /// When it was added (Unix seconds).
    pub added_at: i64,
}

impl TrustedRoot {
    /// Its key id (8 hex digits), as `trust list` shows it and `trust remove` takes it.
    pub fn key_id(&self) -> String {
        key_id_of(&self.key).to_string()
    }
}

impl Store {
    fn root_dir(&self, key: &VerifyingKey) -> PathBuf {
        self.dir.join(ROOTS_DIR).join(hex::encode(key.as_bytes()))
    }

    /// The roots trusted besides the store's own, in the order they were added.
    pub fn trusted(&self) -> Result<Vec<TrustedRoot>, VerifierError> {
        let mut stmt = self
            .conn
            .prepare("SELECT root_key, name, added_at FROM trusted ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut roots = Vec::new();
        for row in rows {
            let (key, name, added_at) = row?;
            let key = <[u8; 32]>::try_from(key.as_slice())
                .ok()
                .and_then(|k| propusk_spec::strict::verifying_key(&k))
                .ok_or(VerifierError::Corrupt("a trusted root key"))?;
            roots.push(TrustedRoot {
                key,
                name,
                added_at,
            });
        }
        Ok(roots)
    }

    /// The store of an added root.
    pub fn root_store(&self, root: &TrustedRoot) -> Result<Store, VerifierError> {
        let store = Store::open(&self.root_dir(&root.key))?;
        if store.root() != &root.key {
            return Err(VerifierError::Corrupt("an added root's store"));
        }
        Ok(store)
    }

    /// Trusts another issuer's root besides the store's own, under `name` (else the issuer's
    /// own name from its trust data), returned with the sync's outcome: its trust data is synced from
    /// `source` by `sync` first (which should remember the source, as [`Store::sync_from`]
    /// does), and the root is trusted only once that succeeded (else nothing
    /// is left behind). Refused for a root trusted already.
    pub fn add_root(
        &mut self,
        key: VerifyingKey,
        name: Option<&str>,
        source: &Source,
        now: Timestamp,
        sync: &mut dyn FnMut(&mut Store, &Source) -> Result<SyncOutcome, VerifierError>,
    ) -> Result<(SyncOutcome, String), VerifierError> {
        if &key == self.root() || self.trusted()?.iter().any(|r| r.key == key) {
            return Err(VerifierError::AlreadyTrusted(key_id_of(&key).to_string()));
        }
        let dir = self.root_dir(&key);
        // Left over from an add that was interrupted: it was never trusted.
        let _ = std::fs::remove_dir_all(&dir);
        let added = Store::init(&dir, key, now).and_then(|mut store| {
            let outcome = sync(&mut store, source)?;
            // Without a name given, the issuer's own from its trust data.
            let name = name.map_or_else(|| store.issuer_name(), str::to_owned);
            Ok((outcome, name))
        });
        let (outcome, name) = match added {
            Ok(outcome) => outcome,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        self.conn.execute(
            "INSERT INTO trusted (root_key, name, added_at) VALUES (?1, ?2, ?3)",
            params![key.as_bytes().to_vec(), name, now.unix()],
        )?;
        Ok((outcome, name))
    }

    /// The issuer's name as its trust data in force gives it (its first key's); empty without
    /// trust data.
    pub fn issuer_name(&self) -> String {
        self.bundle()
            .ok()
            .flatten()
            .and_then(|(b, _)| b.content().keys.first().map(|k| k.issuer.clone()))
            .unwrap_or_default()
    }

    /// Stops trusting the added root with this key id; its store is deleted. The store's own
    /// root cannot be removed.
    pub fn remove_root(&mut self, key_id: &str) -> Result<TrustedRoot, VerifierError> {
        let wanted = key_id.trim().to_ascii_lowercase();
        if key_id_of(self.root()).to_string() == wanted {
            return Err(VerifierError::HomeRoot(wanted));
        }
        let matching: Vec<TrustedRoot> = self
            .trusted()?
            .into_iter()
            .filter(|r| r.key_id() == wanted || hex::encode(r.key.as_bytes()) == wanted)
            .collect();
        let [root] = matching.as_slice() else {
            return Err(VerifierError::NoSuchRoot(wanted));
        };
        self.conn.execute(
            "DELETE FROM trusted WHERE root_key = ?1",
            params![root.key.as_bytes().to_vec()],
        )?;
        let dir = self.root_dir(&root.key);
        std::fs::remove_dir_all(&dir).map_err(|source| VerifierError::Io { path: dir, source })?;
        Ok(root.clone())
    }

    /// Syncs from `source` (see [`Store::sync_from_dir`] and [`Store::sync_from_url`]) and,
    /// when it succeeded, remembers the source for a later sync without one.
    pub fn sync_from(
        &mut self,
        source: &Source,
        now: Timestamp,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<SyncOutcome, VerifierError> {
        let outcome = match source {
            Source::Dir(dir) => self.sync_from_dir(dir, now),
            Source::Url(url) => self.sync_from_url(url, now, progress),
        }?;
        self.set_source(source)?;
        Ok(outcome)
    }

    /// Where this store's trust data was last synced from.
    pub fn source(&self) -> Result<Option<Source>, VerifierError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT kind, location FROM source WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(row.map(|(kind, location)| match kind.as_str() {
            "url" => Source::Url(location),
            _ => Source::Dir(PathBuf::from(location)),
        }))
    }

    /// Remembers where the trust data was synced from, for a sync without a source.
    pub fn set_source(&self, source: &Source) -> Result<(), VerifierError> {
        let (kind, location) = match source {
            Source::Url(url) => ("url", url.clone()),
            // Absolute, so that a later sync from another working directory finds it.
            Source::Dir(dir) => (
                "dir",
                std::fs::canonicalize(dir)
                    .unwrap_or_else(|_| dir.clone())
                    .to_string_lossy()
                    .into_owned(),
            ),
        };
        self.conn.execute(
            "INSERT INTO source (id, kind, location) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET kind = ?1, location = ?2",
            params![kind, location],
        )?;
        Ok(())
    }
}

/// One trusted root as `verifier trust list` and `verifier status` show it.
#[derive(Clone, Debug)]
pub struct RootView {
    /// The root's key id.
    pub key_id: String,
    /// The store's own root (its jurisdiction's rules decide), or one added besides.
    pub home: bool,
    /// The operator's name for an added root; the issuer's own name (from its keys) else.
    pub name: String,
    /// Where it syncs from, once known.
    pub source: Option<Source>,
    /// The trust data in force: jurisdiction, sequence, when made.
    pub data: Option<(String, u64, i64)>,
    /// Its state at the time asked.
    pub state: TrustState,
}

impl Store {
    /// Every root the store trusts, its own first, with the state of each one's trust data at
    /// `at`. An added root whose store is damaged shows as missing its data.
    pub fn roots(&self, at: Timestamp) -> Result<Vec<RootView>, VerifierError> {
        let view = |store: &Store, home: bool, name: Option<&str>| {
            let content = store
                .bundle()
                .ok()
                .flatten()
                .map(|(b, _)| b.content().clone());
            let own_name = content
                .as_ref()
                .and_then(|c| c.keys.first())
                .map(|k| k.issuer.clone());
            Ok::<_, VerifierError>(RootView {
                key_id: key_id_of(store.root()).to_string(),
                home,
                name: name.map(str::to_owned).or(own_name).unwrap_or_default(),
                source: store.source()?,
                state: content
                    .as_ref()
                    .map_or(TrustState::Missing, |c| TrustState::of(c, at)),
                data: content.map(|c| (c.jurisdiction, c.sequence, c.issued_at)),
            })
        };
        let mut roots = vec![view(self, true, None)?];
        for root in self.trusted()? {
            roots.push(view(&self.root_store(&root)?, false, Some(&root.name))?);
        }
        Ok(roots)
    }
}

impl RootView {
    /// One JSON object: `root_key_id`, `home`, `name`, `source`, `jurisdiction`, `sequence`,
    /// `issued_at` (RFC 3339), `state`.
    pub fn to_json(&self) -> serde_json::Value {
        let (jurisdiction, sequence, issued_at) = match &self.data {
            Some((j, s, i)) => (
                Some(j.clone()),
                Some(*s),
                Timestamp::from_unix(*i).map(|t| t.to_string()),
            ),
            None => (None, None, None),
        };
        serde_json::json!({
            "root_key_id": self.key_id,
            "home": self.home,
            "name": self.name,
            "source": self.source.as_ref().map(ToString::to_string),
            "jurisdiction": jurisdiction,
            "sequence": sequence,
            "issued_at": issued_at,
            "state": self.state.as_str(),
        })
    }

    /// One line for a person, in the locale's language and time zone.
    pub fn to_text(&self, locale: &Locale, at: Timestamp) -> String {
        let ru = locale.lang == Lang::Ru;
        let role = match (self.home, ru) {
            (true, false) => "own",
            (true, true) => "свой",
            (false, false) => "added",
            (false, true) => "добавлен",
        };
        let data = match &self.data {
            Some((jurisdiction, sequence, made)) => {
                let state = words::trust_state(self.state, locale.lang);
                let age = locale.age(at.unix() - made);
                if ru {
                    format!("{jurisdiction}, выпуск {sequence}, {state}, выпущены {age} назад")
                } else {
                    format!("{jurisdiction}, sequence {sequence}, {state}, made {age} ago")
                }
            }
            None if ru => "данных проверки нет".to_owned(),
            None => "no trust data yet".to_owned(),
        };
        let source = self.source.as_ref().map_or_else(String::new, |s| {
            if ru {
                format!(", источник {s}")
            } else {
                format!(", from {s}")
            }
        });
        format!("{}  {role}  {}: {data}{source}", self.key_id, self.name)
    }
}
