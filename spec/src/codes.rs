//! Enumerated codes: countries, vaccine products, test kinds and results, pass purposes,
//! identity document kinds.

use std::fmt;
use std::str::FromStr;

use ciborium::Value;

use crate::cbor::{small_uint, uint};
use crate::error::FieldError;
use crate::text::Text;

/// An ISO 3166-1 alpha-2 country code.
///
/// On the wire: `(first − 'A') × 26 + (second − 'A')`, an integer below 676 (`RU` = 462).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// The packed integer form.
    pub fn code(self) -> u16 {
        u16::from(self.0[0] - b'A') * 26 + u16::from(self.0[1] - b'A')
    }

    /// The two letters.
    pub fn as_str(&self) -> &str {
        // safe: both bytes are checked to be ASCII capitals on construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    pub(crate) fn to_cbor(self) -> Value {
        uint(u64::from(self.code()))
    }

    pub(crate) fn from_cbor(value: &Value, field: &'static str) -> Result<Self, FieldError> {
        let n = small_uint(value, field, 675)? as u16;
        Ok(Country([b'A' + (n / 26) as u8, b'A' + (n % 26) as u8]))
    }
}

impl FromStr for Country {
    type Err = &'static str;

    /// Parses two capital letters.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Country([a, b])),
            _ => Err("not a two-letter country code (ISO 3166-1 alpha-2, upper case)"),
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({self})")
    }
}

impl serde::Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Vaccine product codes with a number of their own, in the order of the EU value set
/// `vaccine-medicinal-product` (number = position + 1). The table only grows.
pub const VACCINE_PRODUCTS: [&str; 39] = [
    "EU/1/20/1528",
    "EU/1/20/1507",
    "EU/1/21/1529",
    "EU/1/20/1525",
    "CVnCoV",
    "NVX-CoV2373",
    "Sputnik-V",
    "Convidecia",
    "EpiVacCorona",
    "BBIBP-CorV",
    "Inactivated-SARS-CoV-2-Vero-Cell",
    "CoronaVac",
    "Covaxin",
    "Covishield",
    "Covid-19-recombinant",
    "R-COVI",
    "CoviVac",
    "Sputnik-Light",
    "Hayat-Vax",
    "Abdala",
    "WIBP-CorV",
    "MVC-COV1901",
    "EU/1/21/1618",
    "Covovax",
    "Vidprevtyn",
    "VLA2001",
    "EpiVacCorona-N",
    "Sputnik-M",
    "Covid-19-adsorvida-inativada",
    "NVSI-06-08",
    "YS-SC2-010",
    "SCTV01C",
    "Covifenz",
    "AZD2816",
    "Soberana-02",
    "Soberana-Plus",
    "EU/1/21/1624",
    "EU/1/21/1580",
    "EU/1/22/1709",
];

/// A vaccine product, by its value-set code (`Sputnik-V`, `EU/1/20/1528`).
///
/// On the wire: the product's number in [`VACCINE_PRODUCTS`] when it has one (it must be used
/// then), otherwise the code as text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum VaccineProduct {
    /// A product from [`VACCINE_PRODUCTS`], by index.
    Listed(u8),
    /// A product without a number of its own.
    Other(Text),
}

impl VaccineProduct {
    /// The product with this code.
    pub fn new(code: &str) -> Result<Self, &'static str> {
        match VACCINE_PRODUCTS.iter().position(|&p| p == code) {
            Some(i) => Ok(VaccineProduct::Listed(i as u8)),
            None => Text::new(code).map(VaccineProduct::Other),
        }
    }

    /// The value-set code.
    pub fn code(&self) -> &str {
        match self {
            VaccineProduct::Listed(i) => VACCINE_PRODUCTS[usize::from(*i)],
            VaccineProduct::Other(t) => t.as_str(),
        }
    }

    pub(crate) fn to_cbor(&self) -> Value {
        match self {
            VaccineProduct::Listed(i) => uint(u64::from(*i) + 1),
            VaccineProduct::Other(t) => Value::Text(t.as_str().to_owned()),
        }
    }

    pub(crate) fn from_cbor(value: &Value, field: &'static str) -> Result<Self, FieldError> {
        match value {
            Value::Integer(_) => {
                let n = small_uint(value, field, VACCINE_PRODUCTS.len() as u64)?;
                if n == 0 {
                    return Err(FieldError::invalid(
                        field,
                        "product number 0 is not assigned",
                    ));
                }
                Ok(VaccineProduct::Listed((n - 1) as u8))
            }
            Value::Text(s) => match VaccineProduct::new(s) {
                Ok(VaccineProduct::Other(t)) if t.as_str().is_ascii() => {
                    Ok(VaccineProduct::Other(t))
                }
                Ok(VaccineProduct::Other(_)) => {
                    Err(FieldError::invalid(field, "a product code is ASCII"))
                }
                Ok(VaccineProduct::Listed(_)) => Err(FieldError::invalid(
                    field,
                    "a listed product must be sent as its number",
                )),
                Err(why) => Err(FieldError::invalid(field, why)),
            },
            _ => Err(FieldError::WrongType(field)),
        }
    }
}

