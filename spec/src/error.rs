//! The one error type of the wire format, nested by layer.

use thiserror::Error;

use crate::id::{IdError, KeyId};

/// Everything that can go wrong between credential text and a verified credential.
///
/// Each variant names the layer that refused the input, outermost first, so a verifier can
/// say *where* a scanned code broke; [`Error::code`] gives a stable snake_case reason.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// The text is not a Propusk credential: no known version prefix, or too long to be one.
    #[error("prefix: {0}")]
    Prefix(#[from] PrefixError),
    /// The text after the prefix is not valid base45.
    #[error("base45: {0}")]
    Base45(#[from] Base45Error),
    /// A CBOR item is malformed, not deterministically encoded, or exceeds a limit.
    #[error("CBOR: {0}")]
    Cbor(#[from] CborError),
    /// The COSE_Sign1 structure or its headers are wrong.
    #[error("COSE: {0}")]
    Cose(#[from] CoseError),
    /// The claims map (expiry, issued-at, id, holder) is wrong.
    #[error("claims: {0}")]
    Claims(#[from] FieldError),
    /// The credential body (vaccination, recovery, test, exemption, pass) is wrong.
    #[error("body: {0}")]
    Body(FieldError),
    /// A link is malformed, or carries no credential, or another credential than it names.
    #[error("link: {0}")]
    Link(LinkError),
    /// No key with this key id is known to the key provider.
    #[error("unknown key id {0}")]
    UnknownKey(KeyId),
    /// The signature does not verify with the key named by the key id.
    #[error("signature verification failed")]
    BadSignature,
}

impl Error {
    /// A stable snake_case code for this error, as verifiers report it.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Prefix(PrefixError::Unknown) => "not_a_credential",
            Error::Link(LinkError::NotALink) => "not_a_credential",
            Error::Link(LinkError::Fragment) => "online_only",
            Error::UnknownKey(_) => "unknown_key",
            Error::BadSignature => "bad_signature",
            _ => "corrupt",
        }
    }

    /// The layer that refused the input: `prefix`, `base45`, `cbor`, `cose`, `claims`,
    /// `body`, `link` or `signature`.
    pub fn layer(&self) -> &'static str {
        match self {
            Error::Prefix(_) => "prefix",
            Error::Base45(_) => "base45",
            Error::Cbor(_) => "cbor",
            Error::Cose(_) => "cose",
            Error::Claims(_) => "claims",
            Error::Body(_) => "body",
            Error::Link(_) => "link",
            Error::UnknownKey(_) | Error::BadSignature => "signature",
        }
    }
}

/// The version prefix layer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrefixError {
    /// The text does not start with `PR2:` (nor is it a Propusk link carrying one).
    #[error("the text does not start with a known version prefix")]
    Unknown,
    /// The text is of version 1 (`PR1:`), withdrawn before release.
    #[error("a version 1 credential (PR1:), withdrawn before release: the issuer issues it again")]
    Withdrawn,
    /// The text is longer than any QR code can hold.
    #[error("the text is {length} characters long; at most {max} are accepted")]
    TooLong {
        /// Length of the input in bytes.
        length: usize,
        /// The cap.
        max: usize,
    },
}

/// The base45 layer (RFC 9285).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Base45Error {
    /// A character outside the base45 alphabet.
    #[error("character at position {position} is not in the base45 alphabet")]
    InvalidCharacter {
        /// Byte offset in the base45 text.
        position: usize,
    },
    /// The length leaves a single dangling character.
    #[error("length {length} leaves a lone character (length mod 3 = 1)")]
    InvalidLength {
        /// Length of the base45 text.
        length: usize,
    },
    /// A group's value exceeds what its bytes can hold (65535, or 255 for a final pair).
    #[error("the group at position {position} is out of range")]
    GroupOverflow {
        /// Byte offset of the group in the base45 text.
        position: usize,
    },
}

