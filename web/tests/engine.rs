//! The browser's engine, run natively through the same byte interface the page uses: trust
//! data synced by index → bundle → delta, kept and restored, credentials judged with the same
//! words as the command line, refusals that change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::{Signer, SigningKey};
use propusk_spec::{CredentialId, CredentialType, Timestamp, encode, examples};
use propusk_trust_list::*;
use propusk_web::{Engine, framed};
use serde_json::{Value, json};

fn ask(engine: &mut Engine, op: &str, header: Value, payload: &[u8]) -> Value {
    let json = header.to_string();
    let mut request = (json.len() as u32).to_le_bytes().to_vec();
    request.extend_from_slice(json.as_bytes());
    request.extend_from_slice(payload);
    serde_json::from_slice(&engine.handle(op, &request)).unwrap()
}

/// The engine's `verify` on what `header` names (no payload).
fn verify(engine: &mut Engine, header: Value) -> Value {
    ask(engine, "verify", header, &[])
}

struct Issuer {
    root: SigningKey,
    signer: SigningKey,
    dir: tempfile::TempDir,
}

impl Issuer {
    /// An issuer whose root key is made from `root` (its signing key is the same for all).
    fn new(root: u8) -> Self {
        Issuer {
            root: SigningKey::from_bytes(&[root; 32]),
            signer: SigningKey::from_bytes(&[2; 32]),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn content(&self, sequence: u64, revoked: &[CredentialId], at: Timestamp) -> BundleContent {
        let kid = key_id_of(&self.signer.verifying_key());
        BundleContent {
            jurisdiction: "RU".into(),
            sequence,
            issued_at: at.unix() - 60,
            soft_expiry: at.unix() + 86_400,
            hard_expiry: at.unix() + 7 * 86_400,
            keys: vec![TrustedKey {
                key_id: kid.as_bytes().to_vec(),
                public_key: self.signer.verifying_key().as_bytes().to_vec(),
                issuer: "Минздрав России".into(),
                country: "RU".into(),
                not_before: 1_577_836_800,
                not_after: 1_893_456_000,
                types: CredentialType::ALL.to_vec(),
                status: KeyStatus::Active,
            }],
            revocations: RevocationSet::build(
                revoked.iter().map(|id| {
                    let expires = examples::credential(CredentialType::Vaccination, *id).expires_at;
                    (*id, expires)
                }),
                vec![],
                at,
            ),
            rules: RuleSet::standard("RU", "Europe/Moscow"),
            eu_signers: vec![],
            eu: Default::default(),
        }
    }

    fn publish(&self, content: &BundleContent, previous: &[BundleContent]) {
        let root_kid = key_id_of(&self.root.verifying_key());
        write_dir(self.dir.path(), content, previous, &root_kid, &|d| {
            self.root.sign(d).to_bytes()
        })
        .unwrap();
    }

    fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).unwrap()
    }
}

/// index → the file it names → take, as the page does.
fn sync(engine: &mut Engine, issuer: &Issuer, now: Timestamp) -> Value {
    let plan = ask(
        engine,
        "index",
        json!({"root": 0}),
        &issuer.file(INDEX_FILE),
    );
    if plan.get("up_to_date").is_some() {
        return plan;
    }
    let file = plan["fetch"].as_str().unwrap();
    ask(
        engine,
        "take",
        json!({"root": 0, "now": now.unix(), "delta": plan["delta"], "lang": "en"}),
        &issuer.file(file),
    )
}

