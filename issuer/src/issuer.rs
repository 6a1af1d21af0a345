//! The issuer itself: created once with its root and first signing key, opened over its store,
//! unlocked with the passphrase when a secret key is needed.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use propusk_input::InputError;
use propusk_spec::{CredentialId, Timestamp, short_link};
use propusk_trust_list::{KeyStatus, RuleSet, Rules, write_atomically};

use crate::error::IssuerError;
use crate::records::Row;
use crate::records::{AuditOp, KeyRole};
use crate::secret::{Vault, random_bytes};
use crate::store::sqlite::STORE_FILE;
use crate::store::{PgStore, Settings, SqliteStore, Store, is_postgres_url};
use crate::token::{PKCS11_FILE, Token};

/// Where an issuer's store is: the SQLite file in its directory (the embedded default), or a
/// PostgreSQL database that several servers share. `Debug` never shows the URL (it may hold a
/// password).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Database {
    /// `issuer.sqlite` in the issuer's directory.
    #[default]
    Embedded,
    /// A PostgreSQL database, by its URL (`postgres://user@host:5432/name`).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Embedded => f.write_str("Embedded"),
            Database::Postgres(_) => f.write_str("Postgres(…)"),
        }
    }
}

impl Database {
    /// The database a `--database` value (or `PROPUSK_DATABASE_URL`) names: none or empty is
    /// the embedded default; a `postgres://` URL is PostgreSQL; anything else is refused.
    pub fn from_url(url: Option<&str>) -> Result<Self, IssuerError> {
        match url.map(str::trim) {
            None | Some("") => Ok(Database::Embedded),
            Some(url) if is_postgres_url(url) => Ok(Database::Postgres(url.to_owned())),
            Some(_) => Err(InputError::field(
                "--database",
                "a PostgreSQL URL (postgres://user@host:5432/name)",
            )
            .into()),
        }
    }

    /// Opens the store (the SQLite file is created when missing; a PostgreSQL schema is
    /// brought up to date).
    pub fn open(&self, dir: &Path) -> Result<Box<dyn Store>, IssuerError> {
        Ok(match self {
            Database::Embedded => Box::new(SqliteStore::open(dir)?),
            Database::Postgres(url) => Box::new(PgStore::connect(url)?),
        })
    }

    /// Whether it already holds an issuer.
    fn holds_issuer(&self, dir: &Path) -> Result<bool, IssuerError> {
        Ok(match self {
            Database::Embedded => SqliteStore::exists(dir),
            Database::Postgres(url) => PgStore::connect(url)?.settings()?.is_some(),
        })
    }
}

/// What keeps a new issuer's secret keys.
enum Custody<'a> {
    /// Sealed under this passphrase, in the store.
    Passphrase(&'a str),
    /// Made and kept in this token.
    Token(Token),
}

/// The root public key file that verifiers pin.
pub const ROOT_PUB_FILE: &str = "root.pub";
/// The operator API's bearer token file (owner-readable only).
pub const TOKEN_FILE: &str = "operator.token";
/// How long a signing key may sign, and every credential it signs must have expired by its end.
pub const SIGNING_KEY_LIFETIME_S: i64 = 3 * 365 * 86_400;

/// The issuer.
pub struct Issuer {
    pub(crate) store: Box<dyn Store>,
    /// The issuer's directory (`root.pub`, the token, `published.json`).
    pub(crate) dir: std::path::PathBuf,
    pub(crate) settings: Settings,
    pub(crate) vault: Option<Vault>,
    /// The hardware security module keys are kept in, once opened.
    pub(crate) token: Option<std::sync::Arc<crate::token::Token>>,
    /// A read-only replica for the portal's lookups, when one is given.
    pub(crate) read_database: Option<String>,
    /// Whether a record issued before with other content is issued again
    /// ([`Issuer::reissue_changed`]).
    pub(crate) reissue: bool,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("name", &self.settings.name)
            .finish_non_exhaustive()
    }
}

/// Writes `path` readable and writable by the owner only.
pub(crate) fn private_file(path: &Path, bytes: &[u8]) -> Result<(), IssuerError> {
    write_atomically(path, bytes).map_err(|e| IssuerError::io(path, e))?;
    restrict(path, 0o600)
}