/// The CBOR layer (RFC 8949), decoding one item.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CborError {
    /// The bytes are not well-formed CBOR (truncated, reserved values, bad UTF-8...).
    #[error("malformed CBOR")]
    Malformed,
    /// Items nest deeper than the cap.
    #[error("nested deeper than {max} levels")]
    TooDeep {
        /// The cap on nesting.
        max: usize,
    },
    /// Bytes follow the single item.
    #[error("bytes follow the end of the item")]
    TrailingBytes,
    /// The item is well-formed but not in deterministic encoding (RFC 8949 §4.2.1): a
    /// longer-than-needed head, an indefinite length, or map keys out of order.
    #[error("not deterministically encoded")]
    NotDeterministic,
    /// A map holds the same key twice.
    #[error("duplicate map key")]
    DuplicateKey,
    /// A tag (major type 6): version 2 uses none.
    #[error("tags are not used in this format")]
    Tag,
    /// A floating-point number or simple value (major type 7: false, true, null, undefined,
    /// floats of any width): version 2 uses none.
    #[error("floating-point numbers and simple values are not used in this format")]
    Simple,
}

/// The COSE_Sign1 layer (RFC 9052).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoseError {
    /// The item is not an untagged array of four: protected, unprotected, payload, signature.
    #[error("not an untagged COSE_Sign1 array of four items")]
    NotSign1,
    /// The bytes are a zlib stream: version 2 texts are never compressed.
    #[error("a compressed text (zlib); version 2 texts are never compressed")]
    Compressed,
    /// A field of the COSE_Sign1 array has the wrong type.
    #[error("{0} has the wrong type")]
    WrongType(&'static str),
    /// The protected header names an algorithm: this version has one, EdDSA, fixed by its
    /// prefix, and its header carries none.
    #[error(
        "an algorithm in the protected header: version 2 is EdDSA by its prefix and names none"
    )]
    Algorithm,
    /// The protected header has no key id, or one of a bad length.
    #[error("key id missing from the protected header, or not 1 to 16 bytes")]
    KeyId,
    /// A header parameter this version does not know, or a `crit` parameter.
    #[error("header parameter {0} is not understood")]
    UnknownHeader(i64),
    /// The unprotected header is not empty.
    #[error("the unprotected header must be empty")]
    UnprotectedNotEmpty,
    /// The signature is not 64 bytes.
    #[error("the signature is not 64 bytes")]
    SignatureLength,
}

/// A field in the claims map or a body map.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    /// The item where a map was expected is not a map.
    #[error("{0} is not a map")]
    NotAMap(&'static str),
    /// A key this version does not define.
    #[error("unknown key {key} in {map}")]
    UnknownKey {
        /// The map.
        map: &'static str,
        /// The key, as an integer, or `i64::MIN` when it is not an integer.
        key: i64,
    },
    /// A required field is absent.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A field has the wrong CBOR type.
    #[error("{0} has the wrong type")]
    WrongType(&'static str),
    /// A field's value is out of its range or not in its value set.
    #[error("{field} is invalid: {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why, in a few words.
        why: &'static str,
    },
    /// The claims hold no credential body, or more than one.
    #[error("exactly one credential body is required, found {0}")]
    BodyCount(usize),
}

impl FieldError {
    pub(crate) fn invalid(field: &'static str, why: &'static str) -> Self {
        FieldError::Invalid { field, why }
    }
}

/// Why a link was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// The base URL is not `https://host[/path]` (plain `http` only for loopback hosts), or
    /// has a query or fragment.
    #[error("the base URL must be https://host[/path] without query or fragment")]
    BaseUrl,
    /// The URL does not end in `/c/ID`.
    #[error("not a Propusk credential link (…/c/ID)")]
    NotALink,
    /// The id in the link is malformed or mistyped.
    #[error("credential id: {0}")]
    Id(#[from] IdError),
    /// The fragment is not a percent-encoded credential.
    #[error("the fragment does not hold a credential")]
    Fragment,
    /// The id in the path is not the id of the credential in the fragment.
    #[error("the link's id is not the id of the credential it carries")]
    IdMismatch,
}
