//! `propusk decode`: what a credential text holds, layer by layer, signature unchecked.

use std::io::BufRead;

use propusk_spec::{UnverifiedCredential, decode_any};
use serde_json::json;

use crate::error::{EXIT_INVALID, EXIT_IO, EXIT_OK};

/// Arguments of `propusk decode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Credential text (`PR1:...`) or a Propusk link; `-` or nothing reads one per line from
    /// standard input.
    pub input: Option<String>,
    /// Print one JSON object per input instead of text.
    #[arg(long)]
    pub json: bool,
}

fn report(input: &str, json_out: bool) -> bool {
    match decode_any(input) {
        Ok(u) => {
            print_decoded(&u, json_out);
            true
        }
        Err(e) => {
            if json_out {
                let v = json!({"decoded": false, "layer": e.layer(), "reason": e.code(), "error": e.to_string()});
                println!("{v}");
            } else {
                println!("refused at the {} layer ({}): {e}", e.layer(), e.code());
            }
            false
        }
    }
}

fn print_decoded(u: &UnverifiedCredential, json_out: bool) {
    let c = u.unverified_claims();
    if json_out {
        let v = json!({
            "decoded": true,
            "signature_checked": false,
            "key_id": u.key_id().to_string(),
            "compressed": u.was_compressed(),
            "credential": c,
        });
        println!("{v}");
        return;
    }
    println!("type:        {}", c.credential_type().as_str());
    println!("id:          {}", c.id);
    println!("key id:      {}", u.key_id());
    println!("issued at:   {}", c.issued_at);
    println!("expires at:  {}", c.expires_at);
    println!(
        "holder:      {}  born {}  {}",
        c.holder.initials(),
        c.holder.birth_date,
        c.holder.document.masked()
    );
    println!(
        "compressed:  {}",
        if u.was_compressed() {
            "yes (zlib)"
        } else {
            "no"
        }
    );
    println!("signature:   NOT CHECKED (use `propusk verify` for a verdict)");
}

/// Runs `propusk decode`.
pub fn run(args: &Args) -> u8 {
    let mut all_ok = true;
    match args.input.as_deref() {
        Some(input) if input != "-" => all_ok = report(input, args.json),
        _ => {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else {
                    eprintln!("propusk: cannot read standard input");
                    return EXIT_IO;
                };
                let line = line.trim_end_matches(['\r', '\n']);
                if !line.is_empty() {
                    all_ok &= report(line, args.json);
                }
            }
        }
    }
    if all_ok { EXIT_OK } else { EXIT_INVALID }
}
