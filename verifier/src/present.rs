//! What a verifier shows: a JSON object per credential, or words for a person in Russian or
//! English. Only initials, date of birth and the masked document are ever shown of the holder.

use propusk_spec::Timestamp;
use propusk_trust_list::{CheckOutcome, Report, TrustState, Verdict};
use serde_json::{Value, json};

/// The language of the words for a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Russian.
    Ru,
}

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
        "verdict": r.verdict.as_str(),
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

fn reason_words(reason: &str, lang: Lang) -> &'static str {
    let (en, ru) = match reason {
        "not_a_credential" => (
            "this code is not a health credential",
            "этот код — не сертификат",
        ),
        "corrupt" => (
            "the code is damaged or forged",
            "код повреждён или подделан",
        ),
        "online_only" => (
            "a portal link: open it online to check",
            "ссылка на портал: проверка только онлайн",
        ),
        "unknown_key" => (
            "signed by a key this verifier does not know yet: sync",
            "подписан неизвестным ключом: обновите данные",
        ),
        "bad_signature" => ("the signature is not genuine", "подпись недействительна"),
        "key_usage" => (
            "the key may not sign this credential",
            "ключ не вправе подписывать такой сертификат",
        ),
        "key_retired" => (
            "issued after its key was retired",
            "выдан после вывода ключа из работы",
        ),
        "key_revoked" => ("its signing key was withdrawn", "ключ подписи отозван"),
        "expired" => ("expired", "срок действия истёк"),
        "not_yet_valid" => ("not valid yet", "ещё не действует"),
        "revoked" => ("revoked by the issuer", "отозван выдавшим органом"),
        "rule_failed" => ("does not meet the rules", "не соответствует правилам"),
        "holder_mismatch" => (
            "the credentials belong to different people",
            "сертификаты выданы разным людям",
        ),
        "trust_data_expired" => (
            "trust data too old: sync the verifier",
            "данные проверки устарели: обновите их",
        ),
        "trust_data_missing" => (
            "no trust data: sync the verifier",
            "нет данных проверки: обновите их",
        ),
        "trust_data_corrupt" => (
            "trust data damaged: sync again",
            "данные проверки повреждены: обновите их",
        ),
        "no_qr_code" => (
            "no QR code found in the image",
            "на изображении не найден QR-код",
        ),
        "not_an_image" => (
            "the file is not a readable image",
            "файл не является изображением",
        ),
        "image_too_large" => ("the image is too large", "изображение слишком большое"),
        "unreadable_file" => ("the file cannot be read", "файл не читается"),
        _ => ("cannot tell", "невозможно определить"),
    };
    if lang == Lang::Ru { ru } else { en }
}

fn type_words(t: &str, lang: Lang) -> &str {
    match (t, lang) {
        ("vaccination", Lang::Ru) => "вакцинация",
        ("recovery", Lang::Ru) => "перенесённое заболевание",
        ("test", Lang::Ru) => "тест",
        ("exemption", Lang::Ru) => "медицинский отвод",
        ("pass", Lang::Ru) => "пропуск",
        _ => t,
    }
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

/// Words for a person: the verdict first, then what to match against the ID document.
pub fn to_text(r: &Report, trust: TrustView, lang: Lang) -> String {
    let ru = lang == Lang::Ru;
    let verdict = match (r.verdict, ru) {
        (Verdict::Valid, false) => "VALID",
        (Verdict::Invalid, false) => "INVALID",
        (Verdict::Unknown, false) => "CANNOT TELL",
        (Verdict::Valid, true) => "ДЕЙСТВИТЕЛЕН",
        (Verdict::Invalid, true) => "НЕДЕЙСТВИТЕЛЕН",
        (Verdict::Unknown, true) => "НЕВОЗМОЖНО ПРОВЕРИТЬ",
    };
    let mut out = String::from(verdict);
    if let Some(t) = r.credential_type {
        out.push_str(" — ");
        out.push_str(type_words(t.as_str(), lang));
    }
    if let Some(reason) = r.reason {
        out.push_str(&format!(": {}", reason_words(reason, lang)));
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
            format!("   {doc} {}", h.document)
        };
        out.push_str(&format!(
            "  {holder}: {}   {born} {}{doc}\n",
            h.initials, h.birth_date
        ));
    }
    if let Some(summary) = &r.summary {
        out.push_str(&format!("  {summary}\n"));
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
    let state = match (trust.state, ru) {
        (TrustState::Fresh, false) => "fresh",
        (TrustState::Stale, false) => "STALE: sync soon",
        (TrustState::Expired, false) => "expired",
        (TrustState::Missing, false) => "missing",
        (TrustState::Fresh, true) => "актуальны",
        (TrustState::Stale, true) => "УСТАРЕВАЮТ: обновите",
        (TrustState::Expired, true) => "устарели",
        (TrustState::Missing, true) => "отсутствуют",
    };
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
