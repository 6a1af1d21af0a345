//! The issuer's EU DCC twin: a country signing CA and document signers of its own (sealed like
//! its other keys), the `HC1:` twin of a credential signed by the active document signer, and
//! the EU revocation hash lists of revoked twins for a gateway.

use std::path::{Path, PathBuf};

use propusk_eudcc::{
    DocumentSigner, EcSign, Hc1Type, RevocationHash, SignerCertificate, cert, twin,
};
use propusk_input::Request;
use propusk_spec::{CredentialId, Timestamp};
use propusk_trust_list::EuSigner;
use serde_json::json;

use crate::error::{EuError, IssuerError, StoreError};
use crate::issuer::Issuer;
use crate::records::Row;
use crate::records::{AuditOp, Issued};
use crate::secret::random_bytes;
use crate::store::{EuRole, EuTwinRecord, StoredEuKey};

/// How long the country signing CA is valid (five years).
pub const CSCA_LIFETIME_S: i64 = 5 * 365 * 86_400;
/// How long a document signer certificate is valid (two years): it signs twins for about the
/// first of them, every twin expiring within it.
pub const DSC_LIFETIME_S: i64 = 2 * 365 * 86_400;
/// The file of EU revocation hashes that `publish` writes for a gateway.
pub const EU_REVOCATIONS_FILE: &str = "eu-revocations.json";

/// How long before its end a country signing CA may be renewed (its last year), and how long
/// a document signer must have to sign before rotating makes one under the old CA.
pub const CA_RENEWAL_S: i64 = 365 * 86_400;
/// The shortest life a new document signer may have under its CA.
pub const MIN_DSC_LIFE_S: i64 = 30 * 86_400;

/// An EU key as `issuer eu list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EuKeyInfo {
    /// Its key id (hex).
    pub key_id: String,
    /// `csca` or `dsc`.
    pub role: &'static str,
    /// Whether it signs.
    pub active: bool,
    /// Start of its certificate's validity.
    pub not_before: Timestamp,
    /// End of its certificate's validity.
    pub not_after: Timestamp,
    /// `sealed` (in the store, under the passphrase) or `token` (in a hardware security
    /// module).
    pub kept: &'static str,
}

fn serial() -> Result<u64, IssuerError> {
    let mut bytes = [0u8; 8];
    random_bytes(&mut bytes)?;
    // A positive serial, never zero.
    Ok((u64::from_be_bytes(bytes) >> 1).max(1))
}

fn label(key_id: &str) -> Vec<u8> {
    format!("eu:{key_id}").into_bytes()
}

fn key_id_of(der: &[u8]) -> Result<String, IssuerError> {
    let parsed = SignerCertificate::from_der(der)
        .map_err(|_| StoreError::Corrupt("an EU certificate that does not parse"))?;
    Ok(propusk_spec::hex::encode(parsed.key_id()))
}

impl Issuer {
    /// Creates the issuer's country signing CA and a first document signer (for vaccinations,
    /// tests and recoveries); the signer certificate is published with the next bundle.
    pub fn eu_init(&mut self, now: Timestamp) -> Result<Vec<EuKeyInfo>, IssuerError> {
        self.vault()?;
        if !self.store.eu_keys()?.is_empty() {
            return Err(EuError::AlreadySetUp.into());
        }
        let (ca_key, stored) = self.new_ca(now)?;
        self.in_transaction(|issuer| {
            issuer.store.insert_eu_key(&stored)?;
            issuer.audit(now, AuditOp::EuKey, &format!("EU CSCA {}", stored.key_id))?;
            issuer.new_document_signer(ca_key.as_ref(), &stored, now)
        })?;
        self.eu_keys()
    }

    /// A new document signer signed by the CA; the active one stops signing (what it signed
    /// stays valid, its certificate stays published while it is valid). Refused when the CA
    /// has ended, or would end within [`MIN_DSC_LIFE_S`]: renew it then.
    pub fn eu_rotate(&mut self, now: Timestamp) -> Result<Vec<EuKeyInfo>, IssuerError> {
        self.vault()?;
        let ca = self.eu_key(EuRole::Csca)?.ok_or(EuError::NotSetUp)?;
        if ca.not_after.unix() - now.unix() < MIN_DSC_LIFE_S {
            return Err(EuError::CaEnded {
                key: ca.key_id,
                ended: ca.not_after,
            }
            .into());
        }
        let ca_key = self.eu_secret(&ca)?;
        self.in_transaction(|issuer| {
            if let Some(old) = issuer.eu_key(EuRole::Dsc)? {
                issuer.store.retire_eu_key(&old.key_id)?;
            }
            issuer.new_document_signer(ca_key.as_ref(), &ca, now)
        })?;
        self.eu_keys()
    }

