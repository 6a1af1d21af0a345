//! A door's choices across scans: the door policy it judges by, and what one holder showed
//! that the policy found incomplete, waiting for the same holder's next code.

use propusk_spec::Timestamp;
use propusk_trust_list::{Reason, Report, TrustState, Verdict};

use super::Session;

/// How long a door waits, after an incomplete verdict, for the same holder's next code.
pub const TOGETHER_S: i64 = 60;

/// A door policy the trust data in force does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no door policy {name}: the rules in force have {}", if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
pub struct UnknownPolicy {
    /// The name asked for.
    pub name: String,
    /// The policies the rules in force have.
    pub known: Vec<String>,
}

impl Session {
    /// The session judging by the door policy `name` of the rules in force: every verdict names
    /// it, and what one holder shows must together meet one of its alternatives. Refused when
    /// the rules in force have no such policy.
    pub fn with_policy(mut self, name: &str) -> Result<Self, UnknownPolicy> {
        self.choose_policy(Some(name))?;
        Ok(self)
    }

    /// Chooses the door policy of a long-lived session (`None`: none); an unknown name is
    /// refused and changes nothing.
    pub fn choose_policy(&mut self, name: Option<&str>) -> Result<(), UnknownPolicy> {
        let Some(name) = name else {
            self.policy = None;
            return Ok(());
        };
        let known = self.policies();
        if !known.iter().any(|k| k == name) {
            return Err(UnknownPolicy {
                name: name.to_owned(),
                known,
            });
        }
        self.policy = Some(name.to_owned());
        Ok(())
    }

    /// The names of the door policies of the rules in force.
    pub fn policies(&self) -> Vec<String> {
        let at = self.at();
        self.bundle
            .as_ref()
            .map(|b| {
                b.rules()
                    .policies(at)
                    .iter()
                    .map(|p| p.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The policy chosen, applied to the reports of what one holder showed.
    pub(super) fn apply_policy(&self, reports: &mut [Report], at: Timestamp) {
        let (Some(name), Some(home)) = (&self.policy, &self.bundle) else {
            return;
        };
        if let Some(policy) = home.rules().policy(name, at) {
            policy.apply(reports, at);
        }
    }

    /// A door's next scan: judged on its own, or — when the door's policy found what the holder
    /// showed just before incomplete (an exemption waiting for its test), less than
    /// [`TOGETHER_S`] ago — together with it, unless it is another person's (then it is the
    /// next person's, judged on its own).
    pub fn verify_next(&mut self, text: String) -> Report {
        let at = self.at();
        let earlier = self
            .waiting
            .take()
            .filter(|(_, since)| self.policy.is_some() && at.unix() - since.unix() <= TOGETHER_S);
        let together = earlier.and_then(|(mut texts, _)| {
            texts.push(text.clone());
            let reports = self.verify(&texts);
            let one = !reports
                .iter()
                .any(|r| r.reason == Some(Reason::HolderMismatch));
            one.then_some((texts, reports))
        });
        let (texts, mut reports) = together.unwrap_or_else(|| {
            let texts = vec![text];
            let reports = self.verify(&texts);
            (texts, reports)
        });
        let report = reports
            .pop()
            .unwrap_or_else(|| Report::blank(TrustState::Missing));
        if report.verdict == Verdict::Incomplete {
            self.waiting = Some((texts, at));
        }
        report
    }
}
