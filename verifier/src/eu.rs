//! EU Digital COVID Certificates (`HC1:`) judged against trusted EU signer certificates, in the
//! same report as Propusk's own credentials.

use propusk_eudcc::valuesets::{ValueSet, ValueSets};
use propusk_eudcc::{Hc1, Hc1Type, SignerCertificate, TrustError};
use propusk_spec::{CredentialType, KeyId, Timestamp};
use propusk_trust_list::{
    CheckOutcome, EuTrustData, HolderView, IssuerView, Lang, Person, Reason, Report, TrustState,
    Verdict,
};
use serde_json::json;

/// Checks an EU Digital COVID Certificate (`HC1:`) at `at` against trusted EU signer
/// certificates: decoding, signature (ES256 or PS256), the signer's window and extended key
/// usage, and the certificate's own expiry. EU certificates carry no Propusk rules or revocation
/// entries; those checks are reported `skipped`. The summary is in `lang`.
pub fn verify_eu(
    text: &str,
    trusted: &[SignerCertificate],
    at: Timestamp,
    trust_state: TrustState,
    lang: Lang,
) -> Report {
    verify_eu_with(text, trusted, at, trust_state, lang, &[])
}

/// As [`verify_eu`], with the EU trust data the verifier's bundles carry: a certificate that an
/// EU revocation list names is `invalid` (`revoked`), and codes are named by the imported value
/// sets.
pub fn verify_eu_with(
    text: &str,
    trusted: &[SignerCertificate],
    at: Timestamp,
    trust_state: TrustState,
    lang: Lang,
    eu: &[&EuTrustData],
) -> Report {
    let mut report = Report::blank(trust_state);
    let hc1 = match propusk_eudcc::decode(text) {
        Ok(h) => h,
        Err(e) => {
            let reason = match e {
                propusk_eudcc::Hc1Error::Unprefix(_) => Reason::NotACredential,
                _ => Reason::Corrupt,
            };
            return Report::unreadable(reason, e.to_string(), trust_state);
        }
    };
    report.checks.decode = CheckOutcome::Ok;
    report.credential_type = Some(match hc1.kind {
        Hc1Type::Vaccination => CredentialType::Vaccination,
        Hc1Type::Test => CredentialType::Test,
        Hc1Type::Recovery => CredentialType::Recovery,
    });
    report.key_id = hc1.key_id.as_deref().and_then(KeyId::new);
    let signer = match propusk_eudcc::verify(&hc1, trusted) {
        Ok(signer) => signer,
        Err(TrustError::UnknownKey) => {
            report = report.fail(
                Verdict::Unknown,
                Reason::UnknownKey,
                "no trusted EU signer certificate has this key id",
            );
            return report;
        }
        Err(e) => {
            report.checks.signature = CheckOutcome::Failed;
            report = report.fail(Verdict::Invalid, Reason::BadSignature, e.to_string());
            return report;
        }
    };
    report.checks.signature = CheckOutcome::Ok;
    report.issuer = issuer_of(hc1.entry());
    // Imported value sets, when there are any (the compiled ones name codes otherwise).
    let imported = eu.iter().any(|d| !d.value_sets.is_empty());
    report.summary = propusk_eudcc::valuesets::summary_with(
        &hc1.certificate,
        lang == Lang::Ru,
        imported.then(|| value_sets(eu)).as_ref(),
    );
    let name = holder_name(&hc1);
    let dob = hc1.certificate["dob"].as_str().unwrap_or("");
    report.person = Some(Person::new(&name.family, Some(&name.given), None, dob));
    report.holder = Some(HolderView {
        initials: name.initials,
        birth_date: dob.to_owned(),
        document: String::new(),
        name: (!name.standard.is_empty()).then_some(name.standard),
    });
    let exp = hc1.expires_at.and_then(Timestamp::from_unix);
    // Valid no longer than its signer.
    report.valid_until = hc1
        .expires_at
        .map(|e| e.min(signer.validity().1))
        .and_then(Timestamp::from_unix);
    report.checks.expiry = match (hc1.issued_at, exp) {
        (Some(iat), _) if at.unix() < iat => {
            report = report.fail(
                Verdict::Invalid,
                Reason::NotYetValid,
                "issued in the future",
            );
            CheckOutcome::Failed
        }
        // RFC 8392 and the DCC: valid up to and including the expiry instant.
        (_, Some(exp)) if at > exp => {
            report = report.fail(
                Verdict::Invalid,
                Reason::Expired,
                format!("expired at {exp}"),
            );
            CheckOutcome::Failed
        }
        (_, Some(_)) => CheckOutcome::Ok,
        (_, None) => {
            report = report.fail(Verdict::Invalid, Reason::Corrupt, "no expiry claim");
            CheckOutcome::Failed
        }
    };
    let (not_before, not_after) = signer.validity();
    let issued = hc1.issued_at.unwrap_or(at.unix());
    // The signer must have been valid when it signed, and still be now (as the EU verifier apps
    // check it): an expired or leaked signer's key cannot sign with a backdated issue date.
    report.checks.key_usage = if at.unix() > not_after {
        report = report.fail(
            Verdict::Invalid,
            Reason::KeyUsage,
            format!(
                "the signer certificate expired at {}",
                Timestamp::from_unix(not_after).map_or_else(String::new, |t| t.to_string())
            ),
        );
        CheckOutcome::Failed
    } else if signer.allows(hc1.kind) && (not_before..=not_after).contains(&issued) {
        CheckOutcome::Ok
    } else {
        report = report.fail(
            Verdict::Invalid,
            Reason::KeyUsage,
            "the signer certificate may not sign this type at this time",
        );
        CheckOutcome::Failed
    };
    eu_revocation(report, &hc1, eu)
}

