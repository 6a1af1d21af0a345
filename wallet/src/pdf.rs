//! A printable A4 certificate in Russian and English: the holder, what the credential
//! certifies, and the QR large enough to scan from paper (vector modules of about 1 mm). Text is
//! set in DejaVu Sans (embedded, with a ToUnicode map so that the text layer can be searched and
//! copied).

use propusk_spec::{Body, Credential};
use propusk_trust_list::{Lang, Locale};

use crate::error::WalletError;
use crate::page::{A4, Writer, document};

/// How the certificate writes values: Russian and English, dates as `DD.MM.YYYY`, times in the
/// jurisdiction's zone.
struct Both {
    ru: Locale,
    en: Locale,
}

impl Both {
    fn date(&self, d: propusk_spec::Date) -> String {
        self.ru.date(d)
    }

    fn time(&self, t: propusk_spec::Timestamp) -> String {
        format!("{} / {}", self.ru.time(t), self.en.time(t))
    }

    fn country(&self, c: &propusk_spec::Country) -> String {
        use propusk_eudcc::valuesets::{country, country_ru};
        let code = c.as_str();
        match (country_ru(code), country(code)) {
            (Some(ru), Some(en)) => format!("{ru} / {en}"),
            _ => code.to_owned(),
        }
    }

    fn words(&self, ru: &str, en: &str) -> String {
        if ru == en {
            ru.to_owned()
        } else {
            format!("{ru} / {en}")
        }
    }
}

fn body_lines(c: &Credential, both: &Both) -> Vec<(String, String)> {
    use propusk_eudcc::valuesets::{vaccine_product, vaccine_product_ru};
    use propusk_trust_list::words;
    let (ru, en) = (Lang::Ru, Lang::En);
    match &c.body {
        Body::Vaccination(v) => {
            let code = v.product.code();
            let product = both.words(
                vaccine_product_ru(code).unwrap_or(code),
                vaccine_product(code).unwrap_or(code),
            );
            vec![
                ("Вакцина / Vaccine".into(), product),
                ("Доза / Dose".into(), format!("{} / {}", v.dose, v.doses)),
                ("Дата / Date".into(), both.date(v.date)),
                ("Страна / Country".into(), both.country(&v.country)),
                (
                    "Медицинская организация / Administered by".into(),
                    v.administered_by.to_string(),
                ),
            ]
        }
        Body::Recovery(r) => vec![
            (
                "Первый положительный тест / First positive test".into(),
                both.date(r.first_positive),
            ),
            ("Страна / Country".into(), both.country(&r.country)),
            (
                "Медицинская организация / Certified by".into(),
                r.administered_by.to_string(),
            ),
        ],
        Body::Test(t) => vec![
            (
                "Вид теста / Test".into(),
                both.words(words::test_kind(t.kind, ru), words::test_kind(t.kind, en)),
            ),
            ("Взятие пробы / Sampled".into(), both.time(t.sampled_at)),
            (
                "Результат / Result".into(),
                both.words(
                    words::test_result(t.result, ru),
                    words::test_result(t.result, en),
                ),
            ),
            ("Лаборатория / Centre".into(), t.center.to_string()),
            ("Страна / Country".into(), both.country(&t.country)),
        ],
        Body::Exemption(e) => vec![
            ("Действует с / Valid from".into(), both.date(e.valid_from)),
            (
                "Действует по / Valid until".into(),
                both.date(e.valid_until),
            ),
            ("Страна / Country".into(), both.country(&e.country)),
        ],
        Body::Pass(p) => vec![
            (
                "Цель / Purpose".into(),
                both.words(
                    words::pass_purpose(p.purpose, ru),
                    words::pass_purpose(p.purpose, en),
                ),
            ),
            ("С / From".into(), both.time(p.valid_from)),
            ("До / Until".into(), both.time(p.valid_until)),
        ],
    }
}

fn title(c: &Credential) -> &'static str {
    match c.body {
        Body::Vaccination(_) => "Сертификат о вакцинации / Vaccination certificate",
        Body::Recovery(_) => "Сертификат о перенесённом заболевании / Recovery certificate",
        Body::Test(_) => "Результат теста / Test result",
        Body::Exemption(_) => "Медицинский отвод / Medical exemption",
        Body::Pass(_) => "Пропуск / Movement pass",
    }
}

/// The certificate of `credential` (whose text is `text`) as PDF bytes; times in the zone named
/// `tz`; the issuing authority (name, country code) when the trust data knows the key.
/// With `twin` (the credential's EU DCC twin, `HC1:`), a second page in English for travel.
/// A printable A4 certificate (PDF) of the credential `text`, in Russian and English, with its
/// QR; with a second page in English for travel when `kept` (the wallet's other texts) holds its
/// EU DCC twin. An EU DCC on its own gets the travel page alone. Times in the jurisdiction of
/// `bundle` (UTC without one); the issuing authority by the key that signed it, when `bundle`
/// knows the key.
pub fn certificate_of(
    text: &str,
    kept: &[String],
    bundle: Option<&propusk_trust_list::Bundle>,
) -> Result<Vec<u8>, WalletError> {
    let context = PrintContext::of(text, bundle);
    certificate_in(text, kept, &context)
}

