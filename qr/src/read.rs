//! Reading: a QR code's text from an image file, image bytes or a camera's luma plane, within
//! bounds of size, memory and time.

use std::path::Path;

#[cfg(not(target_arch = "wasm32"))]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(target_arch = "wasm32"))]
use std::sync::{Arc, mpsc};
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

/// The end of the time that reads may take: one image's [`READ_BUDGET`], or one budget shared
/// by every image a command reads (the images of a PDF), so that many images cannot multiply
/// it. In the browser there is no clock here: its page bounds the engine from outside (a
/// worker it ends).
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    #[cfg(not(target_arch = "wasm32"))]
    at: std::time::Instant,
}

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        #[cfg(target_arch = "wasm32")]
        let _ = budget;
        Deadline {
            #[cfg(not(target_arch = "wasm32"))]
            at: std::time::Instant::now() + budget,
        }
    }

    /// Whether it has passed.
    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The time left (none once passed; unbounded in the browser).
    pub fn remaining(&self) -> Duration {
        #[cfg(not(target_arch = "wasm32"))]
        return self.at.saturating_duration_since(std::time::Instant::now());
        #[cfg(target_arch = "wasm32")]
        Duration::MAX
    }
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
    read_qr_until(bytes, Deadline::after(READ_BUDGET))
}

/// Reads the QR code in PNG or JPEG bytes by `deadline` (shared with other reads).
pub fn read_qr_until(bytes: &[u8], deadline: Deadline) -> Result<String, ScanError> {
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(ScanError::TooLarge);
    }
    let (luma, width, height) = decode_luma(bytes)?;
    read_luma_until(luma, width, height, deadline, Depth::Image)
}

/// The most memory an image may take decoded, in bytes: a phone photo of 40 megapixels in 8-bit
/// RGB fits (phones save 12 by default); a 16-bit RGBA image of 8192² pixels (512 MiB from a
/// 522 KB file) does not. With its greyscale copy, a read stays under 200 MB.
pub const MAX_DECODED: u64 = 128 << 20;

/// Decodes an image to 8-bit greyscale within the limits.
pub fn decode_luma(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), ScanError> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ScanError::NotAnImage(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODED);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ScanError::TooLarge,
        other => ScanError::NotAnImage(other.to_string()),
    })?;
    let (w, h) = (image.width(), image.height());
    if !image.color().has_alpha() {
        return Ok((image.into_luma8().into_raw(), w, h));
    }
    // What a screen shows: transparent pixels over a white page, whatever colour they carry
    // (codes saved as dark modules on a transparent ground often have it black).
    let over_white = image
        .into_luma_alpha8()
        .pixels()
        .map(|p| {
            let [luma, alpha] = p.0.map(u32::from);
            ((luma * alpha + 255 * (255 - alpha)) / 255) as u8
        })
        .collect();
    Ok((over_white, w, h))
}

/// Reads the QR code in a greyscale image (a decoded picture's luma plane) with every step of
/// the search, on the image scaled down to [`MAX_SCAN_SIDE`], within [`READ_BUDGET`].
pub fn read_qr_luma(luma: Vec<u8>, width: u32, height: u32) -> Result<String, ScanError> {
    read_luma_until(
        luma,
        width,
        height,
        Deadline::after(READ_BUDGET),
        Depth::Image,
    )
}

/// Reads the QR code in one frame of a camera's stream (its luma plane) with the quick steps
/// of the search only (as it is, inverted, at half size): the next frame comes tens of
/// milliseconds later, and the person holding the code moves it; the slower steps that rescue
/// a single still image would only delay it.
pub fn read_qr_frame(luma: Vec<u8>, width: u32, height: u32) -> Result<String, ScanError> {
    read_luma_until(
        luma,
        width,
        height,
        Deadline::after(READ_BUDGET),
        Depth::Frame,
    )
}

/// How far a search goes: a camera frame's quick steps, or a still image's every step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Frame,
    Image,
}

/// The smallest side, in pixels, that can hold a QR code (version 1 is 21 modules).
const MIN_SIDE: u32 = 21;

fn read_luma_until(
    luma: Vec<u8>,
    width: u32,
    height: u32,
    deadline: Deadline,
    depth: Depth,
) -> Result<String, ScanError> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 || luma.len() as u64 != pixels {
        return Err(ScanError::NotAnImage(
            "the frame's size does not match its pixels".into(),
        ));
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(ScanError::TooLarge);
    }
    if width.min(height) < MIN_SIDE {
        return Err(ScanError::NoCode);
    }
    if deadline.passed() {
        return Err(ScanError::Budget);
    }
    let (luma, width, height) = scale_down(luma, width, height, MAX_SCAN_SIDE);
    if width.min(height) < MIN_SIDE {
        return Err(ScanError::NoCode);
    }
    within_budget(deadline, move |stop| {
        search(&luma, width, height, depth, stop)
    })
}

