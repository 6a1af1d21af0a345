//! Proofs of rows: what a publication vouches for under the root key — the settings (the
//! authority's name, country and time zone, from which the rules come), the signing keys, the EU
//! signers and the revocations — must have been written by someone holding the passphrase. Each
//! such write stores an HMAC of the row's content under a key derived from the vault
//! (the vault's `prove`) in the `proofs` table; a signing key's secret half must also
//! open under the vault and match its public key. A row written into the database by other
//! means (a database login without the passphrase) carries no valid proof: publishing refuses
//! and names it, and nothing is signed.
//!
//! Rows of stores made before proofs existed have none; `propusk issuer vouch` lists them and,
//! when the operator confirms they are the issuer's own, proves them (audited).

use propusk_eudcc::SignerCertificate;
use propusk_spec::{CredentialId, Timestamp};
use propusk_trust_list::{BundleContent, EuSigner, KeyStatus, TrustedKey};

use crate::error::{IssuerError, StoreError};
use crate::issuer::Issuer;
use crate::records::{AuditOp, CredentialStatus, EuDataKind, Row};
use crate::secret::Prover;
use crate::store::{Revoked, RuleVersion, Settings, StoredKey};

/// The content of a row as its proof covers it: the kind and the row first, then every field
/// that a publication takes from it.
pub(crate) struct Content(Vec<Vec<u8>>);

impl Content {
    fn new(row: &Row) -> Self {
        Content(vec![row.kind().into(), row.key().into_bytes()])
    }

    fn with(mut self, part: impl Into<Vec<u8>>) -> Self {
        self.0.push(part.into());
        self
    }

    fn with_time(self, t: Option<Timestamp>) -> Self {
        self.with(t.map_or_else(Vec::new, |t| t.unix().to_be_bytes().to_vec()))
    }

    pub(crate) fn parts(&self) -> Vec<&[u8]> {
        self.0.iter().map(Vec::as_slice).collect()
    }
}

fn settings_content(s: &Settings) -> Content {
    let content = Content::new(&Row::Settings)
        .with(s.name.as_bytes())
        .with(s.country.as_bytes())
        .with(
            s.url
                .as_deref()
                .map_or_else(Vec::new, |u| [b"=", u.as_bytes()].concat()),
        )
        .with(s.time_zone.as_bytes())
        .with(s.salt.as_slice())
        .with_time(Some(s.created_at));
    // Added later: covered when set, so that the proofs of settings made before still hold.
    match &s.name_latin {
        Some(latin) => content.with([b"latin=", latin.as_bytes()].concat()),
        None => content,
    }
}

fn key_content(k: &StoredKey) -> Content {
    Content::new(&Row::Key(k.key_id.clone()))
        .with(k.role.as_str())
        .with(k.public_key.as_bytes().as_slice())
        .with(k.status.as_str())
        .with_time(k.status.since().and_then(Timestamp::from_unix))
        .with_time(Some(k.not_before))
        .with_time(k.not_after)
}

fn eu_signer_content(kid: &str, s: &EuSigner) -> Content {
    Content::new(&Row::EuSigner(kid.to_owned()))
        .with(s.der.as_slice())
        .with(s.country.as_bytes())
}

fn eu_data_content(kind: EuDataKind, name: &str, body: &[u8]) -> Content {
    Content::new(&Row::EuData(kind, name.to_owned())).with(body)
}

fn rules_content(v: &RuleVersion) -> Content {
    Content::new(&Row::Rules(v.version))
        .with(v.effective_from.as_bytes())
        .with(v.rules.as_bytes())
}

fn publication_content(sequence: u64, bytes: &[u8]) -> Content {
    Content::new(&Row::Publication(sequence)).with(bytes)
}

/// The content of an issued credential as its proof covers it: its id and its text.
/// A credential row's proven content: its id, its text and, when kept, its holder's record
/// (so that a record changed without the vault is never signed again).
pub(crate) fn credential_content(id: &CredentialId, text: &str, holder: Option<&[u8]>) -> Content {
    let content = Content::new(&Row::Credential(*id)).with(text);
    match holder {
        Some(holder) => content.with(holder),
        None => content,
    }
}

