//! The door form of the holder: what a credential carries of its person — exactly what a door
//! checks against the identity document in front of it (SPEC §8): the initials as the document
//! spells the names, the date of birth as recorded, the document's kind and its masked number.
//! Nothing in it recovers a full name or a document number.

use std::fmt;

use ciborium::Value;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::codes::DocumentKind;
use crate::date::BirthDate;
use crate::error::FieldError;
use crate::holder::{Document, Holder, Name};
use crate::text::Text;
use crate::translit;

/// The holder's initials, one capital letter per name in the order family name, given name,
/// patronymic (a patronymic only after a given name): Cyrillic capitals as a domestic passport
/// spells the names, Latin otherwise.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Initials(Vec<char>);

/// Whether `c` may stand as an initial: `A`–`Z`, or a Cyrillic capital of the transliteration
/// table (SPEC §8.1) whose Latin form is not empty (`Ь` is not).
pub fn is_initial(c: char) -> bool {
    c.is_ascii_uppercase() || translit::is_cyrillic_initial(c)
}

impl Initials {
    /// Initials from their letters (1 to 3, each [`is_initial`]).
    pub fn new(letters: &str) -> Result<Self, &'static str> {
        let letters: Vec<char> = letters.chars().collect();
        if !(1..=3).contains(&letters.len()) {
            return Err("one to three initials");
        }
        if !letters.iter().all(|&c| is_initial(c)) {
            return Err("an initial is a capital letter: A-Z, or a Cyrillic capital");
        }
        Ok(Initials(letters))
    }

    /// The letters, family name first.
    pub fn letters(&self) -> &[char] {
        &self.0
    }

    /// The letters in Latin: a Cyrillic initial as the first letter of its transliteration
    /// (`Щ` → `S`, `Ю` → `I`), to compare with a Latin document or an EU certificate.
    pub fn latin(&self) -> Vec<char> {
        self.0
            .iter()
            .filter_map(|&c| translit::to_latin(&c.to_string())?.chars().next())
            .collect()
    }

    /// Whether the initials are Cyrillic (as a domestic passport spells the names).
    pub fn is_cyrillic(&self) -> bool {
        self.0.iter().any(|c| !c.is_ascii())
    }
}

/// `И. И. И.`: each letter with a full stop, separated by spaces.
impl fmt::Display for Initials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{c}.")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Initials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Initials({self})")
    }
}

crate::serialize_as_display!(Initials);

/// The identity document as a door sees it: its kind and its masked number (the first two and
/// the last three characters that are not spaces; SPEC §8.3).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct MaskedDocument {
    kind: DocumentKind,
    masked: String,
}

/// Whether `masked` is what masking some document number of another kind than a domestic
/// passport gives (SPEC §8.3): 1 to 24 characters of `A`–`Z`, digits, space, hyphen and `*`, no
/// leading or trailing space; of the n characters that are not spaces, the first two and the
/// last three (only the last three when n ≤ 5) are not `*` and every other one is.
pub fn is_masked_number(masked: &str) -> bool {
    let ok_chars = masked
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'*'));
    if !ok_chars || !(1..=24).contains(&masked.len()) || masked.trim() != masked {
        return false;
    }
    let shown: Vec<u8> = masked.bytes().filter(|&b| b != b' ').collect();
    let n = shown.len();
    shown.iter().enumerate().all(|(i, &b)| {
        let visible = (i < 2 && n > 5) || i + 3 >= n;
        visible == (b != b'*')
    })
}

