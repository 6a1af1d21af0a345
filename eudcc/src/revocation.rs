//! EU DCC revocation lists as the gateway hands them out (batches of hashes per signer:
//! `{"country", "kid", "hashType", "expires", "entries": [{"hash"}]}`), and the hashes of a
//! certificate that a list may hold.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2_010::{Digest, Sha256};
use thiserror::Error;

use crate::{ES256, Hc1};

/// Largest revocation file accepted, in bytes.
pub const MAX_REVOCATION_FILE_LEN: usize = 64 << 20;

/// Why a revocation file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct BatchError(String);

/// One revocation batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationBatch {
    /// The country that revoked.
    pub country: String,
    /// The signer's key id (8 bytes).
    pub kid: Vec<u8>,
    /// `UCI`, `COUNTRYCODEUCI` or `SIGNATURE`.
    pub hash_type: String,
    /// When its entries may be dropped (Unix seconds).
    pub expires: i64,
    /// The hashes (first 128 bits of SHA-256).
    pub hashes: Vec<[u8; 16]>,
}

const FORMS: [&str; 3] = ["UCI", "COUNTRYCODEUCI", "SIGNATURE"];

impl RevocationBatch {
    fn from_json(batch: &serde_json::Value) -> Result<RevocationBatch, BatchError> {
        let text = |key: &str| {
            batch[key]
                .as_str()
                .ok_or_else(|| BatchError(format!("a batch without {key}")))
        };
        let country = text("country")?.to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(BatchError(format!(
                "country {country:?} is not a two-letter code"
            )));
        }
        let kid = STANDARD
            .decode(text("kid")?)
            .ok()
            .filter(|k| k.len() == 8)
            .ok_or_else(|| BatchError("kid is not base64 of 8 bytes".into()))?;
        let hash_type = text("hashType")?.to_ascii_uppercase();
        if !FORMS.contains(&hash_type.as_str()) {
            return Err(BatchError(format!(
                "hashType {hash_type:?} is not UCI, COUNTRYCODEUCI or SIGNATURE"
            )));
        }
        let expires = crate::certlogic::date_time(text("expires")?)
            .ok_or_else(|| BatchError("expires is not a date-time".into()))?;
        let entries = batch["entries"]
            .as_array()
            .ok_or_else(|| BatchError("a batch without entries".into()))?;
        let hashes = entries
            .iter()
            .map(|e| {
                let bytes = e["hash"].as_str().and_then(|h| STANDARD.decode(h).ok());
                bytes
                    .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
                    .ok_or_else(|| BatchError("an entry's hash is not base64 of 16 bytes".into()))
            })
            .collect::<Result<_, _>>()?;
        Ok(RevocationBatch {
            country,
            kid,
            hash_type,
            expires,
            hashes,
        })
    }

    /// Reads a file of batches: one batch, a list of them, or `{"batches": [...]}` (what a
    /// Propusk issuer's `eu-revocations.json` holds).
    pub fn parse_file(bytes: &[u8]) -> Result<Vec<RevocationBatch>, BatchError> {
        if bytes.len() > MAX_REVOCATION_FILE_LEN {
            return Err(BatchError("larger than 64 MiB".into()));
        }
        let parsed: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| BatchError(format!("not JSON: {e}")))?;
        let batches = match &parsed {
            serde_json::Value::Array(all) => all.iter().collect(),
            serde_json::Value::Object(map) if map.contains_key("batches") => parsed["batches"]
                .as_array()
                .ok_or_else(|| BatchError("batches is not a list".into()))?
                .iter()
                .collect(),
            serde_json::Value::Object(_) => vec![&parsed],
            _ => return Err(BatchError("neither a batch nor a list of batches".into())),
        };
        batches
            .into_iter()
            .map(RevocationBatch::from_json)
            .collect()
    }
}

fn first_128(bytes: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// The hashes under which a revocation list may name this certificate, by form: of its UCI, of
/// its issuing country (the CWT's `iss`) and UCI, and of its signature (an ES256 signature's
/// first half, an RSA signature whole).
pub fn hashes_of(hc1: &Hc1) -> Vec<(&'static str, [u8; 16])> {
    let mut out = Vec::with_capacity(3);
    if let Some(uci) = hc1.uci() {
        out.push(("UCI", first_128(uci.as_bytes())));
        let country = hc1.issuer.as_deref().unwrap_or("");
        out.push((
            "COUNTRYCODEUCI",
            first_128(format!("{country}{uci}").as_bytes()),
        ));
    }
    let signature = match hc1.algorithm {
        Some(ES256) => &hc1.signature[..hc1.signature.len() / 2],
        _ => &hc1.signature[..],
    };
    out.push(("SIGNATURE", first_128(signature)));
    out
}
