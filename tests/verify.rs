//! The verifier end to end through the binary: init with a pinned root, sync from a published
//! directory, verify offline; the attacks on trust data and the clock guard.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use ed25519_dalek::{Signer, SigningKey};
use propusk_spec::{Credential, CredentialId, CredentialType, Name, encode, examples};
use propusk_trust_list::*;
use serde_json::Value;

mod common;
use common::{json_lines, propusk, s};
struct Issuer {
    root: SigningKey,
    signer: SigningKey,
}

impl Issuer {
    fn new() -> Self {
        Issuer {
            root: SigningKey::from_bytes(&[0x21; 32]),
            signer: SigningKey::from_bytes(&[0x22; 32]),
        }
    }

    fn content(&self, sequence: u64, jurisdiction: &str, revoked: &[&Credential]) -> BundleContent {
        let kid = key_id_of(&self.signer.verifying_key());
        let at = 1_622_548_800; // 2021-06-01T12:00:00Z
        BundleContent {
            jurisdiction: jurisdiction.into(),
            sequence,
            issued_at: at + sequence as i64 * 86_400,
            soft_expiry: at + 200 * 86_400,
            hard_expiry: at + 400 * 86_400,
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
                revoked.iter().map(|c| (c.id, c.expires_at)),
                vec![],
                propusk_spec::Timestamp::from_unix(at).unwrap(),
            ),
            rules: RuleSet::standard(jurisdiction, "Europe/Moscow"),
            eu_signers: vec![],
            eu: Default::default(),
        }
    }

    fn publish(&self, dir: &Path, content: &BundleContent) {
        let kid = key_id_of(&self.root.verifying_key());
        write_dir(dir, content, &[], &kid, &|d| self.root.sign(d).to_bytes()).unwrap();
    }

    fn text(&self, c: &Credential) -> String {
        encode(c, &key_id_of(&self.signer.verifying_key()), |d| {
            self.signer.sign(d).to_bytes()
        })
        .unwrap()
    }
}

