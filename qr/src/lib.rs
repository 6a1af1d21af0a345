//! QR codes: their text read from real pixels — a photo of paper, a screenshot, a camera
//! frame — in PNG or JPEG; and credential text rendered as a QR image.
//!
//! Decoding is bounded (file size, image dimensions, decoder memory) and every failure is a
//! typed error. Two readers run in turn: rxing (ports of zxing-cpp's and ZXing's detectors,
//! robust to small or uneven modules, perspective, blur and uneven light) and, when it finds
//! nothing, rqrr, on a frame scaled down to a bounded size, then scaled up when small, within a
//! time budget (an image made to stall a reader is answered as unreadable). A camera's frames
//! get the quick steps only ([`read_qr_frame`]). `scripts/reader-set.py` measures the reader
//! against zxing-cpp on generated sets of the kinds of images people show.
//!
//! ```
//! let png = propusk_qr::render_png("PR2:ABC", 4).unwrap();
//! assert_eq!(propusk_qr::read_qr(&png).unwrap(), "PR2:ABC");
//! // A file that is not an image is refused with a typed error, not a panic.
//! assert!(matches!(propusk_qr::read_qr(b"not an image"), Err(propusk_qr::ScanError::NotAnImage(_))));
//! ```
#![deny(missing_docs)]

mod read;
mod render;

pub use read::{
    Deadline, MAX_DECODED, MAX_DIMENSION, MAX_FILE_LEN, MAX_SCAN_SIDE, READ_BUDGET, ScanError,
    decode_luma, read_qr, read_qr_file, read_qr_frame, read_qr_luma, read_qr_until,
};
pub use render::{
    Modules, QUIET_ZONE, RenderError, encode, render, render_png, render_svg, render_terminal,
    version,
};
