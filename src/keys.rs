//! `propusk issuer key ...`: list, rotate, retire, distrust the signing keys.

use std::path::Path;

use propusk_issuer::{InputError, IssuerError, KeyError, RotationAdvice};
use propusk_spec::Timestamp;

use crate::error::CliError;
use crate::json;
use crate::opening::{local, unlocked};

/// `propusk issuer key ...`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyOp {
    /// List the keys (`--json`: an array of key_id, public_key, status, not_before, not_after).
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Make the announced key (or a new one) active and retire the active one; with
    /// `--announce`, only announce a new key (published, not yet signing).
    Rotate {
        /// Announce a new key ahead of use instead of rotating.
        #[arg(long)]
        announce: bool,
    },
    /// Retire a signing key: it signs nothing new; what it signed stays valid.
    Retire {
        /// The key id.
        kid: String,
    },
    /// Keep every key made from now on (signing keys at the next rotation, EU keys) in a
    /// hardware security module; the keys sealed so far stay sealed and sign until rotated
    /// out. Needs the passphrase and the token's PIN (PROPUSK_PKCS11_PIN or the terminal).
    #[command(
        after_help = "Examples:\n  propusk issuer key to-token --dir ISS --pkcs11 /usr/lib/softhsm/libsofthsm2.so --token propusk\n  propusk issuer key rotate --dir ISS"
    )]
    ToToken {
        /// The PKCS#11 module of the hardware security module.
        #[arg(long, value_name = "MODULE")]
        pkcs11: std::path::PathBuf,
        /// The label of the token in that module.
        #[arg(long, value_name = "LABEL")]
        token: String,
    },
    /// Distrust a signing key from a time on: credentials it signed then or later are refused.
    Compromise {
        /// The key id.
        kid: String,
        /// From when (RFC 3339; default: the time of the operation).
        #[arg(long)]
        since: Option<String>,
    },
}

/// Runs one key operation.
pub(crate) fn run(dir: &Path, op: &KeyOp, now: Timestamp) -> Result<(), CliError> {
    match op {
        KeyOp::List { json: as_json } => {
            let issuer = crate::opening::open(dir)?;
            let keys = issuer.keys()?;
            if *as_json {
                println!("{}", json(&keys, true));
                return Ok(());
            }
            let locale = local(&issuer);
            for k in keys {
                let since = k
                    .since()
                    .map(|s| format!(" since {}", locale.time(s)))
                    .unwrap_or_default();
                let end = k
                    .not_after
                    .map_or_else(|| "no end".to_owned(), |t| locale.time(t));
                let kept = if k.in_token { ", in the token" } else { "" };
                println!(
                    "{} {:7} {}{since}, from {} to {end}{kept}",
                    k.key_id,
                    k.role.as_str(),
                    k.status.as_str(),
                    locale.time(k.not_before)
                );
            }
        }
        KeyOp::Rotate { announce } => {
            let mut issuer = unlocked(dir)?;
            let (key, advice) = issuer.rotate_advised(now, *announce)?;
            println!("signing key {} is {}", key.key_id, key.status.as_str());
            let locale = local(&issuer);
            match advice {
                RotationAdvice::Announced { safe_from } => println!(
                    "next: publish now (`propusk issuer publish`), then rotate once verifiers \
                     have synced: every verifier holding fresh trust data has it by {}",
                    locale.time(safe_from)
                ),
                RotationAdvice::NotAnnounced => eprintln!(
                    "propusk: warning: verifiers that have not synced trust data naming key {} \
                     answer \"cannot tell\" for what it signs until they do: publish now, and \
                     next time announce a key ahead (`key rotate --announce`, publish, rotate \
                     after verifiers synced)",
                    key.key_id
                ),
                RotationAdvice::NeverPublished => eprintln!(
                    "propusk: warning: the announced key {} was never published: no verifier \
                     knows it, and they answer \"cannot tell\" for what it signs until they \
                     sync: publish now",
                    key.key_id
                ),
                RotationAdvice::RecentlyPublished { at, safe_from } => eprintln!(
                    "propusk: warning: key {} was first published {}; verifiers that have not \
                     synced since answer \"cannot tell\" for what it signs until they do \
                     (every verifier with fresh data has it by {}): publish now",
                    key.key_id,
                    locale.time(at),
                    locale.time(safe_from)
                ),
                RotationAdvice::Ready => println!("next: publish now (`propusk issuer publish`)"),
            }
        }
        KeyOp::Retire { kid } => match unlocked(dir)?.retire(kid, now) {
            Ok(()) => println!("signing key {kid} retired"),
            // Retiring twice changes nothing and is not a failure.
            Err(e @ IssuerError::Key(KeyError::AlreadyRetired { .. })) => println!("{e}"),
            Err(e) => return Err(e.into()),
        },
        KeyOp::ToToken { pkcs11, token } => {
            if let Some(place) = propusk_issuer::TokenPlace::read(dir)? {
                return Err(CliError::Usage(format!(
                    "this issuer keeps its keys in token {} already",
                    place.token
                )));
            }
            let mut issuer = unlocked(dir)?;
            let place = propusk_issuer::TokenPlace {
                module: pkcs11.clone(),
                token: token.clone(),
            };
            issuer.move_to_token(crate::opening::token(place)?, now)?;
            println!(
                "keys made from now on are kept in token {token}; next: rotate the signing key \
                 (`key rotate --announce`, publish, then `key rotate`) to sign with one there"
            );
        }
        KeyOp::Compromise { kid, since } => {
            let since = match since {
                Some(s) => s
                    .parse()
                    .map_err(|e| IssuerError::from(InputError::field("--since", e)))?,
                None => now,
            };
            unlocked(dir)?.compromise(kid, since, now)?;
            let issuer = crate::opening::open(dir)?;
            println!(
                "signing key {kid} distrusted since {}; publish now (`propusk issuer publish`): \
                 verifiers accept what it signed until they sync; then sign its credentials \
                 again under the active key (`propusk issuer reissue --key {kid}`)",
                local(&issuer).time(since)
            );
        }
    }
    Ok(())
}
