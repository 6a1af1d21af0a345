//! The EU DCC value sets (Apache-2.0, `valuesets/`): display names of vaccine products, test
//! types and results, and countries, for what a verifier says to a person.

use std::collections::HashMap;
use std::sync::OnceLock;

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

/// A line for a person about a decoded EU certificate: what it certifies, in words.
pub fn summary(certificate: &serde_json::Value) -> Option<String> {
    let field = |group: &str, key: &str| certificate[group][0][key].as_str().map(str::to_owned);
    let named = |code: Option<String>, names: fn(&str) -> Option<&'static str>| {
        code.map(|c| names(&c).map_or(c.clone(), str::to_owned))
            .unwrap_or_default()
    };
    if certificate["v"][0].is_object() {
        let (dn, sd) = (&certificate["v"][0]["dn"], &certificate["v"][0]["sd"]);
        return Some(format!(
            "{}, dose {dn}/{sd}, {}, {}",
            named(field("v", "mp"), vaccine_product),
            field("v", "dt").unwrap_or_default(),
            named(field("v", "co"), country)
        ));
    }
    if certificate["t"][0].is_object() {
        return Some(format!(
            "{}: {}, sampled {}, {}",
            named(field("t", "tt"), test_type),
            named(field("t", "tr"), test_result),
            field("t", "sc").unwrap_or_default(),
            named(field("t", "co"), country)
        ));
    }
    if certificate["r"][0].is_object() {
        return Some(format!(
            "recovery, first positive {}, {}",
            field("r", "fr").unwrap_or_default(),
            named(field("r", "co"), country)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let cert = serde_json::json!({"v": [{"mp": "EU/1/20/1528", "dn": 2, "sd": 2, "dt": "2021-05-29", "co": "DE"}]});
        assert_eq!(
            summary(&cert).as_deref(),
            Some("Comirnaty, dose 2/2, 2021-05-29, Germany")
        );
    }
}
