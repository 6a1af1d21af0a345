//! The issuer's error type.

use std::path::PathBuf;

use thiserror::Error;

/// Why an issuer operation failed.
#[non_exhaustive]
#[derive(Debug, Clone, Error)]
pub enum IssuerError {
    /// `--dir` holds no issuer: run `propusk issuer init`.
    #[error("no issuer in {0}: run `propusk issuer init` first")]
    NotInitialised(PathBuf),
    /// `--dir` already holds an issuer.
    #[error("{0} already holds an issuer")]
    AlreadyInitialised(PathBuf),
    /// The passphrase is missing, empty or wrong.
    #[error("passphrase: {0}")]
    Passphrase(&'static str),
    /// The issuance input is malformed (the message names the field).
    #[error("input: {0}")]
    Input(String),
    /// The input is well-formed but the rules forbid issuing it (the message says why).
    #[error("refused: {0}")]
    Refused(String),
    /// No such key, or the key operation is not possible.
    #[error("key: {0}")]
    Key(String),
    /// No credential with this id.
    #[error("no credential with id {0}")]
    UnknownCredential(String),
    /// The operating system's random generator failed.
    #[error("the random generator failed")]
    Random,
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Trust data could not be made or written.
    #[error("publish: {0}")]
    Publish(String),
    /// The issuer's store failed.
    #[error("issuer store: {0}")]
    Store(String),
}

impl From<rusqlite::Error> for IssuerError {
    fn from(e: rusqlite::Error) -> Self {
        IssuerError::Store(e.to_string())
    }
}

impl IssuerError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        IssuerError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
