//! The holder: names in their native script with their Latin forms, the date of birth, the
//! identity document; and their CBOR maps.

use ciborium::Value;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::cbor::{Fields, map};
use crate::codes::DocumentKind;
use crate::date::BirthDate;
use crate::error::FieldError;
use crate::text::{MAX_TEXT_CHARS, Text};
use crate::translit;

/// A name in its native script with its Latin (ICAO 9303) form.
///
/// The Latin form travels only when it differs from the transliteration of the native form.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Name {
    native: Text,
    latin: String,
}

impl Name {
    /// A name; its Latin form is derived by ICAO 9303 transliteration unless `latin` is given.
    /// Refused when the Latin form is malformed, or absent and not derivable.
    pub fn new(native: &str, latin: Option<&str>) -> Result<Self, &'static str> {
        let native = Text::new(native)?;
        let latin = match latin {
            Some(l) if translit::is_latin_form(l) && l.len() <= MAX_TEXT_CHARS => l.to_owned(),
            Some(_) => {
                return Err("Latin form must be upper-case A-Z, spaces, hyphens, apostrophes");
            }
            None => translit::to_latin(native.as_str())
                .filter(|l| translit::is_latin_form(l))
                .ok_or("no ICAO 9303 transliteration: give the Latin form")?,
        };
        Ok(Name { native, latin })
    }

    /// The name as written in its native script.
    pub fn native(&self) -> &str {
        self.native.as_str()
    }

    /// The upper-case Latin form.
    pub fn latin(&self) -> &str {
        &self.latin
    }

    /// The Latin form when it must travel (it is not the transliteration of the native form).
    fn latin_override(&self) -> Option<&str> {
        let derived = translit::to_latin(self.native.as_str());
        (derived.as_deref() != Some(self.latin.as_str())).then_some(self.latin.as_str())
    }

    fn to_cbor(&self) -> (Option<Value>, Option<Value>) {
        let latin = self.latin_override().map(|l| Value::Text(l.to_owned()));
        (Some(self.native.to_cbor()), latin)
    }

    fn from_cbor(
        native: &Value,
        latin: Option<&Value>,
        field: &'static str,
    ) -> Result<Self, FieldError> {
        let native = Text::from_cbor(native, field)?;
        let latin = match latin {
            None => None,
            Some(Value::Text(l)) => Some(l.as_str()),
            Some(_) => return Err(FieldError::WrongType(field)),
        };
        let name =
            Name::new(native.as_str(), latin).map_err(|why| FieldError::invalid(field, why))?;
        if latin.is_some() && name.latin_override().is_none() {
            return Err(FieldError::invalid(
                field,
                "Latin form sent although derivable",
            ));
        }
        Ok(name)
    }
}

/// The identity document the holder shows next to the credential. Its `Debug` output shows the
/// masked number only, so that logs do not collect document numbers.
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    kind: DocumentKind,
    number: String,
}

