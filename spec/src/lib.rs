//! The Propusk wire format: signed health credentials small enough for a low-version QR code,
//! strict enough that every malformed input is refused with a typed error naming its layer.
//!
//! ```text
//! Credential ──CBOR──▶ claims ──COSE_Sign1 (EdDSA)──▶ base45 ──▶ "PR2:…"
//! ```
//!
//! This crate does no I/O and holds no secret keys: signing comes in as a closure, and
//! verification takes a [`KeyProvider`] (the trust list, for a verifier). `spec/SPEC.md` is the
//! normative description of the bytes.
//!
//! A round trip — issue, encode, decode, verify, tamper, fail:
//!
//! ```
//! use ed25519_dalek::{Signer, SigningKey};
//! use propusk_spec::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//!
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let key_id = KeyId::new(&[0x0c, 0xfd]).ok_or("key id")?;
//! let credential = Credential {
//!     id: CredentialId::from_bytes([42; 12]),
//!     issued_at: "2021-06-02T09:00:00Z".parse()?,
//!     expires_at: "2022-06-01T00:00:00Z".parse()?,
//!     // What the credential carries of the holder: initials as the passport spells the
//!     // names, the date of birth, the passport's masked number (the issuer keeps the rest).
//!     holder: Holder {
//!         family_name: Name::new("Иванов", None)?,
//!         given_name: Some(Name::new("Иван", None)?),
//!         patronymic: Some(Name::new("Иванович", None)?),
//!         birth_date: "1980-05-12".parse()?,
//!         document: Document::new(DocumentKind::Passport, "4510 123789")?,
//!     }
//!     .door(),
//!     body: Body::Vaccination(Vaccination {
//!         product: VaccineProduct::new("Sputnik-V")?,
//!         dose: 2,
//!         doses: 2,
//!         date: "2021-06-01".parse()?,
//!         country: "RU".parse()?,
//!         administered_by: Text::new("ГБУЗ ГП № 2")?,
//!     }),
//! };
//!
//! // Issue: the signature is made by whoever holds the key.
//! let text = encode(&credential, &key_id, |data| key.sign(data).to_bytes())?;
//! assert!(text.starts_with("PR2:"));
//!
//! // Verify against the keys the verifier trusts.
//! let trusted = (key_id.clone(), key.verifying_key());
//! let verified = decode(&text)?.verify(&trusted)?;
//! assert_eq!(verified.credential(), &credential);
//! assert_eq!(verified.credential().holder.initials.to_string(), "И. И. И.");
//! assert_eq!(verified.credential().holder.document.masked(), "45** ***789");
//!
//! // Tamper with the signed claims: the text still decodes, but it no longer verifies.
//! let mut forged = credential.clone();
//! forged.expires_at = "2030-01-01T00:00:00Z".parse()?;
//! let cose = Encoder::sign(&forged, &key_id, |_| key.sign(b"the genuine claims").to_bytes())?;
//! let forged_text = format!("{PREFIX}{}", base45::encode(&cose));
//! assert_eq!(decode(&forged_text)?.verify(&trusted), Err(Error::BadSignature));
//!
//! // A key the verifier does not know is its own outcome.
//! let stranger = (KeyId::new(&[9; 4]).ok_or("key id")?, key.verifying_key());
//! let refused = decode(&text)?.verify(&stranger).err().ok_or("accepted")?;
//! assert_eq!(refused.code(), "unknown_key");
//!
//! // And a broken text names the layer that refused it.
//! let broken = decode("PR2:GGW").err().ok_or("accepted")?;
//! assert_eq!(broken.layer(), "base45");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

/// Implements `serde::Serialize` as the type's `Display` text, for the types whose JSON form is
/// the string a person reads (`2021-06-01`, `PDF2X3Y4BQJN7XV4GFRG4`).
macro_rules! serialize_as_display {
    ($($t:ty),+) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )+};
}
pub(crate) use serialize_as_display;

pub mod base45;
mod cbor;
mod codes;
pub mod compare;
mod credential;
mod date;
mod door;
mod error;
pub mod examples;
pub mod hex;
mod holder;
mod id;
mod link;
mod model;
pub mod strict;
mod text;
pub mod translit;

pub use cbor::MAX_DEPTH;
pub use codes::{
    Country, DocumentKind, PassPurpose, TestKind, TestResult, VACCINE_PRODUCTS, VaccineProduct,
};
pub use credential::{
    ALG_EDDSA, Encoder, KeyProvider, MAX_TEXT_LEN, PREFIX, UnverifiedCredential,
    VerifiedCredential, WITHDRAWN_PREFIX, decode, encode, to_be_signed, verify_batch,
};
pub use date::{BirthDate, Date, MAX_TIMESTAMP, MAX_YEAR, MIN_YEAR, ParseDateError, Timestamp};
pub use door::{DoorHolder, Initials, MaskedDocument, is_initial, is_masked_number};
pub use error::{Base45Error, CborError, CoseError, Error, FieldError, LinkError, PrefixError};
pub use holder::{Document, Holder, Name};
pub use id::{
    CREDENTIAL_ID_BYTES, CREDENTIAL_ID_CHARS, CredentialId, IdError, KeyId, MAX_KEY_ID_BYTES,
};
pub use link::{Link, decode_any, offline_link, short_link};
pub use model::{Body, Credential, CredentialType, Exemption, Pass, Recovery, Test, Vaccination};
pub use text::{MAX_TEXT_CHARS, Text, windows_1251_char};
