//! EU trust data the operator imports to publish with the bundle, as an EU verifier has it: a
//! trust list of document signers (verified against the configured trust anchor), value sets,
//! business rules and revocation lists. Each import is checked whole before anything is
//! stored, and proven like every row a publication vouches for.

use std::collections::BTreeMap;

use propusk_eudcc::SignerCertificate;
use propusk_eudcc::revocation::RevocationBatch;
use propusk_eudcc::rules::EuRule;
use propusk_eudcc::valuesets::ValueSet;
use propusk_spec::Timestamp;
use propusk_trust_list::{EuDocument, EuRevocationList, EuSigner, EuTrustData};

use crate::error::{IssuerError, StoreError};
use crate::issuer::Issuer;
use crate::records::{AuditOp, EuDataKind};
use propusk_input::InputError;

/// The name the trust list's anchor is kept under.
const ANCHOR: &str = "trust-list";

/// What an import of a trust list did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustListImport {
    /// Signers added (key id hex, country).
    pub added: Vec<(String, String)>,
    /// Signers the list vouches for that were there already.
    pub kept: usize,
    /// Signers of the list's countries that it no longer names, withdrawn.
    pub withdrawn: Vec<String>,
}

fn refused(what: &str, why: impl std::fmt::Display) -> IssuerError {
    IssuerError::Input(InputError::field(what, why.to_string()))
}

impl Issuer {
    /// Sets the certificate (X.509, DER or PEM) that EU trust lists must be signed by.
    pub fn set_eu_trust_anchor(
        &mut self,
        certificate: &[u8],
        now: Timestamp,
    ) -> Result<String, IssuerError> {
        let der = SignerCertificate::der(certificate).map_err(|e| refused("anchor", e))?;
        let parsed = SignerCertificate::from_der(&der).map_err(|e| refused("anchor", e))?;
        let kid = propusk_spec::hex::encode(parsed.key_id());
        self.replace_eu_data(
            EuDataKind::Anchor,
            vec![(ANCHOR.to_owned(), der)],
            now,
            &format!("trust anchor {kid}"),
        )?;
        Ok(kid)
    }

