//! A trip check for the traveller: each credential the wallet holds judged offline as the
//! destination would judge it on the day of travel — by the destination's own Propusk rules
//! when the wallet's trust data is that jurisdiction's, else by the EU business rules the trust
//! data carries for that country (CertLogic, on the EU twin or a foreign EU certificate) —
//! with the failing rules named, the form to show there, and a warning for a credential that
//! ends before the return.

use propusk_eudcc::rules::{self, RuleResult};
use propusk_spec::{CredentialId, CredentialType, Timestamp};
use propusk_trust_list::{Bundle, Lang, Locale, Reason, Verdict, words};
use serde::Serialize;

use crate::{Entry, entries, id_of};

/// What judges the trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TripRules {
    /// The destination's Propusk rules (the wallet's trust data is its jurisdiction's).
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
    /// Every credential of the person, judged.
    pub checks: Vec<TripCheck>,
    /// The one to show there: valid, and valid the longest.
    pub show: Option<CredentialId>,
}

impl Trip {
    /// The trip's answer: `valid` when a credential would be accepted there; `unknown` when no
    /// rules are known, or none is accepted but one could not be judged; else `invalid`.
    pub fn verdict(&self) -> Verdict {
        match (&self.rules, self.show) {
            (TripRules::None, _) => Verdict::Unknown,
            (_, Some(_)) => Verdict::Valid,
            _ if self.checks.iter().any(|c| c.verdict == Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Invalid,
        }
    }
}

/// Judges the wallet's credentials (`texts`) for a trip to `to` at `on`, returning at `back`
/// when given, of the person whose name contains `person` when given. `bundle` is the wallet's
/// trust data (without it no rules are known).
pub fn trip(
    texts: &[String],
    bundle: Option<&Bundle>,
    to: &str,
    on: Timestamp,
    back: Option<Timestamp>,
    person: Option<&str>,
) -> Trip {
    let to = to.to_ascii_uppercase();
    // The trust data as it stands, taken to hold on the day: a trip weeks ahead is judged by
    // today's rules and keys, not refused because the data will be old by then.
    let on_the_day = bundle.and_then(|b| {
        let mut content = b.content().clone();
        content.soft_expiry = content.soft_expiry.max(on.unix() + 1);
        content.hard_expiry = content.hard_expiry.max(on.unix() + 1);
        Bundle::from_content(content).ok()
    });
    let bundle = on_the_day.as_ref().or(bundle);
    let held = crate::choose::of_person(entries(texts, bundle, on), person);
    let home = bundle.filter(|b| b.content().jurisdiction.eq_ignore_ascii_case(&to));
    let eu_rules = bundle
        .and_then(|b| b.content().eu.rules_of(&to))
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
        valid_until: e.valid_until,
        ends_before_return: ends(e),
    };
    let (rules_known, checks): (TripRules, Vec<TripCheck>) = match (home, eu_rules, bundle) {
        (Some(_), _, _) => (
            TripRules::Propusk,
            held.iter()
                .filter(|e| e.twin_of.is_none() || !held.iter().any(|o| Some(o.id) == e.twin_of))
                .map(|e| base(e, form_of(e)))
                .collect(),
        ),
        (None, Some(rules), Some(bundle)) => {
            let sets = propusk_verifier::value_sets(&[&bundle.content().eu]);
            let checks = held
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
            (TripRules::Eu { count: rules.len() }, checks)
        }
        _ => (
            TripRules::None,
            held.iter()
                .filter(|e| e.eu_twin.is_none())
                .map(|e| TripCheck {
                    verdict: Verdict::Unknown,
                    reason: None,
                    ..base(e, form_of(e))
                })
                .collect(),
        ),
    };
    let show = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Valid)
        .max_by_key(|c| c.valid_until)
        .map(|c| c.id);
    Trip {
        to,
        on,
        back,
        rules: rules_known,
        checks,
        show,
    }
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

