//! The scale-out store: PostgreSQL, shared by several `propusk serve` processes and issuer
//! commands at once. The same tables as the SQLite store (migrations in [`schema`]), the audit
//! log append-only by a trigger, publication sequences reserved under an advisory lock, a
//! registry record issued once by a unique index. A connection that the database closed (a
//! restart) is opened again at the next statement outside a transaction.

mod bulk;
mod conn;
mod eu;
mod lookup;
pub(crate) mod moved;
mod rows;
mod schema;
mod vouched;

use std::cell::{RefCell, RefMut};
use std::sync::Arc;

use conn::Conn;
pub(crate) use conn::connect;
use propusk_spec::{CredentialId, KeyId, Timestamp};
use propusk_trust_list::{EuSigner, KeyStatus};

use super::{
    CredentialRecord, EuTwinRecord, Inserted, Lookup, Reissuable, Revoked, RuleVersion, Settings,
    Store, StoredEuKey, StoredKey,
};
use crate::error::StoreError;
use crate::records::{AuditEntry, AuditOp, CredentialStatus, KeyRole};
use lookup::PgLookup;
use rows::{CredentialKey, select_credential, stored_key, timestamp};

/// The lock a publisher holds while it reserves a sequence ("propusk2").
const PUBLICATION_LOCK: i64 = 0x7072_6f70_7573_6b32;

/// Whether a `--database` value names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Lookups for a portal from the database at `url` (a read-only replica will do).
pub(crate) fn read_only(url: &str) -> Arc<dyn Lookup> {
    Arc::new(PgLookup::new(url))
}

