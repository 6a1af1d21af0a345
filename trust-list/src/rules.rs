//! The rule set: how long each kind of credential is honoured and from when, per jurisdiction,
//! evaluated in the jurisdiction's time zone. Rules are data: versioned, with an effective-from
//! date, in days and hours (never months).

use jiff::civil;
use jiff::tz::TimeZone;
use propusk_spec::{Body, Credential, CredentialType, Date, TestKind, TestResult, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::TrustError;
use crate::policy::{Policy, PolicyEntry};
use crate::reason::Reason;

/// One rule: what makes a credential of one type valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Rule {
    /// Valid from `wait_days` after the last dose of a full course until `valid_days` after it
    /// (local calendar days). A course is full when dose ≥ doses, or the product is listed as
    /// single-dose.
    Vaccination {
        /// Days after the dose before it counts.
        wait_days: u32,
        /// Days after the dose when it stops counting.
        valid_days: u32,
        /// Products whose first dose is a full course.
        single_dose_products: Vec<String>,
    },
    /// Valid from `wait_days` after the first positive test until `valid_days` after it.
    Recovery {
        /// Days after the first positive test before it counts.
        wait_days: u32,
        /// Days after the first positive test when it stops counting.
        valid_days: u32,
    },
    /// A negative test of this kind is valid for `valid_hours` from sampling.
    Test {
        /// PCR or rapid antigen.
        kind: TestKind,
        /// Hours from sampling.
        valid_hours: u32,
    },
    /// Valid over its own window, first to last day (local), at most `max_days` long.
    Exemption {
        /// Longest window honoured, in days.
        max_days: u32,
    },
    /// Valid over its own window, at most `max_hours` long.
    Pass {
        /// Longest window honoured, in hours.
        max_hours: u32,
    },
}

impl Rule {
    fn applies_to(&self, body: &Body) -> bool {
        match (self, body) {
            (Rule::Vaccination { .. }, Body::Vaccination(_))
            | (Rule::Recovery { .. }, Body::Recovery(_))
            | (Rule::Exemption { .. }, Body::Exemption(_))
            | (Rule::Pass { .. }, Body::Pass(_)) => true,
            (Rule::Test { kind, .. }, Body::Test(t)) => *kind == t.kind,
            _ => false,
        }
    }

    /// The credential type this rule is for.
    pub fn credential_type(&self) -> CredentialType {
        match self {
            Rule::Vaccination { .. } => CredentialType::Vaccination,
            Rule::Recovery { .. } => CredentialType::Recovery,
            Rule::Test { .. } => CredentialType::Test,
            Rule::Exemption { .. } => CredentialType::Exemption,
            Rule::Pass { .. } => CredentialType::Pass,
        }
    }
}

/// A rule and the local date from which it is in force. The entries that share a date are one
/// version of the rules: on a local day, the version with the latest date not after it is in
/// force, whole (a type it has no rule for has none, whatever earlier versions said).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEntry {
    /// First local day (`YYYY-MM-DD`) on which the rule is in force.
    pub effective_from: String,
    /// The rule.
    pub rule: Rule,
}

/// The rules of one jurisdiction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// Version of this rule set, raised on every change.
    pub version: u32,
    /// The jurisdiction (ISO 3166-1 alpha-2).
    pub jurisdiction: String,
    /// The jurisdiction's IANA time zone (`Europe/Moscow`).
    pub time_zone: String,
    /// The rules, by version (the entries of one `effective_from`); for a credential, the rule
    /// of the version in force on the local validation day that applies to it.
    pub rules: Vec<RuleEntry>,
    /// The door policies, by version as the rules are (absent from rule sets without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyEntry>,
}

/// Why the rule set refuses a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleFailure {
    /// No rule in force for this type.
    NoRule,
    /// A vaccination that is not the last dose of a full course.
    CourseIncomplete,
    /// A positive test is not a pass.
    PositiveTest,
    /// The credential's own window is longer than the rule allows.
    WindowTooLong,
    /// Not valid yet.
    NotYetValid,
    /// No longer valid.
    Expired,
}

impl RuleFailure {
    /// The reason a verifier reports.
    pub fn reason(self) -> Reason {
        match self {
            RuleFailure::NotYetValid => Reason::NotYetValid,
            RuleFailure::Expired => Reason::Expired,
            RuleFailure::NoRule
            | RuleFailure::CourseIncomplete
            | RuleFailure::PositiveTest
            | RuleFailure::WindowTooLong => Reason::RuleFailed,
        }
    }

    /// A few words on why, in English.
    pub fn why(self) -> &'static str {
        match self {
            RuleFailure::NoRule => "no rule for this type",
            RuleFailure::CourseIncomplete => "vaccination course not complete",
            RuleFailure::PositiveTest => "test result is positive",
            RuleFailure::WindowTooLong => "validity window longer than the rules allow",
            RuleFailure::NotYetValid => "not valid yet under the rules",
            RuleFailure::Expired => "validity period under the rules has ended",
        }
    }
}

