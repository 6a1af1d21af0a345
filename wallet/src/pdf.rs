//! A printable A4 certificate in Russian and English: the holder, what the credential
//! certifies, and the QR large enough to scan from paper (vector modules of about 1 mm). Text is
//! set in DejaVu Sans (embedded, with a ToUnicode map so that the text layer can be searched and
//! copied).

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use propusk_spec::{Body, Credential};
use propusk_trust_list::{Lang, Locale};

use crate::error::WalletError;

/// DejaVu Sans (Bitstream Vera licence, see `fonts/LICENSE.txt`): Latin and Cyrillic.
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

pub(crate) const A4: (f32, f32) = (595.0, 842.0);

pub(crate) struct Writer<'f> {
    face: ttf_parser::Face<'f>,
    used: std::collections::BTreeMap<u16, char>,
    content: Content,
    /// The pages done, each a finished content stream.
    pages: Vec<Vec<u8>>,
}

impl Writer<'_> {
    fn new() -> Result<Self, WalletError> {
        Ok(Writer {
            face: ttf_parser::Face::parse(FONT, 0).map_err(|e| WalletError::Font(e.to_string()))?,
            used: Default::default(),
            content: Content::new(),
            pages: Vec::new(),
        })
    }

    /// Ends the page being drawn.
    pub(crate) fn end_page(&mut self) {
        let page = std::mem::replace(&mut self.content, Content::new()).finish();
        self.pages.push(page.to_vec());
    }

    /// The QR code of `text` as filled squares, about 1 mm each (at least 2.8 pt), `width`
    /// points wide at most, centred, its bottom at `y0`; the side drawn.
    pub(crate) fn qr(&mut self, text: &str, y0: f32, width: f32) -> Result<f32, WalletError> {
        let qr = propusk_qr::encode(text)?;
        let side = qr.size + 2 * propusk_qr::QUIET_ZONE;
        let module = (width / side as f32).max(2.8);
        let size = module * side as f32;
        let x0 = (A4.0 - size) / 2.0;
        self.content.set_fill_gray(0.0);
        for my in 0..qr.size {
            for mx in 0..qr.size {
                if qr.dark[(my * qr.size + mx) as usize] {
                    let x = x0 + (mx + propusk_qr::QUIET_ZONE) as f32 * module;
                    let y = y0 + size - (my + propusk_qr::QUIET_ZONE + 1) as f32 * module;
                    self.content.rect(x, y, module, module);
                }
            }
        }
        self.content.fill_nonzero();
        Ok(size)
    }

    /// Label and value rows from `y` down; the `y` below them.
    pub(crate) fn rows(&mut self, left: f32, mut y: f32, rows: &[(String, String)]) -> f32 {
        for (label, value) in rows {
            if !label.is_empty() {
                self.text(left, y, 9.0, label);
                y -= 14.0;
            }
            self.text(left, y, 12.5, value);
            y -= 22.0;
        }
        y
    }

    /// Sets `text` at (`x`, `y`) in `size` points.
    pub(crate) fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let mut glyphs = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let gid = self.face.glyph_index(c).map_or(0, |g| g.0);
            self.used.entry(gid).or_insert(c);
            glyphs.extend_from_slice(&gid.to_be_bytes());
        }
        self.content.begin_text();
        self.content.set_font(Name(b"F1"), size);
        self.content.next_line(x, y);
        self.content.show(Str(&glyphs));
        self.content.end_text();
    }

    fn width(&self, gid: u16) -> f32 {
        let units = f32::from(self.face.units_per_em());
        self.face
            .glyph_hor_advance(ttf_parser::GlyphId(gid))
            .map_or(0.0, |a| f32::from(a) * 1000.0 / units)
    }
}

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
        PrintContext { tz, issuer }
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
    certificate(
        unverified.unverified_claims(),
        text,
        &context.tz,
        context.issuer.clone(),
        twin.map(String::as_str),
    )
}

pub(crate) fn certificate(
    credential: &Credential,
    text: &str,
    tz: &str,
    issuer: Option<(String, String)>,
    twin: Option<&str>,
) -> Result<Vec<u8>, WalletError> {
    let mut w = Writer::new()?;
    certificate_page(&mut w, credential, text, tz, issuer)?;
    if let Some(twin) = twin {
        crate::pdf_travel::travel_page(&mut w, twin, tz)?;
    }
    Ok(document(w))
}