impl MaskedDocument {
    /// A masked document: for a domestic passport, `DD** ***DDD`; for another kind, a masked
    /// number ([`is_masked_number`]).
    pub fn new(kind: DocumentKind, masked: &str) -> Result<Self, &'static str> {
        let ok = match kind {
            DocumentKind::Passport => passport_shown(masked).is_some(),
            _ => is_masked_number(masked),
        };
        if !ok {
            return Err("not a masked document number");
        }
        Ok(MaskedDocument {
            kind,
            masked: masked.to_owned(),
        })
    }

    /// The kind of document.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The masked number, as a door shows it (`45** ***789`).
    pub fn masked(&self) -> &str {
        &self.masked
    }

    fn to_cbor(&self) -> Value {
        match (self.kind, passport_shown(&self.masked)) {
            (DocumentKind::Passport, Some(n)) => Value::Integer(n.into()),
            _ => Value::Array(vec![self.kind.to_cbor(), Value::Text(self.masked.clone())]),
        }
    }

    fn from_cbor(value: &Value) -> Result<Self, FieldError> {
        const FIELD: &str = "document";
        match value {
            Value::Integer(_) => {
                let n = crate::cbor::small_uint(value, FIELD, 99_999)?;
                Ok(MaskedDocument {
                    kind: DocumentKind::Passport,
                    masked: format!("{:02}** ***{:03}", n / 1000, n % 1000),
                })
            }
            Value::Array(items) => {
                let [kind, masked] = items.as_slice() else {
                    return Err(FieldError::invalid(FIELD, "not [kind, masked number]"));
                };
                let kind = DocumentKind::from_cbor(kind, "document kind")?;
                if kind == DocumentKind::Passport {
                    return Err(FieldError::invalid(
                        "document kind",
                        "a domestic passport travels as a number",
                    ));
                }
                let Value::Text(masked) = masked else {
                    return Err(FieldError::WrongType("document number"));
                };
                MaskedDocument::new(kind, masked)
                    .map_err(|why| FieldError::invalid("document number", why))
            }
            _ => Err(FieldError::WrongType(FIELD)),
        }
    }
}

/// The number a domestic passport's masked form travels as: its first two digits × 1000 plus
/// its last three (`45** ***789` → 45789); `None` when `masked` is not of that form.
fn passport_shown(masked: &str) -> Option<u32> {
    let b = masked.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())?
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| masked.get(r)?.parse::<u32>().ok())?
    };
    if b.len() != 11 || masked.get(2..8) != Some("** ***") {
        return None;
    }
    Some(digits(0..2)? * 1000 + digits(8..11)?)
}

impl Serialize for MaskedDocument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("number", &self.masked)?;
        m.end()
    }
}

/// What a credential carries of its holder: the door form (SPEC §8).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct DoorHolder {
    /// The initials as the identity document spells the names.
    pub initials: Initials,
    /// The date of birth, as precise as the civil record.
    pub birth_date: BirthDate,
    /// The identity document, masked.
    pub document: MaskedDocument,
}

impl DoorHolder {
    /// The array `[initials, birth date, document]`.
    pub(crate) fn to_cbor(&self) -> Value {
        let letters: String = self.initials.0.iter().collect();
        // safe: one to three capital letters are a text field.
        let initials = Text::new(&letters).unwrap_or_else(|_| unreachable!("initials are text"));
        Value::Array(vec![
            initials.to_cbor(),
            self.birth_date.to_cbor(),
            self.document.to_cbor(),
        ])
    }

    pub(crate) fn from_cbor(value: &Value) -> Result<Self, FieldError> {
        let Value::Array(items) = value else {
            return Err(FieldError::WrongType("holder"));
        };
        let [initials, birth_date, document] = items.as_slice() else {
            return Err(FieldError::invalid(
                "holder",
                "not [initials, birth date, document]",
            ));
        };
        let text = Text::from_cbor(initials, "initials")?;
        Ok(DoorHolder {
            initials: Initials::new(text.as_str())
                .map_err(|why| FieldError::invalid("initials", why))?,
            birth_date: BirthDate::from_cbor(birth_date, "birth date")?,
            document: MaskedDocument::from_cbor(document)?,
        })
    }

    /// Whether two credentials' holders can be one person's (SPEC §8.4): the same initials, the
    /// same document, and dates of birth that agree as far as both go.
    pub fn same_person(&self, other: &DoorHolder) -> bool {
        self.initials == other.initials
            && self.document == other.document
            && self.birth_date.agrees_with(other.birth_date)
    }
}

