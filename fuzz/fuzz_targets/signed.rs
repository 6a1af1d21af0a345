//! What the trust-data targets share: fuzz bytes as the payload of a COSE_Sign1 envelope signed
//! by a fixed root key, so the fuzzer reaches the decoders behind the signature check (the
//! envelope itself is fuzzed raw as well).

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

/// The fixed root key.
pub fn root() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

/// The root's public key.
pub fn root_public() -> VerifyingKey {
    root().verifying_key()
}

/// `payload`, signed as a root document (protected header {1: -8, 4: kid}).
pub fn signed(payload: &[u8]) -> Vec<u8> {
    use ciborium::Value;
    let kid = propusk_trust_list::key_id_of(&root_public());
    let mut protected = Vec::new();
    let header = Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer((-8).into())),
        (Value::Integer(4.into()), Value::Bytes(kid.as_bytes().to_vec())),
    ]);
    let _ = ciborium::into_writer(&header, &mut protected);
    let signature = root().sign(&propusk_spec::to_be_signed(&protected, payload));
    let mut out = Vec::new();
    let _ = ciborium::into_writer(
        &Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![]),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(signature.to_bytes().to_vec()),
        ]),
        &mut out,
    );
    out
}
