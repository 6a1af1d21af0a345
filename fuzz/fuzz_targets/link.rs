//! Links and credential ids: parsing never panics, and a parsed id prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(link) = propusk_spec::Link::parse(text) {
        let _ = link.decode();
    }
    if let Ok(id) = text.parse::<propusk_spec::CredentialId>() {
        assert_eq!(id.to_string().parse::<propusk_spec::CredentialId>(), Ok(id));
    }
});