#[cfg(unix)]
pub(crate) fn restrict(path: &Path, mode: u32) -> Result<(), IssuerError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| IssuerError::io(path, e))
}

#[cfg(not(unix))]
pub(crate) fn restrict(_path: &Path, _mode: u32) -> Result<(), IssuerError> {
    Ok(())
}

/// The fewest characters a passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

fn settings_of(
    name: &str,
    country: &str,
    url: Option<&str>,
    time_zone: &str,
    salt: [u8; 16],
    now: Timestamp,
) -> Settings {
    Settings {
        name: name.into(),
        country: country.into(),
        url: url.map(|u| u.trim_end_matches('/').to_owned()),
        time_zone: time_zone.into(),
        salt: salt.to_vec(),
        created_at: now,
        name_latin: None,
    }
}

impl Issuer {
    /// Creates an issuer in `dir`: a root key, a first signing key, `root.pub` and
    /// `operator.token`; secret keys sealed under `passphrase`.
    pub fn init(
        dir: &Path,
        name: &str,
        country: &str,
        url: Option<&str>,
        time_zone: &str,
        passphrase: &str,
        now: Timestamp,
    ) -> Result<Self, IssuerError> {
        let settings = (name, country, url, time_zone);
        Self::init_in(dir, &Database::Embedded, settings, passphrase, now)
    }

    /// [`Issuer::init`] with the store in `database` (`dir` still holds `root.pub` and the
    /// token); a database that holds an issuer already is refused. `settings`: the authority's
    /// name, country, portal URL and time zone.
    pub fn init_in(
        dir: &Path,
        database: &Database,
        settings: (&str, &str, Option<&str>, &str),
        passphrase: &str,
        now: Timestamp,
    ) -> Result<Self, IssuerError> {
        Self::init_with(
            dir,
            database,
            settings,
            Custody::Passphrase(passphrase),
            now,
        )
    }

    /// [`Issuer::init_in`] with every key made and kept in a hardware security module, and the
    /// vault derived there: no passphrase; the token's PIN unlocks the issuer. The directory
    /// names the token (`pkcs11.json`).
    pub fn init_in_token(
        dir: &Path,
        database: &Database,
        settings: (&str, &str, Option<&str>, &str),
        token: Token,
        now: Timestamp,
    ) -> Result<Self, IssuerError> {
        Self::init_with(dir, database, settings, Custody::Token(token), now)
    }

