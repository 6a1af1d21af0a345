//! QR codes read back from real pixels: rendered, encoded as PNG and JPEG, rotated, shrunk,
//! darkened and noised as a phone photo of paper would be.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma};
use propusk_qr::{ScanError, read_qr};

const TEXT: &str = "PR2:PWGSLK/-45R8B4WWO8X7BY%K4F372J6002F351NB48FV9Z+B*7I7*BURA VCXLUH:KU.8UUSP3UYPSDV8UUSH/T299UUSP3U%USEAVO73/CP9003Y8J12.07JB4%50JB05H0EN0EC90T0CA0 Z0SXOZYQH64E8Q7INIG6M48315TFC/XB:9P+DJ79J2UJS/LGNV$%D-ZB8DM KRR4GF+ANMF:XLKUCXAN5IUZ/4+XVFOTULV/%HT+HPXL*4L-LPBIF3$N60";

fn render(text: &str, scale: u32) -> GrayImage {
    propusk_qr::render(text, scale).unwrap()
}

/// Rotates by `degrees` about the centre (bilinear), on a grey background, darkens towards one
/// corner (uneven light), and adds deterministic noise — a photo of a printed code.
fn photograph(img: &GrayImage, degrees: f64, noise: i32) -> GrayImage {
    // The photo frames the code with room to spare, so no rotation cuts a corner off.
    let (iw, ih) = img.dimensions();
    let (w, h) = (iw * 3 / 2, ih * 3 / 2);
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let (ox, oy) = ((w - iw) as f64 / 2.0, (h - ih) as f64 / 2.0);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let mut seed = 0x2545F4914F6CDD1Du64;
    GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f64 - cx, y as f64 - cy);
        let (sx, sy) = (
            cos * dx + sin * dy + cx - ox,
            -sin * dx + cos * dy + cy - oy,
        );
        let sample = |px: f64, py: f64| {
            if px < 0.0 || py < 0.0 || px >= (iw - 1) as f64 || py >= (ih - 1) as f64 {
                200.0
            } else {
                let (x0, y0) = (px.floor() as u32, py.floor() as u32);
                let (fx, fy) = (px - x0 as f64, py - y0 as f64);
                let p = |x, y| img.get_pixel(x, y)[0] as f64;
                p(x0, y0) * (1.0 - fx) * (1.0 - fy)
                    + p(x0 + 1, y0) * fx * (1.0 - fy)
                    + p(x0, y0 + 1) * (1.0 - fx) * fy
                    + p(x0 + 1, y0 + 1) * fx * fy
            }
        };
        let light = 0.65 + 0.35 * (1.0 - (x + y) as f64 / (w + h) as f64);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed % (2 * noise as u64 + 1)) as i32 - noise;
        Luma([((sample(sx, sy) * light) as i32 + n).clamp(0, 255) as u8])
    })
}

