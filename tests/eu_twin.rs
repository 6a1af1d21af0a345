//! The EU DCC twin end to end through the binary: `issuer eu init`, `issue --eu`, `eu export`,
//! an EU-style check with only the exported signer certificate, a Propusk verifier that knows
//! the signer from the trust data, revocation of the credential revoking its twin (and the EU
//! revocation hashes for a gateway), refusals, and `batch --eu`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use base64::Engine;

mod common;
use common::{json_lines, ok, propusk_with, run, s};

const AT: &str = "2026-06-02T10:00:00Z";

fn issuer(dir: &Path) {
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(dir),
        "--name",
        "Минздрав России",
        "--country",
        "RU",
        "--at",
        "2026-06-01T08:00:00Z",
    ]));
}

/// `issuer example KIND` at AT with a record id.
fn example(kind: &str, record: &str) -> String {
    let json = ok(run(&["issuer", "example", kind, "--at", AT]));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["record_id"] = record.into();
    v.to_string()
}

fn issue_eu(dir: &Path, json: &str, extra: &[&str]) -> Output {
    let input = dir.join("input.json");
    std::fs::write(&input, json).unwrap();
    let mut args = vec![
        "issuer",
        "issue",
        "--dir",
        s(dir),
        "--input",
        s(&input),
        "--at",
        AT,
        "--eu",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn verify_json(args: &[&str]) -> serde_json::Value {
    json_lines(&propusk_with(args, "", &[])).remove(0)
}

#[test]
fn the_twin_is_issued_verified_and_revoked_with_its_credential() {
    common::on_every_backend(
        "the_twin_is_issued_verified_and_revoked_with_its_credential",
        the_twin_is_issued_verified_and_revoked_with_its_credential_on,
    );
}

fn the_twin_is_issued_verified_and_revoked_with_its_credential_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    issuer(&dir);
    // Before `eu init`, --eu is a configuration mistake, and nothing is issued.
    let early = issue_eu(&dir, &example("vaccination", "V-0"), &[]);
    assert_eq!(early.status.code(), Some(78), "{early:?}");
    assert_eq!(
        run(&["issuer", "record", "--dir", s(&dir), "V-0"])
            .status
            .code(),
        Some(65)
    );

    let made = ok(run(&["issuer", "eu", "init", "--dir", s(&dir), "--at", AT]));
    assert!(
        made.contains("country signing CA") && made.contains("document signer"),
        "{made}"
    );
    let again = run(&["issuer", "eu", "init", "--dir", s(&dir), "--at", AT]);
    assert_eq!(again.status.code(), Some(78));

    let png = tmp.path().join("hc1.png");
    let out = ok(issue_eu(
        &dir,
        &example("vaccination", "V-1"),
        &["--eu-png", s(&png)],
    ));
    let lines: Vec<&str> = out.lines().collect();
    let (credential, twin) = (lines[lines.len() - 2], lines[lines.len() - 1]);
    assert!(credential.starts_with("PR2:"), "{out}");
    assert!(twin.starts_with("HC1:"), "{out}");
    // The twin's QR image decodes, from its pixels, to the twin.
    assert_eq!(propusk_qr::read_qr_file(&png).unwrap(), twin);
    // Issuing the same record again gives the same credential and twin.
    let rerun = ok(issue_eu(&dir, &example("vaccination", "V-1"), &[]));
    assert!(
        rerun.ends_with(&format!("{credential}\n{twin}\n")),
        "{rerun}"
    );

    // An EU verifier has only the exported signer certificate.
    let gateway = tmp.path().join("gateway");
    let files = ok(run(&[
        "issuer",
        "eu",
        "export",
        "--dir",
        s(&dir),
        "--out",
        s(&gateway),
    ]));
    assert!(
        files.contains("csca.pem") && files.contains("csca.der"),
        "{files}"
    );
    let dsc = std::fs::read_dir(&gateway)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "pem") && s(p).contains("dsc-"))
        .unwrap();
    let eu = verify_json(&[
        "verify",
        "--trust-cert",
        s(&dsc),
        "--json",
        "--at",
        AT,
        twin,
    ]);
    assert_eq!(eu["verdict"], "valid", "{eu}");
    assert_eq!(eu["issuer"]["country"], "RU");
    assert_eq!(eu["holder"]["birth_date"], "1980-05-12");
    // The officer's view: the name as the passport's machine-readable zone has it.
    let name = eu["holder"]["name"].as_str().unwrap();
    assert!(name.starts_with("IVANOV<<IVAN"), "{eu}");
    let words = ok(run(&["verify", "--trust-cert", s(&dsc), "--at", AT, twin]));
    assert!(
        words.contains("name as in the passport: IVANOV<<IVAN"),
        "{words}"
    );
    // `decode` reads it: masked as a door shows it, whole with --full.
    let masked = ok(run(&["decode", twin]));
    assert!(
        masked.contains("(EU DCC)") && masked.contains("born 1980-05-12"),
        "{masked}"
    );
    assert!(
        !masked.contains("IVANOV") && !masked.contains("Иванов"),
        "{masked}"
    );
    let whole = ok(run(&["decode", "--full", twin]));
    assert!(whole.contains("IVANOV<<IVAN (IVANOV IVAN)"), "{whole}");
    let decoded = json_lines(&run(&["decode", "--json", twin])).remove(0);
    assert_eq!(
        (decoded["format"].as_str(), decoded["decoded"].as_bool()),
        (Some("hc1"), Some(true))
    );
    assert!(decoded["certificate"].get("nam").is_none(), "{decoded}");
    assert_eq!(run(&["decode", "HC1:!!"]).status.code(), Some(1));
    // Tampered: one character of the twin changed is not valid.
    let mut tampered = twin.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let bad = verify_json(&[
        "verify",
        "--trust-cert",
        s(&dsc),
        "--json",
        "--at",
        AT,
        &tampered,
    ]);
    assert_ne!(bad["verdict"], "valid", "{bad}");

    // A Propusk verifier knows the signer from the trust data, and the revocation set too.
    let usb = tmp.path().join("usb");
    let store = tmp.path().join("verifier");
    common::publish_and_sync(&dir, &usb, &store, AT);
    let later = "2026-06-03T10:00:00Z";
    let both = json_lines(&propusk_with(
        &[
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            later,
            credential,
            twin,
        ],
        "",
        &[],
    ));
    assert_eq!(both[0]["verdict"], "valid", "{both:?}");
    assert_eq!(both[1]["verdict"], "valid", "{both:?}");
    assert_eq!(
        both[1]["checks"]["revocation"], "ok",
        "the twin's revocation is checked"
    );

    wallet_keeps_both_forms(tmp.path(), &dir, &usb, credential, twin);

    let id = json_lines(&propusk_with(&["decode", "--json", credential], "", &[]))[0]["credential"]
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(run(&[
        "issuer",
        "revoke",
        "--dir",
        s(&dir),
        &id,
        "--at",
        later,
    ]));
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&usb),
        "--at",
        later,
    ]));
    ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(&store),
        "--at",
        later,
    ]));
    let revoked = verify_json(&[
        "verify",
        "--store",
        s(&store),
        "--json",
        "--at",
        later,
        twin,
    ]);
    assert_eq!(revoked["verdict"], "invalid", "{revoked}");
    assert_eq!(revoked["reason"], "revoked");

    // The gateway's revocation lists: the twin under each of the three hash forms.
    let lists: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(usb.join("eu-revocations.json")).unwrap())
            .unwrap();
    let batches = lists["batches"].as_array().unwrap();
    let forms: Vec<&str> = batches
        .iter()
        .map(|b| b["hashType"].as_str().unwrap())
        .collect();
    assert_eq!(forms, ["SIGNATURE", "UCI", "COUNTRYCODEUCI"]);
    let hc1 = propusk_eudcc::decode(twin).unwrap();
    let uci = hc1.certificate["v"][0]["ci"].as_str().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    for (batch, form) in batches.iter().zip(propusk_eudcc::RevocationHash::ALL) {
        let want = b64.encode(form.of(uci, "RU", &hc1.signature));
        assert_eq!(
            batch["entries"][0]["hash"],
            want.as_str(),
            "{}",
            form.as_str()
        );
        assert_eq!(
            batch["kid"],
            b64.encode(hc1.key_id.as_deref().unwrap()).as_str()
        );
    }
}

