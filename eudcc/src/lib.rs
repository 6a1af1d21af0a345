//! EU Digital COVID Certificates (the `HC1:` QR codes of the EU DCC, HCERT 1.x): decoding layer
//! by layer — prefix, base45, zlib, COSE_Sign1, CWT, the certificate itself — with bounded
//! inputs and a typed error naming the step that refused the input, as the EU test vectors
//! count them; then the signature (ES256 or PS256) with a trusted EU signer certificate (X.509),
//! whose extended key usage limits the types it may sign.
//!
//! Unlike Propusk's own format, EU certificates are not deterministically encoded: the
//! decoder here accepts any well-formed CBOR (tagged or untagged COSE_Sign1, tag 61 before 18,
//! a key id or algorithm in the unprotected header).
//!
//! ```
//! let refused = propusk_eudcc::decode("PR2:NOT-EU").unwrap_err();
//! assert_eq!(refused.step(), "unprefix");
//! ```
#![deny(missing_docs)]

pub mod cert;
pub mod certlogic;
mod curve;
mod ec;
pub mod revocation;
pub mod rules;
mod sign;
mod trust;
pub mod trustlist;
pub mod twin;
pub mod valuesets;

pub use ec::EcSign;
pub use sign::{DocumentSigner, RevocationHash, SignError, SignedHc1, kind_of, sign};
pub use trust::{ES256, PS256, SignerCertificate, TrustError, verify};

use std::io::Read;

use ciborium::Value;
use thiserror::Error;

/// The prefix of an EU DCC's QR text.
pub const PREFIX: &str = "HC1:";
/// Largest QR text accepted.
pub const MAX_TEXT_LEN: usize = 8192;
/// Largest inflated COSE_Sign1 accepted.
pub const MAX_COSE_LEN: usize = 16 * 1024;

/// The step of the EU pipeline that refused an input.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Hc1Error {
    /// No `HC1:` prefix, or too long.
    #[error("unprefix: {0}")]
    Unprefix(&'static str),
    /// Not base45.
    #[error("base45: {0}")]
    Base45(propusk_spec::Base45Error),
    /// Not a zlib stream, or it inflates past the cap.
    #[error("zlib: {0}")]
    Compression(&'static str),
    /// Not a COSE_Sign1 over a CWT holding an HCERT.
    #[error("decode: {0}")]
    Decode(String),
}

impl Hc1Error {
    /// The step, as the EU vectors name their expectations: `unprefix`, `b45decode`,
    /// `compression`, `decode`.
    pub fn step(&self) -> &'static str {
        match self {
            Hc1Error::Unprefix(_) => "unprefix",
            Hc1Error::Base45(_) => "b45decode",
            Hc1Error::Compression(_) => "compression",
            Hc1Error::Decode(_) => "decode",
        }
    }
}

/// The kind of an EU certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hc1Type {
    /// `v`: vaccination.
    Vaccination,
    /// `t`: test.
    Test,
    /// `r`: recovery.
    Recovery,
}

/// A decoded, not yet verified EU certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Hc1 {
    /// The protected header's bytes as received (what the signature covers).
    pub protected: Vec<u8>,
    /// The payload's bytes as received.
    pub payload: Vec<u8>,
    /// The signature.
    pub signature: Vec<u8>,
    /// The key id: from the protected header, else from the unprotected one.
    pub key_id: Option<Vec<u8>>,
    /// The algorithm: from the protected header, else from the unprotected one.
    pub algorithm: Option<i64>,
    /// CWT issuer (claim 1), when present.
    pub issuer: Option<String>,
    /// CWT issued-at (claim 6), Unix seconds.
    pub issued_at: Option<i64>,
    /// CWT expiry (claim 4), Unix seconds.
    pub expires_at: Option<i64>,
    /// The certificate (claim -260, key 1) as JSON.
    pub certificate: serde_json::Value,
    /// Its kind.
    pub kind: Hc1Type,
}

impl Hc1 {
    /// The certificate's one entry: its vaccination, test or recovery (`v[0]`, `t[0]`, `r[0]`
    /// by its kind), whose fields name the issuer (`is`, `co`) and the UCI (`ci`).
    pub fn entry(&self) -> &serde_json::Value {
        let group = match self.kind {
            Hc1Type::Vaccination => "v",
            Hc1Type::Test => "t",
            Hc1Type::Recovery => "r",
        };
        &self.certificate[group][0]
    }

