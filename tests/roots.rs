//! Several issuers in one verifier, end to end through the binary: two real issuers (RU and
//! BY), a verifier pinned to RU that trusts BY besides, revocations of each, `trust list`,
//! `trust remove`, and a sync without a source that syncs both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod common;
use common::{issue_json, json_lines, ok, propusk_with, run, s};

fn vaccination(family: &str, country: &str) -> String {
    format!(
        r#"{{"type": "vaccination",
 "holder": {{"family_name": "{family}", "given_name": "Иван", "patronymic": "Иванович",
            "birth_date": "1980-05-12", "document": {{"kind": "passport", "number": "4510 123789"}}}},
 "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "2021-06-01",
                 "country": "{country}", "administered_by": "Поликлиника № 2"}}}}"#
    )
}

/// An issuer in `dir` for `country`, one credential issued, published to `out`; returns the
/// credential text.
fn issuer(dir: &Path, out: &Path, country: &str, name: &str, family: &str) -> String {
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(dir),
        "--name",
        name,
        "--country",
        country,
        "--url",
        "https://portal.example",
        "--at",
        "2021-06-01T08:00:00Z",
    ]));
    let text = issue_json(
        dir,
        &vaccination(family, country),
        "2021-06-02T10:00:00Z",
        &[],
    );
    publish(dir, out, "2021-06-02T15:00:00Z");
    text
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

fn revoke(dir: &Path, text: &str, at: &str) {
    let id = json_lines(&propusk_with(&["decode", "--json", text], "", &[]))[0]["credential"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(run(&["issuer", "revoke", "--dir", s(dir), &id, "--at", at]));
}

/// `verify --json` of one credential: the whole JSON object.
fn check(store: &Path, text: &str, at: &str) -> serde_json::Value {
    json_lines(&propusk_with(
        &["verify", "--store", s(store), "--json", "--at", at, text],
        "",
        &[],
    ))
    .remove(0)
}

#[test]
fn one_verifier_trusts_two_issuers() {
    let tmp = tempfile::tempdir().unwrap();
    let (ru, by) = (tmp.path().join("ru"), tmp.path().join("by"));
    let (ru_out, by_out) = (tmp.path().join("ru-out"), tmp.path().join("by-out"));
    let store = tmp.path().join("verifier");
    let ru_text = issuer(&ru, &ru_out, "RU", "Минздрав России", "Иванов");
    let by_text = issuer(&by, &by_out, "BY", "Минздрав Беларуси", "Петров");
    let at = "2021-06-03T12:00:00Z";

    ok(run(&[
        "verifier",
        "init",
        "--store",
        s(&store),
        "--root",
        s(&ru.join("root.pub")),
    ]));
    ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(&store),
        "--from",
        s(&ru_out),
        "--at",
        at,
    ]));
    // Before BY is trusted, its credentials are of an issuer this store does not trust (RU's
    // data was made after the credential: a key of RU's would be in it), and the words say
    // how to trust it, not to sync.
    assert_eq!(check(&store, &by_text, at)["reason"], "untrusted_issuer");
    let words = run(&["verify", "--store", s(&store), "--at", at, &by_text]);
    assert_eq!(words.status.code(), Some(2));
    let said = String::from_utf8_lossy(&words.stdout);
    assert!(said.contains("does not trust"), "{said}");
    let hint = String::from_utf8_lossy(&words.stderr);
    assert!(hint.contains("propusk verifier trust add"), "{hint}");

    // Adding BY with RU's published files is refused (not signed by BY's root), and leaves
    // nothing trusted.
    let wrong = run(&[
        "verifier",
        "trust",
        "add",
        "--store",
        s(&store),
        "--root",
        s(&by.join("root.pub")),
        "--from",
        s(&ru_out),
        "--at",
        at,
    ]);
    assert_eq!(wrong.status.code(), Some(65), "{wrong:?}");
    let list = |store: &Path| -> serde_json::Value {
        serde_json::from_str(&ok(run(&[
            "verifier",
            "trust",
            "list",
            "--store",
            s(store),
            "--json",
            "--at",
            at,
        ])))
        .unwrap()
    };
    assert_eq!(list(&store).as_array().unwrap().len(), 1);

    let added = ok(run(&[
        "verifier",
        "trust",
        "add",
        "--store",
        s(&store),
        "--root",
        s(&by.join("root.pub")),
        "--from",
        s(&by_out),
        "--name",
        "Belarus",
        "--at",
        at,
    ]));
    assert!(added.contains("Belarus"), "{added}");
    let again = run(&[
        "verifier",
        "trust",
        "add",
        "--store",
        s(&store),
        "--root",
        s(&by.join("root.pub")),
        "--from",
        s(&by_out),
        "--at",
        at,
    ]);
    assert_eq!(again.status.code(), Some(64), "trusted already");

    let roots = list(&store);
    assert_eq!(roots.as_array().unwrap().len(), 2);
    assert_eq!(roots[0]["home"], true);
    assert_eq!(roots[0]["jurisdiction"], "RU");
    assert_eq!(roots[1]["home"], false);
    assert_eq!(roots[1]["name"], "Belarus");
    assert_eq!(roots[1]["jurisdiction"], "BY");
    assert_eq!(roots[1]["sequence"], 1);
    let by_root_id = roots[1]["root_key_id"].as_str().unwrap().to_owned();

    // Both valid, each naming its issuer.
    let (r, b) = (check(&store, &ru_text, at), check(&store, &by_text, at));
    assert_eq!(
        (&r["verdict"], &b["verdict"]),
        (&"valid".into(), &"valid".into())
    );
    assert_eq!(r["issuer"]["country"], "RU");
    assert_eq!(r["issuer"]["name"], "Минздрав России");
    assert_eq!(b["issuer"]["country"], "BY");
    assert_eq!(b["issuer"]["name"], "Минздрав Беларуси");
    let words = ok(propusk_with(
        &["verify", "--store", s(&store), "--at", at, &by_text],
        "",
        &[],
    ));
    assert!(
        words.contains("issuer: Минздрав Беларуси (Belarus)"),
        "{words}"
    );

    // RU revokes its credential and publishes; BY publishes anew. A sync without a source
    // syncs both, each from where it was added from.
    revoke(&ru, &ru_text, "2021-06-03T13:00:00Z");
    publish(&ru, &ru_out, "2021-06-03T13:05:00Z");
    publish(&by, &by_out, "2021-06-03T13:05:00Z");
    let later = "2021-06-03T14:00:00Z";
    let synced = ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(&store),
        "--at",
        later,
    ]));
    assert!(synced.contains("sequence 1 → 2"), "{synced}");
    assert!(synced.contains("Belarus"), "{synced}");
    assert_eq!(check(&store, &ru_text, later)["reason"], "revoked");
    assert_eq!(check(&store, &by_text, later)["verdict"], "valid");

    // BY revokes its own: RU's revocation set is not BY's, nor the other way round.
    revoke(&by, &by_text, "2021-06-03T15:00:00Z");
    publish(&by, &by_out, "2021-06-03T15:05:00Z");
    let latest = "2021-06-03T16:00:00Z";
    ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(&store),
        "--at",
        latest,
    ]));
    assert_eq!(check(&store, &by_text, latest)["reason"], "revoked");
    assert_eq!(list(&store)[1]["sequence"], 3);

    // One root's source failing does not stop the other's sync; the exit says it failed.
    std::fs::rename(&by_out, tmp.path().join("gone")).unwrap();
    publish(&ru, &ru_out, "2021-06-03T16:05:00Z");
    let partly = run(&[
        "verifier",
        "sync",
        "--store",
        s(&store),
        "--at",
        "2021-06-03T16:10:00Z",
    ]);
    assert_eq!(partly.status.code(), Some(74), "{partly:?}");
    assert!(String::from_utf8_lossy(&partly.stderr).contains("Belarus"));
    assert_eq!(list(&store)[0]["sequence"], 3, "RU synced all the same");

    // After removal, BY's credentials are of an unknown key again; RU's own root stays.
    let home_id = list(&store)[0]["root_key_id"].as_str().unwrap().to_owned();
    let refused = run(&[
        "verifier",
        "trust",
        "remove",
        "--store",
        s(&store),
        &home_id,
    ]);
    assert_eq!(refused.status.code(), Some(64));
    ok(run(&[
        "verifier",
        "trust",
        "remove",
        "--store",
        s(&store),
        &by_root_id,
    ]));
    assert_eq!(
        check(&store, &by_text, latest)["reason"],
        "untrusted_issuer"
    );
    assert_eq!(list(&store).as_array().unwrap().len(), 1);
    let left = std::fs::read_dir(store.join("roots")).unwrap().count();
    assert_eq!(left, 0, "the removed root's store is deleted");
}

