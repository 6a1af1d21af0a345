//! Signing an EU DCC: the certificate (EU DCC JSON) in a CWT (`iss`, `iat`, `exp`, HCERT), a
//! COSE_Sign1 signed ES256 by a document signer under the key id the EU uses (the first 8 bytes
//! of SHA-256 over the signer certificate's DER), zlib at the best level, base45, `HC1:`.
//! And the three hashes by which the EU's revocation lists name a certificate.

use std::io::Write;

use ciborium::Value;
use sha2_010::{Digest, Sha256};
use thiserror::Error;

use crate::ec::EcSign;
use crate::{Hc1Type, PREFIX, SignerCertificate, TrustError};

/// Why an EU certificate could not be signed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignError {
    /// The document signer's key is not a P-256 key, or not the certificate's.
    #[error("the document signer's key does not fit its certificate")]
    Key,
    /// The signer certificate is not one.
    #[error("{0}")]
    Certificate(TrustError),
    /// The signer certificate may not sign this type (its extended key usage).
    #[error("the document signer certificate may not sign this type")]
    Usage,
    /// The certificate's expiry lies after the signer certificate's end (rotate the signer).
    #[error("the certificate would outlast its document signer certificate: rotate the signer")]
    OutlastsSigner,
    /// The certificate is not an object with one of `v`, `t`, `r`.
    #[error("not an EU DCC: {0}")]
    Shape(&'static str),
    /// The key (in a device) failed to sign.
    #[error("the document signer's key could not sign: {0}")]
    Signing(String),
}

/// A document signer: its P-256 key (in memory, zeroized on drop, or in a device) and its
/// certificate. `Debug` shows the key id only.
pub struct DocumentSigner {
    key: Box<dyn EcSign>,
    certificate: SignerCertificate,
}

impl std::fmt::Debug for DocumentSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentSigner")
            .field(
                "key_id",
                &propusk_spec::hex::encode(self.certificate.key_id()),
            )
            .finish_non_exhaustive()
    }
}

impl DocumentSigner {
    /// The signer of `key` (32 bytes, a P-256 scalar) with its certificate (DER); refused when
    /// the certificate is not of this key.
    pub fn new(key: &[u8], certificate_der: &[u8]) -> Result<Self, SignError> {
        let key = p256::ecdsa::SigningKey::from_slice(key).map_err(|_| SignError::Key)?;
        Self::with_key(Box::new(key), certificate_der)
    }

    /// The signer of a key kept anywhere (a device's, say) with its certificate (DER); refused
    /// when the certificate is not of this key.
    pub fn with_key(key: Box<dyn EcSign>, certificate_der: &[u8]) -> Result<Self, SignError> {
        let certificate =
            SignerCertificate::from_der(certificate_der).map_err(SignError::Certificate)?;
        if certificate.public_key_sec1() != Some(key.public_sec1()) {
            return Err(SignError::Key);
        }
        Ok(DocumentSigner { key, certificate })
    }

    /// Its certificate.
    pub fn certificate(&self) -> &SignerCertificate {
        &self.certificate
    }
}

/// A signed EU certificate: its QR text, and what the EU revocation lists hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHc1 {
    /// The `HC1:` text.
    pub text: String,
    /// The key id (8 bytes).
    pub key_id: [u8; 8],
    /// The ES256 signature (`r ‖ s`, 64 bytes).
    pub signature: Vec<u8>,
}

/// JSON to CBOR (the certificate's numbers stay integers where they are).
fn to_cbor(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Integer(i.into()),
            (None, Some(f)) => Value::Float(f),
            (None, None) => Value::Null,
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(to_cbor).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::Text(k.clone()), to_cbor(v)))
                .collect(),
        ),
    }
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // safe: writing CBOR into a Vec cannot fail.
    ciborium::into_writer(v, &mut out).unwrap_or_else(|_| unreachable!("CBOR into a Vec"));
    out
}

