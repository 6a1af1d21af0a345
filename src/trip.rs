//! `propusk wallet trip`: the trip check in words (Russian or English) or JSON.

use propusk_spec::{Date, Timestamp};
use propusk_trust_list::{Lang, Locale, Verdict, words};
use propusk_wallet::{Trip, TripForm, TripRules, Wallet};

use crate::error::{CliError, EXIT_INVALID, EXIT_OK, EXIT_UNKNOWN};

/// A day (`2026-07-01`, at noon UTC: the middle of the day wherever the border is) or an
/// RFC 3339 time.
fn day(flag: &str, text: &str) -> Result<Timestamp, CliError> {
    if let Ok(date) = text.parse::<Date>() {
        return Ok(date.start().plus_seconds(12 * 3600));
    }
    text.parse().map_err(|_| {
        CliError::Usage(format!(
            "{flag}: {text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
        ))
    })
}

/// Runs the trip check and prints it; the exit code says whether a credential would be
/// accepted (0), none would (1), or no rules are known (2).
#[allow(clippy::too_many_arguments)]
pub fn run(
    wallet: &Wallet,
    to: &str,
    on: Option<&str>,
    back: Option<&str>,
    person: Option<&str>,
    json: bool,
    at: Timestamp,
    locale: &Locale,
) -> Result<u8, CliError> {
    if to.len() != 2 || !to.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(CliError::Usage(format!(
            "--to: {to:?} is not a two-letter country code"
        )));
    }
    let on = on.map(|t| day("--on", t)).transpose()?.unwrap_or(at);
    let back = back.map(|t| day("--back", t)).transpose()?;
    if back.is_some_and(|b| b < on) {
        return Err(CliError::Usage("--back is before --on".into()));
    }
    let trip = wallet.trip(to, on, back, person)?;
    let code = match (&trip.rules, trip.show) {
        (TripRules::None, _) => EXIT_UNKNOWN,
        (_, Some(_)) => EXIT_OK,
        (_, None) if trip.checks.iter().any(|c| c.verdict == Verdict::Unknown) => EXIT_UNKNOWN,
        (_, None) => EXIT_INVALID,
    };
    if json {
        println!("{}", crate::json(&trip, false));
    } else {
        print!("{}", words_of(&trip, locale));
    }
    Ok(code)
}

/// The check in words.
fn words_of(trip: &Trip, locale: &Locale) -> String {
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
            format!("trip to {country} on {when}: judged by its {count} EU business rules\n")
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
    out
}
