//! EU trust data as an EU verifier has it, imported by the operator and carried in the bundle:
//! a trust list of document signers signed by the configured anchor (a tampered one refused,
//! nothing stored), value sets, and revocation lists; a verifier then refuses offline an EU
//! certificate that a list names, and keeps one it does not name valid.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer;
use propusk_eudcc::{DocumentSigner, Hc1Type, cert};

mod common;
use common::{json_lines, ok, propusk_with, run, s};

const AT: &str = "2026-06-02T10:00:00Z";
const NOW: i64 = 1_780_394_400;
const DAY: i64 = 86_400;

/// A German CA and document signer for every type: the signer's certificate (DER) and signer.
fn german() -> (Vec<u8>, DocumentSigner) {
    let (ca_key, key) = (
        cert::signing_key(&[41; 32]).unwrap(),
        cert::signing_key(&[42; 32]).unwrap(),
    );
    let ca = cert::country_signing_ca(&ca_key, "DE", "RKI", 1, NOW - 400 * DAY, NOW + 800 * DAY)
        .unwrap();
    let types = [Hc1Type::Vaccination, Hc1Type::Test, Hc1Type::Recovery];
    let dsc = cert::document_signer(
        &ca_key,
        &ca,
        &key,
        &types,
        2,
        NOW - 400 * DAY,
        NOW + 400 * DAY,
    )
    .unwrap();
    let signer = DocumentSigner::new(&key.to_bytes(), &dsc).unwrap();
    (dsc, signer)
}

/// A German vaccination certificate with this UCI and product.
fn vaccination(signer: &DocumentSigner, uci: &str, product: &str) -> String {
    let json = serde_json::json!({
        "ver": "1.3.0", "nam": {"fn": "Mustermann", "fnt": "MUSTERMANN", "gn": "Erika",
        "gnt": "ERIKA"}, "dob": "1980-05-12",
        "v": [{"tg": "840539006", "vp": "1119349007", "mp": product, "ma": "ORG-100030215",
               "dn": 2, "sd": 2, "dt": "2026-03-01", "co": "DE", "is": "RKI", "ci": uci}],
    });
    propusk_eudcc::sign(&json, "DE", NOW - DAY, NOW + 300 * DAY, signer)
        .unwrap()
        .text
}

/// The trust anchor (a self-signed certificate) and its key.
fn anchor() -> (Vec<u8>, p256::ecdsa::SigningKey) {
    let key = cert::signing_key(&[77; 32]).unwrap();
    let der = cert::country_signing_ca(
        &key,
        "BE",
        "DCCG Trust Anchor",
        9,
        NOW - DAY,
        NOW + 900 * DAY,
    )
    .unwrap();
    (der, key)
}

/// The gateway's list of signer certificates, as JSON bytes.
fn trust_list(entries: &[(&[u8], &str)]) -> Vec<u8> {
    use sha2::Digest;
    let list: Vec<serde_json::Value> = entries
        .iter()
        .map(|(der, country)| {
            let kid = propusk_eudcc::SignerCertificate::from_der(der).unwrap();
            serde_json::json!({
                "kid": STANDARD.encode(kid.key_id()),
                "timestamp": "2026-05-01T00:00:00Z",
                "country": country,
                "certificateType": "DSC",
                "thumbprint": propusk_spec::hex::encode(&sha2::Sha256::digest(der)),
                "signature": "",
                "rawData": STANDARD.encode(der),
            })
        })
        .collect();
    serde_json::to_vec_pretty(&list).unwrap()
}

/// A Russian issuer in `tmp/iss`: its directory.
fn russian_issuer(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("iss");
    ok(run(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--name",
        "Минздрав России",
        "--country",
        "RU",
        "--at",
        "2026-06-01T08:00:00Z",
    ]));
    dir
}