/// The kind of an EU DCC JSON object (exactly one of `v`, `t`, `r`).
pub fn kind_of(certificate: &serde_json::Value) -> Result<Hc1Type, SignError> {
    let groups: Vec<Hc1Type> = [
        ("v", Hc1Type::Vaccination),
        ("t", Hc1Type::Test),
        ("r", Hc1Type::Recovery),
    ]
    .into_iter()
    .filter(|(k, _)| certificate.get(k).is_some())
    .map(|(_, t)| t)
    .collect();
    match groups.as_slice() {
        [kind] => Ok(*kind),
        _ => Err(SignError::Shape("not exactly one of v, t, r")),
    }
}

/// Signs `certificate` (EU DCC JSON) as issued by `country` at `issued_at`, valid until
/// `expires_at` (Unix seconds), with the document signer.
pub fn sign(
    certificate: &serde_json::Value,
    country: &str,
    issued_at: i64,
    expires_at: i64,
    signer: &DocumentSigner,
) -> Result<SignedHc1, SignError> {
    let kind = kind_of(certificate)?;
    if !signer.certificate.allows(kind) {
        return Err(SignError::Usage);
    }
    if expires_at > signer.certificate.validity().1 {
        return Err(SignError::OutlastsSigner);
    }
    let key_id = *signer.certificate.key_id();
    let protected = cbor(&Value::Map(vec![
        (
            Value::Integer(1.into()),
            Value::Integer(crate::ES256.into()),
        ),
        (Value::Integer(4.into()), Value::Bytes(key_id.to_vec())),
    ]));
    let payload = cbor(&Value::Map(vec![
        (Value::Integer(1.into()), Value::Text(country.to_owned())),
        (Value::Integer(4.into()), Value::Integer(expires_at.into())),
        (Value::Integer(6.into()), Value::Integer(issued_at.into())),
        (
            Value::Integer((-260).into()),
            Value::Map(vec![(Value::Integer(1.into()), to_cbor(certificate))]),
        ),
    ]));
    let message = propusk_spec::to_be_signed(&protected, &payload);
    let signature = crate::ec::sign(signer.key.as_ref(), &message).map_err(SignError::Signing)?;
    let signature = signature.to_bytes().to_vec();
    let cose = cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![]),
            Value::Bytes(payload),
            Value::Bytes(signature.clone()),
        ])),
    ));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // safe: compressing into a Vec cannot fail.
    z.write_all(&cose)
        .unwrap_or_else(|_| unreachable!("zlib into a Vec"));
    let zipped = z
        .finish()
        .unwrap_or_else(|_| unreachable!("zlib into a Vec"));
    Ok(SignedHc1 {
        text: format!("{PREFIX}{}", propusk_spec::base45::encode(&zipped)),
        key_id,
        signature,
    })
}

/// How the EU's revocation lists name a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationHash {
    /// SHA-256 of the UCI.
    Uci,
    /// SHA-256 of the issuing country's code followed by the UCI.
    CountryCodeUci,
    /// SHA-256 of the signature (for ES256, its first half `r`).
    Signature,
}

impl RevocationHash {
    /// Every form, in the order gateways list them.
    pub const ALL: [RevocationHash; 3] = [
        RevocationHash::Signature,
        RevocationHash::Uci,
        RevocationHash::CountryCodeUci,
    ];

    /// The name the gateway's `hashType` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationHash::Uci => "UCI",
            RevocationHash::CountryCodeUci => "COUNTRYCODEUCI",
            RevocationHash::Signature => "SIGNATURE",
        }
    }

    /// The first 128 bits of the hash of a certificate with this UCI, country (the CWT's
    /// `iss`) and ES256 signature.
    pub fn of(self, uci: &str, country: &str, signature: &[u8]) -> [u8; 16] {
        let digest = match self {
            RevocationHash::Uci => Sha256::digest(uci.as_bytes()),
            RevocationHash::CountryCodeUci => Sha256::digest(format!("{country}{uci}").as_bytes()),
            RevocationHash::Signature => Sha256::digest(&signature[..signature.len() / 2]),
        };
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        out
    }
}
