//! The issuer's errors, nested by layer: the store, the input, the rules' refusals, the keys.

use std::path::{Path, PathBuf};

use propusk_input::InputError;
use propusk_spec::{BirthDate, CredentialId, KeyId, Timestamp};
use propusk_trust_list::RuleFailure;
use thiserror::Error;

/// Why an issuer operation failed.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum IssuerError {
    /// `--dir` holds no issuer: run `propusk issuer init`.
    #[error("no issuer in {}: run `propusk issuer init` first", .0.display())]
    NotInitialised(PathBuf),
    /// `--dir` already holds an issuer.
    #[error("{} already holds an issuer", .0.display())]
    AlreadyInitialised(PathBuf),
    /// `init` with a PostgreSQL database that already holds an issuer.
    #[error("the database already holds an issuer; use another database (or --dir alone)")]
    DatabaseHoldsIssuer,
    /// The passphrase is missing, empty or wrong.
    #[error("passphrase: {0}")]
    Passphrase(&'static str),
    /// A new issuer's passphrase is too short.
    #[error("the passphrase must have at least {min} characters")]
    WeakPassphrase {
        /// The fewest characters allowed.
        min: usize,
    },
    /// The input (issuance JSON, a registry row, an option) is malformed.
    #[error("input: {0}")]
    Input(#[from] InputError),
    /// The input is well-formed but issuing it is refused.
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    /// No such key, or the key operation is not possible.
    #[error("key: {0}")]
    Key(#[from] KeyError),
    /// No credential with this id.
    #[error("no credential with id {0}")]
    UnknownCredential(CredentialId),
    /// No credential was issued for this registry record.
    #[error("record {0} was never issued")]
    UnknownRecord(String),
    /// The record's credential is revoked: there is nothing to sign again.
    #[error("record {record}'s credential {credential} is revoked: nothing to sign again")]
    RecordRevoked {
        /// The record id.
        record: String,
        /// Its revoked credential.
        credential: CredentialId,
    },
    /// The operating system's random generator failed.
    #[error("the random generator failed")]
    Random,
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The trust data could not be made or written.
    #[error("publish: {0}")]
    Publish(#[from] propusk_trust_list::PublishError),
    /// A QR code could not be drawn.
    #[error("QR code: {0}")]
    Render(#[from] propusk_qr::RenderError),
    /// The server could not start or stopped with an error.
    #[error("server: {0}")]
    Server(String),
    /// The issuer's store failed.
    #[error("issuer store: {0}")]
    Store(#[from] StoreError),
    /// An EU DCC operation failed.
    #[error("EU DCC: {0}")]
    Eu(#[from] EuError),
    /// The hardware security module (PKCS#11 token) failed or refused.
    #[error("token: {0}")]
    Token(#[from] TokenError),
}

impl IssuerError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        IssuerError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Why a well-formed request is not issued.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// The rule set would reject the credential.
    #[error("{}", .0.why())]
    Rules(RuleFailure),
    /// The date of birth lies after the day of issuance.
    #[error("the date of birth {0} is in the future")]
    BirthDateInFuture(BirthDate),
    /// By the rules the credential would have expired already.
    #[error("it would already have expired, at {0}")]
    AlreadyExpired(Timestamp),
    /// The signing key's window ends before the credential would.
    #[error("the signing key {key} ends at {ends} before this credential would: rotate the key")]
    KeyEndsFirst {
        /// The active key.
        key: KeyId,
        /// Its end.
        ends: Timestamp,
    },
    /// The clock is outside the range credentials can carry.
    #[error("the clock is out of range")]
    Clock,
    /// The credential does not fit the wire format (a field too long, ...).
    #[error("{0}")]
    Format(#[from] propusk_spec::Error),
    /// The issuer has no portal URL, so there is no link form.
    #[error("the issuer has no portal URL (--url)")]
    NoPortalUrl,
    /// The record was issued before with other content (a corrected name, date or body):
    /// nothing is issued for it unless a reissue is asked for.
    #[error(
        "record {record} was issued as credential {credential} with other content (a \
         correction?): nothing issued for it; give --reissue to revoke {credential} and issue \
         the corrected record"
    )]
    RecordChanged {
        /// The record id.
        record: String,
        /// The credential issued for it before.
        credential: CredentialId,
    },
}

/// Why a key operation is not possible.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// No signing key with this id.
    #[error("no signing key {0}")]
    NoSuchKey(String),
    /// No key is active to sign with.
    #[error("no active signing key: rotate")]
    NoActiveKey,
    /// A key is already announced.
    #[error("key {0} is already announced; rotate to activate it")]
    AlreadyAnnounced(KeyId),
    /// A compromised key stays compromised.
    #[error("key {0} is compromised; it stays so")]
    Compromised(KeyId),
    /// The active key cannot be retired or distrusted: nothing would sign.
    #[error(
        "key {0} is the active signing key: rotate first (propusk issuer key rotate), then retire \
         or distrust it"
    )]
    OnlyActive(KeyId),
    /// The key is retired already; nothing changed.
    #[error("key {key} is already retired since {since}; nothing changed")]
    AlreadyRetired {
        /// The key.
        key: KeyId,
        /// Since when.
        since: Timestamp,
    },
    /// The signing time lies outside the active key's window.
    #[error(
        "signing key {key} signs from {not_before} until {not_after}; {at} is outside that \
         window (check --at)"
    )]
    OutsideWindow {
        /// The active key.
        key: KeyId,
        /// The signing time asked for.
        at: Timestamp,
        /// The key's first instant.
        not_before: Timestamp,
        /// The key's end.
        not_after: Timestamp,
    },
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, the connection lost), as
    /// opposed to refusing a statement: the caller may try again shortly.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Postgres(e) => {
                // Connection exceptions (08) and operator intervention (57: shutdown).
                let class = e.code().map(|c| &c.code()[..2]);
                e.is_closed() || e.as_db_error().is_none() || matches!(class, Some("08" | "57"))
            }
            _ => false,
        }
    }
}

