//! The `propusk` command line: parses arguments, calls one library function per command, and
//! prints. Exit codes are derived in [`error`], from one error type.

pub mod cli;
pub mod demo;
pub mod error;
pub mod inspect;
pub mod issue;
pub mod verify;
pub mod wallet;

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
