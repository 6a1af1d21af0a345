//! The wallet through the binary: add from text, image, offline link and a portal link served by
//! the real server; one copy of each; list grouped by person; show as PNG read back from pixels;
//! best with the verifier's engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{PASS, issue_json, propusk_with, s, start_server};

fn ok(args: &[&str]) -> String {
    let out = propusk_with(args, "", &[PASS]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const HOLDER: &str = r#""holder": {"family_name": "Иванов", "given_name": "Иван", "birth_date": "1980-05-12", "document": {"kind": "passport", "number": "4510 123789"}}"#;

#[test]
fn add_list_show_and_best() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, wallet, usb) = (
        tmp.path().join("issuer"),
        tmp.path().join("wallet"),
        tmp.path().join("usb"),
    );
    ok(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--url",
        "http://127.0.0.1:9",
        "--at",
        "2021-06-01T00:00:00Z",
    ]);
    let vaccination = issue_json(
        &dir,
        &format!(
            r#"{{"type": "vaccination", {HOLDER}, "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "2021-06-01", "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}}}"#
        ),
        "2021-06-02T10:00:00Z",
        &[],
    );
    let png = tmp.path().join("test.png");
    let test = issue_json(
        &dir,
        &format!(
            r#"{{"type": "test", {HOLDER}, "test": {{"kind": "pcr", "sampled_at": "2021-11-20T09:00:00+03:00", "result": "negative", "center": "Гемотест", "country": "RU"}}}}"#
        ),
        "2021-11-20T12:00:00Z",
        &["--png", s(&png)],
    );
    let later = issue_json(
        &dir,
        &format!(
            r#"{{"type": "exemption", {HOLDER}, "exemption": {{"valid_from": "2021-12-01", "valid_until": "2021-12-31", "country": "RU"}}}}"#
        ),
        "2021-11-20T12:00:00Z",
        &["--link"],
    );
    let other = issue_json(
        &dir,
        r#"{"type": "recovery", "holder": {"family_name": "Петрова", "given_name": "Анна", "birth_date": "1975", "document": {"kind": "passport", "number": "4511 654321"}}, "recovery": {"first_positive": "2021-10-04", "country": "RU", "administered_by": "ГКБ № 40"}}"#,
        "2021-10-20T12:00:00Z",
        &[],
    );
    ok(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&usb),
        "--at",
        "2021-11-20T13:00:00Z",
    ]);

    let w = s(&wallet);
    // Without trust data the signature is not checked; it is a warning, not a refusal.
    // The credential carries initials only: the holder notes the name for the whole wallet.
    assert!(
        ok(&[
            "wallet",
            "--dir",
            w,
            "add",
            &vaccination,
            "--name",
            "Иванов Иван"
        ])
        .contains("signature: not checked")
    );
    ok(&[
        "wallet",
        "--dir",
        w,
        "trust",
        "--root",
        s(&dir.join("root.pub")),
        "--from",
        s(&usb),
    ]);
    assert!(ok(&["wallet", "--dir", w, "add", &vaccination]).starts_with("already in the wallet"));
    assert_eq!(propusk_qr::read_qr_file(&png).unwrap(), test);
    assert!(ok(&["wallet", "--dir", w, "add", "--image", s(&png)]).contains("signature: verified"));
    assert!(ok(&["wallet", "--dir", w, "add", "--link", &later]).starts_with("added exemption"));
    // Added now (years later), it has expired: the wallet keeps it and warns.
    let added = propusk_with(
        &[
            "wallet",
            "--dir",
            w,
            "add",
            &other,
            "--name",
            "Петрова Анна",
        ],
        "",
        &[],
    );
    assert_eq!(added.status.code(), Some(0));
    let warned = String::from_utf8_lossy(&added.stderr);
    assert!(
        warned.contains("a verifier would refuse") && warned.contains("expired"),
        "{warned}"
    );
    let refused = propusk_with(&["wallet", "--dir", w, "add", "HC1:NOTOURS"], "", &[]);
    assert_eq!(refused.status.code(), Some(65));

    // Grouped by person, judged by the rules.
    let at = "2021-11-21T12:00:00Z";
    let list: serde_json::Value =
        serde_json::from_str(&ok(&["wallet", "--dir", w, "list", "--json", "--at", at])).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    let people: std::collections::BTreeSet<&str> =
        list.iter().map(|e| e["person"].as_str().unwrap()).collect();
    assert_eq!(people.len(), 2);
    let by_type = |t: &str| list.iter().find(|e| e["type"] == t).unwrap().clone();
    assert_eq!(by_type("test")["verdict"], "valid");
    assert_eq!(
        (
            by_type("test")["expiring_soon"].as_bool(),
            by_type("vaccination")["expiring_soon"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(by_type("exemption")["reason"], "not_yet_valid");
    assert_eq!(
        by_type("vaccination")["valid_until"],
        "2022-05-31T21:00:00Z"
    );
    // In words: the holder's own full name, local times with the zone named, Russian words.
    let words = ok(&["wallet", "--dir", w, "--lang", "ru", "list", "--at", at]);
    assert!(words.contains("Иванов Иван, 12.05.1980"), "{words}");
    assert!(
        words.contains("вакцинация") && words.contains("действителен до 01.06.2022 00:00 МСК"),
        "{words}"
    );
    assert!(
        !words.contains("T21:00") && !words.contains("valid"),
        "{words}"
    );
    // Numbered, so that `show` and `export` can take a number; an id's beginning or `best` too,
    // and --dir may come after the subcommand.
    let numbered = ok(&["wallet", "list", "--dir", w, "--at", at]);
    assert!(
        numbered.contains("  1.  ") && numbered.contains("  4.  "),
        "{numbered}"
    );
    let id_of = |n: usize| {
        numbered
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{n}.")))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .to_owned()
    };
    let svg_of = |which: &str| {
        propusk_with(
            &[
                "wallet", "show", which, "--qr", "svg", "--dir", w, "--at", at,
            ],
            "",
            &[],
        )
        .stdout
    };
    let third = id_of(3);
    assert_eq!(svg_of("3"), svg_of(&third));
    assert_eq!(svg_of(&third[..6].to_lowercase()), svg_of(&third));
    assert!(!svg_of("best").is_empty());
    let out = propusk_with(&["wallet", "show", "99", "--dir", w], "", &[]);
    assert_eq!(out.status.code(), Some(65));
    // One person's best in a family wallet.
    let petrova: serde_json::Value = serde_json::from_str(&ok(&[
        "wallet",
        "--dir",
        w,
        "best",
        "--person",
        "петрова",
        "--json",
        "--at",
        at,
    ]))
    .unwrap();
    assert_eq!(petrova["type"], "recovery");
    // The terminal QR has a caption with the switch for a light terminal.
    let drawn = ok(&["wallet", "--dir", w, "show", "1"]);
    assert!(
        drawn
            .trim_end()
            .lines()
            .last()
            .unwrap_or("")
            .contains("--light-terminal")
    );

    // Best now: the vaccination (valid longest); the exemption that is not valid yet does not
    // displace it.
    let best: serde_json::Value =
        serde_json::from_str(&ok(&["wallet", "--dir", w, "best", "--json", "--at", at])).unwrap();
    assert_eq!(best["type"], "vaccination");
    // In the exemption's window both are valid; the vaccination is valid longer.
    let best: serde_json::Value = serde_json::from_str(&ok(&[
        "wallet",
        "--dir",
        w,
        "best",
        "--json",
        "--at",
        "2021-12-05T12:00:00Z",
    ]))
    .unwrap();
    assert_eq!(best["type"], "vaccination");
    // Once the wallet's trust data is past its hard expiry it vouches for nothing: the wallet
    // still picks by the credentials' own dates, says so and how old its data is (exit 2).
    let best_at = |at: &str| {
        propusk_with(
            &["wallet", "--dir", w, "--lang", "en", "best", "--at", at],
            "",
            &[],
        )
    };
    let old = best_at("2021-12-25T12:00:00Z");
    assert_eq!(old.status.code(), Some(2));
    let words = String::from_utf8_lossy(&old.stdout);
    assert!(
        words.contains("show this one: vaccination")
            && words.contains("days old, too old to vouch for it"),
        "{words}"
    );
    // When even their own dates allow none: exit 1 and every reason, in words.
    let none = best_at("2023-01-01T12:00:00Z");
    assert_eq!(none.status.code(), Some(1));
    let words = String::from_utf8_lossy(&none.stdout);
    assert!(
        words.contains("no credential would be accepted now")
            && words.contains("trust data too old"),
        "{words}"
    );

    // Show as PNG: the pixels decode to the stored credential.
    let id = by_type("vaccination")["id"].as_str().unwrap().to_owned();
    let shown = tmp.path().join("shown.png");
    ok(&[
        "wallet",
        "--dir",
        w,
        "show",
        &id,
        "--qr",
        "png",
        "--out",
        s(&shown),
    ]);
    assert_eq!(propusk_qr::read_qr_file(&shown).unwrap(), vaccination);
    assert!(ok(&["wallet", "--dir", w, "show", &id]).contains('█'));

    // The printable certificate: a valid PDF, its text layer holds the holder's name, and its QR,
    // rasterised, decodes to the credential.
    let pdf = tmp.path().join("certificate.pdf");
    ok(&["wallet", "--dir", w, "export", &id, "--pdf", s(&pdf)]);
    let bytes = std::fs::read(&pdf).unwrap();
    // Only the glyphs used are embedded, everything deflated.
    assert!(bytes.len() <= 100_000, "{} bytes", bytes.len());
    // The PDF reads back: a wallet adds the credential from the PDF's QR code.
    let other_wallet = tmp.path().join("from-pdf");
    let added = ok(&["wallet", "--dir", s(&other_wallet), "add", "--pdf", s(&pdf)]);
    assert!(added.contains(&id), "{added}");
    // With the name the certificate prints, kept as that wallet's note too.
    let listed: serde_json::Value = serde_json::from_str(&ok(&[
        "wallet",
        "--dir",
        s(&other_wallet),
        "list",
        "--json",
    ]))
    .unwrap();
    assert_eq!(listed[0]["name"], "Иванов Иван", "{listed}");
    let tail = String::from_utf8_lossy(&bytes[bytes.len() - 8..]).into_owned();
    assert!(
        bytes.starts_with(b"%PDF-") && tail.trim_end().ends_with("%%EOF"),
        "not a PDF: {tail:?}"
    );
    if which("pdftotext") && which("pdftoppm") {
        let text = std::process::Command::new("pdftotext")
            .args([s(&pdf), "-"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains("Иванов Иван")
                && text.contains("IVANOV IVAN")
                && text.contains("Vaccination certificate")
                && text.contains("01.06.2022 00:00 МСК / 1 Jun 2022 00:00 (Moscow)")
                && text.contains("Россия / Russian Federation")
                && text.contains("Гам-КОВИД-Вак (Спутник V)"),
            "{text}"
        );
        let prefix = tmp.path().join("page");
        let raster = std::process::Command::new("pdftoppm")
            .args(["-r", "150", "-png", "-singlefile", s(&pdf), s(&prefix)])
            .status()
            .unwrap();
        assert!(raster.success());
        assert_eq!(
            propusk_qr::read_qr_file(&tmp.path().join("page.png")).unwrap(),
            vaccination
        );
    } else {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "PROPUSK_REQUIRE_TOOLS is set but poppler-utils is missing"
        );
        eprintln!(
            "no pdftotext/pdftoppm here: the PDF's text and QR were not checked (apt-get install poppler-utils)"
        );
    }

    // A portal short link, fetched from the real server.
    let fresh = tempfile::tempdir().unwrap();
    let (_server, url) = start_server(&dir, &[PASS]);
    let short = format!("{url}/c/{id}");
    let added = ok(&["wallet", "--dir", s(fresh.path()), "add", "--link", &short]);
    assert!(added.starts_with("added vaccination"), "{added}");
}

fn which(tool: &str) -> bool {
    std::process::Command::new(tool).arg("-v").output().is_ok()
}

/// A mistyped `--dir` for a command that reads the wallet says there is no wallet there and
/// creates nothing.
#[test]
fn reading_a_wallet_that_is_not_there_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("walet");
    for command in [&["list"][..], &["best"], &["show", "X"]] {
        let mut args = vec!["wallet", "--dir", s(&dir)];
        args.extend_from_slice(command);
        let out = propusk_with(&args, "", &[]);
        assert_eq!(out.status.code(), Some(78), "{command:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no wallet in"));
        assert!(!dir.exists(), "{command:?} created the wallet");
    }
}
