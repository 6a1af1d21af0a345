//! The golden vectors in `spec/vectors/`: regenerated and compared byte for byte, then each
//! file checked against the decoder. A failure names the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/vectors.rs"]
mod vectors;

use std::collections::HashMap;
use std::path::PathBuf;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{KeyId, decode, hex};
use serde_json::Value as Json;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

#[test]
fn vectors_on_disk_are_what_the_generator_writes() {
    let files = vectors::generate();
    let mut stale = Vec::new();
    for f in &files {
        if std::fs::read_to_string(dir().join(&f.name)).ok().as_deref() != Some(f.contents.as_str())
        {
            stale.push(f.name.clone());
        }
    }
    let on_disk = std::fs::read_dir(dir()).unwrap().count();
    assert!(
        stale.is_empty() && on_disk == files.len(),
        "spec/vectors/ is out of date ({stale:?}, {on_disk} files on disk, {} generated): \
         run `cargo run -p propusk-spec --example gen_vectors` and review the diff",
        files.len()
    );
}

#[test]
fn every_vector_has_its_expected_outcome() {
    let key: Json =
        serde_json::from_str(&std::fs::read_to_string(dir().join("key.json")).unwrap()).unwrap();
    let kid = KeyId::from_hex(key["key_id"].as_str().unwrap()).unwrap();
    let pk: [u8; 32] = hex::decode(key["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let trusted = HashMap::from([(kid, VerifyingKey::from_bytes(&pk).unwrap())]);

    let mut checked = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("valid") && !name.starts_with("invalid") {
            continue;
        }
        let v: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let text = v["text"].as_str().unwrap();
        let expected = &v["expected"];
        let outcome = decode(text).and_then(|u| u.verify(&trusted));
        match expected["outcome"].as_str() {
            Some("valid") => {
                let verified = outcome.unwrap_or_else(|e| panic!("{name}: {e}"));
                let json = serde_json::to_value(verified.credential()).unwrap();
                assert_eq!(json, expected["credential"], "{name}");
                let u = decode(text).unwrap();
                assert_eq!(
                    u.was_compressed(),
                    name == "valid-compressed.json",
                    "{name}"
                );
            }
            _ => {
                let err = outcome.err().unwrap_or_else(|| panic!("{name}: accepted"));
                assert_eq!(
                    err.layer(),
                    expected["layer"].as_str().unwrap(),
                    "{name}: {err}"
                );
                assert_eq!(
                    err.to_string(),
                    expected["error"].as_str().unwrap(),
                    "{name}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} vectors found");
}
