//! Deltas: any envelope, and any payload behind a valid root signature; whatever opens is
//! applied to a small bundle content (and must refuse, or give a content whose digest it names).
#![no_main]

use libfuzzer_sys::fuzz_target;
use propusk_trust_list::{BundleContent, Delta, RevocationSet, RuleSet, content_digest};

#[path = "signed.rs"]
mod signed;

fuzz_target!(|bytes: &[u8]| {
    let root = signed::root_public();
    let _ = Delta::open(bytes, &root);
    if let Ok(delta) = Delta::open(&signed::signed(bytes), &root) {
        let base = BundleContent {
            jurisdiction: "RU".into(),
            sequence: 1,
            issued_at: 1_700_000_000,
            soft_expiry: 1_700_100_000,
            hard_expiry: 1_700_900_000,
            keys: vec![],
            revocations: RevocationSet::default(),
            rules: RuleSet::standard("RU", "Europe/Moscow"),
            eu_signers: vec![],
            eu: Default::default(),
        };
        if let Ok(applied) = delta.apply(&base) {
            assert_eq!(content_digest(&applied).ok(), Some(delta.result_sha256.clone()));
        }
    }
});
