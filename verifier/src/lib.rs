//! The verifier: scanning, offline verification, the verdict and what is shown of the holder.
//!
//! Not built yet: this crate is the home of that work. It depends on `propusk-spec` and
//! `propusk-trust-list`, never on the issuer or the wallet.