fn setup(tmp: &Path, issuer: &Issuer) -> std::path::PathBuf {
    let root_pub = tmp.join("root.pub");
    std::fs::write(
        &root_pub,
        format!("{}\n", format_public_key(&issuer.root.verifying_key())),
    )
    .unwrap();
    let store = tmp.join("store");
    let out = propusk(
        &[
            "verifier",
            "init",
            "--store",
            s(&store),
            "--root",
            s(&root_pub),
        ],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store
}

fn sync(store: &Path, from: &Path) -> Output {
    propusk(
        &[
            "verifier",
            "sync",
            "--store",
            s(store),
            "--from",
            s(from),
            "--at",
            "2021-09-01T00:00:00Z",
        ],
        "",
    )
}

/// `propusk verify --json --at AT` on `texts` against `store`.
fn verify_json(store: &Path, at: &str, texts: &[&str]) -> Output {
    let mut args = vec!["verify", "--store", s(store), "--json", "--at", at];
    args.extend_from_slice(texts);
    propusk(&args, "")
}

#[test]
fn sync_then_verify_offline_with_every_field_of_the_interface() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let store = setup(tmp.path(), &issuer);
    let vaccination = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([1; 12]),
    );
    let revoked = examples::credential(CredentialType::Test, CredentialId::from_bytes([2; 12]));
    issuer.publish(
        &tmp.path().join("usb"),
        &issuer.content(1, "RU", &[&revoked]),
    );

    // Before any sync the verifier cannot tell.
    let before = verify_json(
        &store,
        "2021-07-01T00:00:00Z",
        &[&issuer.text(&vaccination)],
    );
    assert_eq!(before.status.code(), Some(2));
    assert_eq!(json_lines(&before)[0]["reason"], "trust_data_missing");

    let out = sync(&store, &tmp.path().join("usb"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let at = "2021-07-01T00:00:00Z";
    let out = verify_json(&store, at, &[&issuer.text(&vaccination)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = &json_lines(&out)[0];
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["reason"], Value::Null);
    assert_eq!(v["type"], "vaccination");
    assert_eq!(v["id"], vaccination.id.to_string());
    assert_eq!(
        v["key_id"],
        key_id_of(&issuer.signer.verifying_key()).to_string()
    );
    assert_eq!(
        v["holder"],
        serde_json::json!({"initials": "И. И. И.", "birth_date": "1980-05-12", "document": "45** ***789"})
    );
    assert_eq!(v["valid_until"], "2022-05-31T21:00:00Z");
    for check in [
        "decode",
        "signature",
        "key_usage",
        "expiry",
        "revocation",
        "rules",
    ] {
        assert_eq!(v["checks"][check], "ok", "{check}");
    }
    assert_eq!(v["trust_data"]["state"], "fresh");
    // Sequence 1 was made 2021-06-02T12:00Z, 28.5 days before.
    assert_eq!(v["trust_data"]["age_s"], 28 * 86_400 + 43_200);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown.contains("4510") && !shown.contains("IVANOV"),
        "only masked data is shown: {shown}"
    );

    // The revoked test, in Russian words for a person.
    let out = propusk(
        &[
            "verify",
            "--store",
            s(&store),
            "--lang",
            "ru",
            "--at",
            "2021-11-20T10:00:00Z",
            &issuer.text(&revoked),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        words.starts_with("НЕДЕЙСТВИТЕЛЕН — тест: отозван"),
        "{words}"
    );
    // Russian everywhere: Cyrillic initials for a domestic passport, the summary, local time.
    for part in [
        "владелец: И. И. И.",
        "дата рождения 12.05.1980",
        "45** ***789",
        "ПЦР-тест, отрицательный, взят 20.11.2021 09:00 МСК, Россия",
        "данные проверки: актуальны",
    ] {
        assert!(words.contains(part), "{part}: {words}");
    }

    // A scanner's queue on stdin: each line answered, blank ones skipped, the worst verdict
    // decides.
    let queue = format!(
        "{}\n\nnot a code\n{}\r\n",
        issuer.text(&vaccination),
        issuer.text(&vaccination)
    );
    let out = propusk(
        &["verify", "--store", s(&store), "--json", "--at", at, "-"],
        &queue,
    );
    let lines = json_lines(&out);
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["valid", "invalid", "valid"]);
    assert_eq!(lines[1]["reason"], "not_a_credential");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn credentials_shown_together_must_be_one_persons() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let store = setup(tmp.path(), &issuer);
    issuer.publish(&tmp.path().join("usb"), &issuer.content(1, "RU", &[]));
    assert_eq!(sync(&store, &tmp.path().join("usb")).status.code(), Some(0));
    let at = "2021-11-20T10:00:00Z";
    let vaccination = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([1; 12]),
    );
    let test = examples::credential(CredentialType::Test, CredentialId::from_bytes([3; 12]));
    let out = verify_json(
        &store,
        at,
        &[&issuer.text(&vaccination), &issuer.text(&test)],
    );
    assert_eq!(out.status.code(), Some(0));
    let mut other = test.clone();
    let mut holder = examples::holder();
    holder.given_name = Some(Name::new("Пётр", None).unwrap());
    other.holder = holder.door();
    let out = verify_json(
        &store,
        at,
        &[&issuer.text(&vaccination), &issuer.text(&other)],
    );
    assert_eq!(out.status.code(), Some(1));
    for line in json_lines(&out) {
        assert_eq!(line["reason"], "holder_mismatch");
        assert_eq!(line["checks"]["signature"], "ok");
    }
}