impl Document {
    /// A document. A `passport` number is a 4-digit series and a 6-digit number (spaces are
    /// ignored); other numbers are 1 to 24 upper-case letters, digits, spaces or hyphens.
    pub fn new(kind: DocumentKind, number: &str) -> Result<Self, &'static str> {
        let number = match kind {
            DocumentKind::Passport => {
                let digits: String = number.chars().filter(|&c| c != ' ').collect();
                if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("a passport number is a 4-digit series and a 6-digit number");
                }
                format!("{} {}", &digits[..4], &digits[4..])
            }
            _ => {
                let ok = (1..=24).contains(&number.len())
                    && number.trim() == number
                    && number.bytes().all(|b| {
                        b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ' || b == b'-'
                    });
                if !ok {
                    return Err("a document number is 1 to 24 capitals, digits, spaces or hyphens");
                }
                number.to_owned()
            }
        };
        Ok(Document { kind, number })
    }

    /// The kind of document.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The full number (a passport as `4510 123789`).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// What a verifier shows: the first two and the last three characters, the rest masked,
    /// spaces kept (`45** ***789`).
    pub fn masked(&self) -> String {
        let total = self.number.chars().filter(|&c| c != ' ').count();
        let mut seen = 0;
        self.number
            .chars()
            .map(|c| {
                if c == ' ' {
                    return c;
                }
                seen += 1;
                if seen <= 2 && total > 5 || seen > total.saturating_sub(3) {
                    c
                } else {
                    '*'
                }
            })
            .collect()
    }

    fn to_cbor(&self) -> (Value, Value) {
        let number = match self.kind {
            DocumentKind::Passport => {
                let digits: Vec<u8> = self
                    .number
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .map(|b| b - b'0')
                    .collect();
                let bcd = digits
                    .chunks(2)
                    .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0));
                Value::Bytes(bcd.collect())
            }
            _ => Value::Text(self.number.clone()),
        };
        (self.kind.to_cbor(), number)
    }

    fn from_cbor(kind: &Value, number: &Value) -> Result<Self, FieldError> {
        let kind = DocumentKind::from_cbor(kind, "document kind")?;
        let number = match (kind, number) {
            (DocumentKind::Passport, Value::Bytes(bcd)) if bcd.len() == 5 => bcd
                .iter()
                .flat_map(|b| [b >> 4, b & 15])
                .map(|d| char::from_digit(u32::from(d), 10))
                .collect::<Option<String>>()
                .ok_or(FieldError::invalid(
                    "document number",
                    "not binary-coded decimal",
                ))?,
            (DocumentKind::Passport, _) => return Err(FieldError::WrongType("document number")),
            (_, Value::Text(s)) => s.clone(),
            _ => return Err(FieldError::WrongType("document number")),
        };
        Document::new(kind, &number).map_err(|why| FieldError::invalid("document number", why))
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("kind", &self.kind)
            .field("number", &self.masked())
            .finish()
    }
}

impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("number", &self.number)?;
        m.end()
    }
}

/// The person a credential belongs to.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Holder {
    /// Family name.
    pub family_name: Name,
    /// Given name, when the person has one.
    pub given_name: Option<Name>,
    /// Patronymic, when the person has one.
    pub patronymic: Option<Name>,
    /// Date of birth, as precise as the civil record.
    pub birth_date: BirthDate,
    /// The identity document to match at the door.
    pub document: Document,
}

impl Holder {
    /// The names in order: family name, then given name and patronymic when there are.
    pub fn names(&self) -> impl Iterator<Item = &Name> {
        [
            Some(&self.family_name),
            self.given_name.as_ref(),
            self.patronymic.as_ref(),
        ]
        .into_iter()
        .flatten()
    }

