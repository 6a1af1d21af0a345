//! What the end-to-end tests share: running the real binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Runs `propusk` with `args`, feeding `stdin`.
pub(crate) fn propusk(args: &[&str], stdin: &str) -> Output {
    propusk_with(args, stdin, &[])
}

thread_local! {
    /// The PostgreSQL database of the backend a test body runs on (`None`: SQLite).
    static DATABASE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The PostgreSQL database the current test body runs on, if any.
pub(crate) fn database() -> Option<String> {
    DATABASE.with(|d| d.borrow().clone())
}

/// The database environment of a command: `PROPUSK_DATABASE_URL` of the backend, or none.
pub(crate) fn backend(command: &mut Command) -> &mut Command {
    match database() {
        Some(url) => command.env("PROPUSK_DATABASE_URL", url),
        None => command.env_remove("PROPUSK_DATABASE_URL"),
    }
}

/// Runs `test` on every backend: SQLite (the embedded default), then PostgreSQL in a fresh
/// database of the cluster `PROPUSK_TEST_DATABASE_URL` names (dropped afterwards). Without that
/// variable the PostgreSQL run is skipped with a message; `PROPUSK_REQUIRE_TOOLS` makes it
/// mandatory.
pub(crate) fn on_every_backend(name: &str, test: impl Fn()) {
    test();
    let Ok(admin) = std::env::var("PROPUSK_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "PROPUSK_REQUIRE_TOOLS is set but PROPUSK_TEST_DATABASE_URL is not"
        );
        eprintln!("{name}: no PROPUSK_TEST_DATABASE_URL: the PostgreSQL run was skipped");
        return;
    };
    let db = fresh_database(&admin, name);
    DATABASE.with(|d| *d.borrow_mut() = Some(db.url.clone()));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&test));
    DATABASE.with(|d| *d.borrow_mut() = None);
    drop(db);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A database of its own for one test, dropped with this value.
pub(crate) struct FreshDatabase {
    pub(crate) url: String,
    admin: String,
    name: String,
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Creates an empty database in the cluster of `admin` (a URL to its `postgres` database).
pub(crate) fn fresh_database(admin: &str, test: &str) -> FreshDatabase {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let safe: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let name = format!(
        "propusk_{safe}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    FreshDatabase {
        url: format!("{base}/{name}"),
        admin: admin.to_owned(),
        name,
    }
}

/// Runs `propusk` with `args` and environment variables, feeding `stdin`.
pub(crate) fn propusk_with(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_propusk"));
    backend(&mut command);
    let mut child = command
        .args(args)
        // Words in English unless a test asks otherwise, whatever the machine's locale.
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Standard output as one JSON value per line.
pub(crate) fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A child process killed when dropped.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `propusk serve` for the issuer in `dir` on a free loopback port; returns the process
/// and its base URL.
pub(crate) fn start_server(dir: &Path, env: &[(&str, &str)]) -> (Running, String) {
    start_server_on(dir, env, "127.0.0.1:0")
}

/// [`start_server`] on the address `addr` (a host name is looked up).
pub(crate) fn start_server_on(dir: &Path, env: &[(&str, &str)], addr: &str) -> (Running, String) {
    start_server_with(dir, env, &["--addr", addr])
}

/// [`start_server`] with these arguments after `serve --dir DIR` (`--addr` among them).
pub(crate) fn start_server_with(
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Running, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_propusk"));
    backend(&mut command);
    let mut child = command
        .args(["serve", "--dir", dir.to_str().unwrap()])
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    (Running(child), url)
}

/// An instant `days` days before now, RFC 3339.
pub(crate) fn days_ago(days: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    propusk_spec::Timestamp::from_unix(secs - days * 86_400)
        .unwrap()
        .to_string()
}

/// A path as `&str`, for arguments.
pub(crate) fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `propusk verify --json` of one credential against `store` (at `at`, or now): its verdict and
/// reason.
pub(crate) fn verdict(store: &Path, text: &str, at: Option<&str>) -> (String, Option<String>) {
    let mut args = vec!["verify", "--store", s(store), "--json"];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    args.push(text);
    let v = json_lines(&propusk(&args, "")).remove(0);
    (
        v["verdict"].as_str().unwrap().to_owned(),
        v["reason"].as_str().map(str::to_owned),
    )
}

/// The passphrase the end-to-end tests seal issuer keys with.
pub(crate) const PASS: (&str, &str) = ("PROPUSK_PASSPHRASE", "correct horse battery staple");

/// `propusk issuer issue` of `json` at `at` (plus `extra` flags) for the issuer in `dir`; asserts
/// success and returns the last line printed (the credential text, or the link).
pub(crate) fn issue_json(dir: &Path, json: &str, at: &str, extra: &[&str]) -> String {
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
        at,
    ];
    args.extend_from_slice(extra);
    let out = propusk_with(&args, "", &[PASS]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

/// Opens the issuer of `dir` in the current backend's database, without its secrets.
pub(crate) fn open_issuer(dir: &Path) -> propusk_issuer::Issuer {
    let database = propusk_issuer::Database::from_url(database().as_deref()).unwrap();
    propusk_issuer::Issuer::open_in(dir, &database).unwrap()
}

/// `propusk` with the issuer's passphrase, no input.
pub(crate) fn run(args: &[&str]) -> Output {
    propusk_with(args, "", &[PASS])
}

/// Standard output of a command that must succeed (its standard error shown when it did not).
pub(crate) fn ok(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An HTTP client that reads every status as an answer.
pub(crate) fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// `issuer publish` of `dir` into `usb` at `at`, then a verifier store in `store` pinned to the
/// issuer's root and synced from `usb` (the issuer in the current backend; the verifier has no
/// database).
pub(crate) fn publish_and_sync(dir: &Path, usb: &Path, store: &Path, at: &str) {
    ok(run(&[
        "issuer",
        "publish",
        "--dir",
        s(dir),
        "--out",
        s(usb),
        "--at",
        at,
    ]));
    verifier_init(store, dir);
    ok(run(&[
        "verifier",
        "sync",
        "--store",
        s(store),
        "--from",
        s(usb),
        "--at",
        at,
    ]));
}

/// A verifier store in `store` pinned to the root of the issuer in `dir`.
pub(crate) fn verifier_init(store: &Path, dir: &Path) {
    ok(propusk_with(
        &[
            "verifier",
            "init",
            "--store",
            s(store),
            "--root",
            s(&dir.join("root.pub")),
        ],
        "",
        &[],
    ));
}

/// A square page of QR finder patterns, `side` pixels: every triple a candidate code, made to
/// stall a reader.
pub(crate) fn finder_grid(side: u32) -> image::GrayImage {
    image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / 4) % 8, (y / 4) % 8);
        let ring = mx
            .min(6u32.saturating_sub(mx))
            .min(my.min(6u32.saturating_sub(my)));
        image::Luma([if mx < 7 && my < 7 && ring != 1 {
            0
        } else {
            255
        }])
    })
}

