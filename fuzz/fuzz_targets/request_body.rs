//! The operator API's request bodies: the issuance JSON and the rotation options.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let body = String::from_utf8_lossy(bytes);
    if let Ok(request) = propusk_input::Request::from_json(&body) {
        let _ = request.holder.door().initials.to_string();
        let _ = request.holder.document.masked();
    }
    let _ = propusk_input::RotateRequest::from_body(&body);
});