#[test]
fn the_engine_syncs_keeps_and_judges_as_the_command_line_does() {
    let at: Timestamp = "2021-09-01T10:00:00Z".parse().unwrap();
    let issuer = Issuer::new(1);
    let kid = key_id_of(&issuer.signer.verifying_key());
    let credential = |n: u8| {
        let c = examples::credential(
            CredentialType::Vaccination,
            CredentialId::from_bytes([n; 12]),
        );
        encode(&c, &kid, |d| issuer.signer.sign(d).to_bytes()).unwrap()
    };
    let (good, revoked) = (credential(1), credential(2));
    let root_hex = propusk_spec::hex::encode(issuer.root.verifying_key().as_bytes());
    let mut engine = Engine::default();
    assert_eq!(
        ask(&mut engine, "pin", json!({"roots": [root_hex]}), &[])["roots"],
        1
    );

    // Without trust data: unknown, said so.
    let v = verify(
        &mut engine,
        json!({"texts": [good], "now": at.unix(), "lang": "en"}),
    );
    assert_eq!(v[0]["reason"], "trust_data_missing");

    let first = issuer.content(1, &[], at);
    issuer.publish(&first, &[]);
    let synced = sync(&mut engine, &issuer, at);
    assert_eq!(synced["to"], 1, "{synced}");
    let v = verify(
        &mut engine,
        json!({"texts": [good, revoked], "now": at.unix(), "lang": "ru", "queue": true}),
    );
    assert_eq!(v[0]["verdict"], "valid", "{v}");
    assert_eq!(v[0]["holder"]["document"], "45** ***789");
    assert!(
        v[0]["words"]["verdict"]
            .as_str()
            .unwrap()
            .starts_with("ДЕЙСТВИТЕЛЕН"),
        "{v}"
    );
    assert_eq!(v[1]["verdict"], "valid");

    // A revocation arrives as a delta.
    let second = issuer.content(2, &[CredentialId::from_bytes([2; 12])], at);
    issuer.publish(&second, std::slice::from_ref(&first));
    let plan = ask(
        &mut engine,
        "index",
        json!({"root": 0}),
        &issuer.file(INDEX_FILE),
    );
    assert_eq!(plan["delta"], true, "{plan}");
    assert_eq!(sync(&mut engine, &issuer, at)["to"], 2);
    let v = verify(&mut engine, json!({"texts": [revoked], "now": at.unix()}));
    assert_eq!(v[0]["reason"], "revoked");

    // The same index again: nothing to fetch.
    let plan = ask(
        &mut engine,
        "index",
        json!({"root": 0}),
        &issuer.file(INDEX_FILE),
    );
    assert_eq!(plan["up_to_date"], 2, "{plan}");
    // A second bundle signed with the same sequence (without the revocation): looked into,
    // and refused as the command line refuses it; the revocation holds.
    let forked = Issuer::new(1);
    forked.publish(&forked.content(2, &[], at), &[]);
    let plan = ask(
        &mut engine,
        "index",
        json!({"root": 0}),
        &forked.file(INDEX_FILE),
    );
    assert_eq!(plan["delta"], false, "{plan}");
    let refused = ask(
        &mut engine,
        "take",
        json!({"root": 0, "now": at.unix(), "delta": false}),
        &forked.file(plan["fetch"].as_str().unwrap()),
    );
    assert_eq!(refused["code"], "rollback", "{refused}");
    let v = verify(&mut engine, json!({"texts": [revoked], "now": at.unix()}));
    assert_eq!(v[0]["reason"], "revoked");

    // Kept and restored in a new engine (a reload): the same answers.
    let kept = engine.handle("kept", &request(json!({"root": 0})));
    let parts = frames(&kept);
    assert_eq!(parts.len(), 3, "meta, bundle, one delta");
    let mut meta: Value = serde_json::from_slice(parts[0]).unwrap();
    meta["root"] = json!(0);
    let mut again = Engine::default();
    ask(&mut again, "pin", json!({"roots": [root_hex]}), &[]);
    let restored = ask(
        &mut again,
        "restore",
        meta.clone(),
        &framed(parts[1..].iter().copied()),
    );
    assert_eq!(restored["restored"], true, "{restored}");
    let v = verify(
        &mut again,
        json!({"texts": [revoked, good], "now": at.unix(), "queue": true}),
    );
    assert_eq!(
        (v[0]["reason"].clone(), v[1]["verdict"].clone()),
        (json!("revoked"), json!("valid"))
    );

    // A lost delta is found out, not taken for older trust data.
    let mut lost = Engine::default();
    ask(&mut lost, "pin", json!({"roots": [root_hex]}), &[]);
    let refused = ask(&mut lost, "restore", meta, &framed([parts[1]]));
    assert_eq!(refused["code"], "corrupt", "{refused}");

    // A clock set back before the trust data: refused, not judged.
    let v = verify(
        &mut again,
        json!({"texts": [good], "now": at.unix() - 86_400}),
    );
    assert_eq!(v["code"], "clock_behind", "{v}");

    // A bundle signed by another root: refused, the data in force stays.
    let other = Issuer::new(7);
    other.publish(&other.content(3, &[], at), &[]);
    let refused = ask(
        &mut again,
        "index",
        json!({"root": 0}),
        &other.file(INDEX_FILE),
    );
    assert_eq!(refused["code"], "wrong_root", "{refused}");
    let v = verify(&mut again, json!({"texts": [revoked], "now": at.unix()}));
    assert_eq!(v[0]["reason"], "revoked");

    // The PDF: the engine gives what printing takes from the trust data, the printer prints.
    let context = ask(&mut again, "pdf_context", json!({"text": good}), &[]);
    assert_eq!(context["tz"], "Europe/Moscow", "{context}");
    assert_eq!(context["issuer"][0], "Минздрав России", "{context}");
    let pdf = again.handle(
        "pdf",
        &request(json!({"text": good, "texts": [], "context": context})),
    );
    assert!(
        pdf.starts_with(b"%PDF-"),
        "{}",
        String::from_utf8_lossy(&pdf[..pdf.len().min(200)])
    );
    let refused = ask(
        &mut again,
        "pdf",
        json!({"text": "PR2:NOPE", "texts": [], "context": context}),
        &[],
    );
    assert_eq!(refused["code"], "refused", "{refused}");

    // A tampered credential is not genuine.
    let mut tampered = good.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let v = verify(
        &mut again,
        json!({"texts": [String::from_utf8(tampered).unwrap()], "now": at.unix()}),
    );
    assert_eq!(v[0]["verdict"], "invalid", "{v}");
}