    /// Imports an EU trust list (the gateway's signer list), its signature checked with the
    /// configured anchor (`signature` separate, or on the file's first line). The list stands
    /// for its countries: their signers it names are published, those it no longer names are
    /// withdrawn; other countries' and the issuer's own are left as they are.
    pub fn import_eu_trust_list(
        &mut self,
        list: &[u8],
        signature: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<TrustListImport, IssuerError> {
        let anchor = self
            .store
            .eu_data(EuDataKind::Anchor.as_str())?
            .into_iter()
            .find(|(name, _)| name == ANCHOR)
            .ok_or_else(|| {
                refused(
                    "anchor",
                    "no trust anchor is set: `propusk issuer eu anchor CERT` first",
                )
            })?;
        self.check_eu_proofs(EuDataKind::Anchor, std::slice::from_ref(&anchor))?;
        let anchor = SignerCertificate::from_der(&anchor.1)
            .map_err(|_| StoreError::Corrupt("the trust anchor does not parse"))?;
        let listed = propusk_eudcc::trustlist::open(list, signature, &anchor)
            .map_err(|e| refused("trust list", e))?;
        let own: Vec<String> = self
            .store
            .eu_keys()?
            .into_iter()
            .map(|k| k.key_id)
            .collect();
        let countries: Vec<&str> = listed.iter().map(|s| s.country.as_str()).collect();
        self.in_transaction(|issuer| {
            let mut report = TrustListImport {
                added: Vec::new(),
                kept: 0,
                withdrawn: Vec::new(),
            };
            let mut named = Vec::new();
            for s in &listed {
                let kid = propusk_spec::hex::encode(
                    SignerCertificate::from_der(&s.der)
                        .map_err(|e| refused("trust list", e))?
                        .key_id(),
                );
                let signer = EuSigner {
                    der: s.der.clone(),
                    country: s.country.clone(),
                };
                if issuer.store.add_eu_signer(&kid, &signer, now)? {
                    report.added.push((kid.clone(), s.country.clone()));
                } else {
                    report.kept += 1;
                }
                issuer.prove_eu_signer(&kid, &signer)?;
                named.push(kid);
            }
            for signer in issuer.store.eu_signers()? {
                let Ok(cert) = SignerCertificate::from_der(&signer.der) else {
                    continue;
                };
                let kid = propusk_spec::hex::encode(cert.key_id());
                if countries.contains(&signer.country.as_str())
                    && !named.contains(&kid)
                    && !own.contains(&kid)
                {
                    issuer.store.remove_eu_signer(&kid)?;
                    report.withdrawn.push(kid);
                }
            }
            issuer.audit(
                now,
                AuditOp::EuImport,
                &format!(
                    "EU trust list: {} signers added, {} kept, {} withdrawn",
                    report.added.len(),
                    report.kept,
                    report.withdrawn.len()
                ),
            )?;
            Ok(report)
        })
    }

    /// Imports EU value sets (each file one set); a set replaces the one with its id. Returns
    /// their ids.
    pub fn import_eu_value_sets(
        &mut self,
        files: &[(String, Vec<u8>)],
        now: Timestamp,
    ) -> Result<Vec<String>, IssuerError> {
        let mut all = self.proven_eu_data(EuDataKind::ValueSet)?;
        let mut ids = Vec::new();
        for (path, bytes) in files {
            let text = std::str::from_utf8(bytes).map_err(|_| refused(path, "not UTF-8 text"))?;
            let set = ValueSet::parse(text).map_err(|e| refused(path, e))?;
            all.insert(set.id.clone(), bytes.clone());
            ids.push(set.id);
        }
        self.replace_eu_data(
            EuDataKind::ValueSet,
            all.into_iter().collect(),
            now,
            &format!("EU value sets {}", ids.join(", ")),
        )?;
        Ok(ids)
    }

    /// Imports EU business rules (files as countries publish them); each country in them has
    /// its rules replaced by these. Returns each country with its number of rules.
    pub fn import_eu_rules(
        &mut self,
        files: &[(String, Vec<u8>)],
        now: Timestamp,
    ) -> Result<Vec<(String, usize)>, IssuerError> {
        let mut by_country: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for (path, bytes) in files {
            for rule in EuRule::parse_file(bytes).map_err(|e| refused(path, e))? {
                by_country
                    .entry(rule.country)
                    .or_default()
                    .push(rule.source);
            }
        }
        let mut all = self.proven_eu_data(EuDataKind::Rules)?;
        let counts: Vec<(String, usize)> = by_country
            .iter()
            .map(|(c, r)| (c.clone(), r.len()))
            .collect();
        for (country, rules) in by_country {
            let body = serde_json::to_vec(&rules)
                .map_err(|_| StoreError::Corrupt("rules that do not encode"))?;
            all.insert(country, body);
        }
        let detail = counts
            .iter()
            .map(|(c, n)| format!("{c}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.replace_eu_data(
            EuDataKind::Rules,
            all.into_iter().collect(),
            now,
            &format!("EU business rules ({detail})"),
        )?;
        Ok(counts)
    }

    /// Imports EU revocation lists: the files are the whole current set (what was imported
    /// before is replaced), merged per signer and hash type. Returns (lists, hashes).
    pub fn import_eu_revocations(
        &mut self,
        files: &[(String, Vec<u8>)],
        now: Timestamp,
    ) -> Result<(usize, usize), IssuerError> {
        // By (signer's key id, hash form, country): the latest expiry and every hash.
        type Merged = (i64, Vec<[u8; 16]>);
        let mut lists: BTreeMap<(Vec<u8>, String, String), Merged> = BTreeMap::new();
        for (path, bytes) in files {
            for batch in RevocationBatch::parse_file(bytes).map_err(|e| refused(path, e))? {
                let entry = lists
                    .entry((batch.kid, batch.hash_type, batch.country))
                    .or_default();
                entry.0 = entry.0.max(batch.expires);
                entry.1.extend(batch.hashes);
            }
        }
        let mut rows = Vec::new();
        let mut hashes = 0;
        for ((kid, form, country), (expires, entries)) in lists {
            let list = EuRevocationList::new(&country, &kid, &form, expires, entries);
            hashes += list.len();
            let name = format!("{}:{form}:{country}", propusk_spec::hex::encode(&kid));
            let mut body = Vec::new();
            ciborium::into_writer(&list, &mut body)
                .map_err(|_| StoreError::Corrupt("a list that does not encode"))?;
            rows.push((name, body));
        }
        let count = rows.len();
        self.replace_eu_data(
            EuDataKind::Revocations,
            rows,
            now,
            &format!("EU revocation lists: {count} lists, {hashes} hashes"),
        )?;
        Ok((count, hashes))
    }

    /// The EU trust data to publish at `now`: value sets, rules, and the revocation lists that
    /// have not expired; every row's proof checked first.
    pub(crate) fn eu_trust_data(&self, now: Timestamp) -> Result<EuTrustData, IssuerError> {
        let mut data = EuTrustData::default();
        for kind in [
            EuDataKind::ValueSet,
            EuDataKind::Rules,
            EuDataKind::Revocations,
        ] {
            for (name, body) in self.proven_eu_data(kind)? {
                let text = || {
                    String::from_utf8(body.clone())
                        .map_err(|_| StoreError::Corrupt("imported EU data that is not text"))
                };
                match kind {
                    EuDataKind::ValueSet => data.value_sets.push(EuDocument {
                        name,
                        json: text()?,
                    }),
                    EuDataKind::Rules => data.rules.push(EuDocument {
                        name,
                        json: text()?,
                    }),
                    _ => {
                        let list: EuRevocationList = ciborium::from_reader(body.as_slice())
                            .map_err(|_| StoreError::Corrupt("an imported EU revocation list"))?;
                        if list.expires >= now.unix() {
                            data.revocations.push(list);
                        }
                    }
                }
            }
        }
        Ok(data)
    }

    /// The imported data of one kind, each row's proof checked: what is kept beside a new
    /// import is proven again with it, so nothing written without the passphrase may be.
    fn proven_eu_data(&self, kind: EuDataKind) -> Result<BTreeMap<String, Vec<u8>>, IssuerError> {
        let rows = self.store.eu_data(kind.as_str())?;
        self.check_eu_proofs(kind, &rows)?;
        Ok(rows.into_iter().collect())
    }

    fn replace_eu_data(
        &mut self,
        kind: EuDataKind,
        rows: Vec<(String, Vec<u8>)>,
        now: Timestamp,
        detail: &str,
    ) -> Result<(), IssuerError> {
        self.vault()?;
        self.in_transaction(|issuer| {
            issuer.store.set_eu_data(kind.as_str(), &rows, now)?;
            for (name, body) in &rows {
                issuer.prove_eu_data(kind, name, body)?;
            }
            issuer.audit(now, AuditOp::EuImport, detail)
        })
    }
}