fn encode(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn clean_png_and_jpeg() {
    let img = render(TEXT, 6);
    assert_eq!(read_qr(&encode(&img, ImageFormat::Png)).unwrap(), TEXT);
    assert_eq!(read_qr(&encode(&img, ImageFormat::Jpeg)).unwrap(), TEXT);
}

#[test]
fn rotated_noisy_unevenly_lit_photos() {
    let img = render(TEXT, 8);
    for degrees in [3.0, -7.0, 15.0, 90.0 + 4.0] {
        let photo = photograph(&img, degrees, 30);
        let jpeg = encode(&photo, ImageFormat::Jpeg);
        assert_eq!(
            read_qr(&jpeg).ok().as_deref(),
            Some(TEXT),
            "rotated {degrees}°"
        );
    }
}

#[test]
fn small_codes() {
    // Three pixels per module: a code of version 12 in 213 × 213 pixels.
    let img = render(TEXT, 3);
    assert_eq!(read_qr(&encode(&img, ImageFormat::Png)).unwrap(), TEXT);
}

#[test]
fn what_is_not_a_readable_code() {
    assert!(matches!(read_qr(b""), Err(ScanError::NotAnImage(_))));
    assert!(matches!(
        read_qr(b"\x89PNG\r\n\x1a\n garbage"),
        Err(ScanError::NotAnImage(_))
    ));
    let png = encode(&render(TEXT, 4), ImageFormat::Png);
    assert!(matches!(
        read_qr(&png[..png.len() / 2]),
        Err(ScanError::NotAnImage(_))
    ));
    let blank = GrayImage::from_pixel(300, 300, Luma([255]));
    assert!(matches!(
        read_qr(&encode(&blank, ImageFormat::Png)),
        Err(ScanError::NoCode)
    ));
    // A PNG header that claims 100000 × 100000 pixels.
    let mut huge = png.clone();
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let refused = read_qr(&huge);
    assert!(
        matches!(refused, Err(ScanError::TooLarge | ScanError::NotAnImage(_))),
        "{refused:?}"
    );
    // A device without end (its metadata says 0 bytes): refused after the cap, not read forever.
    #[cfg(unix)]
    assert!(matches!(
        propusk_qr::read_qr_file(std::path::Path::new("/dev/zero")),
        Err(ScanError::TooLarge)
    ));
}

#[test]
fn terminal_blocks_hold_every_module() {
    let m = propusk_qr::encode(TEXT).unwrap();
    let blocks = propusk_qr::render_terminal(TEXT, true).unwrap();
    let lines: Vec<Vec<char>> = blocks.lines().map(|l| l.chars().collect()).collect();
    let quiet = propusk_qr::QUIET_ZONE;
    for y in 0..m.size {
        for x in 0..m.size {
            let (row, col) = (((y + quiet) / 2) as usize, (x + quiet) as usize);
            let top = (y + quiet).is_multiple_of(2);
            let shown = match lines[row][col] {
                '█' => true,
                '▀' => top,
                '▄' => !top,
                _ => false,
            };
            assert_eq!(shown, m.dark[(y * m.size + x) as usize], "module {x},{y}");
        }
    }
    // Drawn as pixels (a phone camera looking at the screen), the blocks still read.
    let scale = 4;
    let height = lines.len() as u32 * 2 * scale;
    let width = lines[0].len() as u32 * scale;
    let img = GrayImage::from_fn(width, height, |x, y| {
        let c = lines[(y / scale / 2) as usize][(x / scale) as usize];
        let top = (y / scale).is_multiple_of(2);
        let dark = c == '█' || (c == '▀' && top) || (c == '▄' && !top);
        Luma([if dark { 0 } else { 255 }])
    });
    assert_eq!(read_qr(&encode(&img, ImageFormat::Png)).unwrap(), TEXT);
}

/// Images made to stall a reader: a page of QR finder patterns (every triple a candidate code)
/// and a large field of noise. Each is answered as unreadable within the reading budget instead
/// of keeping the reader busy for minutes.
#[test]
fn images_made_to_stall_the_reader_are_answered_in_bounded_time() {
    let side = 1024u32;
    let finders = GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / 4) % 8, (y / 4) % 8);
        let ring = mx
            .min(6u32.saturating_sub(mx))
            .min(my.min(6u32.saturating_sub(my)));
        Luma([if mx < 7 && my < 7 && ring != 1 {
            0
        } else {
            255
        }])
    });
    let answer = read_qr(&encode(&finders, ImageFormat::Png));
    assert!(
        matches!(answer, Err(ScanError::Budget | ScanError::NoCode)),
        "{answer:?}"
    );
    let mut seed = 7u64;
    let noise = GrayImage::from_fn(4096, 4096, |_, _| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        Luma([if seed >> 63 == 1 { 255 } else { 0 }])
    });
    let answer = propusk_qr::read_qr_luma(noise.into_raw(), 4096, 4096);
    assert!(
        matches!(answer, Err(ScanError::Budget | ScanError::NoCode)),
        "{answer:?}"
    );
}

/// Light modules on dark (a phone in dark mode) and heavy blur (out of focus, Gaussian σ up to
/// 0.45 of a module): what zxing-cpp 3.1 reads on the same images, this reader reads
/// (`qr/examples/read_images.rs` compares whole sets; the figures are in the closing note).
#[test]
fn inverted_and_blurred_codes() {
    let invert = |img: &GrayImage| {
        let mut out = img.clone();
        image::imageops::invert(&mut out);
        out
    };
    let clean = render(TEXT, 5);
    assert_eq!(
        read_qr(&encode(&invert(&clean), ImageFormat::Png))
            .ok()
            .as_deref(),
        Some(TEXT),
        "inverted"
    );
    for module in [5u32, 8] {
        let img = render(TEXT, module);
        for sigma in [0.3f32, 0.45] {
            let blurred = image::imageops::blur(&img, sigma * module as f32);
            for (what, frame) in [("as is", blurred.clone()), ("inverted", invert(&blurred))] {
                assert_eq!(
                    read_qr(&encode(&frame, ImageFormat::Png)).ok().as_deref(),
                    Some(TEXT),
                    "{module} px a module, blur σ {sigma} modules, {what}"
                );
            }
        }
    }
}

