//! Argument parsing and dispatch.

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::{CliError, EXIT_OK, EXIT_USAGE};
use crate::{demo, inspect, issue, verify, wallet};

/// Offline-first signed health credentials: issue, carry, verify.
#[derive(Debug, Parser)]
#[command(name = "propusk", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole story in one run: issuer, QR codes read from pixels, wallet, offline verifier,
    /// key rotation, revocation, expiry and the portal page on a loopback server. Exit 0 only when
    /// every outcome is as expected.
    Demo(demo::DemoArgs),
    /// Decode credential text layer by layer, without checking the signature, and print what it
    /// holds (exit 0 when it decodes, 1 when a layer refuses it).
    Decode(inspect::Args),
    /// Measure the wire format: encode, decode and verify time per credential, the text length
    /// and QR version of each type, and the size against an EU DCC of the same content.
    Bench(propusk_bench::Args),
    /// The issuing authority: keys, issuance, revocation, publishing.
    Issuer(issue::IssuerArgs),
    /// Serve the trust bundle, the portal page for link QR codes and the operator API
    /// (`Authorization: Bearer` the token in DIR/operator.token).
    Serve(issue::ServeArgs),
    /// The holder's wallet.
    Wallet(wallet::WalletArgs),
    /// Set up and sync a verifier's local trust store.
    #[command(subcommand)]
    Verifier(verify::VerifierCommand),
    /// Verify credentials offline: exit 0 valid, 1 invalid, 2 cannot tell (the worst verdict
    /// decides), 64 usage error (nothing to verify included), 66 a missing image file, 78 no
    /// store. On a terminal with no text given, a door display.
    Verify(verify::VerifyArgs),
}

/// Parses `args` and runs the command; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Demo(args) => Ok(demo::run(&args)),
        Command::Decode(args) => Ok(inspect::run(&args)),
        Command::Bench(args) => Ok(propusk_bench::run(&args)),
        Command::Issuer(cmd) => issue::run(&cmd),
        Command::Serve(args) => issue::run_serve(&args),
        Command::Wallet(args) => wallet::run(&args),
        Command::Verifier(cmd) => verify::run_verifier(&cmd),
        Command::Verify(args) => {
            let inputs = matches
                .subcommand_matches("verify")
                .map(|m| verify::inputs(&args, m))
                .unwrap_or_default();
            verify::run_verify(&args, &inputs)
        }
    };
    result.unwrap_or_else(|e| {
        if !matches!(e, CliError::Closed) {
            eprintln!("propusk: {}", without_os_error(&e.to_string()));
        }
        e.exit_code()
    })
}

/// A message without the operating system's error numbers (` (os error 2)`), which the
/// libraries' I/O errors carry and people cannot use.
fn without_os_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" (os error ") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match rest.find(')') {
            Some(end) => rest = &rest[end + 1..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}
