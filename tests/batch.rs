//! Batch issuance through the binary: idempotent reruns, bad rows by line number, and a run
//! killed with SIGKILL in the middle that a rerun completes without duplicates or losses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{PASS, run, s};

const AT: &str = "2021-11-21T08:00:00Z";

fn init(dir: &Path) {
    let out = run(&[
        "issuer",
        "init",
        "--dir",
        s(dir),
        "--at",
        "2021-11-20T08:00:00Z",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn registry(n: usize) -> String {
    let mut csv = String::from(
        "record_id,type,family_name,given_name,birth_date,document_kind,document_number,product,dose,doses,date,country,administered_by\n",
    );
    for i in 0..n {
        csv.push_str(&format!("R-{i:06},vaccination,Иванов,Иван,1980-05-12,passport,4510 {:06},Sputnik-V,2,2,2021-06-01,RU,ГБУЗ ГП № 2\n", i % 1_000_000));
    }
    csv
}

fn issued_csv(out: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(out.join("issued.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        [
            "record_id,credential_id,name,birth_date,document",
            "record_id,credential_id,image,name,birth_date,document"
        ]
        .contains(&header),
        "{header}"
    );
    lines
        .enumerate()
        .map(|(n, l)| {
            let cells: Vec<&str> = l.split(',').collect();
            // The image named is the record's own (read back from the first few).
            if header.contains(",image") && n < 3 {
                let image = std::fs::read(out.join(cells[2])).unwrap();
                let text = propusk_qr::read_qr(&image).unwrap();
                let id = propusk_spec::decode(&text).unwrap().unverified_claims().id;
                assert_eq!(id.to_string(), cells[1], "{l}");
            }
            // The holder's full record beside it, for the paper copy (the credential carries
            // initials only).
            if let [.., name, _, document] = cells.as_slice() {
                assert!(name.is_empty() || name.contains(' '), "{l}");
                assert!(document.is_empty() || document.len() >= 5, "{l}");
            }
            (cells[0].to_owned(), cells[1].to_owned())
        })
        .collect()
}

#[test]
fn records_that_differ_only_outside_ascii_get_their_own_images() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("issuer"), tmp.path().join("out"));
    init(&dir);
    let csv = registry(2)
        .replace("R-000000,", "Р-0001,")
        .replace("R-000001,", "Ж-0001,");
    let input = tmp.path().join("cyrillic.csv");
    std::fs::write(&input, csv).unwrap();
    let batch = |input: &Path| {
        run(&[
            "issuer",
            "batch",
            "--dir",
            s(&dir),
            "--input",
            s(input),
            "--out",
            s(&out),
            "--at",
            AT,
        ])
    };
    let done = batch(&input);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let ids = issued_csv(&out);
    assert_eq!(ids.len(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let image = out.join(propusk_issuer::image_name(&ids[0].0));
        assert_eq!(
            (mode(&image), mode(&out.join("issued.csv"))),
            (0o600, 0o600)
        );
    }
    // Each image holds its own record's credential (both used to be written to `_-0001.png`).
    for (record, id) in &ids {
        let image = out.join(propusk_issuer::image_name(record));
        let text = propusk_qr::read_qr_file(&image).unwrap();
        let decoded = propusk_spec::decode(&text).unwrap();
        assert_eq!(&decoded.unverified_claims().id.to_string(), id, "{record}");
    }
    // Two ids that only a case-insensitive file system confuses: the second is a bad row, not
    // issued, naming both; the first is issued with its image.
    let clash = tmp.path().join("clash.csv");
    std::fs::write(
        &clash,
        registry(2)
            .replace("R-000000,", "A-1,")
            .replace("R-000001,", "a-1,"),
    )
    .unwrap();
    let refused = batch(&clash);
    assert_eq!(refused.status.code(), Some(65));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("line 3: ") && said.contains("`A-1` and `a-1`"),
        "{said}"
    );
    assert!(out.join("A-1.png").exists() && !out.join("a-1.png").exists());
    let issued = std::fs::read_to_string(out.join("issued.csv")).unwrap();
    assert!(
        issued.contains("\nA-1,") && !issued.contains("\na-1,"),
        "{issued}"
    );
}

#[test]
fn the_same_csv_twice_gives_the_same_credentials() {
    common::on_every_backend(
        "the_same_csv_twice_gives_the_same_credentials",
        the_same_csv_twice_gives_the_same_credentials_on,
    );
}

fn the_same_csv_twice_gives_the_same_credentials_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("issuer"), tmp.path().join("out"));
    init(&dir);
    // The registry example as `propusk issuer example registry` makes it (examples/registry.csv
    // is one made so), dated at AT.
    let example = tmp.path().join("registry.csv");
    let made = run(&["issuer", "example", "registry", "--at", AT]);
    std::fs::write(&example, &made.stdout).unwrap();
    let first = run(&[
        "issuer",
        "batch",
        "--dir",
        s(&dir),
        "--input",
        s(&example),
        "--out",
        s(&out),
        "--at",
        AT,
    ]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        String::from_utf8_lossy(&first.stdout)
            .starts_with("issued 6 new, 0 already issued, 0 bad rows, 6 QR images")
    );
    let ids = issued_csv(&out);
    assert_eq!(ids.len(), 6);
    // Every QR image decodes, from its pixels, to the credential whose id issued.csv gives.
    for (record, id) in &ids {
        let text = propusk_qr::read_qr_file(&out.join(format!("{record}.png"))).unwrap();
        let decoded = propusk_spec::decode(&text).unwrap();
        assert_eq!(&decoded.unverified_claims().id.to_string(), id);
    }
    let second = run(&[
        "issuer",
        "batch",
        "--dir",
        s(&dir),
        "--input",
        s(&example),
        "--out",
        s(&out),
        "--at",
        "2021-11-22T08:00:00Z",
    ]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&second.stdout)
            .starts_with("issued 0 new, 6 already issued, 0 bad rows, 0 QR images")
    );
    assert_eq!(issued_csv(&out), ids);

    // An operator asks: was R-0003 issued, and when?
    let record = run(&["issuer", "record", "--dir", s(&dir), "R-0003"]);
    let v: serde_json::Value = serde_json::from_slice(&record.stdout).unwrap();
    assert_eq!(v["id"], ids[2].1.as_str());
    assert_eq!(
        (
            v["type"].as_str(),
            v["status"].as_str(),
            v["issued_at"].as_str()
        ),
        (Some("recovery"), Some("issued"), Some(AT))
    );
    assert!(
        v.get("credential").is_none(),
        "no personal data in the answer"
    );
    assert_eq!(
        run(&["issuer", "record", "--dir", s(&dir), "R-9999"])
            .status
            .code(),
        Some(65)
    );
}

