//! The third adversarial review (`shared/reviews/redteam-3.md`), end to end through the binary:
//! each failure it found, re-tried as it describes it, answered as it expects.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod common;
use common::{issue_json, json_lines, ok, propusk_with, run, s, sql};

const AT: &str = "2026-06-02T10:00:00Z";
const LATER: &str = "2026-06-03T10:00:00Z";

fn init(dir: &Path, name: &str, country: &str, tz: &str) {
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(dir),
        "--name",
        name,
        "--country",
        country,
        "--time-zone",
        tz,
        "--at",
        "2026-06-01T08:00:00Z",
    ]));
}

fn publish(dir: &Path, out: &Path, at: &str) {
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(dir),
        "--out",
        s(out),
        "--at",
        at,
    ]));
}

/// `issuer example KIND` valid at AT.
fn example(kind: &str) -> String {
    ok(run(&["issuer", "example", kind, "--at", AT]))
}

fn id_of(text: &str) -> String {
    json_lines(&propusk_with(&["decode", "--json", text], "", &[]))[0]["credential"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn verify(store: &Path, text: &str, at: &str) -> serde_json::Value {
    json_lines(&propusk_with(
        &["verify", "--store", s(store), "--json", "--at", at, text],
        "",
        &[],
    ))
    .remove(0)
}

/// F1: a revoked credential's EU twin is judged by its own issuer's revocation set, even when a
/// bundle consulted first (the home one, or a root trusted earlier) also publishes the issuer's
/// document signer (`issuer eu import`).
#[test]
fn a_revoked_twin_is_invalid_whichever_bundle_also_lists_its_signer() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    init(&p("ma"), "Issuer A", "RU", "Europe/Moscow");
    init(&p("mb"), "Issuer B", "BY", "Europe/Minsk");
    init(&p("mc"), "Issuer C", "KZ", "Asia/Almaty");
    ok(run(&[
        "issuer",
        "eu",
        "init",
        "--dir",
        s(&p("ma")),
        "--at",
        AT,
    ]));
    let input = p("v.json");
    std::fs::write(&input, example("vaccination")).unwrap();
    let out = ok(run(&[
        "issuer",
        "issue",
        "--dir",
        s(&p("ma")),
        "--input",
        s(&input),
        "--at",
        AT,
        "--eu",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    let (credential, twin) = (lines[lines.len() - 2], lines[lines.len() - 1]);
    ok(run(&[
        "issuer",
        "revoke",
        "--dir",
        s(&p("ma")),
        &id_of(credential),
        "--at",
        AT,
    ]));
    publish(&p("ma"), &p("pa"), AT);
    ok(run(&[
        "issuer",
        "eu",
        "export",
        "--dir",
        s(&p("ma")),
        "--out",
        s(&p("maeu")),
    ]));
    let dsc = std::fs::read_dir(p("maeu"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|f| s(f).contains("dsc-") && s(f).ends_with(".der"))
        .unwrap();
    // B (and C) publish A's document signer, as `eu import` allows.
    for other in ["mb", "mc"] {
        ok(run(&[
            "issuer",
            "eu",
            "import",
            "--dir",
            s(&p(other)),
            "--country",
            "RU",
            s(&dsc),
            "--at",
            AT,
        ]));
    }
    publish(&p("mb"), &p("pb"), AT);
    publish(&p("mc"), &p("pc"), AT);
    let trust_add = |store: &Path, dir: &str, from: &str| {
        ok(run(&[
            "verifier",
            "trust",
            "add",
            "--store",
            s(store),
            "--root",
            s(&p(dir).join("root.pub")),
            "--from",
            s(&p(from)),
            "--at",
            AT,
        ]));
    };
    let home = |store: &Path, dir: &str, from: &str| {
        common::verifier_init(store, &p(dir));
        ok(run(&[
            "verifier",
            "sync",
            "--store",
            s(store),
            "--from",
            s(&p(from)),
            "--at",
            AT,
        ]));
    };
    // Home B, then A.
    let vb = p("vb");
    home(&vb, "mb", "pb");
    trust_add(&vb, "ma", "pa");
    // Home C, then B, then A.
    let vc = p("vc");
    home(&vc, "mc", "pc");
    trust_add(&vc, "mb", "pb");
    trust_add(&vc, "ma", "pa");
    // Home A.
    let va = p("va");
    home(&va, "ma", "pa");
    for store in [&vb, &vc, &va] {
        let v = verify(store, twin, LATER);
        assert_eq!(v["verdict"], "invalid", "{store:?}: {v}");
        assert_eq!(v["reason"], "revoked", "{store:?}: {v}");
        assert_eq!(verify(store, credential, LATER)["reason"], "revoked");
    }
    // A verifier that does not trust A has no revocation set of A's: the signature alone.
    let only_b = p("only-b");
    home(&only_b, "mb", "pb");
    assert_eq!(verify(&only_b, twin, LATER)["verdict"], "valid");
    // B publishes again later; A's trust data, never renewed, passes its hard expiry: A's twin
    // is not judged on B's word for A's signer.
    publish(&p("mb"), &p("pb"), "2026-06-25T10:00:00Z");
    run(&[
        "verifier",
        "sync",
        "--store",
        s(&vb),
        "--from",
        s(&p("pb")),
        "--at",
        "2026-06-25T10:00:00Z",
    ]);
    let v = verify(&vb, twin, "2026-07-05T10:00:00Z");
    assert_eq!(v["verdict"], "unknown", "{v}");
    assert_eq!(v["reason"], "trust_data_expired", "{v}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// F2: a row written into the issuer's database without the passphrase (a signing key, an EU
/// signer, a changed key window, changed settings, a revocation) is never vouched for: the next
/// publication refuses and names it; `issuer vouch` lists it, and tells a key that is not the
/// issuer's from a row it may prove.
#[test]
fn rows_written_without_the_passphrase_are_never_published() {
    common::on_every_backend(
        "rows_written_without_the_passphrase_are_never_published",
        rows_written_without_the_passphrase_are_never_published_on,
    );
}

fn rows_written_without_the_passphrase_are_never_published_on() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    let (iss, out) = (p("iss"), p("out"));
    init(&iss, "Issuer", "RU", "Europe/Moscow");
    let text = issue_json(&iss, &example("vaccination"), AT, &[]);
    publish(&iss, &out, AT);
    // The attacker's own issuer (SQLite, another passphrase): its signing key's public half.
    let evil = p("evil");
    ok(propusk_with(
        &[
            "issuer",
            "init",
            "--dir",
            s(&evil),
            "--database",
            "",
            "--at",
            "2026-06-01T08:00:00Z",
        ],
        "",
        &[("PROPUSK_PASSPHRASE", "attacker passphrase")],
    ));
    let conn = rusqlite::Connection::open(evil.join("issuer.sqlite")).unwrap();
    let (kid, public, nb, na): (String, Vec<u8>, i64, i64) = conn
        .query_row(
            "SELECT key_id, public_key, not_before, not_after FROM keys WHERE role = 'signing'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let refused = |what: &str| {
        let o = run(&[
            "issuer",
            "publish",
            "--dir",
            s(&iss),
            "--out",
            s(&out),
            "--at",
            LATER,
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(65), "{what}: {err}");
        assert!(err.contains(what), "{what}: {err}");
        assert!(err.contains("nothing was published"), "{err}");
    };
    sql(
        &iss,
        &format!(
            "INSERT INTO keys VALUES ('{kid}', 'signing', {{blob:{}}}, {{blob:00}}, 'retired', \
             1900000000, {nb}, {na}, {nb})",
            hex(&public)
        ),
    );
    refused(&format!("key {kid}"));
    // Nor does a server sign it in: it starts and serves the last good publication; a
    // revocation through the API is recorded, and said not to be published, naming the row.
    let input = p("forged.json");
    std::fs::write(&input, example("vaccination")).unwrap();
    let forged = propusk_with(
        &[
            "issuer",
            "issue",
            "--dir",
            s(&evil),
            "--database",
            "",
            "--input",
            s(&input),
            "--at",
            AT,
        ],
        "",
        &[("PROPUSK_PASSPHRASE", "attacker passphrase")],
    );
    let forged = String::from_utf8_lossy(&forged.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    {
        let token = std::fs::read_to_string(iss.join("operator.token")).unwrap();
        let (_server, url) = common::start_server(&iss, &[common::PASS]);
        let answer: serde_json::Value = serde_json::from_str(
            &common::http()
                .post(format!("{url}/api/v1/credentials/{}/revoke", id_of(&text)))
                .header("Authorization", &format!("Bearer {}", token.trim()))
                .send("")
                .unwrap()
                .into_body()
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(answer["status"], "revoked", "{answer}");
        assert_eq!(answer["published"], false, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(&kid),
            "{answer}"
        );
        let store = p("verifier");
        common::verifier_init(&store, &iss);
        // The served publication is the one of AT: synced and judged then.
        ok(run(&[
            "verifier",
            "sync",
            "--store",
            s(&store),
            "--url",
            &url,
            "--at",
            LATER,
        ]));
        let v = verify(&store, &forged, LATER);
        assert_eq!(v["reason"], "unknown_key", "{v}");
    }
    let vouch = run(&["issuer", "vouch", "--dir", s(&iss), "--yes", "--at", LATER]);
    let said = String::from_utf8_lossy(&vouch.stdout);
    assert_eq!(vouch.status.code(), Some(65), "{said}");
    assert!(
        said.contains(&format!("not this issuer's: key {kid}")),
        "{said}"
    );
    // The forged key is still refused after `vouch --yes`: it can never be proven.
    refused(&format!("key {kid}"));
    sql(&iss, &format!("DELETE FROM keys WHERE key_id = '{kid}'"));

    // The attacker's EU document signer, written into the published EU signers.
    ok(propusk_with(
        &[
            "issuer",
            "eu",
            "init",
            "--dir",
            s(&evil),
            "--database",
            "",
            "--at",
            AT,
        ],
        "",
        &[("PROPUSK_PASSPHRASE", "attacker passphrase")],
    ));
    let (eu_kid, der): (String, Vec<u8>) = conn
        .query_row("SELECT key_id, der FROM eu_signers", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    sql(
        &iss,
        &format!(
            "INSERT INTO eu_signers VALUES ('{eu_kid}', {{blob:{}}}, 'RU', 1780000000)",
            hex(&der)
        ),
    );
    refused(&format!("EU signer {eu_kid}"));
    sql(
        &iss,
        &format!("DELETE FROM eu_signers WHERE key_id = '{eu_kid}'"),
    );

    // A genuine key's window widened, the settings renamed, an EU signer and a revocation
    // written by hand: each named.
    sql(
        &iss,
        "UPDATE keys SET not_after = not_after + 86400 WHERE role = 'signing'",
    );
    refused("key ");
    sql(
        &iss,
        "UPDATE keys SET not_after = not_after - 86400 WHERE role = 'signing'",
    );
    sql(&iss, "UPDATE config SET name = 'Someone else'");
    refused("the issuer's settings");
    sql(&iss, "UPDATE config SET name = 'Issuer'");
    let id = id_of(&text);
    sql(
        &iss,
        &format!(
            "UPDATE credentials SET status = 'revoked', revoked_at = 1780000000 WHERE id = '{id}'"
        ),
    );
    refused(&format!("the revocation of credential {id}"));
    // Vouching lists it and, confirmed by the passphrase's holder, proves it.
    let listed = run(&["issuer", "vouch", "--dir", s(&iss), "--at", LATER]);
    let words = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(65), "{words}");
    assert!(
        words.contains(&format!("unproven: the revocation of credential {id}")),
        "{words}"
    );
    ok(run(&[
        "issuer",
        "vouch",
        "--dir",
        s(&iss),
        "--yes",
        "--at",
        LATER,
    ]));
    publish(&iss, &out, LATER);
    let audit = ok(run(&["issuer", "audit", "--dir", s(&iss)]));
    assert!(audit.contains("vouch"), "{audit}");
    // Nothing stands unproven now.
    let clean = ok(run(&["issuer", "vouch", "--dir", s(&iss), "--at", LATER]));
    assert!(clean.contains("every row"), "{clean}");

    // A key's row and proof saved while it was retired, put back after it was compromised and
    // published so: the next publication does not take the compromise back.
    ok(run(&[
        "issuer",
        "key",
        "rotate",
        "--dir",
        s(&iss),
        "--at",
        LATER,
    ]));
    let keys: serde_json::Value = serde_json::from_str(&ok(run(&[
        "issuer",
        "key",
        "list",
        "--dir",
        s(&iss),
        "--json",
    ])))
    .unwrap();
    let retired = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == "retired")
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hex_of = |column: &str| match common::database() {
        Some(_) => format!("encode({column}, 'hex')"),
        None => format!("lower(hex({column}))"),
    };
    let saved = value(
        &iss,
        &format!(
            "SELECT k.since || ' ' || {} FROM keys k JOIN proofs p ON p.kind = 'key' AND \
             p.row_key = k.key_id WHERE k.key_id = '{retired}'",
            hex_of("p.proof")
        ),
    );
    let (since, proof) = saved.split_once(' ').unwrap();
    publish(&iss, &out, LATER);
    ok(run(&[
        "issuer",
        "key",
        "compromise",
        "--dir",
        s(&iss),
        &retired,
        "--since",
        AT,
        "--at",
        LATER,
    ]));
    publish(&iss, &out, LATER);
    sql(
        &iss,
        &format!(
            "UPDATE keys SET status = 'retired', since = {since} WHERE key_id = '{retired}'; \
             UPDATE proofs SET proof = {{blob:{proof}}} WHERE kind = 'key' AND row_key = '{retired}'"
        ),
    );
    refused(&format!("key {retired} (compromised since sequence"));
}

/// One value of `sql` (a text) from the store of the issuer in `dir`.
fn value(dir: &Path, sql: &str) -> String {
    match common::database() {
        Some(url) => {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client.query_one(sql, &[]).unwrap().get(0)
        }
        None => {
            let conn = rusqlite::Connection::open(dir.join("issuer.sqlite")).unwrap();
            conn.query_row(sql, [], |r| r.get(0)).unwrap()
        }
    }
}

/// F3: the portal never shows a stored text under an id that is not its own (a row written by
/// hand with another credential's text): no "valid", none of the other holder's data, and the
/// short link's text is not given out.
#[test]
fn the_portal_shows_no_text_under_another_id() {
    let tmp = tempfile::tempdir().unwrap();
    let iss = tmp.path().join("iss");
    init(&iss, "Issuer", "RU", "Europe/Moscow");
    let a = issue_json(&iss, &example("vaccination"), AT, &[]);
    let b = issue_json(&iss, &example("recovery"), AT, &[]);
    let (a_id, b_id) = (id_of(&a), id_of(&b));
    sql(
        &iss,
        &format!(
            "UPDATE credentials SET text = (SELECT text FROM credentials WHERE id = '{a_id}') \
             WHERE id = '{b_id}'"
        ),
    );
    let (_server, url) = common::start_server(&iss, &[common::PASS]);
    let agent = common::http();
    let own = agent
        .get(format!("{url}/c/{a_id}?lang=en"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(
        own.contains("data-verdict=\"valid\"") && own.contains("1980"),
        "{own}"
    );
    let page = agent
        .get(format!("{url}/c/{b_id}?lang=en"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(page.contains("data-verdict=\"invalid\""), "{page}");
    assert!(!page.contains("1980"), "no holder data: {page}");
    let text = agent
        .get(format!("{url}/c/{b_id}/credential"))
        .call()
        .unwrap();
    assert_eq!(text.status(), 404);
}

/// F4 and F6: a thin strip is "no QR code", not a crash; a PDF of many images made to stall the
/// reader is given one reading budget in all, not one per image.
#[test]
fn thin_images_and_stalling_pdfs_are_answered_within_one_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let strip = tmp.path().join("strip.png");
    image::GrayImage::from_pixel(8192, 1, image::Luma([255]))
        .save(&strip)
        .unwrap();
    let wallet = tmp.path().join("w");
    let added = propusk_with(
        &["wallet", "--dir", s(&wallet), "add", "--image", s(&strip)],
        "",
        &[],
    );
    let said = String::from_utf8_lossy(&added.stderr);
    assert_ne!(added.status.code(), Some(101), "{said}");
    assert!(said.contains("no QR code"), "{said}");

    let mut png = Vec::new();
    common::finder_grid(1024)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut pdf = b"%PDF-1.7\n".to_vec();
    for i in 0..12 {
        pdf.extend_from_slice(
            format!(
                "{} 0 obj << /Filter /DCTDecode /Length {} >> stream\n",
                i + 1,
                png.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&png);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
    }
    let path = tmp.path().join("stall.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let added = propusk_with(
        &["wallet", "--dir", s(&wallet), "add", "--pdf", s(&path)],
        "",
        &[],
    );
    let said = String::from_utf8_lossy(&added.stderr);
    assert_ne!(added.status.code(), Some(0), "{said}");
    assert_ne!(added.status.code(), Some(101), "{said}");
    // One budget for the whole file: the reading gives up at it, naming it (each image its own
    // budget would end in a plain "no QR code" after twelve of them).
    assert!(said.contains("within"), "{said}");
}

/// F11: a record id with a control character (a NUL byte) is refused alike on every store: a bad
/// row of a batch (the other rows issued), 400 from the API, never a database error.
#[test]
fn record_ids_with_control_characters_are_refused_on_every_store() {
    common::on_every_backend(
        "record_ids_with_control_characters_are_refused_on_every_store",
        record_ids_with_control_characters_are_refused_on_every_store_on,
    );
}

fn record_ids_with_control_characters_are_refused_on_every_store_on() {
    let tmp = tempfile::tempdir().unwrap();
    let iss = tmp.path().join("iss");
    init(&iss, "Issuer", "RU", "Europe/Moscow");
    let registry = example("registry");
    let mut lines: Vec<String> = registry.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replacen("R-0002", "R-NUL\0", 1);
    let csv = tmp.path().join("registry.csv");
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let out = run(&[
        "issuer",
        "batch",
        "--dir",
        s(&iss),
        "--input",
        s(&csv),
        "--out",
        s(&tmp.path().join("out")),
        "--at",
        AT,
    ]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(65), "{said}");
    assert!(said.contains("control character"), "{said}");
    for issued in ["R-0001", "R-0003"] {
        ok(run(&["issuer", "record", "--dir", s(&iss), issued]));
    }

    let token = std::fs::read_to_string(iss.join("operator.token"))
        .unwrap()
        .trim()
        .to_owned();
    let (_server, url) = common::start_server(&iss, &[common::PASS]);
    let agent = common::http();
    let mut request: serde_json::Value = serde_json::from_str(&example("vaccination")).unwrap();
    request["record_id"] = "NUL\u{0}ID".into();
    let posted = agent
        .post(format!("{url}/api/v1/credentials"))
        .header("Authorization", &format!("Bearer {token}"))
        .send(request.to_string())
        .unwrap();
    assert_eq!(posted.status(), 400);
    let asked = agent
        .get(format!("{url}/api/v1/issuance/%00"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(asked.status(), 400);
}

/// An EU certificate signed by `key` (kid of `dsc`) with any claims: what someone holding a
/// document signer's key, but not bound by the issuer's software, can make.
fn forged_hc1(key: &p256::ecdsa::SigningKey, dsc: &[u8], iat: i64, exp: i64) -> String {
    use ciborium::Value;
    use p256::ecdsa::signature::Signer;
    let cbor = |v: &Value| {
        let mut out = Vec::new();
        ciborium::into_writer(v, &mut out).unwrap();
        out
    };
    let kid = propusk_eudcc::SignerCertificate::from_der(dsc)
        .unwrap()
        .key_id()
        .to_vec();
    let protected = cbor(&Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer((-7).into())),
        (Value::Integer(4.into()), Value::Bytes(kid)),
    ]));
    let json = serde_json::json!({
        "ver": "1.3.0", "nam": {"fnt": "IVANOV", "fn": "Иванов"}, "dob": "1980-05-12",
        "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
               "dn": 2, "sd": 2, "dt": "2026-01-10", "co": "DE", "is": "Test",
               "ci": "URN:UVCI:01:DE:X/1#Q"}],
    });
    let hcert: Value = serde_json::from_value(json).unwrap();
    let payload = cbor(&Value::Map(vec![
        (Value::Integer(1.into()), Value::Text("DE".into())),
        (Value::Integer(4.into()), Value::Integer(exp.into())),
        (Value::Integer(6.into()), Value::Integer(iat.into())),
        (
            Value::Integer((-260).into()),
            Value::Map(vec![(Value::Integer(1.into()), hcert)]),
        ),
    ]));
    let message = propusk_spec::to_be_signed(&protected, &payload);
    let signature: p256::ecdsa::Signature = key.sign(&message);
    let cose = cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![]),
            Value::Bytes(payload),
            Value::Bytes(signature.to_bytes().to_vec()),
        ])),
    ));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &cose).unwrap();
    format!("HC1:{}", propusk_spec::base45::encode(&z.finish().unwrap()))
}

/// F8: a document signer whose certificate has ended signs nothing valid, however its
/// certificate's issue date is backdated; EU signers can be withdrawn, and expired ones are no
/// longer published.
#[test]
fn expired_and_withdrawn_eu_signers_vouch_for_nothing() {
    use propusk_eudcc::{Hc1Type, cert};
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    let at = 1_780_912_800; // 2026-06-08T10:00:00Z
    let at_text = "2026-06-08T10:00:00Z";
    let (ca_key, key) = (
        cert::signing_key(&[7; 32]).unwrap(),
        cert::signing_key(&[9; 32]).unwrap(),
    );
    let day = 86_400;
    let ca =
        cert::country_signing_ca(&ca_key, "DE", "Test", 1, at - 800 * day, at + 800 * day).unwrap();
    // A document signer under the CA over a window, written to a file; an EU verifier's answer
    // with only that signer trusted.
    let signer = |key: &p256::ecdsa::SigningKey, serial: u64, until: i64, name: &str| {
        let der = cert::document_signer(
            &ca_key,
            &ca,
            key,
            &[Hc1Type::Vaccination],
            serial,
            at - 400 * day,
            until,
        )
        .unwrap();
        let file = p(name);
        std::fs::write(&file, &der).unwrap();
        (der, file)
    };
    let with_only = |file: &Path, text: &str| {
        json_lines(&propusk_with(
            &[
                "verify",
                "--trust-cert",
                s(file),
                "--json",
                "--at",
                at_text,
                text,
            ],
            "",
            &[],
        ))
        .remove(0)
    };
    // Ended yesterday.
    let (ended, ended_file) = signer(&key, 2, at - day, "ended.der");
    let backdated = forged_hc1(&key, &ended, at - 200 * day, at + 3000 * day);
    let v = with_only(&ended_file, &backdated);
    assert_eq!(v["verdict"], "invalid", "{v}");
    assert_eq!(v["reason"], "key_usage", "{v}");
    // A signer still valid: the same forgery is valid, until no later than the signer's end.
    let key2 = cert::signing_key(&[11; 32]).unwrap();
    let (live, live_file) = signer(&key2, 3, at + 100 * day, "live.der");
    let text = forged_hc1(&key2, &live, at - 10 * day, at + 3000 * day);
    let v = with_only(&live_file, &text);
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(v["valid_until"], "2026-09-16T10:00:00Z", "{v}");

    // Published: the expired signer is left out; the live one is withdrawn, and goes.
    let iss = p("iss");
    init(&iss, "Issuer", "RU", "Europe/Moscow");
    for file in [&ended_file, &live_file] {
        ok(run(&[
            "issuer",
            "eu",
            "import",
            "--dir",
            s(&iss),
            "--country",
            "DE",
            s(file),
            "--at",
            at_text,
        ]));
    }
    let (usb, store) = (p("usb"), p("v"));
    common::publish_and_sync(&iss, &usb, &store, at_text);
    let status = ok(propusk_with(
        &[
            "verifier",
            "status",
            "--store",
            s(&store),
            "--json",
            "--at",
            at_text,
        ],
        "",
        &[],
    ));
    let live_kid = propusk_spec::hex::encode(
        propusk_eudcc::SignerCertificate::from_der(&live)
            .unwrap()
            .key_id(),
    );
    let ended_kid = propusk_spec::hex::encode(
        propusk_eudcc::SignerCertificate::from_der(&ended)
            .unwrap()
            .key_id(),
    );
    assert!(status.contains(&live_kid), "{status}");
    assert!(!status.contains(&ended_kid), "{status}");
    assert_eq!(verify(&store, &text, at_text)["verdict"], "valid");
    ok(run(&[
        "issuer",
        "eu",
        "withdraw",
        "--dir",
        s(&iss),
        &live_kid,
        "--at",
        at_text,
    ]));
    let later = "2026-06-08T11:00:00Z";
    publish(&iss, &usb, later);
    ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(&store),
        "--from",
        s(&usb),
        "--at",
        later,
    ]));
    let v = verify(&store, &text, later);
    assert_eq!(v["verdict"], "unknown", "{v}");
    assert_eq!(v["reason"], "unknown_key", "{v}");
    let audit = ok(run(&["issuer", "audit", "--dir", s(&iss)]));
    assert!(audit.contains("eu-withdraw"), "{audit}");
    // Withdrawing it again, or the issuer's own active document signer, is refused.
    assert_ne!(
        run(&["issuer", "eu", "withdraw", "--dir", s(&iss), &live_kid])
            .status
            .code(),
        Some(0)
    );
}

