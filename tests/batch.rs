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
        ["record_id,credential_id", "record_id,credential_id,image"].contains(&header),
        "{header}"
    );
    lines
        .enumerate()
        .map(|(n, l)| {
            let cells: Vec<&str> = l.split(',').collect();
            // The image named is the record's own (read back from the first few).
            if header.ends_with(",image") && n < 3 {
                let image = std::fs::read(out.join(cells[2])).unwrap();
                let text = propusk_qr::read_qr(&image).unwrap();
                let id = propusk_spec::decode(&text).unwrap().unverified_claims().id;
                assert_eq!(id.to_string(), cells[1], "{l}");
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
