//! From a credential to its text and back: claims → COSE_Sign1 → base45 → `PR2:`.
//!
//! There is no compression layer: one signed credential has exactly one text (SPEC §4).

use std::collections::HashMap;

use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::base45;
use crate::cbor;
use crate::error::{CoseError, Error, PrefixError};
use crate::id::KeyId;
use crate::model::{ClaimsError, Credential};
use crate::strict;

/// The version prefix of credential text.
pub const PREFIX: &str = "PR2:";
/// The prefix of version 1, withdrawn before release (its holder carried full names): refused
/// with words of its own.
pub const WITHDRAWN_PREFIX: &str = "PR1:";
/// Longest credential text accepted: what a version-40 QR code holds in alphanumeric mode.
pub const MAX_TEXT_LEN: usize = 4296;
/// COSE algorithm identifier of EdDSA (RFC 9053 §2.2): the one algorithm of this version, fixed
/// by its prefix, so that the protected header does not carry it (SPEC §6.2).
pub const ALG_EDDSA: i64 = -8;
/// The first byte of every COSE_Sign1 of this format: an array of four items.
const ARRAY_OF_FOUR: u8 = 0x84;
/// The first byte of a zlib stream with deflate and a 32 KiB window (RFC 1950), as the EU's
/// `HC1:` texts carry: named in the error, never inflated.
const ZLIB_CMF: u8 = 0x78;

/// Finds the public key for a key id: the trust list does this for a verifier.
pub trait KeyProvider {
    /// The Ed25519 public key with this id, when it is known.
    fn verifying_key(&self, key_id: &KeyId) -> Option<VerifyingKey>;
}

impl KeyProvider for HashMap<KeyId, VerifyingKey> {
    fn verifying_key(&self, key_id: &KeyId) -> Option<VerifyingKey> {
        self.get(key_id).copied()
    }
}

impl KeyProvider for (KeyId, VerifyingKey) {
    fn verifying_key(&self, key_id: &KeyId) -> Option<VerifyingKey> {
        (&self.0 == key_id).then_some(self.1)
    }
}

/// The bytes that are signed: `Sig_structure` of RFC 9052 §4.4,
/// `["Signature1", protected, h'', payload]`.
pub fn to_be_signed(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// Encodes credentials.
#[derive(Debug, Default)]
pub struct Encoder;

impl Encoder {
    /// Signs a credential with the key `key_id` names and returns the COSE_Sign1 bytes.
    ///
    /// `sign` receives the bytes to be signed and returns the Ed25519 signature; the key stays
    /// with the caller.
    pub fn sign(
        credential: &Credential,
        key_id: &KeyId,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<Vec<u8>, Error> {
        credential.check().map_err(claims_error)?;
        let protected = cbor::encode(&cbor::map([(
            4,
            Some(Value::Bytes(key_id.as_bytes().to_vec())),
        )]));
        let payload = cbor::encode(&credential.to_cbor());
        let signature = sign(&to_be_signed(&protected, &payload));
        Ok(cbor::encode(&Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::Bytes(payload),
            Value::Bytes(signature.to_vec()),
        ])))
    }

    /// Signs a credential and returns its text: `PR2:` and base45 of the COSE_Sign1.
    pub fn encode(
        &mut self,
        credential: &Credential,
        key_id: &KeyId,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<String, Error> {
        let cose = Self::sign(credential, key_id, sign)?;
        Ok(format!("{PREFIX}{}", base45::encode(&cose)))
    }
}

/// Signs and encodes one credential (see [`Encoder::encode`]).
pub fn encode(
    credential: &Credential,
    key_id: &KeyId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
) -> Result<String, Error> {
    Encoder.encode(credential, key_id, sign)
}

fn claims_error(e: ClaimsError) -> Error {
    match e {
        ClaimsError::Claims(e) => Error::Claims(e),
        ClaimsError::Body(e) => Error::Body(e),
    }
}

/// A decoded credential whose signature has not been checked yet.
///
/// Its claims can be looked at (to say what a forged code claims to be), but only
/// [`UnverifiedCredential::verify`] yields a [`VerifiedCredential`].
#[derive(Debug, Clone)]
pub struct UnverifiedCredential {
    protected: Vec<u8>,
    payload: Vec<u8>,
    signature: [u8; 64],
    key_id: KeyId,
    credential: Credential,
}

/// A credential whose signature verified with a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCredential {
    key_id: KeyId,
    credential: Credential,
}