    /// Renews the country signing CA in its last year or after its end: a new CA and a first
    /// document signer under it; the old CA and document signers stop signing (what they signed
    /// stays valid while their certificates are). Onboard the new CA with the gateway.
    pub fn eu_renew(&mut self, now: Timestamp) -> Result<Vec<EuKeyInfo>, IssuerError> {
        self.vault()?;
        let old = self.eu_key(EuRole::Csca)?.ok_or(EuError::NotSetUp)?;
        if old.not_after.unix() - now.unix() > CA_RENEWAL_S {
            return Err(EuError::CaValid {
                key: old.key_id,
                until: old.not_after,
            }
            .into());
        }
        let (ca_key, stored) = self.new_ca(now)?;
        self.in_transaction(|issuer| {
            issuer.store.retire_eu_key(&old.key_id)?;
            if let Some(dsc) = issuer.eu_key(EuRole::Dsc)? {
                issuer.store.retire_eu_key(&dsc.key_id)?;
            }
            issuer.store.insert_eu_key(&stored)?;
            issuer.audit(
                now,
                AuditOp::EuKey,
                &format!("EU CSCA {} (renews {})", stored.key_id, old.key_id),
            )?;
            issuer.new_document_signer(ca_key.as_ref(), &stored, now)
        })?;
        self.eu_keys()
    }

    /// Withdraws an EU signer certificate — an imported one, or one of the issuer's own
    /// document signers that no longer signs — from the published trust data: verifiers that
    /// sync the next publication trust it no more (after a leak, or when a country withdraws
    /// it). The active document signer is refused: rotate first.
    pub fn eu_withdraw(&mut self, key_id: &str, now: Timestamp) -> Result<(), IssuerError> {
        self.vault()?;
        let key_id = key_id.trim().to_ascii_lowercase();
        if self
            .eu_key(EuRole::Dsc)?
            .is_some_and(|active| active.key_id == key_id)
        {
            return Err(EuError::ActiveSigner(key_id).into());
        }
        self.in_transaction(|issuer| {
            if !issuer.store.remove_eu_signer(&key_id)? {
                return Err(EuError::NoSuchSigner(key_id.clone()).into());
            }
            issuer.audit(
                now,
                AuditOp::EuWithdraw,
                &format!("EU signer {key_id}, published no more"),
            )
        })
    }

    /// The authority's name as its EU twins give it (the certificate issuer `is`, the travel
    /// page): its Latin name when set, its name when that is in Latin letters, else the name
    /// transliterated (ICAO 9303, upper case).
    pub fn authority_latin(&self) -> String {
        let s = &self.settings;
        if let Some(latin) = &s.name_latin {
            return latin.clone();
        }
        if s.name.is_ascii() {
            return s.name.clone();
        }
        propusk_spec::translit::to_latin(&s.name)
            .unwrap_or_else(|| propusk_spec::translit::text_to_latin(&s.name))
    }

    /// Sets the authority's name in Latin letters for its EU twins (`""` removes it): letters
    /// A–Z, digits, spaces and `. , - & ' ( ) /`, at most 80 characters; audited and proven like
    /// every setting.
    pub fn set_name_latin(&mut self, latin: &str, now: Timestamp) -> Result<(), IssuerError> {
        self.vault()?;
        let latin = latin.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || " .,-&'()/".contains(c);
        if latin.chars().count() > 80 || !latin.chars().all(allowed) {
            return Err(propusk_input::InputError::field(
                "--name-latin",
                "Latin letters, digits, spaces and . , - & ' ( ) /, at most 80 characters",
            )
            .into());
        }
        let mut settings = self.settings.clone();
        settings.name_latin = (!latin.is_empty()).then(|| latin.to_owned());
        let said = match &settings.name_latin {
            Some(latin) => format!("Latin name {latin}"),
            None => "no Latin name".to_owned(),
        };
        self.in_transaction(|issuer| {
            issuer.store.update_settings(&settings)?;
            issuer.prove(Row::Settings)?;
            issuer.audit(now, AuditOp::Config, &said)
        })?;
        self.settings = settings;
        Ok(())
    }

    /// The signing half of an EU key.
    fn eu_secret(&self, key: &StoredEuKey) -> Result<Box<dyn EcSign>, IssuerError> {
        self.ec_of(key, &label(&key.key_id))
    }