#[test]
fn attacks_on_trust_data_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let store = setup(tmp.path(), &issuer);
    let vaccination = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([1; 12]),
    );
    let text = issuer.text(&vaccination);
    let verdict = |at: &str| {
        let out = verify_json(&store, at, &[&text]);
        (out.status.code(), json_lines(&out).first().cloned())
    };

    issuer.publish(&tmp.path().join("v2"), &issuer.content(2, "RU", &[]));
    assert_eq!(sync(&store, &tmp.path().join("v2")).status.code(), Some(0));
    // The same bundle again: up to date, not an error.
    let again = sync(&store, &tmp.path().join("v2"));
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));

    // An older sequence: the source is behind; the data in force is kept (lag, exit 0, not a
    // rollback taken). Another bundle under the same sequence is refused.
    issuer.publish(&tmp.path().join("v1"), &issuer.content(1, "RU", &[]));
    let rollback = sync(&store, &tmp.path().join("v1"));
    assert_eq!(rollback.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&rollback.stdout)
            .contains("this source is behind (sequence 1 < 2)"),
        "{}",
        String::from_utf8_lossy(&rollback.stdout)
    );
    issuer.publish(
        &tmp.path().join("v2b"),
        &issuer.content(2, "RU", &[&vaccination]),
    );
    assert_eq!(
        sync(&store, &tmp.path().join("v2b")).status.code(),
        Some(65)
    );

    // Another jurisdiction.
    issuer.publish(&tmp.path().join("kz"), &issuer.content(3, "KZ", &[]));
    assert_eq!(sync(&store, &tmp.path().join("kz")).status.code(), Some(65));

    // Signed by a key that is not the pinned root.
    let impostor = Issuer {
        root: SigningKey::from_bytes(&[0x66; 32]),
        signer: SigningKey::from_bytes(&[0x22; 32]),
    };
    impostor.publish(
        &tmp.path().join("fake"),
        &impostor.content(9, "RU", &[&vaccination]),
    );
    assert_eq!(
        sync(&store, &tmp.path().join("fake")).status.code(),
        Some(65)
    );

    // A mixed, partial update: the index of one publication with the bundle of another.
    issuer.publish(
        &tmp.path().join("v3"),
        &issuer.content(3, "RU", &[&vaccination]),
    );
    issuer.publish(&tmp.path().join("v4"), &issuer.content(4, "RU", &[]));
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    std::fs::copy(
        tmp.path().join("v4").join(INDEX_FILE),
        mixed.join(INDEX_FILE),
    )
    .unwrap();
    for f in std::fs::read_dir(tmp.path().join("v3")).unwrap() {
        let f = f.unwrap();
        if f.file_name() != INDEX_FILE {
            // The v3 bundle placed under the name the v4 index expects.
            let index = Index::open(
                &std::fs::read(mixed.join(INDEX_FILE)).unwrap(),
                &issuer.root.verifying_key(),
            )
            .unwrap();
            std::fs::copy(f.path(), mixed.join(index.full)).unwrap();
        }
    }
    assert_eq!(sync(&store, &mixed).status.code(), Some(65));
    // A truncated bundle file.
    let truncated = tmp.path().join("truncated");
    issuer.publish(&truncated, &issuer.content(5, "RU", &[]));
    for f in std::fs::read_dir(&truncated).unwrap() {
        let f = f.unwrap();
        if f.file_name() != INDEX_FILE {
            let bytes = std::fs::read(f.path()).unwrap();
            std::fs::write(f.path(), &bytes[..bytes.len() / 2]).unwrap();
        }
    }
    assert_eq!(sync(&store, &truncated).status.code(), Some(65));

    // After all that, sequence 2 is still in force and the credential is still valid.
    let (code, v) = verdict("2021-07-01T00:00:00Z");
    assert_eq!(code, Some(0), "{v:?}");
    assert_eq!(v.unwrap()["checks"]["revocation"], "ok");

    // The clock guard: a time before the newest signed data seen (sequence 2 was made
    // 2021-06-03) is refused.
    let (code, v) = verdict("2021-06-02T00:00:00Z");
    assert_eq!(code, Some(2));
    assert_eq!(v.unwrap()["reason"], "clock_behind", "in JSON, as JSON");

    // Another root for the same store is refused.
    let other_pub = tmp.path().join("other.pub");
    std::fs::write(
        &other_pub,
        format_public_key(&impostor.root.verifying_key()),
    )
    .unwrap();
    let out = propusk(
        &[
            "verifier",
            "init",
            "--store",
            s(&store),
            "--root",
            s(&other_pub),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(78));

    // Past the hard expiry the verifier cannot tell.
    let (code, v) = verdict("2022-07-10T00:00:00Z");
    assert_eq!(code, Some(2));
    assert_eq!(v.unwrap()["reason"], "trust_data_expired");
}

