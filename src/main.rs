//! `propusk`: offline-first signed health credentials.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(propusk::cli::run(std::env::args_os()))
}