/// Why the store failed.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused a statement, or the connection broke.
    #[error("{0}")]
    Postgres(#[from] postgres::Error),
    /// The database cannot be reached.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    /// A query failed, as another thread saw it (the portal's gathered lookups).
    #[error("{0}")]
    Query(String),
    /// The database's schema is not one this program knows.
    #[error("{0}")]
    Schema(String),
    /// The SQLite store was moved to PostgreSQL by `issuer migrate`: it is kept for the record,
    /// and no command may issue, revoke or publish from it again (two live stores would split
    /// the registry).
    #[error(
        "this issuer's SQLite store was moved to {0} by `propusk issuer migrate`: run the \
         issuer with --database {0} (or PROPUSK_DATABASE_URL); the old file is kept only for \
         the record"
    )]
    Moved(String),
    /// Another store of this issuer (the issuer's directory says so) has published a newer
    /// sequence than this store ever did: this store is behind it, and issuing, revoking or
    /// publishing from it would split the registry.
    #[error(
        "this issuer published sequence {sequence} from {theirs}, but {ours} has published only \
         up to {latest}: it is behind the registry (another store, or an older copy of this \
         one); run the issuer with the store that published {sequence} (--database), or, if \
         that store is lost for good, remove published.json from the issuer's directory \
         knowing that verifiers will refuse sequences they have seen passed"
    )]
    Overtaken {
        /// The newer sequence.
        sequence: u64,
        /// The store that published it.
        theirs: String,
        /// This store.
        ours: String,
        /// This store's newest sequence (0: none).
        latest: u64,
    },
    /// `migrate` into a database that holds an issuer already.
    #[error("the target database already holds an issuer: nothing was copied")]
    TargetHoldsIssuer,
    /// A table read back after `migrate` differs from the original: nothing was committed.
    #[error("the copy of table {0} differs from the original: nothing was committed")]
    CopyMismatch(&'static str),
    /// Something in the store is not what was written.
    #[error("damaged: {0}")]
    Corrupt(&'static str),
    /// The revocation set about to be published lacks credentials revoked in the last
    /// publication that have not expired: the database was changed outside Propusk (there is no
    /// way to take a revocation back).
    #[error(
        "damaged: {lost} revocation(s) published in sequence {sequence} are missing from the \
         database; nothing was published (restore the issuer's database from a backup)"
    )]
    RevocationsLost {
        /// Withdrawals that would be lost.
        lost: u64,
        /// The publication that holds them.
        sequence: u64,
    },
    /// Rows that a publication would vouch for (keys, EU signers, settings, revocations) carry
    /// no proof that someone holding the passphrase wrote them: written into the database by
    /// other means. Nothing was published.
    #[error(
        "the store holds rows this issuer did not write (no proof they were written with its \
         passphrase): {}; nothing was published. Remove rows that are not yours from the \
         database; for a store made before proofs existed, `propusk issuer vouch` lists them \
         and proves those you confirm",
        .0.join("; ")
    )]
    Unproven(Vec<String>),
    /// A transaction was begun inside another, or ended outside one.
    #[error("transaction misuse: {0}")]
    Transaction(&'static str),
}

