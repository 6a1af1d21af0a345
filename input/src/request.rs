//! The issuance input of INTERFACE.md: one JSON object, strictly read (unknown fields are an
//! error, a missing required one is an error that names it).

use propusk_spec::{
    Body, Country, Date, Document, DocumentKind, Exemption, Holder, Name, Pass, PassPurpose,
    Recovery, Test, TestKind, TestResult, Text, Timestamp, Vaccination, VaccineProduct,
};
use serde::Deserialize;

use crate::error::InputError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentIn {
    pub(crate) kind: String,
    pub(crate) number: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HolderIn {
    pub(crate) family_name: String,
    pub(crate) given_name: Option<String>,
    pub(crate) patronymic: Option<String>,
    pub(crate) family_name_latin: Option<String>,
    pub(crate) given_name_latin: Option<String>,
    pub(crate) birth_date: String,
    pub(crate) document: DocumentIn,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VaccinationIn {
    pub(crate) product: String,
    pub(crate) dose: u8,
    pub(crate) doses: u8,
    pub(crate) date: String,
    pub(crate) country: String,
    pub(crate) administered_by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecoveryIn {
    pub(crate) first_positive: String,
    pub(crate) country: String,
    pub(crate) administered_by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestIn {
    pub(crate) kind: String,
    pub(crate) sampled_at: String,
    pub(crate) result: String,
    pub(crate) center: String,
    pub(crate) country: String,
    /// A rapid antigen test's device, from the EU value set (for the EU twin's `ma`).
    #[serde(default)]
    pub(crate) device: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExemptionIn {
    pub(crate) valid_from: String,
    pub(crate) valid_until: String,
    pub(crate) country: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PassIn {
    pub(crate) purpose: String,
    pub(crate) valid_from: String,
    pub(crate) valid_until: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Input {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) holder: HolderIn,
    pub(crate) record_id: Option<String>,
    pub(crate) vaccination: Option<VaccinationIn>,
    pub(crate) recovery: Option<RecoveryIn>,
    pub(crate) test: Option<TestIn>,
    pub(crate) exemption: Option<ExemptionIn>,
    pub(crate) pass: Option<PassIn>,
}

/// What an issuance input asks for: whom and what (the issuer adds id, times and key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The registry's record id, for idempotent batch issuance.
    pub record_id: Option<String>,
    /// The holder.
    pub holder: Holder,
    /// The body.
    pub body: Body,
    /// A rapid antigen test's device identifier (`test.device`, the EU value set's code, such
    /// as `1232`): what its EU twin needs (`ma`). The credential format has no key for it, so it
    /// is not in the Propusk credential; the twin keeps it.
    pub test_device: Option<String>,
}

fn field<T>(name: &str, parsed: Result<T, impl std::fmt::Display>) -> Result<T, InputError> {
    parsed.map_err(|e| InputError::field(name, e))
}

fn text(name: &str, value: &str) -> Result<Text, InputError> {
    field(name, Text::new(value))
}

/// A test device identifier as the EU value set writes them: digits, at most ten.
fn device(code: &str) -> Result<String, InputError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InputError::field(
            "test.device",
            "the EU value set's device code: digits, such as 1232",
        ));
    }
    Ok(code.to_owned())
}

/// A registry record id as every store keeps it: not empty, no control characters (a NUL byte
/// works in SQLite and stops PostgreSQL; a line break splits the outputs that list ids).
pub fn record_id(id: &str) -> Result<String, InputError> {
    if id.is_empty() {
        return Err(InputError::field("record_id", "empty"));
    }
    if let Some(c) = id.chars().find(|c| c.is_control()) {
        return Err(InputError::field(
            "record_id",
            format!("holds the control character U+{:04X}", u32::from(c)),
        ));
    }
    Ok(id.to_owned())
}

impl Request {
    /// Reads one issuance JSON object.
    pub fn from_json(json: &str) -> Result<Self, InputError> {
        let input: Input =
            serde_json::from_str(json).map_err(|e| InputError::Json(e.to_string()))?;
        Request::from_input(input)
    }

    /// Reads the typed issuance input (from JSON, or from a registry row).
    pub(crate) fn from_input(input: Input) -> Result<Self, InputError> {
        let h = input.holder;
        let name = |field_name: &str, native: &str, latin: Option<&str>| {
            field(field_name, Name::new(native, latin))
        };
        let kind: DocumentKind = field("holder.document.kind", h.document.kind.parse())?;
        let holder = Holder {
            family_name: name(
                "holder.family_name",
                &h.family_name,
                h.family_name_latin.as_deref(),
            )?,
            given_name: h
                .given_name
                .as_deref()
                .map(|g| name("holder.given_name", g, h.given_name_latin.as_deref()))
                .transpose()?,
            patronymic: h
                .patronymic
                .as_deref()
                .map(|p| name("holder.patronymic", p, None))
                .transpose()?,
            birth_date: field("holder.birth_date", h.birth_date.parse())?,
            document: field(
                "holder.document.number",
                Document::new(kind, &h.document.number),
            )?,
        };
        if h.given_name.is_none() && h.given_name_latin.is_some() {
            return Err(InputError::field(
                "holder.given_name_latin",
                "given without holder.given_name",
            ));
        }
        // The credential carries initials in order (family, given, patronymic): a patronymic's
        // initial without a given name's would read as the given name's.
        if h.given_name.is_none() && h.patronymic.is_some() {
            return Err(InputError::field(
                "holder.patronymic",
                "given without holder.given_name",
            ));
        }
        let given = [
            ("vaccination", input.vaccination.is_some()),
            ("recovery", input.recovery.is_some()),
            ("test", input.test.is_some()),
            ("exemption", input.exemption.is_some()),
            ("pass", input.pass.is_some()),
        ];
        if let Some((other, _)) = given
            .iter()
            .find(|(k, present)| *present && *k != input.kind)
        {
            return Err(InputError::Json(format!(
                "`{other}` given for a credential of type `{}`",
                input.kind
            )));
        }
        let missing = || {
            InputError::Json(format!(
                "missing field `{}` (the body of type `{}`)",
                input.kind, input.kind
            ))
        };
        let date = |name: &str, v: &str| field::<Date>(name, v.parse());
        let instant = |name: &str, v: &str| field::<Timestamp>(name, v.parse());
        let country = |name: &str, v: &str| field::<Country>(name, v.parse());
        let mut test_device = None;
        let body = match input.kind.as_str() {
            "vaccination" => {
                let v = input.vaccination.ok_or_else(missing)?;
                Body::Vaccination(Vaccination {
                    product: product(&v.product)?,
                    dose: v.dose,
                    doses: v.doses,
                    date: date("vaccination.date", &v.date)?,
                    country: country("vaccination.country", &v.country)?,
                    administered_by: text("vaccination.administered_by", &v.administered_by)?,
                })
            }
            "recovery" => {
                let r = input.recovery.ok_or_else(missing)?;
                Body::Recovery(Recovery {
                    first_positive: date("recovery.first_positive", &r.first_positive)?,
                    country: country("recovery.country", &r.country)?,
                    administered_by: text("recovery.administered_by", &r.administered_by)?,
                })
            }
            "test" => {
                let t = input.test.ok_or_else(missing)?;
                test_device = t.device.as_deref().map(device).transpose()?;
                Body::Test(Test {
                    kind: field::<TestKind>("test.kind", t.kind.parse())?,
                    sampled_at: instant("test.sampled_at", &t.sampled_at)?,
                    result: field::<TestResult>("test.result", t.result.parse())?,
                    center: text("test.center", &t.center)?,
                    country: country("test.country", &t.country)?,
                })
            }
            "exemption" => {
                let e = input.exemption.ok_or_else(missing)?;
                Body::Exemption(Exemption {
                    valid_from: date("exemption.valid_from", &e.valid_from)?,
                    valid_until: date("exemption.valid_until", &e.valid_until)?,
                    country: country("exemption.country", &e.country)?,
                })
            }
            "pass" => {
                let p = input.pass.ok_or_else(missing)?;
                Body::Pass(Pass {
                    purpose: field::<PassPurpose>("pass.purpose", p.purpose.parse())?,
                    valid_from: instant("pass.valid_from", &p.valid_from)?,
                    valid_until: instant("pass.valid_until", &p.valid_until)?,
                })
            }
            other => {
                return Err(InputError::field(
                    "type",
                    format!("`{other}` is not one of vaccination, recovery, test, exemption, pass"),
                ));
            }
        };
        Ok(Request {
            record_id: input.record_id.as_deref().map(record_id).transpose()?,
            holder,
            body,
            test_device,
        })
    }
}

/// Names people write for vaccines (brands, makers) and the EU value set's code they mean.
const PRODUCT_ALIASES: [(&str, &str); 16] = [
    ("pfizer", "EU/1/20/1528"),
    ("biontech", "EU/1/20/1528"),
    ("comirnaty", "EU/1/20/1528"),
    ("moderna", "EU/1/20/1507"),
    ("spikevax", "EU/1/20/1507"),
    ("astrazeneca", "EU/1/21/1529"),
    ("vaxzevria", "EU/1/21/1529"),
    ("janssen", "EU/1/20/1525"),
    ("johnson", "EU/1/20/1525"),
    ("jcovden", "EU/1/20/1525"),
    ("novavax", "EU/1/21/1618"),
    ("nuvaxovid", "EU/1/21/1618"),
    ("sputnik", "Sputnik-V"),
    ("гамковидвак", "Sputnik-V"),
    ("спутник", "Sputnik-V"),
    ("sinopharm", "BBIBP-CorV"),
];

/// A vaccine product: one of the EU value set's codes (`vaccine-medicinal-product`), exactly.
/// Anything else is refused with the code it most likely means.
fn product(code: &str) -> Result<VaccineProduct, InputError> {
    if propusk_spec::VACCINE_PRODUCTS.contains(&code) {
        return VaccineProduct::new(code).map_err(|e| InputError::field("vaccination.product", e));
    }
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = fold(code);
    let suggestion = propusk_spec::VACCINE_PRODUCTS
        .iter()
        .find(|p| fold(p) == wanted)
        .copied()
        .or_else(|| {
            PRODUCT_ALIASES
                .iter()
                .find(|(alias, _)| !wanted.is_empty() && wanted.contains(alias))
                .map(|(_, p)| *p)
        });
    let hint = match suggestion {
        Some(p) => format!("; did you mean \"{p}\"?"),
        None => String::new(),
    };
    Err(InputError::field(
        "vaccination.product",
        format!(
            "\"{code}\" is not a product code of the EU value set vaccine-medicinal-product (for \
             example \"EU/1/20/1528\" for Comirnaty, \"Sputnik-V\"){hint}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"type": "vaccination",
 "holder": {"family_name": "Иванов", "given_name": "Иван", "patronymic": "Иванович",
            "birth_date": "1980-05-12",
            "document": {"kind": "passport", "number": "4510 123789"}},
 "vaccination": {"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "2021-06-01",
                 "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}"#;

    #[test]
    fn unknown_products_are_refused_with_the_code_they_mean() {
        let refused = |code: &str| {
            product(code)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(refused("Pfizer").contains("did you mean \"EU/1/20/1528\""));
        assert!(refused("sputnik v").contains("did you mean \"Sputnik-V\""));
        assert!(refused("Гам-КОВИД-Вак").contains("did you mean \"Sputnik-V\""));
        assert!(refused("covishield").contains("did you mean \"Covishield\""));
        assert!(!refused("Mystery").contains("did you mean"));
        assert!(refused("Mystery").starts_with("vaccination.product:"));
        assert!(product("EU/1/20/1528").is_ok());
    }

    #[test]
    fn the_interface_example_reads() -> Result<(), InputError> {
        let r = Request::from_json(EXAMPLE)?;
        assert_eq!(r.holder.initials(), "I. I. I.");
        assert_eq!(r.holder.document.masked(), "45** ***789");
        assert!(matches!(r.body, Body::Vaccination(ref v) if v.product.code() == "Sputnik-V"));
        Ok(())
    }

    #[test]
    fn errors_name_the_field() {
        let err = |json: &str| format!("input: {}", Request::from_json(json).unwrap_err());
        assert!(err(&EXAMPLE.replace("\"doses\": 2,", "")).contains("doses"));
        assert!(
            err(&EXAMPLE.replace("\"type\"", "\"colour\": 1, \"type\""))
                .contains("unknown field `colour`")
        );
        assert!(err(&EXAMPLE.replace("1980-05-12", "12.05.1980")).contains("holder.birth_date"));
        assert!(err(&EXAMPLE.replace("\"RU\"", "\"Russia\"")).contains("vaccination.country"));
        assert!(
            err(&EXAMPLE.replace("\"type\": \"vaccination\"", "\"type\": \"test\""))
                .contains("`vaccination` given")
        );
        assert!(err(&EXAMPLE.replace("4510 123789", "45")).contains("holder.document.number"));
        assert!(err("[1, 2]").starts_with("input:"));
    }
}
