//! What a verifier holds (`verifier status`) and what a sync changed, in words and JSON.

use propusk_eudcc::SignerCertificate;
use propusk_spec::Timestamp;
use propusk_trust_list::{BundleContent, KeyStatus, Lang, Locale, Rules, words};
use serde_json::{Value, json};

use crate::error::VerifierError;
use crate::roots::RootView;
use crate::store::Store;

/// An instant as RFC 3339 for JSON (`null` when out of range).
fn rfc3339(unix: i64) -> Value {
    Timestamp::from_unix(unix).map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// A key's status in words.
fn key_status(status: KeyStatus, locale: &Locale) -> String {
    let at = |since: i64| Timestamp::from_unix(since).map_or_else(String::new, |t| locale.time(t));
    match (status, locale.lang) {
        (KeyStatus::Next, Lang::En) => "announced".into(),
        (KeyStatus::Next, Lang::Ru) => "объявлен".into(),
        (KeyStatus::Active, Lang::En) => "active".into(),
        (KeyStatus::Active, Lang::Ru) => "действует".into(),
        (KeyStatus::Retired { since }, Lang::En) => format!("retired since {}", at(since)),
        (KeyStatus::Retired { since }, Lang::Ru) => format!("выведен с {}", at(since)),
        (KeyStatus::Compromised { since }, Lang::En) => format!("distrusted since {}", at(since)),
        (KeyStatus::Compromised { since }, Lang::Ru) => format!("отозван с {}", at(since)),
    }
}

/// What `verifier status` shows: the pinned root, then the trust data in force, if any.
pub struct Status {
    root_key_id: String,
    content: Option<BundleContent>,
    synced_at: Option<i64>,
    at: Timestamp,
    roots: Vec<RootView>,
}

impl Store {
    /// The store's root and trust data, as of `at`.
    pub fn status(&self, at: Timestamp) -> Result<Status, VerifierError> {
        let loaded = self.bundle()?;
        Ok(Status {
            root_key_id: propusk_trust_list::key_id_of(self.root()).to_string(),
            synced_at: loaded.as_ref().map(|(_, m)| m.synced_at),
            content: loaded.map(|(b, _)| b.content().clone()),
            at,
            roots: self.roots(at)?,
        })
    }
}

impl Status {
    /// The trust data in force, if any.
    pub fn content(&self) -> Option<&BundleContent> {
        self.content.as_ref()
    }

    /// One JSON object: `root_key_id`, and `trust_data` (`null` before the first sync) with
    /// `sequence`, `jurisdiction`, `issued_at`, `age_s`, `state`, `soft_expiry`, `hard_expiry`,
    /// `synced_at`, `revocations`, `keys` and `eu_signers`; times in RFC 3339 (UTC).
    pub fn to_json(&self) -> Value {
        let trust = self.content.as_ref().map(|c| {
            let bundle_state = propusk_trust_list::TrustState::of(c, self.at);
            json!({
                "sequence": c.sequence,
                "jurisdiction": c.jurisdiction,
                "issued_at": rfc3339(c.issued_at),
                "age_s": self.at.unix() - c.issued_at,
                "state": bundle_state.as_str(),
                "soft_expiry": rfc3339(c.soft_expiry),
                "hard_expiry": rfc3339(c.hard_expiry),
                "synced_at": self.synced_at.map_or(Value::Null, rfc3339),
                "revocations": c.revocations.len(),
                "rules": rules_json(c, self.at),
                "keys": c.keys.iter().map(|k| json!({
                    "key_id": propusk_spec::hex::encode(&k.key_id),
                    "issuer": k.issuer,
                    "country": k.country,
                    "status": k.status.as_str(),
                    "since": k.status.since().map_or(Value::Null, rfc3339),
                    "not_before": rfc3339(k.not_before),
                    "not_after": rfc3339(k.not_after),
                })).collect::<Vec<_>>(),
                "eu_signers": eu_signers(c).iter().map(|(kid, country, from, until)| json!({
                    "key_id": kid, "country": country,
                    "not_before": rfc3339(*from), "not_after": rfc3339(*until),
                })).collect::<Vec<_>>(),
            })
        });
        json!({
            "root_key_id": self.root_key_id,
            "trust_data": trust,
            "roots": self.roots.iter().map(RootView::to_json).collect::<Vec<_>>(),
        })
    }

    /// Lines for a person, in the locale's language and time zone.
    pub fn to_text(&self, locale: &Locale) -> String {
        let ru = locale.lang == Lang::Ru;
        let time =
            |unix: i64| Timestamp::from_unix(unix).map_or_else(String::new, |t| locale.time(t));
        let mut out = String::new();
        let root = if ru {
            "корневой ключ"
        } else {
            "root key"
        };
        out.push_str(&format!("{root}: {}\n", self.root_key_id));
        if self.roots.len() > 1 {
            out.push_str(if ru {
                "доверенные корневые ключи:\n"
            } else {
                "trusted roots:\n"
            });
            for r in &self.roots {
                out.push_str(&format!("  {}\n", r.to_text(locale, self.at)));
            }
        }
        let Some(c) = &self.content else {
            out.push_str(if ru {
                "данных проверки нет: выполните propusk verifier sync\n"
            } else {
                "no trust data yet: run propusk verifier sync\n"
            });
            return out;
        };
        let state = words::trust_state(propusk_trust_list::TrustState::of(c, self.at), locale.lang);
        let age = locale.age(self.at.unix() - c.issued_at);
        let (made, soft, hard) = (time(c.issued_at), time(c.soft_expiry), time(c.hard_expiry));
        let revoked = c.revocations.len();
        let lines = if ru {
            [
                format!(
                    "данные проверки: {state}, выпуск {} ({}), выпущены {made} ({age} назад)",
                    c.sequence, c.jurisdiction
                ),
                format!("актуальны до: {soft}"),
                format!("окончательно истекают: {hard}"),
                format!("отозвано документов: {revoked}"),
                format!("ключи подписи: {}", c.keys.len()),
            ]
        } else {
            [
                format!(
                    "trust data: {state}, sequence {} ({}), made {made} ({age} ago)",
                    c.sequence, c.jurisdiction
                ),
                format!("good until: {soft}"),
                format!("hard expiry: {hard}"),
                format!("revoked credentials: {revoked}"),
                format!("signing keys: {}", c.keys.len()),
            ]
        };
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
        if let Ok(rules) = Rules::new(c.rules.clone()) {
            let day = |d: &str| {
                d.parse::<propusk_spec::Date>()
                    .map_or_else(|_| d.to_owned(), |d| locale.date(d))
            };
            if let Some((n, since)) = rules.version_at(self.at) {
                out.push_str(&if ru {
                    format!("правила: версия {n}, действуют с {}", day(&since))
                } else {
                    format!("rules: version {n}, in force since {}", day(&since))
                });
                if let Some((next, from)) = rules.next_version_at(self.at) {
                    out.push_str(&if ru {
                        format!("; следующая версия {next} — с {}", day(&from))
                    } else {
                        format!("; next: version {next} from {}", day(&from))
                    });
                }
                out.push('\n');
            }
        }
        for k in &c.keys {
            out.push_str(&format!(
                "  {}  {}  {}–{}\n",
                propusk_spec::hex::encode(&k.key_id),
                key_status(k.status, locale),
                time(k.not_before),
                time(k.not_after)
            ));
        }
        let signers = eu_signers(c);
        if !signers.is_empty() {
            out.push_str(if ru {
                "подписанты ЕС:\n"
            } else {
                "EU signers:\n"
            });
            for (kid, country, from, until) in signers {
                out.push_str(&format!(
                    "  {kid}  {country}  {}–{}\n",
                    time(from),
                    time(until)
                ));
            }
        }
        out
    }
}

/// The rules of a bundle: the version in force at `at` and the next one scheduled (`null` when
/// none), each with its number and first local day.
fn rules_json(c: &BundleContent, at: Timestamp) -> Value {
    let Ok(rules) = Rules::new(c.rules.clone()) else {
        return Value::Null;
    };
    let version = |v: Option<(u32, String)>| {
        v.map_or(
            Value::Null,
            |(n, from)| json!({"version": n, "effective_from": from}),
        )
    };
    json!({
        "in_force": version(rules.version_at(at)),
        "next": version(rules.next_version_at(at)),
    })
}

/// The EU signers of a bundle: key id, country, validity.
fn eu_signers(c: &BundleContent) -> Vec<(String, String, i64, i64)> {
    c.eu_signers
        .iter()
        .filter_map(|s| {
            let cert = SignerCertificate::from_der(&s.der).ok()?;
            let (from, until) = cert.validity();
            Some((
                propusk_spec::hex::encode(cert.key_id()),
                s.country.clone(),
                from,
                until,
            ))
        })
        .collect()
}

/// What a sync changed, from the trust data before to the data now in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Keys new in the trust list.
    pub keys_added: Vec<String>,
    /// Keys retired since.
    pub keys_retired: Vec<String>,
    /// Keys distrusted since.
    pub keys_distrusted: Vec<String>,
    /// Credentials newly revoked.
    pub revocations_added: u64,
    /// The newest version of the rules, when the sync brought a change of them: its number and
    /// first local day.
    pub rules_changed: Option<(u32, String)>,
    /// Until when the data is fresh, and when it expires (Unix seconds).
    pub soft_expiry: i64,
    /// When it expires.
    pub hard_expiry: i64,
}

