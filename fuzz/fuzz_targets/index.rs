//! The signed index (`index.cbor`): any envelope, and any payload behind a valid root signature.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "signed.rs"]
mod signed;

fuzz_target!(|bytes: &[u8]| {
    let root = signed::root_public();
    let _ = propusk_trust_list::Index::open(bytes, &root);
    let _ = propusk_trust_list::Index::open(&signed::signed(bytes), &root);
});