#[test]
fn bad_rows_are_reported_by_line_and_good_rows_go_through() {
    common::on_every_backend(
        "bad_rows_are_reported_by_line_and_good_rows_go_through",
        bad_rows_are_reported_by_line_and_good_rows_go_through_on,
    );
}

fn bad_rows_are_reported_by_line_and_good_rows_go_through_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("issuer"), tmp.path().join("out"));
    init(&dir);
    let mut csv = registry(3);
    csv.push_str("R-bad1,vaccination,Иванов,Иван,12.05.1980,passport,4510 123789,Sputnik-V,2,2,2021-06-01,RU,ГБУЗ ГП № 2\n");
    csv.push_str("R-bad2,vaccination,Иванов,Иван,1980-05-12,passport,4510 123789,Sputnik-V,1,2,2021-06-01,RU,ГБУЗ ГП № 2\n");
    csv.push_str("R-000001,vaccination,Петров,Пётр,1980-05-12,passport,4510 123789,Sputnik-V,2,2,2021-06-01,RU,ГБУЗ ГП № 2\n");
    csv.push_str("R-bad3,flu-shot,Иванов,Иван,1980-05-12,passport,4510 123789,,,,,,\n");
    let input = tmp.path().join("registry.csv");
    std::fs::write(&input, csv).unwrap();
    let result = run(&[
        "issuer",
        "batch",
        "--dir",
        s(&dir),
        "--input",
        s(&input),
        "--out",
        s(&out),
        "--at",
        AT,
    ]);
    assert_eq!(result.status.code(), Some(65));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("line 5: input: holder.birth_date"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6: refused: vaccination course not complete"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 7: record_id repeats line 3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 8: input: type: `flu-shot`"),
        "{stderr}"
    );
    assert_eq!(issued_csv(&out).len(), 3);
}

