//! `propusk issuer ...` and `propusk serve`.

use std::path::PathBuf;

use propusk_issuer::{InputError, Issuer, IssuerError, TokenPlace};
use propusk_spec::CredentialId;

use crate::error::{CliError, EXIT_DATA, parse_at};
use crate::opening::{self, choose_database, database, new_passphrase, open, unlocked};

/// `propusk issuer [--dir DIR] [--at TIME] ...` (both also after the subcommand).
#[derive(Debug, clap::Args)]
pub struct IssuerArgs {
    /// The issuer's directory.
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
    /// The time of the operation (RFC 3339; default now).
    #[arg(long, global = true)]
    pub at: Option<String>,
    /// The issuer's PostgreSQL database (`postgres://user@host:5432/name`) instead of the SQLite
    /// file in --dir (default: PROPUSK_DATABASE_URL); --dir still holds root.pub and the token.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: IssuerCommand,
}

/// `propusk issuer ...`.
#[derive(Debug, clap::Subcommand)]
pub enum IssuerCommand {
    /// Print an example input valid now (or at --at): an issuance JSON of TYPE
    /// (vaccination, recovery, test, exemption, pass), or `registry`, a registry export with one
    /// record of each type. Needs no --dir.
    #[command(
        after_help = "Examples:\n  propusk issuer example test > test.json\n  propusk issuer example registry > registry.csv"
    )]
    Example {
        /// `vaccination`, `recovery`, `test`, `exemption`, `pass` or `registry`.
        #[arg(value_parser = ["vaccination", "recovery", "test", "exemption", "pass", "registry"])]
        kind: String,
    },
    /// Show the settings, or change the authority's name, the portal URL (`--url ""` removes
    /// it) or the time zone after init; each change is in the audit log. A running `serve`
    /// takes them at its next start.
    #[command(
        after_help = "Examples:\n  propusk issuer config --dir ISS\n  propusk issuer config --dir ISS --url https://portal.example"
    )]
    Config {
        /// The authority's name, as verifiers show it.
        #[arg(long)]
        name: Option<String>,
        /// The portal's base URL, for link-form QR codes.
        #[arg(long)]
        url: Option<String>,
        /// The jurisdiction's IANA time zone.
        #[arg(long)]
        time_zone: Option<String>,
        /// The authority's name in Latin letters, for its EU twins (the certificate issuer and
        /// the travel page; `""` removes it).
        #[arg(long, value_name = "NAME")]
        name_latin: Option<String>,
    },
    /// The audit log: every change of keys, credentials, settings and publications, oldest
    /// first (`--json`: an array of seq, at, op, detail).
    #[command(
        after_help = "Examples:\n  propusk issuer audit --dir ISS\n  propusk issuer audit --dir ISS --json"
    )]
    Audit {
        /// JSON output (times in RFC 3339, UTC).
        #[arg(long)]
        json: bool,
    },
    /// List the rows that publishing would refuse because nothing proves this issuer wrote
    /// them (keys, EU signers, settings, revocations written into the database by other
    /// means, or kept from a store made before proofs existed); with --yes, prove those the
    /// passphrase can (after you have checked they are yours). Exit 65 while any remain.
    #[command(
        after_help = "Examples:\n  propusk issuer vouch --dir ISS\n  propusk issuer vouch --dir ISS --yes"
    )]
    Vouch {
        /// Prove the rows listed (recorded in the audit log).
        #[arg(long)]
        yes: bool,
    },
    /// Create an issuer: a root key (signs trust bundles only), a first signing key,
    /// `DIR/root.pub` (the key verifiers pin) and `DIR/operator.token` (owner-readable). Secret
    /// keys are sealed with the passphrase in PROPUSK_PASSPHRASE, or one asked on the terminal;
    /// with --pkcs11 and --token, every key is made and kept in that hardware security module
    /// instead (the PIN from PROPUSK_PKCS11_PIN or the terminal; no passphrase).
    #[command(
        after_help = "Examples:\n  propusk issuer init --dir ISS --name 'Минздрав России' --country RU --time-zone Europe/Moscow\n  PROPUSK_PKCS11_PIN=… propusk issuer init --dir ISS --pkcs11 /usr/lib/softhsm/libsofthsm2.so --token propusk"
    )]
    Init {
        /// The PKCS#11 module of the hardware security module to keep the keys in.
        #[arg(long, value_name = "MODULE", requires = "token")]
        pkcs11: Option<PathBuf>,
        /// The label of the token in that module.
        #[arg(long, value_name = "LABEL", requires = "pkcs11")]
        token: Option<String>,
        /// The authority's name, as verifiers show it.
        #[arg(long, default_value = "Propusk issuer")]
        name: String,
        /// The jurisdiction (ISO 3166-1 alpha-2).
        #[arg(long, default_value = "RU")]
        country: String,
        /// The portal's base URL, for link-form QR codes.
        #[arg(long)]
        url: Option<String>,
        /// The jurisdiction's IANA time zone, in which the rules count days.
        #[arg(long, default_value = "Europe/Moscow")]
        time_zone: String,
    },
    /// Issue one credential from the issuance JSON; prints the credential text (or, with
    /// `--link`, the portal link) as the last line. Exit 65 when the input is malformed or the
    /// rules forbid it.
    #[command(
        after_help = "Examples:\n  propusk issuer issue --dir ISS --input examples/vaccination.json --png qr.png\n  propusk issuer issue --dir ISS --input person.json --link"
    )]
    Issue {
        /// The issuance JSON file (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Also write the QR code as PNG.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Also write the QR code as SVG.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Print (and draw) the portal link form instead of the credential text: the short link
        /// with the whole signed credential in its fragment, so a phone opens the portal and a
        /// verifier checks it offline.
        #[arg(long)]
        link: bool,
        /// Also issue the EU DCC twin of the record (`HC1:`, for travel abroad), printed as the
        /// last line; refused (exit 65, nothing issued) when the record cannot make one.
        #[arg(long)]
        eu: bool,
        /// Also write the EU twin's QR code as PNG (implies --eu).
        #[arg(long, value_name = "FILE")]
        eu_png: Option<PathBuf>,
        /// A record issued before with other content (a correction) is issued again: its old
        /// credential revoked and the corrected one issued (audited). Without it such a record
        /// is refused (exit 65) and nothing is issued.
        #[arg(long)]
        reissue: bool,
    },
    /// Issue from a registry export: CSV with a header row (columns in the README) or JSON
    /// Lines (`.jsonl`). Idempotent on the record id; writes one QR PNG per record and
    /// `issued.csv` (record_id,credential_id[,hc1],image[,replaces]) into OUT. Bad rows are
    /// reported by line and the good ones issued; exit 65 when any row was bad. A record issued
    /// before with other content is a bad row (nothing written for it) unless --reissue.
    #[command(
        after_help = "Examples:\n  propusk issuer batch --dir ISS --input examples/registry.csv --out OUT"
    )]
    Batch {
        /// The registry export.
        #[arg(long)]
        input: PathBuf,
        /// Where the QR images and `issued.csv` go.
        #[arg(long)]
        out: PathBuf,
        /// Write no QR images (only `issued.csv`).
        #[arg(long)]
        no_images: bool,
        /// Also issue each record's EU DCC twin: an `hc1` column in `issued.csv` and
        /// `RECORD.hc1.png`; a record that cannot make one is a bad row.
        #[arg(long)]
        eu: bool,
        /// Records issued before with other content (corrections) are issued again: each old
        /// credential revoked, the corrected one issued, both ids in `issued.csv` (`replaces`).
        #[arg(long)]
        reissue: bool,
    },
    /// Sign credentials again under the active key: one record's, every credential of a key
    /// (after it was compromised and a new one rotated in), or every credential not signed by
    /// the active key (--all: after a rotation for a format change). Each old credential is
    /// revoked and its content issued anew in one transaction, audited with both ids; OUT gets
    /// the new QR PNGs (and twins) and `issued.csv` (record_id,credential_id[,hc1],image,
    /// replaces). Streams in chunks; a rerun after a kill signs nothing twice. Publish next.
    #[command(
        after_help = "Examples:\n  propusk issuer reissue --dir ISS R-0001 --out OUT\n  propusk issuer key compromise --dir ISS 1A2B3C4D && propusk issuer key rotate --dir ISS\n  propusk issuer reissue --dir ISS --key 1A2B3C4D --out OUT && propusk issuer publish --dir ISS --out USB"
    )]
    #[command(group(clap::ArgGroup::new("which").required(true).args(["record_id", "key", "all"])))]
    Reissue {
        /// The registry record whose credential to sign again.
        record_id: Option<String>,
        /// Every unexpired, unrevoked credential signed by this key.
        #[arg(long, value_name = "KID")]
        key: Option<String>,
        /// Every unexpired, unrevoked credential not signed by the active key.
        #[arg(long)]
        all: bool,
        /// Where the new QR images and `issued.csv` go (needed for --key and --all; without
        /// it, one record's new credential text is printed, its twin on the line after).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write no QR images (only `issued.csv`).
        #[arg(long)]
        no_images: bool,
    },
    /// The issuer's own EU DCC keys: a country signing CA and document signers, for the EU
    /// twin of credentials (`issue --eu`).
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  propusk issuer eu init --dir ISS\n  propusk issuer eu export --dir ISS --out GATEWAY\n  propusk issuer eu rotate --dir ISS"
    )]
    Eu(crate::eu::EuOp),
    /// The rules verifiers judge by, as the operator's data: shown, and changed by a new
    /// version in force from a local day (published with the next publish).
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  propusk issuer rules show --dir ISS\n  propusk issuer rules show --dir ISS --json > rules.json\n  propusk issuer rules set --dir ISS --file rules.json --from 2027-01-15"
    )]
    Rules(crate::rules::RulesOp),
    /// Was a registry record issued, and when? Prints the record's credential as JSON (id,
    /// type, key, issued_at, expires_at, status); exit 65 when the record was never issued.
    #[command(after_help = "Examples:\n  propusk issuer record --dir ISS R-0001")]
    Record {
        /// The registry record id.
        record_id: String,
    },
    /// Import EU DCC document signer certificates (DER or PEM X.509) to publish with the trust
    /// bundle, so that verifiers check EU certificates with the same trust data (the same as
    /// `issuer eu import`).
    #[command(after_help = "Examples:\n  propusk issuer eu-import --dir ISS --country DE DSC.der")]
    EuImport {
        /// The country that issued them (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: String,
        /// The certificate files.
        #[arg(required = true)]
        certificates: Vec<PathBuf>,
    },
    /// Manage signing keys.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  propusk issuer key list --dir ISS\n  propusk issuer key rotate --announce --dir ISS\n  propusk issuer key compromise KID --since 2026-11-30T10:00:00+03:00 --dir ISS"
    )]
    Key(crate::keys::KeyOp),
    /// Revoke a credential (the holder fell ill, or it was issued in error); it enters the
    /// revocation set at the next `publish`.
    #[command(
        after_help = "Examples:\n  propusk issuer revoke --dir ISS PDF2X3Y4BQJN7XV4GFRG4\n  propusk issuer publish --dir ISS --out USB   # then verifiers learn it"
    )]
    Revoke {
        /// The credential id.
        id: String,
    },
    /// Copy the whole SQLite issuer of --dir (keys, credentials, revocations, publications, audit
    /// log, settings, EU keys) into a PostgreSQL database, then read every table back and compare
    /// row counts and SHA-256 digests; all of it is committed, or nothing. A database that holds
    /// an issuer already is refused. Afterwards the SQLite store refuses every command (it is
    /// marked as moved): run the issuer with `--database URL`.
    #[command(
        after_help = "Examples:\n  propusk issuer migrate --dir ISS --to postgres://propusk@db.internal:5432/propusk"
    )]
    Migrate {
        /// The PostgreSQL database to copy into.
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Write the signed trust bundle (trust list, revocation list, rule set), deltas from recent
    /// publications and the signed index as static files.
    #[command(after_help = "Examples:\n  propusk issuer publish --dir ISS --out /media/usb")]
    Publish {
        /// Where to write the files.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs `propusk issuer ...`.
pub fn run(args: &IssuerArgs) -> Result<u8, CliError> {
    if let IssuerCommand::Example { kind } = &args.command {
        let now = parse_at(args.at.as_deref())?;
        if kind == "registry" {
            print!("{}", crate::examples::registry(now));
        } else if let Some((_, json)) = crate::examples::issuance(now)
            .into_iter()
            .find(|(k, _)| k == kind)
        {
            println!("{json}");
        }
        return Ok(0);
    }
    let dir = args
        .dir
        .as_deref()
        .ok_or_else(|| CliError::Usage("the issuer's --dir is required".into()))?;
    choose_database(args.database.as_deref())?;
    let now = parse_at(args.at.as_deref())?;
    match &args.command {
        // Answered above, without a directory.
        IssuerCommand::Example { .. } => {}
        IssuerCommand::Init {
            pkcs11,
            token,
            name,
            country,
            url,
            time_zone,
        } => {
            let settings = (
                name.as_str(),
                country.as_str(),
                url.as_deref(),
                time_zone.as_str(),
            );
            let issuer = match (pkcs11, token) {
                (Some(module), Some(token)) => {
                    let place = TokenPlace {
                        module: module.clone(),
                        token: token.clone(),
                    };
                    Issuer::init_in_token(dir, database(), settings, opening::token(place)?, now)?
                }
                _ => Issuer::init_in(dir, database(), settings, &new_passphrase()?, now)?,
            };
            println!("issuer {name} ready in {}", dir.display());
            for key in issuer.keys()? {
                println!(
                    "  {} key {} ({})",
                    key.role,
                    key.key_id,
                    key.status.as_str()
                );
            }
            println!(
                "verifiers pin {}",
                dir.join(propusk_issuer::ROOT_PUB_FILE).display()
            );
        }
        IssuerCommand::Issue {
            input,
            png,
            svg,
            link,
            eu,
            eu_png,
            reissue,
        } => crate::issuing::issue(
            dir,
            input,
            crate::issuing::Outputs {
                png: png.as_deref(),
                svg: svg.as_deref(),
                link: *link,
                eu: *eu || eu_png.is_some(),
                eu_png: eu_png.as_deref(),
                reissue: *reissue,
            },
            now,
        )?,
        IssuerCommand::Batch {
            input,
            out,
            no_images,
            eu,
            reissue,
        } => {
            let output = propusk_issuer::BatchOutput {
                images: !no_images,
                eu: *eu,
                reissue: *reissue,
            };
            return crate::issuing::batch(dir, input, out, output, now);
        }
        IssuerCommand::Reissue {
            record_id,
            key,
            all,
            out,
            no_images,
        } => {
            let which = match (record_id, key) {
                (Some(record), _) => propusk_issuer::Reissue::Record(record.clone()),
                (None, Some(key)) => propusk_issuer::Reissue::Key(
                    propusk_spec::KeyId::from_hex(&key.to_ascii_lowercase())
                        .ok_or_else(|| CliError::Usage(format!("--key {key}: not a key id")))?,
                ),
                (None, None) if *all => propusk_issuer::Reissue::All,
                (None, None) => {
                    return Err(CliError::Usage("give RECORD_ID, --key or --all".into()));
                }
            };
            return match out {
                Some(out) => crate::issuing::reissue(dir, &which, out, !no_images, now),
                None => crate::issuing::reissue_one(dir, &which, now),
            };
        }
        IssuerCommand::Eu(op) => crate::eu::run(dir, op, now)?,
        IssuerCommand::Rules(op) => crate::rules::run(dir, op, now)?,
        IssuerCommand::Migrate { to } => {
            if !propusk_issuer::store::is_postgres_url(to) {
                return Err(CliError::Usage(
                    "--to must be a PostgreSQL URL: postgres://user@host:5432/name".into(),
                ));
            }
            // The passphrase is proved before anything is copied.
            unlocked(dir)?;
            let copied = propusk_issuer::store::copy::sqlite_to_postgres(dir, to, now)
                .map_err(IssuerError::from)?;
            for (table, rows, digest) in &copied.tables {
                println!("  {table:18} {rows:>10} rows  sha256 {}", &digest[..16]);
            }
            let target = &copied.target;
            println!(
                "copied and checked: every table's rows and digest match; the SQLite store is \
                 marked as moved and refuses every command from now on: run the issuer with \
                 --database {target} (or PROPUSK_DATABASE_URL)"
            );
        }
        IssuerCommand::Record { record_id } => {
            let Some(issued) = open(dir)?.record(record_id)? else {
                eprintln!("propusk: record {record_id} was never issued");
                return Ok(EXIT_DATA);
            };
            println!("{}", serde_json::json!(issued));
        }
        IssuerCommand::EuImport {
            country,
            certificates,
        } => crate::eu::import(dir, country, certificates, now)?,
        IssuerCommand::Key(op) => crate::keys::run(dir, op, now)?,
        IssuerCommand::Config {
            name,
            url,
            time_zone,
            name_latin,
        } => {
            if name.is_some() || url.is_some() || time_zone.is_some() || name_latin.is_some() {
                let mut issuer = unlocked(dir)?;
                issuer.configure(name.as_deref(), url.as_deref(), time_zone.as_deref(), now)?;
                if let Some(latin) = name_latin {
                    issuer.set_name_latin(latin, now)?;
                }
            }
            let issuer = open(dir)?;
            let s = issuer.settings();
            println!("name: {}", s.name);
            println!("name in EU twins: {}", issuer.authority_latin());
            println!("country: {}", s.country);
            println!("portal URL: {}", s.url.as_deref().unwrap_or("none"));
            println!("time zone: {}", s.time_zone);
        }
        IssuerCommand::Audit { json: as_json } => crate::audit::audit(dir, *as_json)?,
        IssuerCommand::Vouch { yes } => return crate::audit::vouch(dir, *yes, now),
        IssuerCommand::Revoke { id } => {
            let id: CredentialId = id
                .parse()
                .map_err(|e| IssuerError::from(InputError::field("credential id", e)))?;
            let c = unlocked(dir)?.revoke(&id, now)?;
            println!(
                "credential {} ({}) revoked; publish now (`propusk issuer publish`): verifiers \
                 accept it until they sync a publication that lists it",
                c.id,
                c.credential_type.as_str()
            );
        }
        IssuerCommand::Publish { out } => {
            let p = unlocked(dir)?.publish(out, now)?;
            let deltas = match p.deltas_from.as_slice() {
                [] => "no deltas: the first publication".to_owned(),
                from => format!(
                    "deltas from sequence{} {}",
                    if from.len() == 1 { "" } else { "s" },
                    from.iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let revoked = match p.revoked {
                1 => "1 revoked credential".to_owned(),
                n => format!("{n} revoked credentials"),
            };
            println!(
                "published sequence {} ({revoked}, {deltas}) to {}",
                p.sequence,
                p.bundle.display()
            );
        }
    }
    Ok(0)
}
