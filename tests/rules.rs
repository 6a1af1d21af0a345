//! The rules as the operator's data (issue 21, first part): a new version set with `issuer rules
//! set`, in force from a local day, published, synced from a directory (a USB stick) by delta,
//! and deciding at the door from that day on, with no other change; shown by `issuer rules show`
//! (its JSON what `rules set` takes) and by `verifier status`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod common;
use common::{issue_json, json_lines, ok, propusk_with, run, s};

const VACCINATION: &str = r#"{"type": "vaccination",
 "holder": {"family_name": "Иванов", "given_name": "Иван", "patronymic": "Иванович",
            "birth_date": "1980-05-12", "document": {"kind": "passport", "number": "4510 123789"}},
 "vaccination": {"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "2026-01-10",
                 "country": "RU", "administered_by": "Поликлиника № 2"}}"#;

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

fn sync(store: &Path, from: &Path, at: &str) -> String {
    ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(store),
        "--from",
        s(from),
        "--at",
        at,
    ]))
}

fn verify(store: &Path, text: &str, at: &str, lang: &str) -> (serde_json::Value, String) {
    let json = json_lines(&propusk_with(
        &["verify", "--store", s(store), "--json", "--at", at, text],
        "",
        &[],
    ))
    .remove(0);
    let words = propusk_with(
        &[
            "verify",
            "--store",
            s(store),
            "--lang",
            lang,
            "--at",
            at,
            text,
        ],
        "",
        &[],
    );
    (json, String::from_utf8_lossy(&words.stdout).into_owned())
}

#[test]
fn a_shorter_vaccination_validity_decides_from_its_first_day() {
    common::on_every_backend(
        "a_shorter_vaccination_validity_decides_from_its_first_day",
        a_shorter_vaccination_validity_decides_from_its_first_day_on,
    );
}

fn a_shorter_vaccination_validity_decides_from_its_first_day_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, usb, store) = (
        tmp.path().join("iss"),
        tmp.path().join("usb"),
        tmp.path().join("verifier"),
    );
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--at",
        "2026-06-01T08:00:00Z",
    ]));
    let text = issue_json(&dir, VACCINATION, "2026-06-02T10:00:00Z", &[]);
    common::publish_and_sync(&dir, &usb, &store, "2026-06-02T12:00:00Z");

    // The rules in force, as JSON, are what `rules set` takes: 180 days instead of 365, from
    // 1 August (local), rapid tests no longer counted.
    let shown = ok(run(&[
        "issuer",
        "rules",
        "show",
        "--dir",
        s(&dir),
        "--json",
        "--at",
        "2026-06-02T12:00:00Z",
    ]));
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["policies"], serde_json::json!([]), "{shown}");
    let mut rules = shown["rules"].clone();
    let same = tmp.path().join("same.json");
    std::fs::write(&same, shown.to_string()).unwrap();
    for rule in rules.as_array_mut().unwrap() {
        if rule["type"] == "vaccination" {
            rule["valid_days"] = 180.into();
        }
    }
    rules
        .as_array_mut()
        .unwrap()
        .retain(|r| r["kind"] != "rapid_antigen");
    let file = tmp.path().join("rules.json");
    std::fs::write(&file, rules.to_string()).unwrap();
    let set = ok(run(&[
        "issuer",
        "rules",
        "set",
        "--dir",
        s(&dir),
        "--file",
        s(&file),
        "--from",
        "2026-08-01",
        "--at",
        "2026-06-03T10:00:00Z",
    ]));
    assert!(
        set.contains("version 2") && set.contains("2026-08-01"),
        "{set}"
    );
    // Refused: a version that leaves a type without a rule, one starting before the last, and
    // one in the past; nothing recorded by them.
    let mut no_pass = rules.clone();
    no_pass
        .as_array_mut()
        .unwrap()
        .retain(|r| r["type"] != "pass");
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, no_pass.to_string()).unwrap();
    for (file, from) in [
        (&bad, "2026-09-01"),
        (&same, "2026-07-15"),
        (&same, "2026-06-01"),
    ] {
        let refused = run(&[
            "issuer",
            "rules",
            "set",
            "--dir",
            s(&dir),
            "--file",
            s(file),
            "--from",
            from,
            "--at",
            "2026-06-03T10:00:00Z",
        ]);
        assert_eq!(refused.status.code(), Some(65), "{refused:?}");
    }
    let shown = ok(run(&[
        "issuer",
        "rules",
        "show",
        "--dir",
        s(&dir),
        "--at",
        "2026-06-03T10:00:00Z",
    ]));
    assert!(
        shown.contains("in force: version 1")
            && shown.contains("scheduled: version 2, from 2026-08-01"),
        "{shown}"
    );
    assert!(!shown.contains("version 3"), "{shown}");

    // Published, and synced from the directory by delta.
    publish(&dir, &usb, "2026-07-20T10:00:00Z");
    let synced = sync(&store, &usb, "2026-07-20T10:00:00Z");
    assert!(
        synced.contains("→ 2") && synced.contains("new rules: version 2, from 1 Aug 2026"),
        "{synced}"
    );
    let status = ok(propusk_with(
        &[
            "verifier",
            "status",
            "--store",
            s(&store),
            "--json",
            "--at",
            "2026-07-20T10:00:00Z",
        ],
        "",
        &[],
    ));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let rules_state = &status["trust_data"]["rules"];
    assert_eq!(rules_state["in_force"]["version"], 1, "{status}");
    assert_eq!(rules_state["next"]["version"], 2, "{status}");
    assert_eq!(
        rules_state["next"]["effective_from"], "2026-08-01",
        "{status}"
    );

    // Valid to the last minute of 31 July in Moscow; from 1 August, expired under the new
    // rules, and the words say so.
    let (before, _) = verify(&store, &text, "2026-07-31T20:59:00Z", "en");
    assert_eq!(before["verdict"], "valid", "{before}");
    let (after, words) = verify(&store, &text, "2026-07-31T21:00:00Z", "en");
    assert_eq!(after["verdict"], "invalid", "{after}");
    assert_eq!(after["reason"], "expired", "{after}");
    assert_eq!(after["rules_since"], "2026-08-01", "{after}");
    assert!(
        words.contains("under the rules in force since 1 Aug 2026"),
        "{words}"
    );
    let (_, words) = verify(&store, &text, "2026-07-31T21:00:00Z", "ru");
    assert!(
        words.contains("по правилам, действующим с 01.08.2026"),
        "{words}"
    );
    let status = ok(propusk_with(
        &[
            "verifier",
            "status",
            "--store",
            s(&store),
            "--at",
            "2026-08-02T10:00:00Z",
        ],
        "",
        &[],
    ));
    assert!(
        status.contains("rules: version 2, in force since 1 Aug 2026"),
        "{status}"
    );
    let audit = ok(run(&["issuer", "audit", "--dir", s(&dir)]));
    assert!(
        audit.contains("rules version 2, in force from 2026-08-01"),
        "{audit}"
    );
}

