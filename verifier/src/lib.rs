//! The verifier: a local trust store pinned to the issuer's root key, synced from published
//! trust data, and offline verification of what a scanner reads — with only initials, date of
//! birth and a masked document number shown of the holder, and nothing about a scan stored.
//!
//! ```
//! use ed25519_dalek::{Signer, SigningKey};
//! use propusk_spec::{CredentialId, CredentialType, Timestamp, encode, examples};
//! use propusk_trust_list::*;
//! use propusk_verifier::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("propusk-verifier-doc-{}", std::process::id()));
//! let (store_dir, published) = (dir.join("store"), dir.join("usb"));
//!
//! // The issuer's side: a root key, a signing key, a published bundle.
//! let root = SigningKey::from_bytes(&[1; 32]);
//! let signer = SigningKey::from_bytes(&[2; 32]);
//! let kid = key_id_of(&signer.verifying_key());
//! let at: Timestamp = "2021-09-01T10:00:00Z".parse()?;
//! let content = BundleContent {
//!     jurisdiction: "RU".into(),
//!     sequence: 1,
//!     issued_at: at.unix() - 3600,
//!     soft_expiry: at.unix() + 86_400,
//!     hard_expiry: at.unix() + 7 * 86_400,
//!     keys: vec![TrustedKey {
//!         key_id: kid.as_bytes().to_vec(),
//!         public_key: signer.verifying_key().as_bytes().to_vec(),
//!         issuer: "Минздрав России".into(),
//!         country: "RU".into(),
//!         not_before: 1_577_836_800,
//!         not_after: 1_893_456_000,
//!         types: CredentialType::ALL.to_vec(),
//!         status: KeyStatus::Active,
//!     }],
//!     revocations: RevocationSet::default(),
//!     rules: RuleSet::standard("RU", "Europe/Moscow"),
//!     eu_signers: vec![],
//! };
//! write_dir(&published, &content, &[], &key_id_of(&root.verifying_key()), &|d| root.sign(d).to_bytes())?;
//!
//! // The verifier's side: pin the root, sync from the USB stick, verify offline.
//! let mut store = Store::init(&store_dir, root.verifying_key(), at)?;
//! store.sync_from_dir(&published, at)?;
//! let credential = examples::credential(CredentialType::Vaccination, CredentialId::from_bytes([9; 12]));
//! let text = encode(&credential, &kid, |d| signer.sign(d).to_bytes())?;
//! let answers = verify_all(&store, &[text], at)?;
//! assert_eq!(answers[0].verdict, Verdict::Valid);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod error;
mod present;
mod store;

use propusk_spec::Timestamp;
use propusk_trust_list::{Report, Verdict, check_many};

pub use error::VerifierError;
pub use present::{Lang, TrustView, to_json, to_text};
pub use store::{BundleMeta, STORE_FILE, Store, SyncOutcome};

/// Trust data loaded once for a run of verifications at one validation time (a scanner's
/// queue reads the store once, not once per code).
#[derive(Debug)]
pub struct Session {
    bundle: Option<propusk_trust_list::Bundle>,
    eu_signers: Vec<propusk_eudcc::SignerCertificate>,
    trust: TrustView,
    at: Timestamp,
}

impl Session {
    /// Loads the store's trust data for verifications at `at`. Refuses a validation time before
    /// the newest signed trust data seen (the clock guard).
    pub fn load(store: &Store, at: Timestamp) -> Result<Self, VerifierError> {
        store.check_clock(at)?;
        let loaded = store.bundle()?;
        let trust = TrustView {
            state: loaded
                .as_ref()
                .map_or(propusk_trust_list::TrustState::Missing, |(b, _)| {
                    b.state(at)
                }),
            age_s: loaded.as_ref().map(|(_, m)| at.unix() - m.issued_at),
        };
        let bundle = loaded.map(|(b, _)| b);
        let eu_signers = bundle
            .iter()
            .flat_map(|b| b.content().eu_signers.iter())
            .filter_map(|s| propusk_eudcc::SignerCertificate::from_der(&s.der).ok())
            .collect();
        Ok(Session {
            bundle,
            eu_signers,
            trust,
            at,
        })
    }