/// A store synced with sequence 1, and a vaccination's QR as a PNG file: (store, text, png).
fn synced_with_qr(tmp: &Path, issuer: &Issuer) -> (std::path::PathBuf, String, std::path::PathBuf) {
    let store = setup(tmp, issuer);
    issuer.publish(&tmp.join("usb"), &issuer.content(1, "RU", &[]));
    assert_eq!(sync(&store, &tmp.join("usb")).status.code(), Some(0));
    let vaccination = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([1; 12]),
    );
    let text = issuer.text(&vaccination);
    let png = tmp.join("qr.png");
    std::fs::write(&png, propusk_qr::render_png(&text, 5).unwrap()).unwrap();
    (store, text, png)
}

#[test]
fn qr_images_from_real_pixels() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let (store, text, png) = synced_with_qr(tmp.path(), &issuer);
    let jpeg = tmp.path().join("qr.jpg");
    propusk_qr::render(&text, 4).unwrap().save(&jpeg).unwrap();
    let at = "2021-07-01T00:00:00Z";
    for image in [&png, &jpeg] {
        let out = verify_json(&store, at, &["--image", s(image)]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(json_lines(&out)[0]["holder"]["document"], "45** ***789");
    }
    // An image of another QR code, a blank image, a file that is no image.
    let other = tmp.path().join("other.png");
    std::fs::write(
        &other,
        propusk_qr::render_png("https://example.com/menu", 4).unwrap(),
    )
    .unwrap();
    let blank = tmp.path().join("blank.png");
    image::GrayImage::from_pixel(200, 200, image::Luma([255]))
        .save(&blank)
        .unwrap();
    let text_file = tmp.path().join("notes.png");
    std::fs::write(&text_file, "hello").unwrap();
    // Another code is a verdict (not a credential: invalid); no code, or no image, is not: an
    // exit code of its own, 6, never 0, 1 or 2.
    let cases = [
        (&other, "invalid", "not_a_credential", 1),
        (&blank, "unread", "no_qr_code", 6),
        (&text_file, "unread", "not_an_image", 6),
    ];
    for (image, verdict, reason, code) in cases {
        let out = verify_json(&store, at, &["--image", s(image)]);
        assert_eq!(out.status.code(), Some(code), "{reason}");
        let v = &json_lines(&out)[0];
        assert_eq!(
            (v["verdict"].as_str(), v["reason"].as_str()),
            (Some(verdict), Some(reason))
        );
    }
    // In words: a notice to show the code again, not INVALID.
    let args = ["verify", "--store", s(&store), "--at", at, "--lang", "ru"];
    let out = propusk(&[&args[..], &["--image", s(&blank)]].concat(), "");
    let words = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{words}");
    assert!(
        words.contains("НЕ ПРОЧИТАН") && !words.contains("НЕДЕЙСТВИТЕЛЕН"),
        "{words}"
    );
}

#[test]
fn texts_and_images_are_answered_in_the_order_given() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let (store, text, png) = synced_with_qr(tmp.path(), &issuer);
    let notes = tmp.path().join("notes.png");
    std::fs::write(&notes, "hello").unwrap();
    // An unreadable image first, a text, a readable image, a damaged text: four answers in that
    // order (an unreadable image used to be reported after all the others).
    let damaged = &text[..text.len() / 2];
    let args = [
        "--image",
        s(&notes),
        text.as_str(),
        "--image",
        s(&png),
        damaged,
    ];
    let out = verify_json(&store, "2021-07-01T00:00:00Z", &args);
    let reasons: Vec<Value> = json_lines(&out)
        .iter()
        .map(|v| v["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            Value::from("not_an_image"),
            Value::Null,
            Value::Null,
            Value::from("corrupt")
        ]
    );
    assert_eq!(out.status.code(), Some(1), "the worst verdict decides");
}

