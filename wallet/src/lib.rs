//! The holder's wallet: its store, import from text, images and links, QR rendering and export.
//!
//! Not built yet: this crate is the home of that work. It depends on `propusk-spec` and
//! `propusk-trust-list`, never on the issuer or the verifier.
