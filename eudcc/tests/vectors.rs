//! The EU DCC test vectors of `../shared/vectors/eu-dcc/`: for each file, the steps this crate
//! reports agree with the vector's expectations (EXPECTEDUNPREFIX, EXPECTEDB45DECODE,
//! EXPECTEDCOMPRESSION, EXPECTEDDECODE, EXPECTEDPICTUREDECODE, EXPECTEDVERIFY, EXPECTEDKEYUSAGE,
//! EXPECTEDEXPIRATIONCHECK at VALIDATIONCLOCK). The expectations are read here,
//! never by the decoder. Every disagreement is listed with its file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use propusk_eudcc::{SignerCertificate, decode, verify};
use serde_json::Value;

fn vectors() -> Option<Vec<PathBuf>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/eu-dcc");
    let countries = std::fs::read_dir(&root).ok()?;
    let mut files = Vec::new();
    for country in countries.flatten() {
        let raw = country.path().join("2DCode/raw");
        for f in std::fs::read_dir(raw).into_iter().flatten().flatten() {
            if f.path().extension().is_some_and(|e| e == "json") {
                files.push(f.path());
            }
        }
    }
    files.sort();
    Some(files)
}

/// The outcome of each step for one vector, as this crate reports it.
fn outcomes(v: &Value) -> BTreeMap<&'static str, bool> {
    let text = v["PREFIX"].as_str().unwrap_or("");
    let reached = match decode(text) {
        Ok(_) => 4,
        Err(e) => match e.step() {
            "unprefix" => 0,
            "b45decode" => 1,
            "compression" => 2,
            _ => 3,
        },
    };
    let mut out = BTreeMap::from([
        ("EXPECTEDUNPREFIX", reached > 0),
        ("EXPECTEDB45DECODE", reached > 1),
        ("EXPECTEDCOMPRESSION", reached > 2),
        ("EXPECTEDDECODE", reached > 3),
    ]);
    if let (Ok(hc1), Some(cert)) = (decode(text), v["TESTCTX"]["CERTIFICATE"].as_str()) {
        if let Ok(cert) = SignerCertificate::parse(cert.as_bytes()) {
            out.insert(
                "EXPECTEDVERIFY",
                verify(&hc1, std::slice::from_ref(&cert)).is_ok(),
            );
            out.insert("EXPECTEDKEYUSAGE", cert.allows(hc1.kind));
        } else {
            out.insert("EXPECTEDVERIFY", false);
        }
        if let Some(clock) = v["TESTCTX"]["VALIDATIONCLOCK"]
            .as_str()
            .and_then(parse_clock)
        {
            let within = hc1.issued_at.is_none_or(|iat| iat <= clock)
                && hc1.expires_at.is_some_and(|exp| clock <= exp);
            out.insert("EXPECTEDEXPIRATIONCHECK", within);
        }
    }
    if let Some(png) = v["2DCODE"].as_str() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png)
            .unwrap_or_default();
        let read = propusk_qr::read_qr(&bytes).ok();
        out.insert("EXPECTEDPICTUREDECODE", read.as_deref() == Some(text));
    }
    out
}

/// ISO 8601 as the vectors write it: `2021-06-01T10:00:00`, fractions of a second, and `Z`,
/// `+02:00`, `+0200` or nothing (UTC).
fn parse_clock(text: &str) -> Option<i64> {
    let (naive, rest) = (text.get(..19)?, text.get(19..)?);
    let rest = rest
        .strip_prefix('.')
        .map_or(rest, |r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
    let base: propusk_spec::Timestamp = format!("{naive}Z").parse().ok()?;
    let offset = match rest {
        "" | "Z" => 0,
        zone => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            let (h, m): (i64, i64) = (
                digits.get(..2)?.parse().ok()?,
                digits.get(2..4).unwrap_or("0").parse().ok()?,
            );
            sign * (h * 3600 + m * 60)
        }
    };
    Some(base.unix() - offset)
}

#[test]
fn the_steps_agree_with_the_eu_expectations() {
    let Some(files) = vectors() else {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "the EU vectors are missing from ../shared/vectors"
        );
        eprintln!("no ../shared/vectors/eu-dcc here: the EU vector test did not run");
        return;
    };
    assert!(files.len() > 100, "only {} vectors", files.len());
    let mut agree: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for file in &files {
        let Ok(v) = serde_json::from_str::<Value>(&std::fs::read_to_string(file).unwrap()) else {
            continue;
        };
        let ours = outcomes(&v);
        for (key, expected) in v["EXPECTEDRESULTS"].as_object().into_iter().flatten() {
            let (Some(expected), Some(got)) = (expected.as_bool(), ours.get(key.as_str())) else {
                continue;
            };
            let entry = agree.entry(key.clone()).or_default();
            entry.1 += 1;
            if *got == expected {
                entry.0 += 1;
            } else {
                let err = decode(v["PREFIX"].as_str().unwrap_or(""))
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                disagreements.push(format!(
                    "{}: {key} expected {expected}, got {got} ({err})",
                    file.display()
                ));
            }
        }
    }
    for (key, (ok, total)) in &agree {
        println!("{key}: {ok}/{total}");
    }
    for d in &disagreements {
        println!("DISAGREE {d}");
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

/// RFC 5480 allows an EC key's domain parameters to be spelled out instead of named: a signer
/// certificate with explicit parameters equal to P-256 holds the same key as one naming the
/// curve; explicit parameters of another curve (secp256k1) are refused.
#[test]
fn explicit_p256_domain_parameters_are_p256() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let read = |name: &str| std::fs::read(data.join(name)).unwrap();
    let explicit = SignerCertificate::parse(&read("explicit-p256.pem")).unwrap();
    let named = SignerCertificate::parse(&read("named-p256.pem")).unwrap();
    assert_eq!(explicit.public_key_sec1(), named.public_key_sec1());
    let other = SignerCertificate::parse(&read("explicit-secp256k1.pem"));
    assert!(other.is_err());
    // The named certificate with its curve OID changed to prime192v1 (1.2.840.10045.3.1.1, same
    // length), and the explicit one with b changed: the point is still on P-256, the parameters
    // are not P-256.
    let der = |name: &str| SignerCertificate::der(&read(name)).unwrap();
    let mut renamed = der("named-p256.pem");
    let oid = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    let at = renamed.windows(8).position(|w| w == oid).unwrap();
    renamed[at + 7] = 0x01;
    assert!(SignerCertificate::from_der(&renamed).is_err());
    let mut other_b = der("explicit-p256.pem");
    let b = [0x5A, 0xC6, 0x35, 0xD8, 0xAA, 0x3A, 0x93, 0xE7];
    let at = other_b.windows(8).position(|w| w == b).unwrap();
    other_b[at + 7] ^= 1;
    assert!(SignerCertificate::from_der(&other_b).is_err());
}