    /// What the certificate certifies, as a credential body for the door's rules: a
    /// vaccination (product, dose, course, date), a test (PCR or rapid antigen, sampling time,
    /// result) or a recovery (first positive test); `None` when its entry says something the
    /// rules have no words for (another test type, an unreadable date).
    pub fn body(&self) -> Option<propusk_spec::Body> {
        use propusk_spec::{Body, Country, Date, TestKind, TestResult, Text, Timestamp};
        let e = self.entry();
        let text = |k: &str| e[k].as_str();
        let date = |k: &str| text(k)?.get(..10)?.parse::<Date>().ok();
        let country = text("co")?.parse::<Country>().ok()?;
        // Who gave it or tested: any words will do for the rules (they never judge by it).
        let by = |k: &str| {
            text(k)
                .map(|t| t.trim().chars().take(80).collect::<String>())
                .and_then(|t| Text::new(&t).ok())
                .or_else(|| Text::new("-").ok())
        };
        Some(match self.kind {
            Hc1Type::Vaccination => Body::Vaccination(propusk_spec::Vaccination {
                product: propusk_spec::VaccineProduct::new(text("mp")?).ok()?,
                dose: u8::try_from(e["dn"].as_u64()?).ok()?,
                doses: u8::try_from(e["sd"].as_u64()?).ok()?,
                date: date("dt")?,
                country,
                administered_by: by("is")?,
            }),
            Hc1Type::Test => Body::Test(propusk_spec::Test {
                kind: match text("tt")? {
                    "LP6464-4" => TestKind::Pcr,
                    "LP217198-3" => TestKind::RapidAntigen,
                    _ => return None,
                },
                sampled_at: text("sc")?.parse::<Timestamp>().ok()?,
                result: match text("tr")? {
                    "260415000" => TestResult::Negative,
                    "260373001" => TestResult::Positive,
                    _ => return None,
                },
                center: by("tc")?,
                country,
            }),
            Hc1Type::Recovery => Body::Recovery(propusk_spec::Recovery {
                first_positive: date("fr")?,
                country,
                administered_by: by("is")?,
            }),
        })
    }

    /// The unique certificate identifier (`ci`), when it is text.
    pub fn uci(&self) -> Option<&str> {
        self.entry()["ci"].as_str()
    }
}

fn cbor(bytes: &[u8], what: &str) -> Result<Value, Hc1Error> {
    let mut reader = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, 16)
        .map_err(|e| Hc1Error::Decode(format!("{what}: {e}")))?;
    Ok(value)
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i64::try_from(*i).ok(),
        Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        _ => None,
    }
}

/// A CWT NumericDate (RFC 8392 after RFC 7519): seconds since the epoch, an integer or a
/// floating-point number (its fraction dropped); `None` for anything else or out of range.
fn numeric_date(v: &Value) -> Option<i64> {
    match v {
        Value::Float(f) if f.is_finite() && f.abs() < 1e15 => Some(f.floor() as i64),
        other => int(other),
    }
}

fn header(map: &Value, label: i64) -> Option<&Value> {
    match map {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| int(k) == Some(label))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// CBOR to JSON for the certificate (text keys, numbers, strings, arrays, maps).
fn to_json(v: &Value) -> Result<serde_json::Value, Hc1Error> {
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Integer(i) => serde_json::Value::from(i128::from(*i) as i64),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Text(s) => serde_json::Value::String(s.clone()),
        Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Value::Map(entries) => {
            let mut object = serde_json::Map::new();
            for (k, v) in entries {
                let Value::Text(k) = k else {
                    return Err(Hc1Error::Decode("a certificate key is not text".into()));
                };
                object.insert(k.clone(), to_json(v)?);
            }
            serde_json::Value::Object(object)
        }
        Value::Tag(_, inner) => to_json(inner)?,
        Value::Bytes(_) => return Err(Hc1Error::Decode("bytes in the certificate".into())),
        _ => {
            return Err(Hc1Error::Decode(
                "an unsupported CBOR item in the certificate".into(),
            ));
        }
    })
}

