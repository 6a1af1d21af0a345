//! Any text through the whole decoder: prefix, base45, CBOR, COSE, claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = propusk_spec::decode(text);
    let _ = propusk_spec::decode_any(text);
});
