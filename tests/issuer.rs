//! The issuer end to end through the binary: keys, issuance, rotation, compromise, revocation,
//! publishing, and a verifier that syncs from what was published.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{PASS, issue_json, json_lines, ok, propusk_with, run, s, verdict};

fn vaccination(family: &str) -> String {
    format!(
        r#"{{"type": "vaccination",
 "holder": {{"family_name": "{family}", "given_name": "Иван", "patronymic": "Иванович",
            "birth_date": "1980-05-12", "document": {{"kind": "passport", "number": "4510 123789"}}}},
 "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "2021-06-01",
                 "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}}}"#
    )
}

#[test]
fn key_lifecycle_revocation_and_publishing() {
    common::on_every_backend(
        "key_lifecycle_revocation_and_publishing",
        key_lifecycle_revocation_and_publishing_on,
    );
}

fn key_lifecycle_revocation_and_publishing_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    let (store, usb) = (tmp.path().join("verifier"), tmp.path().join("usb"));
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--name",
        "Минздрав России",
        "--country",
        "RU",
        "--url",
        "https://portal.example",
        "--at",
        "2021-06-01T08:00:00Z",
    ]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let files: &[&str] = match common::database() {
            None => &["issuer.sqlite", "operator.token"],
            Some(_) => &["operator.token"],
        };
        for f in files {
            let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
    let keys: serde_json::Value = serde_json::from_str(&ok(run(&[
        "issuer",
        "key",
        "--dir",
        s(&dir),
        "list",
        "--json",
    ])))
    .unwrap();
    let key_a = keys[1]["key_id"].as_str().unwrap().to_owned();
    assert_eq!(keys[1]["status"], "active");
    assert_eq!(keys[1]["public_key"].as_str().unwrap().len(), 43);

    // Key A signs two credentials, at 10:00 and at 12:00.
    let a1 = issue_json(&dir, &vaccination("Иванов"), "2021-06-02T10:00:00Z", &[]);
    let a2 = issue_json(&dir, &vaccination("Петров"), "2021-06-02T12:00:00Z", &[]);
    // Rotate to B; B signs a third.
    ok(run(&[
        "issuer",
        "key",
        "--dir",
        s(&dir),
        "--at",
        "2021-06-02T13:00:00Z",
        "rotate",
    ]));
    let b1 = issue_json(&dir, &vaccination("Сидоров"), "2021-06-02T14:00:00Z", &[]);

    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&usb),
        "--at",
        "2021-06-02T15:00:00Z",
    ]));
    ok(propusk_with(
        &[
            "verifier",
            "init",
            "--store",
            s(&store),
            "--root",
            s(&dir.join("root.pub")),
        ],
        "",
        &[],
    ));
    ok(propusk_with(
        &[
            "verifier",
            "sync",
            "--store",
            s(&store),
            "--from",
            s(&usb),
            "--at",
            "2021-06-02T15:00:00Z",
        ],
        "",
        &[],
    ));
    let at = "2021-06-03T00:00:00Z";
    for text in [&a1, &a2, &b1] {
        assert_eq!(verdict(&store, text, Some(at)), ("valid".into(), None));
    }

    // A was retired by the rotation: retiring it again says so and changes nothing (exit 0).
    let again = ok(run(&["issuer", "key", "retire", "--dir", s(&dir), &key_a]));
    assert!(again.contains("already retired since"), "{again}");
    // The active key B cannot be retired: rotate first.
    let active = run(&["issuer", "key", "--dir", s(&dir), "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_slice(&active.stdout).unwrap();
    let key_b = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == "active" && k["role"] == "signing")
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = run(&["issuer", "key", "retire", "--dir", s(&dir), &key_b]);
    assert_eq!(refused.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("rotate first"));

    // A is declared compromised since 11:00: a1 stays valid, a2 does not; b1 is revoked.
    ok(run(&[
        "issuer",
        "key",
        "--dir",
        s(&dir),
        "--at",
        "2021-06-03T09:00:00Z",
        "compromise",
        &key_a,
        "--since",
        "2021-06-02T11:00:00Z",
    ]));
    let b1_id = {
        let out = propusk_with(&["decode", "--json", &b1], "", &[]);
        json_lines(&out)[0]["credential"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    ok(run(&[
        "issuer",
        "revoke",
        "--dir",
        s(&dir),
        &b1_id,
        "--at",
        "2021-06-03T09:05:00Z",
    ]));
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&usb),
        "--at",
        "2021-06-03T10:00:00Z",
    ]));
    let synced = ok(propusk_with(
        &[
            "verifier",
            "sync",
            "--store",
            s(&store),
            "--from",
            s(&usb),
            "--at",
            "2021-06-03T10:00:00Z",
        ],
        "",
        &[],
    ));
    assert!(synced.contains("1 → 2"), "{synced}");
    let at = "2021-06-04T00:00:00Z";
    assert_eq!(verdict(&store, &a1, Some(at)), ("valid".into(), None));
    assert_eq!(
        verdict(&store, &a2, Some(at)),
        ("invalid".into(), Some("key_revoked".into()))
    );
    assert_eq!(
        verdict(&store, &b1, Some(at)),
        ("invalid".into(), Some("revoked".into()))
    );

    // The audit log kept every key operation.
    let issuer = common::open_issuer(&dir);
    let ops: Vec<String> = issuer
        .audit_log()
        .unwrap()
        .into_iter()
        .map(|entry| entry.op.as_str().to_owned())
        .collect();
    for op in [
        "init",
        "key-create",
        "key-retired",
        "key-compromised",
        "revoke",
        "publish",
    ] {
        assert!(ops.iter().any(|o| o == op), "{op} missing from {ops:?}");
    }
}