/// Whether `proof` proves that the issuer of `prover` stored this credential (the portal takes
/// such a row as signed, without checking its signature).
pub(crate) fn proves_credential(
    prover: &Prover,
    proof: &[u8],
    id: &CredentialId,
    text: &str,
    holder: Option<&[u8]>,
) -> bool {
    prover.proves(proof, &credential_content(id, text, holder).parts())
}

fn revocation_content(r: &Revoked) -> Content {
    Content::new(&Row::Revocation(r.id))
        .with_time(Some(r.revoked_at))
        .with_time(Some(r.expires_at))
}

/// The EU key id (hex) of a published signer: of its certificate, not of what its row says.
fn eu_kid(s: &EuSigner) -> Option<String> {
    SignerCertificate::from_der(&s.der)
        .ok()
        .map(|c| propusk_spec::hex::encode(c.key_id()))
}

/// What `issuer vouch` found, and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vouching {
    /// Rows without a valid proof that the passphrase could prove, in words.
    pub unproven: Vec<String>,
    /// Rows that cannot be the issuer's own whatever the operator says (a key whose secret
    /// half does not open under the passphrase, a certificate that does not parse): remove
    /// them from the database.
    pub foreign: Vec<String>,
    /// Whether the unproven rows were proven now.
    pub proven: bool,
}

/// The rows vouched for, as the audit log keeps it: each named when they are few, counted by
/// kind when they are many (a million revocations of an old store).
fn summary(rows: &[Finding]) -> String {
    if rows.len() <= 20 {
        let named: Vec<String> = rows.iter().map(|f| f.row.describe()).collect();
        return named.join(", ");
    }
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for f in rows {
        match kinds.iter_mut().find(|(k, _)| *k == f.row.kind()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((f.row.kind(), 1)),
        }
    }
    let counted: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!("{} rows: {}", rows.len(), counted.join(", "))
}

/// A row found without a valid proof.
struct Finding {
    row: Row,
    content: Option<Content>,
    why: &'static str,
}

impl Finding {
    fn words(&self) -> String {
        format!("{} ({})", self.row.describe(), self.why)
    }
}

impl Issuer {
    /// Stores the proof of a row just written (inside the writing transaction).
    pub(crate) fn prove(&mut self, row: Row) -> Result<(), IssuerError> {
        let content = self
            .content_of(&row)?
            .ok_or(StoreError::Corrupt("a row to prove that is not there"))?;
        self.store_proof(&row, &content)
    }

    /// Stores the proof of an EU signer as the operator gave it.
    pub(crate) fn prove_eu_signer(
        &mut self,
        kid: &str,
        signer: &EuSigner,
    ) -> Result<(), IssuerError> {
        self.store_proof(
            &Row::EuSigner(kid.to_owned()),
            &eu_signer_content(kid, signer),
        )
    }

    /// Stores the proof of imported EU data as the operator gave it.
    pub(crate) fn prove_eu_data(
        &mut self,
        kind: EuDataKind,
        name: &str,
        body: &[u8],
    ) -> Result<(), IssuerError> {
        self.store_proof(
            &Row::EuData(kind, name.to_owned()),
            &eu_data_content(kind, name, body),
        )
    }

    /// Refuses imported EU data that the operator did not import (a row's proof missing or
    /// wrong): the proofs of the kind read once for all the rows.
    pub(crate) fn check_eu_proofs(
        &self,
        kind: EuDataKind,
        rows: &[(String, Vec<u8>)],
    ) -> Result<(), IssuerError> {
        let proofs: std::collections::HashMap<String, Vec<u8>> =
            self.store.proofs(kind.proof_kind())?.into_iter().collect();
        let vault = self.vault()?;
        for (name, body) in rows {
            let content = eu_data_content(kind, name, body);
            if !proofs
                .get(name)
                .is_some_and(|p| vault.proves(p, &content.parts()))
            {
                let row = Row::EuData(kind, name.clone());
                return Err(StoreError::Unproven(vec![row.describe()]).into());
            }
        }
        Ok(())
    }

    /// The proof of a credential about to be stored.
    pub(crate) fn credential_proof(
        &self,
        id: &CredentialId,
        text: &str,
        holder: Option<&[u8]>,
    ) -> Result<Vec<u8>, IssuerError> {
        Ok(self
            .vault()?
            .prove(&credential_content(id, text, holder).parts())
            .to_vec())
    }