/// Foreign certificates are judged by the door's rules too (issue 21, part 4): a German PCR
/// test certificate, signed by an imported document signer, sampled 10 days before the check is
/// expired at a Russian door, one sampled 10 hours before is valid until 72 hours after its
/// sampling; with only the signer's certificate (no trust data), the signature alone.
#[test]
fn a_foreign_test_certificate_is_judged_by_the_doors_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--at",
        "2026-06-01T08:00:00Z",
    ]));
    let day = 86_400;
    let at: i64 = 1_780_912_800; // 2026-06-08T10:00:00Z
    let at_text = "2026-06-08T10:00:00Z";
    let (dsc, signer) = common::german_signer(21, at);
    let file = tmp.path().join("de.der");
    std::fs::write(&file, &dsc).unwrap();
    ok(run(&[
        "issuer",
        "eu",
        "import",
        "--dir",
        s(&dir),
        "--country",
        "DE",
        s(&file),
        "--at",
        at_text,
    ]));
    let (usb, store) = (tmp.path().join("usb"), tmp.path().join("verifier"));
    common::publish_and_sync(&dir, &usb, &store, at_text);
    let test = |sampled: i64| common::german_test(&signer, sampled, at + 200 * day);
    let old = test(at - 10 * day);
    let (v, _) = verify(&store, &old, at_text, "en");
    assert_eq!(v["verdict"], "invalid", "{v}");
    assert_eq!(v["reason"], "expired", "{v}");
    assert_eq!(v["checks"]["rules"], "failed", "{v}");
    let fresh = test(at - 10 * 3600);
    let (v, words) = verify(&store, &fresh, at_text, "en");
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(v["checks"]["rules"], "ok", "{v}");
    assert_eq!(v["valid_until"], "2026-06-11T00:00:00Z", "{v}");
    assert!(words.contains("VALID"), "{words}");
    // No trust data, only the signer's certificate: the signature alone, and it says so.
    let alone = json_lines(&propusk_with(
        &[
            "verify",
            "--trust-cert",
            s(&file),
            "--json",
            "--at",
            at_text,
            &old,
        ],
        "",
        &[],
    ))
    .remove(0);
    assert_eq!(alone["checks"]["rules"], "skipped", "{alone}");
}

