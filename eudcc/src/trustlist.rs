//! EU trust lists in the gateway's signer-certificate format: a JSON list of entries
//! (`kid`, `country`, `certificateType`, `thumbprint`, `rawData`), signed by a trust anchor
//! whose certificate the operator configured — the signature separate, or on the file's first
//! line before the JSON (as national backends serve it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2_010::{Digest, Sha256};
use thiserror::Error;

use crate::SignerCertificate;

/// Largest trust list accepted, in bytes.
pub const MAX_TRUST_LIST_LEN: usize = 32 << 20;

/// Why a trust list was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustListError {
    /// The anchor's signature is missing or does not verify: nothing of it is taken.
    #[error("the trust list's signature does not verify with the trust anchor")]
    Signature,
    /// It is not the format.
    #[error("not a trust list: {0}")]
    Format(String),
}

/// A document signer the list vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSigner {
    /// Its country.
    pub country: String,
    /// Its certificate, DER.
    pub der: Vec<u8>,
}

/// Checks a trust list's signature with the anchor and returns its document signers (entries
/// of another type are passed over). `signature` is the separate signature; without one, the
/// file's first line holds it (base64) and the JSON follows. Every entry is checked: its key
/// id and thumbprint must be its certificate's, its country two letters.
pub fn open(
    file: &[u8],
    signature: Option<&[u8]>,
    anchor: &SignerCertificate,
) -> Result<Vec<ListedSigner>, TrustListError> {
    if file.len() > MAX_TRUST_LIST_LEN {
        return Err(TrustListError::Format("larger than 32 MiB".into()));
    }
    let (signature, json) = match signature {
        Some(sig) => (decode_signature(sig), file),
        None => {
            let split = file.iter().position(|b| *b == b'\n');
            let Some(at) = split.filter(|_| !matches!(file.first(), Some(b'[' | b'{'))) else {
                return Err(TrustListError::Signature);
            };
            (decode_signature(&file[..at]), &file[at + 1..])
        }
    };
    anchor
        .verify_detached(json, &signature)
        .map_err(|_| TrustListError::Signature)?;
    let parsed: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| TrustListError::Format(format!("not JSON: {e}")))?;
    let entries = parsed
        .as_array()
        .or_else(|| parsed["certificates"].as_array())
        .ok_or_else(|| TrustListError::Format("no list of certificates".into()))?;
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let bad = |what: &str| TrustListError::Format(format!("entry {}: {what}", i + 1));
        let kind = entry["certificateType"].as_str().unwrap_or("DSC");
        if !kind.eq_ignore_ascii_case("DSC") {
            continue;
        }
        let der = entry["rawData"]
            .as_str()
            .and_then(|r| STANDARD.decode(r).ok())
            .ok_or_else(|| bad("rawData is not base64"))?;
        let certificate = SignerCertificate::from_der(&der).map_err(|e| bad(&e.to_string()))?;
        let kid = entry["kid"].as_str().ok_or_else(|| bad("no kid"))?;
        if STANDARD.decode(kid).ok().as_deref() != Some(certificate.key_id().as_slice()) {
            return Err(bad("its kid is not its certificate's"));
        }
        if let Some(thumbprint) = entry["thumbprint"].as_str() {
            let own = propusk_spec::hex::encode(&Sha256::digest(&der));
            if !thumbprint.eq_ignore_ascii_case(&own) {
                return Err(bad("its thumbprint is not its certificate's"));
            }
        }
        let country = entry["country"]
            .as_str()
            .map(str::to_ascii_uppercase)
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
            .ok_or_else(|| bad("country is not a two-letter code"))?;
        out.push(ListedSigner { country, der });
    }
    Ok(out)
}

/// A signature given as bytes, or as base64 text of them.
fn decode_signature(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed: String = text.split_whitespace().collect();
    match STANDARD.decode(&trimmed) {
        Ok(decoded) if !trimmed.is_empty() => decoded,
        _ => bytes.to_vec(),
    }
}