/// The changes from `old` (none before the first sync) to `new`, as of `now`.
pub fn changes(old: Option<&BundleContent>, new: &BundleContent, now: Timestamp) -> Changes {
    let before = |kid: &[u8]| old.and_then(|o| o.keys.iter().find(|k| k.key_id == kid));
    let mut out = Changes {
        soft_expiry: new.soft_expiry,
        hard_expiry: new.hard_expiry,
        ..Changes::default()
    };
    for k in &new.keys {
        let kid = propusk_spec::hex::encode(&k.key_id);
        let was = before(&k.key_id).map(|b| b.status);
        match (was, k.status) {
            (None, _) => out.keys_added.push(kid),
            (Some(KeyStatus::Retired { .. }), KeyStatus::Retired { .. }) => {}
            (Some(KeyStatus::Compromised { .. }), KeyStatus::Compromised { .. }) => {}
            (Some(_), KeyStatus::Retired { .. }) => out.keys_retired.push(kid),
            (Some(_), KeyStatus::Compromised { .. }) => out.keys_distrusted.push(kid),
            _ => {}
        }
    }
    if old.is_some_and(|o| o.rules != new.rules) {
        out.rules_changed = Rules::new(new.rules.clone())
            .ok()
            .and_then(|r| r.next_version_at(now).or_else(|| r.version_at(now)));
    }
    out.revocations_added = match old {
        Some(o) => new.revocations.lost_in(&o.revocations, now).unwrap_or(0),
        None => new.revocations.len(),
    };
    out
}

