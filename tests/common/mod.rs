//! What the end-to-end tests share: running the real binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Runs `propusk` with `args`, feeding `stdin`.
pub(crate) fn propusk(args: &[&str], stdin: &str) -> Output {
    propusk_with(args, stdin, &[])
}

/// Runs `propusk` with `args` and environment variables, feeding `stdin`.
pub(crate) fn propusk_with(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_propusk"))
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args(["serve", "--dir", dir.to_str().unwrap(), "--addr", addr])
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