#[test]
fn refusals_say_why() {
    common::on_every_backend("refusals_say_why", refusals_say_why_on);
}

fn refusals_say_why_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--at",
        "2021-06-01T08:00:00Z",
    ]));
    let attempt = |json: &str| {
        let input = dir.join("in.json");
        std::fs::write(&input, json).unwrap();
        let out = run(&[
            "issuer",
            "issue",
            "--dir",
            s(&dir),
            "--input",
            s(&input),
            "--at",
            "2021-06-02T10:00:00Z",
        ]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let good = vaccination("Иванов");
    let (code, msg) = attempt(&good.replace("\"dose\": 2", "\"dose\": 1"));
    assert_eq!(code, Some(65));
    assert!(msg.contains("course not complete"), "{msg}");
    let (code, msg) = attempt(&good.replace("1980-05-12", "2030-01-01"));
    assert_eq!(code, Some(65));
    assert!(msg.contains("in the future"), "{msg}");
    let (code, msg) = attempt(&good.replace(
        "\"administered_by\": \"ГБУЗ ГП № 2\"",
        "\"administered_by\": \"ГБУЗ ГП № 2\", \"lot\": \"X\"",
    ));
    assert_eq!(code, Some(65));
    assert!(msg.contains("unknown field `lot`"), "{msg}");
    let (code, msg) = attempt(&good.replace("\"product\": \"Sputnik-V\", ", ""));
    assert_eq!(code, Some(65));
    assert!(msg.contains("product"), "{msg}");
    let positive = r#"{"type": "test", "holder": {"family_name": "Иванов", "birth_date": "1980", "document": {"kind": "passport", "number": "4510 123789"}},
        "test": {"kind": "pcr", "sampled_at": "2021-06-02T08:00:00+03:00", "result": "positive", "center": "Гемотест", "country": "RU"}}"#;
    let (code, msg) = attempt(positive);
    assert_eq!(code, Some(65));
    assert!(msg.contains("positive"), "{msg}");
    let long_pass = r#"{"type": "pass", "holder": {"family_name": "Иванов", "birth_date": "1980", "document": {"kind": "passport", "number": "4510 123789"}},
        "pass": {"purpose": "work", "valid_from": "2021-06-02T08:00:00Z", "valid_until": "2021-06-03T09:00:00Z"}}"#;
    let (code, msg) = attempt(long_pass);
    assert_eq!(code, Some(65));
    assert!(msg.contains("longer than the rules allow"), "{msg}");

    // A wrong passphrase changes nothing.
    let input = dir.join("in.json");
    std::fs::write(&input, &good).unwrap();
    let out = propusk_with(
        &["issuer", "issue", "--dir", s(&dir), "--input", s(&input)],
        "",
        &[("PROPUSK_PASSPHRASE", "wrong")],
    );
    assert_eq!(out.status.code(), Some(77));
    assert!(String::from_utf8_lossy(&out.stderr).contains("passphrase"));

    // Every change of state proves the passphrase: revoking and changing keys with a wrong one
    // are refused, and change nothing.
    let issued = run(&[
        "issuer",
        "issue",
        "--dir",
        s(&dir),
        "--input",
        s(&input),
        "--at",
        "2021-06-02T10:00:00Z",
    ]);
    let text = String::from_utf8_lossy(&issued.stdout).trim().to_owned();
    let id = propusk_spec::decode(&text)
        .unwrap()
        .unverified_claims()
        .id
        .to_string();
    let keys = String::from_utf8_lossy(&run(&["issuer", "key", "list", "--dir", s(&dir)]).stdout)
        .into_owned();
    let kid = keys
        .lines()
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let audit_before = common::open_issuer(&dir).audit_log().unwrap().len();
    let wrong = [("PROPUSK_PASSPHRASE", "wrong")];
    for args in [
        vec!["issuer", "revoke", "--dir", s(&dir), &id],
        vec!["issuer", "key", "retire", "--dir", s(&dir), &kid],
        vec!["issuer", "key", "compromise", "--dir", s(&dir), &kid],
    ] {
        let out = propusk_with(&args, "", &wrong);
        assert_eq!(out.status.code(), Some(77), "{args:?}");
    }
    let issuer = common::open_issuer(&dir);
    assert_eq!(issuer.audit_log().unwrap().len(), audit_before);
    let found = issuer
        .credential(&id.parse().unwrap())
        .unwrap()
        .map(|c| c.status);
    assert_eq!(found, Some(propusk_issuer::CredentialStatus::Issued));
}