/// The rule set's judgement of one credential at one time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleOutcome {
    /// Valid from (when a rule applied).
    pub valid_from: Option<Timestamp>,
    /// Valid until, exclusive (when a rule applied).
    pub valid_until: Option<Timestamp>,
    /// The judgement.
    pub result: Result<(), RuleFailure>,
    /// The first local day of the version of the rules that judged, when it is not the
    /// earliest version (a rule change decided).
    pub changed_since: Option<Date>,
}

/// A rule set ready to evaluate: its time zone resolved, its dates parsed.
#[derive(Clone, Debug)]
pub struct Rules {
    set: RuleSet,
    tz: TimeZone,
    effective: Vec<civil::Date>,
}

fn civil_date(d: Date) -> Option<civil::Date> {
    civil::Date::new(
        i16::try_from(d.year()).ok()?,
        d.month() as i8,
        d.day() as i8,
    )
    .ok()
}

impl Rules {
    /// Checks a rule set: its time zone must exist in the bundled time-zone database and its
    /// dates must parse.
    pub fn new(set: RuleSet) -> Result<Self, TrustError> {
        let tz = TimeZone::get(&set.time_zone)
            .map_err(|_| TrustError::TimeZone(set.time_zone.clone()))?;
        let effective = set
            .rules
            .iter()
            .map(|e| e.effective_from.parse::<civil::Date>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TrustError::Rules(format!("effective_from: {e}")))?;
        for p in &set.policies {
            let day = p
                .effective_from
                .parse::<civil::Date>()
                .map_err(|e| TrustError::Rules(format!("effective_from: {e}")))?;
            if !effective.contains(&day) {
                return Err(TrustError::Rules(format!(
                    "policy {} from {day}, a day no version of the rules starts on",
                    p.policy.name
                )));
            }
            if let Some(problem) = p.policy.problem() {
                return Err(TrustError::Rules(problem));
            }
        }
        Ok(Rules { set, tz, effective })
    }

    /// The rule set as data.
    pub fn set(&self) -> &RuleSet {
        &self.set
    }