#[test]
fn records_without_an_eu_form_are_refused_and_batches_carry_twins() {
    common::on_every_backend(
        "records_without_an_eu_form_are_refused_and_batches_carry_twins",
        records_without_an_eu_form_are_refused_and_batches_carry_twins_on,
    );
}

fn records_without_an_eu_form_are_refused_and_batches_carry_twins_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    issuer(&dir);
    ok(run(&["issuer", "eu", "init", "--dir", s(&dir), "--at", AT]));
    for kind in ["exemption", "pass"] {
        let refused = issue_eu(&dir, &example(kind, &format!("X-{kind}")), &[]);
        assert_eq!(refused.status.code(), Some(65), "{refused:?}");
        let why = String::from_utf8_lossy(&refused.stderr);
        assert!(why.contains("has no EU form"), "{why}");
        // Nothing was issued for the record.
        let record = run(&["issuer", "record", "--dir", s(&dir), &format!("X-{kind}")]);
        assert_eq!(record.status.code(), Some(65));
    }

    let registry = tmp.path().join("registry.csv");
    std::fs::write(
        &registry,
        ok(run(&["issuer", "example", "registry", "--at", AT])),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let batch = run(&[
        "issuer",
        "batch",
        "--dir",
        s(&dir),
        "--input",
        s(&registry),
        "--out",
        s(&out),
        "--at",
        AT,
        "--eu",
    ]);
    // The exemption and the pass of the example registry have no EU form: bad rows.
    assert_eq!(batch.status.code(), Some(65), "{batch:?}");
    let stderr = String::from_utf8_lossy(&batch.stderr);
    assert_eq!(stderr.matches("has no EU form").count(), 2, "{stderr}");
    let csv = std::fs::read_to_string(out.join("issued.csv")).unwrap();
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("record_id,credential_id,hc1,image,name,birth_date,document")
    );
    let rows: Vec<&str> = rows.collect();
    assert!(rows.len() >= 3, "{csv}");
    for row in &rows {
        let hc1 = row.split(',').nth(2).unwrap();
        assert!(hc1.starts_with("HC1:"), "{row}");
        assert!(propusk_eudcc::decode(hc1).is_ok(), "{row}");
    }
    let images = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".hc1.png"))
        .count();
    assert_eq!(images, rows.len());

    // Rotating the document signer: new twins under the new key id, the old ones still valid
    // for a verifier (both signer certificates are published).
    let before = rows[0].split(',').nth(2).unwrap().to_owned();
    ok(run(&[
        "issuer",
        "eu",
        "rotate",
        "--dir",
        s(&dir),
        "--at",
        AT,
    ]));
    let keys: serde_json::Value = serde_json::from_str(&ok(run(&[
        "issuer",
        "eu",
        "list",
        "--dir",
        s(&dir),
        "--json",
    ])))
    .unwrap();
    let roles: Vec<(&str, bool)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["role"].as_str().unwrap(), k["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(roles, [("csca", true), ("dsc", false), ("dsc", true)]);
    let out = ok(issue_eu(&dir, &example("test", "T-new"), &[]));
    let after = out.lines().last().unwrap();
    let kid = |t: &str| propusk_eudcc::decode(t).unwrap().key_id;
    assert_ne!(kid(&before), kid(after));
    let usb = tmp.path().join("usb");
    let store = tmp.path().join("verifier");
    common::publish_and_sync(&dir, &usb, &store, AT);
    for twin in [before.as_str(), after] {
        let v = verify_json(&["verify", "--store", s(&store), "--json", "--at", AT, twin]);
        assert_eq!(v["verdict"], "valid", "{v}");
    }
}

