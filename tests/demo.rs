//! `propusk demo` runs the whole story and exits 0 only when every outcome is as expected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::propusk;

#[test]
fn the_demo_tells_the_whole_story() {
    let tmp = tempfile::tempdir().unwrap();
    let out = propusk(&["demo", "--dir", tmp.path().to_str().unwrap()], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.ends_with("every outcome was as expected\n"),
        "{stdout}"
    );
    assert!(!stdout.contains('✗'), "{stdout}");
    for step in [
        "An issuer",
        "read back from their pixels",
        "checks each code offline",
        "wallet",
        "Key rotation",
        "Revocation",
        "Expiry",
        "portal link",
    ] {
        assert!(stdout.contains(step), "missing step {step}: {stdout}");
    }
    assert_eq!(stdout.matches('✓').count(), 21, "{stdout}");
    // The QR images it wrote are real: they read back from their pixels here too.
    let png = tmp.path().join("vaccination.png");
    assert!(propusk_qr::read_qr_file(&png).unwrap().starts_with("PR2:"));
}