#[test]
fn issue_writes_qr_images_and_links() {
    common::on_every_backend(
        "issue_writes_qr_images_and_links",
        issue_writes_qr_images_and_links_on,
    );
}

fn issue_writes_qr_images_and_links_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--url",
        "https://portal.example",
        "--at",
        "2021-06-01T08:00:00Z",
    ]));
    let input = dir.join("in.json");
    std::fs::write(&input, vaccination("Иванов")).unwrap();
    let (png, svg) = (tmp.path().join("qr.png"), tmp.path().join("qr.svg"));
    let text = ok(run(&[
        "issuer",
        "issue",
        "--dir",
        s(&dir),
        "--input",
        s(&input),
        "--at",
        "2021-06-02T10:00:00Z",
        "--png",
        s(&png),
        "--svg",
        s(&svg),
    ]));
    let text = text.lines().last().unwrap();
    assert_eq!(propusk_qr::read_qr_file(&png).unwrap(), text);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let link = ok(run(&[
        "issuer",
        "issue",
        "--dir",
        s(&dir),
        "--input",
        s(&input),
        "--at",
        "2021-06-02T10:00:00Z",
        "--link",
        "--png",
        s(&png),
    ]));
    let link = link.lines().last().unwrap();
    assert!(
        link.starts_with("https://portal.example/c/") && link.contains("#PR2:"),
        "{link}"
    );
    assert_eq!(propusk_qr::read_qr_file(&png).unwrap(), link);
    let decoded = propusk_with(&["decode", "--json", link], "", &[]);
    assert_eq!(json_lines(&decoded)[0]["decoded"], true);
}

