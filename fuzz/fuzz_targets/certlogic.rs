//! CertLogic business rules from outside (imported rule files): any expression over any data
//! context (the bytes before the first NUL the expression's JSON, after it the data's), every
//! evaluation ending in a value or an error, never a panic, a hang or unbounded recursion.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let (expression, data) = match bytes.iter().position(|&b| b == 0) {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &b"{}"[..]),
    };
    let (Ok(expression), Ok(data)) = (
        serde_json::from_slice::<serde_json::Value>(expression),
        serde_json::from_slice::<serde_json::Value>(data),
    ) else {
        return;
    };
    let _ = propusk_eudcc::certlogic::evaluate(&expression, &data);
});
