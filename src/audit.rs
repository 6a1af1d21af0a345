//! `propusk issuer audit` and `propusk issuer vouch`: what the issuer's store records of its
//! changes, and the rows nothing proves it wrote.

use std::path::Path;

use propusk_spec::Timestamp;

use crate::error::{CliError, EXIT_DATA};
use crate::json;
use crate::opening::{local, open, unlocked};

/// `issuer audit [--json]`: the audit log, oldest first, times in the jurisdiction's zone.
pub fn audit(dir: &Path, as_json: bool) -> Result<(), CliError> {
    let issuer = open(dir)?;
    let log = issuer.audit_log()?;
    if as_json {
        println!("{}", json(&log, true));
    } else {
        let locale = local(&issuer);
        for e in log {
            // Instants inside the details (`since …`) in local time too.
            let detail: Vec<String> = e
                .detail
                .split(' ')
                .map(|word| {
                    let bare = word.trim_end_matches([',', ';', ')']);
                    match bare.parse::<Timestamp>() {
                        Ok(t) => word.replace(bare, &locale.time(t)),
                        Err(_) => word.to_owned(),
                    }
                })
                .collect();
            println!(
                "{:>5}  {}  {:15} {}",
                e.seq,
                locale.time(e.at),
                e.op.as_str(),
                detail.join(" ")
            );
        }
    }
    Ok(())
}

/// `issuer vouch [--yes]`: the unproven rows, proven on --yes; exit 65 while any remain.
pub fn vouch(dir: &Path, yes: bool, now: Timestamp) -> Result<u8, CliError> {
    let v = unlocked(dir)?.vouch(yes, now)?;
    if v.unproven.is_empty() && v.foreign.is_empty() {
        println!("every row a publication vouches for is proven");
        return Ok(0);
    }
    for row in &v.unproven {
        println!("unproven: {row}");
    }
    for row in &v.foreign {
        println!("not this issuer's: {row}: remove it from the database");
    }
    if v.proven {
        println!("proven now: {} row(s) (in the audit log)", v.unproven.len());
    } else if !v.unproven.is_empty() {
        println!("check that these are yours, then run again with --yes to prove them");
    }
    if !v.foreign.is_empty() || !v.proven {
        return Ok(EXIT_DATA);
    }
    Ok(0)
}