/// The issuer's PostgreSQL store.
pub struct PgStore {
    client: RefCell<Conn>,
    url: String,
    in_transaction: bool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` and brings its schema up to date.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let mut client = connect(url)?;
        schema::migrate(&mut client)?;
        Ok(PgStore {
            client: RefCell::new(Conn::new(client)),
            url: url.to_owned(),
            in_transaction: false,
        })
    }

    /// The connection; one the database closed (a restart, found out by asking a connection
    /// idle for a while) is opened again, outside a transaction.
    fn db(&self) -> Result<RefMut<'_, Conn>, StoreError> {
        let mut client = self.client.borrow_mut();
        if !self.in_transaction && client.is_gone() {
            *client = Conn::new(connect(&self.url)?);
            crate::store::figures::RECONNECTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!("the database had closed the issuer's connection: connected again");
        }
        Ok(client)
    }
}

impl Store for PgStore {
    fn begin(&mut self) -> Result<(), StoreError> {
        if self.in_transaction {
            return Err(StoreError::Transaction("a transaction is already open"));
        }
        self.db()?.batch_execute("BEGIN")?;
        self.in_transaction = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if !self.in_transaction {
            return Err(StoreError::Transaction("commit outside a transaction"));
        }
        self.in_transaction = false;
        self.db()?.batch_execute("COMMIT")?;
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        if !self.in_transaction {
            return Err(StoreError::Transaction("rollback outside a transaction"));
        }
        self.in_transaction = false;
        let mut client = self.client.borrow_mut();
        // A connection lost mid-transaction has rolled back by itself.
        if !client.is_closed() {
            client.batch_execute("ROLLBACK")?;
        }
        Ok(())
    }

    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        let row = self.db()?.query_opt(
            "SELECT name, country, url, time_zone, salt, created_at, name_latin FROM config
             WHERE id = 1",
            &[],
        )?;
        row.map(|r| {
            Ok(Settings {
                name: r.get(0),
                country: r.get(1),
                url: r.get(2),
                time_zone: r.get(3),
                salt: r.get(4),
                created_at: timestamp(r.get(5))?,
                name_latin: r.get(6),
            })
        })
        .transpose()
    }

    fn create(&mut self, s: &Settings) -> Result<(), StoreError> {
        self.db()?.execute(
            "INSERT INTO config (id, name, country, url, time_zone, salt, created_at)
             VALUES (1, $1, $2, $3, $4, $5, $6)",
            &[
                &s.name,
                &s.country,
                &s.url,
                &s.time_zone,
                &s.salt,
                &s.created_at.unix(),
            ],
        )?;
        Ok(())
    }

    fn update_settings(&mut self, s: &Settings) -> Result<(), StoreError> {
        self.db()?.execute(
            "UPDATE config SET name = $1, url = $2, time_zone = $3, name_latin = $4 WHERE id = 1",
            &[&s.name, &s.url, &s.time_zone, &s.name_latin],
        )?;
        Ok(())
    }

    fn insert_key(&mut self, k: &StoredKey) -> Result<bool, StoreError> {
        let inserted = self.db()?.execute(
            "INSERT INTO keys
             (key_id, role, public_key, sealed, status, since, not_before, not_after, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            &[
                &k.key_id.to_string(),
                &k.role.as_str(),
                &k.public_key.as_bytes().as_slice(),
                &k.sealed,
                &k.status.as_str(),
                &k.status.since(),
                &k.not_before.unix(),
                &k.not_after.map(Timestamp::unix),
                &k.created_at.unix(),
            ],
        )?;
        Ok(inserted == 1)
    }

    fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.db()?
            .query(
                "SELECT key_id, role, public_key, sealed, status, since, not_before, not_after,
                        created_at
                 FROM keys ORDER BY role = $1, created_at, key_id",
                &[&KeyRole::Signing.as_str()],
            )?
            .iter()
            .map(stored_key)
            .collect()
    }

    fn set_key_status(&mut self, kid: &KeyId, status: KeyStatus) -> Result<bool, StoreError> {
        let changed = self.db()?.execute(
            "UPDATE keys SET status = $2, since = $3 WHERE key_id = $1 AND role = $4",
            &[
                &kid.to_string(),
                &status.as_str(),
                &status.since(),
                &KeyRole::Signing.as_str(),
            ],
        )?;
        Ok(changed == 1)
    }

    fn activate_key(&mut self, kid: &KeyId, from: Timestamp) -> Result<(), StoreError> {
        self.db()?.execute(
            "UPDATE keys SET status = $3, since = NULL, not_before = least(not_before, $2)
             WHERE key_id = $1",
            &[&kid.to_string(), &from.unix(), &KeyStatus::Active.as_str()],
        )?;
        Ok(())
    }

    fn insert_credential(&mut self, c: &CredentialRecord) -> Result<Inserted, StoreError> {
        let inserted = self.db()?.execute(
            "INSERT INTO credentials
             (id, record_id, type, key_id, issued_at, expires_at, status, revoked_at, text,
              proof, holder)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
            &[
                &c.id.to_string(),
                &c.record_id,
                &c.credential_type.as_str(),
                &c.key_id.to_string(),
                &c.issued_at.unix(),
                &c.expires_at.unix(),
                &c.status.as_str(),
                &c.status.since().map(Timestamp::unix),
                &c.text,
                &c.proof,
                &c.holder,
            ],
        )?;
        if inserted == 1 {
            return Ok(Inserted::Inserted);
        }
        let record_taken = match &c.record_id {
            Some(record) => self.credential_for_record(record)?.is_some(),
            None => false,
        };
        Ok(if record_taken {
            Inserted::RecordTaken
        } else {
            Inserted::IdTaken
        })
    }

    fn insert_credentials(
        &mut self,
        records: &[CredentialRecord],
    ) -> Result<Vec<Inserted>, StoreError> {
        let inserted = bulk::insert(&mut *self.db()?, records)?;
        records
            .iter()
            .map(|c| {
                if inserted.contains(&c.id.to_string()) {
                    return Ok(Inserted::Inserted);
                }
                // Not inserted: a taken record id, or (96 random bits) a taken credential id.
                let record_taken = match &c.record_id {
                    Some(record) => self.credential_for_record(record)?.is_some(),
                    None => false,
                };
                Ok(if record_taken {
                    Inserted::RecordTaken
                } else {
                    Inserted::IdTaken
                })
            })
            .collect()
    }

    fn credentials_for_records(
        &self,
        record_ids: &[String],
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        self.db()?
            .query(
                concat!(
                    "SELECT ",
                    rows::credential_columns!(),
                    " FROM credentials WHERE record_id = ANY($1)"
                ),
                &[&record_ids],
            )?
            .iter()
            .map(rows::credential_record)
            .collect()
    }

    fn credential(&self, id: &CredentialId) -> Result<Option<CredentialRecord>, StoreError> {
        select_credential(&mut *self.db()?, CredentialKey::Id, &id.to_string())
    }

    fn credential_for_record(
        &self,
        record_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        select_credential(&mut *self.db()?, CredentialKey::Record, record_id)
    }

    fn revoke(&mut self, id: &CredentialId, at: Timestamp) -> Result<bool, StoreError> {
        let changed = self.db()?.execute(
            "UPDATE credentials SET status = $3, revoked_at = $2 WHERE id = $1 AND status = $4",
            &[
                &id.to_string(),
                &at.unix(),
                &CredentialStatus::Revoked { at }.as_str(),
                &CredentialStatus::Issued.as_str(),
            ],
        )?;
        Ok(changed == 1)
    }

    fn to_reissue(&self, which: &Reissuable) -> Result<Vec<CredentialRecord>, StoreError> {
        moved::to_reissue(&mut *self.db()?, which)
    }

    fn supersede(&mut self, id: &CredentialId, at: Timestamp) -> Result<bool, StoreError> {
        moved::supersede(&mut *self.db()?, id, at)
    }

    fn revoked_unexpired(&self, now: Timestamp) -> Result<Vec<Revoked>, StoreError> {
        vouched::revoked_unexpired(&mut *self.db()?, now)
    }

    fn insert_rule_version(&mut self, v: &RuleVersion) -> Result<(), StoreError> {
        vouched::insert_rule_version(&mut *self.db()?, v)
    }

    fn rule_versions(&self) -> Result<Vec<RuleVersion>, StoreError> {
        vouched::rule_versions(&mut *self.db()?)
    }

    fn set_proof(&mut self, kind: &str, row: &str, proof: &[u8]) -> Result<(), StoreError> {
        vouched::set_proof(&mut *self.db()?, kind, row, proof)
    }

    fn proofs(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        vouched::proofs(&mut *self.db()?, kind)
    }

    fn add_eu_signer(
        &mut self,
        kid: &str,
        s: &EuSigner,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        eu::add_signer(&mut *self.db()?, kid, s, at)
    }

    fn eu_signers(&self) -> Result<Vec<EuSigner>, StoreError> {
        eu::signers(&mut *self.db()?)
    }

    fn remove_eu_signer(&mut self, kid: &str) -> Result<bool, StoreError> {
        eu::remove_signer(&mut *self.db()?, kid)
    }

    fn set_eu_data(
        &mut self,
        kind: &str,
        all: &[(String, Vec<u8>)],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        eu::set_data(&mut *self.db()?, kind, all, at)
    }

    fn eu_data(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        eu::data(&mut *self.db()?, kind)
    }

    fn insert_eu_key(&mut self, key: &StoredEuKey) -> Result<(), StoreError> {
        eu::insert_key(&mut *self.db()?, key)
    }

    fn eu_keys(&self) -> Result<Vec<StoredEuKey>, StoreError> {
        eu::keys(&mut *self.db()?)
    }

    fn retire_eu_key(&mut self, key_id: &str) -> Result<(), StoreError> {
        eu::retire(&mut *self.db()?, key_id)
    }

    fn insert_eu_twin(&mut self, twin: &EuTwinRecord) -> Result<(), StoreError> {
        eu::insert_twin(&mut *self.db()?, twin)
    }

    fn eu_twin(&self, id: &CredentialId) -> Result<Option<EuTwinRecord>, StoreError> {
        eu::twin(&mut *self.db()?, id)
    }

    fn revoked_eu_twins(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(EuTwinRecord, Timestamp)>, StoreError> {
        eu::revoked_twins(&mut *self.db()?, now)
    }

    fn next_publication_sequence(&mut self) -> Result<u64, StoreError> {
        if !self.in_transaction {
            return Err(StoreError::Transaction(
                "a publication sequence is reserved inside a transaction",
            ));
        }
        let mut db = self.db()?;
        // Held until the transaction ends: the next publisher reads the maximum after this one
        // committed (each statement of READ COMMITTED sees what was committed before it began).
        db.execute("SELECT pg_advisory_xact_lock($1)", &[&PUBLICATION_LOCK])?;
        let last: i64 = db
            .query_one("SELECT coalesce(max(sequence), 0) FROM publications", &[])?
            .get(0);
        u64::try_from(last)
            .map(|l| l + 1)
            .map_err(|_| StoreError::Corrupt("a negative publication sequence"))
    }

    fn insert_publication(
        &mut self,
        sequence: u64,
        issued_at: Timestamp,
        content: &[u8],
        files: &[(String, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let sequence =
            i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a sequence out of range"))?;
        let mut db = self.db()?;
        db.execute(
            "INSERT INTO publications (sequence, issued_at, content) VALUES ($1, $2, $3)",
            &[&sequence, &issued_at.unix(), &content],
        )?;
        for (name, bytes) in files {
            db.execute(
                "INSERT INTO publication_files (sequence, name, bytes) VALUES ($1, $2, $3)",
                &[&sequence, name, bytes],
            )?;
        }
        db.execute(
            "DELETE FROM publication_files WHERE sequence < $1",
            &[&(sequence - 1)],
        )?;
        Ok(())
    }

    fn latest_sequence(&self) -> Result<Option<u64>, StoreError> {
        let last: Option<i64> = self
            .db()?
            .query_one("SELECT max(sequence) FROM publications", &[])?
            .get(0);
        last.map(|s| u64::try_from(s).map_err(|_| StoreError::Corrupt("a negative sequence")))
            .transpose()
    }

    fn label(&self) -> String {
        format!("the PostgreSQL store {}", moved::label(&self.url))
    }

    fn recent_publications(&self, n: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let limit = i64::try_from(n).unwrap_or(i64::MAX);
        Ok(self
            .db()?
            .query(
                "SELECT content FROM publications ORDER BY sequence DESC LIMIT $1",
                &[&limit],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn append_audit(&mut self, at: Timestamp, op: AuditOp, detail: &str) -> Result<(), StoreError> {
        self.db()?.execute(
            "INSERT INTO audit (at, op, detail) VALUES ($1, $2, $3)",
            &[&at.unix(), &op.as_str(), &detail],
        )?;
        Ok(())
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.db()?
            .query("SELECT seq, at, op, detail FROM audit ORDER BY seq", &[])?
            .iter()
            .map(rows::audit_entry)
            .collect()
    }

    fn lookup(&self) -> Result<Arc<dyn Lookup>, StoreError> {
        Ok(Arc::new(PgLookup::new(&self.url)))
    }
}