/// The traveller's wallet keeps the credential and its twin as one record, and its PDF has a
/// travel page in English whose QR code, rasterised, is the twin.
fn wallet_keeps_both_forms(tmp: &Path, dir: &Path, usb: &Path, credential: &str, twin: &str) {
    let wallet = tmp.join("wallet");
    let w = |args: &[&str]| {
        let mut all = vec!["wallet", "--dir", s(&wallet), "--at", AT];
        all.extend_from_slice(args);
        ok(run(&all))
    };
    w(&[
        "trust",
        "--root",
        s(&dir.join("root.pub")),
        "--from",
        s(usb),
    ]);
    w(&["add", twin]);
    w(&["add", credential]);
    let list: serde_json::Value = serde_json::from_str(&w(&["list", "--json"])).unwrap();
    let entries = list.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{list}");
    // The credential first, its twin right after it, each naming the other.
    assert_eq!(entries[0]["eu_twin"], entries[1]["id"], "{list}");
    assert_eq!(entries[1]["twin_of"], entries[0]["id"], "{list}");
    assert_eq!(entries[1]["verdict"], "valid", "{list}");
    let words = w(&["list"]);
    assert!(words.contains("EU DCC for travel"), "{words}");
    // At home the credential itself is the one to show, never its twin.
    let best: serde_json::Value = serde_json::from_str(&w(&["best", "--json"])).unwrap();
    assert_eq!(best["id"], entries[0]["id"], "{best}");

    let pdf = tmp.join("both.pdf");
    let id = entries[0]["id"].as_str().unwrap();
    w(&["export", id, "--pdf", s(&pdf)]);
    let have = |tool: &str| std::process::Command::new(tool).arg("-v").output().is_ok();
    if !(have("pdftotext") && have("pdftoppm")) {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "PROPUSK_REQUIRE_TOOLS is set but poppler-utils is missing"
        );
        eprintln!("no pdftotext/pdftoppm here: the travel page was not checked");
        return;
    }
    let text = std::process::Command::new("pdftotext")
        .args(["-f", "2", "-l", "2", s(&pdf), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("EU Digital COVID Certificate") && text.contains("URN:UVCI:01:RU:PROPUSK/"),
        "{text}"
    );
    // Rendered as a viewer or a printer driver would: at screen and print resolutions,
    // including 76 dpi, where the code's modules fall at uneven widths (missed before).
    for dpi in [72, 76, 96, 100, 110, 150] {
        let prefix = tmp.join(format!("travel-{dpi}"));
        let raster = std::process::Command::new("pdftoppm")
            .args([
                "-r",
                &dpi.to_string(),
                "-f",
                "2",
                "-l",
                "2",
                "-png",
                "-singlefile",
            ])
            .args([s(&pdf), s(&prefix)])
            .status()
            .unwrap();
        assert!(raster.success());
        let png = tmp.join(format!("travel-{dpi}.png"));
        assert_eq!(
            propusk_qr::read_qr_file(&png).ok().as_deref(),
            Some(twin),
            "the travel page at {dpi} dpi"
        );
    }
}

