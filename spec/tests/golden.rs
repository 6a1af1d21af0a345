//! The golden vectors in `spec/vectors/`: regenerated and compared byte for byte, then each
//! file checked against the decoder. A failure names the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/vectors.rs"]
mod vectors;

use std::collections::HashMap;
use std::path::PathBuf;

use ed25519_dalek::VerifyingKey;
use propusk_spec::{CredentialId, KeyId, Link, decode, hex};
use serde_json::Value as Json;
use sha2::Digest;

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

/// The key a vector is checked with: its own `key`, else `key.json`'s.
fn trusted(key: &Json) -> HashMap<KeyId, VerifyingKey> {
    let kid = KeyId::from_hex(key["key_id"].as_str().unwrap()).unwrap();
    let pk: [u8; 32] = hex::decode(key["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    HashMap::from([(kid, VerifyingKey::from_bytes(&pk).unwrap())])
}

#[test]
fn every_vector_has_its_expected_outcome() {
    let key: Json =
        serde_json::from_str(&std::fs::read_to_string(dir().join("key.json")).unwrap()).unwrap();
    // SPEC §6.2: the key id is the first 2 bytes of SHA-256 over the public key.
    let pk = hex::decode(key["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        key["key_id"].as_str().unwrap(),
        hex::encode(&sha2::Sha256::digest(&pk)[..2])
    );
    let default = trusted(&key);

    let mut checked = 0;
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("valid") && !name.starts_with("invalid") {
            continue;
        }
        let v: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let keys = if v["key"].is_object() {
            trusted(&v["key"])
        } else {
            default.clone()
        };
        let expected = &v["expected"];
        if let Some(problem) = id_or_link(&v, &keys) {
            wrong.extend(problem.map(|p| format!("{name}: {p}")));
            checked += 1;
            continue;
        }
        let text = v["text"].as_str().unwrap();
        let outcome = decode(text).and_then(|u| u.verify(&keys));
        match expected["outcome"].as_str() {
            Some("valid") => {
                let verified = match outcome {
                    Ok(verified) => verified,
                    Err(e) => {
                        wrong.push(format!("{name}: {e}"));
                        continue;
                    }
                };
                let json = serde_json::to_value(verified.credential()).unwrap();
                assert_eq!(json, expected["credential"], "{name}");
                // Batch verification agrees.
                let batch = propusk_spec::verify_batch(&[decode(text).unwrap()], &keys);
                assert!(batch[0].is_ok(), "{name}");
            }
            Some(kind) => {
                let Err(err) = outcome else {
                    wrong.push(format!("{name}: accepted"));
                    continue;
                };
                let unknown = matches!(err, propusk_spec::Error::UnknownKey(_));
                let got = (err.layer(), err.to_string(), unknown);
                let want = (
                    expected["layer"].as_str().unwrap(),
                    expected["error"].as_str().unwrap().to_owned(),
                    kind == "unknown_key",
                );
                if got != want {
                    wrong.push(format!("{name}: {got:?}, expected {want:?}"));
                }
            }
            None => panic!("{name}: no outcome"),
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(checked >= 80, "only {checked} vectors found");
}

/// Checks an id vector (`id`) or a link vector (`link`) against the decoder: `None` when the
/// vector is neither, else what disagrees.
fn id_or_link(v: &Json, keys: &HashMap<KeyId, VerifyingKey>) -> Option<Option<String>> {
    let expected = &v["expected"];
    let valid = expected["outcome"] == "valid";
    let refused = |layer: &str, error: String| {
        let want = (
            expected["layer"].as_str().unwrap(),
            expected["error"].as_str().unwrap(),
        );
        (valid || (layer, error.as_str()) != want).then(|| format!("refused at {layer}: {error}"))
    };
    if let Some(id) = v["id"].as_str() {
        return Some(match id.parse::<CredentialId>() {
            Ok(id) => (!valid || hex::encode(id.as_bytes()) != expected["bytes"])
                .then(|| format!("read as {id}")),
            Err(e) => refused("id", e.to_string()),
        });
    }
    let link = v["link"].as_str()?;
    let decoded = Link::parse(link)
        .map_err(propusk_spec::Error::Link)
        .and_then(|l| {
            let credential = l.decode()?;
            if let Some(c) = &credential {
                c.clone().verify(keys)?;
            }
            Ok((l.id, credential.is_some()))
        });
    Some(match decoded {
        Ok((id, offline)) => {
            (!valid || expected["id"] != id.to_string() || expected["offline"] != offline)
                .then(|| format!("read as {id}, offline {offline}"))
        }
        Err(e) => refused(e.layer(), e.to_string()),
    })
}

/// Batch verification answers as strict verification does, also on the signatures that only a
/// strict verifier refuses, mixed with good ones.
#[test]
fn batch_verification_refuses_what_strict_verification_refuses() {
    let key: Json =
        serde_json::from_str(&std::fs::read_to_string(dir().join("key.json")).unwrap()).unwrap();
    let keys = trusted(&key);
    let read = |name: &str| -> propusk_spec::UnverifiedCredential {
        let v: Json = serde_json::from_str(
            &std::fs::read_to_string(dir().join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        decode(v["text"].as_str().unwrap()).unwrap()
    };
    let items = vec![
        read("valid-vaccination"),
        read("invalid-signature-small-order-r"),
        read("valid-recovery"),
        read("invalid-signature-non-canonical-r"),
        read("invalid-signature-s-not-reduced"),
        read("valid-test"),
    ];
    let answers: Vec<bool> = propusk_spec::verify_batch(&items, &keys)
        .iter()
        .map(Result::is_ok)
        .collect();
    assert_eq!(answers, [true, false, true, false, false, true]);
}

/// The strict Ed25519 vectors are worth having: each satisfies the group equation
/// `[S]B = R + [k]A` as a permissive verifier computes it (y reduced mod p, S reduced mod L, no
/// check of order), so a verifier that is not strict accepts them.
#[test]
fn the_strict_vectors_pass_a_permissive_verifier() {
    use curve25519_dalek::Scalar;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    let default: Json =
        serde_json::from_str(&std::fs::read_to_string(dir().join("key.json")).unwrap()).unwrap();
    for name in [
        "invalid-signature-s-not-reduced",
        "invalid-signature-small-order-r",
        "invalid-signature-non-canonical-r",
        "invalid-key-small-order",
        "invalid-key-non-canonical",
    ] {
        let v: Json = serde_json::from_str(
            &std::fs::read_to_string(dir().join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let key = if v["key"].is_object() {
            &v["key"]
        } else {
            &default
        };
        let public: [u8; 32] = hex::decode(key["public_key"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let u = decode(v["text"].as_str().unwrap()).unwrap();
        let (r, s) = u.signature().split_at(32);
        let digest = sha2::Sha512::new()
            .chain_update(r)
            .chain_update(public)
            .chain_update(u.to_be_signed())
            .finalize();
        let k = Scalar::from_bytes_mod_order_wide(&digest.into());
        let s = Scalar::from_bytes_mod_order(s.try_into().unwrap());
        let a = CompressedEdwardsY(public).decompress().unwrap();
        let r = CompressedEdwardsY(r.try_into().unwrap())
            .decompress()
            .unwrap();
        let computed = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-k, &a, &s);
        assert_eq!(computed, r, "{name}");
    }
}

/// The worked example takes apart the very credential of `valid-vaccination.json` (its text
/// appears in it whole).
#[test]
fn the_worked_example_is_the_valid_vaccination_vector() {
    let v: Json = serde_json::from_str(
        &std::fs::read_to_string(dir().join("valid-vaccination.json")).unwrap(),
    )
    .unwrap();
    let worked = std::fs::read_to_string(dir().join("worked-example.md")).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(
        worked.contains(text),
        "the worked example is another credential"
    );
}

/// The links SPEC §12 gives as examples are the worked example's (cut short with `…`).
#[test]
fn the_spec_links_are_the_worked_examples() {
    let spec = std::fs::read_to_string(dir().join("../SPEC.md")).unwrap();
    let worked = std::fs::read_to_string(dir().join("worked-example.md")).unwrap();
    let links: Vec<&str> = spec
        .split('`')
        .filter(|s| s.starts_with("https://portal.example/c/"))
        .collect();
    assert_eq!(links.len(), 2, "{links:?}");
    for link in links {
        let link = link.trim_end_matches('…');
        assert!(
            worked.lines().any(|l| l.starts_with(link)),
            "SPEC.md's {link} is not the worked example's"
        );
    }
}
