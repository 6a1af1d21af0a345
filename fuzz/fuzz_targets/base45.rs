//! Base45: decoding never panics, and whatever decodes re-encodes to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(bytes) = propusk_spec::base45::decode(text) {
        assert_eq!(propusk_spec::base45::encode(&bytes), text);
    }
});