    fn store_proof(&mut self, row: &Row, content: &Content) -> Result<(), IssuerError> {
        let proof = self.vault()?.prove(&content.parts());
        self.store.set_proof(row.kind(), &row.key(), &proof)?;
        Ok(())
    }

    /// The content of a row as it is stored now (`None`: no such row).
    fn content_of(&self, row: &Row) -> Result<Option<Content>, IssuerError> {
        Ok(match row {
            Row::Settings => self.store.settings()?.as_ref().map(settings_content),
            Row::Key(kid) => self
                .store
                .keys()?
                .iter()
                .find(|k| &k.key_id == kid)
                .map(key_content),
            Row::EuSigner(kid) => self
                .store
                .eu_signers()?
                .iter()
                .find(|s| eu_kid(s).as_deref() == Some(kid))
                .map(|s| eu_signer_content(kid, s)),
            Row::Revocation(id) => self.store.credential(id)?.and_then(|c| match c.status {
                CredentialStatus::Revoked { at } => Some(revocation_content(&Revoked {
                    id: *id,
                    expires_at: c.expires_at,
                    revoked_at: at,
                    proof: None,
                })),
                CredentialStatus::Issued => None,
            }),
            Row::Publication(_) | Row::Credential(_) => None,
            Row::EuData(kind, name) => self
                .store
                .eu_data(kind.as_str())?
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(n, body)| eu_data_content(*kind, &n, &body)),
            Row::Rules(version) => self
                .store
                .rule_versions()?
                .iter()
                .find(|v| v.version == *version)
                .map(rules_content),
        })
    }

    /// Stores the proof of a publication's recorded content.
    pub(crate) fn prove_publication(
        &mut self,
        sequence: u64,
        bytes: &[u8],
    ) -> Result<(), IssuerError> {
        self.store_proof(
            &Row::Publication(sequence),
            &publication_content(sequence, bytes),
        )
    }

    /// Every row a publication of `revoked` would vouch for that carries no valid proof.
    fn findings(&self, revoked: &[Revoked]) -> Result<Vec<Finding>, IssuerError> {
        let vault = self.vault()?;
        let proofs = |kind: &str| -> Result<std::collections::HashMap<String, Vec<u8>>, _> {
            Ok::<_, IssuerError>(self.store.proofs(kind)?.into_iter().collect())
        };
        let mut found = Vec::new();
        let mut check = |row: Row, content: Content, proof: Option<&Vec<u8>>| {
            let why = match proof {
                None => "no proof",
                Some(p) if !vault.proves(p, &content.parts()) => "its proof does not match",
                Some(_) => return,
            };
            found.push(Finding {
                row,
                content: Some(content),
                why,
            });
        };
        let settings = proofs(Row::SETTINGS)?;
        let stored = self
            .store
            .settings()?
            .ok_or(StoreError::Corrupt("no settings"))?;
        check(
            Row::Settings,
            settings_content(&stored),
            settings.get(&Row::Settings.key()),
        );
        let keys = proofs(Row::KEY)?;
        let mut foreign = Vec::new();
        for key in self.store.keys()? {
            let row = Row::Key(key.key_id.clone());
            // The secret half must open under the passphrase (or be in this issuer's token) and
            // be the row's public key.
            let opens = self
                .key_of(&key)
                .is_ok_and(|secret| secret.public() == key.public_key);
            if !opens {
                foreign.push(Finding {
                    row,
                    content: None,
                    why: "its secret half does not open with this issuer's passphrase",
                });
                continue;
            }
            check(row.clone(), key_content(&key), keys.get(&row.key()));
        }
        let signers = proofs(Row::EU_SIGNER)?;
        for signer in self.store.eu_signers()? {
            let Some(kid) = eu_kid(&signer) else {
                foreign.push(Finding {
                    row: Row::EuSigner("?".to_owned()),
                    content: None,
                    why: "its certificate does not parse",
                });
                continue;
            };
            let content = eu_signer_content(&kid, &signer);
            check(Row::EuSigner(kid.clone()), content, signers.get(&kid));
        }
        for kind in EuDataKind::ALL {
            let proven = proofs(kind.proof_kind())?;
            for (name, body) in self.store.eu_data(kind.as_str())? {
                let content = eu_data_content(kind, &name, &body);
                check(Row::EuData(kind, name.clone()), content, proven.get(&name));
            }
        }
        for r in revoked {
            check(
                Row::Revocation(r.id),
                revocation_content(r),
                r.proof.as_ref(),
            );
        }
        let rules = proofs(Row::RULES)?;
        for v in self.store.rule_versions()? {
            let row = Row::Rules(v.version);
            check(row.clone(), rules_content(&v), rules.get(&row.key()));
        }
        // The newest publication recorded: the next one must not take back what it said.
        if let Some(bytes) = self.store.recent_publications(1)?.first() {
            let last: BundleContent = ciborium::from_reader(bytes.as_slice())
                .map_err(|_| StoreError::Corrupt("a stored publication that does not decode"))?;
            let row = Row::Publication(last.sequence);
            let proofs = proofs(Row::PUBLICATION)?;
            check(
                row.clone(),
                publication_content(last.sequence, bytes),
                proofs.get(&row.key()),
            );
        }
        found.extend(foreign);
        Ok(found)
    }

    /// Refuses, naming them, the rows a publication of `revoked` would vouch for that carry no
    /// valid proof.
    pub(crate) fn check_proofs(&self, revoked: &[Revoked]) -> Result<(), IssuerError> {
        let found = self.findings(revoked)?;
        if found.is_empty() {
            return Ok(());
        }
        // The first few named (`issuer vouch` lists them all).
        const NAMED: usize = 10;
        let mut words: Vec<String> = found.iter().take(NAMED).map(Finding::words).collect();
        if found.len() > NAMED {
            words.push(format!("and {} more", found.len() - NAMED));
        }
        Err(StoreError::Unproven(words).into())
    }

    /// Lists the rows without a valid proof (those publishing would refuse) and, with
    /// `confirm`, proves those the passphrase can: for a store made before proofs existed,
    /// once the operator has checked they are the issuer's own. Recorded in the audit log.
    pub fn vouch(&mut self, confirm: bool, now: Timestamp) -> Result<Vouching, IssuerError> {
        self.vault()?;
        // What the next publication would hold.
        let revoked = self
            .store
            .revoked_unexpired(crate::records::published_from(now))?;
        let found = self.findings(&revoked)?;
        let (provable, foreign): (Vec<Finding>, Vec<Finding>) =
            found.into_iter().partition(|f| f.content.is_some());
        let mut vouching = Vouching {
            unproven: provable.iter().map(Finding::words).collect(),
            foreign: foreign.iter().map(Finding::words).collect(),
            proven: false,
        };
        if confirm && !provable.is_empty() {
            self.in_transaction(|issuer| {
                for f in &provable {
                    if let Some(content) = &f.content {
                        issuer.store_proof(&f.row, content)?;
                    }
                }
                issuer.audit(now, AuditOp::Vouch, &summary(&provable))
            })?;
            vouching.proven = true;
        }
        Ok(vouching)
    }
}

