//! `propusk wallet ...`.

use std::path::PathBuf;

use propusk_trust_list::parse_public_key;
use propusk_wallet::{Entry, Wallet, WalletError};

use crate::verify::{EXIT_DATA_REFUSED, EXIT_UNAVAILABLE, parse_at};
use crate::{EXIT_IO, EXIT_USAGE};

/// Arguments of `propusk wallet`.
#[derive(Debug, clap::Args)]
pub struct WalletArgs {
    /// The wallet's directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: WalletCommand,
}

/// `propusk wallet --dir DIR ...`.
#[derive(Debug, clap::Subcommand)]
pub enum WalletCommand {
    /// Add a credential: its text (or an offline-verifiable link), a QR image (photo or
    /// screenshot), or a portal link (fetched when online). The same credential twice is kept
    /// once; a signature that cannot be checked is a warning, not a refusal.
    Add {
        /// Credential text or link.
        text: Option<String>,
        /// A QR image, PNG or JPEG.
        #[arg(long, conflicts_with_all = ["text", "link"])]
        image: Option<PathBuf>,
        /// A portal link.
        #[arg(long, conflicts_with = "text")]
        link: Option<String>,
    },
    /// The credentials, grouped by person: type, issued, valid until, status now.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// The time to judge at (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Show one credential's QR: in the terminal (Unicode half blocks), or as PNG or SVG.
    Show {
        /// The credential id.
        id: String,
        /// `terminal`, `png` or `svg`.
        #[arg(long, default_value = "terminal", value_parser = ["terminal", "png", "svg"])]
        qr: String,
        /// Where to write PNG or SVG (default: standard output for SVG, required for PNG).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Draw dark modules on a light terminal (default: for light text on dark).
        #[arg(long)]
        light_terminal: bool,
    },
    /// The credential a verifier would accept now, judged with the verifier's engine; when none
    /// would, each credential's reason (exit 1).
    Best {
        /// The time to judge at (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// A printable A4 certificate in Russian and English with the QR large enough to scan from
    /// paper.
    Export {
        /// The credential id.
        id: String,
        /// Where to write the PDF.
        #[arg(long)]
        pdf: PathBuf,
    },
    /// Take the issuer's trust data (a published directory) to check signatures and rules.
    Trust {
        /// The issuer's root public key file (`root.pub`).
        #[arg(long)]
        root: PathBuf,
        /// The published directory (with `index.cbor`).
        #[arg(long)]
        from: PathBuf,
    },
}

fn exit_for(e: &WalletError) -> u8 {
    match e {
        WalletError::Network(_) => EXIT_UNAVAILABLE,
        WalletError::Store(_) => EXIT_IO,
        _ => EXIT_DATA_REFUSED,
    }
}

fn line(e: &Entry) -> String {
    let soon = if e.expiring_soon {
        "  (expiring soon)"
    } else {
        ""
    };
    let reason = e
        .reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!(
        "  {}  {:11}  issued {}  valid until {}  {}{reason}{soon}",
        e.id,
        e.credential_type,
        &e.issued_at[..10],
        &e.valid_until[..16.min(e.valid_until.len())],
        e.verdict
    )
}

/// Runs `propusk wallet ...`.
pub fn run(args: &WalletArgs) -> u8 {
    let at_arg = match &args.command {
        WalletCommand::List { at, .. } | WalletCommand::Best { at, .. } => at.clone(),
        _ => None,
    };
    let at = match parse_at(at_arg.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("propusk: {e}");
            return EXIT_USAGE;
        }
    };
    let result = Wallet::open(&args.dir).and_then(|mut wallet| match &args.command {
        WalletCommand::Add { text, image, link } => {
            let added = match (text, image, link) {
                (Some(t), None, None) => wallet.add_text(t),
                (None, Some(path), None) => wallet.add_image(path),
                (None, None, Some(url)) => wallet.add_link(url),
                _ => return Ok(EXIT_USAGE),
            }?;
            let verb = if added.new {
                "added"
            } else {
                "already in the wallet:"
            };
            println!(
                "{verb} {} {} (signature: {})",
                added.credential_type, added.id, added.signature
            );
            Ok(0)
        }
        WalletCommand::List { json, .. } => {
            let entries = wallet.list(at)?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&entries)
                        .map_err(|e| WalletError::Store(e.to_string()))?
                );
            } else {
                let mut person = None;
                for e in &entries {
                    if person.as_ref() != Some(&e.person) {
                        println!("{}", e.holder);
                        person = Some(e.person.clone());
                    }
                    println!("{}", line(e));
                }
            }
            Ok(0)
        }
        WalletCommand::Show {
            id,
            qr,
            out,
            light_terminal,
        } => {
            let text = wallet.text(id)?;
            let render = |e: propusk_qr::RenderError| WalletError::Store(e.to_string());
            match (qr.as_str(), out) {
                ("png", Some(path)) => {
                    std::fs::write(path, propusk_qr::render_png(&text, 6).map_err(render)?)
                        .map_err(|e| WalletError::Store(e.to_string()))?
                }
                ("png", None) => {
                    eprintln!("propusk: --qr png needs --out FILE");
                    return Ok(EXIT_USAGE);
                }
                ("svg", Some(path)) => {
                    std::fs::write(path, propusk_qr::render_svg(&text).map_err(render)?)
                        .map_err(|e| WalletError::Store(e.to_string()))?
                }
                ("svg", None) => print!("{}", propusk_qr::render_svg(&text).map_err(render)?),
                _ => print!(
                    "{}",
                    propusk_qr::render_terminal(&text, *light_terminal).map_err(render)?
                ),
            }
            Ok(0)
        }
        WalletCommand::Best { json, .. } => match wallet.best(at)? {
            Ok(best) => {
                if *json {
                    println!(
                        "{}",
                        serde_json::to_string(&best)
                            .map_err(|e| WalletError::Store(e.to_string()))?
                    );
                } else {
                    println!(
                        "show this one: {} {} for {}, valid until {}",
                        best.credential_type, best.id, best.holder, best.valid_until
                    );
                }
                Ok(0)
            }
            Err(all) => {
                if *json {
                    println!("{}", serde_json::json!({"best": null, "credentials": all}));
                } else {
                    println!("no credential would be accepted now:");
                    for e in &all {
                        println!("{}", line(e));
                    }
                }
                Ok(1)
            }
        },
        WalletCommand::Export { id, pdf } => {
            let bytes = wallet.certificate_pdf(id)?;
            std::fs::write(pdf, bytes)
                .map_err(|e| WalletError::Store(format!("{}: {e}", pdf.display())))?;
            println!("certificate written to {}", pdf.display());
            Ok(0)
        }
        WalletCommand::Trust { root, from } => {
            let text = std::fs::read_to_string(root)
                .map_err(|e| WalletError::Trust(format!("{}: {e}", root.display())))?;
            let key = parse_public_key(&text).ok_or_else(|| {
                WalletError::Trust(format!("{} holds no public key", root.display()))
            })?;
            let seq = wallet.set_trust(&key, from)?;
            println!("trust data in the wallet: sequence {seq}");
            Ok(0)
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("propusk: {e}");
            exit_for(&e)
        }
    }
}
