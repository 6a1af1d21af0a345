//! Any bytes behind a valid prefix and base45, so the fuzzer works on the CBOR, COSE and
//! claims layers directly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = format!("{}{}", propusk_spec::PREFIX, propusk_spec::base45::encode(bytes));
    if let Ok(credential) = propusk_spec::decode(&text) {
        // Whatever decodes must survive a look at its claims and its signature check.
        let _ = credential.unverified_claims().holder.initials.to_string();
        let _ = credential.unverified_claims().holder.document.masked();
        let _ = credential.verify(&std::collections::HashMap::new());
    }
});
