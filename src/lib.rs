//! The `propusk` command line: parses arguments, calls one library function per command, and
//! prints. Exit codes are derived in [`error`], from one error type.

pub mod audit;
pub mod cli;
pub mod demo;
pub mod door;
pub mod error;
pub mod eu;
pub mod examples;
pub mod inspect;
pub mod issue;
pub mod issuing;
pub mod keys;
pub mod language;
mod opening;
pub mod rules;
pub mod serve;
pub mod trip;
pub mod trust;
pub mod verify;
pub mod wallet;
pub mod wallet_add;
pub mod wallet_trust;
pub mod webapp;

/// A value as JSON in its fields' own order, pretty (indented) or on one line. The values
/// printed are plain data, which always serialize.
pub(crate) fn json(value: &impl serde::Serialize, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.unwrap_or_default()
}

/// A progress bar of `len` steps on standard error, when it is a terminal.
pub(crate) fn progress_bar(len: u64, template: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal().then(|| {
        // `{rate}`: whole items per second (indicatif's `{per_sec}` prints `1,815.2532/s`).
        let style = indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                },
            );
        indicatif::ProgressBar::new(len).with_style(style)
    })
}
