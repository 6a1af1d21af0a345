//! Registry exports for batch issuance: any bytes as CSV, and as JSON Lines. Every row is read
//! or named bad by its line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(rows) = propusk_input::read_csv(bytes) {
        assert!(rows.windows(2).all(|w| w[0].line < w[1].line));
    }
    let rows = propusk_input::read_jsonl(&String::from_utf8_lossy(bytes));
    assert!(rows.windows(2).all(|w| w[0].line < w[1].line));
});
