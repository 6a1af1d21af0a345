//! Issuance: a request becomes a signed credential when the rule set would accept it and the
//! active key outlives it; every credential is recorded, a registry record at most once.

use propusk_spec::{Credential, CredentialId, Encoder, KeyId, Timestamp};
use propusk_trust_list::{RuleFailure, Rules};

use crate::custody::Ed25519Key;
use crate::error::{IssuerError, KeyError, Refusal, StoreError};
use crate::issuer::Issuer;
use crate::keys::is_active;
use crate::records::Row;
use crate::records::{AuditOp, CredentialStatus, Issued, Links};
use crate::secret::random_bytes;
use crate::store::{CredentialRecord, Inserted};
use propusk_input::Request;

/// What issuing needs once per run: the active key unsealed, the rules resolved, an encoder.
pub(crate) struct Signer {
    pub(crate) key_id: KeyId,
    key: Ed25519Key,
    not_after: Timestamp,
    rules: Rules,
    encoder: Encoder,
}

impl Issuer {
    /// Issues a credential for `request` at `now`. With a record id already issued with the
    /// same content, returns that credential again and issues nothing; with other content,
    /// refuses ([`Refusal::RecordChanged`]) unless [`Issuer::reissue_changed`] was asked for.
    pub fn issue(&mut self, request: &Request, now: Timestamp) -> Result<Issued, IssuerError> {
        let mut signer = self.signer(now)?;
        // A replacement (revoke, insert, prove, audit) is one transaction; a plain issuance is
        // one statement, and may run inside the caller's transaction.
        let issued = match self.reissue {
            true => self.in_transaction(|issuer| issuer.issue_with(&mut signer, request, now)),
            false => self.issue_with(&mut signer, request, now),
        };
        issued.map(|(issued, _)| issued)
    }

    /// Whether a record issued before with other content (a correction) is issued again: its
    /// old credential revoked and the corrected one issued in one transaction, audited. Off by
    /// default: a registry that changed a record by mistake must not revoke anyone's
    /// credential silently.
    pub fn reissue_changed(&mut self, reissue: bool) {
        self.reissue = reissue;
    }

    /// The active key unsealed and the rules resolved, for a run of issuances.
    /// Refused when `now` lies outside the key's window: every verifier would refuse what it
    /// signed (`key_usage`).
    pub(crate) fn signer(&self, now: Timestamp) -> Result<Signer, IssuerError> {
        let key = self.signing_key(is_active)?.ok_or(KeyError::NoActiveKey)?;
        let not_after = key
            .not_after
            .ok_or(StoreError::Corrupt("a signing key without an end"))?;
        if now < key.not_before || now >= not_after {
            return Err(KeyError::OutsideWindow {
                key: key.key_id,
                at: now,
                not_before: key.not_before,
                not_after,
            }
            .into());
        }
        Ok(Signer {
            key: self.key_of(&key)?,
            not_after,
            key_id: key.key_id,
            rules: self.rules()?,
            encoder: Encoder,
        })
    }

    /// Issues with a signer; the flag says whether the credential is new (`false`: the record
    /// id was issued before and that credential is returned).
    pub(crate) fn issue_with(
        &mut self,
        signer: &mut Signer,
        request: &Request,
        now: Timestamp,
    ) -> Result<(Issued, bool), IssuerError> {
        if let Some(done) = self.existing(request)? {
            return self.again(signer, request, done, now);
        }
        loop {
            let record = self.draft(signer, request, now)?;
            match self.store.insert_credential(&record)? {
                Inserted::Inserted => return Ok((self.issued(record), true)),
                // Another writer issued this record a moment ago: that credential stands.
                Inserted::RecordTaken => {
                    if let Some(done) = self.existing(request)? {
                        return self.again(signer, request, done, now);
                    }
                }
                // 96 random bits collided: draw another id.
                Inserted::IdTaken => {}
            }
        }
    }

    /// A request whose record id was issued before as `done`: `done` again when it says the
    /// same of the holder and the body; otherwise refused, or (when reissuing) replaced. The
    /// flag says whether a credential was issued. Runs inside the caller's transaction.
    pub(crate) fn again(
        &mut self,
        signer: &mut Signer,
        request: &Request,
        done: Issued,
        now: Timestamp,
    ) -> Result<(Issued, bool), IssuerError> {
        let stored = propusk_spec::decode(&done.credential)
            .map_err(|_| StoreError::Corrupt("a stored credential that does not decode"))?;
        let claims = stored.unverified_claims();
        let same_holder = match &done.holder {
            Some(holder) => *holder == request.holder,
            // A row from before the door form: its credential's door form is all there is.
            None => claims.holder == request.holder.door(),
        };
        if same_holder && claims.body == request.body {
            return Ok((done, false));
        }
        if !self.reissue {
            return Err(Refusal::RecordChanged {
                record: done.record_id.unwrap_or_default(),
                credential: done.id,
            }
            .into());
        }
        self.replace(signer, request, &done, now)
            .map(|issued| (issued, true))
    }

