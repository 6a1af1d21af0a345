//! The EU DCC value sets (Apache-2.0, `valuesets/`): display names of vaccine products, test
//! types and results, and countries, for what a verifier says to a person.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// The value sets compiled in (the EU's, Apache-2.0): each file's JSON.
const COMPILED: [&str; 9] = [
    include_str!("../valuesets/country-2-codes.json"),
    include_str!("../valuesets/disease-agent-targeted.json"),
    include_str!("../valuesets/test-manf.json"),
    include_str!("../valuesets/test-result.json"),
    include_str!("../valuesets/test-type.json"),
    include_str!("../valuesets/vaccine-encoding-instructions.json"),
    include_str!("../valuesets/vaccine-mah-manf.json"),
    include_str!("../valuesets/vaccine-medicinal-product.json"),
    include_str!("../valuesets/vaccine-prophylaxis.json"),
];

/// Largest value set accepted, in bytes.
pub const MAX_VALUE_SET_LEN: usize = 1 << 20;

/// One EU value set: its id, its date, and each code's display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSet {
    /// Its `valueSetId` (`vaccines-covid-19-names`).
    pub id: String,
    /// Its `valueSetDate`.
    pub date: String,
    /// Each code's display name.
    pub values: BTreeMap<String, String>,
}

impl ValueSet {
    /// Reads a value set as the EU publishes it (`valueSetId`, `valueSetDate`,
    /// `valueSetValues` with a `display` per code); the error says what is wrong.
    pub fn parse(json: &str) -> Result<ValueSet, String> {
        if json.len() > MAX_VALUE_SET_LEN {
            return Err("larger than 1 MiB".into());
        }
        let parsed: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let id = parsed["valueSetId"]
            .as_str()
            .filter(|id| {
                !id.is_empty()
                    && id.len() <= 100
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .ok_or("no valueSetId (letters, digits and dashes)")?;
        let values = parsed["valueSetValues"]
            .as_object()
            .filter(|v| !v.is_empty())
            .ok_or("no valueSetValues")?;
        let mut out = BTreeMap::new();
        for (code, v) in values {
            let display = v["display"]
                .as_str()
                .ok_or_else(|| format!("code {code:?} has no display name"))?;
            out.insert(code.clone(), display.to_owned());
        }
        Ok(ValueSet {
            id: id.to_owned(),
            date: parsed["valueSetDate"].as_str().unwrap_or("").to_owned(),
            values: out,
        })
    }
}

/// Value sets by id, as EU business rules see them (`external.valueSets`) and verifiers name
/// codes with them: those compiled in, replaced by any imported with the same id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSets {
    sets: BTreeMap<String, ValueSet>,
}

impl Default for ValueSets {
    fn default() -> Self {
        ValueSets::compiled()
    }
}

impl ValueSets {
    /// The value sets compiled in.
    pub fn compiled() -> ValueSets {
        static CELL: OnceLock<ValueSets> = OnceLock::new();
        CELL.get_or_init(|| ValueSets {
            sets: COMPILED
                .iter()
                .filter_map(|json| ValueSet::parse(json).ok())
                .map(|set| (set.id.clone(), set))
                .collect(),
        })
        .clone()
    }

    /// These with `set` in place of the one with its id.
    pub fn with(mut self, set: ValueSet) -> ValueSets {
        self.sets.insert(set.id.clone(), set);
        self
    }

    /// The display name of `code` in the value set `id`.
    pub fn name(&self, id: &str, code: &str) -> Option<&str> {
        self.sets.get(id)?.values.get(code).map(String::as_str)
    }

    /// A value set by id.
    pub fn get(&self, id: &str) -> Option<&ValueSet> {
        self.sets.get(id)
    }

