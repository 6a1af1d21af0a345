//! `propusk decode`: what a credential text holds, layer by layer, signature unchecked.

use std::io::BufRead;

use crate::error::{EXIT_INVALID, EXIT_IO, EXIT_OK};

/// Arguments of `propusk decode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Credential text (`PR2:...`), a Propusk link or an EU certificate (`HC1:...`); `-` or
    /// nothing reads one per line from standard input.
    pub input: Option<String>,
    /// Print one JSON object per input instead of text.
    #[arg(long)]
    pub json: bool,
    /// Show the holder whole (names, full document number); by default masked as a verifier
    /// shows it.
    #[arg(long)]
    pub full: bool,
}

fn report(input: &str, json: bool, full: bool) -> bool {
    let (decoded, shown) = propusk_verifier::describe(input, json, full);
    println!("{shown}");
    decoded
}

/// Runs `propusk decode`.
pub fn run(args: &Args) -> u8 {
    let mut all_ok = true;
    match args.input.as_deref() {
        Some(input) if input != "-" => all_ok = report(input, args.json, args.full),
        _ => {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else {
                    eprintln!("propusk: cannot read standard input");
                    return EXIT_IO;
                };
                let line = line.trim_end_matches(['\r', '\n']);
                if !line.is_empty() {
                    all_ok &= report(line, args.json, args.full);
                }
            }
        }
    }
    if all_ok { EXIT_OK } else { EXIT_INVALID }
}