/// Decodes the QR text of an EU DCC down to the certificate, without checking its signature.
pub fn decode(text: &str) -> Result<Hc1, Hc1Error> {
    if text.len() > MAX_TEXT_LEN {
        return Err(Hc1Error::Unprefix("longer than any QR code holds"));
    }
    let body = text
        .strip_prefix(PREFIX)
        .ok_or(Hc1Error::Unprefix("no HC1: prefix"))?;
    let compressed = propusk_spec::base45::decode(body).map_err(Hc1Error::Base45)?;
    let mut cose = Vec::with_capacity(compressed.len() * 2);
    let inflated = flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(MAX_COSE_LEN as u64 + 1)
        .read_to_end(&mut cose);
    if inflated.is_err() {
        return Err(Hc1Error::Compression("not a zlib stream"));
    }
    if cose.len() > MAX_COSE_LEN {
        return Err(Hc1Error::Compression("inflates past the cap"));
    }
    let mut value = cbor(&cose, "COSE_Sign1")?;
    // Tag 18 (COSE_Sign1), possibly behind tag 61 (CWT); untagged is accepted too.
    while let Value::Tag(tag, inner) = value {
        if tag != 18 && tag != 61 {
            return Err(Hc1Error::Decode(format!("unexpected tag {tag}")));
        }
        value = *inner;
    }
    let Value::Array(items) = value else {
        return Err(Hc1Error::Decode("not a COSE_Sign1 array".into()));
    };
    // RFC 9052 §4.2: both headers are maps (the protected one inside a byte string).
    let [
        Value::Bytes(protected),
        unprotected @ Value::Map(_),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ] = items.as_slice()
    else {
        return Err(Hc1Error::Decode(
            "not a COSE_Sign1 of four items with a map as its unprotected header".into(),
        ));
    };
    let protected_map = if protected.is_empty() {
        Value::Map(vec![])
    } else {
        cbor(protected, "protected header")?
    };
    if !matches!(protected_map, Value::Map(_)) {
        return Err(Hc1Error::Decode(
            "a protected header that is not a map".into(),
        ));
    }
    let pick = |label| header(&protected_map, label).or_else(|| header(unprotected, label));
    let key_id = match pick(4) {
        Some(Value::Bytes(b)) => Some(b.clone()),
        _ => None,
    };
    let algorithm = pick(1).and_then(int);
    let claims = cbor(payload, "CWT")?;
    let claim = |label| header(&claims, label);
    let hcert = claim(-260)
        .and_then(|h| header(h, 1))
        .ok_or_else(|| Hc1Error::Decode("no HCERT (claim -260, key 1)".into()))?;
    let certificate = to_json(hcert)?;
    let kind = ["v", "t", "r"]
        .iter()
        .filter(|k| {
            certificate
                .get(**k)
                .and_then(|g| g.as_array())
                .is_some_and(|a| !a.is_empty())
        })
        .map(|k| match *k {
            "v" => Hc1Type::Vaccination,
            "t" => Hc1Type::Test,
            _ => Hc1Type::Recovery,
        })
        .collect::<Vec<_>>();
    let [kind] = kind.as_slice() else {
        return Err(Hc1Error::Decode("not exactly one of v, t, r".into()));
    };
    Ok(Hc1 {
        protected: protected.clone(),
        payload: payload.clone(),
        signature: signature.clone(),
        key_id,
        algorithm,
        issuer: claim(1).and_then(|v| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }),
        issued_at: claim(6).and_then(numeric_date),
        expires_at: claim(4).and_then(numeric_date),
        certificate,
        kind: *kind,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn cbor(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = ciborium::into_writer(v, &mut out);
        out
    }

    /// An (unsigned) HC1 text with these claims.
    fn hc1(claims: Vec<(Value, Value)>) -> String {
        hc1_with(claims, Value::Map(vec![]))
    }

    /// An (unsigned) HC1 text with these claims and this unprotected header.
    fn hc1_with(claims: Vec<(Value, Value)>, unprotected: Value) -> String {
        let protected = cbor(&Value::Map(vec![(
            Value::Integer(1.into()),
            Value::Integer((-7).into()),
        )]));
        let cose = cbor(&Value::Array(vec![
            Value::Bytes(protected),
            unprotected,
            Value::Bytes(cbor(&Value::Map(claims))),
            Value::Bytes(vec![0; 64]),
        ]));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = z.write_all(&cose);
        let zipped = z.finish().unwrap_or_default();
        format!("HC1:{}", propusk_spec::base45::encode(&zipped))
    }

    #[test]
    fn numeric_dates_may_be_floating_point() {
        let certificate = Value::Map(vec![(
            Value::Text("v".into()),
            Value::Array(vec![Value::Map(vec![])]),
        )]);
        let claims = vec![
            (Value::Integer(4.into()), Value::Float(1_700_000_000.75)),
            (Value::Integer(6.into()), Value::Float(1_600_000_000.0)),
            (
                Value::Integer((-260).into()),
                Value::Map(vec![(Value::Integer(1.into()), certificate)]),
            ),
        ];
        let decoded = decode(&hc1(claims));
        assert_eq!(
            decoded.as_ref().map(|h| (h.issued_at, h.expires_at)).ok(),
            Some((Some(1_600_000_000), Some(1_700_000_000))),
            "{decoded:?}"
        );
    }

    /// RFC 9052 requires the unprotected header to be a map: an empty array or an integer in
    /// its place (one bit flipped from `a0`) is refused (review 3, F15).
    #[test]
    fn an_unprotected_header_that_is_not_a_map_is_refused() {
        let certificate = Value::Map(vec![(
            Value::Text("v".into()),
            Value::Array(vec![Value::Map(vec![])]),
        )]);
        let claims = || {
            vec![(
                Value::Integer((-260).into()),
                Value::Map(vec![(Value::Integer(1.into()), certificate.clone())]),
            )]
        };
        assert!(decode(&hc1(claims())).is_ok());
        for unprotected in [Value::Array(vec![]), Value::Integer((-1).into())] {
            let refused = decode(&hc1_with(claims(), unprotected.clone()));
            assert!(
                matches!(refused, Err(Hc1Error::Decode(_))),
                "{unprotected:?}: {refused:?}"
            );
        }
    }
}
