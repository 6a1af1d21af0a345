//! The trip check in words, a line each, in Russian or English.

use propusk_trust_list::{Lang, Locale, words};

use super::{Trip, TripForm, TripRules};

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
        (TripRules::Propusk, false) => format!(
            "trip to {country} on {when}: judged by its own rules{}{}\n",
            trip.policy
                .as_ref()
                .map(|p| format!(" and door policy {p}"))
                .unwrap_or_default(),
            if trip.home {
                ""
            } else {
                " (its issuer's trust data, held by the wallet)"
            },
        ),
        (TripRules::Propusk, true) => format!(
            "поездка: {country}, {when}; по её собственным правилам{}{}\n",
            trip.policy
                .as_ref()
                .map(|p| format!(" и правилу входа {p}"))
                .unwrap_or_default(),
            if trip.home {
                ""
            } else {
                " (данные проверки её выдавшего, хранящиеся в кошельке)"
            },
        ),
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
        // The door policy's own words, in English only (as it published them).
        let reason = match (&c.detail, ru) {
            (Some(detail), false) => format!("{reason} ({detail})"),
            _ => reason,
        };
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
    policy_words(trip, locale, &mut out);
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
    if trip.policy.is_none() && !trip.policies.is_empty() {
        out.push_str(match ru {
            false => "its doors may ask more: --policy NAME judges by one of its door policies\n",
            true => {
                "на входе могут спросить больше: --policy ИМЯ проверяет по одному из правил входа\n"
            }
        });
    }
    out.lines().map(str::to_owned).collect()
}

/// A line for each door policy of the destination and person: admitted, with what; or what it
/// needs besides, and which credentials it does not count.
fn policy_words(trip: &Trip, locale: &Locale, out: &mut String) {
    let ru = locale.lang == Lang::Ru;
    let types = |ts: &[propusk_spec::CredentialType]| {
        ts.iter()
            .map(|t| words::credential_type(*t, locale.lang))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for p in &trip.policies {
        let ids = p.show.iter().map(ToString::to_string).collect::<Vec<_>>();
        let answer = match (p.admitted, ru) {
            (true, false) => format!("admitted with {}", ids.join(" and ")),
            (true, true) => format!("пропустят с {}", ids.join(" и ")),
            (false, false) if !p.needs.is_empty() => {
                format!("not admitted: needs also {}", types(&p.needs))
            }
            (false, true) if !p.needs.is_empty() => {
                format!("не пропустят: нужен также {}", types(&p.needs))
            }
            (false, false) => "not admitted".to_owned(),
            (false, true) => "не пропустят".to_owned(),
        };
        out.push_str(&match ru {
            false => format!("  door policy {} ({}): {answer}\n", p.name, p.person),
            true => format!("  правило входа {} ({}): {answer}\n", p.name, p.person),
        });
        // The policy named already said so of each credential.
        let refused = p
            .refused
            .iter()
            .filter(|_| trip.policy.as_ref() != Some(&p.name));
        for n in refused {
            out.push_str(&match ru {
                false => format!("    {} does not count: {}\n", n.id, n.why),
                true => format!("    {} не засчитывается на этом входе\n", n.id),
            });
        }
    }
}
