//! What people read, in English and Russian: verdicts, reasons, credential types, the state of
//! the trust data. Every table is an exhaustive `match`, so a new reason, verdict or type without
//! words in both languages does not compile. The verifier, the wallet, the portal and the browser
//! all read their words from here.

use std::fmt;
use std::str::FromStr;

use propusk_spec::CredentialType;

use crate::bundle::TrustState;
use crate::check::Verdict;
use crate::reason::Reason;

/// The language of the words for a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// Every language.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// The language tag: `en`, `ru`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language a browser prefers by its `Accept-Language` header (its first choice), or a
    /// `lang` parameter: Russian when it starts with `ru`, else English.
    pub fn from_preference(preference: &str) -> Self {
        let first = preference.split(',').next().unwrap_or("").trim();
        if first.to_ascii_lowercase().starts_with("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// A language tag that is not `en` or `ru`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: use en or ru")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, UnknownLang> {
        match s {
            "en" => Ok(Lang::En),
            "ru" => Ok(Lang::Ru),
            other => Err(UnknownLang(other.to_owned())),
        }
    }
}

/// Words for a reason, for the person at the door.
pub fn reason(reason: Reason, lang: Lang) -> &'static str {
    let (en, ru) = match reason {
        Reason::NotACredential => (
            "this code is not a health credential",
            "этот код — не сертификат",
        ),
        Reason::Corrupt => (
            "the code is damaged or forged",
            "код повреждён или подделан",
        ),
        Reason::OnlineOnly => (
            "a portal link: open it online to check",
            "ссылка на портал: проверка только онлайн",
        ),
        Reason::UnknownKey => (
            "signed by a key this verifier does not know yet: sync",
            "подписан неизвестным ключом: обновите данные",
        ),
        Reason::UntrustedIssuer => (
            "issued by an issuer this verifier does not trust",
            "выдан издателем, которому эта проверка не доверяет",
        ),
        Reason::BadSignature => ("the signature is not genuine", "подпись недействительна"),
        Reason::KeyUsage => (
            "the key may not sign this credential",
            "ключ не вправе подписывать такой сертификат",
        ),
        Reason::KeyRetired => (
            "issued after its key was retired",
            "выдан после вывода ключа из работы",
        ),
        Reason::KeyRevoked => ("its signing key was withdrawn", "ключ подписи отозван"),
        Reason::Expired => ("expired", "срок действия истёк"),
        Reason::NotYetValid => ("not valid yet", "ещё не действует"),
        Reason::Revoked => ("revoked by the issuer", "отозван выдавшим органом"),
        Reason::RuleFailed => ("does not meet the rules", "не соответствует правилам"),
        Reason::HolderMismatch => (
            "the credentials belong to different people",
            "сертификаты выданы разным людям",
        ),
        Reason::TrustDataExpired => (
            "trust data too old: sync the verifier",
            "данные проверки устарели: обновите их",
        ),
        Reason::TrustDataMissing => (
            "no trust data: sync the verifier",
            "нет данных проверки: обновите их",
        ),
        Reason::TrustDataCorrupt => (
            "trust data damaged: sync again",
            "данные проверки повреждены: обновите их",
        ),
        Reason::NoQrCode => (
            "no QR code found in the image",
            "на изображении не найден QR-код",
        ),
        Reason::NotAnImage => (
            "the file is not a readable image",
            "файл не является изображением",
        ),
        Reason::ImageTooLarge => ("the image is too large", "изображение слишком большое"),
        Reason::UnreadableFile => ("the file cannot be read", "файл не читается"),
        Reason::NotAdmitted => ("not admitted at this door", "не принимается на этом входе"),
        Reason::NeedsMore => ("more is needed", "нужно ещё"),
    };
    pick(lang, en, ru)
}

/// The time zones of Russia (the tz database's), named in Russian by their distance from Moscow.
const RUSSIAN_ZONES: &[&str] = &[
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Simferopol",
    "Europe/Kirov",
    "Europe/Volgograd",
    "Europe/Astrakhan",
    "Europe/Samara",
    "Europe/Saratov",
    "Europe/Ulyanovsk",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Barnaul",
    "Asia/Novosibirsk",
    "Asia/Tomsk",
    "Asia/Novokuznetsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Chita",
    "Asia/Yakutsk",
    "Asia/Khandyga",
    "Asia/Vladivostok",
    "Asia/Ust-Nera",
    "Asia/Magadan",
    "Asia/Sakhalin",
    "Asia/Srednekolymsk",
    "Asia/Kamchatka",
    "Asia/Anadyr",
    "W-SU",
];

