//! EU signer certificates (X.509, DER or PEM) and the signature and key-usage checks.

use p256::ecdsa::signature::Verifier;
use sha2_010::{Digest, Sha256};
use thiserror::Error;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::{Hc1, Hc1Type};

/// COSE algorithm ES256 (ECDSA P-256 with SHA-256).
pub const ES256: i64 = -7;
/// COSE algorithm PS256 (RSASSA-PSS with SHA-256).
pub const PS256: i64 = -37;

/// Why a certificate or a signature was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustError {
    /// The certificate does not parse.
    #[error("not an X.509 certificate: {0}")]
    Certificate(String),
    /// No trusted certificate has the credential's key id.
    #[error("no signer certificate with this key id")]
    UnknownKey,
    /// The algorithm is missing, unsupported, or does not fit the key.
    #[error("algorithm {0:?} does not fit the signer's key")]
    Algorithm(Option<i64>),
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
}

#[derive(Clone)]
enum Key {
    Ec(p256::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

/// A trusted EU document signer certificate.
#[derive(Clone)]
pub struct SignerCertificate {
    key_id: [u8; 8],
    key: Key,
    not_before: i64,
    not_after: i64,
    /// The credential types its extended key usage allows (`None`: no such extension, every
    /// type).
    types: Option<Vec<Hc1Type>>,
}

impl std::fmt::Debug for SignerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerCertificate")
            .field("key_id", &propusk_spec::hex::encode(&self.key_id))
            .finish_non_exhaustive()
    }
}

const EKU_TEST: &str = "1.3.6.1.4.1.1847.2021.1.1";
const EKU_VACCINATION: &str = "1.3.6.1.4.1.1847.2021.1.2";
const EKU_RECOVERY: &str = "1.3.6.1.4.1.1847.2021.1.3";

/// The EU extended key usage OID of a type.
pub(crate) fn eku_oid(kind: Hc1Type) -> &'static str {
    match kind {
        Hc1Type::Test => EKU_TEST,
        Hc1Type::Vaccination => EKU_VACCINATION,
        Hc1Type::Recovery => EKU_RECOVERY,
    }
}

fn eku_type(oid: &str) -> Option<Hc1Type> {
    // Some issuers wrote the OIDs with an extra `0` arc: 1.3.6.1.4.1.0.1847.2021.1.x.
    let oid = oid.replacen("1.3.6.1.4.1.0.1847.", "1.3.6.1.4.1.1847.", 1);
    match oid.as_str() {
        EKU_TEST => Some(Hc1Type::Test),
        EKU_VACCINATION => Some(Hc1Type::Vaccination),
        EKU_RECOVERY => Some(Hc1Type::Recovery),
        _ => None,
    }
}

impl SignerCertificate {
    /// Reads a certificate in DER, or in PEM, or as base64 of DER.
    pub fn parse(bytes: &[u8]) -> Result<Self, TrustError> {
        Self::from_der(&Self::der(bytes)?)
    }

    /// The DER of a certificate given in DER, PEM or base64.
    pub fn der(bytes: &[u8]) -> Result<Vec<u8>, TrustError> {
        let der = if bytes.starts_with(b"-----BEGIN") || bytes.iter().all(|b| b.is_ascii()) {
            let text = String::from_utf8_lossy(bytes);
            let body: String = text
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>()
                .split_whitespace()
                .collect();
            base64_decode(&body)
                .ok_or_else(|| TrustError::Certificate("not PEM or base64".into()))?
        } else {
            bytes.to_vec()
        };
        Ok(der)
    }

