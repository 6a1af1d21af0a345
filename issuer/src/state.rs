//! The issuer's state in SQLite under `--dir`: configuration, sealed keys, the record of every
//! credential issued, the append-only audit log, and past publications (for deltas).

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use propusk_spec::{
    Credential, CredentialId, CredentialType, Encoder, KeyId, Timestamp, short_link,
};
use propusk_trust_list::{
    BundleContent, KeyStatus, RevocationSet, RuleFailure, RuleSet, Rules, TrustedKey,
    format_public_key, key_id_of, write_atomically, write_dir,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::IssuerError;
use crate::input::Request;
use crate::secret::{SecretKey, Vault, random_bytes};

/// The store's file inside `--dir`.
pub const STORE_FILE: &str = "issuer.sqlite";
/// The root public key file that verifiers pin.
pub const ROOT_PUB_FILE: &str = "root.pub";
/// The operator API's bearer token file (owner-readable only).
pub const TOKEN_FILE: &str = "operator.token";
/// How long a signing key may sign, and every credential it signs must have expired by its end.
pub const SIGNING_KEY_LIFETIME_S: i64 = 3 * 365 * 86_400;
/// After this, verifiers warn that their trust data is stale.
pub const SOFT_EXPIRY_S: i64 = 3 * 86_400;
/// After this, verifiers cannot tell.
pub const HARD_EXPIRY_S: i64 = 30 * 86_400;
/// Past publications kept to publish deltas from.
pub const DELTAS_KEPT: usize = 7;

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
    not_after INTEGER NOT NULL,
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

/// A key as `key list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    /// The key id, hex, as `verify` reports it.
    pub key_id: String,
    /// `root` (signs trust bundles) or `signing` (signs credentials).
    pub role: String,
    /// Base64url of the raw 32-byte Ed25519 public key.
    pub public_key: String,
    /// `next`, `active`, `retired` or `compromised`.
    pub status: String,
    /// Since when a retired or compromised key is so (RFC 3339).
    pub since: Option<String>,
    /// Start of the key's window (RFC 3339).
    pub not_before: String,
    /// End of the key's window (RFC 3339).
    pub not_after: String,
}

/// A credential issued.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issued {
    /// Its id, text form.
    pub id: String,
    /// The credential text (the QR payload).
    pub credential: String,
    /// The portal link, when the issuer has a base URL.
    pub link: Option<String>,
    /// The registry record id, if any.
    pub record_id: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// Signing key id.
    pub key_id: String,
    /// Issued at (RFC 3339).
    pub issued_at: String,
    /// Expires at (RFC 3339).
    pub expires_at: String,
    /// `issued` or `revoked`.
    pub status: String,
}

/// What `publish` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The new sequence.
    pub sequence: u64,
    /// The full bundle's path.
    pub bundle: PathBuf,
    /// Deltas written (from these sequences).
    pub deltas_from: Vec<u64>,
    /// Credentials in the revocation set.
    pub revoked: u64,
}

/// What issuing needs once per run.
pub(crate) struct Session {
    kid: String,
    key_id: KeyId,
    secret: SecretKey,
    not_after: i64,
    rules: Rules,
    encoder: Encoder,
}

struct Config {
    name: String,
    country: String,
    url: Option<String>,
    time_zone: String,
    salt: Vec<u8>,
}