/// What printing a credential takes from the trust data: the jurisdiction's time zone and the
/// issuing authority of the key that signed it (when the trust data knows the key). Taken by
/// the engine that holds the trust data, handed to the one that prints (the browser keeps the
/// PDF's code and font in a module of its own, fetched when first needed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintContext {
    /// The IANA time zone times are printed in.
    pub tz: String,
    /// The authority's name and country.
    pub issuer: Option<(String, String)>,
    /// The holder's name as the holder noted it (a credential carries initials only): printed
    /// instead of the initials.
    pub name: Option<String>,
}

impl PrintContext {
    /// The context of `text` in `bundle` (UTC and no authority without one).
    pub fn of(text: &str, bundle: Option<&propusk_trust_list::Bundle>) -> Self {
        let tz = bundle.map_or_else(|| "UTC".to_owned(), |b| b.content().rules.time_zone.clone());
        let issuer = propusk_spec::decode_any(text).ok().and_then(|unverified| {
            bundle.and_then(|b| {
                b.trust_list()
                    .key(unverified.key_id())
                    .map(|k| (k.issuer.clone(), k.country.clone()))
            })
        });
        PrintContext {
            tz,
            issuer,
            name: None,
        }
    }
}

/// [`certificate_of`] with the trust data's part already taken ([`PrintContext`]).
pub fn certificate_in(
    text: &str,
    kept: &[String],
    context: &PrintContext,
) -> Result<Vec<u8>, WalletError> {
    if text.starts_with(propusk_eudcc::PREFIX) {
        return travel(text, &context.tz);
    }
    let unverified = propusk_spec::decode_any(text)?;
    let own_id = unverified.unverified_claims().id;
    let twin = kept.iter().find(|t| crate::eu::twin_of(t) == Some(own_id));
    // The holder's own note; else the names the twin carries in full; else the initials.
    let name = context.name.clone().or_else(|| {
        let hc1 = propusk_eudcc::decode(twin?).ok()?;
        let nam = &hc1.certificate["nam"];
        let names: Vec<&str> = ["fn", "gn"]
            .iter()
            .filter_map(|k| nam[*k].as_str())
            .collect();
        Some(names.join(" "))
    });
    certificate(
        unverified.unverified_claims(),
        text,
        context,
        name.as_deref(),
        twin.map(String::as_str),
    )
}

pub(crate) fn certificate(
    credential: &Credential,
    text: &str,
    context: &PrintContext,
    name: Option<&str>,
    twin: Option<&str>,
) -> Result<Vec<u8>, WalletError> {
    let (tz, issuer) = (context.tz.as_str(), context.issuer.clone());
    let mut w = Writer::new()?;
    certificate_page(&mut w, credential, text, (tz, name), issuer)?;
    if let Some(twin) = twin {
        crate::pdf_travel::travel_page(&mut w, twin, tz)?;
    }
    Ok(document(w, name))
}

/// The travel page alone, for an EU DCC (`HC1:`) kept without its Propusk credential.
pub(crate) fn travel(text: &str, tz: &str) -> Result<Vec<u8>, WalletError> {
    let mut w = Writer::new()?;
    crate::pdf_travel::travel_page(&mut w, text, tz)?;
    Ok(document(w, None))
}

fn certificate_page(
    w: &mut Writer<'_>,
    credential: &Credential,
    text: &str,
    (tz, name): (&str, Option<&str>),
    issuer: Option<(String, String)>,
) -> Result<(), WalletError> {
    let both = Both {
        ru: Locale::named(Lang::Ru, tz),
        en: Locale::named(Lang::En, tz),
    };
    let h = &credential.holder;
    let (left, mut y) = (56.0, A4.1 - 72.0);
    w.text(left, y, 17.0, title(credential));
    y -= 36.0;
    let native = name.map_or_else(|| h.initials.to_string(), str::to_owned);
    let latin = propusk_spec::translit::text_to_latin(&native).to_uppercase();
    let mut rows: Vec<(String, String)> = vec![
        ("Владелец / Holder".into(), native),
        (String::new(), latin),
        (
            "Дата рождения / Date of birth".into(),
            both.ru.birth_date(&h.birth_date),
        ),
        ("Документ / Document".into(), h.document.masked().to_owned()),
    ];
    rows.extend(body_lines(credential, &both));
    rows.push((
        "Действителен до / Valid until".into(),
        both.time(credential.expires_at),
    ));
    if let Some((name, country)) = issuer {
        let country = country
            .parse::<propusk_spec::Country>()
            .map_or(country, |c| both.country(&c));
        rows.push(("Выдан / Issued by".into(), format!("{name}, {country}")));
    }
    rows.push(("Номер / Certificate id".into(), credential.id.to_string()));
    w.rows(left, y, &rows);
    // The QR: about 1 mm modules, bottom centre.
    let size = w.qr(text, 80.0, 260.0)?;
    w.text(
        (A4.0 - size) / 2.0,
        62.0,
        9.0,
        "Предъявите QR-код для проверки / Show this QR code to be checked",
    );
    w.end_page();
    Ok(())
}
