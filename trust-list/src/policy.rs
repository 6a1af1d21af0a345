//! Door policies: which credentials of one holder together admit them at a door, named and
//! published with the rules (`{"name": "qr-regime", "admit": [["vaccination"], ["recovery"],
//! ["exemption", "test"]]}`), as data; how a door applies one is `door.rs`.

use propusk_spec::CredentialType;
use serde::{Deserialize, Serialize};

/// A door policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Its name, as a door chooses it (`verify --policy NAME`).
    pub name: String,
    /// The alternatives, each the set of credential types that together admit one holder.
    pub admit: Vec<Vec<CredentialType>>,
    /// Holders younger than this many years (by the earliest birth day their recorded date of
    /// birth allows) need show nothing more than one genuine credential naming them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age_years: Option<u32>,
    /// A vaccination whose last dose is more than this many days old counts only as a booster
    /// (a dose beyond the course).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booster_after_days: Option<u32>,
    /// The vaccine products that count (EU value-set codes); absent: every product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
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
}
