//! The trust bundle: any envelope, and any payload behind a valid root signature. Whatever opens
//! must survive being judged against and digested.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "signed.rs"]
mod signed;

fuzz_target!(|bytes: &[u8]| {
    let root = signed::root_public();
    let _ = propusk_trust_list::Bundle::open(bytes, &root);
    if let Ok(bundle) = propusk_trust_list::Bundle::open(&signed::signed(bytes), &root) {
        let at = propusk_spec::Timestamp::from_unix(1_700_000_000).unwrap_or_else(|| unreachable!());
        let _ = bundle.state(at);
        let _ = propusk_trust_list::content_digest(bundle.content());
        let id = propusk_spec::CredentialId::from_bytes([7; 12]);
        let _ = bundle.content().revocations.check(&id, at, &propusk_spec::KeyId::new(&[1, 2, 3, 4]).unwrap_or_else(|| unreachable!()), at);
        let _ = propusk_trust_list::check(Some(&bundle), "PR2:0", at);
    }
});