/// Whether a read should stop (its budget is over): checked between its steps.
type Stop<'a> = &'a dyn Fn() -> bool;

/// Runs `read` on a thread of its own and waits for it until `deadline`. A reader past it is
/// told to stop, which it does at the end of the step it is in (its answer is dropped); the
/// caller has its answer at once.
#[cfg(not(target_arch = "wasm32"))]
fn within_budget(
    deadline: Deadline,
    read: impl FnOnce(Stop<'_>) -> Result<String, ScanError> + Send + 'static,
) -> Result<String, ScanError> {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new()
        .name("qr-read".into())
        .spawn(move || {
            let _ = tx.send(read(&|| stopped.load(Ordering::Relaxed)));
        })
        .map_err(|e| ScanError::NotAnImage(format!("cannot start the reader: {e}")))?;
    rx.recv_timeout(deadline.remaining())
        .unwrap_or_else(|gone| match gone {
            mpsc::RecvTimeoutError::Timeout => {
                stop.store(true, Ordering::Relaxed);
                Err(ScanError::Budget)
            }
            // The reader failed on its way (a reader's panic on a strange image): no code read.
            mpsc::RecvTimeoutError::Disconnected => Err(ScanError::NoCode),
        })
}

/// In the browser there are no threads: the frame is read in place (the page bounds the
/// engine that reads from outside: a worker it ends past the budget).
#[cfg(target_arch = "wasm32")]
fn within_budget(
    _deadline: Deadline,
    read: impl FnOnce(Stop<'_>) -> Result<String, ScanError> + Send + 'static,
) -> Result<String, ScanError> {
    read(&|| false)
}

/// Looks for a code as it is and inverted (light modules on dark, as phones in dark mode show
/// them), then at half size (a heavily blurred code sharpens relative to the reader's
/// binarisation blocks), then with rqrr, as it is and inverted, then at twice the size (modules
/// of a pixel or two, dark on light); a camera frame's search ends after the half size. Each step runs only
/// when those before found nothing, and none once `stop` says the budget is over.
fn search(
    luma: &[u8],
    width: u32,
    height: u32,
    depth: Depth,
    stop: Stop<'_>,
) -> Result<String, ScanError> {
    let step = |read: &dyn Fn() -> Option<String>| {
        if stop() {
            return Some(Err(ScanError::Budget));
        }
        read().map(Ok)
    };
    if let Some(found) = step(&|| rxing_read(luma, width, height)) {
        return found;
    }
    if width.min(height) >= 2 * MIN_HALVED_SIDE {
        let (half, w, h) = scale_down(luma.to_vec(), width, height, width.max(height) / 2);
        if let Some(found) = step(&|| rxing_read(&half, w, h)) {
            return found;
        }
    }
    if depth == Depth::Frame {
        return Err(ScanError::NoCode);
    }
    if let Some(found) = step(&|| rqrr_read(luma, width, height)) {
        return found;
    }
    let inverted: Vec<u8> = luma.iter().map(|&p| 255 - p).collect();
    if let Some(found) = step(&|| rqrr_read(&inverted, width, height)) {
        return found;
    }
    if width.max(height) <= MAX_SCAN_SIDE / 2 {
        let doubled = doubled(luma, width, height);
        if let Some(found) = step(&|| rxing_read_dark(&doubled, 2 * width, 2 * height)) {
            return found;
        }
    }
    Err(ScanError::NoCode)
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

/// rxing's QR reader as its `MultiFormatReader` runs it for a QR code (hybrid binarizer, finder
/// patterns searched hard; its port of zxing-cpp's detector first, then its port of ZXing's;
/// then both on the binarised frame inverted), taken a level lower: its result type reads the
/// system clock, which the browser's WebAssembly has not. zxing-cpp's detector finds codes of
/// small or uneven modules and codes seen at an angle that ZXing's misses; ZXing's reads some
/// heavily blurred codes that zxing-cpp's does not.
fn rxing_read(luma: &[u8], width: u32, height: u32) -> Option<String> {
    let source = rxing::Luma8Source::new_with_slice(luma, width, height).ok()?;
    let mut bitmap = rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
    detect(bitmap.get_black_matrix()).or_else(|| {
        bitmap.invert();
        detect(bitmap.get_black_matrix())
    })
}

/// [`rxing_read`] for dark modules on light only.
fn rxing_read_dark(luma: &[u8], width: u32, height: u32) -> Option<String> {
    let source = rxing::Luma8Source::new_with_slice(luma, width, height).ok()?;
    detect(rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source)).get_black_matrix())
}

/// The text of a QR code in a binarised frame.
fn detect(matrix: &rxing::common::BitMatrix) -> Option<String> {
    use rxing::common::DetectorRXingResult;
    use rxing::qrcode::cpp_port::{decoder::Decode, detector};
    use rxing::qrcode::decoder::qrcode_decoder::decode_bitmatrix_with_hints;
    let mut patterns = detector::FindFinderPatterns(matrix, true, 0);
    let by_cpp = detector::GenerateFinderPatternSets(&mut patterns)
        .iter()
        .find_map(|set| {
            let found = detector::SampleQR(matrix, set).ok()?;
            let decoded = Decode(found.getBits()).ok()?;
            decoded.isValid().then(|| decoded.text())
        });
    if by_cpp.is_some() {
        return by_cpp;
    }
    let hints = rxing::DecodeHints {
        TryHarder: Some(true),
        ..Default::default()
    };
    let found = rxing::qrcode::detector::Detector::new(matrix)
        .detect_with_hints(&hints)
        .ok()?;
    decode_bitmatrix_with_hints(found.getBits(), &hints)
        .ok()
        .map(|decoded| decoded.getText().to_owned())
}

/// The frame at twice its size, each new pixel the mean of its nearest old ones (bilinear at
/// half-pixel steps): modules of one or two pixels, or blurred ones, become wide enough for the
/// binariser's blocks and the finder patterns' ratios.
fn doubled(luma: &[u8], width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let at = |x: usize, y: usize| u16::from(luma[y.min(h - 1) * w + x.min(w - 1)]);
    let mut out = vec![0u8; 4 * w * h];
    for y in 0..h {
        for x in 0..w {
            let (p, right, down, diagonal) =
                (at(x, y), at(x + 1, y), at(x, y + 1), at(x + 1, y + 1));
            let top = 4 * y * w + 2 * x;
            out[top] = p as u8;
            out[top + 1] = ((p + right) / 2) as u8;
            out[top + 2 * w] = ((p + down) / 2) as u8;
            out[top + 2 * w + 1] = ((p + right + down + diagonal) / 4) as u8;
        }
    }
    out
}

/// The frame scaled down by a whole factor (each pixel the mean of its block) so that neither
/// side exceeds `max`; a frame within it is returned as it is. A side shorter than the factor
/// keeps one pixel, the mean of what there is.
fn scale_down(luma: Vec<u8>, width: u32, height: u32, max: u32) -> (Vec<u8>, u32, u32) {
    let factor = width.max(height).div_ceil(max.max(1));
    if factor <= 1 {
        return (luma, width, height);
    }
    let (w, h) = ((width / factor).max(1), (height / factor).max(1));
    let (f, stride) = (factor as usize, width as usize);
    let (rows, columns) = (height as usize, width as usize);
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for by in 0..h as usize {
        let ys = by * f..((by + 1) * f).min(rows);
        for bx in 0..w as usize {
            let xs = bx * f..((bx + 1) * f).min(columns);
            let mut sum = 0u64;
            for y in ys.clone() {
                let row = &luma[y * stride + xs.start..y * stride + xs.end];
                sum += row.iter().map(|&p| u64::from(p)).sum::<u64>();
            }
            let count = (ys.len() * xs.len()).max(1) as u64;
            out.push((sum / count) as u8);
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
        // A side shorter than the factor (an 8192×1 strip): the mean of what there is.
        let (strip, sw, sh) = scale_down(vec![9u8; 8192], 8192, 1, MAX_SCAN_SIDE);
        assert_eq!((sw, sh, strip.len()), (2048, 1, 2048));
        assert!(strip.iter().all(|&p| p == 9));
        let (strip, sw, sh) = scale_down(vec![9u8; 4097 * 3], 4097, 3, MAX_SCAN_SIDE);
        assert_eq!((sw, sh, strip.len()), (1365, 1, 1365));
        let small = vec![7u8; 100];
        assert_eq!(
            scale_down(small.clone(), 10, 10, MAX_SCAN_SIDE),
            (small, 10, 10)
        );
    }
}