    /// The start of the local day `days` after `date`, as an instant.
    /// The jurisdiction's time zone, in which the rules count days and people read times.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    fn local_day_start(&self, date: Date, days: u32) -> Option<Timestamp> {
        let day = civil_date(date)?
            .checked_add(jiff::Span::new().days(i64::from(days)))
            .ok()?;
        let zoned = day.to_zoned(self.tz.clone()).ok()?;
        Timestamp::from_unix(zoned.timestamp().as_second())
    }

    /// The local calendar date of an instant in the jurisdiction.
    fn local_date(&self, at: Timestamp) -> Option<civil::Date> {
        let ts = jiff::Timestamp::from_second(at.unix()).ok()?;
        Some(ts.to_zoned(self.tz.clone()).date())
    }

    /// The first local day of the version in force on the local day of `at`.
    fn version_on(&self, at: Timestamp) -> Option<civil::Date> {
        let today = self.local_date(at)?;
        self.effective.iter().copied().filter(|d| *d <= today).max()
    }

    /// The versions' first local days, in order: version 1 is the first.
    fn version_days(&self) -> Vec<civil::Date> {
        let mut days = self.effective.clone();
        days.sort_unstable();
        days.dedup();
        days
    }

    /// The version of the rules in force at `at`: its number (1 the first) and first local day
    /// (`YYYY-MM-DD`).
    pub fn version_at(&self, at: Timestamp) -> Option<(u32, String)> {
        let day = self.version_on(at)?;
        let n = self.version_days().iter().position(|d| *d == day)?;
        Some((u32::try_from(n + 1).ok()?, day.to_string()))
    }

    /// The next version after the one in force at `at`, when one is scheduled.
    pub fn next_version_at(&self, at: Timestamp) -> Option<(u32, String)> {
        let today = self.local_date(at)?;
        let days = self.version_days();
        let n = days.iter().position(|d| *d > today)?;
        Some((u32::try_from(n + 1).ok()?, days[n].to_string()))
    }

    /// The door policies of the version in force at `at`.
    pub fn policies(&self, at: Timestamp) -> Vec<&Policy> {
        let Some(version) = self.version_on(at) else {
            return Vec::new();
        };
        self.set
            .policies
            .iter()
            .filter(|p| p.effective_from.parse::<civil::Date>().ok() == Some(version))
            .map(|p| &p.policy)
            .collect()
    }

    /// The door policy of this name in force at `at`.
    pub fn policy(&self, name: &str, at: Timestamp) -> Option<&Policy> {
        self.policies(at).into_iter().find(|p| p.name == name)
    }

    /// The rules of the version in force at `at`.
    pub fn in_force(&self, at: Timestamp) -> Vec<&Rule> {
        let Some(version) = self.version_on(at) else {
            return Vec::new();
        };
        self.set
            .rules
            .iter()
            .zip(&self.effective)
            .filter(|(_, from)| **from == version)
            .map(|(e, _)| &e.rule)
            .collect()
    }

    /// The rule in force for this credential on the local day of `at`: the one of the version
    /// in force that applies to it.
    pub fn rule_for(&self, credential: &Credential, at: Timestamp) -> Option<&Rule> {
        self.rule_for_body(&credential.body, at)
    }

    fn rule_for_body(&self, body: &Body, at: Timestamp) -> Option<&Rule> {
        let version = self.version_on(at)?;
        self.set
            .rules
            .iter()
            .zip(&self.effective)
            .find(|(e, from)| **from == version && e.rule.applies_to(body))
            .map(|(e, _)| &e.rule)
    }

    /// The version in force at `at`, when it is not the earliest (a rule change).
    fn change_on(&self, at: Timestamp) -> Option<Date> {
        let version = self.version_on(at)?;
        let first = self.effective.iter().min()?;
        (version > *first).then(|| {
            Date::new(
                i32::from(version.year()),
                version.month() as u8,
                version.day() as u8,
            )
        })?
    }

    /// Judges a credential at `at`.
    pub fn evaluate(&self, credential: &Credential, at: Timestamp) -> RuleOutcome {
        self.evaluate_body(&credential.body, at)
    }

    /// Judges what a credential certifies at `at`, whoever issued it in whatever form (an EU
    /// certificate's entry read as a body: the door's rules judge every credential alike).
    pub fn evaluate_body(&self, body: &Body, at: Timestamp) -> RuleOutcome {
        let changed_since = self.change_on(at);
        let fail = |f| RuleOutcome {
            valid_from: None,
            valid_until: None,
            result: Err(f),
            changed_since,
        };
        let Some(rule) = self.rule_for_body(body, at) else {
            return fail(RuleFailure::NoRule);
        };
        let window = match (rule, body) {
            (
                Rule::Vaccination {
                    wait_days,
                    valid_days,
                    single_dose_products,
                },
                Body::Vaccination(v),
            ) => {
                let single = single_dose_products.iter().any(|p| p == v.product.code());
                if v.dose < v.doses && !single {
                    return fail(RuleFailure::CourseIncomplete);
                }
                (
                    self.local_day_start(v.date, *wait_days),
                    self.local_day_start(v.date, *valid_days),
                )
            }
            (
                Rule::Recovery {
                    wait_days,
                    valid_days,
                },
                Body::Recovery(r),
            ) => (
                self.local_day_start(r.first_positive, *wait_days),
                self.local_day_start(r.first_positive, *valid_days),
            ),
            (Rule::Test { valid_hours, .. }, Body::Test(t)) => {
                if t.result != TestResult::Negative {
                    return fail(RuleFailure::PositiveTest);
                }
                (
                    Some(t.sampled_at),
                    Some(t.sampled_at.plus_seconds(i64::from(*valid_hours) * 3600)),
                )
            }
            (Rule::Exemption { max_days }, Body::Exemption(e)) => {
                if e.valid_until.days() - e.valid_from.days() + 1 > i64::from(*max_days) {
                    return fail(RuleFailure::WindowTooLong);
                }
                (
                    self.local_day_start(e.valid_from, 0),
                    self.local_day_start(e.valid_until, 1),
                )
            }
            (Rule::Pass { max_hours }, Body::Pass(p)) => {
                if p.valid_until.unix() - p.valid_from.unix() > i64::from(*max_hours) * 3600 {
                    return fail(RuleFailure::WindowTooLong);
                }
                (Some(p.valid_from), Some(p.valid_until))
            }
            _ => return fail(RuleFailure::NoRule),
        };
        let (Some(from), Some(until)) = window else {
            return fail(RuleFailure::NoRule);
        };
        let result = if at < from {
            Err(RuleFailure::NotYetValid)
        } else if at >= until {
            Err(RuleFailure::Expired)
        } else {
            Ok(())
        };
        RuleOutcome {
            valid_from: Some(from),
            valid_until: Some(until),
            result,
            changed_since,
        }
    }
}

impl RuleSet {
    /// The rules of the design for a jurisdiction: vaccination 365 days from the last dose of a
    /// full course, recovery 180 days from the first positive test, PCR 72 hours, rapid antigen
    /// 48 hours, exemption up to 366 days, pass up to 24 hours; in force from 2020-01-01.
    pub fn standard(jurisdiction: &str, time_zone: &str) -> RuleSet {
        let entry = |rule| RuleEntry {
            effective_from: "2020-01-01".into(),
            rule,
        };
        RuleSet {
            version: 1,
            jurisdiction: jurisdiction.into(),
            time_zone: time_zone.into(),
            rules: vec![
                entry(Rule::Vaccination {
                    wait_days: 0,
                    valid_days: 365,
                    single_dose_products: ["EU/1/20/1525", "Sputnik-Light", "Convidecia"]
                        .map(String::from)
                        .to_vec(),
                }),
                entry(Rule::Recovery {
                    wait_days: 0,
                    valid_days: 180,
                }),
                entry(Rule::Test {
                    kind: TestKind::Pcr,
                    valid_hours: 72,
                }),
                entry(Rule::Test {
                    kind: TestKind::RapidAntigen,
                    valid_hours: 48,
                }),
                entry(Rule::Exemption { max_days: 366 }),
                entry(Rule::Pass { max_hours: 24 }),
            ],
            policies: Vec::new(),
        }
    }
}
