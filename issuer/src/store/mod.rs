//! The issuer's storage seam: every statement the issuer makes to its database goes through
//! [`Store`] (reads and writes of the issuer, in transactions) or [`Lookup`] (the portal's
//! concurrent reads). SQLite ([`SqliteStore`]) is the embedded default; another database
//! implements the same two traits, and nothing above them changes.
//!
//! What every implementation guarantees:
//! - [`Store::begin`], [`Store::commit`] and [`Store::rollback`] bracket a transaction that is
//!   committed whole or not at all; [`crate::Issuer::in_transaction`] rolls back on error.
//! - [`Store::next_publication_sequence`], called inside a transaction, reserves a number no
//!   other writer gets: two issuers publishing at once on one database never fork a sequence.
//! - A registry record id is issued at most once ([`Inserted::RecordTaken`]), and a credential
//!   id is never reused ([`Inserted::IdTaken`]), checked by the database itself.
//! - The audit log is append-only in the database itself: no statement can rewrite it.

pub mod copy;

/// Which credentials a reissue run takes next: up to `limit` issued ones, unexpired at `now`,
/// not signed by `not_key` (the active key), signed by `key` when given, with ids after `after`.
#[derive(Debug, Clone)]
pub struct Reissuable {
    /// Only those of this key.
    pub key: Option<KeyId>,
    /// Never those of this key.
    pub not_key: KeyId,
    /// After this id (the last of the previous chunk).
    pub after: Option<CredentialId>,
    /// Unexpired then.
    pub now: Timestamp,
    /// How many at most.
    pub limit: usize,
}

/// Figures the store keeps for the server's `/metrics` (process-wide counters).
pub mod figures {
    use std::sync::atomic::AtomicU64;

    /// Portal lookups answered by gathered queries (`id = ANY(…)`), and the queries: their ratio
    /// is the mean batch.
    pub static GATHERED_LOOKUPS: AtomicU64 = AtomicU64::new(0);
    /// Gathered queries made.
    pub static GATHERED_BATCHES: AtomicU64 = AtomicU64::new(0);
    /// Database connections opened again after the database closed one (a restart, a
    /// failover).
    pub static RECONNECTS: AtomicU64 = AtomicU64::new(0);
}
pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{CredentialId, CredentialType, KeyId, Timestamp};
use propusk_trust_list::{EuSigner, KeyStatus};

pub use postgres::{PgStore, is_postgres_url};
pub use sqlite::SqliteStore;

use crate::error::StoreError;
use crate::records::{AuditEntry, AuditOp, CredentialStatus, KeyRole};

/// The issuer's settings, fixed at `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The authority's name, as verifiers show it.
    pub name: String,
    /// The jurisdiction (ISO 3166-1 alpha-2).
    pub country: String,
    /// The portal's base URL, without a trailing `/`.
    pub url: Option<String>,
    /// The jurisdiction's IANA time zone.
    pub time_zone: String,
    /// The salt of the passphrase's key derivation.
    pub salt: Vec<u8>,
    /// The authority's name in Latin letters, for the EU twin's certificate issuer (`is`) and
    /// the travel page, when its name is in another script.
    pub name_latin: Option<String>,
    /// When the issuer was created.
    pub created_at: Timestamp,
}

/// A key as stored: its public half and its secret half sealed with the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key id.
    pub key_id: KeyId,
    /// What it signs.
    pub role: KeyRole,
    /// The public key.
    pub public_key: VerifyingKey,
    /// The secret key, sealed (nonce, ciphertext, tag).
    pub sealed: Vec<u8>,
    /// Its status.
    pub status: KeyStatus,
    /// Start of its window.
    pub not_before: Timestamp,
    /// End of its window; `None`: no end.
    pub not_after: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("key_id", &self.key_id)
            .field("role", &self.role)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A credential as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// Its id.
    pub id: CredentialId,
    /// The registry record id, if any.
    pub record_id: Option<String>,
    /// Its type.
    pub credential_type: CredentialType,
    /// The key that signed it.
    pub key_id: KeyId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Issued or revoked.
    pub status: CredentialStatus,
    /// The credential text.
    pub text: String,
    /// The issuer's proof that it stored this credential (an HMAC under the vault's proof key
    /// over the id, the text and the holder's record); `None` in rows from before such proofs.
    pub proof: Option<Vec<u8>>,
    /// The holder's full record ([`propusk_spec::Holder::to_record`]): every name and the whole
    /// document number, which the credential does not carry; kept to sign it again and for the
    /// EU twin. `None` in rows from before the door form.
    pub holder: Option<Vec<u8>>,
}

/// A version of the rules as the operator set it: the rules (JSON, the serde shapes of
/// [`propusk_trust_list::Rule`]) in force, whole, from a local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleVersion {
    /// Its number (2 for the first the operator sets: 1 is the standard set).
    pub version: u32,
    /// Its first local day (`YYYY-MM-DD`).
    pub effective_from: String,
    /// The rules, a JSON array.
    pub rules: String,
    /// When it was set.
    pub created_at: Timestamp,
}