/// F9: once the country signing CA has ended, rotating is refused with the way out (renew);
/// renewing makes a new CA and a document signer whose window is whole, and twins go on.
#[test]
fn an_ended_country_signing_ca_is_renewed_not_inverted() {
    let tmp = tempfile::tempdir().unwrap();
    let iss = tmp.path().join("iss");
    init(&iss, "Issuer", "RU", "Europe/Moscow");
    ok(run(&["issuer", "eu", "init", "--dir", s(&iss), "--at", AT]));
    let early = run(&["issuer", "eu", "renew", "--dir", s(&iss), "--at", LATER]);
    assert_ne!(early.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&early.stderr).contains("rotate the document signer"));
    let after = "2031-07-01T10:00:00Z";
    let rotated = run(&["issuer", "eu", "rotate", "--dir", s(&iss), "--at", after]);
    let said = String::from_utf8_lossy(&rotated.stderr);
    assert_ne!(rotated.status.code(), Some(0), "{said}");
    assert!(said.contains("eu renew"), "{said}");
    ok(run(&[
        "issuer",
        "eu",
        "renew",
        "--dir",
        s(&iss),
        "--at",
        after,
    ]));
    let keys: serde_json::Value = serde_json::from_str(&ok(run(&[
        "issuer",
        "eu",
        "list",
        "--dir",
        s(&iss),
        "--json",
    ])))
    .unwrap();
    let active: Vec<&serde_json::Value> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["active"] == true)
        .collect();
    assert_eq!(active.len(), 2, "{keys}");
    for k in &active {
        assert!(
            k["not_before"].as_str().unwrap() < k["not_after"].as_str().unwrap(),
            "{k}"
        );
        assert!(k["not_after"].as_str().unwrap() > after, "{k}");
    }
    // Twins are issued again under the new CA's signer (a signing key valid then too).
    ok(run(&[
        "issuer",
        "key",
        "rotate",
        "--dir",
        s(&iss),
        "--at",
        after,
    ]));
    let input = tmp.path().join("t.json");
    std::fs::write(
        &input,
        ok(run(&["issuer", "example", "test", "--at", after])),
    )
    .unwrap();
    let out = ok(run(&[
        "issuer",
        "issue",
        "--dir",
        s(&iss),
        "--input",
        s(&input),
        "--eu",
        "--at",
        after,
    ]));
    let twin = out.lines().last().unwrap();
    let (usb, store) = (tmp.path().join("usb"), tmp.path().join("v"));
    common::publish_and_sync(&iss, &usb, &store, after);
    let v = verify(&store, twin, after);
    assert_eq!(v["verdict"], "valid", "{v}");
    let files = ok(run(&[
        "issuer",
        "eu",
        "export",
        "--dir",
        s(&iss),
        "--out",
        s(&tmp.path().join("gw")),
    ]));
    assert!(
        files.contains("csca.pem") && files.contains("csca-"),
        "{files}"
    );
}

