//! A P-256 key that signs, wherever it is kept: in memory ([`p256::ecdsa::SigningKey`]) or in a
//! hardware security module (the issuer's PKCS#11 token implements [`EcSign`]). Certificates
//! and EU DCCs are signed through it alike.

use p256::ecdsa::{DerSignature, Signature, VerifyingKey};
use sha2_010::{Digest, Sha256};
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, ObjectIdentifier,
};

/// `ecdsa-with-SHA256` (RFC 5758).
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// A P-256 signing key.
pub trait EcSign: Send + Sync {
    /// Its public key, SEC1 uncompressed (65 bytes).
    fn public_sec1(&self) -> Vec<u8>;
    /// An ES256 signature (`r ‖ s`) of `digest`, the SHA-256 of the message. A key kept in a
    /// device may fail; the reason is in words.
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<[u8; 64], String>;
}

impl EcSign for p256::ecdsa::SigningKey {
    fn public_sec1(&self) -> Vec<u8> {
        self.verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<[u8; 64], String> {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        let signature: Signature = self.sign_prehash(digest).map_err(|e| e.to_string())?;
        Ok(signature.to_bytes().into())
    }
}

/// An ES256 signature of `message` by `key`, checked against its public key (a device that
/// answers with something else is caught here, not by every verifier).
pub(crate) fn sign(key: &dyn EcSign, message: &[u8]) -> Result<Signature, String> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let digest: [u8; 32] = Sha256::digest(message).into();
    let signature = Signature::from_slice(&key.sign_digest(&digest)?)
        .map_err(|_| "the key answered with no ES256 signature".to_owned())?;
    let public = public(key)?;
    public
        .verify_prehash(&digest, &signature)
        .map_err(|_| "the key's signature does not verify with its public key".to_owned())?;
    Ok(signature)
}

/// The public key of `key`.
pub(crate) fn public(key: &dyn EcSign) -> Result<VerifyingKey, String> {
    VerifyingKey::from_sec1_bytes(&key.public_sec1())
        .map_err(|_| "the key's public half is not a P-256 point".to_owned())
}

/// What the X.509 builder signs with: a key and its public half.
pub(crate) struct CertSigner<'a> {
    key: &'a dyn EcSign,
    public: VerifyingKey,
}

impl<'a> CertSigner<'a> {
    pub(crate) fn new(key: &'a dyn EcSign) -> Result<Self, String> {
        Ok(CertSigner {
            key,
            public: public(key)?,
        })
    }
}

impl p256::ecdsa::signature::Keypair for CertSigner<'_> {
    type VerifyingKey = VerifyingKey;

    fn verifying_key(&self) -> VerifyingKey {
        self.public
    }
}

impl DynSignatureAlgorithmIdentifier for CertSigner<'_> {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        })
    }
}

impl p256::ecdsa::signature::Signer<DerSignature> for CertSigner<'_> {
    fn try_sign(&self, message: &[u8]) -> Result<DerSignature, p256::ecdsa::signature::Error> {
        sign(self.key, message)
            .map(|s| s.to_der())
            .map_err(|_| p256::ecdsa::signature::Error::new())
    }
}
