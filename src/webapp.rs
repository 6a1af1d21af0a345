//! `propusk app export`: the web app (verifier and wallet) as static files, pinned to the
//! issuer's root, for any web server or CDN.

use std::path::PathBuf;

use propusk_issuer::app::{OtherRoot, config, files};
use propusk_trust_list::parse_public_key;

use crate::error::CliError;

/// The web app.
#[derive(Debug, clap::Subcommand)]
pub enum AppCommand {
    /// Write the web app as static files for any web server or CDN: pinned to the issuer's root
    /// key (as `verifier init --root` pins it), syncing from the issuer's published trust data.
    /// Serve DIR over HTTPS (a service worker needs it, or localhost) under any path.
    #[command(
        after_help = "Examples:\n  propusk app export --dir ISS --out site/app\n  propusk app export --dir ISS --out site/app --url https://trust.example --trust BY/root.pub=https://trust.by"
    )]
    Export(ExportArgs),
}

/// Arguments of `propusk app export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The issuer's directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// Where to write the app (created; its files replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// The base URL whose `/bundle/` holds the issuer's published trust data (default: the
    /// issuer's portal URL, `issuer config --url`). It must allow the app's origin (CORS) when
    /// it is another.
    #[arg(long)]
    pub url: Option<String>,
    /// Another issuer's root to trust besides this one: `ROOT.pub=URL` (its root public key file
    /// and the base URL of its trust data). Repeatable.
    #[arg(long = "trust", value_name = "ROOT.pub=URL")]
    pub trust: Vec<String>,
    /// The issuer's PostgreSQL database (default: PROPUSK_DATABASE_URL; else the SQLite file).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

/// Runs `propusk app …`.
pub fn run(command: &AppCommand) -> Result<u8, CliError> {
    let AppCommand::Export(args) = command;
    crate::issue::choose_database(args.database.as_deref())?;
    let issuer = crate::issue::open(&args.dir)?;
    let url = match args.url.clone().or_else(|| issuer.settings().url.clone()) {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => url,
        Some(url) => return Err(CliError::Usage(format!("--url {url}: not an http(s) URL"))),
        None => {
            return Err(CliError::Usage(
                "the issuer has no portal URL: give --url (where its published trust data is)"
                    .into(),
            ));
        }
    };
    let others = args
        .trust
        .iter()
        .map(|t| other_root(t))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(&args.out).map_err(|e| CliError::io(&args.out, e))?;
    let written = files(config(&issuer, &url, &others)?);
    for f in &written {
        let path = args.out.join(f.name);
        std::fs::write(&path, &f.bytes).map_err(|e| CliError::io(&path, e))?;
    }
    println!(
        "wrote the web app ({} files) to {}: trust data from {url}/bundle/",
        written.len(),
        args.out.display()
    );
    Ok(0)
}

fn other_root(given: &str) -> Result<OtherRoot, CliError> {
    let usage = |why: String| CliError::Usage(format!("--trust {given}: {why}"));
    let (path, url) = given
        .split_once('=')
        .ok_or_else(|| usage("write ROOT.pub=URL".into()))?;
    let path = PathBuf::from(path);
    let text = std::fs::read_to_string(&path).map_err(|e| CliError::io(&path, e))?;
    let key = parse_public_key(&text)
        .ok_or_else(|| usage(format!("{} holds no Ed25519 public key", path.display())))?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(usage(format!("{url}: not an http(s) URL")));
    }
    Ok(OtherRoot {
        key,
        url: url.to_owned(),
    })
}