#[test]
fn a_run_killed_mid_way_and_rerun_loses_and_duplicates_nothing() {
    common::on_every_backend(
        "a_run_killed_mid_way_and_rerun_loses_and_duplicates_nothing",
        a_run_killed_mid_way_and_rerun_loses_and_duplicates_nothing_on,
    );
}

fn a_run_killed_mid_way_and_rerun_loses_and_duplicates_nothing_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("issuer"), tmp.path().join("out"));
    init(&dir);
    let n = 1500;
    let input = tmp.path().join("registry.csv");
    std::fs::write(&input, registry(n)).unwrap();
    let args = [
        "issuer",
        "batch",
        "--dir",
        s(&dir),
        "--input",
        s(&input),
        "--out",
        s(&out),
        "--at",
        AT,
    ];
    // Kill the first run with SIGKILL once some images exist (so it is really mid-way).
    let mut command = Command::new(env!("CARGO_BIN_EXE_propusk"));
    let mut child = common::backend(&mut command)
        .args(args)
        .env(PASS.0, PASS.1)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let images = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
        if images > 50 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the first run was to be killed before it finished"
    );
    assert!(
        !out.join("issued.csv").exists(),
        "the killed run got to the end"
    );

    let rerun = run(&args);
    assert_eq!(
        rerun.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let summary = String::from_utf8_lossy(&rerun.stdout).into_owned();
    let ids = issued_csv(&out);
    assert_eq!(ids.len(), n, "{summary}");
    let unique: HashSet<&String> = ids.iter().map(|(_, id)| id).collect();
    assert_eq!(unique.len(), n, "a record got two credentials");
    // The store holds exactly one credential per record: the one issued.csv names.
    let database = propusk_issuer::Database::from_url(common::database().as_deref()).unwrap();
    let issuer = propusk_issuer::Issuer::open_in(&dir, &database).unwrap();
    let by_record: HashMap<&str, &str> = ids
        .iter()
        .map(|(r, id)| (r.as_str(), id.as_str()))
        .collect();
    for (record, id) in by_record.iter().step_by(97) {
        assert_eq!(issuer.record(record).unwrap().unwrap().id.to_string(), *id);
        let text = propusk_qr::read_qr_file(&out.join(format!("{record}.png"))).unwrap();
        assert_eq!(
            propusk_spec::decode(&text)
                .unwrap()
                .unverified_claims()
                .id
                .to_string(),
            *id
        );
    }
    let (_, existing) = summary.split_once(" new, ").unwrap();
    let existing: usize = existing.split_whitespace().next().unwrap().parse().unwrap();
    assert!(
        existing > 0,
        "the killed run had committed nothing: {summary}"
    );
}

/// An issuer in a temporary directory and a registry of three records (not yet issued): the
/// directory, the issuer's and the registry's paths.
fn three_records() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    init(&dir);
    let input = tmp.path().join("registry.csv");
    std::fs::write(&input, registry(3)).unwrap();
    (tmp, dir, input)
}

/// A record issued before with other content (a corrected name) is not "already issued": it is
/// a bad row, nothing is written for it and the run exits 65; with --reissue the old credential
/// is revoked and the corrected one issued, both ids in issued.csv, audited; a rerun issues
/// nothing twice; verifiers refuse the old one once published.
#[test]
fn a_corrected_record_is_refused_or_reissued_never_ignored() {
    common::on_every_backend(
        "a_corrected_record_is_refused_or_reissued_never_ignored",
        a_corrected_record_is_refused_or_reissued_never_ignored_on,
    );
}

