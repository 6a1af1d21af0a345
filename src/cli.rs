//! Argument parsing and dispatch.

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::{CliError, EXIT_OK, EXIT_USAGE};
use crate::{demo, inspect, issue, serve, verify, wallet, webapp};

/// Offline-first signed health credentials: issue, carry, verify.
#[derive(Debug, Parser)]
#[command(name = "propusk", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole story in one run: issuer, QR codes read from pixels, wallet, offline verifier,
    /// key rotation, revocation, expiry and the portal page on a loopback server. Exit 0 only when
    /// every outcome is as expected.
    #[command(
        after_help = "Examples:\n  propusk demo\n  propusk demo --dir /tmp/story   # keep the files it makes"
    )]
    Demo(demo::DemoArgs),
    /// Decode credential text layer by layer, without checking the signature, and print what it
    /// holds (exit 0 when it decodes, 1 when a layer refuses it).
    #[command(
        after_help = "Examples:\n  propusk decode 'PR2:...'\n  propusk decode --json 'PR2:...'\n  scan | propusk decode -"
    )]
    Decode(inspect::Args),
    /// Measure the wire format: encode, decode and verify time per credential, the text length
    /// and QR version of each type, and the size against an EU DCC of the same content.
    #[command(after_help = "Examples:\n  cargo run --release -- bench")]
    Bench(propusk_bench::Args),
    /// The issuing authority: keys, issuance, revocation, publishing.
    #[command(
        after_help = "Examples:\n  propusk issuer init --dir ISS --name 'Минздрав России' --country RU --url https://portal.example\n  propusk issuer issue --dir ISS --input examples/vaccination.json --png qr.png\n  propusk issuer publish --dir ISS --out USB"
    )]
    Issuer(issue::IssuerArgs),
    /// Serve the trust bundle, the portal page for link QR codes and the operator API
    /// (`Authorization: Bearer` the token in DIR/operator.token).
    #[command(
        after_help = "Examples:\n  propusk serve --dir ISS --addr localhost:8080\n  curl http://localhost:8080/healthz"
    )]
    Serve(serve::ServeArgs),
    /// The web app (verifier and wallet, offline after the first visit; `serve` also serves it
    /// at /app/).
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  propusk app export --dir ISS --out site/app\n  propusk serve --dir ISS   # then open http://127.0.0.1:8080/app/"
    )]
    App(webapp::AppCommand),
    /// The holder's wallet.
    #[command(
        after_help = "Examples:\n  propusk wallet --dir W add 'PR2:...'\n  propusk wallet --dir W best\n  propusk wallet --dir W export ID --pdf certificate.pdf"
    )]
    Wallet(wallet::WalletArgs),
    /// Set up and sync a verifier's local trust store.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  propusk verifier init --store V --root ISS/root.pub\n  propusk verifier sync --store V --url https://trust.example\n  propusk verifier status --store V"
    )]
    Verifier(verify::VerifierCommand),
    /// Print a shell's completion script: `propusk completions bash > /etc/bash_completion.d/propusk`,
    /// `propusk completions zsh > "${fpath[1]}/_propusk"`, `propusk completions fish >
    /// ~/.config/fish/completions/propusk.fish`.
    #[command(
        after_help = "Examples:\n  propusk completions bash > ~/.local/share/bash-completion/completions/propusk"
    )]
    Completions {
        /// `bash`, `zsh` or `fish`.
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Print the manual page (roff: `propusk man | man -l -`), or with `--out DIR` write
    /// `propusk.1` and one page per command (`propusk-verify.1`, …) there.
    #[command(
        after_help = "Examples:\n  propusk man | man -l -\n  propusk man --out /usr/local/share/man/man1"
    )]
    Man {
        /// A directory for one page per command (e.g. `/usr/local/share/man/man1`).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Verify credentials offline: exit 0 valid, 1 invalid, 2 cannot tell (the worst verdict
    /// decides), 64 usage error (nothing to verify included), 66 a missing image file, 78 no
    /// store. On a terminal with no text given, a door display.
    #[command(
        after_help = "Examples:\n  propusk verify --store V 'PR2:...'\n  propusk verify --store V --image photo.jpg\n  scanner | propusk verify --store V --json -\n  propusk verify --store V        # on a terminal: the door display\n  propusk verify --trust-cert DSC.der 'HC1:...'"
    )]
    Verify(verify::VerifyArgs),
}

/// Parses `args` and runs the command; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args: Vec<OsString> = args.into_iter().collect();
    let lang = lang_of(&args);
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Demo(args) => Ok(demo::run(&args)),
        Command::Decode(args) => Ok(inspect::run(&args)),
        Command::Bench(args) => Ok(propusk_bench::run(&args)),
        Command::Issuer(cmd) => issue::run(&cmd),
        Command::Serve(args) => serve::run_serve(&args),
        Command::Wallet(args) => wallet::run(&args),
        Command::App(cmd) => webapp::run(&cmd),
        Command::Verifier(cmd) => verify::run_verifier(&cmd),
        Command::Completions { shell } => completions(&shell),
        Command::Man { out } => man(out.as_deref()),
        Command::Verify(args) => {
            let inputs = matches
                .subcommand_matches("verify")
                .map(|m| verify::inputs(&args, m))
                .unwrap_or_default();
            verify::run_verify(&args, &inputs)
        }
    };
    result.unwrap_or_else(|e| {
        if !matches!(e, CliError::Closed) {
            eprintln!("propusk: {}", without_os_error(&e.words(lang)));
        }
        e.exit_code()
    })
}

/// The language of the messages: `--lang ru` (or `--lang=ru`) anywhere on the command line,
/// else the environment's.
fn lang_of(args: &[OsString]) -> propusk_trust_list::Lang {
    let flag = args
        .windows(2)
        .find(|w| w[0] == "--lang")
        .and_then(|w| w[1].to_str())
        .or_else(|| {
            args.iter()
                .filter_map(|a| a.to_str())
                .find_map(|a| a.strip_prefix("--lang="))
        })
        .and_then(|l| l.parse().ok());
    verify::lang(flag)
}

/// A message without the operating system's error numbers (` (os error 2)`), which the
/// libraries' I/O errors carry and people cannot use.
fn without_os_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" (os error ") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match rest.find(')') {
            Some(end) => rest = &rest[end + 1..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}

fn completions(shell: &str) -> Result<u8, CliError> {
    use clap_complete::Shell;
    let shell = match shell {
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::Bash,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "propusk", &mut out);
    std::io::Write::write_all(&mut std::io::stdout(), &out)?;
    Ok(EXIT_OK)
}

fn man(out: Option<&std::path::Path>) -> Result<u8, CliError> {
    let command = Cli::command();
    let render = |c: clap::Command| -> Result<Vec<u8>, CliError> {
        let mut page = Vec::new();
        clap_mangen::Man::new(c).render(&mut page)?;
        Ok(page)
    };
    let Some(dir) = out else {
        std::io::Write::write_all(&mut std::io::stdout(), &render(command)?)?;
        return Ok(EXIT_OK);
    };
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
    let mut pages = vec![("propusk.1".to_owned(), render(command.clone())?)];
    for sub in command.get_subcommands() {
        let name = format!("propusk-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(name.replace('-', " "));
        pages.push((format!("{name}.1"), render(page)?));
    }
    for (file, page) in &pages {
        let path = dir.join(file);
        std::fs::write(&path, page).map_err(|e| CliError::io(&path, e))?;
    }
    println!("{} manual pages written to {}", pages.len(), dir.display());
    Ok(EXIT_OK)
}
