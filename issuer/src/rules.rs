//! The rules as the operator's data: versions set with `propusk issuer rules set`, each in
//! force, whole, from its first local day in the jurisdiction — its rules and its door
//! policies — published with the next bundle and proven like every row a publication vouches
//! for. Version 1 is the standard set, in force from 2020-01-01, with no door policy.

use propusk_input::InputError;
use propusk_spec::{CredentialType, Timestamp};
use propusk_trust_list::{Policy, PolicyEntry, Rule, RuleEntry, RuleSet, Rules};

use crate::error::{IssuerError, StoreError};
use crate::issuer::Issuer;
use crate::records::AuditOp;
use crate::records::Row;
use crate::store::RuleVersion;

/// A version of the rules, as `issuer rules show` tells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RulesVersion {
    /// Its number.
    pub version: u32,
    /// Its first local day (`YYYY-MM-DD`).
    pub effective_from: String,
    /// Its rules.
    pub rules: Vec<Rule>,
    /// Its door policies.
    pub policies: Vec<Policy>,
}

/// What `rules set --file` takes and `rules show --json` prints: the rules of a version and its
/// door policies (a bare array is the rules alone).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// The rules.
    pub rules: Vec<Rule>,
    /// The door policies.
    #[serde(default)]
    pub policies: Vec<Policy>,
}

impl RulesFile {
    /// Reads the object, or a bare array of rules.
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        match serde_json::from_str::<Vec<Rule>>(json) {
            Ok(rules) => Ok(RulesFile {
                rules,
                policies: Vec::new(),
            }),
            Err(_) => serde_json::from_str(json),
        }
    }
}

/// The rules in force at a time, and those scheduled after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesView {
    /// The version in force.
    pub in_force: RulesVersion,
    /// The versions that start later, soonest first.
    pub scheduled: Vec<RulesVersion>,
}

/// The standard set's first day: every version the operator sets starts after it.
const STANDARD_FROM: &str = "2020-01-01";