#[test]
fn a_scanner_queue_never_reads_as_valid_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let (store, text, _) = synced_with_qr(tmp.path(), &issuer);
    let run = |stdin: &[u8]| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_propusk"))
            .args([
                "verify",
                "--json",
                "--at",
                "2021-07-01T00:00:00Z",
                "--store",
            ])
            .arg(&store)
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    // `scan | propusk verify - && open_door`: an empty queue must not open the door.
    assert_eq!(run(b"").status.code(), Some(64));
    // Blank lines are no one at the door either.
    assert_eq!(run(b"\n  \n\r\n").status.code(), Some(64));
    // A line of invalid UTF-8 is answered, and the lines after it too.
    let mut input = b"\xff\xfe\n".to_vec();
    input.extend_from_slice(text.as_bytes());
    input.push(b'\n');
    let out = run(&input);
    let lines = json_lines(&out);
    assert_eq!(
        (lines[0]["reason"].as_str(), lines[1]["verdict"].as_str()),
        (Some("not_a_credential"), Some("valid"))
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_sync_says_when_the_data_in_force_is_stale_or_expired() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let (store, _, _) = synced_with_qr(tmp.path(), &issuer);
    let usb = tmp.path().join("usb");
    let sync_at = |at: &str| {
        propusk(
            &[
                "verifier",
                "sync",
                "--store",
                s(&store),
                "--from",
                s(&usb),
                "--at",
                at,
            ],
            "",
        )
    };
    // Published 2021-06-02 with a soft expiry of 200 days and a hard one of 400.
    let stale = sync_at("2022-01-01T00:00:00Z");
    let said = String::from_utf8_lossy(&stale.stdout).into_owned();
    assert_eq!(stale.status.code(), Some(3), "{said}");
    assert!(
        said.contains("up to date") && said.contains("stale"),
        "{said}"
    );
    let expired = sync_at("2022-08-01T00:00:00Z");
    let said = String::from_utf8_lossy(&expired.stdout).into_owned();
    assert_eq!(expired.status.code(), Some(4), "{said}");
    assert!(said.contains("past its hard expiry"), "{said}");
}

#[test]
fn the_clock_guard_allows_skew_refuses_future_data_and_has_a_way_back() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let store = setup(tmp.path(), &issuer);
    let day = 86_400;
    let t = 1_622_635_200; // 2021-06-02T12:00:00Z
    let time = |secs: i64| {
        propusk_spec::Timestamp::from_unix(secs)
            .unwrap()
            .to_string()
    };
    let publish = |sequence: u64, issued_at: i64| {
        let mut content = issuer.content(sequence, "RU", &[]);
        content.issued_at = issued_at;
        let dir = tmp.path().join(format!("usb{sequence}"));
        issuer.publish(&dir, &content);
        dir
    };
    let sync_at = |dir: &Path, at: i64| {
        propusk(
            &[
                "verifier",
                "sync",
                "--store",
                s(&store),
                "--from",
                s(dir),
                "--at",
                &time(at),
            ],
            "",
        )
    };
    let text = issuer.text(&examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([1; 12]),
    ));
    let checks_at = |at: i64| {
        json_lines(&verify_json(&store, &time(at), &[&text]))[0]["reason"] != "clock_behind"
    };

    let first = publish(1, t);
    assert_eq!(sync_at(&first, t + 300).status.code(), Some(0));
    // A device clock five minutes behind the issuer's still checks; a day behind does not.
    assert!(checks_at(t - 300));
    assert!(!checks_at(t - day));
    // Data signed a day ahead of this device's clock is refused, and the data in force kept.
    let future = publish(2, t + 2 * day);
    let refused = sync_at(&future, t + 3600);
    assert_eq!(refused.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("check the clock"));
    assert!(checks_at(t + 3600));
    // A device whose clock ran ahead took it; back on time, it cannot check...
    assert_eq!(sync_at(&future, t + 2 * day).status.code(), Some(0));
    assert!(!checks_at(t + 3600));
    // ...until the issuer's next publication, dated right, is synced: the way back.
    let next = publish(3, t + 3600);
    assert_eq!(sync_at(&next, t + 3600).status.code(), Some(0));
    assert!(checks_at(t + 3600));
}

