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
    };
    pick(lang, en, ru)
}

/// The verdict as a headline: `VALID`, `INVALID`, `CANNOT TELL`.
pub fn verdict(verdict: Verdict, lang: Lang) -> &'static str {
    let (en, ru) = match verdict {
        Verdict::Valid => ("VALID", "ДЕЙСТВИТЕЛЕН"),
        Verdict::Invalid => ("INVALID", "НЕДЕЙСТВИТЕЛЕН"),
        Verdict::Unknown => ("CANNOT TELL", "НЕВОЗМОЖНО ПРОВЕРИТЬ"),
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
