//! The destination's door policies applied to what each person holds, as its door would judge
//! the holder showing every credential they have in the Propusk form.

use propusk_spec::{CredentialId, CredentialType, Timestamp};
use propusk_trust_list::{Bundle, Reason, Verdict, check_among};
use propusk_verifier::UnknownPolicy;
use serde::Serialize;

use super::{Trip, TripForm};
use crate::Entry;

/// A door policy of the destination, applied to one person's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TripPolicy {
    /// The policy's name.
    pub name: String,
    /// Whose credentials: the holder's name.
    pub person: String,
    /// One of its alternatives is met: the holder is admitted.
    pub admitted: bool,
    /// The credentials that admit the holder together.
    pub show: Vec<CredentialId>,
    /// When not admitted: what the nearest alternative needs besides.
    pub needs: Vec<CredentialType>,
    /// The holder's credentials that do not count there.
    pub refused: Vec<NotCounted>,
}

/// A credential a door policy does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCounted {
    /// The credential.
    pub id: CredentialId,
    /// Why, in the policy's words (English).
    pub why: String,
}

/// What the destination judges the held credentials with.
pub(super) struct Judged<'a> {
    /// The destination's trust data.
    pub(super) home: &'a Bundle,
    /// The other roots' trust data.
    pub(super) others: &'a [&'a Bundle],
    /// The wallet's texts, and the id of each.
    pub(super) texts: &'a [String],
    pub(super) ids: &'a [Option<CredentialId>],
    /// The entries judged (of the person asked for).
    pub(super) held: &'a [Entry],
    /// The day.
    pub(super) on: Timestamp,
}

impl Judged<'_> {
    /// Every door policy in force at the destination on the day, applied to each person's
    /// credentials (`trip.policies`); the one named (`chosen`) also decides each credential's
    /// verdict. A name the destination has no policy of is refused.
    pub(super) fn policies(
        &self,
        trip: &mut Trip,
        chosen: Option<&str>,
    ) -> Result<(), UnknownPolicy> {
        let policies = self.home.rules().policies(self.on);
        if let Some(name) = chosen
            && !policies.iter().any(|p| p.name == name)
        {
            return Err(UnknownPolicy {
                name: name.to_owned(),
                known: policies.iter().map(|p| p.name.clone()).collect(),
            });
        }
        trip.policy = chosen.map(str::to_owned);
        let own_form: Vec<(&Entry, &str)> = self
            .held
            .iter()
            .filter(|e| {
                trip.checks
                    .iter()
                    .any(|c| c.id == e.id && c.form == TripForm::Own)
            })
            .filter_map(|e| Some((e, self.text_of(e.id)?)))
            .collect();
        let mut people: Vec<&str> = own_form.iter().map(|(e, _)| e.person.as_str()).collect();
        people.dedup();
        people.sort_unstable();
        people.dedup();
        for person in people {
            let (entries, texts): (Vec<&Entry>, Vec<&str>) = own_form
                .iter()
                .filter(|(e, _)| e.person == person)
                .copied()
                .unzip();
            let reports = check_among(Some(self.home), self.others, &texts, self.on);
            for policy in &policies {
                let mut judged = reports.clone();
                policy.apply(&mut judged, self.on);
                let valid = |r: &&propusk_trust_list::Report| r.verdict == Verdict::Valid;
                let admitted = judged.iter().any(|r| valid(&r));
                let refused = judged
                    .iter()
                    .filter(|r| r.reason == Some(Reason::NotAdmitted))
                    .filter_map(|r| {
                        Some(NotCounted {
                            id: r.id?,
                            why: r.detail.clone().unwrap_or_default(),
                        })
                    })
                    .collect();
                trip.policies.push(TripPolicy {
                    name: policy.name.clone(),
                    person: entries.first().map(|e| e.name.clone()).unwrap_or_default(),
                    admitted,
                    show: judged.iter().filter(valid).filter_map(|r| r.id).collect(),
                    needs: match admitted {
                        true => Vec::new(),
                        false => judged
                            .iter()
                            .filter(|r| r.verdict == Verdict::Incomplete)
                            .map(|r| r.needs.clone())
                            .min_by_key(Vec::len)
                            .unwrap_or_default(),
                    },
                    refused,
                });
                if chosen != Some(policy.name.as_str()) {
                    continue;
                }
                for check in trip.checks.iter_mut() {
                    if let Some(r) = judged.iter().find(|r| r.id == Some(check.id)) {
                        check.verdict = r.verdict;
                        check.reason = r.reason;
                        check.detail = r.detail.clone().filter(|_| {
                            matches!(r.reason, Some(Reason::NotAdmitted | Reason::NeedsMore))
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn text_of(&self, id: CredentialId) -> Option<&str> {
        let at = self.ids.iter().position(|i| *i == Some(id))?;
        self.texts.get(at).map(String::as_str)
    }
}