/// What a version of the rules must hold: a rule for every type of credential, and no two
/// rules for the same one (for tests: the same kind); door policies each well formed, and
/// named once.
fn check_version(file: &RulesFile) -> Result<(), InputError> {
    for (i, p) in file.policies.iter().enumerate() {
        if let Some(problem) = p.problem() {
            return Err(InputError::field("policies", problem));
        }
        if file.policies[i + 1..].iter().any(|q| q.name == p.name) {
            return Err(InputError::field(
                "policies",
                format!("two policies named {}", p.name),
            ));
        }
    }
    let rules = &file.rules;
    for t in CredentialType::ALL {
        if !rules.iter().any(|r| r.credential_type() == t) {
            return Err(InputError::field(
                "rules",
                format!(
                    "no rule for {}: a version of the rules holds one for every type",
                    t.as_str()
                ),
            ));
        }
    }
    for (i, a) in rules.iter().enumerate() {
        let twice = rules[i + 1..].iter().any(|b| match (a, b) {
            (Rule::Test { kind: x, .. }, Rule::Test { kind: y, .. }) => x == y,
            _ => a.credential_type() == b.credential_type(),
        });
        if twice {
            return Err(InputError::field(
                "rules",
                format!(
                    "two rules for {}: one version holds one rule for each",
                    a.credential_type().as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// A stored version's rules and policies.
fn stored_file(v: &RuleVersion) -> Result<RulesFile, IssuerError> {
    RulesFile::parse(&v.rules).map_err(|_| {
        StoreError::Corrupt("a stored version of the rules that does not parse").into()
    })
}

/// `set` with `version`'s rules and policies added, in force from its first day.
fn with_version(mut set: RuleSet, version: &RulesVersion) -> RuleSet {
    set.rules.extend(version.rules.iter().map(|rule| RuleEntry {
        effective_from: version.effective_from.clone(),
        rule: rule.clone(),
    }));
    set.policies
        .extend(version.policies.iter().map(|policy| PolicyEntry {
            effective_from: version.effective_from.clone(),
            policy: policy.clone(),
        }));
    set.version = set.version.max(version.version);
    set
}

impl Issuer {
    /// The rule set the issuer publishes and issues by: the standard set, then every version
    /// the operator set.
    pub(crate) fn rule_set(&self) -> Result<RuleSet, IssuerError> {
        let standard = RuleSet::standard(&self.settings.country, &self.settings.time_zone);
        Ok(self
            .rule_versions()?
            .iter()
            .skip(1)
            .fold(standard, with_version))
    }

    /// The versions of the rules: the standard set and every one the operator set.
    fn rule_versions(&self) -> Result<Vec<RulesVersion>, IssuerError> {
        let standard = RuleSet::standard(&self.settings.country, &self.settings.time_zone);
        let mut versions = vec![RulesVersion {
            version: standard.version,
            effective_from: STANDARD_FROM.to_owned(),
            rules: standard.rules.into_iter().map(|e| e.rule).collect(),
            policies: Vec::new(),
        }];
        for v in self.store.rule_versions()? {
            let file = stored_file(&v)?;
            versions.push(RulesVersion {
                version: v.version,
                rules: file.rules,
                policies: file.policies,
                effective_from: v.effective_from,
            });
        }
        Ok(versions)
    }

    /// The version of the rules in force at `at` (on its local day), and those scheduled.
    pub fn rules_view(&self, at: Timestamp) -> Result<RulesView, IssuerError> {
        let today = self.local_day(at)?;
        let mut versions = self.rule_versions()?;
        let split = versions
            .iter()
            .rposition(|v| v.effective_from <= today)
            .unwrap_or(0);
        let scheduled = versions.split_off(split + 1);
        let in_force = versions
            .pop()
            .ok_or(StoreError::Corrupt("no version of the rules"))?;
        Ok(RulesView {
            in_force,
            scheduled,
        })
    }

    /// Records a new version of the rules — `json`, what `rules show --json` prints (the rules
    /// and door policies; a bare array is the rules alone) — in force, whole, from `from` (a
    /// local date `YYYY-MM-DD`, or an instant whose local day it starts on; default today),
    /// which must be today or later and after the newest version's first day. Refused when it
    /// does not parse, or would leave a type of credential without a rule. Audited; published
    /// with the next bundle.
    pub fn set_rules(
        &mut self,
        json: &str,
        from: Option<&str>,
        now: Timestamp,
    ) -> Result<RulesVersion, IssuerError> {
        self.vault()?;
        let file = RulesFile::parse(json).map_err(|e| InputError::field("rules", e))?;
        check_version(&file)?;
        let today = self.local_day(now)?;
        let from = match from {
            None => today.clone(),
            Some(text) => self.day_of(text)?,
        };
        if from < today {
            return Err(InputError::field(
                "--from",
                format!("{from} is before today ({today}): rules do not change the past"),
            )
            .into());
        }
        let versions = self.rule_versions()?;
        let newest = versions
            .last()
            .ok_or(StoreError::Corrupt("no version of the rules"))?;
        if from <= newest.effective_from {
            return Err(InputError::field(
                "--from",
                format!(
                    "version {} starts on {}: a new version starts after it",
                    newest.version, newest.effective_from
                ),
            )
            .into());
        }
        let version = RulesVersion {
            version: newest.version + 1,
            effective_from: from,
            rules: file.rules.clone(),
            policies: file.policies.clone(),
        };
        // The whole set, checked as verifiers will read it.
        Rules::new(with_version(self.rule_set()?, &version))
            .map_err(|e| InputError::field("rules", e))?;
        let stored = RuleVersion {
            version: version.version,
            effective_from: version.effective_from.clone(),
            rules: serde_json::to_string(&file).map_err(|e| InputError::field("rules", e))?,
            created_at: now,
        };
        self.in_transaction(|issuer| {
            issuer.store.insert_rule_version(&stored)?;
            issuer.prove(Row::Rules(stored.version))?;
            issuer.audit(
                now,
                AuditOp::Rules,
                &format!(
                    "rules version {}, in force from {}",
                    stored.version, stored.effective_from
                ),
            )
        })?;
        Ok(version)
    }

    /// The local day of `at` in the jurisdiction (`YYYY-MM-DD`).
    fn local_day(&self, at: Timestamp) -> Result<String, IssuerError> {
        let tz = jiff::tz::TimeZone::get(&self.settings.time_zone)
            .map_err(|e| InputError::field("the issuer's time zone", e))?;
        let zoned = jiff::Timestamp::from_second(at.unix())
            .map_err(|e| InputError::field("time", e))?
            .to_zoned(tz);
        Ok(zoned.date().to_string())
    }

    /// A local date given as `YYYY-MM-DD`, or the local day of an RFC 3339 instant.
    fn day_of(&self, text: &str) -> Result<String, IssuerError> {
        if let Ok(date) = text.parse::<jiff::civil::Date>() {
            return Ok(date.to_string());
        }
        let at: Timestamp = text.parse().map_err(|_| {
            InputError::field(
                "--from",
                "a local date (YYYY-MM-DD) or an instant (RFC 3339)",
            )
        })?;
        self.local_day(at)
    }
}
