//! The issuer's store: the audit log cannot be rewritten, keys never leave sealed, rotation
//! with an announced key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use propusk_issuer::{Issuer, STORE_FILE};
use propusk_spec::Timestamp;
use propusk_trust_list::KeyStatus;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn the_audit_log_is_append_only() {
    let tmp = tempfile::tempdir().unwrap();
    let issuer = Issuer::init(
        tmp.path(),
        "Test",
        "RU",
        None,
        "Europe/Moscow",
        "pass phrase",
        at("2021-06-01T00:00:00Z"),
    )
    .unwrap();
    drop(issuer);
    let conn = rusqlite::Connection::open(tmp.path().join(STORE_FILE)).unwrap();
    assert!(conn.execute("UPDATE audit SET op = 'nothing'", []).is_err());
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    let count: i64 = conn
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert!(count >= 3, "{count}");
    // The secret keys are stored sealed: nonce, 32 bytes of ciphertext, tag.
    let sealed: Vec<Vec<u8>> = conn
        .prepare("SELECT sealed FROM keys")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(sealed.iter().all(|s| s.len() == 24 + 32 + 16));
}

#[test]
fn an_announced_key_is_published_before_it_signs_and_activated_by_the_next_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    let mut issuer = Issuer::init(
        tmp.path(),
        "Test",
        "RU",
        None,
        "Europe/Moscow",
        "pass phrase",
        at("2021-06-01T00:00:00Z"),
    )
    .unwrap();
    let first = issuer.keys().unwrap()[1].key_id.clone();
    let next = issuer.rotate(at("2021-06-02T00:00:00Z"), true).unwrap();
    assert_eq!(next.status, KeyStatus::Next);
    assert!(
        issuer.rotate(at("2021-06-02T00:00:00Z"), true).is_err(),
        "one announced key at a time"
    );
    let keys = issuer.keys().unwrap();
    assert_eq!(
        keys.iter().find(|k| k.key_id == first).unwrap().status,
        KeyStatus::Active
    );
    let active = issuer.rotate(at("2021-06-09T00:00:00Z"), false).unwrap();
    assert_eq!(
        (&active.key_id, active.status),
        (&next.key_id, KeyStatus::Active)
    );
    let old = issuer
        .keys()
        .unwrap()
        .into_iter()
        .find(|k| k.key_id == first)
        .unwrap();
    assert_eq!(
        (old.status, old.since()),
        (
            KeyStatus::Retired {
                since: at("2021-06-09T00:00:00Z").unix()
            },
            Some(at("2021-06-09T00:00:00Z"))
        )
    );
    // A wrong passphrase does not unlock.
    let mut reopened = Issuer::open(tmp.path()).unwrap();
    assert!(reopened.unlock("wrong").is_err());
    assert!(reopened.unlock("pass phrase").is_ok());
}