fn eu(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["issuer", "eu"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--dir", s(dir), "--at", AT]);
    run(&all)
}

#[test]
fn eu_trust_data_is_imported_published_and_judged_by() {
    common::on_every_backend(
        "eu_trust_data_is_imported_published_and_judged_by",
        eu_trust_data_is_imported_published_and_judged_by_on,
    );
}

fn eu_trust_data_is_imported_published_and_judged_by_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = russian_issuer(tmp.path());
    let (dsc, signer) = german();
    let revoked = vaccination(&signer, "URN:UVCI:01:DE:REVOKED#1", "EU/1/20/1528");
    let kept = vaccination(&signer, "URN:UVCI:01:DE:KEPT#2", "EU/1/20/1528");
    let (anchor_der, anchor_key) = anchor();
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = files.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let list = trust_list(&[(&dsc, "DE")]);
    let signature: p256::ecdsa::Signature = anchor_key.sign(&list);
    let list_path = write("dsc-list.json", &list);
    let sig_path = write(
        "dsc-list.sig",
        STANDARD.encode(signature.to_der()).as_bytes(),
    );

    // Without an anchor, a trust list cannot be taken.
    let early = eu(
        &dir,
        &["trust-list", s(&list_path), "--signature", s(&sig_path)],
    );
    assert_eq!(early.status.code(), Some(65), "{early:?}");
    ok(eu(&dir, &["anchor", s(&write("anchor.der", &anchor_der))]));
    // A list changed after signing is refused, and nothing of it is stored.
    let mut forged = list.clone();
    let at = forged.iter().position(|b| *b == b'D').unwrap();
    forged[at] = b'F';
    let refused = eu(
        &dir,
        &[
            "trust-list",
            s(&write("forged.json", &forged)),
            "--signature",
            s(&sig_path),
        ],
    );
    assert_eq!(refused.status.code(), Some(65), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("signature does not verify"),
        "{refused:?}"
    );
    let listed = ok(eu(
        &dir,
        &["trust-list", s(&list_path), "--signature", s(&sig_path)],
    ));
    assert!(listed.contains("1 signers added"), "{listed}");
    // The national backends' form: the signature on the first line, the JSON after it.
    let inline = [STANDARD.encode(signature.to_der()).as_bytes(), b"\n", &list].concat();
    let again = ok(eu(&dir, &["trust-list", s(&write("dscg.txt", &inline))]));
    assert!(
        again.contains("0 signers added, 1 already there"),
        "{again}"
    );

    // Value sets: a product the compiled ones do not know is named by the imported set.
    let mut names: serde_json::Value = serde_json::from_str(include_str!(
        "../eudcc/valuesets/vaccine-medicinal-product.json"
    ))
    .unwrap();
    names["valueSetValues"]["EU/1/26/9999"] = serde_json::json!({
        "display": "Vaxzevria-2026", "lang": "en", "active": true, "system": "x", "version": ""});
    let sets = write("vaccines.json", names.to_string().as_bytes());
    ok(eu(&dir, &["value-sets", s(&sets)]));
    let bad = eu(
        &dir,
        &["value-sets", s(&write("bad.json", b"{\"valueSetId\": 3}"))],
    );
    assert_eq!(bad.status.code(), Some(65), "{bad:?}");
    let newer = vaccination(&signer, "URN:UVCI:01:DE:NEW#3", "EU/1/26/9999");

    // The revocation list: the revoked certificate's UCI hash, as a gateway batch.
    use sha2::Digest;
    let uci_hash = &sha2::Sha256::digest(b"URN:UVCI:01:DE:REVOKED#1")[..16];
    let kid = propusk_eudcc::SignerCertificate::from_der(&dsc).unwrap();
    let batch = serde_json::json!({
        "country": "DE", "kid": STANDARD.encode(kid.key_id()), "hashType": "UCI",
        "expires": "2027-06-01T00:00:00Z", "entries": [{"hash": STANDARD.encode(uci_hash)}]});
    let batch_path = write("batch.json", batch.to_string().as_bytes());
    let lists = ok(eu(&dir, &["revocations", s(&batch_path)]));
    assert!(lists.contains("1 lists, 1 hashes"), "{lists}");

    let usb = tmp.path().join("usb");
    let store = tmp.path().join("verifier");
    common::publish_and_sync(&dir, &usb, &store, AT);
    let reports = json_lines(&propusk_with(
        &[
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            AT,
            &revoked,
        ],
        "",
        &[],
    ));
    assert_eq!(reports[0]["verdict"], "invalid", "{reports:?}");
    assert_eq!(reports[0]["reason"], "revoked", "{reports:?}");
    assert_eq!(reports[0]["checks"]["revocation"], "failed");
    let fine = json_lines(&propusk_with(
        &["verify", "--store", s(&store), "--json", "--at", AT, &kept],
        "",
        &[],
    ));
    assert_eq!(fine[0]["verdict"], "valid", "{fine:?}");
    assert_eq!(fine[0]["checks"]["revocation"], "ok", "{fine:?}");
    let named = ok(run(&["verify", "--store", s(&store), "--at", AT, &newer]));
    assert!(named.contains("Vaxzevria-2026"), "{named}");

    // Imported data someone wrote into the database without the passphrase is not published.
    common::sql(
        &dir,
        "UPDATE eu_data SET body = {blob:7b7d} WHERE kind = 'valueset'",
    );
    let publish = || {
        run(&[
            "issuer",
            "publish",
            "--dir",
            s(&dir),
            "--out",
            s(&usb),
            "--at",
            AT,
        ])
    };
    let blocked = publish();
    assert_ne!(blocked.status.code(), Some(0), "{blocked:?}");
    // Nor is it proven by importing another value set beside it.
    let beside = eu(
        &dir,
        &[
            "value-sets",
            s(&write(
                "tests.json",
                include_bytes!("../eudcc/valuesets/test-type.json"),
            )),
        ],
    );
    assert_ne!(beside.status.code(), Some(0), "{beside:?}");
    let again = publish();
    assert_ne!(again.status.code(), Some(0), "{again:?}");
}