/// Why an EU DCC operation failed.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum EuError {
    /// `issuer eu init` has not run.
    #[error("the issuer has no EU signing keys: run `propusk issuer eu init` first")]
    NotSetUp,
    /// `issuer eu init` ran already.
    #[error("the issuer has EU signing keys already (rotate the document signer instead)")]
    AlreadySetUp,
    /// The credential has no EU form.
    #[error("no EU DCC twin: {0}")]
    Twin(#[from] propusk_eudcc::twin::TwinError),
    /// The twin could not be signed.
    #[error("no EU DCC twin: {0}")]
    Sign(#[from] propusk_eudcc::SignError),
    /// A certificate could not be made.
    #[error("{0}")]
    Certificate(#[from] propusk_eudcc::cert::CertError),
    /// The country signing CA has ended (or ends before a document signer could start).
    #[error(
        "the country signing CA {key} ended at {ended}: renew it (propusk issuer eu renew), \
         which makes a new CA and a document signer under it"
    )]
    CaEnded {
        /// The CA's key id.
        key: String,
        /// When it ended.
        ended: Timestamp,
    },
    /// The country signing CA is still valid for long: renewing is refused.
    #[error(
        "the country signing CA {key} is valid until {until}: rotate the document signer \
         instead (renew the CA in its last year)"
    )]
    CaValid {
        /// The CA's key id.
        key: String,
        /// When it ends.
        until: Timestamp,
    },
    /// No EU signer is published under this key id.
    #[error("no EU signer {0} is published")]
    NoSuchSigner(String),
    /// The signer to withdraw is the issuer's active document signer.
    #[error(
        "EU signer {0} is the active document signer: rotate first (propusk issuer eu rotate), \
         then withdraw it"
    )]
    ActiveSigner(String),
}

/// Why the hardware security module (a PKCS#11 token) could not be used.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum TokenError {
    /// The PKCS#11 module could not be loaded.
    #[error("cannot load the PKCS#11 module {}: {why}", module.display())]
    Module {
        /// The module's path.
        module: PathBuf,
        /// Why, in the loader's words.
        why: String,
    },
    /// No token with this label.
    #[error("no token labelled {0:?} in the PKCS#11 module")]
    NoToken(String),
    /// The PIN is wrong.
    #[error("the token's PIN is wrong")]
    WrongPin,
    /// The PIN is missing.
    #[error("set PROPUSK_PKCS11_PIN (no terminal to ask for the token's PIN on)")]
    NoPin,
    /// The PIN is locked after too many wrong tries.
    #[error("the token's PIN is locked: its security officer must unlock it")]
    PinLocked,
    /// The issuer keeps keys in a token its directory does not name.
    #[error(
        "this issuer keeps keys in a token, but {} names none: write it (module and token \
         label) or copy it from the issuer's first directory", .0.display()
    )]
    NotNamed(PathBuf),
    /// `pkcs11.json` does not parse.
    #[error("{} is damaged: it must name the module and the token", .0.display())]
    Damaged(PathBuf),
    /// A key the store names is not in the token.
    #[error("the token {token} holds no key {id} (another token, or a deleted key?)")]
    NoKey {
        /// The token's label.
        token: String,
        /// The key's object id (hex).
        id: String,
    },
    /// The token cannot do what is asked (Ed25519, P-256 or HMAC-SHA-256).
    #[error("the token does not support it: {0}")]
    Unsupported(String),
    /// The token refused otherwise.
    #[error("the token refused: {0}")]
    Refused(String),
}
