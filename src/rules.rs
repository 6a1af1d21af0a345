//! `propusk issuer rules ...`: the rules as the operator's data.

use std::path::{Path, PathBuf};

use propusk_issuer::{InputError, IssuerError, RulesFile, RulesVersion};
use propusk_spec::Timestamp;
use propusk_trust_list::Rule;

use crate::error::CliError;
use crate::opening::{open, read, unlocked};

/// `propusk issuer rules ...`.
#[derive(Debug, clap::Subcommand)]
pub enum RulesOp {
    /// The rules in force (at --at, default now) and the versions scheduled after them;
    /// `--json`: the rules and door policies in force (`{"rules": […], "policies": […]}`),
    /// exactly what `rules set --file` takes.
    Show {
        /// The rules in force as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Record a new version of the rules: the JSON of FILE (what `rules show --json` prints; a
    /// bare array is the rules alone), in force, whole, from --from (a local date YYYY-MM-DD, or an instant
    /// whose local day it starts on; default today) on. It reaches verifiers with the next
    /// publish. Refused (exit 65) when it does not parse or leaves a type without a rule.
    Set {
        /// The rules, a JSON array (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// The first local day of the version (default: today).
        #[arg(long)]
        from: Option<String>,
    },
}

/// Runs `propusk issuer rules ...`.
pub fn run(dir: &Path, op: &RulesOp, now: Timestamp) -> Result<(), CliError> {
    match op {
        RulesOp::Show { json } => {
            let view = open(dir)?.rules_view(now)?;
            if *json {
                let file = RulesFile {
                    rules: view.in_force.rules.clone(),
                    policies: view.in_force.policies.clone(),
                };
                println!("{}", crate::json(&file, true));
                return Ok(());
            }
            println!(
                "in force: version {}, since {}",
                view.in_force.version, view.in_force.effective_from
            );
            print_rules(&view.in_force);
            for v in &view.scheduled {
                println!(
                    "scheduled: version {}, from {}",
                    v.version, v.effective_from
                );
                print_rules(v);
            }
        }
        RulesOp::Set { file, from } => {
            let bytes = read(file)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| IssuerError::from(InputError::field("--file", "not UTF-8 text")))?;
            let v = unlocked(dir)?.set_rules(&text, from.as_deref(), now)?;
            println!(
                "rules version {} recorded, in force from {}: publish (propusk issuer publish) \
                 to send it to verifiers",
                v.version, v.effective_from
            );
        }
    }
    Ok(())
}

fn print_rules(v: &RulesVersion) {
    for rule in &v.rules {
        println!("  {}", describe(rule));
    }
    for p in &v.policies {
        let admit: Vec<String> = p
            .admit
            .iter()
            .map(|a| a.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" + "))
            .collect();
        println!("  door policy {}: admits {}", p.name, admit.join(", or "));
    }
}

/// A rule in words.
fn describe(rule: &Rule) -> String {
    match rule {
        Rule::Vaccination {
            wait_days,
            valid_days,
            single_dose_products,
        } => format!(
            "vaccination: from day {wait_days} to day {valid_days} after the last dose of a full \
             course (one dose is a full course of: {})",
            if single_dose_products.is_empty() {
                "none".to_owned()
            } else {
                single_dose_products.join(", ")
            }
        ),
        Rule::Recovery {
            wait_days,
            valid_days,
        } => format!(
            "recovery: from day {wait_days} to day {valid_days} after the first positive test"
        ),
        Rule::Test { kind, valid_hours } => {
            format!(
                "test ({}): {valid_hours} hours from sampling",
                kind.as_str()
            )
        }
        Rule::Exemption { max_days } => {
            format!("exemption: its own window, at most {max_days} days")
        }
        Rule::Pass { max_hours } => format!("pass: its own window, at most {max_hours} hours"),
    }
}