    /// A new country signing CA from `now`, sealed or in the token (not yet stored).
    fn new_ca(&self, now: Timestamp) -> Result<(Box<dyn EcSign>, StoredEuKey), IssuerError> {
        let ca_key = self.new_ec()?;
        let not_after = now.plus_seconds(CSCA_LIFETIME_S);
        let der = cert::country_signing_ca(
            ca_key.key(),
            &self.settings.country,
            &self.settings.name,
            serial()?,
            now.unix(),
            not_after.unix(),
        )
        .map_err(EuError::from)?;
        let key_id = key_id_of(&der)?;
        let stored = StoredEuKey {
            sealed: ca_key.stored(self.vault()?, &label(&key_id))?,
            key_id,
            role: EuRole::Csca,
            certificate: der,
            active: true,
            not_before: now,
            not_after,
            created_at: now,
        };
        Ok((ca_key.into_key(), stored))
    }

    fn new_document_signer(
        &mut self,
        ca_key: &dyn EcSign,
        ca: &StoredEuKey,
        now: Timestamp,
    ) -> Result<(), IssuerError> {
        let key = self.new_ec()?;
        let not_after = now.plus_seconds(DSC_LIFETIME_S).min(ca.not_after);
        let der = cert::document_signer(
            ca_key,
            &ca.certificate,
            key.key(),
            &[Hc1Type::Vaccination, Hc1Type::Test, Hc1Type::Recovery],
            serial()?,
            now.unix(),
            not_after.unix(),
        )
        .map_err(EuError::from)?;
        let key_id = key_id_of(&der)?;
        let signer = EuSigner {
            der: der.clone(),
            country: self.settings.country.clone(),
        };
        self.store.insert_eu_key(&StoredEuKey {
            sealed: key.stored(self.vault()?, &label(&key_id))?,
            key_id: key_id.clone(),
            role: EuRole::Dsc,
            certificate: der,
            active: true,
            not_before: now,
            not_after,
            created_at: now,
        })?;
        // Published with the bundle: Propusk verifiers check twins with the same trust data.
        self.store.add_eu_signer(&key_id, &signer, now)?;
        self.prove(Row::EuSigner(key_id.clone()))?;
        self.audit(now, AuditOp::EuKey, &format!("EU document signer {key_id}"))
    }

    /// The newest active key of a role.
    fn eu_key(&self, role: EuRole) -> Result<Option<StoredEuKey>, IssuerError> {
        Ok(self
            .store
            .eu_keys()?
            .into_iter()
            .rfind(|k| k.role == role && k.active))
    }

    /// The issuer's EU keys: the CA, then the document signers by creation.
    pub fn eu_keys(&self) -> Result<Vec<EuKeyInfo>, IssuerError> {
        Ok(self
            .store
            .eu_keys()?
            .into_iter()
            .map(|k| EuKeyInfo {
                key_id: k.key_id,
                role: k.role.as_str(),
                active: k.active,
                not_before: k.not_before,
                not_after: k.not_after,
                kept: match crate::token::token_id(&k.sealed) {
                    Some(_) => "token",
                    None => "sealed",
                },
            })
            .collect())
    }

    /// Writes the CA and every document signer certificate, PEM and DER, into `out` (for a
    /// gateway's onboarding, and for `propusk verify --trust-cert`); returns the files.
    pub fn eu_export(&self, out: &Path) -> Result<Vec<PathBuf>, IssuerError> {
        let keys = self.store.eu_keys()?;
        if keys.is_empty() {
            return Err(EuError::NotSetUp.into());
        }
        std::fs::create_dir_all(out).map_err(|e| IssuerError::io(out, e))?;
        let mut written = Vec::new();
        for k in keys {
            let stem = match k.role {
                EuRole::Csca if k.active => "csca".to_owned(),
                EuRole::Csca => format!("csca-{}", k.key_id),
                EuRole::Dsc => format!("dsc-{}", k.key_id),
            };
            let pem = cert::to_pem(&k.certificate).map_err(EuError::from)?;
            for (ext, bytes) in [("pem", pem.as_bytes()), ("der", k.certificate.as_slice())] {
                let path = out.join(format!("{stem}.{ext}"));
                std::fs::write(&path, bytes).map_err(|e| IssuerError::io(&path, e))?;
                written.push(path);
            }
        }
        Ok(written)
    }

    /// The active document signer, unsealed.
    pub(crate) fn document_signer(&self) -> Result<(DocumentSigner, String), IssuerError> {
        let k = self.eu_key(EuRole::Dsc)?.ok_or(EuError::NotSetUp)?;
        let signer =
            DocumentSigner::with_key(self.eu_secret(&k)?, &k.certificate).map_err(EuError::from)?;
        Ok((signer, k.key_id))
    }

