//! Door policies: which credentials of one holder together admit them at a door, named and
//! published with the rules (`{"name": "qr-regime", "admit": [["vaccination"], ["recovery"],
//! ["exemption", "test"]]}`). Applied to what one person showed, after each credential was
//! judged on its own and the holders cross-checked.

use propusk_spec::CredentialType;
use serde::{Deserialize, Serialize};

use crate::check::{Report, Verdict};
use crate::reason::Reason;

/// A door policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Its name, as a door chooses it (`verify --policy NAME`).
    pub name: String,
    /// The alternatives, each the set of credential types that together admit one holder.
    pub admit: Vec<Vec<CredentialType>>,
}

/// A policy and the local date from which it is in force (with the version of the rules of
/// that date: a version's policies are in force whole, as its rules are).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEntry {
    /// First local day (`YYYY-MM-DD`) on which the policy is in force.
    pub effective_from: String,
    /// The policy.
    pub policy: Policy,
}

impl Policy {
    /// Why the policy cannot be published, if it cannot: no name, no alternative, an empty
    /// alternative, or a type twice in one.
    pub fn problem(&self) -> Option<String> {
        if self.name.trim().is_empty() || self.name.chars().any(char::is_whitespace) {
            return Some(format!("policy name {:?}: one word, not empty", self.name));
        }
        if self.admit.is_empty() {
            return Some(format!("policy {}: admits nothing", self.name));
        }
        for alternative in &self.admit {
            let mut types = alternative.clone();
            types.sort_unstable();
            types.dedup();
            if alternative.is_empty() || types.len() != alternative.len() {
                return Some(format!(
                    "policy {}: an alternative is empty or names a type twice",
                    self.name
                ));
            }
        }
        None
    }

    /// Applies the policy to the reports of what one holder showed (each judged on its own,
    /// their holders checked to be one person). When an alternative is met by valid
    /// credentials, the valid ones stand. Otherwise each valid credential of a type some
    /// alternative names is `incomplete`, needing the rest of the alternative that needs the
    /// least; one of a type no alternative names is `invalid`, not admitted. Credentials that
    /// were not valid stay as they were. Every report names the policy.
    pub fn apply(&self, reports: &mut [Report]) {
        for r in reports.iter_mut() {
            r.policy = Some(self.name.clone());
        }
        let valid: Vec<CredentialType> = reports
            .iter()
            .filter(|r| r.verdict == Verdict::Valid)
            .filter_map(|r| r.credential_type)
            .collect();
        if self
            .admit
            .iter()
            .any(|a| a.iter().all(|t| valid.contains(t)))
        {
            return;
        }
        for r in reports.iter_mut().filter(|r| r.verdict == Verdict::Valid) {
            let Some(t) = r.credential_type else { continue };
            let missing = self
                .admit
                .iter()
                .filter(|a| a.contains(&t))
                .map(|a| {
                    a.iter()
                        .copied()
                        .filter(|n| !valid.contains(n))
                        .collect::<Vec<_>>()
                })
                .min_by_key(Vec::len);
            match missing {
                Some(needs) => {
                    let words: Vec<&str> = needs.iter().map(|n| n.as_str()).collect();
                    r.verdict = Verdict::Incomplete;
                    r.reason = Some(Reason::NeedsMore);
                    r.detail = Some(format!(
                        "policy {} needs also: {}",
                        self.name,
                        words.join(", ")
                    ));
                    r.needs = needs;
                }
                None => {
                    r.verdict = Verdict::Invalid;
                    r.reason = Some(Reason::NotAdmitted);
                    r.detail = Some(format!(
                        "policy {} does not admit a {}",
                        self.name,
                        t.as_str()
                    ));
                }
            }
        }
    }
}
