//! `propusk issuer eu ...`: the issuer's own EU DCC keys, and EU signers of other countries.

use std::path::{Path, PathBuf};

use propusk_issuer::{InputError, Issuer, IssuerError};
use propusk_spec::Timestamp;

use crate::error::CliError;
use crate::opening::{local, read, unlocked};

/// `propusk issuer eu ...`.
#[derive(Debug, clap::Subcommand)]
pub enum EuOp {
    /// Create the country signing CA (self-signed, ECDSA P-256) and a first document signer
    /// certificate for vaccinations, tests and recoveries, sealed with the passphrase; the
    /// signer certificate is published with the next bundle.
    Init,
    /// A new document signer; the active one stops signing (what it signed stays valid).
    /// Refused once the country signing CA has ended or ends within 30 days: renew it then.
    Rotate,
    /// Renew the country signing CA (in its last year, or after its end): a new CA and a
    /// document signer under it; onboard the new CA (`eu export`) with the gateway.
    Renew,
    /// Withdraw an EU signer certificate from the published trust data (a leaked document
    /// signer, or one its country withdrew): verifiers trust it no more once they sync the next
    /// publication. The active document signer is refused: rotate first.
    Withdraw {
        /// The EU key id (hex, as `eu list` shows it).
        key_id: String,
    },
    /// Write the CA and every document signer certificate, PEM and DER, into OUT: what a
    /// gateway is onboarded with, and what `propusk verify --trust-cert` takes.
    Export {
        /// The directory to write into.
        #[arg(long)]
        out: PathBuf,
    },
    /// The EU keys: key id, role, validity, whether it signs.
    List {
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Import other countries' EU document signer certificates (DER or PEM X.509) to publish
    /// with the trust bundle, so that verifiers check travellers' EU certificates with it.
    Import {
        /// The country that issued them (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: String,
        /// The certificate files.
        #[arg(required = true)]
        certificates: Vec<PathBuf>,
    },
    /// Set the trust anchor: the certificate (X.509, DER or PEM) EU trust lists are signed by.
    Anchor {
        /// The anchor's certificate.
        certificate: PathBuf,
    },
    /// Import an EU trust list (the gateway's signer list, JSON), checked with the trust anchor:
    /// its document signers are published with the next bundle, and the signers of its
    /// countries it no longer names are withdrawn.
    TrustList {
        /// The list.
        list: PathBuf,
        /// Its separate signature (raw or base64); without it, the list's first line holds it.
        #[arg(long)]
        signature: Option<PathBuf>,
    },
    /// Import EU value sets (each file one set, JSON as the EU publishes them); a set replaces
    /// the one with its id. Verifiers name codes with them and EU rules read them.
    ValueSets {
        /// The value set files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import EU business rules (CertLogic, as countries publish them): each country in the
    /// files has its rules replaced. Travellers' wallets check trips with them.
    Rules {
        /// The rule files (a list of rules, one rule, or the gateway's download).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import the EU revocation lists (gateway batches, JSON): the files are the whole current
    /// set and replace what was imported before. Verifiers refuse the certificates they name.
    Revocations {
        /// The batch files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs `propusk issuer eu ...`.
pub fn run(dir: &Path, op: &EuOp, now: Timestamp) -> Result<(), CliError> {
    match op {
        EuOp::Init => {
            let keys = unlocked(dir)?.eu_init(now)?;
            println!("EU DCC keys ready:");
            let issuer = crate::opening::open(dir)?;
            list(&issuer, &keys);
            if issuer.settings().name_latin.is_none() && !issuer.settings().name.is_ascii() {
                println!(
                    "twins name the authority {:?} (its name transliterated); give its English \
                     name with `propusk issuer config --name-latin NAME`",
                    issuer.authority_latin()
                );
            }
            println!(
                "the document signer is published with the next bundle; export the certificates \
                 for a gateway with `propusk issuer eu export`"
            );
        }
        EuOp::Rotate => {
            let keys = unlocked(dir)?.eu_rotate(now)?;
            list(&crate::opening::open(dir)?, &keys);
        }
        EuOp::Renew => {
            let keys = unlocked(dir)?.eu_renew(now)?;
            list(&crate::opening::open(dir)?, &keys);
            println!(
                "export the new CA for the gateway (propusk issuer eu export) and publish: the \
                 new document signer reaches verifiers with the next publication"
            );
        }
        EuOp::Withdraw { key_id } => {
            unlocked(dir)?.eu_withdraw(key_id, now)?;
            println!(
                "EU signer {key_id} withdrawn: publish now (propusk issuer publish) so that \
                 verifiers stop trusting it"
            );
        }
        EuOp::Export { out } => {
            for path in crate::opening::open(dir)?.eu_export(out)? {
                println!("{}", path.display());
            }
        }
        EuOp::List { json } => {
            let issuer = crate::opening::open(dir)?;
            let keys = issuer.eu_keys()?;
            if *json {
                println!("{}", crate::json(&keys, true));
            } else {
                list(&issuer, &keys);
            }
        }
        EuOp::Import {
            country,
            certificates,
        } => import(dir, country, certificates, now)?,
        EuOp::Anchor { certificate } => {
            let kid = unlocked(dir)?.set_eu_trust_anchor(&read(certificate)?, now)?;
            println!("trust anchor set ({kid}): EU trust lists must be signed by it");
        }
        EuOp::TrustList { list, signature } => {
            let signature = signature.as_deref().map(read).transpose()?;
            let done =
                unlocked(dir)?.import_eu_trust_list(&read(list)?, signature.as_deref(), now)?;
            println!(
                "EU trust list imported: {} signers added, {} already there, {} withdrawn; \
                 they are published with the next bundle",
                done.added.len(),
                done.kept,
                done.withdrawn.len()
            );
        }
        EuOp::ValueSets { files } => {
            let ids = unlocked(dir)?.import_eu_value_sets(&read_all(files)?, now)?;
            println!("EU value sets imported: {}", ids.join(", "));
        }
        EuOp::Rules { files } => {
            let counts = unlocked(dir)?.import_eu_rules(&read_all(files)?, now)?;
            let words: Vec<String> = counts.iter().map(|(c, n)| format!("{c} ({n})")).collect();
            println!("EU business rules imported: {}", words.join(", "));
        }
        EuOp::Revocations { files } => {
            let (lists, hashes) = unlocked(dir)?.import_eu_revocations(&read_all(files)?, now)?;
            println!(
                "EU revocation lists imported: {lists} lists, {hashes} hashes; they are \
                 published with the next bundle"
            );
        }
    }
    Ok(())
}

/// Each file's name and bytes.
fn read_all(paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    paths
        .iter()
        .map(|p| Ok((p.display().to_string(), read(p)?)))
        .collect()
}

fn list(issuer: &Issuer, keys: &[propusk_issuer::EuKeyInfo]) {
    let locale = local(issuer);
    for k in keys {
        let role = match k.role {
            "csca" => "country signing CA",
            _ => "document signer",
        };
        let state = if k.active { "signs" } else { "retired" };
        println!(
            "  {}  {role:18}  {state:7}  {} – {}",
            k.key_id,
            locale.time(k.not_before),
            locale.time(k.not_after)
        );
    }
}

/// Imports other countries' EU signer certificates, each file checked so that a bad one is
/// named.
pub(crate) fn import(
    dir: &Path,
    country: &str,
    certificates: &[PathBuf],
    now: Timestamp,
) -> Result<(), CliError> {
    let mut files = Vec::with_capacity(certificates.len());
    for path in certificates {
        let bytes = read(path)?;
        propusk_eudcc::SignerCertificate::parse(&bytes).map_err(|_| {
            IssuerError::Input(InputError::field(
                path.display().to_string(),
                "not an X.509 signer certificate (DER, PEM, or base64 of DER)",
            ))
        })?;
        files.push(bytes);
    }
    let ids = unlocked(dir)?.import_eu_signers(&files, country, now)?;
    println!(
        "EU signers imported: {}; they are published with the next bundle",
        ids.join(", ")
    );
    Ok(())
}