    /// A session without any trust data of Propusk's own (a verifier that only has EU signer
    /// certificates): every Propusk credential is `unknown` with `trust_data_missing`.
    pub fn without_trust_data(at: Timestamp) -> Self {
        Session {
            bundle: None,
            eu_signers: Vec::new(),
            trust: TrustView {
                state: propusk_trust_list::TrustState::Missing,
                age_s: None,
            },
            at,
        }
    }

    /// Verifies credentials shown together, EU Digital COVID Certificates (`HC1:`) among them:
    /// those are checked against the EU signers of the trust bundle and `eu_signers`, the rest as
    /// by [`Session::verify`]. Reports are in
    /// input order.
    pub fn verify_with_eu(
        &self,
        inputs: &[String],
        eu_signers: &[propusk_eudcc::SignerCertificate],
    ) -> Vec<Report> {
        let is_eu = |t: &String| t.starts_with(propusk_eudcc::PREFIX);
        let own_texts: Vec<String> = inputs.iter().filter(|t| !is_eu(t)).cloned().collect();
        let mut own_reports = self.verify(&own_texts).into_iter();
        let mut reports = Vec::with_capacity(inputs.len());
        for text in inputs {
            if is_eu(text) {
                let all: Vec<propusk_eudcc::SignerCertificate> =
                    self.eu_signers.iter().chain(eu_signers).cloned().collect();
                reports.push(verify_eu(text, &all, self.at, self.trust.state));
            } else if let Some(report) = own_reports.next() {
                reports.push(report);
            }
        }
        reports
    }

    /// The trust data's state and age.
    pub fn trust(&self) -> TrustView {
        self.trust
    }

    /// The report for an input that could not be read at all (an image without a readable
    /// code).
    pub fn unreadable(&self, reason: &'static str, detail: impl Into<String>) -> Report {
        Report::unreadable(reason, detail, self.trust.state)
    }

    /// Verifies credentials shown together, offline. They must belong to one person: when two
    /// verified credentials disagree on the holder (Latin names or date of birth), each of them
    /// that would be valid is invalid with `holder_mismatch`.
    pub fn verify(&self, inputs: &[String]) -> Vec<Report> {
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let mut reports = check_many(self.bundle.as_ref(), &refs, self.at);
        let person = |r: &Report| {
            r.credential.as_ref().map(|c| {
                let h = &c.holder;
                let name = |n: Option<&propusk_spec::Name>| n.map(|n| n.latin().to_owned());
                (
                    h.family_name.latin().to_owned(),
                    name(h.given_name.as_ref()),
                    name(h.patronymic.as_ref()),
                    h.birth_date,
                )
            })
        };
        for r in &mut reports {
            r.summary = r.credential.as_ref().map(summary);
        }
        let people: Vec<_> = reports.iter().filter_map(person).collect();
        if people.windows(2).any(|w| w[0] != w[1]) {
            for r in reports
                .iter_mut()
                .filter(|r| r.credential.is_some() && r.verdict == Verdict::Valid)
            {
                r.verdict = Verdict::Invalid;
                r.reason = Some("holder_mismatch");
                r.detail = Some("the credentials shown together belong to different people".into());
            }
        }
        reports
    }
}

/// Verifies credentials shown together at `at` (see [`Session::verify`]).
pub fn verify_all(
    store: &Store,
    inputs: &[String],
    at: Timestamp,
) -> Result<Vec<Report>, VerifierError> {
    Ok(Session::load(store, at)?.verify(inputs))
}

/// The exit code for a set of verdicts: 0 all valid, 1 any invalid, 2 otherwise any unknown.
pub fn exit_code<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> u8 {
    match verdicts.into_iter().max() {
        Some(Verdict::Invalid) => 1,
        Some(Verdict::Unknown) => 2,
        _ => 0,
    }
}

