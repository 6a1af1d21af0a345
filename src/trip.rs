//! `propusk wallet trip`: the trip check in words (Russian or English) or JSON.

use propusk_spec::{Date, Timestamp};
use propusk_trust_list::{Locale, Verdict};
use propusk_wallet::Wallet;

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
    policy: Option<&str>,
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
    let query = propusk_wallet::TripQuery {
        to,
        on,
        back,
        person,
        policy,
    };
    let trip = match wallet.trip(&query) {
        Err(propusk_wallet::WalletError::Policy(e)) => {
            return Err(CliError::Usage(format!("--policy: {e}")));
        }
        other => other?,
    };
    let code = match trip.verdict() {
        Verdict::Valid => EXIT_OK,
        Verdict::Invalid => EXIT_INVALID,
        _ => EXIT_UNKNOWN,
    };
    if json {
        println!("{}", crate::json(&trip, false));
    } else {
        for line in propusk_wallet::trip_words(&trip, locale) {
            println!("{line}");
        }
    }
    Ok(code)
}
