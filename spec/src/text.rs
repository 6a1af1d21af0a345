//! Text fields: names and institutions, and their compact single-byte form for Cyrillic.
//!
//! A text field travels as a CBOR text string (UTF-8), or, when it holds a character beyond
//! ASCII and every character is in windows-1251, as a CBOR byte string in windows-1251: one
//! byte per Cyrillic letter instead of two. The choice is not free: an encoder must use the
//! byte string exactly when that condition holds, and a decoder refuses the other form, so
//! every text has one encoding.

use std::fmt;

use ciborium::Value;

use crate::error::FieldError;

/// Most characters a text field may hold.
pub const MAX_TEXT_CHARS: usize = 80;

/// windows-1251 bytes 0x80..=0xFF as Unicode scalar values (the WHATWG index, which maps 0x98
/// to the control character U+0098: refused, like every control character, as text).
const CP1251_HIGH: [u16; 128] = [
    0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, // 0x80
    0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F, // 0x88
    0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, // 0x90
    0x0098, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F, // 0x98
    0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, // 0xA0
    0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407, // 0xA8
    0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7, // 0xB0
    0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457, // 0xB8
    0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417, // 0xC0 А..
    0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, 0x041F, // 0xC8
    0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427, // 0xD0
    0x0428, 0x0429, 0x042A, 0x042B, 0x042C, 0x042D, 0x042E, 0x042F, // 0xD8 ..Я
    0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437, // 0xE0 а..
    0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F, // 0xE8
    0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447, // 0xF0
    0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F, // 0xF8 ..я
];

fn cp1251_byte(c: char) -> Option<u8> {
    if c.is_ascii() {
        return Some(c as u8);
    }
    let code = u32::from(c);
    CP1251_HIGH
        .iter()
        .position(|&u| u32::from(u) == code)
        .map(|i| 0x80 + i as u8)
}

/// The character a windows-1251 byte stands for (WHATWG: every byte has one).
pub fn windows_1251_char(b: u8) -> char {
    if b < 0x80 {
        return char::from(b);
    }
    char::from_u32(u32::from(CP1251_HIGH[usize::from(b - 0x80)]))
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// A validated text field: 1 to 80 characters, no control characters, no leading or trailing
/// white space.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    /// Checks and wraps a string; `why` says what is wrong when it is refused.
    pub fn new(s: &str) -> Result<Self, &'static str> {
        if s.is_empty() {
            return Err("empty");
        }
        if s.chars().count() > MAX_TEXT_CHARS {
            return Err("longer than 80 characters");
        }
        if s.chars().any(char::is_control) {
            return Err("holds a control character");
        }
        if s.trim() != s {
            return Err("has leading or trailing white space");
        }
        Ok(Text(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The compact windows-1251 bytes, when this text must travel in that form.
    fn compact(&self) -> Option<Vec<u8>> {
        if self.0.is_ascii() {
            return None;
        }
        self.0.chars().map(cp1251_byte).collect()
    }

    /// The CBOR item for this text.
    pub(crate) fn to_cbor(&self) -> Value {
        match self.compact() {
            Some(bytes) => Value::Bytes(bytes),
            None => Value::Text(self.0.clone()),
        }
    }

    /// Reads a text field, refusing the form an encoder would not have chosen.
    pub(crate) fn from_cbor(value: &Value, field: &'static str) -> Result<Self, FieldError> {
        let text = match value {
            Value::Text(s) => {
                let text = Text::new(s).map_err(|why| FieldError::invalid(field, why))?;
                if text.compact().is_some() {
                    return Err(FieldError::invalid(field, "must use the windows-1251 form"));
                }
                text
            }
            Value::Bytes(b) => {
                let s: String = b.iter().map(|&b| windows_1251_char(b)).collect();
                if s.is_ascii() {
                    return Err(FieldError::invalid(field, "ASCII must be a text string"));
                }
                Text::new(&s).map_err(|why| FieldError::invalid(field, why))?
            }
            _ => return Err(FieldError::WrongType(field)),
        };
        Ok(text)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Text {
        Text::new(s).unwrap_or_else(|why| panic!("{s}: {why}"))
    }

    #[test]
    fn cyrillic_travels_in_one_byte_per_letter() {
        let name = text("Иванов");
        assert_eq!(
            name.to_cbor(),
            Value::Bytes(vec![0xC8, 0xE2, 0xE0, 0xED, 0xEE, 0xE2])
        );
        assert_eq!(Text::from_cbor(&name.to_cbor(), "n"), Ok(name));
        let inst = text("ГБУЗ ГП № 2");
        assert_eq!(Text::from_cbor(&inst.to_cbor(), "n"), Ok(inst));
    }

    #[test]
    fn ascii_and_other_scripts_stay_utf8() {
        assert_eq!(text("Smith").to_cbor(), Value::Text("Smith".into()));
        assert_eq!(text("Müller").to_cbor(), Value::Text("Müller".into()));
        assert_eq!(text("Ağa").to_cbor(), Value::Text("Ağa".into()));
    }

    #[test]
    fn the_other_form_is_refused() {
        let utf8 = Value::Text("Иван".into());
        assert!(Text::from_cbor(&utf8, "n").is_err());
        assert!(Text::from_cbor(&Value::Bytes(b"Ivan".to_vec()), "n").is_err());
        assert!(Text::from_cbor(&Value::Bytes(vec![0x98]), "n").is_err());
        assert!(Text::from_cbor(&Value::Integer(1.into()), "n").is_err());
    }

    #[test]
    fn every_assigned_byte_round_trips() {
        for b in 0x80..=0xFFu8 {
            assert_eq!(cp1251_byte(windows_1251_char(b)), Some(b), "{b:#x}");
        }
        assert!(Text::new(" Ivan").is_err());
        assert!(Text::new("Iv\nan").is_err());
        assert!(Text::new(&"x".repeat(81)).is_err());
    }
}
