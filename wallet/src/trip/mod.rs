//! A trip check for the traveller: each credential the wallet holds judged offline as the
//! destination would judge it on the day of travel — by the destination's own Propusk rules
//! and door policies when the wallet trusts that jurisdiction's root (its own or another), else
//! by the EU business rules the trust data carries for that country (CertLogic, on the EU twin
//! or a foreign EU certificate) — with the failing rules named, the form to show there, and a
//! warning for a credential that ends before the return.

mod policy;
mod words;

use propusk_eudcc::rules::{self, RuleResult};
use propusk_spec::{CredentialId, CredentialType, Timestamp};
use propusk_trust_list::{Bundle, Reason, Verdict};
use propusk_verifier::UnknownPolicy;
use serde::Serialize;

use crate::{Entry, entries_among, id_of};

pub use policy::{NotCounted, TripPolicy};
pub use words::trip_words;

/// What the traveller asks: where, when, back when, whose credentials, and by which door
/// policy of the destination (a Propusk jurisdiction's) when one is named.
#[derive(Debug, Clone, Copy)]
pub struct TripQuery<'a> {
    /// The destination (ISO 3166-1 alpha-2, any case).
    pub to: &'a str,
    /// The moment judged: the day of travel.
    pub on: Timestamp,
    /// The return, when given.
    pub back: Option<Timestamp>,
    /// Only the person whose name contains this (any case).
    pub person: Option<&'a str>,
    /// The destination's door policy to judge by.
    pub policy: Option<&'a str>,
}

/// What judges the trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TripRules {
    /// The destination's Propusk rules and door policies (the wallet trusts its root).
    Propusk,
    /// The destination's EU business rules, as many as the trust data carries.
    Eu {
        /// How many rules the country published.
        count: usize,
    },
    /// No rules are known for the destination: nothing can be said (never valid).
    None,
}

/// Which form of a credential to show at the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TripForm {
    /// The Propusk QR.
    Own,
    /// The EU DCC QR (`HC1:`), or its printed travel page.
    Hc1,
}

/// A rule the credential failed (or that could not be evaluated on it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRule {
    /// Its identifier (`VR-EU-0002`).
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its description in English.
    pub en: String,
    /// Its description in Russian (in English when the country gave none).
    pub ru: String,
    /// Why it could not be evaluated, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
}

/// One credential judged for the trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TripCheck {
    /// The credential's id in the wallet.
    pub id: CredentialId,
    /// Its type.
    #[serde(rename = "type")]
    pub credential_type: CredentialType,
    /// The holder's name.
    pub name: String,
    /// The form judged, and to show.
    pub form: TripForm,
    /// `valid` when the destination's rules accept it that day.
    pub verdict: Verdict,
    /// Why not, when not valid and no rule names it.
    pub reason: Option<Reason>,
    /// The rules it failed.
    pub failed_rules: Vec<FailedRule>,
    /// What the door policy named says of it, when it changed its verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Until when it is valid (by the home rules and its own expiry).
    pub valid_until: Timestamp,
    /// It ends before the return date.
    pub ends_before_return: bool,
}

/// The trip check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trip {
    /// The destination (ISO 3166-1 alpha-2).
    pub to: String,
    /// The moment judged: the day of travel.
    pub on: Timestamp,
    /// The return, when given.
    pub back: Option<Timestamp>,
    /// What judged it.
    pub rules: TripRules,
    /// For Propusk rules: the destination is the wallet's home (its own root's).
    pub home: bool,
    /// The door policy named, which decides the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// For Propusk rules: each door policy in force there on the day, applied to what each
    /// person holds.
    pub policies: Vec<TripPolicy>,
    /// Every credential of the person, judged.
    pub checks: Vec<TripCheck>,
    /// The one to show there: valid, and valid the longest.
    pub show: Option<CredentialId>,
}

