//! EU HC1 certificates: any text after `HC1:`, and any bytes behind the prefix and base45 so the
//! fuzzer works on zlib, COSE, CWT and the HCERT; whatever decodes is verified and summarised.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let texts = [
        format!("HC1:{}", String::from_utf8_lossy(bytes)),
        format!("HC1:{}", propusk_spec::base45::encode(bytes)),
    ];
    for text in &texts {
        if let Ok(hc1) = propusk_eudcc::decode(text) {
            let _ = propusk_eudcc::verify(&hc1, &[]);
            let _ = propusk_eudcc::valuesets::summary(&hc1.certificate);
        }
    }
});