/// An EU country's rules as it publishes them: an EMA-only acceptance rule for vaccinations
/// (a Sputnik-V twin fails it), and a general one that reads the value sets.
fn german_rules() -> String {
    serde_json::json!([
        {
            "Identifier": "VR-DE-0001", "Type": "Acceptance", "Country": "DE",
            "Version": "1.0.0", "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC",
            "EngineVersion": "0.7.5", "CertificateType": "Vaccination",
            "Description": [{"lang": "en",
                             "desc": "Only vaccines in the allowed valueset that have been approved by the EMA are allowed."}],
            "ValidFrom": "2026-01-01T00:00:00Z", "ValidTo": "2030-01-01T00:00:00Z",
            "AffectedFields": ["v.0.mp"],
            "Logic": {"if": [{"var": "payload.v.0"},
                             {"in": [{"var": "payload.v.0.mp"},
                                     ["EU/1/20/1528", "EU/1/20/1507", "EU/1/21/1529", "EU/1/20/1525"]]},
                             true]}
        },
        {
            "Identifier": "GR-DE-0001", "Type": "Acceptance", "Country": "DE",
            "Version": "1.0.0", "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC",
            "EngineVersion": "0.7.5", "CertificateType": "General",
            "Description": [{"lang": "en", "desc": "The disease must be COVID-19."},
                            {"lang": "ru", "desc": "Заболевание должно быть COVID-19."}],
            "ValidFrom": "2026-01-01T00:00:00Z", "ValidTo": "2030-01-01T00:00:00Z",
            "AffectedFields": ["v.0.tg"],
            "Logic": {"in": [{"var": "payload.v.0.tg"},
                             {"var": "external.valueSets.disease-agent-targeted"}]}
        }
    ])
    .to_string()
}

