//! EU Digital COVID Certificates through `propusk verify --trust-cert`: the real EU vectors of
//! `../shared/vectors/eu-dcc/`, as text and as the QR image they ship, at their validation clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use base64::Engine;
use serde_json::Value;

mod common;
use common::{json_lines, propusk};

fn vector(path: &str) -> Option<Value> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/vectors/eu-dcc")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()
}

/// `propusk verify --trust-cert CERT --json --at AT TEXT`.
fn verify_with(cert: &str, at: &str, text: &str) -> std::process::Output {
    propusk(
        &["verify", "--trust-cert", cert, "--json", "--at", at, text],
        "",
    )
}

#[test]
fn eu_certificates_verify_against_their_signers() {
    let Some(de) = vector("DE/2DCode/raw/1.json") else {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "the EU vectors are missing from ../shared/vectors"
        );
        eprintln!("no ../shared/vectors/eu-dcc here: the EU test did not run");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = tmp.path().join("de.der");
    std::fs::write(
        &cert,
        b64.decode(de["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let clock = de["TESTCTX"]["VALIDATIONCLOCK"].as_str().unwrap();
    let text = de["PREFIX"].as_str().unwrap();
    let cert = cert.to_str().unwrap();

    let out = verify_with(cert, clock, text);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = &json_lines(&out)[0];
    assert_eq!(
        (v["verdict"].as_str(), v["type"].as_str()),
        (Some("valid"), Some("vaccination"))
    );
    assert_eq!(v["holder"]["initials"], "M. E.");
    let product =
        propusk_eudcc::valuesets::vaccine_product(de["JSON"]["v"][0]["mp"].as_str().unwrap())
            .unwrap();
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{product}, dose")),
        "{v}"
    );
    let words = propusk(&["verify", "--trust-cert", cert, "--at", clock, text], "");
    let shown = String::from_utf8_lossy(&words.stdout);
    assert!(shown.contains("Germany"), "{shown}");
    // Checked against a signer certificate alone: no rules, no revocation list, and it says so.
    assert!(
        shown
            .lines()
            .next()
            .unwrap_or("")
            .contains("signature only"),
        "{shown}"
    );
    let words = propusk(
        &[
            "verify",
            "--trust-cert",
            cert,
            "--lang",
            "ru",
            "--at",
            clock,
            text,
        ],
        "",
    );
    let shown = String::from_utf8_lossy(&words.stdout);
    assert!(
        shown.contains("Германия") && shown.contains("только подпись"),
        "{shown}"
    );
    assert_eq!(v["holder"]["birth_date"], de["JSON"]["dob"]);
    assert_eq!(
        (
            v["checks"]["signature"].as_str(),
            v["checks"]["key_usage"].as_str()
        ),
        (Some("ok"), Some("ok"))
    );

    // The QR image the vector ships, read from its pixels.
    let png = tmp.path().join("de.png");
    std::fs::write(&png, b64.decode(de["2DCODE"].as_str().unwrap()).unwrap()).unwrap();
    let out = propusk(
        &[
            "verify",
            "--trust-cert",
            cert,
            "--json",
            "--at",
            clock,
            "--image",
            png.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(json_lines(&out)[0]["verdict"], "valid");

    // Another signer: unknown_key. After its expiry: expired (the signature still ok). Broken
    // text: corrupt. (Forged signatures: the vectors with EXPECTEDVERIFY false, in eudcc's test.)
    let other = vector("common/2DCode/raw/CO1.json").unwrap();
    let other_cert = tmp.path().join("other.der");
    std::fs::write(
        &other_cert,
        b64.decode(other["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let out = verify_with(other_cert.to_str().unwrap(), clock, text);
    assert_eq!(
        (out.status.code(), json_lines(&out)[0]["reason"].as_str()),
        (Some(2), Some("unknown_key"))
    );
    let out = verify_with(cert, "2030-01-01T00:00:00Z", text);
    assert_eq!(json_lines(&out)[0]["reason"], "expired");
    assert_eq!(json_lines(&out)[0]["checks"]["signature"], "ok");
    // Valid up to and including its expiry instant, expired a second later.
    let exp = json_lines(&verify_with(cert, clock, text))[0]["valid_until"]
        .as_str()
        .unwrap()
        .to_owned();
    let at_exp = verify_with(cert, &exp, text);
    assert_eq!(json_lines(&at_exp)[0]["verdict"], "valid", "{exp}");
    let after: propusk_spec::Timestamp = exp.parse().unwrap();
    let after = after.plus_seconds(1).to_string();
    let later = verify_with(cert, &after, text);
    assert_eq!(json_lines(&later)[0]["reason"], "expired");
    let out = verify_with(cert, clock, "HC1:NOT BASE45!");
    assert_eq!(json_lines(&out)[0]["reason"], "corrupt");

    // Imported by the issuer, published in the trust bundle, synced: the verifier checks the EU
    // certificate with its store alone.
    let (iss, usb, store) = (
        tmp.path().join("issuer"),
        tmp.path().join("usb"),
        tmp.path().join("store"),
    );
    let pass = [("PROPUSK_PASSPHRASE", "a passphrase of some length")];
    let run = |args: &[&str]| {
        let out = common::propusk_with(args, "", &pass);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "issuer",
        "init",
        "--dir",
        iss.to_str().unwrap(),
        "--at",
        "2021-05-01T00:00:00Z",
    ]);
    run(&[
        "issuer",
        "eu-import",
        "--dir",
        iss.to_str().unwrap(),
        "--country",
        "DE",
        cert,
    ]);
    run(&[
        "issuer",
        "publish",
        "--dir",
        iss.to_str().unwrap(),
        "--out",
        usb.to_str().unwrap(),
        "--at",
        "2021-05-30T00:00:00Z",
    ]);
    run(&[
        "verifier",
        "init",
        "--store",
        store.to_str().unwrap(),
        "--root",
        iss.join("root.pub").to_str().unwrap(),
    ]);
    run(&[
        "verifier",
        "sync",
        "--store",
        store.to_str().unwrap(),
        "--from",
        usb.to_str().unwrap(),
        "--at",
        "2021-05-30T00:00:00Z",
    ]);
    let out = propusk(
        &[
            "verify",
            "--store",
            store.to_str().unwrap(),
            "--json",
            "--at",
            clock,
            text,
        ],
        "",
    );
    assert_eq!(
        json_lines(&out)[0]["verdict"],
        "valid",
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Shown together with a Propusk credential, the EU certificate must name the same person
    // (Latin names and date of birth), as two Propusk credentials must.
    let test_for = |family: &str, latin: &str, given: &str, given_latin: &str, dob: &str| {
        let json = format!(
            r#"{{"type": "test", "holder": {{"family_name": "{family}",
                "family_name_latin": "{latin}", "given_name": "{given}",
                "given_name_latin": "{given_latin}", "birth_date": "{dob}",
                "document": {{"kind": "foreign", "number": "C01X00T47"}}}},
              "test": {{"kind": "pcr", "sampled_at": "2021-06-01T10:00:00Z",
                "result": "negative", "center": "Lab", "country": "RU"}}}}"#
        );
        let input = tmp.path().join("test.json");
        std::fs::write(&input, json).unwrap();
        let out = common::propusk_with(
            &[
                "issuer",
                "issue",
                "--dir",
                iss.to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--at",
                "2021-06-01T12:00:00Z",
            ],
            "",
            &pass,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let together = |propusk_text: &str| {
        let out = propusk(
            &[
                "verify",
                "--store",
                store.to_str().unwrap(),
                "--json",
                "--at",
                clock,
                text,
                propusk_text,
            ],
            "",
        );
        let reasons: Vec<Value> = json_lines(&out)
            .iter()
            .map(|v| v["reason"].clone())
            .collect();
        (out.status.code(), reasons)
    };
    let same = test_for("Мустерманн", "MUSTERMANN", "Эрика", "ERIKA", "1964-08-12");
    assert_eq!(together(&same), (Some(0), vec![Value::Null, Value::Null]));
    let other = test_for("Петрова", "PETROVA", "Эрика", "ERIKA", "1964-08-12");
    assert_eq!(
        together(&other),
        (
            Some(1),
            vec![
                Value::from("holder_mismatch"),
                Value::from("holder_mismatch")
            ]
        )
    );

    // Past the trust data's hard expiry (published 2021-05-30, 30 days; here 101 days later) the
    // bundle's EU signers vouch for nothing, as for Propusk's own keys: cannot tell, exit 2.
    let late = "2021-09-08T00:00:00Z";
    let out = propusk(
        &[
            "verify",
            "--store",
            store.to_str().unwrap(),
            "--json",
            "--at",
            late,
            text,
        ],
        "",
    );
    assert_eq!(
        (
            out.status.code(),
            json_lines(&out)[0]["verdict"].as_str(),
            json_lines(&out)[0]["reason"].as_str()
        ),
        (Some(2), Some("unknown"), Some("trust_data_expired")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A traveller's wallet keeps EU certificates too: added, listed with the holder's other
/// credentials, shown as a QR code.
#[test]
fn the_wallet_keeps_eu_certificates() {
    let Some(de) = vector("DE/2DCode/raw/1.json") else {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "the EU vectors are missing from ../shared/vectors"
        );
        eprintln!("no ../shared/vectors/eu-dcc here: the EU wallet test did not run");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("wallet");
    let w = w.to_str().unwrap();
    let text = de["PREFIX"].as_str().unwrap();
    let added = propusk(&["wallet", "--dir", w, "add", text], "");
    assert_eq!(
        added.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("added vaccination"));
    let again = propusk(&["wallet", "--dir", w, "add", text], "");
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("already in the wallet"));
    let list: serde_json::Value =
        serde_json::from_slice(&propusk(&["wallet", "--dir", w, "list", "--json"], "").stdout)
            .unwrap();
    let entry = &list[0];
    assert_eq!(entry["type"], "vaccination");
    assert_eq!(entry["birth_date"], de["JSON"]["dob"]);
    assert!(
        entry["name"]
            .as_str()
            .unwrap()
            .contains(de["JSON"]["nam"]["fn"].as_str().unwrap()),
        "{entry}"
    );
    let svg = propusk(&["wallet", "--dir", w, "show", "1", "--qr", "svg"], "");
    assert!(String::from_utf8_lossy(&svg.stdout).contains("<svg"));
    // An EU certificate on its own prints as its travel page (in English).
    let pdf = tmp.path().join("c.pdf");
    let exported = propusk(
        &[
            "wallet",
            "--dir",
            w,
            "export",
            "1",
            "--pdf",
            pdf.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(exported.status.code(), Some(0), "{exported:?}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    if let Ok(text) = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
    {
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("EU Digital COVID Certificate"), "{text}");
    }
}
