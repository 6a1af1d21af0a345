//! Publishing: the trust list from the keys' statuses, the revocation set of revoked credentials
//! that have not expired, the rule set, and the EU signers, signed with the root key under the
//! next publication sequence, with deltas from recent publications.

use std::path::Path;

use propusk_eudcc::SignerCertificate;
use propusk_input::InputError;
use propusk_spec::{CredentialType, Timestamp};
use propusk_trust_list::{
    BundleContent, EuSigner, PublishError, RevocationSet, TrustedKey, sign_publication,
    write_publication,
};

use crate::error::{IssuerError, StoreError};
use crate::issuer::Issuer;
use crate::records::{AuditOp, KeyInfo, KeyRole, Published};

/// After this, verifiers warn that their trust data is stale.
pub const SOFT_EXPIRY_S: i64 = 3 * 86_400;
/// After this, verifiers cannot tell.
pub const HARD_EXPIRY_S: i64 = 30 * 86_400;
/// A running server publishes again once its newest publication is this old, so verifiers
/// that sync find data fresh for two more days at least.
pub const REPUBLISH_AFTER_S: i64 = SOFT_EXPIRY_S / 3;
/// Past publications kept to publish deltas from.
pub const DELTAS_KEPT: usize = 7;

/// What an operator should do after a rotation, for verifiers to know the key that signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationAdvice {
    /// A key was only announced: publish now, and rotate once verifiers have synced (every
    /// verifier holding fresh trust data has it by `safe_from`).
    Announced {
        /// When rotating is safe.
        safe_from: Timestamp,
    },
    /// The new key was never announced: verifiers answer "cannot tell" for what it signs until
    /// they sync; publish now, and announce ahead next time.
    NotAnnounced,
    /// The announced key was never published: no verifier knows it; publish now.
    NeverPublished,
    /// The announced key was first published `at`, less than a freshness window ago: verifiers
    /// that have not synced since cannot tell; every one with fresh data has it by `safe_from`.
    RecentlyPublished {
        /// When it was first published.
        at: Timestamp,
        /// When every verifier with fresh data has it.
        safe_from: Timestamp,
    },
    /// Verifiers know the key: publish now (the old key's retirement).
    Ready,
}

impl Issuer {
    /// [`Issuer::rotate`], with what the operator should do next (see [`RotationAdvice`]).
    pub fn rotate_advised(
        &mut self,
        now: Timestamp,
        announce: bool,
    ) -> Result<(KeyInfo, RotationAdvice), IssuerError> {
        let window = SOFT_EXPIRY_S;
        let announced = self.signing_key(crate::keys::is_next)?;
        let published = match &announced {
            Some(k) => self.key_published_at(&k.key_id)?,
            None => None,
        };
        let key = self.rotate(now, announce)?;
        let advice = match (announce, announced, published) {
            (true, _, _) => RotationAdvice::Announced {
                safe_from: now.plus_seconds(window),
            },
            (false, None, _) => RotationAdvice::NotAnnounced,
            (false, Some(_), None) => RotationAdvice::NeverPublished,
            (false, Some(_), Some(at)) if now.unix() - at.unix() < window => {
                RotationAdvice::RecentlyPublished {
                    at,
                    safe_from: at.plus_seconds(window),
                }
            }
            (false, Some(_), Some(_)) => RotationAdvice::Ready,
        };
        Ok((key, advice))
    }

    /// When the newest publication was made, if there is one.
    pub fn last_published_at(&self) -> Result<Option<Timestamp>, IssuerError> {
        let Some(bytes) = self.store.recent_publications(1)?.into_iter().next() else {
            return Ok(None);
        };
        let content: BundleContent = ciborium::from_reader(bytes.as_slice())
            .map_err(|_| StoreError::Corrupt("a stored publication that does not decode"))?;
        Ok(Timestamp::from_unix(content.issued_at))
    }

    /// When the newest publication naming signing key `kid` was made — the newest publication
    /// when it names the key, else none (the key was never published, or no longer is).
    pub fn key_published_at(
        &self,
        kid: &propusk_spec::KeyId,
    ) -> Result<Option<Timestamp>, IssuerError> {
        let Some(bytes) = self.store.recent_publications(1)?.into_iter().next() else {
            return Ok(None);
        };
        let content: BundleContent = ciborium::from_reader(bytes.as_slice())
            .map_err(|_| StoreError::Corrupt("a stored publication that does not decode"))?;
        let named = content.keys.iter().any(|k| k.key_id == kid.as_bytes());
        Ok(named
            .then(|| Timestamp::from_unix(content.issued_at))
            .flatten())
    }

    /// Whether a server should publish at `now`: there is no publication yet, or the newest is
    /// older than [`REPUBLISH_AFTER_S`] (a third of the time verifiers hold it fresh).
    pub fn due_for_publishing(&self, now: Timestamp) -> Result<bool, IssuerError> {
        Ok(self
            .last_published_at()?
            .is_none_or(|at| now.unix() - at.unix() >= REPUBLISH_AFTER_S))
    }