/// A newcomer's first steps as README writes them: the examples `propusk issuer example` makes
/// are valid now, issue one by one and as a registry batch.
#[test]
fn the_examples_issue_now() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    ok(run(&["issuer", "init", "--dir", s(&dir)]));
    for kind in ["vaccination", "recovery", "test", "exemption", "pass"] {
        let json = ok(run(&["issuer", "example", kind]));
        let out = propusk_with(
            &["issuer", "issue", "--dir", s(&dir), "--input", "-"],
            &json,
            &[PASS],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let csv = tmp.path().join("registry.csv");
    std::fs::write(&csv, ok(run(&["issuer", "example", "registry"]))).unwrap();
    let out = ok(run(&[
        "issuer",
        "batch",
        "--dir",
        s(&dir),
        "--input",
        s(&csv),
        "--out",
        s(&tmp.path().join("out")),
    ]));
    assert!(out.starts_with("issued 6 new"), "{out}");
}

/// `issuer init` refuses a passphrase shorter than 12 characters and creates nothing then;
/// `root.pub` is world-readable (it is handed out), the secrets owner-only.
#[cfg(unix)]
#[test]
fn init_refuses_a_short_passphrase_and_makes_root_pub_readable() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    for short in ["", "elevenchars"] {
        let out = propusk_with(
            &["issuer", "init", "--dir", s(&dir)],
            "",
            &[("PROPUSK_PASSPHRASE", short)],
        );
        assert_eq!(out.status.code(), Some(64), "{short:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!dir.exists(), "nothing was created");
    }
    ok(run(&["issuer", "init", "--dir", s(&dir)]));
    let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("root.pub"), 0o644);
    assert_eq!(mode("operator.token"), 0o600);
    assert_eq!(mode("issuer.sqlite"), 0o600);
    // A second init is refused and changes nothing.
    let again = run(&["issuer", "init", "--dir", s(&dir)]);
    assert_eq!(again.status.code(), Some(78));
}

/// A store behind what the issuer's directory has published (here an older copy of the SQLite
/// file put back after two more publications) refuses every command, naming the sequence it
/// lacks: issuing or revoking there would split the registry.
#[test]
fn a_store_behind_the_last_publication_refuses_to_work() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, usb) = (tmp.path().join("iss"), tmp.path().join("usb"));
    ok(run(&["issuer", "init", "--dir", s(&dir)]));
    let publish = || run(&["issuer", "publish", "--dir", s(&dir), "--out", s(&usb)]);
    ok(publish());
    let file = dir.join("issuer.sqlite");
    let old = std::fs::read(&file).unwrap();
    ok(publish());
    ok(publish());
    std::fs::write(&file, old).unwrap();
    for args in [
        vec!["issuer", "publish", "--dir", s(&dir), "--out", s(&usb)],
        vec!["issuer", "key", "list", "--dir", s(&dir)],
    ] {
        let refused = run(&args);
        let said = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(78), "{args:?}: {said}");
        assert!(
            said.contains("published sequence 3") && said.contains("only up to 1"),
            "{said}"
        );
    }
}

/// A verifier offered older trust data than it holds (a server behind a balancer, an old USB
/// stick) keeps its data and says the source is behind: lag, exit 0, not a refusal.
#[test]
fn a_source_behind_the_data_in_force_is_lag_not_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    let (old, new, store) = (
        tmp.path().join("old"),
        tmp.path().join("new"),
        tmp.path().join("v"),
    );
    ok(run(&["issuer", "init", "--dir", s(&dir)]));
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&old),
    ]));
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&new),
    ]));
    common::verifier_init(&store, &dir);
    ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(&store),
        "--from",
        s(&new),
    ]));
    let behind = run(&["verifier", "sync", "--store", s(&store), "--from", s(&old)]);
    let said = String::from_utf8_lossy(&behind.stdout);
    assert_eq!(
        behind.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&behind.stderr)
    );
    assert!(
        said.contains("this source is behind (sequence 1 < 2)"),
        "{said}"
    );
    let status = ok(run(&["verifier", "status", "--store", s(&store)]));
    assert!(status.contains("sequence 2"), "{status}");
}

/// Settings change after init, and every change is in the audit log, which `issuer audit`
/// shows; a rotation without an announced key warns about verifiers that have not synced.
#[test]
fn config_audit_and_the_rotation_warning() {
    common::on_every_backend(
        "config_audit_and_the_rotation_warning",
        config_audit_and_the_rotation_warning_on,
    );
}

