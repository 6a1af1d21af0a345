//! The size goal: a vaccination credential for a holder with a Cyrillic three-part name is at
//! most half the base45 length of the EU DCC with the same content, and fits QR version 12-Q.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::{Signer, SigningKey};
use propusk_spec::{CredentialId, CredentialType, KeyId, compare, encode, examples};
use qrcode::{EcLevel, QrCode};

fn qr_version(text: &str) -> i16 {
    match QrCode::with_error_correction_level(text, EcLevel::Q).map(|q| q.version()) {
        Ok(qrcode::Version::Normal(v)) => v,
        other => panic!("no QR code for {text}: {other:?}"),
    }
}

#[test]
fn half_the_eu_dcc_and_qr_version_12_q() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let kid = KeyId::new(&[0xAB, 0x12, 0x9C, 0x04]).unwrap();
    for kind in CredentialType::ALL {
        let credential = examples::credential(
            kind,
            CredentialId::from_bytes(*b"\x8f\x1c\x62\xd9\x07\x3e\xa4\x55\xc1\x90\x2b\x7e"),
        );
        let ours = encode(&credential, &kid, |d| key.sign(d).to_bytes()).unwrap();
        let version = qr_version(&ours);
        println!("{:12} {} chars, QR {version}-Q", kind.as_str(), ours.len());
        assert!(version <= 12, "{kind:?}: QR version {version}");
        if let Some(eu) = compare::eu_dcc_text(&credential) {
            println!(
                "{:12} EU DCC {} chars, QR {}-Q",
                "",
                eu.len(),
                qr_version(&eu)
            );
            if kind == CredentialType::Vaccination {
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

/// SPEC §4: without compression, the largest credential the format allows — every name and text
/// at 80 characters of four UTF-8 bytes, Latin forms at 80 characters, the longest key id — still
/// fits the text limit, decodes and has a QR code (at level L: the limit is the 4296 characters
/// of version 40-L, §2).
#[test]
fn the_largest_credential_fits_uncompressed() {
    use propusk_spec::{Body, Document, DocumentKind, MAX_TEXT_LEN, Name, Text, decode};
    let key = SigningKey::from_bytes(&[1; 32]);
    let kid = KeyId::new(&[0xAB; 16]).unwrap();
    let wide = "𝔄".repeat(80);
    let latin = "X".repeat(80);
    let mut credential = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([3; 12]),
    );
    let name = || Name::new(&wide, Some(&latin)).unwrap();
    credential.holder.family_name = name();
    credential.holder.given_name = Some(name());
    credential.holder.patronymic = Some(name());
    credential.holder.document = Document::new(DocumentKind::Foreign, &"A".repeat(24)).unwrap();
    if let Body::Vaccination(v) = &mut credential.body {
        v.administered_by = Text::new(&wide).unwrap();
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
