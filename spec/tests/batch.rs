//! Batch verification gives the same answers as one-by-one verification.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use ed25519_dalek::{Signer, SigningKey};
use propusk_spec::*;

#[test]
fn batch_answers_match_single_answers() {
    let a = SigningKey::from_bytes(&[1; 32]);
    let b = SigningKey::from_bytes(&[2; 32]);
    let (ka, kb) = (
        KeyId::new(&[0xA; 4]).unwrap(),
        KeyId::new(&[0xB; 4]).unwrap(),
    );
    let keys = HashMap::from([
        (ka.clone(), a.verifying_key()),
        (kb.clone(), b.verifying_key()),
    ]);
    let credential = |i: u8, kind| examples::credential(kind, CredentialId::from_bytes([i; 12]));
    let mut texts = Vec::new();
    for i in 0..40u8 {
        let kind = CredentialType::ALL[usize::from(i) % 5];
        let (key, kid) = if i % 2 == 0 { (&a, &ka) } else { (&b, &kb) };
        texts.push(encode(&credential(i, kind), kid, |d| key.sign(d).to_bytes()).unwrap());
    }
    let decoded: Vec<UnverifiedCredential> = texts.iter().map(|t| decode(t).unwrap()).collect();
    let all = verify_batch(&decoded, &keys);
    assert!(all.iter().all(Result::is_ok));
    for (v, u) in all.iter().zip(&decoded) {
        assert_eq!(v.as_ref().unwrap().credential(), u.unverified_claims());
    }

    // One forged (signed by b under a's key id), one by a stranger.
    let mut mixed = decoded.clone();
    let forged = encode(&credential(200, CredentialType::Test), &ka, |d| {
        b.sign(d).to_bytes()
    })
    .unwrap();
    mixed[7] = decode(&forged).unwrap();
    let stranger = encode(
        &credential(201, CredentialType::Pass),
        &KeyId::new(&[0xC; 4]).unwrap(),
        |d| a.sign(d).to_bytes(),
    )
    .unwrap();
    mixed[13] = decode(&stranger).unwrap();
    let answers = verify_batch(&mixed, &keys);
    for (i, (answer, u)) in answers.iter().zip(&mixed).enumerate() {
        assert_eq!(
            answer.clone().map(|v| v.credential().clone()),
            u.verify(&keys).map(|v| v.credential().clone()),
            "item {i}"
        );
    }
    assert_eq!(answers[7], Err(Error::BadSignature));
    assert!(matches!(answers[13], Err(Error::UnknownKey(_))));
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 38);
}