/// The travel page alone, for an EU DCC (`HC1:`) kept without its Propusk credential.
pub(crate) fn travel(text: &str, tz: &str) -> Result<Vec<u8>, WalletError> {
    let mut w = Writer::new()?;
    crate::pdf_travel::travel_page(&mut w, text, tz)?;
    Ok(document(w))
}

fn certificate_page(
    w: &mut Writer<'_>,
    credential: &Credential,
    text: &str,
    tz: &str,
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
    let names: Vec<&propusk_spec::Name> = h.names().collect();
    let native = names
        .iter()
        .map(|n| n.native())
        .collect::<Vec<_>>()
        .join(" ");
    let latin = names
        .iter()
        .map(|n| n.latin())
        .collect::<Vec<_>>()
        .join(" ");
    let mut rows: Vec<(String, String)> = vec![
        ("Владелец / Holder".into(), native),
        (String::new(), latin),
        (
            "Дата рождения / Date of birth".into(),
            both.ru.birth_date(&h.birth_date),
        ),
        ("Документ / Document".into(), h.document.masked()),
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

/// The PDF of the pages drawn, with the font subset to the glyphs they use.
fn document(w: Writer<'_>) -> Vec<u8> {
    let (catalog, pages) = (Ref::new(1), Ref::new(2));
    let (type0, cid, descriptor, file, cmap) = (
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
        Ref::new(7),
    );
    let page_refs: Vec<(Ref, Ref)> = (0..w.pages.len() as i32)
        .map(|i| (Ref::new(8 + 2 * i), Ref::new(9 + 2 * i)))
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(page_refs.len() as i32);
    for ((page, contents), stream) in page_refs.iter().zip(&w.pages) {
        let mut p = pdf.page(*page);
        p.parent(pages)
            .media_box(Rect::new(0.0, 0.0, A4.0, A4.1))
            .contents(*contents);
        p.resources().fonts().pair(Name(b"F1"), type0);
        p.finish();
        pdf.stream(*contents, &deflate(stream))
            .filter(pdf_writer::Filter::FlateDecode);
    }
    let base = Name(b"DejaVuSans");
    pdf.type0_font(type0)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let mut font = pdf.cid_font(cid);
    font.subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(info)
        .font_descriptor(descriptor)
        .default_width(0.0);
    font.cid_to_gid_map_predefined(Name(b"Identity"));
    let mut widths = font.widths();
    for &gid in w.used.keys() {
        widths.consecutive(gid, [w.width(gid)]);
    }
    widths.finish();
    font.finish();
    let units = f32::from(w.face.units_per_em());
    let scale = |v: i16| f32::from(v) * 1000.0 / units;
    let bbox = w.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(base)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(bbox.x_min),
            scale(bbox.y_min),
            scale(bbox.x_max),
            scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(w.face.ascender()))
        .descent(scale(w.face.descender()))
        .cap_height(scale(w.face.capital_height().unwrap_or(w.face.ascender())))
        .stem_v(80.0)
        .font_file2(file);
    // Only the glyphs used (their ids kept, the rest's outlines dropped), deflated: the
    // certificate stays small (the whole font is ~750 KB).
    let mut glyphs: Vec<u16> = std::iter::once(0).chain(w.used.keys().copied()).collect();
    glyphs.sort_unstable();
    let font_bytes = subsetter::subset(FONT, 0, subsetter::Profile::pdf(&glyphs))
        .unwrap_or_else(|_| FONT.to_vec());
    pdf.stream(file, &deflate(&font_bytes))
        .filter(pdf_writer::Filter::FlateDecode);
    let mut unicode = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), info);
    for (&gid, &c) in &w.used {
        unicode.pair(gid, c);
    }
    let cmap_bytes = unicode.finish();
    pdf.cmap(cmap, &cmap_bytes);
    pdf.finish()
}

/// zlib-deflated bytes, as a PDF `FlateDecode` stream holds them.
fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(bytes);
    z.finish().unwrap_or_default()
}