impl Holder {
    /// The door form of this holder: initials from the names as the document spells them (the
    /// native names for a domestic passport, else the Latin forms), the date of birth, the
    /// masked document.
    pub fn door(&self) -> DoorHolder {
        let domestic = self.document.kind() == DocumentKind::Passport;
        let initial = |n: &Name| {
            let native = n
                .native()
                .chars()
                .next()
                .and_then(|c| c.to_uppercase().next());
            match native {
                Some(c) if domestic && is_initial(c) => c,
                // safe: a Latin form starts with a capital A-Z.
                _ => n.latin().chars().next().unwrap_or('X'),
            }
        };
        DoorHolder {
            initials: Initials(self.names().map(initial).collect()),
            birth_date: self.birth_date,
            document: door_document(&self.document),
        }
    }
}

fn door_document(d: &Document) -> MaskedDocument {
    MaskedDocument {
        kind: d.kind(),
        masked: d.masked(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(kind: DocumentKind, number: &str) -> Holder {
        let mut h = crate::examples::holder();
        h.document = Document::new(kind, number).unwrap_or_else(|e| panic!("{e}"));
        h
    }

    #[test]
    fn a_domestic_passport_gives_cyrillic_initials_and_a_five_digit_number() {
        let door = crate::examples::holder().door();
        assert_eq!(door.initials.to_string(), "И. И. И.");
        assert_eq!(door.document.masked(), "45** ***789");
        assert_eq!(door.document.to_cbor(), Value::Integer(45789.into()));
        let back = DoorHolder::from_cbor(&door.to_cbor()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, door);
        let zeros = holder(DocumentKind::Passport, "0012 000009").door();
        assert_eq!(zeros.document.masked(), "00** ***009");
        assert_eq!(DoorHolder::from_cbor(&zeros.to_cbor()).ok(), Some(zeros));
    }

    #[test]
    fn other_documents_give_latin_initials_and_the_masked_number() {
        let door = holder(DocumentKind::InternationalPassport, "72 1234567").door();
        assert_eq!(door.initials.to_string(), "I. I. I.");
        assert_eq!(door.document.masked(), "72 ****567");
        assert_eq!(DoorHolder::from_cbor(&door.to_cbor()).ok(), Some(door));
        let short = holder(DocumentKind::Foreign, "AB12").door();
        assert_eq!(short.document.masked(), "*B12");
    }

    #[test]
    fn only_masks_a_number_could_give_are_masked_numbers() {
        for good in ["72 ****567", "C0****T47", "*B12", "123", "AB***-12"] {
            assert!(is_masked_number(good), "{good}");
        }
        for bad in [
            "72 1234567",
            "72 ***4567",
            "AB12",
            "**",
            " *B12",
            "ab***123",
            "A*",
        ] {
            assert!(!is_masked_number(bad), "{bad}");
        }
        assert!(MaskedDocument::new(DocumentKind::Passport, "45** ***789").is_ok());
        assert!(MaskedDocument::new(DocumentKind::Passport, "4510 123789").is_err());
        let as_array = Value::Array(vec![
            DocumentKind::Passport.to_cbor(),
            Value::Text("45** ***789".into()),
        ]);
        assert!(MaskedDocument::from_cbor(&as_array).is_err());
        assert!(MaskedDocument::from_cbor(&Value::Integer(100_000.into())).is_err());
    }

    #[test]
    fn initials_are_capitals_of_the_table() {
        assert!(Initials::new("ИИИ").is_ok());
        assert!(Initials::new("IVA").is_ok());
        for bad in ["", "ИИИИ", "и", "Ь", "1", "Ü"] {
            assert!(Initials::new(bad).is_err(), "{bad}");
        }
        let latin = Initials::new("ЩЮЖ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(latin.latin(), vec!['S', 'I', 'Z']);
    }
}
