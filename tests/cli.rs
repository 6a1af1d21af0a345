//! The `propusk` binary end to end: arguments in, output and exit codes out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::propusk;

fn vector_text(name: &str) -> String {
    let path = format!("{}/spec/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["text"].as_str().unwrap().to_owned()
}

#[test]
fn decode_shows_the_masked_holder_and_exits_0() {
    let out = propusk(&["decode", &vector_text("valid-vaccination")], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("type:        vaccination"), "{stdout}");
    assert!(
        stdout.contains("И. И. И.  born 1980-05-12  45** ***789"),
        "{stdout}"
    );
    assert!(stdout.contains("NOT CHECKED"), "{stdout}");
    assert!(
        !stdout.contains("Иванов"),
        "full names are not shown: {stdout}"
    );
    // JSON the same: the credential carries nothing more of its holder, so --full shows no
    // more either.
    let text = vector_text("valid-vaccination");
    for flags in [&["--json"][..], &["--json", "--full"]] {
        let mut args = vec!["decode"];
        args.extend_from_slice(flags);
        args.push(&text);
        let shown: serde_json::Value = serde_json::from_slice(&propusk(&args, "").stdout).unwrap();
        let holder = &shown["credential"]["holder"];
        assert_eq!(holder["initials"], "И. И. И.", "{shown}");
        assert_eq!(holder["birth_date"], "1980-05-12", "{shown}");
        assert_eq!(holder["document"]["number"], "45** ***789", "{shown}");
        assert_eq!(holder["document"]["kind"], "passport", "{shown}");
        assert!(!shown.to_string().contains("Иванов") && !shown.to_string().contains("123789"));
    }
}

#[test]
fn decode_reads_stdin_one_per_line_and_the_worst_decides() {
    let input = format!(
        "{}\r\n{}\nHC1:XYZ\n",
        vector_text("valid-test"),
        vector_text("invalid-compressed")
    );
    let out = propusk(&["decode", "--json"], &input);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["decoded"], true);
    assert_eq!(lines[0]["credential"]["type"], "test");
    assert_eq!(lines[1]["layer"], "cose");
    // An EU certificate is decoded as one: this one's base45 is refused.
    assert_eq!(lines[2]["format"], "hc1");
    assert_eq!(lines[2]["layer"], "b45decode");
    assert_eq!(lines[2]["reason"], "corrupt");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    assert_eq!(propusk(&["frobnicate"], "").status.code(), Some(64));
    assert_eq!(
        propusk(&["decode", "--no-such-flag"], "").status.code(),
        Some(64)
    );
    let help = propusk(&["--help"], "");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("decode") && text.contains("bench"), "{text}");
}

#[test]
fn bench_prints_figures_for_every_type() {
    let out = propusk(&["bench", "--iterations", "3"], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for kind in ["vaccination", "recovery", "test", "exemption", "pass"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(kind))
            .unwrap_or_else(|| panic!("{kind}: {stdout}"));
        let qr: i32 = row.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!((1..=12).contains(&qr), "{row}");
    }
}

/// A reader that stops reading (`propusk decode - | head -1`) ends the command quietly (exit 141,
/// as a shell reports SIGPIPE), not with a panic.
#[test]
fn a_closed_output_ends_the_command_quietly() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let args = ["decode", "-"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..10_000 {
            if stdin.write_all(b"PR2:NOT-A-CREDENTIAL\n").is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
}

/// Every command's help ends in examples; completions and the manual page are generated.
#[test]
fn every_command_has_examples_completions_and_a_manual() {
    use clap::CommandFactory;
    let top = propusk::cli::Cli::command();
    let mut missing = Vec::new();
    for command in top.get_subcommands() {
        let has = |c: &clap::Command| {
            c.get_after_help()
                .is_some_and(|h| h.to_string().contains("Examples:"))
        };
        if !has(command) {
            missing.push(command.get_name().to_owned());
        }
        // Their subcommands too (the key operations share `issuer key`'s examples).
        for sub in command.get_subcommands() {
            if !has(sub) {
                missing.push(format!("{} {}", command.get_name(), sub.get_name()));
            }
        }
    }
    assert!(missing.is_empty(), "no examples: {missing:?}");
    for shell in ["bash", "zsh", "fish"] {
        let out = propusk(&["completions", shell], "");
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("verify"),
            "{shell}"
        );
    }
    let man = propusk(&["man"], "");
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH propusk 1"));
    let tmp = tempfile::tempdir().unwrap();
    let out = propusk(&["man", "--out", tmp.path().to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0));
    assert!(tmp.path().join("propusk-verify.1").exists());
}