#[test]
fn the_engine_reads_and_draws_qr_codes() {
    let text = "PR2:EXAMPLE";
    let mut engine = Engine::default();
    let drawn = ask(&mut engine, "qr", json!({"text": text}), &[]);
    let size = drawn["size"].as_u64().unwrap() as usize;
    let modules = drawn["modules"].as_str().unwrap().as_bytes();
    assert_eq!(modules.len(), size * size);
    // Drawn into a frame at 6 pixels a module with a quiet zone, and read back from it.
    let (scale, quiet) = (6, 4);
    let side = (size + 2 * quiet) * scale;
    let mut luma = vec![255u8; side * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (
                (x / scale).wrapping_sub(quiet),
                (y / scale).wrapping_sub(quiet),
            );
            if mx < size && my < size && modules[my * size + mx] == b'1' {
                luma[y * side + x] = 0;
            }
        }
    }
    let read = ask(
        &mut engine,
        "scan",
        json!({"width": side, "height": side}),
        &luma,
    );
    assert_eq!(read["text"], text, "{read}");
    let nothing = ask(
        &mut engine,
        "scan",
        json!({"width": 64, "height": 64}),
        &[128; 64 * 64],
    );
    assert_eq!(nothing["reason"], "no_qr_code");
    let not_image = ask(&mut engine, "image", json!({}), b"not an image");
    assert_eq!(not_image["reason"], "not_an_image");
    let bad = ask(&mut engine, "no such op", json!({}), &[]);
    assert_eq!(bad["code"], "request");
}

fn request(header: Value) -> Vec<u8> {
    let json = header.to_string();
    let mut request = (json.len() as u32).to_le_bytes().to_vec();
    request.extend_from_slice(json.as_bytes());
    request
}

fn frames(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while bytes.len() >= 4 {
        let n = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        out.push(&bytes[4..4 + n]);
        bytes = &bytes[4 + n..];
    }
    out
}

#[test]
fn the_wallet_keeps_a_links_certificate_and_refuses_what_is_not_one() {
    let mut engine = Engine::default();
    let signer = SigningKey::from_bytes(&[2; 32]);
    let kid = key_id_of(&signer.verifying_key());
    let c = examples::credential(CredentialType::Test, CredentialId::from_bytes([5; 12]));
    let text = encode(&c, &kid, |d| signer.sign(d).to_bytes()).unwrap();
    let link = propusk_spec::offline_link("https://portal.example", &c.id, &text).unwrap();
    let kept = ask(&mut engine, "identify", json!({"text": link}), &[]);
    assert_eq!(kept["id"], c.id.to_string());
    assert_eq!(kept["text"], text, "the certificate, not the link");
    let not = ask(&mut engine, "identify", json!({"text": "hello"}), &[]);
    assert_eq!(not["id"], Value::Null);
    // Listed without trust data: by its own dates, and chosen so.
    let at = c.issued_at.plus_seconds(3600);
    let listed = ask(
        &mut engine,
        "wallet",
        json!({"texts": [text], "now": at.unix(), "lang": "en"}),
        &[],
    );
    assert_eq!(
        listed["entries"][0]["reason"], "trust_data_missing",
        "{listed}"
    );
    assert_eq!(listed["best"]["by_own_dates"], true, "{listed}");
}
