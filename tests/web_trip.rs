//! The trip check in the web app's wallet: the same engine as `propusk wallet trip`, in a real
//! headless Chromium, offline from the trust data it synced — a Sputnik-V twin fails an EU
//! country's EMA-only rule (named), a country without rules is unknown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod browser;
mod common;
use browser::{Browser, available};
use common::{PASS, ok, propusk_with, s, start_server};

/// An EMA-only acceptance rule of Germany's, as it would publish it.
const RULES: &str = r#"[{"Identifier": "VR-DE-0001", "Type": "Acceptance", "Country": "DE",
  "Version": "1.0.0", "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "0.7.5",
  "CertificateType": "Vaccination",
  "Description": [{"lang": "en", "desc": "Only vaccines approved by the EMA are allowed."}],
  "ValidFrom": "2026-01-01T00:00:00Z", "ValidTo": "2036-01-01T00:00:00Z",
  "AffectedFields": ["v.0.mp"],
  "Logic": {"in": [{"var": "payload.v.0.mp"}, ["EU/1/20/1528", "EU/1/20/1507", "EU/1/21/1529"]]}}]"#;

fn propusk(args: &[&str]) -> String {
    ok(propusk_with(args, "", &[PASS]))
}

#[test]
fn the_web_wallet_checks_a_trip_by_the_destinations_rules() {
    if !available("web app trip") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    propusk(&[
        "issuer",
        "init",
        "--dir",
        s(&dir),
        "--country",
        "RU",
        "--name",
        "Минздрав России",
    ]);
    propusk(&["issuer", "eu", "init", "--dir", s(&dir)]);
    let rules = tmp.path().join("rules.json");
    std::fs::write(&rules, RULES).unwrap();
    propusk(&["issuer", "eu", "rules", "--dir", s(&dir), s(&rules)]);
    let example = propusk(&["issuer", "example", "vaccination"]);
    let input = tmp.path().join("in.json");
    std::fs::write(&input, example).unwrap();
    let issued = propusk(&[
        "issuer",
        "issue",
        "--dir",
        s(&dir),
        "--input",
        s(&input),
        "--eu",
    ]);
    let twin = issued.lines().last().unwrap().trim().to_owned();
    assert!(twin.starts_with("HC1:"), "{issued}");

    let (_server, url) = start_server(&dir, &[PASS]);
    let b = Browser::start(&[]);
    b.goto(&format!("{url}/app/?lang=en&mode=wallet"));
    b.wait("document.body.dataset.synced === 'true'", "the first sync");
    b.eval(&format!(
        "document.getElementById('wallet-text').value = {twin:?}; return true;"
    ));
    b.click("[data-action=add]");
    b.wait(
        "document.querySelector('#entries [data-credential-id]')",
        "the twin in the wallet",
    );
    let check = |b: &Browser, to: &str| {
        b.eval(&format!(
            "document.getElementById('trip-to').value = {to:?};
             document.getElementById('trip-on').value =
               new Date(Date.now() + 86400000).toISOString().slice(0, 10);
             document.getElementById('trip').dataset.tripVerdict = '';
             return true;"
        ));
        b.click("[data-action=trip]");
        let verdict = b.wait(
            "document.getElementById('trip').dataset.tripVerdict",
            "the trip check",
        );
        let words = b.eval("return document.getElementById('trip').innerText");
        (
            verdict.as_str().unwrap().to_owned(),
            words.as_str().unwrap().to_owned(),
        )
    };
    let (verdict, words) = check(&b, "DE");
    assert_eq!(verdict, "invalid", "{words}");
    assert!(
        words.contains("rule VR-DE-0001 (1.0.0) failed: Only vaccines approved by the EMA"),
        "{words}"
    );
    assert!(words.contains("правило VR-DE-0001"), "{words}");
    if let Ok(keep) = std::env::var("PROPUSK_KEEP_SCREENSHOTS") {
        std::fs::write(Path::new(&keep).join("wallet-trip.png"), b.screenshot()).unwrap();
    }
    let (verdict, words) = check(&b, "fr");
    assert_eq!(verdict, "unknown", "{words}");
    assert!(words.contains("no rules known for FR"), "{words}");
}
