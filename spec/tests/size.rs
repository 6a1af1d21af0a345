//! The size goals: a vaccination credential for a holder with a Cyrillic three-part name fits QR
//! version 10-Q and every type 11-Q, each at most half the base45 length of the EU DCC with the
//! same content.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::{Signer, SigningKey};
use propusk_spec::{CredentialId, CredentialType, KeyId, compare, encode, examples};
use qrcode::{EcLevel, QrCode};

/// The smallest QR version that holds `text` at level Q in alphanumeric mode, one segment (how
/// the renderer encodes credential text, SPEC §2).
fn qr_version(text: &str) -> i16 {
    (1..=40)
        .find(|&v| {
            let mut bits = qrcode::bits::Bits::new(qrcode::Version::Normal(v));
            bits.push_alphanumeric_data(text.as_bytes()).is_ok()
                && bits.push_terminator(EcLevel::Q).is_ok()
        })
        .unwrap_or_else(|| panic!("no QR code for {text}"))
}

#[test]
fn half_the_eu_dcc_a_vaccination_in_version_10_q_every_type_in_11_q() {
    let key = SigningKey::from_bytes(&[1; 32]);
    // A Propusk issuer's key id: two bytes (SPEC §6.2).
    let kid = KeyId::new(&[0xAB, 0x12]).unwrap();
    for kind in CredentialType::ALL {
        let credential = examples::credential(
            kind,
            CredentialId::from_bytes(*b"\x8f\x1c\x62\xd9\x07\x3e\xa4\x55\xc1\x90\x2b\x7e"),
        );
        let ours = encode(&credential, &kid, |d| key.sign(d).to_bytes()).unwrap();
        let version = qr_version(&ours);
        println!("{:12} {} chars, QR {version}-Q", kind.as_str(), ours.len());
        let goal = if kind == CredentialType::Vaccination {
            10
        } else {
            11
        };
        assert!(
            version <= goal,
            "{kind:?}: {} chars, QR version {version}",
            ours.len()
        );
        if let Some(eu) = compare::eu_dcc_text(&credential, &examples::holder()) {
            println!(
                "{:12} EU DCC {} chars, QR {}-Q",
                "",
                eu.len(),
                qr_version(&eu)
            );
            {
                assert!(
                    ours.len() * 2 <= eu.len(),
                    "{} vs EU {}",
                    ours.len(),
                    eu.len()
                );
            }
        }
    }
}

/// SPEC §4: without compression, the largest credential the format allows — a vaccination (the
/// largest body) with a product code of 80 characters sent as text and its administering body at
/// 80 characters of four UTF-8 bytes, the longest masked document number, the longest key id —
/// still fits the text limit, decodes and has a QR code (at level L: the limit is the 4296
/// characters of version 40-L, §2).
#[test]
fn the_largest_credential_fits_uncompressed() {
    use propusk_spec::{Body, DocumentKind, MAX_TEXT_LEN, MaskedDocument, Text, decode};
    let key = SigningKey::from_bytes(&[1; 32]);
    let kid = KeyId::new(&[0xAB; 16]).unwrap();
    let wide = "𝔄".repeat(80);
    let mut credential = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([3; 12]),
    );
    credential.holder.document =
        MaskedDocument::new(DocumentKind::Foreign, &format!("AB{}123", "*".repeat(19))).unwrap();
    if let Body::Vaccination(v) = &mut credential.body {
        v.administered_by = Text::new(&wide).unwrap();
        v.product = propusk_spec::VaccineProduct::new(&"X".repeat(80)).unwrap();
    }
    let text = encode(&credential, &kid, |d| key.sign(d).to_bytes()).unwrap();
    println!("largest: {} chars", text.len());
    assert!(text.len() <= MAX_TEXT_LEN, "{}", text.len());
    assert!(decode(&text).is_ok());
    let qr = QrCode::with_error_correction_level(&text, EcLevel::L).map(|q| q.version());
    assert!(
        matches!(qr, Ok(qrcode::Version::Normal(v)) if v <= 40),
        "{qr:?}"
    );
}
