//! A revocation partition as CBOR (as bundles and deltas carry it): lookups and the full list
//! must answer or say the partition is corrupt, never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use propusk_trust_list::Partition;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(p) = ciborium::from_reader::<Partition, _>(bytes) {
        for hash in [0, 1, u64::MAX / 3, u64::MAX - 1, u64::MAX] {
            let _ = p.contains(hash);
        }
        if let Ok(all) = p.hashes() {
            assert!(all.windows(2).all(|w| w[0] < w[1]), "hashes are sorted and distinct");
            for &h in all.iter().take(64) {
                assert_eq!(p.contains(h), Ok(true));
            }
        }
    }
});
