//! Camera frames and decoded images: any luma plane (its width in the first byte, 21–276
//! pixels), through the quick steps a camera frame gets and every step a still image gets. The
//! detectors meet the pixels directly here, without an image codec in between. A refusal is
//! fine; a panic or a hang is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&first, luma)) = bytes.split_first() else {
        return;
    };
    let width = 21 + u32::from(first);
    let height = luma.len() as u32 / width;
    let luma = luma[..(width * height) as usize].to_vec();
    let _ = propusk_qr::read_qr_frame(luma.clone(), width, height);
    let _ = propusk_qr::read_qr_luma(luma, width, height);
});