#[test]
fn deltas_carry_only_the_change() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let store = setup(tmp.path(), &issuer);
    let vaccination = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([1; 12]),
    );
    let test = examples::credential(CredentialType::Test, CredentialId::from_bytes([2; 12]));
    let v1 = issuer.content(1, "RU", &[&test]);
    issuer.publish(&tmp.path().join("v1"), &v1);
    assert_eq!(sync(&store, &tmp.path().join("v1")).status.code(), Some(0));

    // Sequence 2 revokes the vaccination; its directory holds a delta from 1.
    let v2 = issuer.content(2, "RU", &[&test, &vaccination]);
    let dir = tmp.path().join("v2");
    let kid = key_id_of(&issuer.root.verifying_key());
    let full = write_dir(&dir, &v2, std::slice::from_ref(&v1), &kid, &|d| {
        issuer.root.sign(d).to_bytes()
    })
    .unwrap()
    .bundle;
    // Only the delta can have been used: the full bundle is gone.
    std::fs::remove_file(&full).unwrap();
    let out = sync(&store, &dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 → 2"));
    let at = "2021-07-01T00:00:00Z";
    let out = verify_json(&store, at, &[&issuer.text(&vaccination)]);
    assert_eq!(json_lines(&out)[0]["reason"], "revoked");

    // A tampered delta is refused (with the full bundle damaged too, nothing to fall back to:
    // sequence 2 stays in force).
    let v3 = issuer.content(3, "RU", &[&test, &vaccination]);
    let dir3 = tmp.path().join("v3");
    let full3 = write_dir(&dir3, &v3, std::slice::from_ref(&v2), &kid, &|d| {
        issuer.root.sign(d).to_bytes()
    })
    .unwrap()
    .bundle;
    let full3_bytes = std::fs::read(&full3).unwrap();
    std::fs::write(&full3, &full3_bytes[..full3_bytes.len() - 1]).unwrap();
    for f in std::fs::read_dir(&dir3).unwrap() {
        let path = f.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("delta-")
        {
            let mut bytes = std::fs::read(&path).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            std::fs::write(&path, bytes).unwrap();
        }
    }
    assert_eq!(sync(&store, &dir3).status.code(), Some(65));
    let out = verify_json(&store, at, &[&issuer.text(&vaccination)]);
    assert_eq!(json_lines(&out)[0]["reason"], "revoked");
    assert_eq!(
        json_lines(&out)[0]["trust_data"]["age_s"],
        27 * 86_400 + 43_200
    );
    // A delta row deleted from the store would roll the revocation back while the store says
    // "fresh": the rebuilt data no longer matches its digest, and the store says it is damaged.
    let db = rusqlite::Connection::open(store.join("verifier.sqlite")).unwrap();
    assert_eq!(db.execute("DELETE FROM delta", []).unwrap(), 1);
    drop(db);
    let out = verify_json(&store, at, &[&issuer.text(&vaccination)]);
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged"));
    // With the full bundle there, a delta that does not lead where its index says is passed
    // over for the full bundle (which also repairs the damaged store).
    std::fs::write(&full3, full3_bytes).unwrap();
    let out = sync(&store, &dir3);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 → 3"));
}