#[test]
fn a_signed_eu_certificate_with_any_uci_is_answered_not_a_panic() {
    use propusk_eudcc::{DocumentSigner, Hc1Type, cert};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    issuer(&dir);
    // A document signer of the issuer's own country, imported into its trust data.
    let (ca_key, key) = (
        cert::signing_key(&[7; 32]).unwrap(),
        cert::signing_key(&[9; 32]).unwrap(),
    );
    let (start, end) = (1_767_225_600 - 400 * 86_400, 1_767_225_600 + 400 * 86_400);
    let ca = cert::country_signing_ca(&ca_key, "RU", "Test", 1, start, end).unwrap();
    let dsc = cert::document_signer(&ca_key, &ca, &key, &[Hc1Type::Test], 2, start, end).unwrap();
    let file = tmp.path().join("dsc.der");
    std::fs::write(&file, &dsc).unwrap();
    ok(run(&[
        "issuer",
        "eu",
        "import",
        "--dir",
        s(&dir),
        "--country",
        "RU",
        s(&file),
        "--at",
        AT,
    ]));
    let (usb, store) = (tmp.path().join("usb"), tmp.path().join("verifier"));
    common::publish_and_sync(&dir, &usb, &store, AT);
    let signer = DocumentSigner::new(&key.to_bytes(), &dsc).unwrap();
    for ci in [
        "URN:UVCI:01:€€/X#1",
        "URN:UVCI:01:R",
        "URN:UVCI:01:",
        "",
        "URN:UVCI:01:RU:PROPUSK/€#Q",
    ] {
        let json = serde_json::json!({
            "ver": "1.3.0", "nam": {"fnt": "IVANOV"}, "dob": "1980",
            "t": [{"tg": "840539006", "tt": "LP6464-4", "sc": "2026-06-01T08:00:00Z",
                   "tr": "260415000", "tc": "Lab", "co": "RU", "is": "Test", "ci": ci}],
        });
        let signed =
            propusk_eudcc::sign(&json, "RU", 1_780_300_000, 1_780_400_000, &signer).unwrap();
        let v = verify_json(&[
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            AT,
            &signed.text,
        ]);
        assert_eq!(v["checks"]["signature"], "ok", "{ci:?}: {v}");
        assert_eq!(
            v["checks"]["revocation"], "skipped",
            "{ci:?}: not a Propusk twin"
        );
    }
}