fn a_corrected_record_is_refused_or_reissued_never_ignored_on() {
    let (tmp, dir, input) = three_records();
    let batch = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "issuer",
            "batch",
            "--dir",
            s(&dir),
            "--input",
            s(&input),
            "--out",
            s(out),
            "--at",
            AT,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let first = tmp.path().join("first");
    assert_eq!(batch(&first, &[]).status.code(), Some(0));
    let old = issued_csv(&first);
    // The registry corrects R-000001's given name.
    let corrected = registry(3).replacen(
        "R-000001,vaccination,Иванов,Иван,",
        "R-000001,vaccination,Иванов,Иоанн,",
        1,
    );
    std::fs::write(&input, corrected).unwrap();

    let refused_out = tmp.path().join("refused");
    let refused = batch(&refused_out, &[]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(65), "{said}");
    assert!(
        said.contains("line 3: refused: record R-000001 was issued as credential")
            && said.contains(&old[1].1)
            && said.contains("--reissue"),
        "{said}"
    );
    assert!(
        String::from_utf8_lossy(&refused.stdout)
            .starts_with("issued 0 new, 2 already issued, 1 bad row"),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    assert!(
        !refused_out.join("R-000001.png").exists(),
        "the old QR is not written"
    );

    let fixed_out = tmp.path().join("fixed");
    let fixed = batch(&fixed_out, &["--reissue"]);
    let said = String::from_utf8_lossy(&fixed.stdout);
    assert_eq!(fixed.status.code(), Some(0), "{said}");
    assert!(
        said.starts_with("issued 1 new (1 of them corrections"),
        "{said}"
    );
    let text = std::fs::read_to_string(fixed_out.join("issued.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("record_id,credential_id,image,replaces,name,birth_date,document")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[1][0], "R-000001");
    assert_ne!(rows[1][1], old[1].1, "a new credential");
    assert_eq!(rows[1][3], old[1].1, "it names the one it replaced");
    assert_eq!((rows[0][3], rows[2][3]), ("", ""), "the others stand");
    // The new image is the corrected credential.
    let image = propusk_qr::read_qr_file(&fixed_out.join("R-000001.png")).unwrap();
    let claims = propusk_spec::decode(&image)
        .unwrap()
        .unverified_claims()
        .clone();
    assert_eq!(claims.id.to_string(), rows[1][1]);
    // The record now answers the new credential; the audit names both.
    let record: serde_json::Value =
        serde_json::from_slice(&run(&["issuer", "record", "--dir", s(&dir), "R-000001"]).stdout)
            .unwrap();
    assert_eq!(record["id"], rows[1][1]);
    let audit =
        String::from_utf8_lossy(&run(&["issuer", "audit", "--dir", s(&dir)]).stdout).into_owned();
    assert!(
        audit.contains("reissue") && audit.contains(&old[1].1) && audit.contains(rows[1][1]),
        "{audit}"
    );
    // Again: nothing issued twice.
    let again = batch(&fixed_out, &["--reissue"]);
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .starts_with("issued 0 new, 3 already issued, 0 bad rows"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    // Published, the old credential is revoked for verifiers; the new one is valid.
    let (usb, store) = (tmp.path().join("usb"), tmp.path().join("verifier"));
    common::publish_and_sync(&dir, &usb, &store, AT);
    let old_text = propusk_qr::read_qr_file(&first.join("R-000001.png")).unwrap();
    for (text, verdict) in [(old_text.as_str(), "invalid"), (image.as_str(), "valid")] {
        let out = run(&["verify", "--store", s(&store), "--json", "--at", AT, text]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["verdict"], verdict, "{v}");
    }
}

/// After a key is compromised, `issuer reissue --key` signs its credentials again under the
/// new key: each old one revoked, the new ones in issued.csv with the ids they replace, valid
/// for verifiers while the old ones are refused; a rerun signs nothing twice.
#[test]
fn a_compromised_keys_credentials_are_signed_again() {
    common::on_every_backend(
        "a_compromised_keys_credentials_are_signed_again",
        a_compromised_keys_credentials_are_signed_again_on,
    );
}

fn a_compromised_keys_credentials_are_signed_again_on() {
    let (tmp, dir, input) = three_records();
    let first = tmp.path().join("first");
    let later = "2021-11-21T09:00:00Z";
    assert_eq!(
        run(&[
            "issuer",
            "batch",
            "--dir",
            s(&dir),
            "--input",
            s(&input),
            "--out",
            s(&first),
            "--at",
            AT
        ])
        .status
        .code(),
        Some(0)
    );
    let old = issued_csv(&first);
    let keys: serde_json::Value =
        serde_json::from_slice(&run(&["issuer", "key", "list", "--dir", s(&dir), "--json"]).stdout)
            .unwrap();
    let kid = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == "active" && k["role"] != "root")
        .map(|k| k["key_id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{keys}"));
    let ok = |args: &[&str]| {
        let out = run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Still the active key: rotate first.
    let early = run(&[
        "issuer",
        "reissue",
        "--dir",
        s(&dir),
        "--key",
        &kid,
        "--out",
        s(&first),
        "--at",
        later,
    ]);
    assert_eq!(
        early.status.code(),
        Some(65),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    ok(&["issuer", "key", "rotate", "--dir", s(&dir), "--at", later]);
    ok(&[
        "issuer",
        "key",
        "compromise",
        "--dir",
        s(&dir),
        &kid,
        "--since",
        "2021-11-20T08:00:00Z",
        "--at",
        later,
    ]);
    let again = tmp.path().join("again");
    let said = ok(&[
        "issuer",
        "reissue",
        "--dir",
        s(&dir),
        "--key",
        &kid,
        "--out",
        s(&again),
        "--at",
        later,
    ]);
    assert!(
        said.starts_with("signed again 3 (each old credential revoked), 0 refused, 3 QR images"),
        "{said}"
    );
    let text = std::fs::read_to_string(again.join("issued.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("record_id,credential_id,image,replaces,name,birth_date,document")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let mut replaced: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    replaced.sort_unstable();
    let mut before: Vec<&str> = old.iter().map(|(_, id)| id.as_str()).collect();
    before.sort_unstable();
    assert_eq!(replaced, before, "each old credential replaced once");
    // Nothing twice.
    let rerun = ok(&[
        "issuer",
        "reissue",
        "--dir",
        s(&dir),
        "--key",
        &kid,
        "--out",
        s(&again),
        "--at",
        later,
    ]);
    assert!(rerun.starts_with("signed again 0"), "{rerun}");
    // Verifiers: the new ones valid, the old ones refused.
    let (usb, store) = (tmp.path().join("usb"), tmp.path().join("verifier"));
    common::publish_and_sync(&dir, &usb, &store, later);
    let verdict = |png: &Path| {
        let text = propusk_qr::read_qr_file(png).unwrap();
        let out = run(&[
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            later,
            &text,
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["verdict"].as_str().unwrap().to_owned()
    };
    for row in &rows {
        assert_eq!(verdict(&again.join(&row[2])), "valid", "{row:?}");
        assert_eq!(
            verdict(&first.join(format!("{}.png", row[0]))),
            "invalid",
            "{row:?}"
        );
    }
    // One record without --out: its new credential printed as `issue` prints it.
    let printed = ok(&[
        "issuer",
        "reissue",
        "--dir",
        s(&dir),
        &rows[0][0],
        "--at",
        later,
    ]);
    let text = printed.lines().last().unwrap();
    assert!(text.starts_with("PR2:"), "{printed}");
    common::publish_and_sync(&dir, &usb, &store, later);
    let fresh = run(&[
        "verify",
        "--store",
        s(&store),
        "--json",
        "--at",
        later,
        text,
    ]);
    let fresh: serde_json::Value = serde_json::from_slice(&fresh.stdout).unwrap();
    assert_eq!(fresh["verdict"], "valid", "{fresh}");
    assert_eq!(verdict(&again.join(&rows[0][2])), "invalid");
    // Many credentials need a folder for them.
    let all = run(&[
        "issuer",
        "reissue",
        "--dir",
        s(&dir),
        "--all",
        "--at",
        later,
    ]);
    assert_eq!(all.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&all.stderr).contains("--out"));
}