    /// Reads a DER certificate. Small deviations seen in real EU signer certificates (an
    /// explicitly encoded default in BasicConstraints) are accepted.
    pub fn from_der(der: &[u8]) -> Result<Self, TrustError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| TrustError::Certificate(e.to_string()))?;
        let spki = cert.public_key();
        let key = match spki.parsed() {
            Ok(PublicKey::EC(_))
                if !spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .is_some_and(|p| crate::curve::is_p256(p.tag().0, p.data)) =>
            {
                return Err(TrustError::Certificate(
                    "an EC key whose domain parameters are not P-256".into(),
                ));
            }
            Ok(PublicKey::EC(point)) => Key::Ec(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point.data())
                    .map_err(|_| TrustError::Certificate("an EC key not on P-256".into()))?,
            ),
            Ok(PublicKey::RSA(rsa_key)) => Key::Rsa(
                rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(rsa_key.modulus),
                    rsa::BigUint::from_bytes_be(rsa_key.exponent),
                )
                .map_err(|e| TrustError::Certificate(e.to_string()))?,
            ),
            _ => {
                return Err(TrustError::Certificate(
                    "neither an EC P-256 nor an RSA key".into(),
                ));
            }
        };
        let types = match cert.extended_key_usage() {
            Ok(Some(eku)) => {
                // An extended key usage that names real purposes limits the types to the EU OIDs
                // among them (none: no type), as the EU test vectors expect; an empty one, or one
                // holding only a placeholder such as `0`, limits nothing.
                let oids: Vec<String> = eku
                    .value
                    .other
                    .iter()
                    .map(|oid| oid.to_id_string())
                    .filter(|o| o.split('.').count() > 2)
                    .collect();
                let named = eku.value.any
                    || eku.value.server_auth
                    || eku.value.client_auth
                    || eku.value.code_signing
                    || eku.value.email_protection
                    || eku.value.time_stamping
                    || eku.value.ocsp_signing;
                (named || !oids.is_empty())
                    .then(|| oids.iter().filter_map(|o| eku_type(o)).collect())
            }
            _ => None,
        };
        let digest = Sha256::digest(der);
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&digest[..8]);
        Ok(SignerCertificate {
            key_id,
            key,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            types,
        })
    }

    /// The key id: the first 8 bytes of SHA-256 over the certificate's DER.
    pub fn key_id(&self) -> &[u8; 8] {
        &self.key_id
    }

    /// The EC public key, uncompressed SEC1 (`04 ‖ x ‖ y`); `None` for an RSA key.
    pub fn public_key_sec1(&self) -> Option<Vec<u8>> {
        match &self.key {
            Key::Ec(k) => Some(k.to_encoded_point(false).as_bytes().to_vec()),
            Key::Rsa(_) => None,
        }
    }

    /// The certificate's validity window (Unix seconds).
    pub fn validity(&self) -> (i64, i64) {
        (self.not_before, self.not_after)
    }

    /// Whether its extended key usage allows this type (a certificate without the extension
    /// allows every type; one with it, only the types whose EU OIDs it lists).
    pub fn allows(&self, kind: Hc1Type) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&kind))
    }

    /// Checks a detached signature over `message` with this certificate's key, SHA-256: for an
    /// EC key ECDSA (raw `r ‖ s` or DER), for an RSA key PSS or PKCS#1 v1.5.
    pub fn verify_detached(&self, message: &[u8], signature: &[u8]) -> Result<(), TrustError> {
        match &self.key {
            Key::Ec(key) => {
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .or_else(|_| p256::ecdsa::Signature::from_der(signature))
                    .map_err(|_| TrustError::BadSignature)?;
                key.verify(message, &sig)
                    .map_err(|_| TrustError::BadSignature)
            }
            Key::Rsa(key) => {
                use rsa::signature::Verifier as _;
                let pss = rsa::pss::Signature::try_from(signature).ok().filter(|sig| {
                    rsa::pss::VerifyingKey::<Sha256>::new(key.clone())
                        .verify(message, sig)
                        .is_ok()
                });
                let pkcs1 = || {
                    rsa::pkcs1v15::Signature::try_from(signature)
                        .ok()
                        .filter(|sig| {
                            rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone())
                                .verify(message, sig)
                                .is_ok()
                        })
                        .map(|_| ())
                };
                pss.map(|_| ())
                    .or_else(pkcs1)
                    .ok_or(TrustError::BadSignature)
            }
        }
    }

    fn verify(
        &self,
        algorithm: Option<i64>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), TrustError> {
        match (&self.key, algorithm) {
            (Key::Ec(key), Some(ES256)) => {
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| TrustError::BadSignature)?;
                key.verify(message, &sig)
                    .map_err(|_| TrustError::BadSignature)
            }
            (Key::Rsa(key), Some(PS256)) => {
                let verifying = rsa::pss::VerifyingKey::<Sha256>::new(key.clone());
                let sig = rsa::pss::Signature::try_from(signature)
                    .map_err(|_| TrustError::BadSignature)?;
                rsa::signature::Verifier::verify(&verifying, message, &sig)
                    .map_err(|_| TrustError::BadSignature)
            }
            _ => Err(TrustError::Algorithm(algorithm)),
        }
    }
}

/// Standard base64, padded or not (certificates pasted from gateways and e-mails come both ways).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT.decode(text).ok()
}

/// Checks the signature of a decoded EU certificate with the trusted signer whose key id it
/// names (first from the protected header, else the unprotected one); returns that signer.
pub fn verify<'a>(
    hc1: &Hc1,
    trusted: &'a [SignerCertificate],
) -> Result<&'a SignerCertificate, TrustError> {
    let kid = hc1.key_id.as_deref().ok_or(TrustError::UnknownKey)?;
    let signer = trusted
        .iter()
        .find(|c| c.key_id.as_slice() == kid)
        .ok_or(TrustError::UnknownKey)?;
    let message = propusk_spec::to_be_signed(&hc1.protected, &hc1.payload);
    signer.verify(hc1.algorithm, &message, &hc1.signature)?;
    Ok(signer)
}
