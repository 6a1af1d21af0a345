//! The A4 page the wallet prints on: text set in DejaVu Sans (embedded, subset to the glyphs
//! used, with a ToUnicode map so that the text layer can be searched and copied), label and
//! value rows, and QR codes as vector squares; the finished PDF. The certificate (`pdf`) and
//! the travel page (`pdf_travel`) both draw with it.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

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
    pub(crate) fn new() -> Result<Self, WalletError> {
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

/// The key of the document information dictionary under which a certificate keeps the name it
/// prints (the holder's note), for a wallet that imports the PDF to keep it as its own note.
pub(crate) const HOLDER_KEY: &[u8] = b"PropuskHolder";

/// The PDF of the pages drawn, with the font subset to the glyphs they use; `holder`, the name
/// printed, also in its document information.
pub(crate) fn document(w: Writer<'_>, holder: Option<&str>) -> Vec<u8> {
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
    if let Some(holder) = holder {
        let info = Ref::new(8 + 2 * page_refs.len() as i32);
        pdf.document_info(info)
            .pair(Name(HOLDER_KEY), pdf_writer::TextStr(holder));
    }
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