    /// Builds the trust bundle of `now`, signs it with deltas from recent publications and the
    /// index, and records it — sequence, content and signed files — in one transaction, so two
    /// publishers never share a sequence and every server serves the newest publication; then
    /// writes the files into `out`.
    pub fn publish(&mut self, out: &Path, now: Timestamp) -> Result<Published, IssuerError> {
        let root_key = self.root_key()?;
        let root = self.key_of(&root_key)?;
        let (publication, count) = self.in_transaction(|issuer| {
            let sequence = issuer.store.next_publication_sequence()?;
            let revoked = issuer
                .store
                .revoked_unexpired(crate::records::published_from(now))?;
            // Nothing is vouched for that someone without the passphrase wrote.
            issuer.check_proofs(&revoked)?;
            let count = revoked.len() as u64;
            let revoked: Vec<_> = revoked.into_iter().map(|r| (r.id, r.expires_at)).collect();
            let content = BundleContent {
                jurisdiction: issuer.settings.country.clone(),
                sequence,
                issued_at: now.unix(),
                soft_expiry: now.unix() + SOFT_EXPIRY_S,
                hard_expiry: now.unix() + HARD_EXPIRY_S,
                keys: issuer.trusted_keys()?,
                revocations: RevocationSet::build(revoked, vec![], now),
                rules: issuer.rule_set()?,
                eu_signers: issuer.eu_signers_in_force(now)?,
                eu: issuer.eu_trust_data(now)?,
            };
            let previous = issuer
                .store
                .recent_publications(DELTAS_KEPT)?
                .iter()
                .map(|bytes| ciborium::from_reader(bytes.as_slice()))
                .collect::<Result<Vec<BundleContent>, _>>()
                .map_err(|_| StoreError::Corrupt("a stored publication that does not decode"))?;
            if let Some(last) = previous.first() {
                let back = crate::proof::taken_back(last, &content.keys);
                if !back.is_empty() {
                    return Err(StoreError::Unproven(back).into());
                }
                let lost = last
                    .revocations
                    .lost_in(&content.revocations, now)
                    .map_err(|_| StoreError::Corrupt("a stored publication's revocation set"))?;
                if lost > 0 {
                    return Err(StoreError::RevocationsLost {
                        lost,
                        sequence: last.sequence,
                    }
                    .into());
                }
            }
            let publication = root
                .signing(|sign| sign_publication(&content, &previous, &root_key.key_id, sign))?
                .map_err(PublishError::from)?;
            let mut encoded = Vec::new();
            ciborium::into_writer(&content, &mut encoded)
                .map_err(|_| StoreError::Corrupt("a bundle that does not encode"))?;
            issuer
                .store
                .insert_publication(sequence, now, &encoded, &publication.files)?;
            issuer.prove_publication(sequence, &encoded)?;
            issuer.audit(
                now,
                AuditOp::Publish,
                &format!("sequence {sequence}, {count} revoked, to {}", out.display()),
            )?;
            Ok((publication, count))
        })?;
        // The database holds the publication first (every server serves it from there); the
        // issuer's directory notes which store made it; the files follow, each whole or not at
        // all.
        crate::split::record(&self.dir, self.store.as_ref(), publication.index.sequence)?;
        let written = write_publication(out, &publication)?;
        // For a gateway: the EU revocation hashes of revoked twins, when there are twins.
        if !self.store.eu_keys()?.is_empty() {
            let lists = self.eu_revocations(now)?;
            let path = out.join(crate::eu::EU_REVOCATIONS_FILE);
            propusk_trust_list::write_atomically(&path, format!("{lists:#}\n").as_bytes())
                .map_err(|e| IssuerError::io(&path, e))?;
        }
        Ok(Published {
            sequence: publication.index.sequence,
            bundle: written.bundle,
            deltas_from: publication.index.deltas.iter().map(|d| d.from).collect(),
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
        self.vault()?;
        country
            .parse::<propusk_spec::Country>()
            .map_err(|e| InputError::field("--country", e))?;
        self.in_transaction(|issuer| {
            let mut ids = Vec::new();
            for bytes in certificates {
                let certificate = |e| InputError::field("certificate", e);
                let der = SignerCertificate::der(bytes).map_err(certificate)?;
                let kid = propusk_spec::hex::encode(
                    SignerCertificate::from_der(&der)
                        .map_err(certificate)?
                        .key_id(),
                );
                let signer = EuSigner {
                    der,
                    country: country.to_owned(),
                };
                issuer.store.add_eu_signer(&kid, &signer, now)?;
                // What the operator imported is proven, whatever the row holds: imported again,
                // a signer of a store from before proofs is proven; a row someone else wrote
                // for this certificate with another country stays unproven.
                issuer.prove_eu_signer(&kid, &signer)?;
                issuer.audit(
                    now,
                    AuditOp::EuImport,
                    &format!("EU signer {kid} ({country})"),
                )?;
                ids.push(kid);
            }
            Ok(ids)
        })
    }

    /// The EU signers to publish: those whose certificate has not ended (a twin never outlasts
    /// its signer, so nothing it signed needs it afterwards).
    fn eu_signers_in_force(&self, now: Timestamp) -> Result<Vec<EuSigner>, IssuerError> {
        Ok(self
            .store
            .eu_signers()?
            .into_iter()
            .filter(|s| {
                SignerCertificate::from_der(&s.der).is_ok_and(|c| c.validity().1 >= now.unix())
            })
            .collect())
    }

    /// The trust list: every signing key with its status and window.
    fn trusted_keys(&self) -> Result<Vec<TrustedKey>, IssuerError> {
        self.store
            .keys()?
            .into_iter()
            .filter(|k| k.role == KeyRole::Signing)
            .map(|k| {
                let not_after = k
                    .not_after
                    .ok_or(StoreError::Corrupt("a signing key without an end"))?;
                Ok(TrustedKey {
                    key_id: k.key_id.as_bytes().to_vec(),
                    public_key: k.public_key.as_bytes().to_vec(),
                    issuer: self.settings.name.clone(),
                    country: self.settings.country.clone(),
                    not_before: k.not_before.unix(),
                    not_after: not_after.unix(),
                    types: CredentialType::ALL.to_vec(),
                    status: k.status,
                })
            })
            .collect()
    }
}