/// What people read carries no internals: no Debug text, no operating-system error numbers, no
/// sentinel numbers, and no RFC 3339 instants outside JSON (times are local, with their zone).
#[test]
fn no_words_for_people_carry_internals() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |path: &str| tmp.path().join(path).to_str().unwrap().to_owned();
    let (iss, usb, store, wallet) = (p("iss"), p("usb"), p("store"), p("wallet"));
    let pass = [common::PASS];
    let run = |args: &[&str], stdin: &str| common::propusk_with(args, stdin, &pass);
    let mut shown = String::new();
    let mut say = |out: std::process::Output| {
        shown.push_str(&String::from_utf8_lossy(&out.stdout));
        shown.push_str(&String::from_utf8_lossy(&out.stderr));
    };
    say(run(
        &[
            "issuer",
            "init",
            "--dir",
            &iss,
            "--url",
            "https://portal.example",
        ],
        "",
    ));
    let json = String::from_utf8_lossy(&run(&["issuer", "example", "vaccination"], "").stdout)
        .into_owned();
    let issued = run(&["issuer", "issue", "--dir", &iss, "--input", "-"], &json);
    let text = String::from_utf8_lossy(&issued.stdout).trim().to_owned();
    say(issued);
    for args in [
        vec!["issuer", "key", "list", "--dir", &iss],
        vec!["issuer", "publish", "--dir", &iss, "--out", &usb],
        vec!["issuer", "audit", "--dir", &iss],
        vec!["issuer", "config", "--dir", &iss],
        vec!["issuer", "key", "retire", "--dir", &iss, "nosuchkey"],
        vec![
            "issuer",
            "eu-import",
            "--dir",
            &iss,
            "--country",
            "DE",
            "/nonexistent.der",
        ],
        vec![
            "verifier",
            "init",
            "--store",
            &store,
            "--root",
            &format!("{iss}/root.pub"),
        ],
        vec!["verifier", "sync", "--store", &store, "--from", &usb],
        vec!["verifier", "status", "--store", &store],
        vec!["verify", "--store", &store, &text],
        vec!["verify", "--store", &store, "--lang", "ru", &text],
        vec!["verify", "--store", &store, "--image", "/nonexistent.png"],
        vec!["decode", &text],
        vec!["wallet", "--dir", &wallet, "add", &text],
        vec![
            "wallet",
            "--dir",
            &wallet,
            "trust",
            "--root",
            &format!("{iss}/root.pub"),
            "--from",
            &usb,
        ],
        vec!["wallet", "--dir", &wallet, "list"],
        vec!["wallet", "--dir", &wallet, "best"],
    ] {
        say(run(&args, ""));
    }
    for internal in [
        "Some(",
        "None",
        "{ ",
        "os error",
        "4611686018427387903",
        "[1, 2]",
        "Error {",
    ] {
        assert!(!shown.contains(internal), "{internal:?} in:\n{shown}");
    }
    let rfc3339 = shown
        .split_whitespace()
        .find(|w| w.len() >= 20 && w.as_bytes()[10] == b'T' && w.contains(':') && w.ends_with('Z'));
    assert_eq!(
        rfc3339, None,
        "an RFC 3339 instant shown to people:\n{shown}"
    );
}