/// The verdict as a headline: `VALID`, `INVALID`, `CANNOT TELL`.
pub fn verdict(verdict: Verdict, lang: Lang) -> &'static str {
    let (en, ru) = match verdict {
        Verdict::Valid => ("VALID", "ДЕЙСТВИТЕЛЕН"),
        Verdict::Invalid => ("INVALID", "НЕДЕЙСТВИТЕЛЕН"),
        Verdict::Unknown => ("CANNOT TELL", "НЕВОЗМОЖНО ПРОВЕРИТЬ"),
        Verdict::Incomplete => ("INCOMPLETE", "НЕДОСТАТОЧНО"),
        Verdict::Unread => ("NOT READ", "НЕ ПРОЧИТАН"),
    };
    pick(lang, en, ru)
}

/// A certificate's status as a page's title: `Certificate valid`, `Certificate revoked`,
/// `Certificate expired`, else the verdict with the reason's words.
pub fn certificate_title(verdict: Verdict, reason: Option<Reason>, lang: Lang) -> String {
    let (en, ru) = match (verdict, reason) {
        (Verdict::Valid, _) => ("Certificate valid", "Сертификат действителен"),
        (_, Some(Reason::Revoked)) => ("Certificate revoked", "Сертификат отозван"),
        (_, Some(Reason::Expired)) => ("Certificate expired", "Срок действия истёк"),
        (verdict, Some(why)) => {
            return format!(
                "{}: {}",
                self::verdict(verdict, lang),
                self::reason(why, lang)
            );
        }
        (verdict, None) => return self::verdict(verdict, lang).to_owned(),
    };
    pick(lang, en, ru).to_owned()
}

/// A credential type in words, lower case: `vaccination`, `медицинский отвод`.
pub fn credential_type(t: CredentialType, lang: Lang) -> &'static str {
    let (en, ru) = match t {
        CredentialType::Vaccination => ("vaccination", "вакцинация"),
        CredentialType::Recovery => ("recovery", "перенесённое заболевание"),
        CredentialType::Test => ("test", "тест"),
        CredentialType::Exemption => ("exemption", "медицинский отвод"),
        CredentialType::Pass => ("pass", "пропуск"),
    };
    pick(lang, en, ru)
}

/// A credential type as a title: `Vaccination`, `Medical exemption`, `Медицинский отвод`.
pub fn credential_type_title(t: CredentialType, lang: Lang) -> &'static str {
    let (en, ru) = match t {
        CredentialType::Vaccination => ("Vaccination", "Вакцинация"),
        CredentialType::Recovery => ("Recovery", "Перенесённое заболевание"),
        CredentialType::Test => ("Test", "Тест"),
        CredentialType::Exemption => ("Medical exemption", "Медицинский отвод"),
        CredentialType::Pass => ("Movement pass", "Пропуск"),
    };
    pick(lang, en, ru)
}

/// The state of the trust data, as shown beside each verdict.
pub fn trust_state(state: TrustState, lang: Lang) -> &'static str {
    let (en, ru) = match state {
        TrustState::Fresh => ("fresh", "актуальны"),
        TrustState::Stale => ("STALE: sync soon", "УСТАРЕВАЮТ: обновите"),
        TrustState::Expired => ("expired", "устарели"),
        TrustState::Missing => ("missing", "отсутствуют"),
    };
    pick(lang, en, ru)
}

fn pick(lang: Lang, en: &'static str, ru: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ru => ru,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_read_from_tags_and_browser_preferences() {
        assert_eq!("ru".parse::<Lang>(), Ok(Lang::Ru));
        assert!("de".parse::<Lang>().is_err());
        assert_eq!(Lang::from_preference("ru-RU,ru;q=0.9,en;q=0.8"), Lang::Ru);
        assert_eq!(Lang::from_preference("en-GB,ru;q=0.5"), Lang::En);
        assert_eq!(Lang::from_preference(""), Lang::En);
    }

    #[test]
    fn every_type_and_verdict_has_words_in_both_languages() {
        for lang in Lang::ALL {
            for t in CredentialType::ALL {
                assert!(!credential_type(t, lang).is_empty());
                assert!(!credential_type_title(t, lang).is_empty());
            }
        }
        assert_ne!(
            verdict(Verdict::Valid, Lang::Ru),
            verdict(Verdict::Valid, Lang::En)
        );
    }
}