impl Changes {
    /// One line for a person: what changed and until when the data is good.
    pub fn to_text(&self, locale: &Locale) -> String {
        let ru = locale.lang == Lang::Ru;
        let time =
            |unix: i64| Timestamp::from_unix(unix).map_or_else(String::new, |t| locale.time(t));
        let mut parts = Vec::new();
        let keys = |list: &[String], en: &str, ru_word: &str| {
            (!list.is_empty())
                .then(|| format!("{} {}", if ru { ru_word } else { en }, list.join(", ")))
        };
        parts.extend(keys(&self.keys_added, "keys added:", "новые ключи:"));
        parts.extend(keys(&self.keys_retired, "keys retired:", "выведены ключи:"));
        parts.extend(keys(
            &self.keys_distrusted,
            "keys distrusted:",
            "отозваны ключи:",
        ));
        if self.revocations_added > 0 {
            parts.push(if ru {
                format!("отозвано документов: {}", self.revocations_added)
            } else {
                format!("{} credential(s) newly revoked", self.revocations_added)
            });
        }
        if let Some((n, from)) = &self.rules_changed {
            let day = from
                .parse::<propusk_spec::Date>()
                .map_or_else(|_| from.clone(), |d| locale.date(d));
            parts.push(if ru {
                format!("новые правила: версия {n}, с {day}")
            } else {
                format!("new rules: version {n}, from {day}")
            });
        }
        if parts.is_empty() {
            parts.push(if ru {
                "без изменений".into()
            } else {
                "nothing changed".into()
            });
        }
        let until = if ru {
            format!("данные актуальны до {}", time(self.soft_expiry))
        } else {
            format!("good until {}", time(self.soft_expiry))
        };
        format!("{}; {until}", parts.join("; "))
    }
}
