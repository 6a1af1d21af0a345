//! EU DCC business rules as EU countries publish them (the gateway's rule format: an
//! `Identifier`, `Type`, `Country`, `Version`, `CertificateType`, descriptions, a validity
//! window and the CertLogic `Logic`), chosen for a certificate and a destination and evaluated
//! with the external parameters EU verifier apps give them.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use thiserror::Error;

use crate::certlogic;
use crate::valuesets::ValueSets;
use crate::{Hc1, Hc1Type};

/// Largest rule file accepted, in bytes.
pub const MAX_RULES_LEN: usize = 4 << 20;

/// Why a rule file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct RuleFileError(String);

/// Whether a rule says when a certificate is accepted (by the destination) or when it is no
/// longer valid (by the issuing country).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleType {
    /// `Acceptance`: the destination's.
    Acceptance,
    /// `Invalidation`: the issuing country's.
    Invalidation,
}

/// One EU business rule.
#[derive(Debug, Clone, PartialEq)]
pub struct EuRule {
    /// `VR-EU-0001`.
    pub identifier: String,
    /// Acceptance or invalidation.
    pub kind: RuleType,
    /// The country whose rule it is (ISO 3166-1 alpha-2, upper case).
    pub country: String,
    /// Its version as published (`1.0.2`), and as numbers to order versions by.
    pub version: String,
    version_parts: (u64, u64, u64),
    /// `General`, `Vaccination`, `Test` or `Recovery`.
    pub certificate_type: String,
    /// Its descriptions, by language (`en`, `ru`, ...).
    pub descriptions: Vec<(String, String)>,
    /// When it comes into force (Unix seconds).
    pub valid_from: i64,
    /// When it ends (Unix seconds).
    pub valid_to: i64,
    /// The CertLogic expression.
    pub logic: Json,
    /// The rule as published, whole.
    pub source: Json,
}