/// `issuer rules show --json` of the issuer in `dir` (at `at`, else now): the rules and door
/// policies in force.
pub(crate) fn rules_json(dir: &Path, at: Option<&str>) -> serde_json::Value {
    let mut args = vec!["issuer", "rules", "show", "--dir", s(dir), "--json"];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    serde_json::from_str(&ok(run(&args))).unwrap()
}

/// `issuer rules set` of a new version for the issuer in `dir`, from the day of `at` (else
/// today): the rules in force with `policies`; returns what was set.
pub(crate) fn set_policies(
    dir: &Path,
    policies: serde_json::Value,
    at: Option<&str>,
) -> serde_json::Value {
    let file = serde_json::json!({"rules": rules_json(dir, at)["rules"], "policies": policies});
    let path = dir.join("policies.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let mut args = vec![
        "issuer",
        "rules",
        "set",
        "--dir",
        s(dir),
        "--file",
        s(&path),
    ];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    ok(run(&args));
    file
}

/// A German document signer for tests (its CA made from `seed`), valid 400 days either side of
/// `now`, for PCR tests only: its certificate (DER) and the signer.
pub(crate) fn german_signer(seed: u8, now: i64) -> (Vec<u8>, propusk_eudcc::DocumentSigner) {
    use propusk_eudcc::{DocumentSigner, Hc1Type, cert};
    let day = 86_400;
    let (ca_key, key) = (
        cert::signing_key(&[seed; 32]).unwrap(),
        cert::signing_key(&[seed + 1; 32]).unwrap(),
    );
    let ca = cert::country_signing_ca(&ca_key, "DE", "RKI", 1, now - 400 * day, now + 800 * day)
        .unwrap();
    let dsc = cert::document_signer(
        &ca_key,
        &ca,
        &key,
        &[Hc1Type::Test],
        2,
        now - 400 * day,
        now + 400 * day,
    )
    .unwrap();
    let signer = DocumentSigner::new(&key.to_bytes(), &dsc).unwrap();
    (dsc, signer)
}

/// A German negative PCR test certificate (`HC1:`) sampled at `sampled`, its own expiry at
/// `expires` (months away, as EU test certificates' often are).
pub(crate) fn german_test(
    signer: &propusk_eudcc::DocumentSigner,
    sampled: i64,
    expires: i64,
) -> String {
    let sc = propusk_spec::Timestamp::from_unix(sampled)
        .unwrap()
        .to_string();
    let json = serde_json::json!({
        "ver": "1.3.0", "nam": {"fn": "Mustermann", "fnt": "MUSTERMANN"}, "dob": "1980-05-12",
        "t": [{"tg": "840539006", "tt": "LP6464-4", "sc": sc, "tr": "260415000",
               "tc": "Testzentrum", "co": "DE", "is": "RKI", "ci": "URN:UVCI:01:DE:T/1#1"}],
    });
    propusk_eudcc::sign(&json, "DE", sampled, expires, signer)
        .unwrap()
        .text
}

/// Runs `sql` on the store of the issuer in `dir` (its SQLite file, or the backend's
/// PostgreSQL database), as someone with a database login but no passphrase would; `{blob:HEX}`
/// is written as each database spells a byte string.
pub(crate) fn sql(dir: &Path, sql: &str) {
    let blob = |pg: bool, text: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("{blob:") {
            out.push_str(&rest[..at]);
            let end = rest[at..].find('}').unwrap() + at;
            let hex = &rest[at + 6..end];
            out.push_str(&if pg {
                format!("'\\x{hex}'::bytea")
            } else {
                format!("X'{hex}'")
            });
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    };
    match database() {
        Some(url) => {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client.batch_execute(&blob(true, sql)).unwrap();
        }
        None => {
            let conn = rusqlite::Connection::open(dir.join("issuer.sqlite")).unwrap();
            conn.execute_batch(&blob(false, sql)).unwrap();
        }
    }
}
