//! The issuer: key store and rotation, single and batch issuance, revocation, publishing the
//! trust bundle, and the HTTP server.
//!
//! Not built yet: this crate is the home of that work. It depends on `propusk-spec` and
//! `propusk-trust-list`, never on the wallet or the verifier.