fn semver(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

impl EuRule {
    /// Reads one rule as the gateway publishes it; the error names the field at fault.
    pub fn from_json(rule: &Json) -> Result<EuRule, RuleFileError> {
        let text = |key: &str| {
            rule[key]
                .as_str()
                .ok_or_else(|| RuleFileError(format!("a rule without {key}")))
        };
        let identifier = text("Identifier")?;
        let bad = |what: &str| RuleFileError(format!("rule {identifier}: {what}"));
        if identifier.is_empty() || identifier.len() > 64 {
            return Err(RuleFileError(
                "a rule with an empty or overlong Identifier".into(),
            ));
        }
        let kind = match text("Type")?.to_ascii_lowercase().as_str() {
            "acceptance" => RuleType::Acceptance,
            "invalidation" => RuleType::Invalidation,
            other => {
                return Err(bad(&format!(
                    "Type {other:?} is neither Acceptance nor Invalidation"
                )));
            }
        };
        let country = text("Country")?.to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad("Country is not a two-letter code"));
        }
        let version = text("Version")?;
        let version_parts = semver(version).ok_or_else(|| bad("Version is not x.y.z"))?;
        if !text("Engine")?.eq_ignore_ascii_case("CERTLOGIC") {
            return Err(bad("its Engine is not CERTLOGIC"));
        }
        let certificate_type = text("CertificateType")?;
        if !["General", "Vaccination", "Test", "Recovery"].contains(&certificate_type) {
            return Err(bad(
                "CertificateType is not General, Vaccination, Test or Recovery",
            ));
        }
        let time = |key: &str| {
            certlogic::date_time(text(key)?)
                .ok_or_else(|| bad(&format!("{key} is not a date-time")))
        };
        let (valid_from, valid_to) = (time("ValidFrom")?, time("ValidTo")?);
        if valid_to < valid_from {
            return Err(bad("it ends before it begins"));
        }
        let descriptions = rule["Description"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|d| {
                        Some((
                            d["lang"].as_str()?.to_owned(),
                            d["desc"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let logic = rule
            .get("Logic")
            .filter(|l| !l.is_null())
            .ok_or_else(|| bad("no Logic"))?
            .clone();
        Ok(EuRule {
            identifier: identifier.to_owned(),
            kind,
            country,
            version: version.to_owned(),
            version_parts,
            certificate_type: certificate_type.to_owned(),
            descriptions,
            valid_from,
            valid_to,
            logic,
            source: rule.clone(),
        })
    }

    /// Reads a rule file as published: a list of rules, one rule, or the gateway's download
    /// (`{"IDENTIFIER": [rule, ...], ...}`). Each rule is checked; any bad one refuses the file.
    pub fn parse_file(bytes: &[u8]) -> Result<Vec<EuRule>, RuleFileError> {
        if bytes.len() > MAX_RULES_LEN {
            return Err(RuleFileError("larger than 4 MiB".into()));
        }
        let parsed: Json =
            serde_json::from_slice(bytes).map_err(|e| RuleFileError(format!("not JSON: {e}")))?;
        let rules: Vec<&Json> = match &parsed {
            Json::Array(all) => all.iter().collect(),
            Json::Object(map) if map.contains_key("Identifier") => vec![&parsed],
            Json::Object(map) => map
                .values()
                .flat_map(|v| {
                    v.as_array()
                        .map(|a| a.iter().collect())
                        .unwrap_or_else(|| vec![v])
                })
                .collect(),
            _ => return Err(RuleFileError("neither a rule nor a list of rules".into())),
        };
        if rules.is_empty() {
            return Err(RuleFileError("no rules in it".into()));
        }
        rules.into_iter().map(EuRule::from_json).collect()
    }

    /// Its description in `lang`, else in English, else its identifier.
    pub fn description(&self, lang: &str) -> &str {
        let find = |l: &str| {
            self.descriptions
                .iter()
                .find(|(dl, _)| dl.eq_ignore_ascii_case(l))
                .map(|(_, d)| d.as_str())
        };
        find(lang)
            .or_else(|| find("en"))
            .unwrap_or(&self.identifier)
    }

    fn applies_to(&self, kind: Hc1Type) -> bool {
        match self.certificate_type.as_str() {
            "General" => true,
            "Vaccination" => kind == Hc1Type::Vaccination,
            "Test" => kind == Hc1Type::Test,
            "Recovery" => kind == Hc1Type::Recovery,
            _ => false,
        }
    }
}

/// What one rule said of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleResult {
    /// The expression gave `true`.
    Passed,
    /// It gave anything else.
    Failed,
    /// It could not be evaluated (why): the certificate is not accepted on it.
    Open(String),
}

/// A rule and its result.
#[derive(Debug, Clone)]
pub struct RuleCheck<'a> {
    /// The rule.
    pub rule: &'a EuRule,
    /// Its result.
    pub result: RuleResult,
}

/// The rules that judge a certificate of `kind` from `issuer_country` at `at` (Unix seconds)
/// for `destination`: the destination's acceptance rules and the issuing country's
/// invalidation rules for its type or every type, in force then, each identifier's highest
/// version.
pub fn rules_for<'a>(
    rules: &'a [EuRule],
    destination: &str,
    issuer_country: &str,
    kind: Hc1Type,
    at: i64,
) -> Vec<&'a EuRule> {
    let mut newest: BTreeMap<&str, &EuRule> = BTreeMap::new();
    for rule in rules {
        let owner = match rule.kind {
            RuleType::Acceptance => destination,
            RuleType::Invalidation => issuer_country,
        };
        let in_force = rule.valid_from <= at && at < rule.valid_to;
        if !rule.country.eq_ignore_ascii_case(owner) || !in_force || !rule.applies_to(kind) {
            continue;
        }
        let slot = newest.entry(rule.identifier.as_str()).or_insert(rule);
        if rule.version_parts > slot.version_parts {
            *slot = rule;
        }
    }
    newest.into_values().collect()
}

/// The data a rule reads, as EU verifier apps give it: the certificate as `payload`, and as
/// `external` the value sets (`{id: [codes]}`), the validation clock, the destination, the
/// CWT's expiry and issue times, the issuing country and the key id.
pub fn rule_data(hc1: &Hc1, destination: &str, at: i64, value_sets: &ValueSets) -> Json {
    use base64::Engine;
    let time = |t: Option<i64>| {
        t.and_then(propusk_spec::Timestamp::from_unix)
            .map(|t| t.to_string())
    };
    json!({
        "payload": hc1.certificate,
        "external": {
            "valueSets": value_sets.codes_json(),
            "validationClock": time(Some(at)),
            "countryCode": destination,
            "exp": time(hc1.expires_at),
            "iat": time(hc1.issued_at),
            "issuerCountryCode": hc1.issuer,
            "kid": hc1.key_id.as_ref().map(|k| base64::engine::general_purpose::STANDARD.encode(k)),
            "region": "",
        }
    })
}

/// Evaluates each rule over the certificate's data: passed only when the expression gives
/// exactly `true`.
pub fn check<'a>(rules: &[&'a EuRule], data: &Json) -> Vec<RuleCheck<'a>> {
    rules
        .iter()
        .map(|rule| RuleCheck {
            rule,
            result: match certlogic::evaluate(&rule.logic, data) {
                Ok(certlogic::Value::Bool(true)) => RuleResult::Passed,
                Ok(_) => RuleResult::Failed,
                Err(e) => RuleResult::Open(e.to_string()),
            },
        })
        .collect()
}
