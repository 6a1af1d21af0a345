//! What a verifier shows: a JSON object per credential, or words for a person in Russian or
//! English. Only initials, date of birth and the masked document are ever shown of the holder.

use propusk_spec::Timestamp;
use propusk_trust_list::{CheckOutcome, Lang, Report, TrustState, Verdict, words};

use crate::store::SyncOutcome;
use serde_json::{Value, json};

/// The trust data's state and age at the validation time, as shown with each verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustView {
    /// Fresh, stale, expired or missing.
    pub state: TrustState,
    /// Seconds since the issuer made the bundle in force.
    pub age_s: Option<i64>,
}

/// The JSON object of `verify --json` for one credential.
pub fn to_json(r: &Report, trust: TrustView) -> Value {
    let check = |c: CheckOutcome| match c {
        CheckOutcome::Ok => "ok",
        CheckOutcome::Failed => "failed",
        CheckOutcome::Skipped => "skipped",
    };
    json!({
        "verdict": r.verdict,
        "reason": r.reason,
        "detail": r.detail,
        "type": r.credential_type.map(|t| t.as_str()),
        "id": r.id.map(|id| id.to_string()),
        "key_id": r.key_id.as_ref().map(|k| k.to_string()),
        "holder": r.holder,
        "valid_until": r.valid_until.map(|t| t.to_string()),
        "summary": r.summary,
        "checks": {
            "decode": check(r.checks.decode),
            "signature": check(r.checks.signature),
            "key_usage": check(r.checks.key_usage),
            "expiry": check(r.checks.expiry),
            "revocation": check(r.checks.revocation),
            "rules": check(r.checks.rules),
        },
        "trust_data": {"state": trust.state.as_str(), "age_s": trust.age_s},
    })
}

fn age_words(age_s: i64, lang: Lang) -> String {
    let (h, d) = (age_s / 3600, age_s / 86_400);
    match lang {
        Lang::En if d >= 2 => format!("{d} days old"),
        Lang::En => format!("{h} h old"),
        Lang::Ru if d >= 2 => format!("возраст {d} дн."),
        Lang::Ru => format!("возраст {h} ч"),
    }
}

fn time_words(t: Timestamp) -> String {
    let s = t.to_string();
    format!("{} {} UTC", &s[..10], s.get(11..16).unwrap_or(""))
}

impl std::fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncOutcome::Updated {
                from: Some(old),
                to,
            } => write!(f, "trust data updated: sequence {old} → {to}"),
            SyncOutcome::Updated { from: None, to } => {
                write!(f, "trust data in force: sequence {to}")
            }
            SyncOutcome::UpToDate(seq) => {
                write!(f, "trust data already up to date: sequence {seq}")
            }
        }
    }
}

/// What to say after a sync when the trust data in force is not fresh: stale (verdicts carry a
/// warning) or past its hard expiry (the verifier cannot tell).
pub fn freshness_warning(trust: TrustView) -> Option<String> {
    let age = trust.age_s.map_or_else(String::new, |a| {
        format!(" (made {} days ago)", a.div_euclid(86_400))
    });
    match trust.state {
        TrustState::Fresh => None,
        TrustState::Stale => Some(format!(
            "the trust data is stale{age}: the issuer has published nothing newer here; sync \
             again soon, verdicts carry a warning until then"
        )),
        TrustState::Expired | TrustState::Missing => Some(format!(
            "the trust data is past its hard expiry{age}: every check answers \"cannot tell\" \
             until newer trust data is synced"
        )),
    }
}

/// The reports as lines: one JSON object per report (`lang` `None`), or words for a person in
/// `lang`, each report's block ending in a newline.
pub fn render(reports: &[Report], trust: TrustView, lang: Option<Lang>) -> String {
    let mut out = String::new();
    for r in reports {
        let shown = match lang {
            None => to_json(r, trust).to_string(),
            Some(lang) => to_text(r, trust, lang),
        };
        out.push_str(shown.trim_end());
        out.push('\n');
    }
    out
}