/// A revoked credential that has not expired, as publishing reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// Its id.
    pub id: CredentialId,
    /// When it expires (it leaves the revocation set then).
    pub expires_at: Timestamp,
    /// When it was revoked.
    pub revoked_at: Timestamp,
    /// The proof that the issuer revoked it (the issuer's proofs module), if the row has one.
    pub proof: Option<Vec<u8>>,
}

/// The role of an EU DCC key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EuRole {
    /// The country signing CA: signs document signer certificates.
    Csca,
    /// A document signer: signs EU DCCs.
    Dsc,
}

impl EuRole {
    /// The name kept in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            EuRole::Csca => "csca",
            EuRole::Dsc => "dsc",
        }
    }
}

/// An EU DCC key as stored: its certificate and its secret half sealed with the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredEuKey {
    /// The first 8 bytes of SHA-256 over the certificate's DER, hex (the EU key id).
    pub key_id: String,
    /// CA or document signer.
    pub role: EuRole,
    /// The certificate, DER.
    pub certificate: Vec<u8>,
    /// The P-256 secret key, sealed.
    pub sealed: Vec<u8>,
    /// Whether it still signs (a rotated document signer does not).
    pub active: bool,
    /// Start of the certificate's validity.
    pub not_before: Timestamp,
    /// End of the certificate's validity.
    pub not_after: Timestamp,
    /// When it was made.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for StoredEuKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEuKey")
            .field("key_id", &self.key_id)
            .field("role", &self.role)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// The EU DCC twin of a credential, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EuTwinRecord {
    /// The credential it is the twin of.
    pub credential_id: CredentialId,
    /// Its UVCI.
    pub uci: String,
    /// The document signer's key id, hex.
    pub key_id: String,
    /// Its ES256 signature (for the EU revocation hash).
    pub signature: Vec<u8>,
    /// The `HC1:` text.
    pub text: String,
}

/// What inserting a credential did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored.
    Inserted,
    /// Another credential has this id (draw another).
    IdTaken,
    /// The registry record id was issued before (that credential stands).
    RecordTaken,
}

/// The issuer's database: settings, keys, credentials, EU signers, publications, audit log.
pub trait Store: Send {
    /// Begins a transaction (SQLite: `BEGIN IMMEDIATE`, the write lock).
    fn begin(&mut self) -> Result<(), StoreError>;
    /// Commits the transaction.
    fn commit(&mut self) -> Result<(), StoreError>;
    /// Rolls the transaction back: nothing it wrote stays.
    fn rollback(&mut self) -> Result<(), StoreError>;

    /// The settings, when the issuer was created.
    fn settings(&self) -> Result<Option<Settings>, StoreError>;
    /// Records the settings of a new issuer.
    fn create(&mut self, settings: &Settings) -> Result<(), StoreError>;
    /// Changes the name, portal URL and time zone (the country and salt never change).
    fn update_settings(&mut self, settings: &Settings) -> Result<(), StoreError>;

    /// Stores a new key; `false` when its key id is taken (draw another key).
    fn insert_key(&mut self, key: &StoredKey) -> Result<bool, StoreError>;
    /// Every key: the root first, then signing keys by creation.
    fn keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Sets a signing key's status; `false` when there is no such signing key.
    fn set_key_status(&mut self, key_id: &KeyId, status: KeyStatus) -> Result<bool, StoreError>;
    /// Makes an announced key active, its window starting no later than `from`.
    fn activate_key(&mut self, key_id: &KeyId, from: Timestamp) -> Result<(), StoreError>;

