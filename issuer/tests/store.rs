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
        "pass phrase 12",
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
        "pass phrase 12",
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
    assert!(reopened.unlock("pass phrase 12").is_ok());
}

const REQUEST: &str = r#"{"type": "vaccination", "record_id": "R-1",
  "holder": {"family_name": "Иванов", "given_name": "Иван", "birth_date": "1980-05-12",
             "document": {"kind": "passport", "number": "4510 123789"}},
  "vaccination": {"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "2021-06-01",
                  "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}"#;

fn issuer(dir: &std::path::Path) -> Issuer {
    Issuer::init(
        dir,
        "Test",
        "RU",
        Some("https://portal.example"),
        "Europe/Moscow",
        "pass phrase 12",
        at("2021-06-01T00:00:00Z"),
    )
    .unwrap()
}

#[test]
fn a_transaction_that_fails_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let mut issuer = issuer(tmp.path());
    let request = propusk_issuer::Request::from_json(REQUEST).unwrap();
    let now = at("2021-06-02T00:00:00Z");
    let failed: Result<(), _> = issuer.in_transaction(|i| {
        let issued = i.issue(&request, now)?;
        assert!(i.record("R-1")?.is_some(), "visible inside the transaction");
        i.revoke(&issued.id, now).map(|_| ())?;
        Ok(())
    });
    // A transaction inside a transaction is refused, and the outer one rolls back whole.
    assert!(failed.is_err());
    assert_eq!(issuer.record("R-1").unwrap(), None);
    let ok = issuer.in_transaction(|i| i.issue(&request, now)).unwrap();
    assert_eq!(issuer.record("R-1").unwrap().map(|r| r.id), Some(ok.id));
    let links = ok.links.unwrap();
    assert_eq!(links.short, format!("https://portal.example/c/{}", ok.id));
    let offline = propusk_spec::Link::parse(&links.offline).unwrap();
    assert_eq!(
        (offline.id, offline.credential),
        (ok.id, Some(ok.credential.clone()))
    );
}

#[test]
fn the_store_keeps_record_ids_unique_and_sequences_inside_transactions() {
    use propusk_issuer::store::{CredentialRecord, Inserted, SqliteStore, Store};
    let tmp = tempfile::tempdir().unwrap();
    let mut issuer = issuer(tmp.path());
    let issued = issuer
        .issue(
            &propusk_issuer::Request::from_json(REQUEST).unwrap(),
            at("2021-06-02T00:00:00Z"),
        )
        .unwrap();
    drop(issuer);
    let mut store = SqliteStore::open(tmp.path()).unwrap();
    let mut record = CredentialRecord {
        id: propusk_spec::CredentialId::from_bytes([9; 12]),
        record_id: Some("R-1".into()),
        credential_type: issued.credential_type,
        key_id: issued.key_id.clone(),
        issued_at: issued.issued_at,
        expires_at: issued.expires_at,
        status: issued.status,
        text: issued.credential.clone(),
        proof: None,
        holder: None,
    };
    assert_eq!(
        store.insert_credential(&record).unwrap(),
        Inserted::RecordTaken
    );
    record.id = issued.id;
    record.record_id = Some("R-2".into());
    assert_eq!(store.insert_credential(&record).unwrap(), Inserted::IdTaken);
    assert!(
        store.next_publication_sequence().is_err(),
        "a sequence is reserved only inside a transaction"
    );
    store.begin().unwrap();
    assert_eq!(store.next_publication_sequence().unwrap(), 1);
    store.rollback().unwrap();
    let log = store.audit_log().unwrap();
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    let ops: Vec<_> = log.iter().map(|e| e.op).collect();
    assert!(ops.contains(&propusk_issuer::AuditOp::Init), "{ops:?}");
}

#[test]
fn the_root_key_has_no_end() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = issuer(tmp.path()).keys().unwrap();
    assert_eq!(keys[0].role, propusk_issuer::KeyRole::Root);
    assert_eq!(keys[0].not_after, None);
    let json = serde_json::to_value(&keys).unwrap();
    assert_eq!(json[0]["not_after"], serde_json::Value::Null);
    assert_eq!(json[1]["not_after"], "2024-05-31T00:00:00Z");
    assert_eq!(json[1]["status"], "active");
}