/// The issuer.
pub struct Issuer {
    conn: Connection,
    config: Config,
    vault: Option<Vault>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

fn rfc3339(secs: i64) -> String {
    Timestamp::from_unix(secs).map_or_else(|| secs.to_string(), |t| t.to_string())
}

/// Creates `path` readable and writable by the owner only.
fn private_file(path: &Path, bytes: &[u8]) -> Result<(), IssuerError> {
    write_atomically(path, bytes).map_err(|e| IssuerError::io(path, e))?;
    restrict(path, 0o600)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<(), IssuerError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| IssuerError::io(path, e))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<(), IssuerError> {
    Ok(())
}

fn connect(dir: &Path) -> Result<Connection, IssuerError> {
    let path = dir.join(STORE_FILE);
    let conn = Connection::open(&path)?;
    restrict(&path, 0o600)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
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
        if dir.join(STORE_FILE).exists() {
            return Err(IssuerError::AlreadyInitialised(dir.to_path_buf()));
        }
        country
            .parse::<propusk_spec::Country>()
            .map_err(|e| IssuerError::Input(format!("--country: {e}")))?;
        if let Some(url) = url {
            short_link(url, &CredentialId::from_bytes([0; 12]))
                .map_err(|e| IssuerError::Input(format!("--url: {e}")))?;
        }
        Rules::new(RuleSet::standard(country, time_zone))
            .map_err(|e| IssuerError::Input(format!("--time-zone: {e}")))?;
        std::fs::create_dir_all(dir).map_err(|e| IssuerError::io(dir, e))?;
        restrict(dir, 0o700)?;
        let mut salt = [0u8; 16];
        random_bytes(&mut salt)?;
        let conn = connect(dir)?;
        conn.execute(
            "INSERT INTO config (id, name, country, url, time_zone, salt, created_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![name, country, url.map(|u| u.trim_end_matches('/')), time_zone, salt.to_vec(), now.unix()],
        )?;
        let config = Config {
            name: name.into(),
            country: country.into(),
            url: url.map(|u| u.trim_end_matches('/').to_owned()),
            time_zone: time_zone.into(),
            salt: salt.to_vec(),
        };
        let mut issuer = Issuer {
            conn,
            config,
            vault: Some(Vault::open(passphrase, &salt)?),
        };
        let root = issuer.add_key("root", "active", now, now.unix(), i64::MAX / 2)?;
        issuer.add_key(
            "signing",
            "active",
            now,
            now.unix(),
            now.unix() + SIGNING_KEY_LIFETIME_S,
        )?;
        private_file(
            &dir.join(ROOT_PUB_FILE),
            format!("{}\n", root.public_key).as_bytes(),
        )?;
        let mut token = [0u8; 32];
        random_bytes(&mut token)?;
        private_file(
            &dir.join(TOKEN_FILE),
            format!("{}\n", URL_SAFE_NO_PAD.encode(token)).as_bytes(),
        )?;
        issuer.audit(
            now,
            "init",
            &format!("issuer {name} ({country}), root key {}", root.key_id),
        )?;
        Ok(issuer)
    }

