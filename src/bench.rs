//! `propusk bench`: figures for the wire format, measured on this machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer, SigningKey};
use propusk_spec::{CredentialId, CredentialType, Encoder, KeyId, compare, decode, examples};
use qrcode::{EcLevel, QrCode, Version};

use crate::EXIT_OK;

/// Arguments of `propusk bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Operations per timed run; each figure is the median of five runs.
    #[arg(long, default_value_t = 2000)]
    pub iterations: u32,
}

/// The QR version (1–40) that holds `text` at error correction Q, or 0 if none does.
pub fn qr_version(text: &str) -> i16 {
    match QrCode::with_error_correction_level(text, EcLevel::Q).map(|q| q.version()) {
        Ok(Version::Normal(v)) => v,
        _ => 0,
    }
}

/// Median time per operation of `f`, over five runs of `n` calls.
fn per_op(n: u32, mut f: impl FnMut()) -> Duration {
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed() / n.max(1)
        })
        .collect();
    runs.sort();
    runs[2]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Runs `propusk bench`.
pub fn run(args: &Args) -> u8 {
    let n = args.iterations.max(1);
    let key = SigningKey::from_bytes(&[0x2A; 32]);
    let key_id = KeyId::new(&[0x5E, 0x1F, 0x07, 0xC3]).unwrap_or_else(|| unreachable!("4 bytes"));
    let trusted = (key_id.clone(), key.verifying_key());
    let id = CredentialId::from_bytes([
        0x8F, 0x1C, 0x62, 0xD9, 0x07, 0x3E, 0xA4, 0x55, 0xC1, 0x90, 0x2B, 0x7E,
    ]);
    let mut encoder = Encoder::default();

    println!(
        "Propusk wire format, {n} operations per run, median of 5 runs (release build for real figures)"
    );
    println!();
    println!(
        "{:<12} {:>6} {:>5} {:>8} {:>7} {:>5}  {:>10} {:>10} {:>10} {:>10} {:>7}",
        "type",
        "chars",
        "QR-Q",
        "EU DCC",
        "EU QR",
        "ratio",
        "encode",
        "decode",
        "verify",
        "bare",
        "v/bare"
    );
    for kind in CredentialType::ALL {
        let credential = examples::credential(kind, id);
        let sign = |d: &[u8]| key.sign(d).to_bytes();
        let Ok(text) = encoder.encode(&credential, &key_id, sign) else {
            eprintln!(
                "propusk: the example {} credential does not encode",
                kind.as_str()
            );
            return crate::EXIT_INVALID;
        };
        let Ok(unverified) = decode(&text) else {
            eprintln!(
                "propusk: the example {} credential does not decode",
                kind.as_str()
            );
            return crate::EXIT_INVALID;
        };
        if unverified.verify(&trusted).is_err() {
            eprintln!(
                "propusk: the example {} credential does not verify",
                kind.as_str()
            );
            return crate::EXIT_INVALID;
        }
        let encode_t = per_op(n, || {
            black_box(
                encoder
                    .encode(black_box(&credential), &key_id, |d| key.sign(d).to_bytes())
                    .ok(),
            );
        });
        let decode_t = per_op(n, || {
            black_box(decode(black_box(&text)).ok());
        });
        let verify_t = per_op(n, || {
            black_box(unverified.verify(black_box(&trusted)).ok());
        });
        let message = unverified.to_be_signed();
        let signature = Signature::from_bytes(unverified.signature());
        let vk = key.verifying_key();
        let bare_t = per_op(n, || {
            black_box(vk.verify_strict(black_box(&message), &signature).ok());
        });
        let (eu_len, eu_qr, ratio) = match compare::eu_dcc_text(&credential) {
            Some(eu) => (
                eu.len().to_string(),
                qr_version(&eu).to_string(),
                format!("{:.2}", text.len() as f64 / eu.len() as f64),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:<12} {:>6} {:>5} {:>8} {:>7} {:>5}  {:>10} {:>10} {:>10} {:>10} {:>6.2}x",
            kind.as_str(),
            text.len(),
            qr_version(&text),
            eu_len,
            eu_qr,
            ratio,
            micros(encode_t),
            micros(decode_t),
            micros(verify_t),
            micros(bare_t),
            verify_t.as_secs_f64() / bare_t.as_secs_f64()
        );
    }
    println!();
    println!(
        "chars: length of the credential text (PR1: + base45); QR-Q: QR version at error correction Q"
    );
    println!(
        "EU DCC: the same content as an EU Digital COVID Certificate (HC1:), ratio = chars / EU DCC"
    );
    println!("encode: sign + CBOR + zlib attempt + base45; decode: text to unverified credential;");
    println!(
        "verify: signature check of a decoded credential; bare: ed25519-dalek verify_strict alone"
    );
    EXIT_OK
}