/// Checks an EU Digital COVID Certificate (`HC1:`) at `at` against trusted EU signer
/// certificates: decoding, signature (ES256 or PS256), the signer's window and extended key
/// usage, and the certificate's own expiry. EU certificates carry no Propusk rules or revocation
/// entries; those checks are reported `skipped`.
pub fn verify_eu(
    text: &str,
    trusted: &[propusk_eudcc::SignerCertificate],
    at: Timestamp,
    trust_state: propusk_trust_list::TrustState,
) -> Report {
    use propusk_trust_list::{CheckOutcome, HolderView};
    let mut report = Report::blank(trust_state);
    let hc1 = match propusk_eudcc::decode(text) {
        Ok(h) => h,
        Err(e) => {
            let reason = if e.step() == "unprefix" {
                "not_a_credential"
            } else {
                "corrupt"
            };
            return Report::unreadable(reason, e.to_string(), trust_state);
        }
    };
    report.checks.decode = CheckOutcome::Ok;
    report.credential_type = Some(match hc1.kind {
        propusk_eudcc::Hc1Type::Vaccination => propusk_spec::CredentialType::Vaccination,
        propusk_eudcc::Hc1Type::Test => propusk_spec::CredentialType::Test,
        propusk_eudcc::Hc1Type::Recovery => propusk_spec::CredentialType::Recovery,
    });
    report.key_id = hc1.key_id.as_deref().and_then(propusk_spec::KeyId::new);
    let signer = match propusk_eudcc::verify(&hc1, trusted) {
        Ok(signer) => signer,
        Err(propusk_eudcc::TrustError::UnknownKey) => {
            report = report.fail(
                Verdict::Unknown,
                "unknown_key",
                "no trusted EU signer certificate has this key id",
            );
            return report;
        }
        Err(e) => {
            report.checks.signature = CheckOutcome::Failed;
            report = report.fail(Verdict::Invalid, "bad_signature", e.to_string());
            return report;
        }
    };
    report.checks.signature = CheckOutcome::Ok;
    report.summary = propusk_eudcc::valuesets::summary(&hc1.certificate);
    let name = |key: &str| {
        hc1.certificate["nam"][key]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let initials: Vec<String> = [name("fnt"), name("gnt")]
        .iter()
        .filter_map(|n| {
            n.split('<')
                .find(|p| !p.is_empty())
                .and_then(|p| p.chars().next())
        })
        .map(|c| format!("{c}."))
        .collect();
    report.holder = Some(HolderView {
        initials: initials.join(" "),
        birth_date: hc1.certificate["dob"].as_str().unwrap_or("").to_owned(),
        document: String::new(),
    });
    let (not_before, not_after) = signer.validity();
    let issued = hc1.issued_at.unwrap_or(at.unix());
    report.checks.key_usage =
        if signer.allows(hc1.kind) && (not_before..=not_after).contains(&issued) {
            CheckOutcome::Ok
        } else {
            report = report.fail(
                Verdict::Invalid,
                "key_usage",
                "the signer certificate may not sign this type at this time",
            );
            CheckOutcome::Failed
        };
    let exp = hc1.expires_at.and_then(Timestamp::from_unix);
    report.valid_until = exp;
    report.checks.expiry = match (hc1.issued_at, exp) {
        (Some(iat), _) if at.unix() < iat => {
            report = report.fail(Verdict::Invalid, "not_yet_valid", "issued in the future");
            CheckOutcome::Failed
        }
        (_, Some(exp)) if at >= exp => {
            report = report.fail(Verdict::Invalid, "expired", format!("expired at {exp}"));
            CheckOutcome::Failed
        }
        (_, Some(_)) => CheckOutcome::Ok,
        (_, None) => {
            report = report.fail(Verdict::Invalid, "corrupt", "no expiry claim");
            CheckOutcome::Failed
        }
    };
    report
}

/// What a Propusk credential certifies, in words for a person, with the EU value sets' names.
fn summary(c: &propusk_spec::Credential) -> String {
    use propusk_eudcc::valuesets::{country, vaccine_product};
    let place = |co: &propusk_spec::Country| country(co.as_str()).unwrap_or(co.as_str()).to_owned();
    match &c.body {
        propusk_spec::Body::Vaccination(v) => format!(
            "{}, dose {}/{}, {}, {}",
            vaccine_product(v.product.code()).unwrap_or(v.product.code()),
            v.dose,
            v.doses,
            v.date,
            place(&v.country)
        ),
        propusk_spec::Body::Recovery(r) => format!(
            "recovery, first positive {}, {}",
            r.first_positive,
            place(&r.country)
        ),
        propusk_spec::Body::Test(t) => format!(
            "{} {}, sampled {}, {}",
            t.kind,
            t.result,
            t.sampled_at,
            place(&t.country)
        ),
        propusk_spec::Body::Exemption(e) => format!(
            "exemption {} to {}, {}",
            e.valid_from,
            e.valid_until,
            place(&e.country)
        ),
        propusk_spec::Body::Pass(p) => {
            format!("{} pass {} to {}", p.purpose, p.valid_from, p.valid_until)
        }
    }
}