fn config_audit_and_the_rotation_warning_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    ok(run(&["issuer", "init", "--dir", s(&dir)]));
    let shown = ok(run(&["issuer", "config", "--dir", s(&dir)]));
    assert!(shown.contains("portal URL: none"), "{shown}");
    let shown = ok(run(&[
        "issuer",
        "config",
        "--dir",
        s(&dir),
        "--url",
        "https://portal.example",
        "--name",
        "Минздрав России",
    ]));
    assert!(
        shown.contains("portal URL: https://portal.example") && shown.contains("Минздрав России"),
        "{shown}"
    );
    let bad = run(&[
        "issuer",
        "config",
        "--dir",
        s(&dir),
        "--time-zone",
        "Mars/Olympus",
    ]);
    assert_eq!(bad.status.code(), Some(65));
    // Links now carry the portal.
    let json = ok(run(&["issuer", "example", "vaccination"]));
    let out = propusk_with(
        &[
            "issuer",
            "issue",
            "--dir",
            s(&dir),
            "--input",
            "-",
            "--link",
        ],
        &json,
        &[PASS],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("https://portal.example/c/"));

    let rotated = run(&["issuer", "key", "rotate", "--dir", s(&dir)]);
    assert!(String::from_utf8_lossy(&rotated.stderr).contains("answer \"cannot tell\""));
    ok(run(&[
        "issuer",
        "key",
        "rotate",
        "--announce",
        "--dir",
        s(&dir),
    ]));
    // Announced but never published: no verifier knows it.
    let rotated = run(&["issuer", "key", "rotate", "--dir", s(&dir)]);
    let said = String::from_utf8_lossy(&rotated.stderr);
    assert!(
        said.contains("was never published") && said.contains("publish now"),
        "{said}"
    );
    // Announced, published, and rotated at once: verifiers that have not synced since cannot
    // tell, and the words say until when.
    ok(run(&[
        "issuer",
        "key",
        "rotate",
        "--announce",
        "--dir",
        s(&dir),
    ]));
    let usb = dir.with_extension("usb");
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&usb),
    ]));
    let rotated = run(&["issuer", "key", "rotate", "--dir", s(&dir)]);
    let said = String::from_utf8_lossy(&rotated.stderr);
    assert!(
        said.contains("was first published") && said.contains("has it by"),
        "{said}"
    );
    // Announced, published, and rotated once the freshness window has passed: no warning.
    let announced = ok(run(&[
        "issuer",
        "key",
        "rotate",
        "--announce",
        "--dir",
        s(&dir),
    ]));
    assert!(announced.contains("next: publish now"), "{announced}");
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&usb),
    ]));
    let later = common::days_ago(-4);
    let rotated = run(&["issuer", "key", "rotate", "--dir", s(&dir), "--at", &later]);
    assert!(
        !String::from_utf8_lossy(&rotated.stderr).contains("warning"),
        "announced, published, verifiers synced: {}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("next: publish now"));

    let log: serde_json::Value =
        serde_json::from_str(&ok(run(&["issuer", "audit", "--dir", s(&dir), "--json"]))).unwrap();
    let ops: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert!(ops.contains(&"config") && ops.contains(&"init"), "{ops:?}");
    let words = ok(run(&["issuer", "audit", "--dir", s(&dir)]));
    assert!(
        words.contains("portal URL https://portal.example") && words.contains("(Moscow)"),
        "{words}"
    );
}

/// File errors name the file in words, without the operating system's error numbers; a bad
/// EU certificate file is named.
#[test]
fn file_errors_name_the_file_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    ok(run(&["issuer", "init", "--dir", s(&dir)]));
    let junk = tmp.path().join("junk.der");
    std::fs::write(&junk, b"junk").unwrap();
    let out = run(&[
        "issuer",
        "eu-import",
        "--dir",
        s(&dir),
        "--country",
        "DE",
        s(&junk),
    ]);
    assert_eq!(out.status.code(), Some(65));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("junk.der") && said.contains("not an X.509"),
        "{said}"
    );
    let out = run(&[
        "issuer",
        "issue",
        "--dir",
        s(&dir),
        "--input",
        s(&tmp.path().join("nofile.json")),
    ]);
    assert_eq!(out.status.code(), Some(66));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("nofile.json: no such file or directory") && !said.contains("os error"),
        "{said}"
    );
    let out = run(&["issuer", "init", "--dir", "/proc/no/such/place"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("os error"));
}
