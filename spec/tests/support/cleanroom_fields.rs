//! The clean-room decoder's fields: the claims map, the holder, text, codes and bodies (SPEC §7
//! to §10).

use super::{Decoder, FIRST_DAY, Item, LAST_DAY, MAX_INSTANT, Rule, Step, refuse};

/// The capitals that may stand as initials (SPEC §8.1).
const CYRILLIC_INITIALS: &str = "АБВГЃҐДЂЕЁЭЖЗИЙІЇКЌЛЉМНЊОПРСТУЎФХЦЧШЩЪЄЫЮЯЅЏЈЋ";

/// The listed vaccine products, in number order (SPEC §9.3).
pub(super) const PRODUCTS: [&str; 39] = [
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

/// WHATWG index-windows-1251, bytes 0x80 to 0xFF.
const CP1251_HIGH: &str = "ЂЃ‚ѓ„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—\u{98}™љ›њќћџ\u{a0}ЎўЈ¤Ґ¦§Ё©Є«¬\u{ad}®Ї°±Ііґµ¶·ё№є»јЅѕїАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя";

fn cp1251_char(b: u8) -> char {
    if b < 0x80 {
        char::from(b)
    } else {
        CP1251_HIGH
            .chars()
            .nth(usize::from(b - 0x80))
            .unwrap_or('\u{fffd}')
    }
}

fn in_cp1251(c: char) -> bool {
    c.is_ascii() || CP1251_HIGH.contains(c)
}

#[derive(Clone, Copy)]
enum Field {
    Product,
    Count,
    Date,
    Country,
    Text,
    Instant,
    /// A code whose numbers are `0..n`.
    Code(u64),
}

fn get(entries: &[(Item, Item)], key: i128) -> Option<&Item> {
    entries
        .iter()
        .find(|(k, _)| k.int() == Some(key))
        .map(|(_, v)| v)
}

impl Decoder {
    /// The claims map, in the order of SPEC §7; the credential id (hex) when it is valid.
    pub(super) fn claims(&self, claims: &Item) -> Step<String> {
        let empty = Vec::new();
        let entries = match claims {
            Item::Map(entries) => entries,
            _ => {
                self.check(Rule::ClaimsMap, false, "claims")?;
                &empty
            }
        };
        let bodies: Vec<(i128, &Item)> = entries
            .iter()
            .filter_map(|(k, v)| k.int().filter(|k| (-6..=-2).contains(k)).map(|k| (k, v)))
            .collect();
        let body = || -> Step<Option<(i128, i128)>> {
            match bodies.first() {
                Some((key, value)) => self.body(*key, value),
                None => Ok(None),
            }
        };
        let mut order = None;
        if !self.on(Rule::ClaimsBeforeBody) {
            order = body()?;
        }
        let exp = self.claim_instant(get(entries, 4))?;
        let iat = self.claim_instant(get(entries, 6))?;
        let id = match get(entries, 7) {
            None => {
                self.check(Rule::ClaimPresent, false, "claims")?;
                Vec::new()
            }
            Some(Item::Bytes(b)) => b.clone(),
            Some(other) => {
                self.check(Rule::CtiBytes, false, "claims")?;
                match other {
                    Item::Text(t) => t.as_bytes().to_vec(),
                    _ => Vec::new(),
                }
            }
        };
        self.check(Rule::CtiLength, id.len() == 12, "claims")?;
        match get(entries, -1) {
            None => self.check(Rule::ClaimPresent, false, "claims")?,
            Some(holder) => self.holder(holder)?,
        }
        for (key, _) in entries {
            let known = key
                .int()
                .is_some_and(|k| matches!(k, 4 | 6 | 7) || (-6..=-1).contains(&k));
            self.check(Rule::UnknownClaim, known, "claims")?;
        }
        self.check(Rule::OneBody, bodies.len() == 1, "claims")?;
        let expiry_order = || match (exp, iat) {
            (Some(exp), Some(iat)) => self.check(Rule::ExpiryAfterIssue, exp > iat, "claims"),
            _ => Ok(()),
        };
        if !self.on(Rule::BodyBeforeExpiryOrder) {
            expiry_order()?;
        }
        if self.on(Rule::ClaimsBeforeBody) {
            order = body()?;
        }
        expiry_order()?;
        if let Some((from, until)) = order {
            self.check(Rule::BodyDateOrder, until >= from, "body")?;
        }
        Ok(id.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn claim_instant(&self, item: Option<&Item>) -> Step<Option<i128>> {
        match item {
            None => {
                self.check(Rule::ClaimPresent, false, "claims")?;
                Ok(None)
            }
            Some(item) => self.instant(item, "claims"),
        }
    }

    fn instant(&self, item: &Item, layer: &'static str) -> Step<Option<i128>> {
        match item {
            Item::Uint(n) => {
                let n = i128::from(*n);
                self.check(Rule::InstantMax, n <= MAX_INSTANT, layer)?;
                Ok(Some(n))
            }
            other => {
                self.check(Rule::InstantType, false, layer)?;
                Ok(other.int())
            }
        }
    }

    fn date(&self, n: i128, layer: &'static str) -> Step<()> {
        self.check(Rule::DateRange, (FIRST_DAY..=LAST_DAY).contains(&n), layer)
    }

    fn holder(&self, holder: &Item) -> Step<()> {
        let items = match holder {
            Item::Array(items) if items.len() == 3 => items.as_slice(),
            _ if self.on(Rule::HolderShape) => return refuse("claims"),
            Item::Array(items) if items.len() > 3 => &items[..3],
            _ => return Ok(()),
        };
        if let Some(initials) = self.text(&items[0], "claims")? {
            let n = initials.chars().count();
            self.check(Rule::InitialsCount, (1..=3).contains(&n), "claims")?;
            let letters = initials
                .chars()
                .all(|c| c.is_ascii_uppercase() || CYRILLIC_INITIALS.contains(c));
            self.check(Rule::InitialLetter, letters, "claims")?;
        }
        self.birth_date(&items[1])?;
        self.document(&items[2])
    }

    fn birth_date(&self, item: &Item) -> Step<()> {
        let year = |y: &Item| -> Step<()> {
            let ok = y.int().is_some_and(|y| (1900..=2199).contains(&y));
            self.check(Rule::BirthYear, ok, "claims")
        };
        match item {
            Item::Uint(_) | Item::Nint(_) => self.date(item.int().unwrap_or(0), "claims"),
            Item::Array(parts) if parts.len() == 1 && parts[0].int().is_some() => year(&parts[0]),
            Item::Array(parts) if parts.len() == 2 && parts.iter().all(|p| p.int().is_some()) => {
                year(&parts[0])?;
                let ok = parts[1].int().is_some_and(|m| (1..=12).contains(&m));
                self.check(Rule::BirthMonth, ok, "claims")
            }
            _ => self.check(Rule::BirthForm, false, "claims"),
        }
    }

    fn document(&self, item: &Item) -> Step<()> {
        let pair = match item {
            Item::Uint(n) => return self.check(Rule::PassportRange, *n <= 99_999, "claims"),
            Item::Array(pair) if pair.len() == 2 => pair.as_slice(),
            Item::Array(pair) => {
                self.check(Rule::DocumentPair, false, "claims")?;
                if pair.len() < 2 {
                    return Ok(());
                }
                &pair[..2]
            }
            _ => return self.check(Rule::DocumentType, false, "claims"),
        };
        match pair[0].int() {
            Some(0) => self.check(Rule::DocumentKindZero, false, "claims")?,
            Some(1 | 2) => {}
            _ => self.check(Rule::DocumentKind, false, "claims")?,
        }
        let masked = match &pair[1] {
            Item::Text(t) => t.clone(),
            Item::Bytes(b) => {
                self.check(Rule::MaskedType, false, "claims")?;
                b.iter().map(|&b| cp1251_char(b)).collect()
            }
            _ => return self.check(Rule::MaskedType, false, "claims"),
        };
        self.masked(&masked)
    }

    fn masked(&self, masked: &str) -> Step<()> {
        let allowed = masked
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, ' ' | '-' | '*'));
        self.check(Rule::MaskedCharacters, allowed, "claims")?;
        let n = masked.chars().count();
        self.check(Rule::MaskedLength, (1..=24).contains(&n), "claims")?;
        let edge = masked.starts_with(' ') || masked.ends_with(' ');
        self.check(Rule::MaskedEdgeSpace, !edge, "claims")?;
        let shown: Vec<char> = masked.chars().filter(|&c| c != ' ').collect();
        let n = shown.len();
        let stays = |i: usize| n <= 3 || i + 3 >= n || (n > 5 && i < 2);
        let right = shown
            .iter()
            .enumerate()
            .all(|(i, &c)| (c == '*') != stays(i));
        self.check(Rule::MaskedStars, right, "claims")
    }

    /// A text field (SPEC §9.1); `None` when, the type check left out, there is no text.
    fn text(&self, item: &Item, layer: &'static str) -> Step<Option<String>> {
        let text = match item {
            Item::Text(t) => {
                let could_be_bytes = !t.is_ascii() && t.chars().all(in_cp1251);
                self.check(Rule::FormCp1251, !could_be_bytes, layer)?;
                t.clone()
            }
            Item::Bytes(b) => {
                self.check(Rule::FormAscii, !b.is_ascii(), layer)?;
                b.iter().map(|&b| cp1251_char(b)).collect()
            }
            _ => {
                self.check(Rule::TextType, false, layer)?;
                return Ok(None);
            }
        };
        let n = text.chars().count();
        self.check(Rule::TextChars, (1..=80).contains(&n), layer)?;
        self.check(
            Rule::TextControl,
            !text.chars().any(char::is_control),
            layer,
        )?;
        let edge = text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace);
        self.check(Rule::TextEdgeSpace, !edge, layer)?;
        Ok(Some(text))
    }

    /// A body (layer `body`); the dates whose order its type fixes, as (from, until − 1 for a
    /// pass, whose end must be later).
    fn body(&self, key: i128, body: &Item) -> Step<Option<(i128, i128)>> {
        use Field::*;
        let schema: &[Field] = match key {
            -2 => &[Product, Count, Count, Date, Country, Text],
            -3 => &[Date, Country, Text],
            -4 => &[Code(2), Instant, Code(2), Text, Country],
            -5 => &[Date, Date, Country],
            _ => &[Code(4), Instant, Instant],
        };
        let empty = Vec::new();
        let entries = match body {
            Item::Map(entries) => entries,
            _ => {
                self.check(Rule::BodyMap, false, "body")?;
                &empty
            }
        };
        for (k, _) in entries {
            let known = k
                .int()
                .is_some_and(|k| (1..=schema.len() as i128).contains(&k));
            self.check(Rule::BodyUnknownKey, known, "body")?;
        }
        let mut values = Vec::new();
        for (i, field) in schema.iter().enumerate() {
            match get(entries, i as i128 + 1) {
                None => {
                    self.check(Rule::BodyKeyPresent, false, "body")?;
                    values.push(None);
                }
                Some(item) => values.push(self.field(*field, item)?),
            }
        }
        Ok(match (key, values.as_slice()) {
            (-5, [Some(from), Some(until), _]) => Some((*from, *until)),
            (-6, [_, Some(from), Some(until)]) => Some((*from, *until - 1)),
            _ => None,
        })
    }

    fn field(&self, field: Field, item: &Item) -> Step<Option<i128>> {
        let n = item.int();
        let wrong_type = |d: &Decoder| d.check(Rule::BodyFieldType, false, "body").map(|()| None);
        match field {
            Field::Product => match item {
                Item::Uint(n) => {
                    let ok = (1..=39).contains(n);
                    self.check(Rule::ProductNumber, ok, "body")?;
                }
                Item::Text(t) => {
                    self.check(Rule::ProductListed, !PRODUCTS.contains(&t.as_str()), "body")?;
                    self.check(Rule::ProductAscii, t.is_ascii(), "body")?;
                    self.text(item, "body")?;
                }
                Item::Bytes(_) => {
                    self.check(Rule::ProductAscii, false, "body")?;
                    self.text(item, "body")?;
                }
                _ => return wrong_type(self),
            },
            Field::Count => match n {
                Some(n) => self.check(Rule::DoseRange, (1..=9).contains(&n), "body")?,
                None => return wrong_type(self),
            },
            Field::Date => match n {
                Some(n) => self.date(n, "body")?,
                None => return wrong_type(self),
            },
            Field::Country => match n {
                Some(n) => self.check(Rule::CountryRange, (0..=675).contains(&n), "body")?,
                None => return wrong_type(self),
            },
            Field::Code(count) => match n {
                Some(n) => {
                    self.check(Rule::CodeKnown, (0..i128::from(count)).contains(&n), "body")?
                }
                None => return wrong_type(self),
            },
            Field::Text => {
                self.text(item, "body")?;
            }
            Field::Instant => return self.instant(item, "body"),
        }
        Ok(n)
    }
}
