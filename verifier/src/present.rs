//! What a verifier shows: a JSON object per credential, or words for a person in Russian or
//! English. Only initials, date of birth and the masked document are ever shown of the holder.

use propusk_trust_list::{CheckOutcome, Lang, Locale, Reason, Report, TrustState, Verdict, words};

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
        "rules_since": r.rules_since.map(|d| d.to_string()),
        "policy": r.policy,
        "needs": r.needs.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "type": r.credential_type.map(|t| t.as_str()),
        "id": r.id.map(|id| id.to_string()),
        "key_id": r.key_id.as_ref().map(|k| k.to_string()),
        "holder": r.holder,
        "valid_until": r.valid_until.map(|t| t.to_string()),
        "summary": r.summary,
        "issuer": r.issuer,
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

/// What a sync did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A newer bundle is now in force.
    Updated {
        /// The sequence before, if any.
        from: Option<u64>,
        /// The sequence now in force.
        to: u64,
    },
    /// The offered bundle is the one already in force.
    UpToDate(u64),
    /// The source offers older trust data than the data in force (a server behind a balancer
    /// that has not picked up the newest publication yet, an old USB stick): the data in force
    /// is kept. Lag, not a failure.
    Behind {
        /// The sequence the source offers.
        source: u64,
        /// The sequence in force, kept.
        held: u64,
    },
}

impl std::fmt::Display for SyncOutcome {
    /// In English (see [`sync_words`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&sync_words(self, Lang::En))
    }
}

/// What a sync did, in words.
pub fn sync_words(outcome: &SyncOutcome, lang: Lang) -> String {
    match (outcome, lang) {
        (
            SyncOutcome::Updated {
                from: Some(old),
                to,
            },
            Lang::En,
        ) => {
            format!("trust data updated: sequence {old} → {to}")
        }
        (
            SyncOutcome::Updated {
                from: Some(old),
                to,
            },
            Lang::Ru,
        ) => {
            format!("данные проверки обновлены: выпуск {old} → {to}")
        }
        (SyncOutcome::Updated { from: None, to }, Lang::En) => {
            format!("trust data in force: sequence {to}")
        }
        (SyncOutcome::Updated { from: None, to }, Lang::Ru) => {
            format!("данные проверки получены: выпуск {to}")
        }
        (SyncOutcome::UpToDate(seq), Lang::En) => {
            format!("trust data already up to date: sequence {seq}")
        }
        (SyncOutcome::UpToDate(seq), Lang::Ru) => {
            format!("данные проверки уже актуальны: выпуск {seq}")
        }
        (SyncOutcome::Behind { source, held }, Lang::En) => format!(
            "this source is behind (sequence {source} < {held}): the trust data in force \
             (sequence {held}) is kept"
        ),
        (SyncOutcome::Behind { source, held }, Lang::Ru) => format!(
            "этот источник отстаёт (выпуск {source} < {held}): действуют прежние данные \
             (выпуск {held})"
        ),
    }
}

/// What to say after a sync when the trust data in force is not fresh: stale (verdicts carry a
/// warning) or past its hard expiry (the verifier cannot tell).
pub fn freshness_warning(trust: TrustView, lang: Lang) -> Option<String> {
    let days = trust.age_s.map(|a| a.div_euclid(86_400));
    let age = match (days, lang) {
        (Some(d), Lang::En) => format!(" (made {d} days ago)"),
        (Some(d), Lang::Ru) => format!(" (выпущены {d} дн. назад)"),
        (None, _) => String::new(),
    };
    match (trust.state, lang) {
        (TrustState::Fresh, _) => None,
        (TrustState::Stale, Lang::En) => Some(format!(
            "the trust data is stale{age}: the issuer has published nothing newer here; sync \
             again soon, verdicts carry a warning until then"
        )),
        (TrustState::Stale, Lang::Ru) => Some(format!(
            "данные проверки устарели{age}: новее здесь ничего не опубликовано; синхронизируйте \
             их снова как можно скорее, до тех пор вердикты идут с предупреждением"
        )),
        (TrustState::Expired | TrustState::Missing, Lang::En) => Some(format!(
            "the trust data is past its hard expiry{age}: every check answers \"cannot tell\" \
             until newer trust data is synced"
        )),
        (TrustState::Expired | TrustState::Missing, Lang::Ru) => Some(format!(
            "срок данных проверки истёк{age}: пока не получены новые данные, каждая проверка \
             отвечает «невозможно проверить»"
        )),
    }
}

