//! The EU DCC twin of a Propusk credential: the same record as EU DCC JSON (schema 1.3.x) for
//! travel abroad, tied to the international passport (the Latin forms of the names, MRZ forms
//! for `fnt`/`gnt`), with EU value-set codes and a UVCI that carries the credential's id, so
//! that revoking the credential revokes its twin.

use propusk_spec::{Body, Credential, CredentialId, Date, Holder, translit};
use serde_json::{Value, json};
use thiserror::Error;

/// The version of the EU DCC schema the twin follows.
pub const SCHEMA_VERSION: &str = "1.3.0";
/// The issuing entity of a Propusk UVCI: `URN:UVCI:01:{CC}:PROPUSK/{credential id}#{check}`.
const ENTITY: &str = "PROPUSK";
/// The characters of a UVCI's Luhn mod N check, in code-point order (the EU DCC FAQ's).
const UVCI_CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:";

/// Why a credential has no EU twin.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TwinError {
    /// Exemptions and movement passes have no EU DCC type.
    #[error("an EU DCC is a vaccination, test or recovery certificate: a {0} has no EU form")]
    NoEuType(&'static str),
    /// The vaccine is not in the EU value set (its manufacturer and prophylaxis are unknown).
    #[error("vaccine product {0:?} is not in the EU value set: it cannot be written in an EU DCC")]
    Product(String),
    /// The holder's name has no Latin form usable in an EU DCC.
    #[error("the holder's name has no Latin form for an EU DCC")]
    Name,
    /// The date of birth lies outside the EU DCC's years (1900–2099).
    #[error("the date of birth {0} lies outside the years an EU DCC can hold (1900–2099)")]
    BirthDate(String),
    /// The authority's name is longer than the EU DCC allows (80 characters).
    #[error("the authority's name is longer than an EU DCC allows (80 characters)")]
    Issuer,
    /// A rapid antigen test without its device, or with one the EU value set does not list: the
    /// EU rules (TR-EU-0002) refuse such a twin.
    #[error(
        "a rapid antigen test's EU DCC needs its device from the EU value set (`test.device`, \
         e.g. 1232 for Abbott Panbio){}",
        .0.as_deref().map(|d| format!(": {d:?} is not in it")).unwrap_or_default()
    )]
    Device(Option<String>),
}

/// The Luhn mod N check character of a UVCI (over the whole text, `URN:UVCI:` included), as the
/// EU DCC FAQ defines it; `None` for a character outside the UVCI alphabet.
pub fn uvci_check(uvci: &str) -> Option<char> {
    let n = UVCI_CHARSET.len();
    let mut factor = 2;
    let mut sum = 0;
    for c in uvci.bytes().rev() {
        let point = UVCI_CHARSET.iter().position(|&x| x == c)?;
        let addend = factor * point;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / n + addend % n;
    }
    Some(char::from(UVCI_CHARSET[(n - sum % n) % n]))
}

/// The UVCI of a credential's twin: `URN:UVCI:01:{country}:PROPUSK/{id}#{check}`.
pub fn uvci(country: &str, id: &CredentialId) -> String {
    let body = format!("URN:UVCI:01:{country}:{ENTITY}/{id}");
    match uvci_check(&body) {
        Some(check) => format!("{body}#{check}"),
        None => body,
    }
}

/// The credential id a Propusk UVCI carries, when its check character holds.
pub fn credential_id_of(uvci: &str) -> Option<CredentialId> {
    let (body, check) = uvci.rsplit_once('#')?;
    if uvci_check(body)?.to_string() != check {
        return None;
    }
    let rest = body.strip_prefix("URN:UVCI:01:")?;
    let (_country, opaque) = rest.split_once(':')?;
    opaque.strip_prefix(ENTITY)?.strip_prefix('/')?.parse().ok()
}

fn product(code: &str) -> Option<(String, String)> {
    static CELL: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let set = CELL.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../valuesets/vaccine-encoding-instructions.json"
        ))
        .unwrap_or(Value::Null)
    });
    set["valueSetValues"]
        .as_object()?
        .values()
        .find(|v| v["vaccine-code"] == code)
        .and_then(|v| {
            Some((
                v["vaccine-manufacturer"].as_str()?.to_owned(),
                v["sct-codes"].get(0)?.as_str()?.to_owned(),
            ))
        })
}

/// The disease targeted: COVID-19 (SNOMED CT 840539006).
const COVID_19: &str = "840539006";