    /// Issues a credential for `request` and its EU DCC twin together: both are stored, or —
    /// when the record cannot make an EU DCC — neither. For a record issued before, its
    /// credential and twin (made now if it had none).
    pub fn issue_with_twin(
        &mut self,
        request: &Request,
        now: Timestamp,
    ) -> Result<(Issued, String), IssuerError> {
        let (eu, _) = self.document_signer()?;
        self.in_transaction(|issuer| {
            let mut signer = issuer.signer(now)?;
            let (issued, _, twin) = issuer.issue_row(&mut signer, Some(&eu), request, now)?;
            Ok((issued, twin.unwrap_or_default()))
        })
    }

    /// One record of a run (a batch): the credential and, with a document signer, its twin.
    /// A record that cannot make an EU DCC is refused before anything is issued for it.
    pub(crate) fn issue_row(
        &mut self,
        signer: &mut crate::issuance::Signer,
        eu: Option<&DocumentSigner>,
        request: &Request,
        now: Timestamp,
    ) -> Result<(Issued, bool, Option<String>), IssuerError> {
        if eu.is_some() {
            let draft = propusk_spec::Credential {
                id: CredentialId::from_bytes([0; 12]),
                issued_at: now,
                expires_at: now,
                holder: request.holder.door(),
                body: request.body.clone(),
            };
            let device = request.test_device.as_deref();
            twin::certificate(
                &draft,
                &request.holder,
                &self.authority_latin(),
                &self.settings.country,
                device,
            )
            .map_err(EuError::from)?;
        }
        let (issued, new) = self.issue_with(signer, request, now)?;
        let twin = match eu {
            Some(eu) => Some(self.twin(eu, &issued, request.test_device.as_deref())?),
            None => None,
        };
        Ok((issued, new, twin))
    }

    /// The twin of an issued credential: the stored one, or one signed now and stored (`device`:
    /// a rapid antigen test's, see [`twin::certificate`]).
    pub(crate) fn twin(
        &mut self,
        eu: &DocumentSigner,
        issued: &Issued,
        device: Option<&str>,
    ) -> Result<String, IssuerError> {
        if let Some(existing) = self.store.eu_twin(&issued.id)? {
            return Ok(existing.text);
        }
        let credential = propusk_spec::decode(&issued.credential)
            .map_err(|_| StoreError::Corrupt("a stored credential that does not decode"))?
            .unverified_claims()
            .clone();
        let holder = self.kept_holder(&issued.id)?;
        let (name, country) = (self.authority_latin(), &self.settings.country);
        let json = twin::certificate(&credential, &holder, &name, country, device)
            .map_err(EuError::from)?;
        let signed = propusk_eudcc::sign(
            &json,
            country,
            issued.issued_at.unix(),
            issued.expires_at.unix(),
            eu,
        )
        .map_err(EuError::from)?;
        self.store.insert_eu_twin(&EuTwinRecord {
            credential_id: issued.id,
            uci: twin::uvci(country, &issued.id),
            key_id: propusk_spec::hex::encode(&signed.key_id),
            signature: signed.signature,
            text: signed.text.clone(),
        })?;
        Ok(signed.text)
    }

    /// The twin of a credential, when it has one.
    pub fn eu_twin(&self, id: &CredentialId) -> Result<Option<String>, IssuerError> {
        Ok(self.store.eu_twin(id)?.map(|t| t.text))
    }

    /// The EU revocation lists of the revoked twins not yet expired at `now`, as a gateway
    /// takes them: one batch per document signer and hash form, each entry the first 128 bits
    /// of the hash, base64.
    pub(crate) fn eu_revocations(&self, now: Timestamp) -> Result<serde_json::Value, IssuerError> {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let twins = self.store.revoked_eu_twins(now)?;
        let country = &self.settings.country;
        let mut batches = Vec::new();
        let mut kids: Vec<&str> = twins.iter().map(|(t, _)| t.key_id.as_str()).collect();
        kids.sort_unstable();
        kids.dedup();
        for kid in kids {
            let ours: Vec<&(EuTwinRecord, Timestamp)> =
                twins.iter().filter(|(t, _)| t.key_id == kid).collect();
            let kid_bytes = propusk_spec::KeyId::from_hex(kid)
                .ok_or(StoreError::Corrupt("a malformed EU key id"))?;
            let expires = ours.iter().map(|(_, e)| *e).max();
            for form in RevocationHash::ALL {
                let entries: Vec<_> = ours
                    .iter()
                    .map(|(t, _)| json!({"hash": STANDARD.encode(form.of(&t.uci, country, &t.signature))}))
                    .collect();
                batches.push(json!({
                    "country": country,
                    "kid": STANDARD.encode(kid_bytes.as_bytes()),
                    "hashType": form.as_str(),
                    "expires": expires.map(|e| e.to_string()),
                    "entries": entries,
                }));
            }
        }
        Ok(json!({"country": country, "generated": now.to_string(), "batches": batches}))
    }
}
