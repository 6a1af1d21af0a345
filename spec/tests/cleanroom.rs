//! A second decoder, written from SPEC.md alone (`support/cleanroom.rs`), against the golden
//! vectors: it agrees with every one, and leaving out any one MUST or refuse rule of SPEC makes
//! it disagree with at least one — so every rule has a vector that a decoder lacking it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cleanroom.rs"]
mod cleanroom;

use std::collections::BTreeSet;
use std::path::PathBuf;

use cleanroom::{Answer, Decoder, Rule};
use serde_json::Value as Json;

/// Rules that no decoder can leave out alone and answer otherwise, each with the rules that
/// refuse the same input at the same layer when it is left out: they are checked together.
const IMPLIED: &[(Rule, &[Rule], &str)] = &[
    (
        Rule::ClaimsMap,
        &[Rule::ClaimPresent, Rule::CtiLength, Rule::OneBody],
        "a payload that is not a map holds none of the claims that must be present",
    ),
    (
        Rule::BodyMap,
        &[Rule::BodyKeyPresent],
        "a body that is not a map holds none of the keys that must be present",
    ),
];

struct Vector {
    name: String,
    json: Json,
}

fn vectors() -> (Vec<Vector>, (Vec<u8>, [u8; 32])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let key = key_of(
        &serde_json::from_str(&std::fs::read_to_string(dir.join("key.json")).unwrap()).unwrap(),
    );
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("valid") || name.starts_with("invalid")) {
            continue;
        }
        let json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        out.push(Vector { name, json });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    (out, key)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key_of(k: &Json) -> (Vec<u8>, [u8; 32]) {
    (
        hex(k["key_id"].as_str().unwrap()),
        hex(k["public_key"].as_str().unwrap()).try_into().unwrap(),
    )
}

/// What `decoder` answers for `v`, and whether that is what the vector expects.
fn agrees(decoder: &Decoder, v: &Vector, key: &(Vec<u8>, [u8; 32])) -> bool {
    let keys = vec![if v.json["key"].is_object() {
        key_of(&v.json["key"])
    } else {
        key.clone()
    }];
    let expected = &v.json["expected"];
    let layer = expected["layer"].as_str().unwrap_or("");
    let strict = Decoder::strict();
    if let Some(text) = v.json["text"].as_str() {
        let answer = decoder.credential(text, &keys);
        return match expected["outcome"].as_str().unwrap() {
            "valid" => {
                let id = expected["credential"]["id"].as_str().unwrap();
                answer
                    == Answer::Valid(
                        strict
                            .id(id, "id")
                            .unwrap()
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect(),
                    )
            }
            "unknown_key" => answer == Answer::UnknownKey,
            _ => answer == Answer::Invalid(leak(layer)),
        };
    }
    if let Some(id) = v.json["id"].as_str() {
        let answer = decoder.id(id, "id");
        return match expected["outcome"].as_str().unwrap() {
            "valid" => answer == Ok(hex(expected["bytes"].as_str().unwrap())),
            _ => answer == Err(Answer::Invalid(leak(layer))),
        };
    }
    let link = v.json["link"].as_str().unwrap();
    let answer = decoder.link(link, &keys);
    match expected["outcome"].as_str().unwrap() {
        "valid" => {
            let id = strict.id(expected["id"].as_str().unwrap(), "id").unwrap();
            answer == Ok((id, expected["offline"].as_bool().unwrap()))
        }
        _ => answer == Err(Answer::Invalid(leak(layer))),
    }
}

fn leak(layer: &str) -> &'static str {
    [
        "prefix",
        "base45",
        "cbor",
        "cose",
        "claims",
        "body",
        "signature",
        "id",
        "link",
    ]
    .into_iter()
    .find(|l| *l == layer)
    .unwrap_or_else(|| panic!("unknown layer {layer}"))
}

fn disagreeing(skip: &[Rule], vectors: &[Vector], key: &(Vec<u8>, [u8; 32])) -> Vec<String> {
    let decoder = Decoder {
        skip: skip.iter().copied().collect::<BTreeSet<_>>(),
    };
    vectors
        .iter()
        .filter(|v| !agrees(&decoder, v, key))
        .map(|v| v.name.clone())
        .collect()
}

#[test]
fn the_clean_room_decoder_agrees_with_every_vector() {
    let (vectors, key) = vectors();
    let wrong = disagreeing(&[], &vectors, &key);
    assert!(
        wrong.is_empty(),
        "the clean-room decoder disagrees with {wrong:?}"
    );
    assert!(vectors.len() > 200, "{} vectors", vectors.len());
}

#[test]
fn every_rule_has_a_vector_that_a_decoder_lacking_it_fails() {
    let (vectors, key) = vectors();
    let implied: BTreeSet<Rule> = IMPLIED.iter().map(|(r, _, _)| *r).collect();
    let mut uncovered = Vec::new();
    for rule in Rule::all() {
        if implied.contains(&rule) {
            continue;
        }
        if disagreeing(&[rule], &vectors, &key).is_empty() {
            uncovered.push(rule);
        }
    }
    assert!(
        uncovered.is_empty(),
        "no vector fails a decoder without {uncovered:?}"
    );
    for (rule, with, _) in IMPLIED {
        let alone = disagreeing(with, &vectors, &key);
        let both = disagreeing(&[&[*rule][..], with].concat(), &vectors, &key);
        assert!(
            both.iter().any(|v| !alone.contains(v)),
            "no vector fails a decoder without {rule:?} and {with:?} that one without {with:?} passes"
        );
    }
}