/// Text from a credential as it may be shown on a terminal: control characters (escape
/// sequences a signed EU certificate may carry in its fields) become `�`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// Words for a person: the verdict first, then what to match against the ID document.
pub fn to_text(r: &Report, trust: TrustView, lang: Lang) -> String {
    let ru = lang == Lang::Ru;
    let mut out = String::from(words::verdict(r.verdict, lang));
    if let Some(t) = r.credential_type {
        out.push_str(" — ");
        out.push_str(words::credential_type(t, lang));
    }
    if let Some(reason) = r.reason {
        out.push_str(&format!(": {}", words::reason(reason, lang)));
    }
    out.push('\n');
    if let Some(h) = &r.holder {
        let (holder, born, doc) = if ru {
            ("владелец", "дата рождения", "документ")
        } else {
            ("holder", "born", "document")
        };
        // EU certificates carry no identity document.
        let doc = if h.document.is_empty() {
            String::new()
        } else {
            format!("   {doc} {}", printable(&h.document))
        };
        out.push_str(&format!(
            "  {holder}: {}   {born} {}{doc}\n",
            printable(&h.initials),
            printable(&h.birth_date)
        ));
    }
    if let Some(summary) = &r.summary {
        out.push_str(&format!("  {}\n", printable(summary)));
    }
    if let Some(until) = r.valid_until.filter(|_| r.verdict == Verdict::Valid) {
        out.push_str(&format!(
            "  {}: {}\n",
            if ru {
                "действителен до"
            } else {
                "valid until"
            },
            time_words(until)
        ));
    }
    let state = words::trust_state(trust.state, lang);
    let age = trust
        .age_s
        .map(|a| format!(", {}", age_words(a, lang)))
        .unwrap_or_default();
    out.push_str(&format!(
        "  {}: {state}{age}\n",
        if ru {
            "данные проверки"
        } else {
            "trust data"
        }
    ));
    out
}

/// What a Propusk credential certifies, in words for a person, with the EU value sets' names.
pub fn summary(c: &propusk_spec::Credential) -> String {
    use propusk_eudcc::valuesets::{country, vaccine_product};
    let place = |co: &propusk_spec::Country| country(co.as_str()).unwrap_or(co.as_str()).to_owned();
    match &c.body {
        propusk_spec::Body::Vaccination(v) => format!(
            "{}, dose {}/{}, {}, {}",
            vaccine_product(v.product.code()).unwrap_or(v.product.code()),
            v.dose,
            v.doses,
            v.date,
            place(&v.country)
        ),
        propusk_spec::Body::Recovery(r) => format!(
            "recovery, first positive {}, {}",
            r.first_positive,
            place(&r.country)
        ),
        propusk_spec::Body::Test(t) => format!(
            "{} {}, sampled {}, {}",
            t.kind,
            t.result,
            t.sampled_at,
            place(&t.country)
        ),
        propusk_spec::Body::Exemption(e) => format!(
            "exemption {} to {}, {}",
            e.valid_from,
            e.valid_until,
            place(&e.country)
        ),
        propusk_spec::Body::Pass(p) => {
            format!("{} pass {} to {}", p.purpose, p.valid_from, p.valid_until)
        }
    }
}

/// What a credential text (or link) holds, layer by layer, its signature not checked (`propusk
/// decode`): the holder masked as at the door; or the layer that refused it. JSON on one line, or
/// words; `true` when it decoded.
pub fn describe(input: &str, json: bool) -> (bool, String) {
    let u = match propusk_spec::decode_any(input) {
        Ok(u) => u,
        Err(e) if json => {
            let v = json!({"decoded": false, "layer": e.layer(), "reason": e.code(), "error": e.to_string()});
            return (false, v.to_string());
        }
        Err(e) => {
            let refused = format!("refused at the {} layer ({}): {e}", e.layer(), e.code());
            return (false, refused);
        }
    };
    let c = u.unverified_claims();
    if json {
        let v = json!({
            "decoded": true,
            "signature_checked": false,
            "key_id": u.key_id().to_string(),
            "credential": c,
        });
        return (true, v.to_string());
    }
    let h = &c.holder;
    let shown = format!(
        "type:        {}\nid:          {}\nkey id:      {}\nissued at:   {}\nexpires at:  {}\n\
         holder:      {}  born {}  {}\n\
         signature:   NOT CHECKED (use `propusk verify` for a verdict)",
        c.credential_type().as_str(),
        c.id,
        u.key_id(),
        c.issued_at,
        c.expires_at,
        h.initials(),
        h.birth_date,
        h.document.masked()
    );
    (true, shown)
}

#[cfg(test)]
mod tests {
    use propusk_trust_list::{HolderView, Report};

    use super::*;

    #[test]
    fn escape_sequences_from_a_certificate_never_reach_the_terminal() {
        let mut report = Report::blank(TrustState::Fresh);
        report.holder = Some(HolderView {
            initials: "\u{1b}[2J".into(),
            birth_date: "1964\u{7}".into(),
            document: String::new(),
        });
        report.summary = Some("Spikevax\u{1b}]0;owned\u{7}".into());
        let trust = TrustView {
            state: TrustState::Fresh,
            age_s: Some(0),
        };
        for lang in Lang::ALL {
            let shown = to_text(&report, trust, lang);
            assert!(!shown.contains(['\u{1b}', '\u{7}']), "{shown:?}");
            assert!(shown.contains("Spikevax"));
        }
    }
}