    fn init_with(
        dir: &Path,
        database: &Database,
        settings: (&str, &str, Option<&str>, &str),
        custody: Custody<'_>,
        now: Timestamp,
    ) -> Result<Self, IssuerError> {
        let (name, country, url, time_zone) = settings;
        // Another issuer's `root.pub` is never overwritten.
        if dir.join(ROOT_PUB_FILE).exists() {
            return Err(IssuerError::AlreadyInitialised(dir.to_path_buf()));
        }
        if database.holds_issuer(dir)? {
            return Err(match database {
                Database::Embedded => IssuerError::AlreadyInitialised(dir.to_path_buf()),
                Database::Postgres(_) => IssuerError::DatabaseHoldsIssuer,
            });
        }
        country
            .parse::<propusk_spec::Country>()
            .map_err(|e| InputError::field("--country", e))?;
        if let Some(url) = url {
            short_link(url, &CredentialId::from_bytes([0; 12]))
                .map_err(|e| InputError::field("--url", e))?;
        }
        Rules::new(RuleSet::standard(country, time_zone))
            .map_err(|e| InputError::field("--time-zone", e))?;
        if let Custody::Passphrase(passphrase) = custody
            && passphrase.chars().count() < MIN_PASSPHRASE_CHARS
        {
            return Err(IssuerError::WeakPassphrase {
                min: MIN_PASSPHRASE_CHARS,
            });
        }
        let mut salt = [0u8; 16];
        random_bytes(&mut salt)?;
        // The passphrase (or the token) is checked before anything is created.
        let (vault, token) = match custody {
            Custody::Passphrase(passphrase) => (Vault::open(passphrase, &salt)?, None),
            Custody::Token(token) => (Self::new_token_vault(&token, &salt)?, Some(token)),
        };
        let existed = dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| IssuerError::io(dir, e))?;
        // Others may reach `root.pub` by its path (it is handed out), not list the directory.
        restrict(dir, 0o711)?;
        let made = Self::create(
            dir,
            database,
            settings_of(name, country, url, time_zone, salt, now),
            (vault, token),
            now,
        );
        if made.is_err() {
            // Nothing half-made stays behind: a second `init` must find the directory as before.
            for file in [STORE_FILE, ROOT_PUB_FILE, TOKEN_FILE, PKCS11_FILE] {
                let _ = std::fs::remove_file(dir.join(file));
            }
            for suffix in ["-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(dir.join(format!("{STORE_FILE}{suffix}")));
            }
            if !existed {
                let _ = std::fs::remove_dir(dir);
            }
        }
        made
    }

    /// The store, the keys, `root.pub` (world-readable) and `operator.token` (owner-only) of a
    /// new issuer.
    fn create(
        dir: &Path,
        database: &Database,
        settings: Settings,
        (vault, token): (Vault, Option<Token>),
        now: Timestamp,
    ) -> Result<Self, IssuerError> {
        let (name, country) = (settings.name.clone(), settings.country.clone());
        if let Some(token) = &token {
            token.place().write(dir)?;
        }
        let mut issuer = Issuer {
            store: database.open(dir)?,
            dir: dir.to_path_buf(),
            settings: settings.clone(),
            vault: Some(vault),
            token: token.map(std::sync::Arc::new),
            read_database: None,
            reissue: false,
        };
        let root = issuer.in_transaction(|issuer| {
            issuer.store.create(&settings)?;
            issuer.prove(Row::Settings)?;
            let root = issuer.add_key(KeyRole::Root, KeyStatus::Active, now, now, None)?;
            let end = now.plus_seconds(SIGNING_KEY_LIFETIME_S);
            issuer.add_key(KeyRole::Signing, KeyStatus::Active, now, now, Some(end))?;
            issuer.audit(
                now,
                AuditOp::Init,
                &format!("issuer {name} ({country}), root key {}", root.key_id),
            )?;
            Ok(root)
        })?;
        let root_pub = dir.join(ROOT_PUB_FILE);
        private_file(
            &root_pub,
            format!(
                "{}\n",
                propusk_trust_list::format_public_key(&root.public_key)
            )
            .as_bytes(),
        )?;
        restrict(&root_pub, 0o644)?;
        let mut token = [0u8; 32];
        random_bytes(&mut token)?;
        private_file(
            &dir.join(TOKEN_FILE),
            format!("{}\n", URL_SAFE_NO_PAD.encode(token)).as_bytes(),
        )?;
        Ok(issuer)
    }

    /// Changes the authority's name, the portal URL (`Some("")` removes it) or the time zone,
    /// each checked as `init` checks it; recorded in the audit log. The country never changes
    /// (verifiers are pinned to a jurisdiction).
    pub fn configure(
        &mut self,
        name: Option<&str>,
        url: Option<&str>,
        time_zone: Option<&str>,
        now: Timestamp,
    ) -> Result<(), IssuerError> {
        self.vault()?;
        let mut settings = self.settings.clone();
        let mut changed = Vec::new();
        if let Some(name) = name {
            settings.name = name.to_owned();
            changed.push(format!("name {name}"));
        }
        if let Some(url) = url {
            if url.is_empty() {
                settings.url = None;
                changed.push("no portal URL".to_owned());
            } else {
                short_link(url, &CredentialId::from_bytes([0; 12]))
                    .map_err(|e| InputError::field("--url", e))?;
                settings.url = Some(url.trim_end_matches('/').to_owned());
                changed.push(format!("portal URL {url}"));
            }
        }
        if let Some(tz) = time_zone {
            Rules::new(RuleSet::standard(&settings.country, tz))
                .map_err(|e| InputError::field("--time-zone", e))?;
            settings.time_zone = tz.to_owned();
            changed.push(format!("time zone {tz}"));
        }
        if changed.is_empty() {
            return Ok(());
        }
        self.in_transaction(|issuer| {
            issuer.store.update_settings(&settings)?;
            issuer.prove(Row::Settings)?;
            issuer.audit(now, AuditOp::Config, &changed.join(", "))
        })?;
        self.settings = settings;
        Ok(())
    }

    /// Opens the issuer in `dir` without its secrets (enough to list keys and look records up).
    pub fn open(dir: &Path) -> Result<Self, IssuerError> {
        Self::open_in(dir, &Database::Embedded)
    }

    /// Opens the issuer whose store is in `database` (its directory `dir` holds `root.pub` and
    /// the token).
    pub fn open_in(dir: &Path, database: &Database) -> Result<Self, IssuerError> {
        if *database == Database::Embedded && !SqliteStore::exists(dir) {
            return Err(IssuerError::NotInitialised(dir.to_path_buf()));
        }
        Issuer::with_store(dir, database.open(dir)?)
    }

    /// Opens the issuer kept in `store` (its directory `dir` holds `root.pub` and the token).
    pub fn with_store(dir: &Path, store: Box<dyn Store>) -> Result<Self, IssuerError> {
        let settings = store
            .settings()?
            .ok_or_else(|| IssuerError::NotInitialised(dir.to_path_buf()))?;
        crate::split::check(dir, store.as_ref())?;
        Ok(Issuer {
            store,
            dir: dir.to_path_buf(),
            settings,
            vault: None,
            token: None,
            read_database: None,
            reissue: false,
        })
    }

    /// Portal lookups from a read-only replica of the issuer's PostgreSQL database (`--read-
    /// database`), so that they take no capacity from the primary. A replica lags the primary
    /// by its replication delay (milliseconds on a healthy one): a revocation shows on a portal
    /// reading it that much later.
    pub fn read_from(&mut self, url: &str) -> Result<(), IssuerError> {
        match Database::from_url(Some(url))? {
            Database::Postgres(url) => {
                self.read_database = Some(url);
                Ok(())
            }
            Database::Embedded => {
                Err(InputError::field("--read-database", "a PostgreSQL URL").into())
            }
        }
    }

    /// The portal's reads: the replica's when one is given, else the store's own.
    pub(crate) fn lookup(&self) -> Result<std::sync::Arc<dyn crate::store::Lookup>, IssuerError> {
        Ok(match &self.read_database {
            Some(url) => crate::store::postgres::read_only(url),
            None => self.store.lookup()?,
        })
    }

    /// Derives the vault key from the passphrase and checks it against the root key (an issuer
    /// whose root key is kept in a token unlocks with it: [`Issuer::unlock_with_token`]).
    pub fn unlock(&mut self, passphrase: &str) -> Result<(), IssuerError> {
        if self.root_in_token()? {
            return Err(crate::error::TokenError::NotNamed(self.dir.join(PKCS11_FILE)).into());
        }
        let vault = Vault::open(passphrase, &self.settings.salt)?;
        let root = self.root_key()?;
        vault.unseal(&root.sealed, root.key_id.to_string().as_bytes())?;
        self.vault = Some(vault);
        Ok(())
    }

    pub(crate) fn vault(&self) -> Result<&Vault, IssuerError> {
        self.vault
            .as_ref()
            .ok_or(IssuerError::Passphrase("the issuer is locked"))
    }

    /// Runs `f` inside one transaction: everything it wrote is committed together, or — when it
    /// fails — nothing.
    pub fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, IssuerError>,
    ) -> Result<T, IssuerError> {
        self.store.begin()?;
        match f(self) {
            Ok(out) => {
                self.store.commit()?;
                Ok(out)
            }
            Err(e) => {
                self.store.rollback()?;
                Err(e)
            }
        }
    }

    /// The issuer's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The jurisdiction's IANA time zone, in which the rules count days.
    pub fn time_zone(&self) -> &str {
        &self.settings.time_zone
    }

    /// The portal's base URL, when the issuer has one.
    pub fn base_url(&self) -> Option<&str> {
        self.settings.url.as_deref()
    }

    /// The rules the issuer publishes and issues by.
    pub(crate) fn rules(&self) -> Result<Rules, IssuerError> {
        Rules::new(self.rule_set()?)
            .map_err(|e| InputError::field("the issuer's time zone", e).into())
    }
}