/// The EU DCC JSON of a credential's twin, issued by `authority` of `country`, with the full
/// names of `holder` (the record the credential was issued from: the credential carries only
/// initials); `device` is a rapid antigen test's device identifier (`ma`, required for one;
/// ignored otherwise).
pub fn certificate(
    c: &Credential,
    holder: &Holder,
    authority: &str,
    country: &str,
    device: Option<&str>,
) -> Result<Value, TwinError> {
    if authority.chars().count() > 80 {
        return Err(TwinError::Issuer);
    }
    let ci = uvci(country, &c.id);
    let group = match &c.body {
        Body::Vaccination(v) => {
            let (ma, vp) = product(v.product.code())
                .ok_or_else(|| TwinError::Product(v.product.code().into()))?;
            json!({"v": [{
                "tg": COVID_19, "vp": vp, "mp": v.product.code(), "ma": ma,
                "dn": v.dose, "sd": v.doses, "dt": v.date.to_string(),
                "co": v.country.as_str(), "is": authority, "ci": ci,
            }]})
        }
        Body::Test(t) => {
            let tt = match t.kind {
                propusk_spec::TestKind::Pcr => "LP6464-4",
                propusk_spec::TestKind::RapidAntigen => "LP217198-3",
            };
            let tr = match t.result {
                propusk_spec::TestResult::Negative => "260415000",
                propusk_spec::TestResult::Positive => "260373001",
            };
            let mut entry = json!({
                "tg": COVID_19, "tt": tt, "sc": t.sampled_at.to_string(), "tr": tr,
                "tc": propusk_spec::translit::text_to_latin(t.center.as_str()).trim(), "co": t.country.as_str(), "is": authority, "ci": ci,
            });
            if t.kind == propusk_spec::TestKind::RapidAntigen {
                let device = device.ok_or(TwinError::Device(None))?;
                if crate::valuesets::test_device(device).is_none() {
                    return Err(TwinError::Device(Some(device.to_owned())));
                }
                entry["ma"] = device.into();
            }
            json!({"t": [entry]})
        }
        Body::Recovery(r) => {
            let until = c.expires_at.date().unwrap_or(r.first_positive);
            let from = Date::from_days(r.first_positive.days() + 11)
                .unwrap_or(r.first_positive)
                .min(until);
            json!({"r": [{
                "tg": COVID_19, "fr": r.first_positive.to_string(), "co": r.country.as_str(),
                "is": authority, "df": from.to_string(), "du": until.to_string(), "ci": ci,
            }]})
        }
        Body::Exemption(_) => return Err(TwinError::NoEuType("medical exemption")),
        Body::Pass(_) => return Err(TwinError::NoEuType("movement pass")),
    };
    let mut names = serde_json::Map::new();
    let family = holder.family_name.latin();
    if family.is_empty() {
        return Err(TwinError::Name);
    }
    names.insert("fn".into(), family.into());
    names.insert("fnt".into(), translit::to_mrz(family).into());
    if let Some(given) = holder.given_name.as_ref().map(|g| g.latin()) {
        names.insert("gn".into(), given.into());
        names.insert("gnt".into(), translit::to_mrz(given).into());
    }
    let dob = c.holder.birth_date.to_string();
    if !(dob.starts_with("19") || dob.starts_with("20")) {
        return Err(TwinError::BirthDate(dob));
    }
    let mut out = json!({"ver": SCHEMA_VERSION, "nam": names, "dob": dob});
    if let (Some(out), Value::Object(group)) = (out.as_object_mut(), group) {
        out.extend(group);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvci_checks_match_the_eu_faq_examples() {
        // The Swedish examples of the EU DCC FAQ and its Luhn mod N alphabet.
        assert_eq!(uvci_check("URN:UVCI:01:SE:EHM/V12916227TFJJ"), Some('Q'));
        assert_eq!(
            uvci_check("URN:UVCI:01:SE:EHM/C878/123456789ABC"),
            Some('B')
        );
        assert_eq!(uvci_check("URN:UVCI:01:SE:ehm/x"), None);
    }

    #[test]
    fn a_uvci_carries_the_credential_id_and_a_typo_is_caught() {
        let id = CredentialId::from_bytes([7; 12]);
        let text = uvci("RU", &id);
        assert!(text.starts_with("URN:UVCI:01:RU:PROPUSK/"), "{text}");
        assert_eq!(credential_id_of(&text), Some(id));
        let typo = text.replacen("01:RU", "01:RO", 1);
        assert_eq!(credential_id_of(&typo), None);
    }
}
