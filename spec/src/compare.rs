//! The yardstick for size: the EU Digital COVID Certificate (HCERT 1.3.0) with the same
//! content, encoded as EU issuers do (CWT with claim -260, COSE_Sign1 tag 18 with ES256 and an
//! 8-byte key id, zlib at the best level, base45, `HC1:`).
//!
//! Only the length matters here: the key id and signature are pseudo-random bytes, exactly as
//! long as a real ES256 signature and EU key id, and as incompressible. The EU format has no identity document, exemption or pass, so the
//! comparison favours the EU side and covers vaccination, recovery and test. The EU format has
//! no field for who administered a dose either; its `is` is the certificate issuer, which a
//! Propusk credential leaves to the trust list.

use std::io::Write;

use ciborium::Value;
use flate2::Compression;
use flate2::write::ZlibEncoder;

use crate::base45;
use crate::cbor::{self, int, uint};
use crate::codes::{TestKind, TestResult};
use crate::holder::{Holder, Name};
use crate::model::{Body, Credential};
use crate::translit::to_mrz;

/// The issuing authority, as EU issuers name themselves in `is`.
const ISSUER: &str = "Ministry of Health of the Russian Federation";

fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn entries(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (t(k), v)).collect())
}

fn joined(names: &[Option<&Name>], f: impl Fn(&Name) -> String, sep: &str) -> String {
    names
        .iter()
        .flatten()
        .map(|n| f(n))
        .collect::<Vec<_>>()
        .join(sep)
}

/// `len` pseudo-random bytes (splitmix64), standing in for a key id or a signature.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

/// The `HC1:` text of an EU DCC with this credential's content and its holder's full names
/// (`h`: the record the credential was issued from), or `None` for the types the EU format
/// has no place for (exemption, pass).
pub fn eu_dcc_text(credential: &Credential, h: &Holder) -> Option<String> {
    let given = [h.given_name.as_ref(), h.patronymic.as_ref()];
    let nam = entries(vec![
        ("fn", t(h.family_name.native())),
        ("fnt", t(&to_mrz(h.family_name.latin()))),
        ("gn", t(&joined(&given, |n| n.native().to_owned(), " "))),
        ("gnt", t(&joined(&given, |n| to_mrz(n.latin()), "<"))),
    ]);
    // A UVCI as the EU guidelines shape it: scheme, version, country, opaque id, `#` and a
    // check character.
    let ci = t(&format!("URN:UVCI:01:RU:{}#{}", credential.id, "X"));
    // The certificate issuer, mandatory in every EU group; Propusk keeps it in the trust list.
    let issuer = t(ISSUER);
    let (group, entry) = match &credential.body {
        Body::Vaccination(v) => {
            let ma = if v.product.code().starts_with("Sputnik") {
                "Gamaleya-Research-Institute"
            } else {
                "ORG-100030215"
            };
            let entry = entries(vec![
                ("tg", t("840539006")),
                ("vp", t("J07BX03")),
                ("mp", t(v.product.code())),
                ("ma", t(ma)),
                ("dn", uint(u64::from(v.dose))),
                ("sd", uint(u64::from(v.doses))),
                ("dt", t(&v.date.to_string())),
                ("co", t(v.country.as_str())),
                ("is", issuer),
                ("ci", ci),
            ]);
            ("v", entry)
        }
        Body::Recovery(r) => {
            let entry = entries(vec![
                ("tg", t("840539006")),
                ("fr", t(&r.first_positive.to_string())),
                ("co", t(r.country.as_str())),
                ("is", issuer),
                ("df", t(&r.first_positive.to_string())),
                ("du", t(&credential.expires_at.date()?.to_string())),
                ("ci", ci),
            ]);
            ("r", entry)
        }
        Body::Test(x) => {
            let tt = match x.kind {
                TestKind::Pcr => "LP6464-4",
                TestKind::RapidAntigen => "LP217198-3",
            };
            let tr = match x.result {
                TestResult::Negative => "260415000",
                TestResult::Positive => "260373001",
            };
            let entry = entries(vec![
                ("tg", t("840539006")),
                ("tt", t(tt)),
                ("sc", t(&x.sampled_at.to_string())),
                ("tr", t(tr)),
                ("tc", t(x.center.as_str())),
                ("co", t(x.country.as_str())),
                ("is", issuer),
                ("ci", ci),
            ]);
            ("t", entry)
        }
        Body::Exemption(_) | Body::Pass(_) => return None,
    };
    let hcert = entries(vec![
        ("ver", t("1.3.0")),
        ("nam", nam),
        ("dob", t(&h.birth_date.to_string())),
        (group, Value::Array(vec![entry])),
    ]);
    let claims = Value::Map(vec![
        (int(1), t("RU")),
        (int(4), credential.expires_at.to_cbor()),
        (int(6), credential.issued_at.to_cbor()),
        (int(-260), Value::Map(vec![(int(1), hcert)])),
    ]);
    let protected = cbor::encode(&Value::Map(vec![
        (int(1), int(-7)),
        (int(4), Value::Bytes(noise(8, 1))),
    ]));
    let sign1 = Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::Bytes(cbor::encode(&claims)),
            Value::Bytes(noise(64, 2)),
        ])),
    );
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(&cbor::encode(&sign1)).ok()?;
    Some(format!("HC1:{}", base45::encode(&z.finish().ok()?)))
}