impl Trip {
    /// The trip's answer: `valid` when a credential would be accepted there (under the door
    /// policy named, when one is); `unknown` when no rules are known, or none is accepted but
    /// one could not be judged; else `invalid`.
    pub fn verdict(&self) -> Verdict {
        match (&self.rules, self.show) {
            (TripRules::None, _) => Verdict::Unknown,
            (_, Some(_)) => Verdict::Valid,
            _ if self.checks.iter().any(|c| c.verdict == Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Invalid,
        }
    }
}

/// Judges the wallet's credentials (`texts`) for a trip as `query` asks. `trust` is the trust
/// data of every root the wallet trusts, its own first (without any, no rules are known). A
/// door policy named that the destination does not have is refused.
/// `notes` are the holder's notes of their name (credential id, name), see
/// [`crate::with_notes`].
pub fn trip(
    texts: &[String],
    notes: &[(String, String)],
    trust: &[&Bundle],
    query: &TripQuery<'_>,
) -> Result<Trip, UnknownPolicy> {
    let to = query.to.to_ascii_uppercase();
    let (on, back) = (query.on, query.back);
    // The trust data as it stands, taken to hold on the day: a trip weeks ahead is judged by
    // today's rules and keys, not refused because the data will be old by then.
    let trust: Vec<Bundle> = trust
        .iter()
        .map(|b| {
            let mut content = b.content().clone();
            content.soft_expiry = content.soft_expiry.max(on.unix() + 1);
            content.hard_expiry = content.hard_expiry.max(on.unix() + 1);
            Bundle::from_content(content).unwrap_or_else(|_| (*b).clone())
        })
        .collect();
    // The destination's own root, when the wallet trusts one: its rules and keys come first.
    let there = trust
        .iter()
        .position(|b| b.content().jurisdiction.eq_ignore_ascii_case(&to));
    let first = there.or((!trust.is_empty()).then_some(0));
    let home = first.and_then(|i| trust.get(i));
    let others: Vec<&Bundle> = trust
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != first)
        .map(|(_, b)| b)
        .collect();
    let judged = crate::with_notes(entries_among(texts, home, &others, on), notes);
    let held = crate::choose::of_person(judged, query.person);
    let eu_rules = trust
        .iter()
        .find_map(|b| b.content().eu.rules_of(&to))
        .and_then(|json| rules::EuRule::parse_file(json.as_bytes()).ok());
    let ends = |e: &Entry| back.is_some_and(|b| e.valid_until < b);
    let ids: Vec<Option<CredentialId>> = texts.iter().map(|t| id_of(t)).collect();
    let text_of = |e: &Entry| {
        let at = ids.iter().position(|id| *id == Some(e.id))?;
        texts.get(at)
    };
    // The form an entry is in: an EU certificate's text begins `HC1:`.
    let form_of = |e: &Entry| match text_of(e).is_some_and(|t| t.starts_with(propusk_eudcc::PREFIX))
    {
        true => TripForm::Hc1,
        false => TripForm::Own,
    };
    let base = |e: &Entry, form| TripCheck {
        id: e.id,
        credential_type: e.credential_type,
        name: e.name.clone(),
        form,
        verdict: e.verdict,
        reason: e.reason,
        failed_rules: Vec::new(),
        detail: None,
        valid_until: e.valid_until,
        ends_before_return: ends(e),
    };
    let mut trip = Trip {
        to: to.clone(),
        on,
        back,
        rules: TripRules::None,
        home: there == Some(0),
        policy: None,
        policies: Vec::new(),
        checks: Vec::new(),
        show: None,
    };
    match (there.and(home), eu_rules, home) {
        (Some(dest), _, _) => {
            trip.rules = TripRules::Propusk;
            trip.checks = held
                .iter()
                .filter(|e| e.twin_of.is_none() || !held.iter().any(|o| Some(o.id) == e.twin_of))
                .map(|e| base(e, form_of(e)))
                .collect();
            let judged = policy::Judged {
                home: dest,
                others: &others,
                texts,
                ids: &ids,
                held: &held,
                on,
            };
            judged.policies(&mut trip, query.policy)?;
        }
        (None, Some(rules), Some(bundle)) => {
            let sets = propusk_verifier::value_sets(&[&bundle.content().eu]);
            trip.checks = held
                .iter()
                .filter(|e| e.eu_twin.is_none())
                .map(|e| match (form_of(e), text_of(e)) {
                    (TripForm::Hc1, Some(text)) => {
                        eu_check(base(e, TripForm::Hc1), text, &sets, &rules, &to, on)
                    }
                    _ => TripCheck {
                        verdict: Verdict::Unknown,
                        reason: None,
                        ..base(e, TripForm::Own)
                    },
                })
                .collect();
            trip.rules = TripRules::Eu { count: rules.len() };
        }
        _ => {
            trip.checks = held
                .iter()
                .filter(|e| e.eu_twin.is_none())
                .map(|e| TripCheck {
                    verdict: Verdict::Unknown,
                    reason: None,
                    ..base(e, form_of(e))
                })
                .collect();
        }
    }
    if let (Some(name), TripRules::Eu { .. } | TripRules::None) = (query.policy, &trip.rules) {
        return Err(UnknownPolicy {
            name: name.to_owned(),
            known: Vec::new(),
        });
    }
    trip.show = trip
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Valid)
        .max_by_key(|c| c.valid_until)
        .map(|c| c.id);
    Ok(trip)
}

/// An EU certificate judged by the destination's EU rules on the day: first as an EU verifier
/// would check it (signature, expiry, revocation lists), then by each rule in force.
fn eu_check(
    mut check: TripCheck,
    text: &str,
    sets: &propusk_eudcc::valuesets::ValueSets,
    all: &[rules::EuRule],
    to: &str,
    on: Timestamp,
) -> TripCheck {
    let Ok(hc1) = propusk_eudcc::decode(text) else {
        check.verdict = Verdict::Invalid;
        check.reason = Some(Reason::Corrupt);
        return check;
    };
    if check.verdict != Verdict::Valid {
        return check;
    }
    let issuer_country = hc1.issuer.clone().unwrap_or_default();
    let chosen = rules::rules_for(all, to, &issuer_country, hc1.kind, on.unix());
    let data = rules::rule_data(&hc1, to, on.unix(), sets);
    for result in rules::check(&chosen, &data) {
        let open = match result.result {
            RuleResult::Passed => continue,
            RuleResult::Failed => None,
            RuleResult::Open(why) => Some(why),
        };
        check.failed_rules.push(FailedRule {
            id: result.rule.identifier.clone(),
            version: result.rule.version.clone(),
            en: result.rule.description("en").to_owned(),
            ru: result.rule.description("ru").to_owned(),
            open,
        });
    }
    if !check.failed_rules.is_empty() {
        check.verdict = Verdict::Invalid;
        check.reason = Some(Reason::RuleFailed);
    }
    check
}

#[cfg(feature = "store")]
impl crate::Wallet {
    /// [`trip`] over the wallet's credentials and the trust data of every root it trusts.
    pub fn trip(&self, query: &TripQuery<'_>) -> Result<Trip, crate::WalletError> {
        let bundles = self.bundles()?;
        let trust: Vec<&Bundle> = bundles.iter().collect();
        Ok(trip(&self.texts()?, &self.store.names()?, &trust, query)?)
    }
}