/// How a person reads words, dates and times: a language and the jurisdiction's time zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Locale {
    /// The language.
    pub lang: Lang,
    /// The jurisdiction's time zone (the rule set's), in which times are shown.
    pub tz: jiff::tz::TimeZone,
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Locale {
    /// English, UTC.
    pub fn utc(lang: Lang) -> Self {
        Locale {
            lang,
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    /// The same zone in another language.
    pub fn with_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// `lang` in the time zone named `iana` (UTC when the name is unknown).
    pub fn named(lang: Lang, iana: &str) -> Self {
        Locale {
            lang,
            tz: jiff::tz::TimeZone::get(iana).unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }

    /// The zone as people name it in this language: in Russian, Russia's zones by their
    /// distance from Moscow time (`МСК`, `МСК+2`, `МСК−1`) and others by their abbreviation or
    /// offset (`CET`, `UTC+4`); in English, its city (`Moscow`, `New York`); `UTC` for UTC.
    pub fn zone_name(&self, at: propusk_spec::Timestamp) -> String {
        let name = self.tz.iana_name().unwrap_or("UTC");
        if matches!(name, "UTC" | "Etc/UTC" | "Etc/GMT") {
            return "UTC".into();
        }
        match self.lang {
            Lang::Ru => {
                let Ok(t) = jiff::Timestamp::from_second(at.unix()) else {
                    return name.to_owned();
                };
                let local = t.to_zoned(self.tz.clone());
                let hours = local.offset().seconds() / 3600;
                let minutes = local.offset().seconds().abs() % 3600 / 60;
                if RUSSIAN_ZONES.contains(&name) && minutes == 0 {
                    return match hours - 3 {
                        0 => "МСК".to_owned(),
                        d if d > 0 => format!("МСК+{d}"),
                        d => format!("МСК−{}", -d),
                    };
                }
                let abbreviation = local.strftime("%Z").to_string();
                if abbreviation.chars().all(|c| c.is_ascii_alphabetic()) {
                    abbreviation
                } else if minutes == 0 {
                    format!("UTC{hours:+}")
                } else {
                    format!("UTC{hours:+}:{minutes:02}")
                }
            }
            Lang::En => name.rsplit('/').next().unwrap_or(name).replace('_', " "),
        }
    }

    /// An instant in local time with the zone's name: `15.11.2027 00:00 МСК` (ru),
    /// `15 Nov 2027 00:00 (Moscow)` (en).
    pub fn time(&self, at: propusk_spec::Timestamp) -> String {
        let Ok(t) = jiff::Timestamp::from_second(at.unix()) else {
            return at.to_string();
        };
        let local = t.to_zoned(self.tz.clone());
        let zone = self.zone_name(at);
        match self.lang {
            Lang::Ru => format!("{} {zone}", local.strftime("%d.%m.%Y %H:%M")),
            Lang::En => format!(
                "{} {} {} {} ({zone})",
                local.day(),
                MONTHS_EN[usize::from(local.month().unsigned_abs()).saturating_sub(1) % 12],
                local.year(),
                local.strftime("%H:%M")
            ),
        }
    }

    /// A date: `15.11.2026` (ru), `15 Nov 2026` (en).
    pub fn date(&self, d: propusk_spec::Date) -> String {
        self.partial_date(d.year(), Some(d.month()), Some(d.day()))
    }

    /// A date of birth as precise as recorded: `12.05.1980`, `05.1980`, `1980` (ru);
    /// `12 May 1980`, `May 1980`, `1980` (en).
    pub fn birth_date(&self, b: &propusk_spec::BirthDate) -> String {
        match b {
            propusk_spec::BirthDate::Full(d) => self.date(*d),
            propusk_spec::BirthDate::YearMonth(y, m) => {
                self.partial_date(i32::from(*y), Some(*m), None)
            }
            propusk_spec::BirthDate::Year(y) => self.partial_date(i32::from(*y), None, None),
        }
    }

    fn partial_date(&self, year: i32, month: Option<u8>, day: Option<u8>) -> String {
        let month_en = |m: u8| MONTHS_EN[usize::from(m.clamp(1, 12)) - 1];
        match (self.lang, month, day) {
            (Lang::Ru, Some(m), Some(d)) => format!("{d:02}.{m:02}.{year}"),
            (Lang::Ru, Some(m), None) => format!("{m:02}.{year}"),
            (Lang::En, Some(m), Some(d)) => format!("{d} {} {year}", month_en(m)),
            (Lang::En, Some(m), None) => format!("{} {year}", month_en(m)),
            (_, _, _) => year.to_string(),
        }
    }

    /// How old something is, in words: `3 h`, `2 days` (en); `3 ч`, `2 дн.` (ru).
    pub fn age(&self, seconds: i64) -> String {
        let (h, d) = (seconds.max(0) / 3600, seconds.max(0) / 86_400);
        match self.lang {
            Lang::En if d >= 2 => format!("{d} days"),
            Lang::En if h == 1 => "1 hour".into(),
            Lang::En if h >= 1 => format!("{h} hours"),
            Lang::En => "less than an hour".into(),
            Lang::Ru if d >= 2 => format!("{d} дн."),
            Lang::Ru if h >= 1 => format!("{h} ч"),
            Lang::Ru => "меньше часа".into(),
        }
    }
}

#[cfg(test)]
mod locale_tests {
    use super::*;

    fn at(s: &str) -> propusk_spec::Timestamp {
        s.parse()
            .unwrap_or_else(|_| unreachable!("a literal instant"))
    }

    #[test]
    fn times_are_local_with_the_zone_named() {
        let moscow = |lang| Locale::named(lang, "Europe/Moscow");
        let t = at("2027-11-14T21:00:00Z");
        assert_eq!(moscow(Lang::Ru).time(t), "15.11.2027 00:00 МСК");
        let named = |iana| Locale::named(Lang::Ru, iana).zone_name(t);
        assert_eq!(named("Asia/Yekaterinburg"), "МСК+2");
        assert_eq!(named("Europe/Kaliningrad"), "МСК−1");
        assert_eq!(named("Asia/Kamchatka"), "МСК+9");
        assert_eq!(named("Europe/Berlin"), "CET");
        assert_eq!(named("Asia/Dubai"), "UTC+4");
        assert_eq!(named("Asia/Kolkata"), "IST");
        assert_eq!(named("Asia/Kathmandu"), "UTC+5:45");
        assert_eq!(
            Locale::named(Lang::En, "Asia/Yekaterinburg").zone_name(t),
            "Yekaterinburg"
        );
        assert_eq!(moscow(Lang::En).time(t), "15 Nov 2027 00:00 (Moscow)");
        assert_eq!(Locale::utc(Lang::En).time(t), "14 Nov 2027 21:00 (UTC)");
        let ny = Locale::named(Lang::En, "America/New_York");
        assert_eq!(ny.time(t), "14 Nov 2027 16:00 (New York)");
        assert_eq!(
            Locale::named(Lang::Ru, "No/Such_Zone").time(t),
            "14.11.2027 21:00 UTC"
        );
    }

    #[test]
    fn dates_read_as_people_write_them() {
        let ru = Locale::utc(Lang::Ru);
        let en = Locale::utc(Lang::En);
        let d = propusk_spec::Date::new(2026, 11, 5).unwrap_or_else(|| unreachable!("a date"));
        assert_eq!(
            (ru.date(d), en.date(d)),
            ("05.11.2026".into(), "5 Nov 2026".into())
        );
        let b = propusk_spec::BirthDate::YearMonth(1980, 5);
        assert_eq!(
            (ru.birth_date(&b), en.birth_date(&b)),
            ("05.1980".into(), "May 1980".into())
        );
        assert_eq!(ru.age(3 * 86_400), "3 дн.");
        assert_eq!(en.age(7200), "2 hours");
    }
}

/// Words for a kind of test.
pub fn test_kind(kind: propusk_spec::TestKind, lang: Lang) -> &'static str {
    use propusk_spec::TestKind::{Pcr, RapidAntigen};
    match (kind, lang) {
        (Pcr, Lang::En) => "PCR test",
        (Pcr, Lang::Ru) => "ПЦР-тест",
        (RapidAntigen, Lang::En) => "rapid antigen test",
        (RapidAntigen, Lang::Ru) => "экспресс-тест на антиген",
    }
}

/// Words for a test result.
pub fn test_result(result: propusk_spec::TestResult, lang: Lang) -> &'static str {
    use propusk_spec::TestResult::{Negative, Positive};
    match (result, lang) {
        (Negative, Lang::En) => "negative",
        (Negative, Lang::Ru) => "отрицательный",
        (Positive, Lang::En) => "positive",
        (Positive, Lang::Ru) => "положительный",
    }
}

/// Words for a movement pass's purpose.
pub fn pass_purpose(purpose: propusk_spec::PassPurpose, lang: Lang) -> &'static str {
    use propusk_spec::PassPurpose::{Medical, Other, Shopping, Work};
    match (purpose, lang) {
        (Work, Lang::En) => "work",
        (Work, Lang::Ru) => "работа",
        (Shopping, Lang::En) => "shopping",
        (Shopping, Lang::Ru) => "покупки",
        (Medical, Lang::En) => "medical",
        (Medical, Lang::Ru) => "медицина",
        (Other, Lang::En) => "other",
        (Other, Lang::Ru) => "другое",
    }
}