    /// `{id: [code, ...]}`: the value sets as CertLogic rules read them.
    pub fn codes_json(&self) -> serde_json::Value {
        self.sets
            .iter()
            .map(|(id, set)| (id.clone(), set.values.keys().cloned().collect()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

fn table(json: &str) -> HashMap<String, String> {
    let parsed: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    parsed["valueSetValues"]
        .as_object()
        .map(|values| {
            values
                .iter()
                .filter_map(|(code, v)| v["display"].as_str().map(|d| (code.clone(), d.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn lookup(
    cell: &'static OnceLock<HashMap<String, String>>,
    json: &str,
    code: &str,
) -> Option<&'static str> {
    cell.get_or_init(|| table(json))
        .get(code)
        .map(String::as_str)
}

/// The display name of a vaccine product code (`EU/1/20/1528` → `Comirnaty`).
pub fn vaccine_product(code: &str) -> Option<&'static str> {
    static CELL: OnceLock<HashMap<String, String>> = OnceLock::new();
    lookup(
        &CELL,
        include_str!("../valuesets/vaccine-medicinal-product.json"),
        code,
    )
}

/// The display name of a test type (`LP6464-4` → `Nucleic acid amplification with probe
/// detection`).
pub fn test_type(code: &str) -> Option<&'static str> {
    static CELL: OnceLock<HashMap<String, String>> = OnceLock::new();
    lookup(&CELL, include_str!("../valuesets/test-type.json"), code)
}

/// The name of a rapid antigen test device (`1232` → `Abbott Rapid Diagnostics, Panbio
/// COVID-19 Ag Rapid Test`), from the EU value set of devices (its 2021-07-01 release).
pub fn test_device(code: &str) -> Option<&'static str> {
    static CELL: OnceLock<HashMap<String, String>> = OnceLock::new();
    lookup(&CELL, include_str!("../valuesets/test-manf.json"), code)
}

/// The display name of a test result (`260415000` → `Not detected`).
pub fn test_result(code: &str) -> Option<&'static str> {
    static CELL: OnceLock<HashMap<String, String>> = OnceLock::new();
    lookup(&CELL, include_str!("../valuesets/test-result.json"), code)
}

/// The name of a country (`DE` → `Germany`).
pub fn country(code: &str) -> Option<&'static str> {
    static CELL: OnceLock<HashMap<String, String>> = OnceLock::new();
    lookup(
        &CELL,
        include_str!("../valuesets/country-2-codes.json"),
        code,
    )
}

/// A flat `code → name` table.
fn flat(json: &str) -> HashMap<String, String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The Russian name of a country (`DE` → `Германия`); names from Debian's iso-codes
/// translations (LGPL-2.1-or-later data, `valuesets/ru/README.md`), a few shortened as people
/// say them (`RU` → `Россия`).
pub fn country_ru(code: &str) -> Option<&'static str> {
    static CELL: OnceLock<HashMap<String, String>> = OnceLock::new();
    CELL.get_or_init(|| flat(include_str!("../valuesets/ru/countries.json")))
        .get(code)
        .map(String::as_str)
}

/// The Russian name of a vaccine product (`Sputnik-V` → `Гам-КОВИД-Вак (Спутник V)`); brand
/// names without a Russian form keep their Latin one.
pub fn vaccine_product_ru(code: &str) -> Option<&'static str> {
    static CELL: OnceLock<HashMap<String, String>> = OnceLock::new();
    CELL.get_or_init(|| flat(include_str!("../valuesets/ru/vaccine-products.json")))
        .get(code)
        .map(String::as_str)
}

/// A line for a person about a decoded EU certificate: what it certifies, in English.
pub fn summary(certificate: &serde_json::Value) -> Option<String> {
    summary_in(certificate, false)
}

/// A line for a person about a decoded EU certificate: what it certifies, in Russian
/// (`russian`) or English, dates as people there write them.
pub fn summary_in(certificate: &serde_json::Value, russian: bool) -> Option<String> {
    summary_with(certificate, russian, None)
}

/// As [`summary_in`], codes named first by `sets` (imported value sets), then by those compiled
/// in: a product the EU added later is named, not shown as its code.
pub fn summary_with(
    certificate: &serde_json::Value,
    russian: bool,
    sets: Option<&ValueSets>,
) -> Option<String> {
    let field = |group: &str, key: &str| certificate[group][0][key].as_str().map(str::to_owned);
    let english = |id: &str, code: &str, en: fn(&str) -> Option<&'static str>| {
        sets.and_then(|s| s.name(id, code))
            .map(str::to_owned)
            .or_else(|| en(code).map(str::to_owned))
    };
    let named = |code: Option<String>,
                 id: &str,
                 en: fn(&str) -> Option<&'static str>,
                 ru: fn(&str) -> Option<&'static str>| {
        code.map(|c| {
            let native = russian.then(|| ru(&c)).flatten().map(str::to_owned);
            native.or_else(|| english(id, &c, en)).unwrap_or(c.clone())
        })
        .unwrap_or_default()
    };
    // `2021-05-29` (or the date of an instant) as `29.05.2021` in Russian.
    let date = |d: Option<String>| {
        let d = d.unwrap_or_default();
        match (russian, d.get(..4), d.get(5..7), d.get(8..10)) {
            (true, Some(y), Some(m), Some(day)) => format!("{day}.{m}.{y}"),
            _ => d,
        }
    };
    let test_words = |code: &str| match (code, russian) {
        ("LP6464-4", true) => Some("ПЦР-тест"),
        ("LP217198-3", true) => Some("экспресс-тест на антиген"),
        ("260415000", true) => Some("не обнаружено"),
        ("260373001", true) => Some("обнаружено"),
        _ => None,
    };
    let test = |code: Option<String>, id: &str, en: fn(&str) -> Option<&'static str>| {
        code.map(|c| {
            test_words(&c)
                .map(str::to_owned)
                .or_else(|| english(id, &c, en))
                .unwrap_or(c.clone())
        })
        .unwrap_or_default()
    };
    let place = named(
        field("v", "co").or(field("t", "co")).or(field("r", "co")),
        "country-2-codes",
        country,
        country_ru,
    );
    if certificate["v"][0].is_object() {
        let (dn, sd) = (&certificate["v"][0]["dn"], &certificate["v"][0]["sd"]);
        let product = named(
            field("v", "mp"),
            "vaccines-covid-19-names",
            vaccine_product,
            vaccine_product_ru,
        );
        let when = date(field("v", "dt"));
        return Some(if russian {
            format!("{product}, доза {dn} из {sd}, {when}, {place}")
        } else {
            format!("{product}, dose {dn}/{sd}, {when}, {place}")
        });
    }
    if certificate["t"][0].is_object() {
        let (kind, result) = (
            test(field("t", "tt"), "covid-19-lab-test-type", test_type),
            test(field("t", "tr"), "covid-19-lab-result", test_result),
        );
        let sampled = if russian {
            date(field("t", "sc"))
        } else {
            field("t", "sc").unwrap_or_default()
        };
        return Some(if russian {
            format!("{kind}: {result}, взят {sampled}, {place}")
        } else {
            format!("{kind}: {result}, sampled {sampled}, {place}")
        });
    }
    if certificate["r"][0].is_object() {
        let first = date(field("r", "fr"));
        return Some(if russian {
            format!("перенесённое заболевание, первый положительный тест {first}, {place}")
        } else {
            format!("recovery, first positive {first}, {place}")
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imported_value_sets_name_new_codes() {
        let compiled = ValueSets::compiled();
        assert_eq!(
            compiled.name("vaccines-covid-19-names", "EU/1/20/1528"),
            Some("Comirnaty")
        );
        assert!(compiled.get("sct-vaccines-covid-19").is_some());
        let codes = compiled.codes_json();
        assert!(
            codes["covid-19-lab-result"]
                .as_array()
                .is_some_and(|c| c.len() == 2)
        );
        let newer = ValueSet::parse(
            r#"{"valueSetId": "vaccines-covid-19-names", "valueSetDate": "2026-01-01",
                "valueSetValues": {"EU/1/26/9999": {"display": "Novavax-2026", "lang": "en",
                "active": true, "system": "x", "version": ""}}}"#,
        )
        .unwrap();
        let sets = compiled.with(newer);
        let cert = serde_json::json!({"v": [{"mp": "EU/1/26/9999", "dn": 1, "sd": 1, "dt": "2026-05-29", "co": "DE"}]});
        assert_eq!(
            summary_with(&cert, false, Some(&sets)).as_deref(),
            Some("Novavax-2026, dose 1/1, 2026-05-29, Germany")
        );
        assert_eq!(
            summary(&cert).as_deref(),
            Some("EU/1/26/9999, dose 1/1, 2026-05-29, Germany")
        );
        for bad in [
            "[]",
            "{}",
            r#"{"valueSetId": "a b", "valueSetValues": {"x": {"display": "y"}}}"#,
            r#"{"valueSetId": "ok", "valueSetValues": {"x": {}}}"#,
        ] {
            assert!(ValueSet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_code_has_a_russian_name() {
        for (json, ru) in [
            (
                include_str!("../valuesets/country-2-codes.json"),
                country_ru as fn(&str) -> Option<&'static str>,
            ),
            (
                include_str!("../valuesets/vaccine-medicinal-product.json"),
                vaccine_product_ru,
            ),
        ] {
            let codes = table(json);
            assert!(codes.len() > 30);
            for code in codes.keys() {
                assert!(ru(code).is_some_and(|n| !n.is_empty()), "{code}");
            }
        }
    }

    #[test]
    fn codes_have_names() {
        assert_eq!(vaccine_product("EU/1/20/1528"), Some("Comirnaty"));
        assert_eq!(vaccine_product("Sputnik-V"), Some("Sputnik-V"));
        assert_eq!(
            test_type("LP6464-4"),
            Some("Nucleic acid amplification with probe detection")
        );
        assert_eq!(country("DE"), Some("Germany"));
        assert_eq!(test_result("260415000"), Some("Not detected"));
        assert_eq!(country("XX"), None);
        assert_eq!(country_ru("RU"), Some("Россия"));
        assert_eq!(country_ru("DE"), Some("Германия"));
        assert_eq!(
            vaccine_product_ru("Sputnik-V"),
            Some("Гам-КОВИД-Вак (Спутник V)")
        );
        let cert = serde_json::json!({"v": [{"mp": "EU/1/20/1528", "dn": 2, "sd": 2, "dt": "2021-05-29", "co": "DE"}]});
        assert_eq!(
            summary(&cert).as_deref(),
            Some("Comirnaty, dose 2/2, 2021-05-29, Germany")
        );
        assert_eq!(
            summary_in(&cert, true).as_deref(),
            Some("Комирнати (Comirnaty), доза 2 из 2, 29.05.2021, Германия")
        );
    }
}