    /// Revokes `old` and issues `request` for its record in its place (inside the caller's
    /// transaction): the revocation proven and audited with both ids. Nothing changes when the
    /// new credential cannot be drafted (the rules refuse it, the key ends first).
    pub(crate) fn replace(
        &mut self,
        signer: &mut Signer,
        request: &Request,
        old: &Issued,
        now: Timestamp,
    ) -> Result<Issued, IssuerError> {
        let mut record = self.draft(signer, request, now)?;
        if !self.store.supersede(&old.id, now)? {
            return Err(IssuerError::UnknownCredential(old.id));
        }
        self.prove(Row::Revocation(old.id))?;
        loop {
            match self.store.insert_credential(&record)? {
                Inserted::Inserted => break,
                // 96 random bits collided: draw another id.
                Inserted::IdTaken => record = self.draft(signer, request, now)?,
                Inserted::RecordTaken => {
                    return Err(
                        StoreError::Corrupt("a record id taken while it was replaced").into(),
                    );
                }
            }
        }
        self.audit(
            now,
            AuditOp::Reissue,
            &format!(
                "record {}: credential {} revoked, {} issued",
                record.record_id.as_deref().unwrap_or("(none)"),
                old.id,
                record.id
            ),
        )?;
        let mut issued = self.issued(record);
        issued.replaces = Some(old.id);
        Ok(issued)
    }

    /// The credential `request` would be, signed under a fresh random id, not yet stored;
    /// refused when the rules would not accept it or the key ends first.
    pub(crate) fn draft(
        &self,
        signer: &mut Signer,
        request: &Request,
        now: Timestamp,
    ) -> Result<CredentialRecord, IssuerError> {
        let today = now.date().ok_or(Refusal::Clock)?;
        if request.holder.birth_date.is_after(today) {
            return Err(Refusal::BirthDateInFuture(request.holder.birth_date).into());
        }
        let mut credential = Credential {
            id: CredentialId::from_bytes([0; 12]),
            issued_at: now,
            expires_at: signer.not_after,
            holder: request.holder.door(),
            body: request.body.clone(),
        };
        let outcome = signer.rules.evaluate(&credential, now);
        match outcome.result {
            Ok(()) | Err(RuleFailure::NotYetValid | RuleFailure::Expired) => {}
            Err(failure) => return Err(Refusal::Rules(failure).into()),
        }
        let until = outcome
            .valid_until
            .ok_or(Refusal::Rules(RuleFailure::NoRule))?;
        if until <= now {
            return Err(Refusal::AlreadyExpired(until).into());
        }
        if until > signer.not_after {
            return Err(Refusal::KeyEndsFirst {
                key: signer.key_id.clone(),
                ends: signer.not_after,
            }
            .into());
        }
        credential.expires_at = until;
        let mut id = [0u8; 12];
        random_bytes(&mut id)?;
        credential.id = CredentialId::from_bytes(id);
        let (key, key_id, encoder) = (&signer.key, &signer.key_id, &mut signer.encoder);
        let text = key
            .signing(|sign| encoder.encode(&credential, key_id, sign))?
            .map_err(Refusal::Format)?;
        let holder = request.holder.to_record();
        Ok(CredentialRecord {
            proof: Some(self.credential_proof(&credential.id, &text, Some(&holder))?),
            holder: Some(holder),
            id: credential.id,
            record_id: request.record_id.clone(),
            credential_type: credential.credential_type(),
            key_id: signer.key_id.clone(),
            issued_at: now,
            expires_at: until,
            status: CredentialStatus::Issued,
            text,
        })
    }

    /// A stored credential with its links.
    pub(crate) fn issued(&self, record: CredentialRecord) -> Issued {
        Issued {
            links: self.links(&record.id, &record.text),
            id: record.id,
            credential: record.text,
            record_id: record.record_id,
            credential_type: record.credential_type,
            key_id: record.key_id,
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            status: record.status,
            replaces: None,
            holder: record
                .holder
                .as_deref()
                .and_then(|r| propusk_spec::Holder::from_record(r).ok()),
        }
    }

    /// Both link forms of a credential, when the issuer has a portal URL.
    pub fn links(&self, id: &CredentialId, text: &str) -> Option<Links> {
        Links::new(self.base_url()?, id, text).ok()
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
        let record_id = &propusk_input::record_id(record_id)?;
        Ok(self
            .store
            .credential_for_record(record_id)?
            .map(|r| self.issued(r)))
    }

    /// The credential with this id, if any.
    pub fn credential(&self, id: &CredentialId) -> Result<Option<Issued>, IssuerError> {
        Ok(self.store.credential(id)?.map(|r| self.issued(r)))
    }

    /// Revokes a credential (the holder fell ill, or it was issued in error); it enters the
    /// revocation set at the next publication. The issuer must be unlocked: every change of
    /// state proves the passphrase.
    pub fn revoke(&mut self, id: &CredentialId, now: Timestamp) -> Result<Issued, IssuerError> {
        self.vault()?;
        self.in_transaction(|issuer| {
            if issuer.store.revoke(id, now)? {
                issuer.prove(Row::Revocation(*id))?;
                issuer.audit(now, AuditOp::Revoke, &format!("credential {id}"))?;
            }
            issuer
                .credential(id)?
                .ok_or(IssuerError::UnknownCredential(*id))
        })
    }
}