/// Door policies published with the rules (issue 21, parts 2 and 3): a policy admitting only the
/// vaccinated and recovered refuses a valid test; one admitting an exemption with a test answers
/// incomplete (exit 5, never valid) for the exemption alone, valid for both of one holder, not
/// valid for an exemption and a test of two people; an unknown policy is a usage error naming
/// the known ones.
#[test]
fn door_policies_decide_what_one_holder_must_show() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, usb, store) = (
        tmp.path().join("iss"),
        tmp.path().join("usb"),
        tmp.path().join("verifier"),
    );
    let at = "2026-06-02T10:00:00Z";
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--at",
        "2026-06-01T08:00:00Z",
    ]));
    let example = |kind: &str| ok(run(&["issuer", "example", kind, "--at", at]));
    let exemption = issue_json(&dir, &example("exemption"), at, &[]);
    let test = issue_json(&dir, &example("test"), at, &[]);
    let other = issue_json(&dir, &example("test").replace("Иванов", "Петров"), at, &[]);
    // Dose 2 of 2 of Sputnik-V on 1 June, judged on 2 June.
    let vaccination = issue_json(&dir, &example("vaccination"), at, &[]);
    let file = common::set_policies(
        &dir,
        serde_json::json!([
            {"name": "vaccinated-or-recovered", "admit": [["vaccination"], ["recovery"]]},
            {"name": "qr-regime", "admit": [["vaccination"], ["recovery"], ["exemption", "test"]]},
            {"name": "comirnaty-only", "admit": [["vaccination"]], "products": ["EU/1/20/1528"]},
            {"name": "boosted", "admit": [["vaccination"]], "booster_after_days": 0},
            {"name": "over-60", "admit": [["vaccination"]], "min_age_years": 60},
        ]),
        Some(at),
    );
    // Shown back exactly as set.
    assert_eq!(common::rules_json(&dir, Some(at)), file);
    common::publish_and_sync(&dir, &usb, &store, at);

    let door = |policy: &str, texts: &[&str]| {
        let mut args = vec![
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            at,
            "--policy",
            policy,
        ];
        args.extend_from_slice(texts);
        let out = propusk_with(&args, "", &[]);
        (out.status.code(), json_lines(&out))
    };
    let (code, v) = door("vaccinated-or-recovered", &[&test]);
    assert_eq!(code, Some(1), "{v:?}");
    assert_eq!(
        (v[0]["verdict"].as_str(), v[0]["reason"].as_str()),
        (Some("invalid"), Some("not_admitted"))
    );
    assert_eq!(v[0]["policy"], "vaccinated-or-recovered");
    // Products, boosters and an age below which nothing more is asked.
    for (policy, verdict) in [
        ("comirnaty-only", "invalid"),
        ("boosted", "invalid"),
        ("qr-regime", "valid"),
    ] {
        let (_, v) = door(policy, &[&vaccination]);
        assert_eq!(v[0]["verdict"], verdict, "{policy}: {v:?}");
    }
    let (code, v) = door("over-60", &[&test]);
    assert_eq!(
        (code, v[0]["verdict"].as_str()),
        (Some(0), Some("valid")),
        "{v:?}"
    );
    let (code, v) = door("qr-regime", &[&exemption]);
    assert_eq!(code, Some(5), "{v:?}");
    assert_eq!(v[0]["verdict"], "incomplete", "{v:?}");
    assert_eq!(v[0]["needs"], serde_json::json!(["test"]));
    let (code, v) = door("qr-regime", &[&exemption, &test]);
    assert_eq!(code, Some(0), "{v:?}");
    assert!(
        v.iter()
            .all(|r| r["verdict"] == "valid" && r["policy"] == "qr-regime"),
        "{v:?}"
    );
    let (code, v) = door("qr-regime", &[&exemption, &other]);
    assert_eq!(code, Some(1), "{v:?}");
    assert!(v.iter().all(|r| r["verdict"] != "valid"), "{v:?}");
    // In words, at the door.
    let words = propusk_with(
        &[
            "verify",
            "--store",
            s(&store),
            "--lang",
            "en",
            "--at",
            at,
            "--policy",
            "qr-regime",
            &exemption,
        ],
        "",
        &[],
    );
    let words = String::from_utf8_lossy(&words.stdout);
    assert!(
        words.contains("INCOMPLETE — exemption: needs also: test")
            && words.contains("door policy: qr-regime"),
        "{words}"
    );
    // Without a policy, each credential on its own, as before.
    let plain = json_lines(&propusk_with(
        &[
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            at,
            &exemption,
        ],
        "",
        &[],
    ));
    assert_eq!(plain[0]["verdict"], "valid");
    assert!(plain[0]["policy"].is_null());
    // A door keeps its choice: `verify` then judges by it without --policy.
    let policy = |args: &[&str]| {
        let mut all = vec!["verifier", "policy"];
        all.extend_from_slice(args);
        all.extend(["--store", s(&store)]);
        propusk_with(&all, "", &[])
    };
    ok(policy(&["set", "qr-regime", "--at", at]));
    let shown = ok(policy(&["show", "--at", at]));
    assert!(
        shown.contains("door policy: qr-regime")
            && shown.contains("policies in force: vaccinated-or-recovered, qr-regime, "),
        "{shown}"
    );
    let kept = propusk_with(
        &[
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            at,
            &exemption,
        ],
        "",
        &[],
    );
    assert_eq!(kept.status.code(), Some(5));
    assert_eq!(json_lines(&kept)[0]["policy"], "qr-regime");
    assert_eq!(
        policy(&["set", "nightclub", "--at", at]).status.code(),
        Some(64)
    );
    ok(policy(&["clear"]));
    let unknown = propusk_with(
        &[
            "verify",
            "--store",
            s(&store),
            "--at",
            at,
            "--policy",
            "nightclub",
            &test,
        ],
        "",
        &[],
    );
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(64), "{said}");
    assert!(
        said.contains("qr-regime") && said.contains("vaccinated-or-recovered"),
        "{said}"
    );
}
