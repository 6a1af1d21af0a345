//! Signing credentials again: one record, every credential of a key (after a compromise), or
//! every credential not signed by the active key (after a rotation for a format change). Each
//! old credential is revoked and its content issued anew in one transaction, audited with both
//! ids; the run streams in chunks as a batch does, and a rerun after a kill signs nothing twice
//! (what was signed again is revoked, and so no longer selected).

use std::path::Path;

use propusk_input::Request;
use propusk_spec::{CredentialId, KeyId, Timestamp};

use crate::batch::{CHUNK, write_image};
use crate::error::{IssuerError, KeyError, StoreError};
use crate::issued_csv::IssuedCsv;
use crate::issued_csv::image_name;
use crate::issuer::Issuer;
use crate::records::Issued;
use crate::store::Reissuable;

/// Which credentials to sign again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reissue {
    /// The credential of one registry record (signed again even under the active key).
    Record(String),
    /// Every unexpired, unrevoked credential signed by this key (not the active one).
    Key(KeyId),
    /// Every unexpired, unrevoked credential not signed by the active key.
    All,
}

/// What a reissue run did.
#[derive(Debug, Default)]
pub struct ReissueReport {
    /// Credentials signed again (each old one revoked).
    pub reissued: usize,
    /// Credentials that could not be signed again (the rules refuse their content now, the
    /// active key ends first): the old id and why; they stand as they were.
    pub refused: Vec<(CredentialId, IssuerError)>,
    /// QR images written.
    pub images: usize,
}

impl Issuer {
    /// Signs `which` again at `now` under the active key, writing `issued.csv`
    /// (`record_id,credential_id[,hc1],image,replaces`) and, with `images`, each new QR (and
    /// twin) into `out`. `progress` hears the credentials done so far.
    pub fn reissue(
        &mut self,
        which: &Reissue,
        now: Timestamp,
        out: &Path,
        images: bool,
        mut progress: impl FnMut(usize),
    ) -> Result<ReissueReport, IssuerError> {
        std::fs::create_dir_all(out).map_err(|e| IssuerError::io(out, e))?;
        let mut signer = self.signer(now)?;
        let active = signer.key_id.clone();
        let eu = match self.store.eu_keys()?.is_empty() {
            true => None,
            false => Some(self.document_signer()?.0),
        };
        let mut csv = IssuedCsv::create(out, eu.is_some(), images, true)?;
        let mut report = ReissueReport::default();
        let key = match which {
            Reissue::Key(key) if *key == active => {
                return Err(KeyError::NoSuchKey(format!(
                    "{key} is the active key: rotate (or compromise it) first, then sign its \
                     credentials again"
                ))
                .into());
            }
            Reissue::Key(key) => Some(key.clone()),
            Reissue::All => None,
            Reissue::Record(record) => {
                let done = self.reissue_with(&mut signer, eu.as_ref(), record, now)?;
                report.record(done, &mut csv, out, images)?;
                csv.finish()?;
                return Ok(report);
            }
        };
        let mut after: Option<CredentialId> = None;
        loop {
            let chunk = self.store.to_reissue(&Reissuable {
                key: key.clone(),
                not_key: active.clone(),
                after,
                now,
                limit: CHUNK,
            })?;
            let Some(last) = chunk.last() else { break };
            after = Some(last.id);
            let outcomes = self.in_transaction(|issuer| {
                chunk
                    .into_iter()
                    .map(|record| {
                        let old = issuer.issued(record);
                        match issuer.sign_again(&mut signer, eu.as_ref(), &old, now) {
                            Ok(done) => Ok(Ok(done)),
                            // The content refused now: nothing changed for it, the rest goes on.
                            Err(e @ (IssuerError::Refused(_) | IssuerError::Input(_))) => {
                                Ok(Err((old.id, e)))
                            }
                            Err(e) => Err(e),
                        }
                    })
                    .collect::<Result<Vec<_>, IssuerError>>()
            })?;
            for outcome in outcomes {
                match outcome {
                    Ok(done) => report.record(done, &mut csv, out, images)?,
                    Err(refused) => report.refused.push(refused),
                }
            }
            progress(report.reissued + report.refused.len());
        }
        csv.finish()?;
        Ok(report)
    }

    /// Signs the credential of one registry record again at `now` under the active key (its
    /// old credential revoked, audited); returns the new credential and its twin, when the old
    /// one had one.
    pub fn reissue_record(
        &mut self,
        record: &str,
        now: Timestamp,
    ) -> Result<(Issued, Option<String>), IssuerError> {
        let mut signer = self.signer(now)?;
        let eu = match self.store.eu_keys()?.is_empty() {
            true => None,
            false => Some(self.document_signer()?.0),
        };
        self.reissue_with(&mut signer, eu.as_ref(), record, now)
    }

    fn reissue_with(
        &mut self,
        signer: &mut crate::issuance::Signer,
        eu: Option<&propusk_eudcc::DocumentSigner>,
        record: &str,
        now: Timestamp,
    ) -> Result<(Issued, Option<String>), IssuerError> {
        let old = self
            .record(record)?
            .ok_or_else(|| IssuerError::UnknownRecord(record.to_owned()))?;
        if old.status != crate::records::CredentialStatus::Issued {
            return Err(IssuerError::RecordRevoked {
                record: record.to_owned(),
                credential: old.id,
            });
        }
        self.in_transaction(|issuer| issuer.sign_again(signer, eu, &old, now))
    }

    /// `old` revoked and its content issued anew (with its twin when it had one).
    fn sign_again(
        &mut self,
        signer: &mut crate::issuance::Signer,
        eu: Option<&propusk_eudcc::DocumentSigner>,
        old: &Issued,
        now: Timestamp,
    ) -> Result<(Issued, Option<String>), IssuerError> {
        let stored = propusk_spec::decode(&old.credential)
            .map_err(|_| StoreError::Corrupt("a stored credential that does not decode"))?;
        let claims = stored.unverified_claims();
        let old_twin = self.store.eu_twin(&old.id)?;
        let request = Request {
            record_id: old.record_id.clone(),
            holder: self.kept_holder(&old.id)?,
            body: claims.body.clone(),
            // A rapid test's device is kept only in its twin (`ma`).
            test_device: old_twin
                .as_ref()
                .and_then(|t| propusk_eudcc::decode(&t.text).ok())
                .and_then(|hc1| hc1.entry()["ma"].as_str().map(str::to_owned)),
        };
        let had_twin = old_twin.is_some();
        let issued = self.replace(signer, &request, old, now)?;
        let twin = match (eu, had_twin) {
            (Some(eu), true) => Some(self.twin(eu, &issued, request.test_device.as_deref())?),
            _ => None,
        };
        Ok((issued, twin))
    }
}

impl ReissueReport {
    /// One credential signed again: counted, listed in `issued.csv`, its QR written.
    fn record(
        &mut self,
        (issued, twin): (Issued, Option<String>),
        csv: &mut IssuedCsv,
        out: &Path,
        images: bool,
    ) -> Result<(), IssuerError> {
        self.reissued += 1;
        if images {
            let name = issued
                .record_id
                .clone()
                .unwrap_or_else(|| issued.id.to_string());
            let path = out.join(image_name(&name));
            write_image(&path, &propusk_qr::render_png(&issued.credential, 4)?)?;
            self.images += 1;
            if let Some(text) = &twin {
                write_image(
                    &path.with_extension("hc1.png"),
                    &propusk_qr::render_png(text, 4)?,
                )?;
                self.images += 1;
            }
        }
        csv.row(&issued, twin.as_deref())
    }
}
