//! Reading: a QR code's text from an image file, image bytes or a camera's luma plane, within
//! bounds of size, memory and time.

use std::path::Path;

#[cfg(not(target_arch = "wasm32"))]
use std::sync::mpsc;
use std::time::Duration;

use image::{ImageReader, Limits};
use thiserror::Error;

/// Largest image file accepted, in bytes.
pub const MAX_FILE_LEN: u64 = 32 << 20;
/// Largest width or height accepted, in pixels.
pub const MAX_DIMENSION: u32 = 8192;
/// Frames larger than this on their long side are scaled down before they are searched (a
/// code in a phone photo keeps several pixels a module): the readers' work grows faster than
/// the pixels.
pub const MAX_SCAN_SIDE: u32 = 2048;
/// The time one image may take to read; past it, the image is answered as unreadable. A real
/// photo takes milliseconds; images made to stall a reader (thousands of finder patterns, large
/// noise) are what this bounds.
pub const READ_BUDGET: Duration = Duration::from_secs(4);

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
    /// Reading the image took longer than [`READ_BUDGET`]: it was given up.
    #[error("no QR code found in the image within {} s", READ_BUDGET.as_secs())]
    Budget,
}

/// Reads the QR code in an image file.
pub fn read_qr_file(path: &Path) -> Result<String, ScanError> {
    let io = |source| ScanError::Io {
        path: path.display().to_string(),
        source,
    };
    // The cap counts the bytes read, whatever the file is: a device or a pipe has no length.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(path).map_err(io)?, MAX_FILE_LEN + 1),
        &mut bytes,
    )
    .map_err(io)?;
    read_qr(&bytes)
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

/// Reads the QR code in a greyscale frame (a camera's luma plane): rxing first, rqrr after,
/// on the frame scaled down to [`MAX_SCAN_SIDE`], within [`READ_BUDGET`].
pub fn read_qr_luma(luma: Vec<u8>, width: u32, height: u32) -> Result<String, ScanError> {
    if width == 0 || height == 0 || luma.len() != width as usize * height as usize {
        return Err(ScanError::NotAnImage(
            "the frame's size does not match its pixels".into(),
        ));
    }
    let (luma, width, height) = scale_down(luma, width, height, MAX_SCAN_SIDE);
    within_budget(move || search(&luma, width, height))
}

/// Runs `read` on a thread of its own and waits at most [`READ_BUDGET`] for it. A reader past
/// the budget is left to finish on its own (its answer is dropped); the caller has its answer.
#[cfg(not(target_arch = "wasm32"))]
fn within_budget(
    read: impl FnOnce() -> Result<String, ScanError> + Send + 'static,
) -> Result<String, ScanError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("qr-read".into())
        .spawn(move || {
            let _ = tx.send(read());
        })
        .map_err(|e| ScanError::NotAnImage(format!("cannot start the reader: {e}")))?;
    rx.recv_timeout(READ_BUDGET)
        .unwrap_or(Err(ScanError::Budget))
}

/// In the browser there are no threads: the frame is read in place (the page's worker holds
/// the budget).
#[cfg(target_arch = "wasm32")]
fn within_budget(
    read: impl FnOnce() -> Result<String, ScanError> + Send + 'static,
) -> Result<String, ScanError> {
    read()
}

/// Looks for a code as it is, then inverted (light modules on dark, as phones in dark mode show
/// them), then at half size (a heavily blurred code sharpens relative to the reader's
/// binarisation blocks), then with rqrr, as it is and inverted. Each step runs only when those
/// before found nothing.
fn search(luma: &[u8], width: u32, height: u32) -> Result<String, ScanError> {
    if let Some(text) = rxing_read(luma, width, height) {
        return Ok(text);
    }
    let inverted: Vec<u8> = luma.iter().map(|&p| 255 - p).collect();
    if let Some(text) = rxing_read(&inverted, width, height) {
        return Ok(text);
    }
    if width.min(height) >= 2 * MIN_HALVED_SIDE {
        let (half, w, h) = scale_down(luma.to_vec(), width, height, width.max(height) / 2);
        if let Some(text) = rxing_read(&half, w, h) {
            return Ok(text);
        }
        let inverted: Vec<u8> = half.iter().map(|&p| 255 - p).collect();
        if let Some(text) = rxing_read(&inverted, w, h) {
            return Ok(text);
        }
    }
    rqrr_read(luma, width, height)
        .or_else(|| rqrr_read(&inverted, width, height))
        .ok_or(ScanError::NoCode)
}

fn rqrr_read(luma: &[u8], width: u32, height: u32) -> Option<String> {
    let (w, h) = (width as usize, height as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// The smallest side a frame keeps after being halved in [`search`]: below it, modules would
/// be too few pixels.
const MIN_HALVED_SIDE: u32 = 200;

/// rxing's QR reader, as its `detect_in_luma_slice` runs it for a QR code (hybrid
/// binarizer, finder patterns searched hard, the grid decoded), taken a level lower: its
/// result type reads the system clock, which the browser's WebAssembly has not.
fn rxing_read(luma: &[u8], width: u32, height: u32) -> Option<String> {
    use rxing::common::{DetectorRXingResult, HybridBinarizer};
    use rxing::qrcode::decoder::qrcode_decoder::decode_bitmatrix_with_hints;
    use rxing::qrcode::detector::Detector;
    let source = rxing::Luma8Source::new_with_slice(luma, width, height).ok()?;
    let bitmap = rxing::BinaryBitmap::new(HybridBinarizer::new(source));
    let hints = rxing::DecodeHints {
        TryHarder: Some(true),
        ..Default::default()
    };
    let found = Detector::new(bitmap.get_black_matrix())
        .detect_with_hints(&hints)
        .ok()?;
    decode_bitmatrix_with_hints(found.getBits(), &hints)
        .ok()
        .map(|decoded| decoded.getText().to_owned())
}

/// The frame scaled down by a whole factor (each pixel the mean of its block) so that neither
/// side exceeds `max`; a frame within it is returned as it is.
fn scale_down(luma: Vec<u8>, width: u32, height: u32, max: u32) -> (Vec<u8>, u32, u32) {
    let factor = width.max(height).div_ceil(max.max(1));
    if factor <= 1 {
        return (luma, width, height);
    }
    let (w, h) = ((width / factor).max(1), (height / factor).max(1));
    let (f, stride) = (factor as usize, width as usize);
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for by in 0..h as usize {
        for bx in 0..w as usize {
            let mut sum = 0u32;
            for y in by * f..(by + 1) * f {
                let row = &luma[y * stride + bx * f..y * stride + (bx + 1) * f];
                sum += row.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
            out.push((sum / (factor * factor)) as u8);
        }
    }
    (out, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_frames_are_scaled_down_by_block_means() {
        let (w, h) = (5000u32, 3000u32);
        let luma: Vec<u8> = (0..w * h)
            .map(|i| if (i % w) < w / 2 { 0 } else { 200 })
            .collect();
        let (out, sw, sh) = scale_down(luma, w, h, MAX_SCAN_SIDE);
        assert_eq!((sw, sh), (1666, 1000));
        assert_eq!(out.len(), (sw * sh) as usize);
        assert_eq!((out[0], out[sw as usize - 1]), (0, 200));
        let small = vec![7u8; 100];
        assert_eq!(
            scale_down(small.clone(), 10, 10, MAX_SCAN_SIDE),
            (small, 10, 10)
        );
    }
}