#[test]
fn two_publishers_at_once_never_share_a_sequence_nor_go_back() {
    let tmp = tempfile::tempdir().unwrap();
    drop(issuer(tmp.path()));
    let out = tmp.path().join("usb");
    let publishers: Vec<_> = (0..2)
        .map(|_| {
            let (dir, out) = (tmp.path().to_path_buf(), out.clone());
            std::thread::spawn(move || {
                let mut issuer = Issuer::open(&dir).unwrap();
                issuer.unlock("pass phrase 12").unwrap();
                (0..5)
                    .map(|i| {
                        let at = Timestamp::from_unix(1_622_592_000 + i).unwrap();
                        issuer.publish(&out, at).unwrap().sequence
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut sequences: Vec<u64> = publishers
        .into_iter()
        .flat_map(|p| p.join().unwrap())
        .collect();
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=10).collect::<Vec<u64>>());
    // The directory's index names the newest, and every bundle in it is signed by the root.
    let root = propusk_trust_list::parse_public_key(
        &std::fs::read_to_string(tmp.path().join("root.pub")).unwrap(),
    )
    .unwrap();
    let index = propusk_trust_list::read_index(&out, &root).unwrap();
    assert_eq!(index.sequence, 10);
    for entry in std::fs::read_dir(&out).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("bundle-") {
            let bytes = std::fs::read(out.join(&name)).unwrap();
            assert!(
                propusk_trust_list::Bundle::open(&bytes, &root).is_ok(),
                "{name}"
            );
        }
    }
}

/// Publishes with a damaged or tampered store: what was revoked stays revoked or nothing is
/// published.
#[test]
fn a_damaged_status_cell_or_a_shrunk_revocation_set_is_never_published() {
    let tmp = tempfile::tempdir().unwrap();
    let mut issuer = issuer(tmp.path());
    let now = at("2021-06-02T00:00:00Z");
    let request = propusk_issuer::Request::from_json(REQUEST).unwrap();
    let revoked = issuer.issue(&request, now).unwrap();
    issuer.unlock("pass phrase 12").unwrap();
    issuer.revoke(&revoked.id, now).unwrap();
    let out = tmp.path().join("out");
    assert_eq!(issuer.publish(&out, now).unwrap().revoked, 1);
    drop(issuer);
    let file = tmp.path().join(STORE_FILE);
    let pristine = std::fs::read(&file).unwrap();

    // One flipped byte in the status cell ("revoked" → "revokee"), below SQLite's constraints.
    let mut bytes = pristine.clone();
    let cell = (0..bytes.len() - 12)
        .find(|&i| {
            bytes[i..].starts_with(b"revoked")
                && bytes[i + 7..i + 16].windows(4).any(|w| w == b"PR2:")
        })
        .expect("the status cell");
    bytes[cell + 6] = b'e';
    std::fs::write(&file, &bytes).unwrap();
    let mut issuer = Issuer::open(tmp.path()).unwrap();
    issuer.unlock("pass phrase 12").unwrap();
    let later = at("2021-06-03T00:00:00Z");
    let refused = issuer.publish(&out, later).unwrap_err();
    assert!(refused.to_string().contains("damaged"), "{refused}");
    drop(issuer);

    // Status and time both rewritten by hand, consistently: the revocation set would shrink.
    std::fs::write(&file, &pristine).unwrap();
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute(
        "UPDATE credentials SET status = 'issued', revoked_at = NULL",
        [],
    )
    .unwrap();
    drop(conn);
    let mut issuer = Issuer::open(tmp.path()).unwrap();
    issuer.unlock("pass phrase 12").unwrap();
    let refused = issuer.publish(&out, later).unwrap_err();
    assert!(
        matches!(
            refused,
            propusk_issuer::IssuerError::Store(propusk_issuer::StoreError::RevocationsLost {
                lost: 1,
                sequence: 1
            })
        ),
        "{refused}"
    );
    // Nothing was published: the directory still names sequence 1.
    let root = propusk_trust_list::parse_public_key(
        &std::fs::read_to_string(tmp.path().join("root.pub")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        propusk_trust_list::read_index(&out, &root)
            .unwrap()
            .sequence,
        1
    );
    drop(issuer);

    // The revoked credential expiring between two publications of the same month is no loss:
    // it stays in its month's partition until the month is over.
    std::fs::write(&file, &pristine).unwrap();
    let mut issuer = Issuer::open(tmp.path()).unwrap();
    issuer.unlock("pass phrase 12").unwrap();
    let expiry = revoked.expires_at;
    for at in [expiry.plus_seconds(-3600), expiry.plus_seconds(3600)] {
        assert_eq!(issuer.publish(&out, at).unwrap().revoked, 1, "{at}");
    }
    drop(issuer);

    // The schema itself refuses a status without its time (new stores).
    std::fs::write(&file, &pristine).unwrap();
    let conn = rusqlite::Connection::open(&file).unwrap();
    assert!(
        conn.execute("UPDATE credentials SET revoked_at = NULL", [])
            .is_err()
    );
}

/// Key operations that would leave nothing to sign with, or sign what every verifier refuses,
/// are refused with the next step; retiring twice changes nothing.
#[test]
fn key_operations_keep_a_key_to_sign_with_and_sign_only_inside_its_window() {
    use propusk_issuer::{IssuerError, KeyError};
    let tmp = tempfile::tempdir().unwrap();
    let mut issuer = issuer(tmp.path());
    issuer.unlock("pass phrase 12").unwrap();
    let first = issuer.keys().unwrap()[1].clone();
    let request = propusk_issuer::Request::from_json(REQUEST).unwrap();
    let now = at("2021-06-02T00:00:00Z");

    // The only active key can be neither retired nor distrusted: rotate first.
    for refused in [
        issuer.retire(&first.key_id.to_string(), now),
        issuer.compromise(&first.key_id.to_string(), now, now),
    ] {
        let e = refused.unwrap_err();
        assert!(
            matches!(e, IssuerError::Key(KeyError::OnlyActive(_))),
            "{e}"
        );
        assert!(e.to_string().contains("rotate first"), "{e}");
    }
    // Issuing before the key's window or after its end is refused, naming the window.
    for outside in ["2021-05-31T23:59:59Z", "2024-05-31T00:00:00Z"] {
        let e = issuer.issue(&request, at(outside)).unwrap_err();
        assert!(
            matches!(e, IssuerError::Key(KeyError::OutsideWindow { .. })),
            "{outside}: {e}"
        );
        assert!(e.to_string().contains("2021-06-01T00:00:00Z"), "{e}");
    }
    assert!(issuer.issue(&request, now).is_ok());

    issuer.rotate(now, false).unwrap();
    let before = issuer.audit_log().unwrap().len();
    let again = issuer.retire(&first.key_id.to_string(), now).unwrap_err();
    assert!(
        matches!(again, IssuerError::Key(KeyError::AlreadyRetired { .. })),
        "{again}"
    );
    assert!(
        again.to_string().contains("already retired since"),
        "{again}"
    );
    assert_eq!(issuer.audit_log().unwrap().len(), before, "nothing changed");
    // A retired key may still be distrusted.
    issuer
        .compromise(&first.key_id.to_string(), now, now)
        .unwrap();
}

/// A store made before credentials carried their proof gains the column when opened, keeps its
/// rows, and its old credentials read with no proof (the portal checks their signatures); new
/// ones carry theirs.
#[test]
fn a_store_from_before_credential_proofs_is_brought_up_to_date() {
    use propusk_issuer::store::{SqliteStore, Store};
    let tmp = tempfile::tempdir().unwrap();
    let mut old = issuer(tmp.path());
    let request = propusk_issuer::Request::from_json(REQUEST).unwrap();
    let issued = old.issue(&request, at("2021-06-02T00:00:00Z")).unwrap();
    drop(old);
    let db = rusqlite::Connection::open(tmp.path().join(STORE_FILE)).unwrap();
    db.execute_batch("ALTER TABLE credentials DROP COLUMN proof")
        .unwrap();
    drop(db);
    let store = SqliteStore::open(tmp.path()).unwrap();
    let record = store
        .credential(&issued.id)
        .unwrap()
        .expect("the old row is kept");
    assert_eq!((record.text, record.proof), (issued.credential, None));
    drop(store);
    let mut again = Issuer::open(tmp.path()).unwrap();
    again.unlock("pass phrase 12").unwrap();
    let second = propusk_issuer::Request::from_json(&REQUEST.replace("R-1", "R-2")).unwrap();
    let fresh = again.issue(&second, at("2021-06-02T00:00:00Z")).unwrap();
    drop(again);
    let store = SqliteStore::open(tmp.path()).unwrap();
    let proof = store.credential(&fresh.id).unwrap().unwrap().proof;
    assert_eq!(proof.map(|p| p.len()), Some(32));
}
