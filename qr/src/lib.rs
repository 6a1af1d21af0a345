//! QR codes: their text read from real pixels — a photo of paper, a screenshot, a camera
//! frame — in PNG or JPEG; and credential text rendered as a QR image.
//!
//! Decoding is bounded (file size, image dimensions, decoder memory) and every failure is a
//! typed error. Two readers run in turn: rxing (a port of ZXing, robust to rotation, blur and
//! uneven light) and, when it finds nothing, rqrr.
//!
//! ```
//! let png = propusk_qr::render_png("PR1:ABC", 4).unwrap();
//! assert_eq!(propusk_qr::read_qr(&png).unwrap(), "PR1:ABC");
//! // A file that is not an image is refused with a typed error, not a panic.
//! assert!(matches!(propusk_qr::read_qr(b"not an image"), Err(propusk_qr::ScanError::NotAnImage(_))));
//! ```
#![deny(missing_docs)]

use std::path::Path;

use image::{GrayImage, ImageReader, Limits, Luma};
use qrcode::{Color, EcLevel, QrCode};
use thiserror::Error;

/// Largest image file accepted, in bytes.
pub const MAX_FILE_LEN: u64 = 32 << 20;
/// Largest width or height accepted, in pixels.
pub const MAX_DIMENSION: u32 = 8192;

/// Why no QR text came out of an image.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum ScanError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_LEN`] or the image larger than [`MAX_DIMENSION`].
    #[error("the image is too large")]
    TooLarge,
    /// The bytes are not a PNG or JPEG image, or the image is damaged.
    #[error("not a readable PNG or JPEG image: {0}")]
    NotAnImage(String),
    /// The image holds no QR code that could be read.
    #[error("no QR code found in the image")]
    NoCode,
}

impl ScanError {
    /// A stable snake_case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::Io { .. } => "unreadable_file",
            ScanError::TooLarge => "image_too_large",
            ScanError::NotAnImage(_) => "not_an_image",
            ScanError::NoCode => "no_qr_code",
        }
    }
}

/// Reads the QR code in an image file.
pub fn read_qr_file(path: &Path) -> Result<String, ScanError> {
    let io = |source| ScanError::Io {
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_LEN {
        return Err(ScanError::TooLarge);
    }
    read_qr(&std::fs::read(path).map_err(io)?)
}

/// Reads the QR code in PNG or JPEG bytes.
pub fn read_qr(bytes: &[u8]) -> Result<String, ScanError> {
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(ScanError::TooLarge);
    }
    let (luma, width, height) = decode_luma(bytes)?;
    read_qr_luma(luma, width, height)
}

/// Decodes an image to 8-bit greyscale within the limits.
pub fn decode_luma(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), ScanError> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ScanError::NotAnImage(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(512 << 20);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ScanError::TooLarge,
        other => ScanError::NotAnImage(other.to_string()),
    })?;
    let luma = image.into_luma8();
    let (w, h) = luma.dimensions();
    Ok((luma.into_raw(), w, h))
}

/// Reads the QR code in a greyscale frame (a camera's luma plane): rxing first, rqrr after.
pub fn read_qr_luma(luma: Vec<u8>, width: u32, height: u32) -> Result<String, ScanError> {
    if width == 0 || height == 0 || luma.len() != width as usize * height as usize {
        return Err(ScanError::NotAnImage(
            "the frame's size does not match its pixels".into(),
        ));
    }
    if let Ok(found) = rxing::helpers::detect_in_luma_slice(
        &luma,
        width,
        height,
        Some(rxing::BarcodeFormat::QR_CODE),
    ) {
        return Ok(found.getText().to_owned());
    }
    let (w, h) = (width as usize, height as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .ok_or(ScanError::NoCode)
}

/// Modules of quiet zone around a rendered code (ISO/IEC 18004 asks for four).
pub const QUIET_ZONE: u32 = 4;

/// Why a text could not be rendered.
#[derive(Debug, Error)]
pub enum RenderError {
    /// The text does not fit a QR code at error correction Q.
    #[error("the text does not fit a QR code: {0}")]
    TooLong(String),
    /// The PNG encoder failed.
    #[error("cannot encode PNG: {0}")]
    Png(String),
}

/// The QR code of `text` at error correction Q, as greyscale pixels: `scale` pixels per module
/// and a four-module quiet zone. Credential text is all in the QR alphanumeric set, so the
/// encoder uses alphanumeric mode for it.
pub fn render(text: &str, scale: u32) -> Result<GrayImage, RenderError> {
    let code = QrCode::with_error_correction_level(text, EcLevel::Q)
        .map_err(|e| RenderError::TooLong(e.to_string()))?;
    let n = code.width() as u32;
    let colors = code.to_colors();
    let scale = scale.max(1);
    let size = (n + 2 * QUIET_ZONE) * scale;
    Ok(GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (
            (x / scale).wrapping_sub(QUIET_ZONE),
            (y / scale).wrapping_sub(QUIET_ZONE),
        );
        let dark = mx < n && my < n && colors[(my * n + mx) as usize] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    }))
}

/// The QR code of `text` as PNG bytes (see [`render`]).
pub fn render_png(text: &str, scale: u32) -> Result<Vec<u8>, RenderError> {
    let image = render(text, scale)?;
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| RenderError::Png(e.to_string()))?;
    Ok(out.into_inner())
}

/// The QR code of `text` as an SVG document (error correction Q, four-module quiet zone).
pub fn render_svg(text: &str) -> Result<String, RenderError> {
    let code = QrCode::with_error_correction_level(text, EcLevel::Q)
        .map_err(|e| RenderError::TooLong(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}
