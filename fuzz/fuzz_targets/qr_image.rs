//! QR images: any bytes as a PNG or JPEG file. A refusal is fine; a panic or a hang is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = propusk_qr::read_qr(bytes);
});