/// What a publication about to be made takes back from the last one (proven, as the issuer
/// recorded it): a key it listed that is gone, or whose status goes back (compromised to retired
/// or active, retired to active, a later `since`), or whose window ends later. Each is a row
/// restored from an older state, proof and all; none is something a command of the issuer does.
pub(crate) fn taken_back(last: &BundleContent, keys: &[TrustedKey]) -> Vec<String> {
    let rank = |s: KeyStatus| match s {
        KeyStatus::Next => (0, 0),
        KeyStatus::Active => (1, 0),
        // A later `since` trusts the key longer: lower.
        KeyStatus::Retired { since } => (2, -since),
        KeyStatus::Compromised { since } => (3, -since),
    };
    let mut back = Vec::new();
    for old in &last.keys {
        let kid = propusk_spec::hex::encode(&old.key_id);
        let Some(new) = keys
            .iter()
            .find(|k| k.key_id == old.key_id && k.public_key == old.public_key)
        else {
            back.push(format!(
                "key {kid} (published in sequence {}, gone from the store)",
                last.sequence
            ));
            continue;
        };
        if rank(new.status) < rank(old.status) || new.not_after > old.not_after {
            back.push(format!(
                "key {kid} ({} since sequence {}, {} now: restored from an older state)",
                old.status.as_str(),
                last.sequence,
                new.status.as_str()
            ));
        }
    }
    back
}