impl fmt::Debug for VaccineProduct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaccineProduct({})", self.code())
    }
}

impl serde::Serialize for VaccineProduct {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Declares a small enumeration with its wire numbers and its text names.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $n:literal, $text:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The name used in JSON and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The number on the wire.
            pub fn code(self) -> u64 {
                match self { $($name::$variant => $n,)+ }
            }

            pub(crate) fn to_cbor(self) -> Value {
                uint(self.code())
            }

            pub(crate) fn from_cbor(value: &Value, field: &'static str) -> Result<Self, FieldError> {
                match small_uint(value, field, u64::MAX)? {
                    $($n => Ok($name::$variant),)+
                    _ => Err(FieldError::invalid(field, concat!("not a known ", $what))),
                }
            }
        }

        impl FromStr for $name {
            type Err = &'static str;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(concat!("not a known ", $what)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

code_enum!(
    /// The kind of a test.
    TestKind, "test kind" {
        /// Nucleic acid amplification (PCR), LOINC LP6464-4.
        Pcr = 0, "pcr";
        /// Rapid antigen test, LOINC LP217198-3.
        RapidAntigen = 1, "rapid_antigen";
    }
);

code_enum!(
    /// The result of a test.
    TestResult, "test result" {
        /// Not detected (SNOMED CT 260415000).
        Negative = 0, "negative";
        /// Detected (SNOMED CT 260373001).
        Positive = 1, "positive";
    }
);

code_enum!(
    /// Why a movement pass was given.
    PassPurpose, "pass purpose" {
        /// Travel to and from work.
        Work = 0, "work";
        /// Shopping for necessities.
        Shopping = 1, "shopping";
        /// A visit to a medical facility.
        Medical = 2, "medical";
        /// Anything else.
        Other = 3, "other";
    }
);

code_enum!(
    /// The kind of identity document the holder is matched against.
    DocumentKind, "document kind" {
        /// A Russian internal passport: a 4-digit series and a 6-digit number.
        Passport = 0, "passport";
        /// An international (travel) passport.
        InternationalPassport = 1, "international_passport";
        /// A foreign identity document.
        Foreign = 2, "foreign";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_pack_into_small_integers() {
        let ru: Country = "RU".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ru.code(), 462);
        assert_eq!(Country::from_cbor(&ru.to_cbor(), "co"), Ok(ru));
        assert!("ru".parse::<Country>().is_err());
        assert!(Country::from_cbor(&uint(676), "co").is_err());
    }

    #[test]
    fn listed_products_travel_as_numbers() {
        let sputnik = VaccineProduct::new("Sputnik-V").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sputnik.to_cbor(), uint(7));
        assert_eq!(
            VaccineProduct::from_cbor(&uint(7), "mp").map(|p| p.code().to_owned()),
            Ok("Sputnik-V".into())
        );
        assert!(VaccineProduct::from_cbor(&Value::Text("Sputnik-V".into()), "mp").is_err());
        assert!(VaccineProduct::from_cbor(&uint(0), "mp").is_err());
        assert!(VaccineProduct::from_cbor(&uint(40), "mp").is_err());
        let other = VaccineProduct::new("Betuvax-CoV-2").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(VaccineProduct::from_cbor(&other.to_cbor(), "mp"), Ok(other));
    }
}