/// A counter of the server's `/metrics`.
fn counter(url: &str, dir: &Path, name: &str) -> f64 {
    let token = std::fs::read_to_string(dir.join("operator.token")).unwrap();
    let text = common::http()
        .get(format!("{url}/metrics"))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name}: {text}"))
}

/// Issue 23: the portal takes a stored row whose proof (the issuer's HMAC over its id and text)
/// holds as signed, without checking its signature; a row whose proof does not hold (copied from
/// another row, or none) has its signature checked, so a forged text under a borrowed proof is
/// still refused.
#[test]
fn the_portal_trusts_a_proven_row_and_checks_any_other() {
    common::on_every_backend("the_portal_trusts_a_proven_row", || {
        let tmp = tempfile::tempdir().unwrap();
        let iss = tmp.path().join("iss");
        init(&iss, "Issuer", "RU", "Europe/Moscow");
        let [a, b, c] = ["A", "B", "C"].map(|_| issue_json(&iss, &example("vaccination"), AT, &[]));
        let [a_id, b_id, c_id] = [&a, &b, &c].map(|t| id_of(t));
        // B keeps its own text under A's proof; C's text is forged (another key signed it, under
        // the issuer's key id) and carries A's proof too.
        let decoded = propusk_spec::decode(&c).unwrap();
        let forger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let forged = propusk_spec::encode(decoded.unverified_claims(), decoded.key_id(), |d| {
            use ed25519_dalek::Signer;
            forger.sign(d).to_bytes()
        })
        .unwrap();
        let borrowed = format!("(SELECT proof FROM credentials WHERE id = '{a_id}')");
        sql(
            &iss,
            &format!(
                "UPDATE credentials SET proof = {borrowed} WHERE id = '{b_id}';
                 UPDATE credentials SET text = '{forged}', proof = {borrowed} WHERE id = '{c_id}'"
            ),
        );
        let (_server, url) = common::start_server(&iss, &[common::PASS]);
        let verdict = |id: &str| {
            let page = common::http()
                .get(format!("{url}/c/{id}?lang=en"))
                .call()
                .unwrap()
                .into_body()
                .read_to_string()
                .unwrap();
            let at = page.find("data-verdict=\"").unwrap() + 14;
            page[at..at + page[at..].find('"').unwrap()].to_owned()
        };
        assert_eq!(verdict(&a_id), "valid");
        assert_eq!(
            counter(&url, &iss, "propusk_portal_judged_proven_total"),
            1.0
        );
        assert_eq!(
            counter(&url, &iss, "propusk_portal_judged_checked_total"),
            0.0
        );
        assert_eq!(verdict(&b_id), "valid");
        assert_eq!(verdict(&c_id), "invalid");
        assert_eq!(
            counter(&url, &iss, "propusk_portal_judged_proven_total"),
            1.0
        );
        assert_eq!(
            counter(&url, &iss, "propusk_portal_judged_checked_total"),
            2.0
        );
    });
}
