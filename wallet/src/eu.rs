//! EU Digital COVID Certificates (`HC1:`) in the wallet: kept with the holder's other
//! credentials, judged with the verifier's EU checks.

use propusk_spec::{CredentialId, CredentialType, Timestamp};
use propusk_trust_list::{Bundle, Reason, Verdict};

#[cfg(feature = "store")]
use crate::{Added, SignatureCheck, Wallet, error::WalletError, store};
use crate::{EXPIRING_SOON_S, Entry, fold_name};

#[cfg(feature = "store")]
impl Wallet {
    /// Adds an EU Digital COVID Certificate (`HC1:`): kept with the holder's other credentials
    /// (grouped by the same person key), its signature checked against the EU signers of the
    /// wallet's trust data when it has them.
    pub(crate) fn add_eu(&mut self, text: &str) -> Result<Added, WalletError> {
        let hc1 = propusk_eudcc::decode(text)?;
        let eu = EuView::of(&hc1, text).ok_or(WalletError::Corrupt("a time out of range"))?;
        let signature = match self.bundle()? {
            None => SignatureCheck::NotChecked,
            Some(bundle) => match propusk_eudcc::verify(&hc1, &eu_signers(&bundle)) {
                Ok(_) => SignatureCheck::Verified,
                Err(e) => SignatureCheck::Failed(e.to_string()),
            },
        };
        let now = Timestamp::from_system(std::time::SystemTime::now());
        let new = self.store.insert_row(&store::Row {
            id: &eu.id,
            text,
            kind: eu.credential_type.as_str(),
            issued_at: eu.issued_at.unix(),
            expires_at: eu.expires_at.unix(),
            person: &eu.person,
            now,
        })?;
        Ok(Added {
            id: eu.id,
            credential_type: eu.credential_type,
            new,
            signature,
        })
    }
}

/// What the wallet keeps of an EU certificate: an id of its own (it has no Propusk id), the
/// holder, the dates.
struct EuView {
    id: CredentialId,
    credential_type: CredentialType,
    name: String,
    birth_date: String,
    person: String,
    issued_at: Timestamp,
    expires_at: Timestamp,
}

impl EuView {
    /// `None` only if not even the epoch is a timestamp (never).
    fn of(hc1: &propusk_eudcc::Hc1, text: &str) -> Option<Self> {
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(b"propusk/wallet/hc1")
            .chain_update(text.as_bytes())
            .finalize();
        let mut id = [0u8; 12];
        id.copy_from_slice(&digest[..12]);
        let nam = &hc1.certificate["nam"];
        let field = |k: &str| nam[k].as_str().unwrap_or("").to_owned();
        let birth_date = hc1.certificate["dob"].as_str().unwrap_or("").to_owned();
        let name = [field("fn"), field("gn")]
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        // A certificate without the claim reads as issued and expiring at the epoch: judged
        // expired, never valid.
        let epoch = Timestamp::from_unix(0)?;
        let time = |t: Option<i64>| t.and_then(Timestamp::from_unix).unwrap_or(epoch);
        Some(EuView {
            id: CredentialId::from_bytes(id),
            credential_type: match hc1.kind {
                propusk_eudcc::Hc1Type::Vaccination => CredentialType::Vaccination,
                propusk_eudcc::Hc1Type::Test => CredentialType::Test,
                propusk_eudcc::Hc1Type::Recovery => CredentialType::Recovery,
            },
            // Grouped with the person's Propusk credentials: the same key from the MRZ names.
            person: format!(
                "{birth_date}|{}|{}",
                fold_name(&field("fnt")),
                fold_name(&field("gnt"))
            ),
            name,
            birth_date,
            issued_at: time(hc1.issued_at),
            expires_at: time(hc1.expires_at),
        })
    }
}

/// The id the wallet keeps an EU certificate under (made from its text).
pub(crate) fn eu_id(text: &str) -> Option<CredentialId> {
    let hc1 = propusk_eudcc::decode(text).ok()?;
    Some(EuView::of(&hc1, text)?.id)
}

/// The EU signers the trust data vouches for.
fn eu_signers(bundle: &Bundle) -> Vec<propusk_eudcc::SignerCertificate> {
    bundle
        .content()
        .eu_signers
        .iter()
        .filter_map(|s| propusk_eudcc::SignerCertificate::from_der(&s.der).ok())
        .collect()
}

/// An EU certificate as `list` shows it, judged by the verifier's EU checks against the trust
/// data's EU signers (without trust data: by its own expiry only).
pub(crate) fn eu_entry(text: &str, bundle: Option<&Bundle>, at: Timestamp) -> Option<Entry> {
    let hc1 = propusk_eudcc::decode(text).ok()?;
    let eu = EuView::of(&hc1, text)?;
    let (verdict, reason, until) = match bundle {
        Some(b) => {
            let r = propusk_verifier::verify_eu_with(
                text,
                &eu_signers(b),
                at,
                b.state(at),
                propusk_trust_list::Lang::En,
                &[&b.content().eu],
            );
            (r.verdict, r.reason, r.valid_until.unwrap_or(eu.expires_at))
        }
        None if at >= eu.expires_at => (Verdict::Invalid, Some(Reason::Expired), eu.expires_at),
        None => (
            Verdict::Unknown,
            Some(Reason::TrustDataMissing),
            eu.expires_at,
        ),
    };
    Some(Entry {
        id: eu.id,
        credential_type: eu.credential_type,
        holder: format!("{} {}", eu.name, eu.birth_date),
        name: eu.name,
        birth_date: eu.birth_date,
        person: eu.person,
        issued_at: eu.issued_at,
        valid_until: until,
        verdict,
        reason,
        expiring_soon: verdict == Verdict::Valid && until.unix() - at.unix() < EXPIRING_SOON_S,
        eu_twin: None,
        twin_of: twin_of(text),
    })
}

/// The Propusk credential an EU DCC is the twin of, when its UVCI names one.
pub(crate) fn twin_of(text: &str) -> Option<CredentialId> {
    let hc1 = propusk_eudcc::decode(text).ok()?;
    hc1.uci().and_then(propusk_eudcc::twin::credential_id_of)
}