/// The value sets to name codes and feed EU rules with: those compiled in, replaced by those
/// the trust data carries (the first bundle's word on an id counts).
pub fn value_sets(eu: &[&EuTrustData]) -> ValueSets {
    let mut sets = ValueSets::compiled();
    for doc in eu.iter().rev().flat_map(|d| &d.value_sets) {
        if let Ok(set) = ValueSet::parse(&doc.json) {
            sets = sets.with(set);
        }
    }
    sets
}

/// A certificate judged by the EU revocation lists: named by one (under its signer's key id,
/// by any hash form), it is `invalid` with `revoked`; with lists at hand and not named, the
/// revocation check passed.
fn eu_revocation(mut report: Report, hc1: &Hc1, eu: &[&EuTrustData]) -> Report {
    if eu.iter().all(|d| d.revocations.is_empty()) {
        return report;
    }
    let kid = hc1.key_id.as_deref().unwrap_or_default();
    let hashes = propusk_eudcc::revocation::hashes_of(hc1);
    match eu.iter().find_map(|d| d.revoked_by(kid, &hashes)) {
        Some(list) => {
            report.checks.revocation = CheckOutcome::Failed;
            report.fail(
                Verdict::Invalid,
                Reason::Revoked,
                format!("revoked: on the EU revocation list of {}", list.country),
            )
        }
        None => {
            if report.checks.revocation == CheckOutcome::Skipped {
                report.checks.revocation = CheckOutcome::Ok;
            }
            report
        }
    }
}

/// The issuer an EU certificate names: its entry's `is` (the authority) and `co` (the country).
fn issuer_of(entry: &serde_json::Value) -> Option<IssuerView> {
    Some(IssuerView {
        name: entry["is"].as_str()?.to_owned(),
        country: entry["co"].as_str()?.to_owned(),
    })
}

fn kind_name(kind: Hc1Type) -> &'static str {
    match kind {
        Hc1Type::Vaccination => "vaccination",
        Hc1Type::Test => "test",
        Hc1Type::Recovery => "recovery",
    }
}