    /// Initials from the Latin forms, as a verifier shows them: `I. I. I.`.
    pub fn initials(&self) -> String {
        self.names()
            .filter_map(|n| n.latin().chars().next())
            .map(|c| format!("{c}."))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Initials as the identity document spells the name, for matching against it: the native
    /// names' first letters (`И. И. И.`) for a domestic passport, whose names are written in
    /// Cyrillic; the Latin forms' (`I. I. I.`) for an international passport or a foreign
    /// document.
    pub fn document_initials(&self) -> String {
        if self.document.kind() != crate::codes::DocumentKind::Passport {
            return self.initials();
        }
        self.names()
            .filter_map(|n| n.native().chars().next())
            .map(|c| format!("{}.", c.to_uppercase()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The full record's bytes, as the issuer keeps it beside the credential (never in a
    /// credential): the deterministic CBOR of the holder map with every name, its Latin form
    /// where not derivable, the date of birth and the whole document number.
    pub fn to_record(&self) -> Vec<u8> {
        crate::cbor::encode(&self.to_cbor())
    }

    /// A holder from [`Holder::to_record`]'s bytes, strictly.
    pub fn from_record(bytes: &[u8]) -> Result<Self, crate::Error> {
        Holder::from_cbor(&crate::cbor::decode(bytes)?).map_err(crate::Error::Claims)
    }

    fn to_cbor(&self) -> Value {
        let (family, family_latin) = self.family_name.to_cbor();
        let (given, given_latin) = self
            .given_name
            .as_ref()
            .map(Name::to_cbor)
            .unwrap_or_default();
        let (patronymic, patronymic_latin) = self
            .patronymic
            .as_ref()
            .map(Name::to_cbor)
            .unwrap_or_default();
        let (kind, number) = self.document.to_cbor();
        map([
            (1, family),
            (2, family_latin),
            (3, given),
            (4, given_latin),
            (5, patronymic),
            (6, patronymic_latin),
            (7, Some(self.birth_date.to_cbor())),
            (8, Some(kind)),
            (9, Some(number)),
        ])
    }

    fn from_cbor(value: &Value) -> Result<Self, FieldError> {
        let mut f = Fields::new(value, "holder")?;
        let family_name =
            Name::from_cbor(f.required(1, "family name")?, f.optional(2), "family name")?;
        let (given, given_latin) = (f.optional(3), f.optional(4));
        let (patronymic, patronymic_latin) = (f.optional(5), f.optional(6));
        let optional_name = |native: Option<&Value>, latin: Option<&Value>, field| match native {
            Some(n) => Name::from_cbor(n, latin, field).map(Some),
            None if latin.is_some() => Err(FieldError::Missing(field)),
            None => Ok(None),
        };
        let holder = Holder {
            family_name,
            given_name: optional_name(given, given_latin, "given name")?,
            patronymic: optional_name(patronymic, patronymic_latin, "patronymic")?,
            birth_date: BirthDate::from_cbor(f.required(7, "birth date")?, "birth date")?,
            document: Document::from_cbor(
                f.required(8, "document kind")?,
                f.required(9, "document number")?,
            )?,
        };
        f.finish()?;
        Ok(holder)
    }
}

impl Serialize for Holder {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let names = [
            ("family_name", Some(&self.family_name)),
            ("given_name", self.given_name.as_ref()),
            ("patronymic", self.patronymic.as_ref()),
        ];
        for (key, name) in names {
            if let Some(name) = name {
                m.serialize_entry(key, name.native())?;
                m.serialize_entry(&format!("{key}_latin"), name.latin())?;
            }
        }
        m.serialize_entry("birth_date", &self.birth_date)?;
        m.serialize_entry("document", &self.document)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passport_numbers_are_masked_as_at_the_door() {
        let doc =
            Document::new(DocumentKind::Passport, "4510 123789").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(doc.masked(), "45** ***789");
        assert_eq!(
            Document::new(DocumentKind::Passport, "4510123789").map(|d| d.masked()),
            Ok(doc.masked())
        );
        let (kind, number) = doc.to_cbor();
        assert_eq!(number, Value::Bytes(vec![0x45, 0x10, 0x12, 0x37, 0x89]));
        assert_eq!(Document::from_cbor(&kind, &number).as_ref(), Ok(&doc));
        let zeros =
            Document::new(DocumentKind::Passport, "0012 000789").unwrap_or_else(|e| panic!("{e}"));
        let (kind, number) = zeros.to_cbor();
        assert_eq!(
            Document::from_cbor(&kind, &number).map(|d| d.number().to_owned()),
            Ok("0012 000789".into())
        );
        let foreign =
            Document::new(DocumentKind::Foreign, "C01X00T47").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(foreign.masked(), "C0****T47");
        assert!(!format!("{doc:?}").contains("123"), "{doc:?}");
        assert!(Document::new(DocumentKind::Passport, "4510 12378").is_err());
        assert!(Document::new(DocumentKind::Foreign, "c01").is_err());
        let not_bcd = Value::Bytes(vec![0x4A, 0x10, 0x12, 0x37, 0x89]);
        assert!(Document::from_cbor(&kind, &not_bcd).is_err());
    }

    #[test]
    fn latin_forms_travel_only_when_not_derivable() {
        let derived = Name::new("Иванов", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(derived.latin(), "IVANOV");
        assert_eq!(derived.to_cbor().1, None);
        let spelled = Name::new("Иванов", Some("IVANOFF")).unwrap_or_else(|e| panic!("{e}"));
        let (native, latin) = spelled.to_cbor();
        assert_eq!(latin, Some(Value::Text("IVANOFF".into())));
        assert_eq!(
            Name::from_cbor(&native.unwrap_or(Value::Null), latin.as_ref(), "n"),
            Ok(spelled)
        );
        let redundant = Value::Text("IVANOV".into());
        assert!(Name::from_cbor(&derived.native.to_cbor(), Some(&redundant), "n").is_err());
        assert!(Name::new("王", None).is_err());
        assert!(Name::new("王", Some("WANG")).is_ok());
    }
}