/// The reports as lines: one JSON object per report (`locale` `None`), or words for a person
/// in the locale's language and time zone, each report's block ending in a newline.
pub fn render(reports: &[Report], trust: TrustView, locale: Option<&Locale>) -> String {
    let mut out = String::new();
    for r in reports {
        let shown = match locale {
            None => to_json(r, trust).to_string(),
            Some(locale) => to_text(r, trust, locale),
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

/// The verdict line: the verdict, the type, "signature only" for an EU certificate checked
/// without rules or revocation, and the reason.
pub fn verdict_line(r: &Report, lang: Lang) -> String {
    let mut out = String::from(words::verdict(r.verdict, lang));
    if let Some(t) = r.credential_type {
        out.push_str(" — ");
        out.push_str(words::credential_type(t, lang));
    }
    let unchecked = |c: CheckOutcome| c == CheckOutcome::Skipped;
    if r.verdict == Verdict::Valid && unchecked(r.checks.rules) && unchecked(r.checks.revocation) {
        out.push_str(match lang {
            Lang::En => " (signature only: no rules, no revocation list)",
            Lang::Ru => " (проверена только подпись: без правил и списка отзыва)",
        });
    }
    match r.reason {
        // What the door's policy needs besides, in words.
        Some(Reason::NeedsMore) if !r.needs.is_empty() => {
            let needs: Vec<&str> = r
                .needs
                .iter()
                .map(|t| words::credential_type(*t, lang))
                .collect();
            out.push_str(&match lang {
                Lang::En => format!(": needs also: {}", needs.join(", ")),
                Lang::Ru => format!(": нужен также: {}", needs.join(", ")),
            });
        }
        Some(reason) => out.push_str(&format!(": {}", words::reason(reason, lang))),
        None => {}
    }
    // A verdict a change of the rules decided says so.
    if let Some(since) = r.rules_since.filter(|_| r.verdict != Verdict::Valid) {
        let day = Locale::utc(lang).date(since);
        out.push_str(&match lang {
            Lang::En => format!(" under the rules in force since {day}"),
            Lang::Ru => format!(" по правилам, действующим с {day}"),
        });
    }
    out
}

/// The lines under the verdict: what to match against the ID document, what it certifies,
/// until when, how fresh the trust data is.
pub fn detail_lines(r: &Report, trust: TrustView, locale: &Locale) -> Vec<String> {
    let holder = holder_lines(r, locale);
    let mut lines = Vec::new();
    if !holder.is_empty() {
        lines.push(holder.join("   "));
    }
    lines.extend(fact_lines(r, trust, locale));
    lines
}

/// What the guard compares with the identity document, one item a line: the initials, the
/// date of birth, the masked document (EU certificates carry none); none when the credential
/// was not read as genuine.
pub fn holder_lines(r: &Report, locale: &Locale) -> Vec<String> {
    let Some(h) = &r.holder else {
        return Vec::new();
    };
    let (holder, born, doc, mrz) = if locale.lang == Lang::Ru {
        (
            "владелец",
            "дата рождения",
            "документ",
            "имя как в паспорте",
        )
    } else {
        ("holder", "born", "document", "name as in the passport")
    };
    let birth = h
        .birth_date
        .parse::<propusk_spec::BirthDate>()
        .map_or_else(|_| printable(&h.birth_date), |b| locale.birth_date(&b));
    let mut lines = vec![
        format!("{holder}: {}", printable(&h.initials)),
        format!("{born} {birth}"),
    ];
    if !h.document.is_empty() {
        lines.push(format!("{doc} {}", printable(&h.document)));
    }
    if let Some(name) = &h.name {
        lines.push(format!("{mrz}: {}", printable(name)));
    }
    lines
}

/// The lines under the holder's: what the credential says, who issued it, the door's policy,
/// why it was refused, how long it holds, and how current the trust data is.
pub fn fact_lines(r: &Report, trust: TrustView, locale: &Locale) -> Vec<String> {
    let ru = locale.lang == Lang::Ru;
    let mut lines = Vec::new();
    if let Some(summary) = &r.summary {
        lines.push(printable(summary));
    }
    if let Some(issuer) = &r.issuer {
        let label = if ru { "выдал" } else { "issuer" };
        lines.push(format!(
            "{label}: {} ({})",
            printable(&issuer.name),
            printable(&country_name(&issuer.country, locale.lang))
        ));
    }
    if let Some(policy) = &r.policy {
        let label = if ru {
            "правило входа"
        } else {
            "door policy"
        };
        lines.push(format!("{label}: {}", printable(policy)));
    }
    if let Some(until) = r.valid_until.filter(|_| r.verdict == Verdict::Valid) {
        let label = if ru {
            "действителен до"
        } else {
            "valid until"
        };
        lines.push(format!("{label} {}", locale.time(until)));
    }
    let state = words::trust_state(trust.state, locale.lang);
    let age = trust
        .age_s
        .map(|a| match locale.lang {
            Lang::En => format!(", made {} ago", locale.age(a)),
            Lang::Ru => format!(", выпущены {} назад", locale.age(a)),
        })
        .unwrap_or_default();
    let label = if ru {
        "данные проверки"
    } else {
        "trust data"
    };
    lines.push(format!("{label}: {state}{age}"));
    lines
}

/// Words for a person: the verdict first, then what to match against the ID document.
pub fn to_text(r: &Report, trust: TrustView, locale: &Locale) -> String {
    let mut out = verdict_line(r, locale.lang);
    out.push('\n');
    for line in detail_lines(r, trust, locale) {
        out.push_str("  ");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The name of a country in the locale's language (its code when unknown).
fn place(country: &propusk_spec::Country, lang: Lang) -> String {
    country_name(country.as_str(), lang)
}

/// The name of a country code in the language (the code when unknown).
pub(crate) fn country_name(code: &str, lang: Lang) -> String {
    use propusk_eudcc::valuesets::{country as en, country_ru};
    let name = match lang {
        Lang::Ru => country_ru(code).or_else(|| en(code)),
        Lang::En => en(code),
    };
    name.unwrap_or(code).to_owned()
}

/// What a Propusk credential certifies, in words for a person: the EU value sets' names (in
/// Russian where the locale is), dates and times as people there read them.
pub fn summary(c: &propusk_spec::Credential, locale: &Locale) -> String {
    use propusk_eudcc::valuesets::{vaccine_product, vaccine_product_ru};
    let lang = locale.lang;
    let ru = lang == Lang::Ru;
    match &c.body {
        propusk_spec::Body::Vaccination(v) => {
            let code = v.product.code();
            let product = if ru { vaccine_product_ru(code) } else { None }
                .or_else(|| vaccine_product(code))
                .unwrap_or(code);
            let (date, country) = (locale.date(v.date), place(&v.country, lang));
            if ru {
                format!(
                    "{product}, доза {} из {}, {date}, {country}",
                    v.dose, v.doses
                )
            } else {
                format!(
                    "{product}, dose {} of {}, {date}, {country}",
                    v.dose, v.doses
                )
            }
        }
        propusk_spec::Body::Recovery(r) => {
            let (date, country) = (locale.date(r.first_positive), place(&r.country, lang));
            if ru {
                format!("перенесённое заболевание, первый положительный тест {date}, {country}")
            } else {
                format!("recovery, first positive test {date}, {country}")
            }
        }
        propusk_spec::Body::Test(t) => {
            let kind = words::test_kind(t.kind, lang);
            let result = words::test_result(t.result, lang);
            let (at, country) = (locale.time(t.sampled_at), place(&t.country, lang));
            if ru {
                format!("{kind}, {result}, взят {at}, {country}")
            } else {
                format!("{kind}, {result}, sampled {at}, {country}")
            }
        }
        propusk_spec::Body::Exemption(e) => {
            let (from, until) = (locale.date(e.valid_from), locale.date(e.valid_until));
            let country = place(&e.country, lang);
            if ru {
                format!("медицинский отвод с {from} по {until}, {country}")
            } else {
                format!("medical exemption from {from} to {until}, {country}")
            }
        }
        propusk_spec::Body::Pass(p) => {
            let purpose = words::pass_purpose(p.purpose, lang);
            let (from, until) = (locale.time(p.valid_from), locale.time(p.valid_until));
            if ru {
                format!("пропуск ({purpose}) с {from} до {until}")
            } else {
                format!("movement pass ({purpose}) from {from} to {until}")
            }
        }
    }
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
            name: Some("SHCHUKINA<<IULIIA\u{1b}[0m".into()),
        });
        report.summary = Some("Spikevax\u{1b}]0;owned\u{7}".into());
        let trust = TrustView {
            state: TrustState::Fresh,
            age_s: Some(0),
        };
        for lang in Lang::ALL {
            let shown = to_text(&report, trust, &Locale::utc(lang));
            assert!(!shown.contains(['\u{1b}', '\u{7}']), "{shown:?}");
            assert!(shown.contains("Spikevax"));
        }
    }
}
