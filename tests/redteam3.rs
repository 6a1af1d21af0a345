//! The third adversarial review (`shared/reviews/redteam-3.md`), end to end through the binary:
//! each failure it found, re-tried as it describes it, answered as it expects.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod common;
use common::{issue_json, json_lines, ok, propusk_with, run, s};

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
}

/// Runs `sql` on the store of the issuer in `dir` (its SQLite file, or the backend's
/// PostgreSQL database), as someone with a database login but no passphrase would; `{blob:HEX}`
/// is written as each database spells a byte string.
fn sql(dir: &Path, sql: &str) {
    let blob = |pg: bool, text: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("{blob:") {
            out.push_str(&rest[..at]);
            let end = rest[at..].find('}').unwrap() + at;
            let hex = &rest[at + 6..end];
            out.push_str(&if pg {
                format!("'\\x{hex}'::bytea")
            } else {
                format!("X'{hex}'")
            });
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    };
    match common::database() {
        Some(url) => {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client.batch_execute(&blob(true, sql)).unwrap();
        }
        None => {
            let conn = rusqlite::Connection::open(dir.join("issuer.sqlite")).unwrap();
            conn.execute_batch(&blob(false, sql)).unwrap();
        }
    }
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

/// A 1024² page of QR finder patterns: every triple a candidate code, made to stall a reader.
fn finder_grid_png() -> Vec<u8> {
    let grid = image::GrayImage::from_fn(1024, 1024, |x, y| {
        let (mx, my) = ((x / 4) % 8, (y / 4) % 8);
        let ring = mx
            .min(6u32.saturating_sub(mx))
            .min(my.min(6u32.saturating_sub(my)));
        image::Luma([if mx < 7 && my < 7 && ring != 1 {
            0
        } else {
            255
        }])
    });
    let mut png = Vec::new();
    grid.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
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

    let png = finder_grid_png();
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