/// Strips thinner than the scale factor (an 89-byte 8192×1 PNG) and frames whose sides multiply
/// past 32 bits are answered, never a panic (review 3, F4).
#[test]
fn thin_and_oversized_frames_are_answered() {
    for (w, h) in [
        (8192, 1),
        (8192, 2),
        (8192, 3),
        (4097, 1),
        (2049, 1),
        (1, 8192),
        (8192, 21),
        (8192, 90),
        (21, 8192),
        (3000, 25),
    ] {
        let strip = GrayImage::from_pixel(w, h, Luma([255]));
        let answer = read_qr(&encode(&strip, ImageFormat::Png));
        assert!(
            matches!(answer, Err(ScanError::NoCode)),
            "{w}×{h}: {answer:?}"
        );
        let frame = propusk_qr::read_qr_luma(vec![255; (w * h) as usize], w, h);
        assert!(
            matches!(frame, Err(ScanError::NoCode)),
            "{w}×{h}: {frame:?}"
        );
    }
    // 100000 × 42950 wraps to 0 in 32 bits: refused by its size, not read.
    let wrapped = propusk_qr::read_qr_luma(Vec::new(), 100_000, 42_950);
    assert!(
        matches!(wrapped, Err(ScanError::NotAnImage(_))),
        "{wrapped:?}"
    );
    let long = propusk_qr::read_qr_luma(vec![0; 100_000], 100_000, 1);
    assert!(matches!(long, Err(ScanError::TooLarge)), "{long:?}");
}

/// A 16-bit RGBA image whose decoded pixels would take more than the reader allows (the
/// review's 522 KB PNG of 8192² pixels decodes to 512 MiB) is refused before it is decoded.
#[test]
fn images_too_large_decoded_are_refused_before_decoding() {
    let (w, h) = (5000u32, 4000u32);
    let mut png = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut png, w, h);
        encoder.set_color(::png::ColorType::Rgba);
        encoder.set_depth(::png::BitDepth::Sixteen);
        encoder.set_compression(::png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0xffu8; w as usize * 8];
        for _ in 0..h {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    assert!(png.len() < 1 << 20, "{} bytes", png.len());
    let refused = read_qr(&png);
    assert!(matches!(refused, Err(ScanError::TooLarge)), "{refused:?}");
}

/// A code of the size national test sets publish (version 20–25: an EU certificate's 600
/// characters) as one pixel a module, resized to `px` pixels a module, smoothly or not.
fn resized(px: f32, filter: image::imageops::FilterType) -> (GrayImage, String) {
    let long = format!("{TEXT}{}", &TEXT[4..260]);
    let one = render(&long, 1);
    let side = (one.width() as f32 * px).round() as u32;
    (image::imageops::resize(&one, side, side, filter), long)
}

#[test]
fn what_screens_and_pages_really_show() {
    use image::imageops::FilterType::{Nearest, Triangle};
    // Modules of about one and a half pixels, and of uneven widths (a page rendered at a
    // resolution that is not a multiple of its modules).
    for (px, filter) in [
        (1.5, Triangle),
        (1.6, Triangle),
        (2.3, Nearest),
        (2.7, Nearest),
    ] {
        let (img, long) = resized(px, filter);
        let read = read_qr(&encode(&img, ImageFormat::Png));
        assert_eq!(read.ok(), Some(long), "{px} px a module, {filter:?}");
    }
    // Dark modules on a transparent ground whose pixels say black: a screen shows them on white.
    let (img, long) = resized(3.0, Nearest);
    let rgba = image::RgbaImage::from_fn(img.width(), img.height(), |x, y| {
        let dark = img.get_pixel(x, y)[0] < 128;
        image::Rgba([0, 0, 0, if dark { 255 } else { 0 }])
    });
    let mut png = Cursor::new(Vec::new());
    rgba.write_to(&mut png, ImageFormat::Png).unwrap();
    assert_eq!(read_qr(&png.into_inner()).ok(), Some(long));
}