/// The check in words, a line each, in the locale's language (a failing rule in Russian and
/// English both).
pub fn trip_words(trip: &Trip, locale: &Locale) -> Vec<String> {
    let ru = locale.lang == Lang::Ru;
    let country = if ru {
        propusk_eudcc::valuesets::country_ru(&trip.to)
    } else {
        propusk_eudcc::valuesets::country(&trip.to)
    }
    .unwrap_or(&trip.to);
    // The day, as the traveller gave it (judged at its noon UTC).
    let when = trip
        .on
        .date()
        .map_or_else(|| locale.time(trip.on), |d| locale.date(d));
    let mut out = match (&trip.rules, ru) {
        (TripRules::Propusk, false) => {
            format!("trip to {country} on {when}: judged by its own rules\n")
        }
        (TripRules::Propusk, true) => {
            format!("поездка: {country}, {when}; по её собственным правилам\n")
        }
        (TripRules::Eu { count }, false) => {
            format!(
                "trip to {country} on {when}: judged by the EU business rules it published ({count})\n"
            )
        }
        (TripRules::Eu { count }, true) => {
            format!("поездка: {country}, {when}; по её правилам ЕС ({count})\n")
        }
        (TripRules::None, false) => {
            format!(
                "no rules known for {} ({country}): the wallet cannot tell (unknown)\n",
                trip.to
            )
        }
        (TripRules::None, true) => format!(
            "правила для {} ({country}) неизвестны: кошелёк не может сказать (неизвестно)\n",
            trip.to
        ),
    };
    for c in &trip.checks {
        let kind = words::credential_type(c.credential_type, locale.lang);
        let form = match (c.form, ru) {
            (TripForm::Own, false) => "Propusk QR",
            (TripForm::Own, true) => "QR Пропуска",
            (TripForm::Hc1, false) => "EU QR (HC1)",
            (TripForm::Hc1, true) => "QR ЕС (HC1)",
        };
        let verdict = words::verdict(c.verdict, locale.lang);
        let reason = c
            .reason
            .filter(|_| c.failed_rules.is_empty())
            .map(|r| format!(": {}", words::reason(r, locale.lang)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {kind} {} ({}, {form}): {verdict}{reason}\n",
            c.id, c.name
        ));
        for rule in &c.failed_rules {
            let version = &rule.version;
            out.push_str(&format!(
                "    правило {} ({version}) не выполнено: {}\n    rule {} ({version}) failed: {}\n",
                rule.id, rule.ru, rule.id, rule.en
            ));
            if let Some(why) = &rule.open {
                out.push_str(&format!("    ({why})\n"));
            }
        }
        if matches!(trip.rules, TripRules::Eu { .. }) && c.form == TripForm::Own {
            out.push_str(match ru {
                false => "    no EU twin: EU rules judge the EU DCC; ask the issuer for one\n",
                true => "    нет EU DCC: правила ЕС проверяют EU DCC; попросите его у выдавшего\n",
            });
        }
        if c.ends_before_return {
            let until = locale.time(c.valid_until);
            out.push_str(&match ru {
                false => format!("    ends before the return: valid until {until}\n"),
                true => format!("    истекает до возвращения: действителен до {until}\n"),
            });
        }
    }
    let shown = trip
        .show
        .and_then(|id| trip.checks.iter().find(|c| c.id == id));
    out.push_str(&match (shown, ru) {
        (Some(c), false) => match c.form {
            TripForm::Own => format!("show there: {} (its Propusk QR)\n", c.id),
            TripForm::Hc1 => format!(
                "show there: {} (its EU QR, or the printed travel page: propusk wallet export {} --pdf FILE)\n",
                c.id, c.id
            ),
        },
        (Some(c), true) => match c.form {
            TripForm::Own => format!("предъявите там: {} (QR Пропуска)\n", c.id),
            TripForm::Hc1 => format!(
                "предъявите там: {} (QR ЕС или распечатанную страницу для поездок: propusk wallet export {} --pdf ФАЙЛ)\n",
                c.id, c.id
            ),
        },
        (None, false) if trip.rules != TripRules::None => "none would be accepted there\n".to_owned(),
        (None, true) if trip.rules != TripRules::None => "там не был бы принят ни один документ\n".to_owned(),
        (None, _) => String::new(),
    });
    out.lines().map(str::to_owned).collect()
}

#[cfg(feature = "store")]
impl crate::Wallet {
    /// [`trip`] over the wallet's credentials and trust data.
    pub fn trip(
        &self,
        to: &str,
        on: Timestamp,
        back: Option<Timestamp>,
        person: Option<&str>,
    ) -> Result<Trip, crate::WalletError> {
        let bundle = self.bundle()?;
        Ok(trip(&self.texts()?, bundle.as_ref(), to, on, back, person))
    }
}
