//! The EU files an operator imports (outside data, however fetched): a rule file, a file of
//! revocation batches, a trust list with its signature on the first line, each read to a
//! value or a typed error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A fixed anchor for the trust list (its key made from a constant).
fn anchor() -> &'static propusk_eudcc::SignerCertificate {
    static ANCHOR: OnceLock<propusk_eudcc::SignerCertificate> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        let key = propusk_eudcc::cert::signing_key(&[7; 32]).expect("a key");
        let der = propusk_eudcc::cert::country_signing_ca(&key, "BE", "Anchor", 1, 0, 4_000_000_000)
            .expect("a certificate");
        propusk_eudcc::SignerCertificate::from_der(&der).expect("parses")
    })
}

fuzz_target!(|bytes: &[u8]| {
    let _ = propusk_eudcc::rules::EuRule::parse_file(bytes);
    let _ = propusk_eudcc::revocation::RevocationBatch::parse_file(bytes);
    let _ = propusk_eudcc::trustlist::open(bytes, None, anchor());
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = propusk_eudcc::valuesets::ValueSet::parse(text);
    }
});