/// An EU certificate holder's name as the officer compares it with the passport: the
/// machine-readable forms of the family and given names (`fnt`, `gnt`), the standardised name
/// (`FAMILY<<GIVEN`; empty when neither is given) and the initials.
struct HolderName {
    family: String,
    given: String,
    standard: String,
    initials: String,
}

fn holder_name(hc1: &Hc1) -> HolderName {
    let part = |key: &str| {
        hc1.certificate["nam"][key]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let (family, given) = (part("fnt"), part("gnt"));
    let initials: Vec<String> = [&family, &given]
        .iter()
        .filter_map(|n| n.split('<').find(|p| !p.is_empty())?.chars().next())
        .map(|c| format!("{c}."))
        .collect();
    let standard = match given.is_empty() {
        true => family.clone(),
        false => format!("{family}<<{given}"),
    };
    HolderName {
        family,
        given,
        standard,
        initials: initials.join(" "),
    }
}

/// `propusk decode` of an EU certificate (`HC1:`): what each layer holds, the signature not
/// checked; the holder masked as a door shows it (initials and date of birth) unless `full`.
/// The flag says whether it decoded.
pub(crate) fn describe_hc1(input: &str, json: bool, full: bool) -> (bool, String) {
    let hc1 = match propusk_eudcc::decode(input) {
        Ok(hc1) => hc1,
        Err(e) if json => {
            let reason = match e {
                propusk_eudcc::Hc1Error::Unprefix(_) => Reason::NotACredential,
                _ => Reason::Corrupt,
            };
            let v = json!({"decoded": false, "format": "hc1", "layer": e.step(),
                           "reason": reason.code(), "error": e.to_string()});
            return (false, v.to_string());
        }
        Err(e) => return (false, format!("refused at the {} step: {e}", e.step())),
    };
    let HolderName {
        standard, initials, ..
    } = holder_name(&hc1);
    let time = |t: Option<i64>| t.and_then(Timestamp::from_unix);
    let key_id = hc1.key_id.as_deref().map(propusk_spec::hex::encode);
    let entry = hc1.entry();
    if json {
        let mut certificate = hc1.certificate.clone();
        if !full && let Some(fields) = certificate.as_object_mut() {
            fields.remove("nam");
            fields.insert("initials".into(), initials.into());
        }
        let v = json!({
            "decoded": true,
            "format": "hc1",
            "signature_checked": false,
            "type": kind_name(hc1.kind),
            "key_id": key_id,
            "issuer": hc1.issuer,
            "issued_at": time(hc1.issued_at),
            "expires_at": time(hc1.expires_at),
            "certificate": certificate,
        });
        return (true, v.to_string());
    }
    let locale = propusk_trust_list::Locale::utc(Lang::En);
    let when = |t: Option<i64>| time(t).map_or_else(|| "not given".to_owned(), |t| locale.time(t));
    let dob = hc1.certificate["dob"].as_str().unwrap_or("");
    let holder = match full {
        true => {
            let native = |key: &str| {
                hc1.certificate["nam"][key]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            };
            format!("{standard} ({} {})  born {dob}", native("fn"), native("gn"))
        }
        false => format!("{initials}  born {dob}"),
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    let shown = format!(
        "type:        {} (EU DCC)\nUCI:         {}\nissued by:   {} ({})\nkey id:      {}\n\
         issued at:   {}\nexpires at:  {}\nholder:      {}\nsays:        {}\n\
         signature:   NOT CHECKED (use `propusk verify --trust-cert DSC`, or a store whose \
         trust data lists the signer)",
        kind_name(hc1.kind),
        text(&entry["ci"]),
        text(&entry["is"]),
        text(&entry["co"]),
        key_id.unwrap_or_default(),
        when(hc1.issued_at),
        when(hc1.expires_at),
        holder,
        propusk_eudcc::valuesets::summary(&hc1.certificate).unwrap_or_default(),
    );
    let lines: Vec<String> = shown.lines().map(crate::present::printable).collect();
    (true, lines.join("\n"))
}