    /// Stores a credential, unless its id or its record id is taken.
    fn insert_credential(&mut self, record: &CredentialRecord) -> Result<Inserted, StoreError>;
    /// The credential with this id.
    fn credential(&self, id: &CredentialId) -> Result<Option<CredentialRecord>, StoreError>;
    /// Stores many credentials at once (a batch's chunk), each unless its id or record id is
    /// taken; one outcome per record, in order. The default stores them one by one.
    fn insert_credentials(
        &mut self,
        records: &[CredentialRecord],
    ) -> Result<Vec<Inserted>, StoreError> {
        records.iter().map(|r| self.insert_credential(r)).collect()
    }
    /// The credentials issued for these registry records (those issued: any order).
    fn credentials_for_records(
        &self,
        record_ids: &[String],
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let mut found = Vec::new();
        for record in record_ids {
            found.extend(self.credential_for_record(record)?);
        }
        Ok(found)
    }
    /// The credential issued for a registry record.
    fn credential_for_record(
        &self,
        record_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// Marks a credential revoked at `at`; `false` when it was not an issued one.
    fn revoke(&mut self, id: &CredentialId, at: Timestamp) -> Result<bool, StoreError>;
    /// Revokes a credential at `at` (kept revoked from before, if it was) and frees its record
    /// id for the credential that replaces it; `false` when there is no such credential.
    fn supersede(&mut self, id: &CredentialId, at: Timestamp) -> Result<bool, StoreError>;
    /// The next credentials to sign again ([`Reissuable`]), in id order.
    fn to_reissue(&self, which: &Reissuable) -> Result<Vec<CredentialRecord>, StoreError>;
    /// The revoked credentials that have not expired at `now`, each with its proof.
    fn revoked_unexpired(&self, now: Timestamp) -> Result<Vec<Revoked>, StoreError>;

    /// Records a version of the rules.
    fn insert_rule_version(&mut self, version: &RuleVersion) -> Result<(), StoreError>;
    /// Every version of the rules the operator set, oldest first.
    fn rule_versions(&self) -> Result<Vec<RuleVersion>, StoreError>;

    /// Records the proof of a row that publications vouch for (replacing any it had): `kind`
    /// names its table (`Row::kind`), `row` the row.
    fn set_proof(&mut self, kind: &str, row: &str, proof: &[u8]) -> Result<(), StoreError>;
    /// The proofs of the rows of one kind, by row.
    fn proofs(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Stores an EU signer certificate (by its hex key id) once; `false` when it was there.
    fn add_eu_signer(
        &mut self,
        key_id: &str,
        signer: &EuSigner,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Every EU signer certificate, by key id.
    fn eu_signers(&self) -> Result<Vec<EuSigner>, StoreError>;
    /// Withdraws an EU signer certificate (it is published no more), with its proof; `false`
    /// when there was none under this key id.
    fn remove_eu_signer(&mut self, key_id: &str) -> Result<bool, StoreError>;

    /// Replaces the EU trust data of one kind (value sets, business rules, revocation batches,
    /// the trust list's anchor) with `all`, each by its name, their proofs with them.
    fn set_eu_data(
        &mut self,
        kind: &str,
        all: &[(String, Vec<u8>)],
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The EU trust data of one kind, by name.
    fn eu_data(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Stores a new EU DCC key (CA or document signer).
    fn insert_eu_key(&mut self, key: &StoredEuKey) -> Result<(), StoreError>;
    /// Every EU DCC key, by creation.
    fn eu_keys(&self) -> Result<Vec<StoredEuKey>, StoreError>;
    /// Stops a document signer signing (it was rotated); what it signed stays valid.
    fn retire_eu_key(&mut self, key_id: &str) -> Result<(), StoreError>;
    /// Stores a credential's EU twin (one per credential).
    fn insert_eu_twin(&mut self, twin: &EuTwinRecord) -> Result<(), StoreError>;
    /// The EU twin of a credential.
    fn eu_twin(&self, id: &CredentialId) -> Result<Option<EuTwinRecord>, StoreError>;
    /// The EU twins of revoked credentials that have not expired at `now`, with their expiry.
    fn revoked_eu_twins(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(EuTwinRecord, Timestamp)>, StoreError>;

    /// Inside a transaction: the next publication sequence, reserved until the transaction
    /// ends.
    fn next_publication_sequence(&mut self) -> Result<u64, StoreError>;
    /// Records a publication under its sequence: its content (CBOR, to make deltas from) and
    /// its signed files (to serve). Files of publications older than the two newest may go.
    fn insert_publication(
        &mut self,
        sequence: u64,
        issued_at: Timestamp,
        content: &[u8],
        files: &[(String, Vec<u8>)],
    ) -> Result<(), StoreError>;
    /// The contents of the newest `n` publications, newest first.
    fn recent_publications(&self, n: usize) -> Result<Vec<Vec<u8>>, StoreError>;
    /// The newest publication's sequence, when there is one.
    fn latest_sequence(&self) -> Result<Option<u64>, StoreError>;
    /// Which store this is, as an operator names it (the SQLite file, or the PostgreSQL
    /// database without its password).
    fn label(&self) -> String;

    /// Appends to the audit log.
    fn append_audit(&mut self, at: Timestamp, op: AuditOp, detail: &str) -> Result<(), StoreError>;
    /// The audit log, oldest first.
    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError>;

    /// A handle for concurrent reads (the portal), independent of this one's transactions.
    fn lookup(&self) -> Result<Arc<dyn Lookup>, StoreError>;
}

/// Where the answer to a gathered lookup goes (called once, on another thread).
pub type Reply = Box<dyn FnOnce(Result<Option<CredentialRecord>, StoreError>) + Send>;

/// Reads that many threads make at once, without waiting for the issuer's writes.
pub trait Lookup: Send + Sync {
    /// The credential with this id.
    fn credential(&self, id: &CredentialId) -> Result<Option<CredentialRecord>, StoreError>;
    /// Asks for the credential with this id without waiting: the answer goes to `reply` when it
    /// comes (a server's task awaits it instead of holding a thread). A lookup that does not
    /// gather gives `reply` back: call [`Lookup::credential`] on a thread that may block.
    fn gather(&self, id: &CredentialId, reply: Reply) -> Result<(), Reply> {
        let _ = id;
        Err(reply)
    }
    /// The newest publication's sequence, when there is one.
    fn latest_publication(&self) -> Result<Option<u64>, StoreError>;
    /// The signed files of a publication (empty when they are no longer kept).
    fn publication_files(&self, sequence: u64) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
}