fn trip(wallet: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["wallet", "--dir", s(wallet), "--at", AT, "trip"];
    all.extend_from_slice(args);
    let out = run(&all);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_trip_is_checked_by_the_destinations_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = russian_issuer(tmp.path());
    ok(run(&["issuer", "eu", "init", "--dir", s(&dir), "--at", AT]));
    let issue = |record: &str, product: &str, family: &str| {
        let json = ok(run(&["issuer", "example", "vaccination", "--at", AT]));
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["record_id"] = record.into();
        v["vaccination"]["product"] = product.into();
        v["holder"]["family_name"] = family.into();
        let input = dir.join("input.json");
        std::fs::write(&input, v.to_string()).unwrap();
        let out = ok(run(&[
            "issuer",
            "issue",
            "--dir",
            s(&dir),
            "--input",
            s(&input),
            "--at",
            AT,
            "--eu",
        ]));
        let lines: Vec<String> = out.lines().map(str::to_owned).collect();
        (
            lines[lines.len() - 2].clone(),
            lines[lines.len() - 1].clone(),
        )
    };
    let (sputnik, sputnik_twin) = issue("V-1", "Sputnik-V", "Иванов");
    let (_, comirnaty_twin) = issue("V-2", "EU/1/20/1528", "Петров");
    let rules = tmp.path().join("rules-de.json");
    std::fs::write(&rules, german_rules()).unwrap();
    let imported = ok(eu(&dir, &["rules", s(&rules)]));
    assert!(imported.contains("DE (2)"), "{imported}");
    // A rule that is not CertLogic, or has no logic, is refused whole.
    let bad = tmp.path().join("bad-rules.json");
    std::fs::write(&bad, german_rules().replace("CERTLOGIC", "JSONLOGIC")).unwrap();
    assert_eq!(eu(&dir, &["rules", s(&bad)]).status.code(), Some(65));

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
    let wallet = tmp.path().join("wallet");
    ok(run(&[
        "wallet",
        "--dir",
        s(&wallet),
        "trust",
        "--root",
        s(&dir.join("root.pub")),
        "--from",
        s(&usb),
    ]));
    for text in [&sputnik, &sputnik_twin] {
        ok(run(&["wallet", "--dir", s(&wallet), "add", text]));
    }

    // The Sputnik-V twin fails the EMA-only rule, named in both languages.
    let (code, out) = trip(&wallet, &["--to", "DE", "--on", "2026-07-01", "--json"]);
    assert_eq!(code, Some(1), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rules"]["eu"]["count"], 2, "{v}");
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(
        checks.len(),
        1,
        "the credential and its twin are one record: {v}"
    );
    assert_eq!(checks[0]["form"], "hc1");
    assert_eq!(checks[0]["verdict"], "invalid");
    let failed: Vec<&str> = checks[0]["failed_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["VR-DE-0001"], "the value-set rule passes: {v}");
    assert!(v["show"].is_null());
    let (_, words) = trip(&wallet, &["--to", "DE", "--on", "2026-07-01"]);
    assert!(
        words.contains("rule VR-DE-0001 (1.0.0) failed: Only vaccines"),
        "{words}"
    );
    assert!(
        words.contains("правило VR-DE-0001 (1.0.0) не выполнено"),
        "{words}"
    );

    // With an EMA-approved product's twin, that one is to be shown there.
    ok(run(&[
        "wallet",
        "--dir",
        s(&wallet),
        "add",
        &comirnaty_twin,
    ]));
    let (code, out) = trip(
        &wallet,
        &[
            "--to",
            "de",
            "--on",
            "2026-07-01",
            "--back",
            "2027-12-01",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let shown = v["show"].as_str().unwrap();
    let chosen = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == shown)
        .unwrap();
    let name = chosen["name"].as_str().unwrap().to_lowercase();
    assert!(name.contains("petrov"), "{v}");
    assert_eq!(
        chosen["ends_before_return"], true,
        "a twin ends within a year: {v}"
    );
    let (code, out) = trip(
        &wallet,
        &[
            "--to",
            "DE",
            "--on",
            "2026-07-01",
            "--person",
            "ivanov",
            "--json",
        ],
    );
    assert_eq!(code, Some(1), "{out}");

    // A trip months ahead is judged by the rules and keys held now, not refused for the trust
    // data being old by then.
    let (code, out) = trip(
        &wallet,
        &[
            "--to",
            "RU",
            "--on",
            "2026-10-01",
            "--person",
            "иванов",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    // A credential without an EU twin cannot be judged by EU rules: unknown, and said why.
    let input = dir.join("own-only.json");
    let own = ok(run(&["issuer", "example", "vaccination", "--at", AT]));
    std::fs::write(&input, own.replace("Иванов", "Сидоров")).unwrap();
    let issued = ok(run(&[
        "issuer",
        "issue",
        "--dir",
        s(&dir),
        "--input",
        s(&input),
        "--at",
        AT,
    ]));
    // The credential carries initials only: the holder notes the name.
    ok(run(&[
        "wallet",
        "--dir",
        s(&wallet),
        "add",
        issued.lines().last().unwrap(),
        "--name",
        "Сидоров Иван Иванович",
    ]));
    let (code, words) = trip(
        &wallet,
        &["--to", "DE", "--on", "2026-07-01", "--person", "сидоров"],
    );
    assert_eq!(code, Some(2), "{words}");
    assert!(words.contains("no EU twin"), "{words}");
    // No rules known for a country: unknown, never valid.
    let (code, words) = trip(&wallet, &["--to", "FR", "--on", "2026-07-01"]);
    assert_eq!(code, Some(2), "{words}");
    assert!(words.contains("no rules known for FR"), "{words}");
    // At home, by the home rules, the Propusk QR.
    let (code, out) = trip(&wallet, &["--to", "RU", "--on", "2026-07-01", "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rules"], "propusk", "{v}");
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["form"] == "own"),
        "{v}"
    );
    // A usage mistake is not a verdict.
    assert_eq!(trip(&wallet, &["--to", "Germany"]).0, Some(64));
    assert_eq!(trip(&wallet, &["--to", "DE", "--on", "soon"]).0, Some(64));
}