impl VerifiedCredential {
    /// The id of the key that signed it.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The verified claims.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The verified claims, by value.
    pub fn into_credential(self) -> Credential {
        self.credential
    }
}

impl UnverifiedCredential {
    /// The key id from the protected header.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The claims as they arrived, not yet authenticated.
    pub fn unverified_claims(&self) -> &Credential {
        &self.credential
    }

    /// The bytes the signature covers, rebuilt from the protected header and payload exactly as
    /// they arrived.
    pub fn to_be_signed(&self) -> Vec<u8> {
        to_be_signed(&self.protected, &self.payload)
    }

    /// The signature as it arrived.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// Takes the credential as its issuer's own without checking its signature: for the issuer
    /// itself, reading a credential from its own store whose row carries the issuer's proof (an
    /// HMAC under its secret over the id and the text), which stands for the signature it made.
    /// `None` when the provider holds no key under this key id. Never for a credential that came
    /// from outside.
    pub fn vouched_for(&self, keys: &impl KeyProvider) -> Option<VerifiedCredential> {
        keys.verifying_key(&self.key_id)?;
        Some(VerifiedCredential {
            key_id: self.key_id.clone(),
            credential: self.credential.clone(),
        })
    }

    /// Verifies the signature with the key the provider holds for this key id, strictly
    /// (SPEC §6.4): canonical encodings of the key and of R, neither of small order, S < L, and
    /// R recomputed without the cofactor.
    pub fn verify(&self, keys: &impl KeyProvider) -> Result<VerifiedCredential, Error> {
        let key = keys
            .verifying_key(&self.key_id)
            .ok_or_else(|| Error::UnknownKey(self.key_id.clone()))?;
        if !strict::canonical(key.as_bytes()) {
            return Err(Error::BadSignature);
        }
        let signature = Signature::from_bytes(&self.signature);
        key.verify_strict(&self.to_be_signed(), &signature)
            .map_err(|_| Error::BadSignature)?;
        Ok(VerifiedCredential {
            key_id: self.key_id.clone(),
            credential: self.credential.clone(),
        })
    }
}

/// Verifies many credentials at once, as a scanner's queue or a batch check does: one Ed25519
/// batch verification over all whose key is known, and, only if that fails, each signature on
/// its own with `verify_strict` to find the bad ones. The answers are in input order.
///
/// Batch verification runs only when every key and every R is canonical and not of small
/// order (checked on the bytes, without decompressing); otherwise each is checked on its own.
/// Then batch and strict verification agree; they can differ only on signatures with a torsion
/// component in R, which only a holder of the secret key can make (R enters the hash that the
/// signature answers). Such a signer could sign anything anyway.
pub fn verify_batch(
    items: &[UnverifiedCredential],
    keys: &impl KeyProvider,
) -> Vec<Result<VerifiedCredential, Error>> {
    let found: Vec<Option<VerifyingKey>> = items
        .iter()
        .map(|u| keys.verifying_key(&u.key_id))
        .collect();
    let known: Vec<usize> = (0..items.len()).filter(|&i| found[i].is_some()).collect();
    let batch_ok = known.len() > 1 && {
        let messages: Vec<Vec<u8>> = known.iter().map(|&i| items[i].to_be_signed()).collect();
        let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let signatures: Vec<Signature> = known
            .iter()
            .map(|&i| Signature::from_bytes(&items[i].signature))
            .collect();
        let vks: Vec<VerifyingKey> = known.iter().filter_map(|&i| found[i]).collect();
        !vks.iter()
            .any(|k| k.is_weak() || !strict::canonical(k.as_bytes()))
            && known.iter().all(|&i| strict::plain_r(&items[i].signature))
            && ed25519_dalek::verify_batch(&message_refs, &signatures, &vks).is_ok()
    };
    items
        .iter()
        .zip(found)
        .map(|(u, key)| match key {
            None => Err(Error::UnknownKey(u.key_id.clone())),
            Some(_) if batch_ok => Ok(VerifiedCredential {
                key_id: u.key_id.clone(),
                credential: u.credential.clone(),
            }),
            Some(key) => u.verify(&(u.key_id.clone(), key)),
        })
        .collect()
}