/// A traveller's wallet trusts its own issuer (RU) and, before a trip, another (BY): the BY
/// credential it holds is checked with BY's keys, and `trip --to BY` is judged by BY's rules
/// and door policies (issue 25, part 4), `--to RU` by the home ones; a door policy BY does not
/// have is a usage mistake; forgetting BY's root makes BY unknown again.
#[test]
fn a_wallet_judges_a_trip_by_another_trusted_issuers_rules_and_policies() {
    let tmp = tempfile::tempdir().unwrap();
    let (ru, by) = (tmp.path().join("ru"), tmp.path().join("by"));
    let (ru_out, by_out) = (tmp.path().join("ru-out"), tmp.path().join("by-out"));
    let vaccination = issuer(&ru, &ru_out, "RU", "Минздрав России", "Иванов");
    let by_text = issuer(&by, &by_out, "BY", "Минздрав Беларуси", "Иванов");
    let at = "2021-06-03T12:00:00Z";
    let exemption = issue_json(
        &ru,
        &ok(run(&["issuer", "example", "exemption", "--at", at])),
        "2021-06-02T11:00:00Z",
        &[],
    );
    common::set_policies(
        &ru,
        serde_json::json!([{"name": "qr-regime", "admit": [["vaccination"], ["exemption", "test"]]}]),
        Some("2021-06-02T12:00:00Z"),
    );
    publish(&ru, &ru_out, "2021-06-02T16:00:00Z");
    // BY counts only Comirnaty, or an exemption with a test.
    common::set_policies(
        &by,
        serde_json::json!([{"name": "entry", "admit": [["vaccination"], ["exemption", "test"]],
                            "products": ["EU/1/20/1528"]}]),
        Some("2021-06-02T12:00:00Z"),
    );
    publish(&by, &by_out, "2021-06-02T16:00:00Z");

    let wallet = tmp.path().join("wallet");
    let w = |args: &[&str]| {
        let mut all = vec!["wallet", "--dir", s(&wallet), "--at", at];
        all.extend_from_slice(args);
        run(&all)
    };
    let trust = |root: &Path, out: &Path| {
        ok(w(&[
            "trust",
            "--root",
            s(&root.join("root.pub")),
            "--from",
            s(out),
        ]))
    };
    trust(&ru, &ru_out);
    // The credentials carry initials only: the holder notes the name once, for all of them.
    ok(w(&["add", &vaccination, "--name", "Иванов Иван Иванович"]));
    ok(w(&["add", &exemption]));
    // Before BY is trusted: no rules known there.
    let trip = |args: &[&str]| {
        let mut all = vec!["trip", "--on", "2021-06-03"];
        all.extend_from_slice(args);
        let out = w(&all);
        (out.status.code(), out)
    };
    let (code, out) = trip(&["--to", "BY"]);
    assert_eq!(code, Some(2), "{out:?}");
    // A BY credential is not verified by RU's keys…
    let added = ok(w(&["add", &by_text]));
    assert!(added.contains("warning"), "{added}");

    trust(&by, &by_out);
    let roots: serde_json::Value =
        serde_json::from_str(&ok(w(&["trust", "--list", "--json"]))).unwrap();
    assert_eq!(roots.as_array().map(Vec::len), Some(2), "{roots}");
    assert_eq!(
        (&roots[0]["jurisdiction"], &roots[0]["home"]),
        (&"RU".into(), &true.into())
    );
    assert_eq!(
        (&roots[1]["jurisdiction"], &roots[1]["home"]),
        (&"BY".into(), &false.into())
    );
    // …and is, now BY is trusted: valid in the list (RU's rules, BY's keys).
    let list: serde_json::Value = serde_json::from_str(&ok(w(&["list", "--json"]))).unwrap();
    let by_id =
        json_lines(&propusk_with(&["decode", "--json", &by_text], "", &[]))[0]["credential"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == by_id.as_str())
        .unwrap();
    assert_eq!(entry["verdict"], "valid", "{entry}");

    // BY's rules judge, and its door policy is applied to what the holder has: the Sputnik-V
    // vaccinations do not count there, the exemption needs a test.
    let (code, out) = trip(&["--to", "BY", "--lang", "ru"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("правило входа entry"), "{said}");
    assert!(said.contains("не пропустят: нужен также"), "{said}");
    let (code, out) = trip(&["--to", "BY", "--json"]);
    assert_eq!(code, Some(0), "by the rules alone one is valid: {out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&v["rules"], &v["home"]),
        (&"propusk".into(), &false.into()),
        "{v}"
    );
    let entry = &v["policies"][0];
    assert_eq!(entry["name"], "entry", "{v}");
    assert_eq!(entry["admitted"], false, "{v}");
    assert_eq!(entry["needs"], serde_json::json!(["test"]), "{v}");
    let refused = entry["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 2, "both vaccinations: {v}");
    assert!(
        refused.iter().all(|r| r["why"]
            .as_str()
            .unwrap()
            .contains("vaccine product does not count")),
        "{v}"
    );
    // Named, the policy decides: exit 1, the exemption incomplete, in words.
    let (code, out) = trip(&["--to", "BY", "--policy", "entry", "--lang", "en"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("and door policy entry"), "{said}");
    assert!(said.contains("door policy entry (Иванов"), "{said}");
    assert!(said.contains("not admitted: needs also"), "{said}");
    assert!(said.contains("does not count here"), "{said}");
    assert!(!said.contains("show there"), "{said}");
    let (code, out) = trip(&["--to", "BY", "--policy", "qr-regime"]);
    assert_eq!(code, Some(64), "BY has no such policy: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("entry"),
        "{out:?}"
    );

    // At home: RU's rules and policies, which admit the vaccination.
    let (code, out) = trip(&["--to", "RU", "--policy", "qr-regime", "--json"]);
    assert_eq!(code, Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["home"], true, "{v}");
    assert_eq!(v["policy"], "qr-regime", "{v}");
    assert!(
        v["policies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["admitted"] == true),
        "{v}"
    );
    assert!(v["show"].is_string(), "{v}");

    // Forgetting BY's root: BY unknown again; RU stays the wallet's own.
    let by_root = roots[1]["root_key_id"].as_str().unwrap();
    let gone = ok(w(&["trust", "--remove", &by_root[..8], "--lang", "en"]));
    assert!(gone.contains("BY"), "{gone}");
    assert_eq!(trip(&["--to", "BY"]).0, Some(2));
    assert_eq!(
        w(&["trust", "--remove", "ffffffff"]).status.code(),
        Some(78)
    );
}