/// Usage and file mistakes are not verdicts: each gets a message naming the file or the fix and
/// its own exit code. The language comes from `LANG` when `--lang` is not given, and a scanner
/// typing in the Russian keyboard layout is read back.
#[test]
fn mistakes_are_not_verdicts_and_scanners_are_read_as_they_type() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let store = setup(tmp.path(), &issuer);
    issuer.publish(&tmp.path().join("usb"), &issuer.content(1, "RU", &[]));
    assert_eq!(sync(&store, &tmp.path().join("usb")).status.code(), Some(0));
    let at = "2021-07-01T00:00:00Z";
    let text = issuer.text(&examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([1; 12]),
    ));
    let verify = |extra: &[&str], stdin: &str, env: &[(&str, &str)]| {
        let mut args = vec!["verify", "--store", s(&store), "--at", at];
        args.extend_from_slice(extra);
        common::propusk_with(&args, stdin, env)
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let missing = tmp.path().join("nofile.png");
    let out = verify(&["--image", s(&missing)], "", &[]);
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    assert!(stderr(&out).contains("nofile.png: no such file or directory"));
    assert!(!stderr(&out).contains("os error") && out.stdout.is_empty());
    // In Russian when asked (here by LANG).
    let out = verify(&["--image", s(&missing)], "", &[("LANG", "ru_RU.UTF-8")]);
    assert!(
        stderr(&out).contains("nofile.png: нет такого файла или каталога"),
        "{}",
        stderr(&out)
    );

    let pdf = tmp.path().join("certificate.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap();
    let out = verify(&["--image", s(&pdf)], "", &[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        stderr(&out).contains("certificate.pdf is a PDF"),
        "{}",
        stderr(&out)
    );

    // An unquoted text split by the shell at its spaces.
    let (head, tail) = text.split_at(text.find(' ').unwrap_or(10));
    let out = verify(&[head, tail.trim()], "", &[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("must be quoted"), "{}", stderr(&out));

    let out = common::propusk_with(
        &["verify", "--store", s(&tmp.path().join("nostore")), &text],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).contains("propusk verifier init"),
        "{}",
        stderr(&out)
    );
    let out = common::propusk_with(
        &[
            "verify",
            "--lang",
            "ru",
            "--store",
            s(&tmp.path().join("nostore")),
            &text,
        ],
        "",
        &[],
    );
    assert!(
        stderr(&out).contains("нет хранилища проверяющего"),
        "{}",
        stderr(&out)
    );

    // LANG picks Russian; --lang overrides it.
    let out = verify(&[&text], "", &[("LANG", "ru_RU.UTF-8")]);
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.starts_with("ДЕЙСТВИТЕЛЕН — вакцинация"), "{words}");
    assert!(words.contains("действителен до "), "{words}");
    let out = verify(&["--lang", "en", &text], "", &[("LANG", "ru_RU.UTF-8")]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("VALID"));

    // The same code typed by a scanner in the Russian layout, with spaces around it.
    let russian: String = text
        .chars()
        .map(|c| {
            let us = "QWERTYUIOPASDFGHJKL:ZXCVBNM.$";
            let ru = "ЙЦУКЕНГШЩЗФЫВАПРОЛДЖЯЧСМИТЬю;";
            us.chars()
                .position(|u| u == c)
                .and_then(|i| ru.chars().nth(i))
                .unwrap_or(c)
        })
        .collect();
    assert!(russian.starts_with("ЗК2Ж"), "{russian}");
    let out = verify(&["--json", "-"], &format!("  {russian}  \n\n"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["verdict"], "valid");
}

/// `verifier status` shows what the store holds; `sync` says what changed and until when the
/// data is good, in the jurisdiction's local time.
#[test]
fn status_and_sync_say_what_the_verifier_holds_and_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::new();
    let store = setup(tmp.path(), &issuer);
    let status = |extra: &[&str]| {
        let mut args = vec![
            "verifier",
            "status",
            "--store",
            s(&store),
            "--at",
            "2021-09-01T00:00:00Z",
        ];
        args.extend_from_slice(extra);
        propusk(&args, "")
    };
    let before = String::from_utf8_lossy(&status(&["--lang", "en"]).stdout).into_owned();
    assert!(before.contains("no trust data yet"), "{before}");

    let usb = tmp.path().join("usb");
    issuer.publish(&usb, &issuer.content(1, "RU", &[]));
    let first = String::from_utf8_lossy(&sync(&store, &usb).stdout).into_owned();
    assert!(
        first.contains("keys added:") && first.contains("good until"),
        "{first}"
    );

    let revoked = examples::credential(CredentialType::Test, CredentialId::from_bytes([2; 12]));
    let usb2 = tmp.path().join("usb2");
    issuer.publish(&usb2, &issuer.content(2, "RU", &[&revoked]));
    let out = propusk(
        &[
            "verifier",
            "sync",
            "--store",
            s(&store),
            "--from",
            s(&usb2),
            "--at",
            "2021-09-01T00:00:00Z",
            "--lang",
            "ru",
        ],
        "",
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("выпуск 1 → 2"), "{said}");
    assert!(said.contains("отозвано документов: 1"), "{said}");
    assert!(said.contains("данные актуальны до"), "{said}");

    let v: Value = serde_json::from_slice(&status(&["--json"]).stdout).unwrap();
    let trust = &v["trust_data"];
    assert_eq!(trust["sequence"], 2);
    assert_eq!(trust["revocations"], 1);
    assert_eq!(trust["keys"][0]["status"], "active");
    assert!(trust["soft_expiry"].as_str().unwrap().ends_with('Z'));
    let words = String::from_utf8_lossy(&status(&["--lang", "en"]).stdout).into_owned();
    assert!(
        words.contains("sequence 2 (RU)") && words.contains("good until:"),
        "{words}"
    );
    assert!(
        !words.contains(":00Z"),
        "local times, not RFC 3339: {words}"
    );
}
