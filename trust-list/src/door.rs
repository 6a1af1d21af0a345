//! A door policy applied to what one person showed, after each credential was judged on its own
//! and the holders cross-checked (spec/RULES.md, "Door policies").

use propusk_spec::{BirthDate, Body, CredentialType, Timestamp};

use crate::check::{CheckOutcome, Report, Verdict};
use crate::policy::Policy;
use crate::reason::Reason;

impl Policy {
    /// Applies the policy to the reports of what one holder showed (each judged on its own,
    /// their holders checked to be one person). When an alternative is met by valid
    /// credentials, the valid ones stand. Otherwise each valid credential of a type some
    /// alternative names is `incomplete`, needing the rest of the alternative that needs the
    /// least; one of a type no alternative names is `invalid`, not admitted. Credentials that
    /// were not valid stay as they were. Every report names the policy.
    pub fn apply(&self, reports: &mut [Report], at: Timestamp) {
        for r in reports.iter_mut() {
            r.policy = Some(self.name.clone());
        }
        // A vaccination the policy does not count (its product, or a course too old without a
        // booster) is not admitted, whatever else is shown.
        for r in reports.iter_mut().filter(|r| r.verdict == Verdict::Valid) {
            if let Some(why) = self.refuses(r, at) {
                r.verdict = Verdict::Invalid;
                r.reason = Some(Reason::NotAdmitted);
                r.detail = Some(format!("policy {}: {why}", self.name));
            }
        }
        if self.too_young(reports, at) {
            return;
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

    /// Why the policy does not count this valid credential, if it does not.
    fn refuses(&self, r: &Report, at: Timestamp) -> Option<&'static str> {
        let Some(Body::Vaccination(v)) = &r.body else {
            return None;
        };
        if let Some(products) = &self.products
            && !products.iter().any(|p| p == v.product.code())
        {
            return Some("its vaccine product does not count here");
        }
        if let Some(days) = self.booster_after_days
            && at.unix() - v.date.start().unix() > i64::from(days) * 86_400
            && v.dose <= v.doses
        {
            return Some("its course is older than the policy counts without a booster");
        }
        None
    }

    /// Whether the holder is younger than the policy asks credentials of: by the earliest day
    /// their recorded date of birth allows (a year alone: its first day), so that no one is let
    /// through on a guess.
    fn too_young(&self, reports: &[Report], at: Timestamp) -> bool {
        let (Some(years), Some(today)) = (self.min_age_years, at.date()) else {
            return false;
        };
        let born = reports
            .iter()
            .filter(|r| r.checks.signature == CheckOutcome::Ok)
            .filter_map(|r| r.holder.as_ref()?.birth_date.parse::<BirthDate>().ok())
            .map(|b| match b {
                BirthDate::Full(d) => (d.year(), d.month(), d.day()),
                BirthDate::YearMonth(y, m) => (i32::from(y), m, 1),
                BirthDate::Year(y) => (i32::from(y), 1, 1),
            })
            .min();
        let Some((y, m, d)) = born else {
            return false;
        };
        let mut age = today.year() - y;
        if (today.month(), today.day()) < (m, d) {
            age -= 1;
        }
        age < i32::try_from(years).unwrap_or(i32::MAX)
    }
}
