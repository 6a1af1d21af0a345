//! Trust data for offline verification: the signed trust list (issuer keys a verifier
//! accepts), the revocation set and the rule set, their signed bundle and its sync.
//!
//! Not built yet: this crate is the home of that work (see the project's issue on trust data
//! and the offline verifier). It depends on `propusk-spec` only.