/// Decodes credential text (`PR2:...`) down to an [`UnverifiedCredential`]; every layer is
/// strict and bounded, and a failure names its layer.
pub fn decode(text: &str) -> Result<UnverifiedCredential, Error> {
    if text.len() > MAX_TEXT_LEN {
        return Err(PrefixError::TooLong {
            length: text.len(),
            max: MAX_TEXT_LEN,
        }
        .into());
    }
    if text.starts_with(WITHDRAWN_PREFIX) {
        return Err(PrefixError::Withdrawn.into());
    }
    let body = text.strip_prefix(PREFIX).ok_or(PrefixError::Unknown)?;
    let bytes = base45::decode(body)?;
    decode_cose(&bytes)
}

fn decode_cose(bytes: &[u8]) -> Result<UnverifiedCredential, Error> {
    match bytes.first() {
        Some(&ARRAY_OF_FOUR) => {}
        Some(&ZLIB_CMF) => return Err(CoseError::Compressed.into()),
        _ => return Err(CoseError::NotSign1.into()),
    }
    let Value::Array(items) = cbor::decode(bytes)? else {
        return Err(CoseError::NotSign1.into());
    };
    let [protected, unprotected, payload, signature] = items.as_slice() else {
        return Err(CoseError::NotSign1.into());
    };
    let Value::Bytes(protected) = protected else {
        return Err(CoseError::WrongType("protected header").into());
    };
    match unprotected {
        Value::Map(m) if m.is_empty() => {}
        Value::Map(_) => return Err(CoseError::UnprotectedNotEmpty.into()),
        _ => return Err(CoseError::WrongType("unprotected header").into()),
    }
    let Value::Bytes(payload) = payload else {
        return Err(CoseError::WrongType("payload").into());
    };
    let Value::Bytes(signature) = signature else {
        return Err(CoseError::WrongType("signature").into());
    };
    let signature: [u8; 64] = signature
        .as_slice()
        .try_into()
        .map_err(|_| CoseError::SignatureLength)?;
    let key_id = protected_header(protected)?;
    let credential = Credential::from_cbor(&cbor::decode(payload)?).map_err(claims_error)?;
    Ok(UnverifiedCredential {
        protected: protected.clone(),
        payload: payload.clone(),
        signature,
        key_id,
        credential,
    })
}

/// Reads the protected header `{4: kid}`; any other parameter — `alg` (the version fixes the
/// algorithm), `crit` — is refused.
fn protected_header(bytes: &[u8]) -> Result<KeyId, Error> {
    if bytes.is_empty() {
        return Err(CoseError::KeyId.into());
    }
    let Value::Map(entries) = cbor::decode(bytes)? else {
        return Err(CoseError::WrongType("protected header").into());
    };
    let mut kid = None;
    for (label, value) in &entries {
        let label = match label {
            Value::Integer(i) => i64::try_from(*i).unwrap_or(i64::MIN),
            _ => i64::MIN,
        };
        match (label, value) {
            (1, _) => return Err(CoseError::Algorithm.into()),
            (4, Value::Bytes(k)) => kid = Some(KeyId::new(k).ok_or(CoseError::KeyId)?),
            (4, _) => return Err(CoseError::KeyId.into()),
            (other, _) => return Err(CoseError::UnknownHeader(other).into()),
        }
    }
    kid.ok_or_else(|| CoseError::KeyId.into())
}
