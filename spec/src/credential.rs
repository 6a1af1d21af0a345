//! From a credential to its text and back: claims → COSE_Sign1 → (zlib) → base45 → `PR1:`.

use std::collections::HashMap;
use std::io::Read;

use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use flate2::{Compress, Compression, FlushCompress};

use crate::base45;
use crate::cbor::{self, int};
use crate::error::{CoseError, Error, PrefixError, ZlibError};
use crate::id::KeyId;
use crate::model::{ClaimsError, Credential};

/// The version prefix of credential text.
pub const PREFIX: &str = "PR1:";
/// Longest credential text accepted: what a version-40 QR code holds in alphanumeric mode.
pub const MAX_TEXT_LEN: usize = 4296;
/// Largest COSE_Sign1 accepted, compressed or not; inflating past it is an error.
pub const MAX_COSE_LEN: usize = 4096;
/// COSE algorithm identifier of EdDSA (RFC 9053 §2.2).
pub const ALG_EDDSA: i64 = -8;
/// First byte of a zlib stream with deflate and a 32 KiB window (RFC 1950): how a decoder
/// tells a compressed credential from a bare COSE_Sign1, which starts with 0x84.
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

/// Encodes credentials, keeping one zlib compressor for all of them.
pub struct Encoder {
    compressor: Compress,
    scratch: Vec<u8>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            compressor: Compress::new(Compression::best(), true),
            scratch: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").finish_non_exhaustive()
    }
}

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
        let protected = cbor::encode(&cbor::map([
            (1, Some(int(ALG_EDDSA))),
            (4, Some(Value::Bytes(key_id.as_bytes().to_vec()))),
        ]));
        let payload = cbor::encode(&credential.to_cbor());
        let signature = sign(&to_be_signed(&protected, &payload));
        Ok(cbor::encode(&Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::Bytes(payload),
            Value::Bytes(signature.to_vec()),
        ])))
    }

    /// Signs a credential and returns its text: `PR1:` and base45 of the COSE_Sign1, zlib
    /// compressed when (and only when) that makes it shorter.
    pub fn encode(
        &mut self,
        credential: &Credential,
        key_id: &KeyId,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<String, Error> {
        let cose = Self::sign(credential, key_id, sign)?;
        let body = match self.compress(&cose) {
            Some(z) if z.len() < cose.len() => base45::encode(z),
            _ => base45::encode(&cose),
        };
        Ok(format!("{PREFIX}{body}"))
    }

    fn compress(&mut self, data: &[u8]) -> Option<&[u8]> {
        self.compressor.reset();
        self.scratch.clear();
        self.scratch.reserve(data.len() + 64);
        let status = self
            .compressor
            .compress_vec(data, &mut self.scratch, FlushCompress::Finish);
        matches!(status, Ok(flate2::Status::StreamEnd)).then_some(&self.scratch[..])
    }
}

/// Signs and encodes one credential (see [`Encoder::encode`]).
pub fn encode(
    credential: &Credential,
    key_id: &KeyId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
) -> Result<String, Error> {
    Encoder::default().encode(credential, key_id, sign)
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
    compressed: bool,
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

    /// Whether the text carried a zlib-compressed COSE_Sign1.
    pub fn was_compressed(&self) -> bool {
        self.compressed
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

    /// Verifies the signature with the key the provider holds for this key id
    /// (`verify_strict`: no small-order keys, no malleable signatures).
    pub fn verify(&self, keys: &impl KeyProvider) -> Result<VerifiedCredential, Error> {
        let key = keys
            .verifying_key(&self.key_id)
            .ok_or_else(|| Error::UnknownKey(self.key_id.clone()))?;
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
/// On signatures made with the key, batch and strict verification agree; they can differ only
/// on signatures with a torsion component in R, which only a holder of the secret key can make
/// (R enters the hash that the signature answers). Such a signer could sign anything anyway.
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
        !vks.iter().any(VerifyingKey::is_weak)
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

/// Decodes credential text (`PR1:...`) down to an [`UnverifiedCredential`]; every layer is
/// strict and bounded, and a failure names its layer.
pub fn decode(text: &str) -> Result<UnverifiedCredential, Error> {
    if text.len() > MAX_TEXT_LEN {
        return Err(PrefixError::TooLong {
            length: text.len(),
            max: MAX_TEXT_LEN,
        }
        .into());
    }
    let body = text.strip_prefix(PREFIX).ok_or(PrefixError::Unknown)?;
    let bytes = base45::decode(body)?;
    let compressed = bytes.first() == Some(&ZLIB_CMF);
    let cose = if compressed { inflate(&bytes)? } else { bytes };
    decode_cose(&cose, compressed)
}

/// Inflates a zlib stream, refusing more than [`MAX_COSE_LEN`] bytes of output and any byte
/// after the stream's end.
fn inflate(bytes: &[u8]) -> Result<Vec<u8>, ZlibError> {
    let mut decoder = flate2::bufread::ZlibDecoder::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() * 2);
    (&mut decoder)
        .take(MAX_COSE_LEN as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| ZlibError::Malformed)?;
    if out.len() > MAX_COSE_LEN {
        return Err(ZlibError::TooLarge { max: MAX_COSE_LEN });
    }
    if decoder.total_in() != bytes.len() as u64 {
        return Err(ZlibError::TrailingBytes);
    }
    Ok(out)
}

fn decode_cose(bytes: &[u8], compressed: bool) -> Result<UnverifiedCredential, Error> {
    if bytes.len() > MAX_COSE_LEN {
        return Err(ZlibError::TooLarge { max: MAX_COSE_LEN }.into());
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
        compressed,
    })
}

/// Reads the protected header `{1: -8, 4: kid}`; any other parameter, `crit` included, is
/// refused.
fn protected_header(bytes: &[u8]) -> Result<KeyId, Error> {
    if bytes.is_empty() {
        return Err(CoseError::Algorithm.into());
    }
    let Value::Map(entries) = cbor::decode(bytes)? else {
        return Err(CoseError::WrongType("protected header").into());
    };
    let (mut alg, mut kid) = (None, None);
    for (label, value) in &entries {
        let label = match label {
            Value::Integer(i) => i64::try_from(*i).unwrap_or(i64::MIN),
            _ => i64::MIN,
        };
        match (label, value) {
            (1, Value::Integer(a)) => alg = i64::try_from(*a).ok(),
            (1, _) => return Err(CoseError::Algorithm.into()),
            (4, Value::Bytes(k)) => kid = Some(KeyId::new(k).ok_or(CoseError::KeyId)?),
            (4, _) => return Err(CoseError::KeyId.into()),
            (other, _) => return Err(CoseError::UnknownHeader(other).into()),
        }
    }
    if alg != Some(ALG_EDDSA) {
        return Err(CoseError::Algorithm.into());
    }
    kid.ok_or_else(|| CoseError::KeyId.into())
}