/// Issue 25: a rapid antigen test's twin carries its device (`ma`, which the EU's TR-EU-0002
/// requires): given in the issuance JSON or the registry's `device` column, checked against the
/// EU value set, kept when the credential is signed again; refused (nothing issued) without it.
#[test]
fn a_rapid_tests_twin_names_its_device() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    issuer(&dir);
    ok(run(&["issuer", "eu", "init", "--dir", s(&dir), "--at", AT]));
    let rapid = example("test", "T-1").replace("\"pcr\"", "\"rapid_antigen\"");
    let without = issue_eu(&dir, &rapid, &[]);
    assert_eq!(without.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&without.stderr).contains("device"));
    let with_device = |device: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&rapid).unwrap();
        v["test"]["device"] = device.into();
        v.to_string()
    };
    let unknown = with_device("99999");
    assert_eq!(issue_eu(&dir, &unknown, &[]).status.code(), Some(65));
    // Nothing was issued for the refused record.
    let record = run(&["issuer", "record", "--dir", s(&dir), "T-1"]);
    assert_eq!(record.status.code(), Some(65));
    let out = ok(issue_eu(&dir, &with_device("1232"), &[]));
    let twin = out.lines().last().unwrap();
    let decoded = json_lines(&run(&["decode", "--json", twin])).remove(0);
    assert_eq!(decoded["certificate"]["t"][0]["ma"], "1232", "{decoded}");
    assert_eq!(decoded["certificate"]["t"][0]["tt"], "LP217198-3");
    // Signed again: the device stays.
    let again = ok(run(&[
        "issuer",
        "reissue",
        "--dir",
        s(&dir),
        "T-1",
        "--at",
        AT,
    ]));
    let twin = again.lines().last().unwrap();
    assert!(twin.starts_with("HC1:"), "{again}");
    let decoded = json_lines(&run(&["decode", "--json", twin])).remove(0);
    assert_eq!(decoded["certificate"]["t"][0]["ma"], "1232", "{decoded}");
}

/// Issue 25: the twin names the authority in Latin letters (`is`): its name transliterated until
/// the operator gives its English name (`issuer config --name-latin`, audited, published as
/// before); a name with other letters is refused.
#[test]
fn the_twin_names_the_authority_in_latin_letters() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    issuer(&dir);
    let init = ok(run(&["issuer", "eu", "init", "--dir", s(&dir), "--at", AT]));
    assert!(init.contains("--name-latin"), "{init}");
    let is = |record: &str| {
        let out = ok(issue_eu(&dir, &example("vaccination", record), &[]));
        let decoded =
            json_lines(&run(&["decode", "--json", out.lines().last().unwrap()])).remove(0);
        decoded["certificate"]["v"][0]["is"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(is("V-1"), "MINZDRAV ROSSII");
    let english = "Ministry of Health of the Russian Federation";
    let set = ok(run(&[
        "issuer",
        "config",
        "--dir",
        s(&dir),
        "--name-latin",
        english,
    ]));
    assert!(
        set.contains(&format!("name in EU twins: {english}")),
        "{set}"
    );
    assert_eq!(is("V-2"), english);
    let refused = run(&[
        "issuer",
        "config",
        "--dir",
        s(&dir),
        "--name-latin",
        "Минздрав",
    ]);
    assert_eq!(refused.status.code(), Some(65));
    let audit = ok(run(&["issuer", "audit", "--dir", s(&dir)]));
    assert!(audit.contains(&format!("Latin name {english}")), "{audit}");
    // The settings' proof covers the new name: publishing vouches for them.
    let usb = tmp.path().join("usb");
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(&dir),
        "--out",
        s(&usb),
        "--at",
        AT,
    ]));
}