    /// Opens the issuer in `dir` without its secrets (enough to list keys and look records up).
    pub fn open(dir: &Path) -> Result<Self, IssuerError> {
        if !dir.join(STORE_FILE).exists() {
            return Err(IssuerError::NotInitialised(dir.to_path_buf()));
        }
        let conn = connect(dir)?;
        let config = conn
            .query_row(
                "SELECT name, country, url, time_zone, salt FROM config WHERE id = 1",
                [],
                |r| {
                    Ok(Config {
                        name: r.get(0)?,
                        country: r.get(1)?,
                        url: r.get(2)?,
                        time_zone: r.get(3)?,
                        salt: r.get(4)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| IssuerError::NotInitialised(dir.to_path_buf()))?;
        Ok(Issuer {
            conn,
            config,
            vault: None,
        })
    }

    /// Derives the vault key from the passphrase and checks it against the root key.
    pub fn unlock(&mut self, passphrase: &str) -> Result<(), IssuerError> {
        let vault = Vault::open(passphrase, &self.config.salt)?;
        let (kid, sealed): (String, Vec<u8>) = self.conn.query_row(
            "SELECT key_id, sealed FROM keys WHERE role = 'root'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        vault.unseal(&sealed, kid.as_bytes())?;
        self.vault = Some(vault);
        Ok(())
    }

    fn vault(&self) -> Result<&Vault, IssuerError> {
        self.vault
            .as_ref()
            .ok_or(IssuerError::Passphrase("the issuer is locked"))
    }

    fn audit(&self, at: Timestamp, op: &str, detail: &str) -> Result<(), IssuerError> {
        self.conn.execute(
            "INSERT INTO audit (at, op, detail) VALUES (?1, ?2, ?3)",
            params![at.unix(), op, detail],
        )?;
        Ok(())
    }

    /// The audit log, oldest first: (time, operation, detail).
    pub fn audit_log(&self) -> Result<Vec<(String, String, String)>, IssuerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, op, detail FROM audit ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((rfc3339(r.get(0)?), r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_key(
        &mut self,
        role: &str,
        status: &str,
        now: Timestamp,
        not_before: i64,
        not_after: i64,
    ) -> Result<KeyInfo, IssuerError> {
        loop {
            let secret = SecretKey::generate()?;
            let kid = key_id_of(&secret.public()).to_string();
            let sealed = self.vault()?.seal(&secret, kid.as_bytes())?;
            let inserted = self.conn.execute(
                "INSERT OR IGNORE INTO keys (key_id, role, public_key, sealed, status, not_before, not_after, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![kid, role, secret.public().as_bytes().to_vec(), sealed, status, not_before, not_after, now.unix()],
            )?;
            // A 4-byte key id that collides with a known key: draw another key.
            if inserted == 1 {
                self.audit(now, "key-create", &format!("{role} key {kid}, {status}"))?;
                return self.key(&kid);
            }
        }
    }

    fn key(&self, kid: &str) -> Result<KeyInfo, IssuerError> {
        self.keys()?
            .into_iter()
            .find(|k| k.key_id == kid)
            .ok_or_else(|| IssuerError::Key(format!("no key {kid}")))
    }

    /// Every key, root first.
    pub fn keys(&self) -> Result<Vec<KeyInfo>, IssuerError> {
        let mut stmt = self.conn.prepare(
            "SELECT key_id, role, public_key, status, since, not_before, not_after FROM keys ORDER BY role = 'signing', created_at, key_id",
        )?;
        let rows = stmt.query_map([], |r| {
            let public: Vec<u8> = r.get(2)?;
            let since: Option<i64> = r.get(4)?;
            Ok(KeyInfo {
                key_id: r.get(0)?,
                role: r.get(1)?,
                public_key: URL_SAFE_NO_PAD.encode(public),
                status: r.get(3)?,
                since: since.map(rfc3339),
                not_before: rfc3339(r.get(5)?),
                not_after: rfc3339(r.get(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn signing_key_with_status(&self, status: &str) -> Result<Option<String>, IssuerError> {
        Ok(self
            .conn
            .query_row("SELECT key_id FROM keys WHERE role = 'signing' AND status = ?1 ORDER BY created_at DESC LIMIT 1", [status], |r| r.get(0))
            .optional()?)
    }

    /// Rotates: the announced (`next`) key, or a new one, becomes active, and the active key
    /// retires (it signs nothing new; what it signed stays valid). With `announce`, a new key is
    /// only announced (published, not yet signing); the next rotation activates it.
    pub fn rotate(&mut self, now: Timestamp, announce: bool) -> Result<KeyInfo, IssuerError> {
        self.vault()?;
        let next = self.signing_key_with_status("next")?;
        if announce {
            if let Some(kid) = next {
                return Err(IssuerError::Key(format!(
                    "key {kid} is already announced; rotate to activate it"
                )));
            }
            return self.add_key(
                "signing",
                "next",
                now,
                now.unix(),
                now.unix() + SIGNING_KEY_LIFETIME_S,
            );
        }
        let old = self.signing_key_with_status("active")?;
        let new = match next {
            Some(kid) => {
                self.conn.execute("UPDATE keys SET status = 'active', not_before = min(not_before, ?2) WHERE key_id = ?1", params![kid, now.unix()])?;
                self.audit(now, "key-activate", &format!("signing key {kid}"))?;
                self.key(&kid)?
            }
            None => self.add_key(
                "signing",
                "active",
                now,
                now.unix(),
                now.unix() + SIGNING_KEY_LIFETIME_S,
            )?,
        };
        if let Some(old) = old {
            self.set_status(&old, "retired", now.unix(), now)?;
        }
        Ok(new)
    }

    fn set_status(
        &mut self,
        kid: &str,
        status: &str,
        since: i64,
        now: Timestamp,
    ) -> Result<(), IssuerError> {
        let changed = self.conn.execute(
            "UPDATE keys SET status = ?2, since = ?3 WHERE key_id = ?1 AND role = 'signing'",
            params![kid, status, since],
        )?;
        if changed == 0 {
            return Err(IssuerError::Key(format!("no signing key {kid}")));
        }
        self.audit(
            now,
            &format!("key-{status}"),
            &format!("signing key {kid} since {}", rfc3339(since)),
        )
    }

    /// Retires a signing key now: it signs nothing new.
    pub fn retire(&mut self, kid: &str, now: Timestamp) -> Result<(), IssuerError> {
        if self.key(kid)?.status == "compromised" {
            return Err(IssuerError::Key(format!(
                "key {kid} is compromised; it stays so"
            )));
        }
        self.set_status(kid, "retired", now.unix(), now)
    }

    /// Marks a signing key compromised since `since`: credentials it signed from then on are
    /// refused by verifiers.
    pub fn compromise(
        &mut self,
        kid: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<(), IssuerError> {
        self.set_status(kid, "compromised", since.unix(), now)
    }

    fn rules(&self) -> Result<Rules, IssuerError> {
        Rules::new(RuleSet::standard(
            &self.config.country,
            &self.config.time_zone,
        ))
        .map_err(|e| IssuerError::Store(e.to_string()))
    }

    /// Issues a credential for `request` at `now`. With a record id already issued, returns
    /// that credential again and issues nothing.
    pub fn issue(&mut self, request: &Request, now: Timestamp) -> Result<Issued, IssuerError> {
        let mut session = self.session()?;
        self.issue_with(&mut session, request, now)
            .map(|(issued, _)| issued)
    }

    /// What issuing needs once per run: the active key unsealed, the rules resolved.
    pub(crate) fn session(&self) -> Result<Session, IssuerError> {
        let kid = self
            .signing_key_with_status("active")?
            .ok_or_else(|| IssuerError::Key("no active signing key: rotate".into()))?;
        let (sealed, not_after): (Vec<u8>, i64) = self.conn.query_row(
            "SELECT sealed, not_after FROM keys WHERE key_id = ?1",
            [&kid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let secret = self.vault()?.unseal(&sealed, kid.as_bytes())?;
        let key_id =
            KeyId::from_hex(&kid).ok_or_else(|| IssuerError::Store("malformed key id".into()))?;
        Ok(Session {
            kid,
            key_id,
            secret,
            not_after,
            rules: self.rules()?,
            encoder: Encoder::default(),
        })
    }

    /// Issues with a session; the flag says whether the credential is new (`false`: the record
    /// id was issued before and that credential is returned).
    pub(crate) fn issue_with(
        &mut self,
        session: &mut Session,
        request: &Request,
        now: Timestamp,
    ) -> Result<(Issued, bool), IssuerError> {
        if let Some(done) = self.existing(request)? {
            return Ok((done, false));
        }
        let today = now
            .date()
            .ok_or_else(|| IssuerError::Refused("the clock is out of range".into()))?;
        if request.holder.birth_date.is_after(today) {
            return Err(IssuerError::Refused(format!(
                "the date of birth {} is in the future",
                request.holder.birth_date
            )));
        }
        let not_after = session.not_after;
        let mut credential = Credential {
            id: CredentialId::from_bytes([0; 12]),
            issued_at: now,
            expires_at: Timestamp::from_unix(not_after)
                .ok_or_else(|| IssuerError::Key("key window out of range".into()))?,
            holder: request.holder.clone(),
            body: request.body.clone(),
        };
        let outcome = session.rules.evaluate(&credential, now);
        match outcome.result {
            Ok(()) | Err(RuleFailure::NotYetValid | RuleFailure::Expired) => {}
            Err(failure) => return Err(IssuerError::Refused(failure.why().into())),
        }
        let until = outcome
            .valid_until
            .ok_or_else(|| IssuerError::Refused(RuleFailure::NoRule.why().into()))?;
        if until <= now {
            return Err(IssuerError::Refused(format!(
                "it would already have expired, at {until}"
            )));
        }
        if until.unix() > not_after {
            return Err(IssuerError::Refused(format!(
                "the signing key {} ends at {} before this credential would: rotate the key",
                session.kid,
                rfc3339(not_after)
            )));
        }
        credential.expires_at = until;
        loop {
            let mut id = [0u8; 12];
            random_bytes(&mut id)?;
            credential.id = CredentialId::from_bytes(id);
            let secret = &session.secret;
            let text = session
                .encoder
                .encode(&credential, &session.key_id, |d| secret.sign(d))
                .map_err(|e| IssuerError::Refused(e.to_string()))?;
            let id_text = credential.id.to_string();
            let inserted = self.conn.execute(
                "INSERT OR IGNORE INTO credentials (id, record_id, type, key_id, issued_at, expires_at, status, text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'issued', ?7)",
                params![id_text, request.record_id, credential.credential_type().as_str(), session.kid, now.unix(), until.unix(), text],
            )?;
            if inserted == 1 {
                let link = self
                    .config
                    .url
                    .as_deref()
                    .and_then(|u| short_link(u, &credential.id).ok());
                let issued = Issued {
                    id: id_text,
                    credential: text,
                    link,
                    record_id: request.record_id.clone(),
                    credential_type: credential.credential_type().as_str().into(),
                    key_id: session.kid.clone(),
                    issued_at: now.to_string(),
                    expires_at: until.to_string(),
                    status: "issued".into(),
                };
                return Ok((issued, true));
            }
            if let Some(done) = self.existing(request)? {
                return Ok((done, false));
            }
        }
    }

    /// Runs `f` inside one transaction: everything it wrote is committed together, or nothing.
    pub(crate) fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> T,
    ) -> Result<T, IssuerError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let out = f(self);
        self.conn.execute_batch("COMMIT")?;
        Ok(out)
    }

    fn lookup(&self, column: &str, value: &str) -> Result<Option<Issued>, IssuerError> {
        let sql = format!(
            "SELECT id, record_id, type, key_id, issued_at, expires_at, status, text FROM credentials WHERE {column} = ?1"
        );
        let url = self.config.url.clone();
        Ok(self
            .conn
            .query_row(&sql, [value], |r| {
                let id: String = r.get(0)?;
                let link = url
                    .as_deref()
                    .and_then(|u| id.parse().ok().and_then(|cid| short_link(u, &cid).ok()));
                Ok(Issued {
                    link,
                    record_id: r.get(1)?,
                    credential_type: r.get(2)?,
                    key_id: r.get(3)?,
                    issued_at: rfc3339(r.get(4)?),
                    expires_at: rfc3339(r.get(5)?),
                    status: r.get(6)?,
                    credential: r.get(7)?,
                    id,
                })
            })
            .optional()?)
    }

    /// The credential already issued for the request's record id, if any.
    fn existing(&self, request: &Request) -> Result<Option<Issued>, IssuerError> {
        match &request.record_id {
            Some(record) => self.record(record),
            None => Ok(None),
        }
    }

    /// The credential issued for a registry record, if any.
    pub fn record(&self, record_id: &str) -> Result<Option<Issued>, IssuerError> {
        self.lookup("record_id", record_id)
    }

    /// The credential with this id, if any.
    pub fn credential(&self, id: &CredentialId) -> Result<Option<Issued>, IssuerError> {
        self.lookup("id", &id.to_string())
    }

    /// Revokes a credential (the holder fell ill, or it was issued in error); it enters the
    /// revocation set at the next publication.
    pub fn revoke(&mut self, id: &CredentialId, now: Timestamp) -> Result<Issued, IssuerError> {
        let changed = self.conn.execute(
            "UPDATE credentials SET status = 'revoked', revoked_at = ?2 WHERE id = ?1 AND status = 'issued'",
            params![id.to_string(), now.unix()],
        )?;
        let found = self
            .credential(id)?
            .ok_or_else(|| IssuerError::UnknownCredential(id.to_string()))?;
        if changed == 1 {
            self.audit(now, "revoke", &format!("credential {id}"))?;
        }
        Ok(found)
    }

    /// The jurisdiction's IANA time zone, in which the rules count days.
    pub fn time_zone(&self) -> &str {
        &self.config.time_zone
    }

    /// The portal link form for a credential, when the issuer has a base URL.
    pub fn base_url(&self) -> Option<&str> {
        self.config.url.as_deref()
    }

    /// Builds the trust bundle of `now` and writes it, with deltas from recent publications and
    /// the signed index, into `out`.
    pub fn publish(&mut self, out: &Path, now: Timestamp) -> Result<Published, IssuerError> {
        let (root_kid, root_sealed): (String, Vec<u8>) = self.conn.query_row(
            "SELECT key_id, sealed FROM keys WHERE role = 'root'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let root = self.vault()?.unseal(&root_sealed, root_kid.as_bytes())?;
        let last: Option<i64> =
            self.conn
                .query_row("SELECT max(sequence) FROM publications", [], |r| r.get(0))?;
        let sequence = last.map_or(1, |s| s as u64 + 1);
        let keys = self.trusted_keys()?;
        let revoked = {
            let mut stmt = self.conn.prepare("SELECT id, expires_at FROM credentials WHERE status = 'revoked' AND expires_at > ?1")?;
            let rows = stmt.query_map([now.unix()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, exp) = row?;
                if let (Ok(id), Some(exp)) = (id.parse::<CredentialId>(), Timestamp::from_unix(exp))
                {
                    out.push((id, exp));
                }
            }
            out
        };
        let count = revoked.len() as u64;
        let content = BundleContent {
            jurisdiction: self.config.country.clone(),
            sequence,
            issued_at: now.unix(),
            soft_expiry: now.unix() + SOFT_EXPIRY_S,
            hard_expiry: now.unix() + HARD_EXPIRY_S,
            keys,
            revocations: RevocationSet::build(revoked, vec![], now),
            rules: RuleSet::standard(&self.config.country, &self.config.time_zone),
            eu_signers: self.eu_signers()?,
        };
        let previous: Vec<BundleContent> = {
            let mut stmt = self
                .conn
                .prepare("SELECT content FROM publications ORDER BY sequence DESC LIMIT ?1")?;
            let rows = stmt.query_map([DELTAS_KEPT as i64], |r| r.get::<_, Vec<u8>>(0))?;
            let mut out = Vec::new();
            for row in rows {
                if let Ok(content) = ciborium::from_reader::<BundleContent, _>(row?.as_slice()) {
                    out.push(content);
                }
            }
            out
        };
        let root_id = KeyId::from_hex(&root_kid)
            .ok_or_else(|| IssuerError::Store("malformed root key id".into()))?;
        let written = write_dir(out, &content, &previous, &root_id, &|d| root.sign(d))
            .map_err(|e| IssuerError::Publish(e.to_string()))?;
        let mut encoded = Vec::new();
        ciborium::into_writer(&content, &mut encoded)
            .map_err(|e| IssuerError::Publish(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO publications (sequence, issued_at, content) VALUES (?1, ?2, ?3)",
            params![sequence as i64, now.unix(), encoded],
        )?;
        let deltas_from: Vec<u64> = written.index.deltas.iter().map(|d| d.from).collect();
        self.audit(
            now,
            "publish",
            &format!("sequence {sequence}, {count} revoked, to {}", out.display()),
        )?;
        Ok(Published {
            sequence,
            bundle: written.bundle,
            deltas_from,
            revoked: count,
        })
    }

    /// Imports EU DCC document signer certificates (DER, PEM or base64) to publish with the trust
    /// bundle; returns their key ids. A certificate already imported is kept once.
    pub fn import_eu_signers(
        &mut self,
        certificates: &[Vec<u8>],
        country: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, IssuerError> {
        country
            .parse::<propusk_spec::Country>()
            .map_err(|e| IssuerError::Input(format!("--country: {e}")))?;
        let mut ids = Vec::new();
        for bytes in certificates {
            let der = propusk_eudcc::SignerCertificate::der(bytes)
                .map_err(|e| IssuerError::Input(e.to_string()))?;
            let cert = propusk_eudcc::SignerCertificate::from_der(&der)
                .map_err(|e| IssuerError::Input(e.to_string()))?;
            let kid = propusk_spec::hex::encode(cert.key_id());
            self.conn.execute(
                "INSERT OR IGNORE INTO eu_signers (key_id, der, country, added_at) VALUES (?1, ?2, ?3, ?4)",
                params![kid, der, country, now.unix()],
            )?;
            self.audit(now, "eu-import", &format!("EU signer {kid} ({country})"))?;
            ids.push(kid);
        }
        Ok(ids)
    }

    fn eu_signers(&self) -> Result<Vec<propusk_trust_list::EuSigner>, IssuerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT der, country FROM eu_signers ORDER BY key_id")?;
        let rows = stmt.query_map([], |r| {
            Ok(propusk_trust_list::EuSigner {
                der: r.get(0)?,
                country: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn trusted_keys(&self) -> Result<Vec<TrustedKey>, IssuerError> {
        let mut stmt = self.conn.prepare(
            "SELECT key_id, public_key, status, since, not_before, not_after FROM keys WHERE role = 'signing' ORDER BY created_at, key_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut keys = Vec::new();
        for row in rows {
            let (kid, public, status, since, not_before, not_after) = row?;
            let since = since.unwrap_or(not_before);
            let status = match status.as_str() {
                "next" => KeyStatus::Next,
                "active" => KeyStatus::Active,
                "retired" => KeyStatus::Retired { since },
                _ => KeyStatus::Compromised { since },
            };
            let key_id = KeyId::from_hex(&kid)
                .ok_or_else(|| IssuerError::Store("malformed key id".into()))?;
            keys.push(TrustedKey {
                key_id: key_id.as_bytes().to_vec(),
                public_key: public,
                issuer: self.config.name.clone(),
                country: self.config.country.clone(),
                not_before,
                not_after,
                types: CredentialType::ALL.to_vec(),
                status,
            });
        }
        Ok(keys)
    }

    /// The root public key, as `root.pub` holds it.
    pub fn root_public(&self) -> Result<String, IssuerError> {
        let public: Vec<u8> =
            self.conn
                .query_row("SELECT public_key FROM keys WHERE role = 'root'", [], |r| {
                    r.get(0)
                })?;
        let bytes: [u8; 32] = public
            .try_into()
            .map_err(|_| IssuerError::Store("malformed root key".into()))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| IssuerError::Store("malformed root key".into()))?;
        Ok(format_public_key(&key))
    }
}
