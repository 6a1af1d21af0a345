//! The traveller's wallet in the browser: the credentials kept on the device judged and chosen
//! by the wallet's own code (`propusk_wallet::entries` and `choose`, as `propusk wallet list`
//! and `best` do), and the printable PDF.

use propusk_spec::{BirthDate, Timestamp};
use propusk_trust_list::{Bundle, Lang, Locale, words};
use propusk_wallet::{Best, Entry, PrintContext, certificate_in, choose, entries_among, id_of};
use serde_json::{Value, json};

use crate::EngineError;

/// The holder's notes of their name kept with the codes: the request's `names`, one per text
/// (`null` where none), as (credential id, name).
pub(crate) fn notes(texts: &[String], header: &Value) -> Vec<(String, String)> {
    let names = header["names"].as_array().cloned().unwrap_or_default();
    texts
        .iter()
        .zip(names.iter())
        .filter_map(|(t, n)| Some((id_of(t)?.to_string(), n.as_str()?.to_owned())))
        .collect()
}

/// Every credential in `texts` as the wallet lists it (grouped by person, newest first), with
/// words in `lang` and the jurisdiction's time, and which one to show now. `trust`: every
/// root's trust data, the app's own first.
pub(crate) fn list(
    texts: &[String],
    notes: &[(String, String)],
    trust: &[&Bundle],
    at: Timestamp,
    lang: Lang,
) -> Value {
    let bundle = trust.first().copied();
    let locale = Locale {
        lang,
        tz: bundle.map_or(jiff::tz::TimeZone::UTC, |b| b.rules().time_zone().clone()),
    };
    let all = propusk_wallet::with_notes(
        entries_among(texts, bundle, trust.get(1..).unwrap_or_default(), at),
        notes,
    );
    let best = match choose(all.clone(), at, None, bundle.map(|b| b.content().issued_at)) {
        Best::Valid(e) => json!({"id": e.id.to_string(), "by_own_dates": false}),
        Best::ByOwnDates { best, .. } => json!({"id": best.id.to_string(), "by_own_dates": true}),
        Best::None(_) => Value::Null,
    };
    let ids: Vec<_> = texts.iter().map(|t| id_of(t)).collect();
    let shown: Vec<Value> = all
        .iter()
        .map(|e| {
            let text = ids
                .iter()
                .position(|id| *id == Some(e.id))
                .map(|i| texts[i].clone())
                .unwrap_or_default();
            entry(e, &locale, text)
        })
        .collect();
    json!({"entries": shown, "best": best})
}

fn entry(e: &Entry, locale: &Locale, text: String) -> Value {
    let lang = locale.lang;
    let birth = e
        .birth_date
        .parse::<BirthDate>()
        .map_or_else(|_| e.birth_date.clone(), |b| locale.birth_date(&b));
    let mut verdict = String::from(words::verdict(e.verdict, lang));
    if let Some(reason) = e.reason {
        verdict.push_str(": ");
        verdict.push_str(words::reason(reason, lang));
    }
    json!({
        "id": e.id.to_string(),
        "text": text,
        "type": e.credential_type.as_str(),
        "type_words": words::credential_type_title(e.credential_type, lang),
        "name": e.name,
        "birth_date": birth,
        "person": e.person,
        "verdict": e.verdict,
        "reason": e.reason,
        "verdict_words": verdict,
        "valid_until": locale.time(e.valid_until),
        "expiring_soon": e.expiring_soon,
        "eu_twin": e.eu_twin.map(|id| id.to_string()),
        "twin_of": e.twin_of.map(|id| id.to_string()),
    })
}

/// The trip check of the kept credentials (`to`, `on`, optional `back` and `policy` in the request,
/// times in Unix seconds; `on` defaults to now): the check, its words a line each, and the
/// verdict for the page (`valid` when one would be accepted there).
pub(crate) fn trip(
    texts: &[String],
    notes: &[(String, String)],
    trust: &[&Bundle],
    header: &Value,
    now: Timestamp,
    lang: Lang,
) -> Result<Value, EngineError> {
    let to = header["to"]
        .as_str()
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .ok_or(EngineError::Request("to: a two-letter country code"))?;
    let time = |key: &str| header[key].as_i64().and_then(Timestamp::from_unix);
    let on = time("on").unwrap_or(now);
    let bundle = trust.first();
    let locale = Locale {
        lang,
        tz: bundle.map_or(jiff::tz::TimeZone::UTC, |b| b.rules().time_zone().clone()),
    };
    let query = propusk_wallet::TripQuery {
        to,
        on,
        back: time("back"),
        person: None,
        policy: header["policy"].as_str().filter(|p| !p.is_empty()),
    };
    let checked = propusk_wallet::trip(texts, notes, trust, &query)
        .map_err(|e| EngineError::Policy(e.to_string()))?;
    Ok(json!({
        "verdict": checked.verdict(),
        "show": checked.show.map(|id| id.to_string()),
        "lines": propusk_wallet::trip_words(&checked, &locale),
        "trip": checked,
    }))
}

/// What printing `text` takes from the trust data, for the PDF module: the time zone and the
/// issuing authority.
pub(crate) fn context(text: &str, bundle: Option<&Bundle>) -> Value {
    let c = PrintContext::of(text, bundle);
    json!({"tz": c.tz, "issuer": c.issuer})
}

/// A [`context`] read back.
pub(crate) fn context_from(v: &Value) -> Result<PrintContext, EngineError> {
    let tz = v["tz"]
        .as_str()
        .ok_or(EngineError::Request("context: tz"))?
        .to_owned();
    let issuer = match (v["issuer"][0].as_str(), v["issuer"][1].as_str()) {
        (Some(name), Some(country)) => Some((name.to_owned(), country.to_owned())),
        _ => None,
    };
    // The holder's own note of their name, when the page kept one.
    let name = v["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Ok(PrintContext { tz, issuer, name })
}

/// The printable certificate of `text` (with its twin's travel page when `kept` holds it).
pub(crate) fn pdf(
    text: &str,
    kept: &[String],
    context: &PrintContext,
) -> Result<Vec<u8>, EngineError> {
    certificate_in(text, kept, context).map_err(|e| EngineError::Refused(e.to_string()))
}
