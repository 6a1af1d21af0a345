//! The wallet's error type.

use std::path::PathBuf;

use thiserror::Error;

/// Why a wallet operation failed.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum WalletError {
    /// The first trust data needs the issuer's root key.
    #[error("the wallet holds no trust data yet: give the issuer's root key (--root ISS/root.pub)")]
    NoRoot,
    /// Several roots are trusted and none was taken from this server: which one is it?
    #[error(
        "the wallet trusts several roots and none was taken from {0}: give the issuer's --root"
    )]
    WhichRoot(String),
    /// The destination has no door policy of this name.
    #[error("{0}")]
    Policy(#[from] propusk_verifier::UnknownPolicy),
    /// No trusted root has this key id.
    #[error("the wallet trusts no root {0:?} (see `propusk wallet trust --list`)")]
    NotTrusted(String),
    /// The trust data offered is older than the wallet's.
    #[error(
        "the trust data offered (sequence {offered}) is older than the wallet's (sequence {held}); kept the wallet's"
    )]
    Older {
        /// The sequence offered.
        offered: u64,
        /// The sequence held.
        held: u64,
    },
    /// There is no wallet in the directory (nothing was added to it).
    #[error("no wallet in {}: add a credential first (propusk wallet --dir … add)", .0.display())]
    NoWallet(std::path::PathBuf),
    /// The input is not an EU certificate that decodes.
    #[error("not an EU certificate: {0}")]
    Eu(#[from] propusk_eudcc::Hc1Error),
    /// The input is not a credential (the layer that refused it is named).
    #[error("not a credential: {0}")]
    Decode(#[from] propusk_spec::Error),
    /// No QR code could be read from the image.
    #[error("image: {0}")]
    Scan(#[from] propusk_qr::ScanError),
    /// The portal could not be reached or answered with an error.
    #[error("network: {url}: {message}")]
    Network {
        /// What was fetched.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The trust data was refused.
    #[error("trust data: {0}")]
    Trust(#[from] propusk_trust_list::TrustError),
    /// The published trust data could not be read.
    #[error("trust data: {0}")]
    TrustFiles(#[from] propusk_trust_list::DirError),
    /// A name noted on a credential that is not a name (empty, too long, control characters).
    #[error("name: {0}")]
    Name(String),
    /// A file given as the issuer's answer is not one (`{"credential": …, "holder": …}`).
    #[error("not an issuer's answer: {0}")]
    Issued(String),
    /// No credential with this id in the wallet.
    #[error("no credential {0} in this wallet")]
    NotFound(String),
    /// The beginning of an id that several credentials share.
    #[error("{given:?} begins several credentials' ids: {}; give more of it", candidates.join(", "))]
    Ambiguous {
        /// What was given.
        given: String,
        /// The ids it begins.
        candidates: Vec<String>,
    },
    /// A QR code or a PDF could not be drawn.
    #[error("cannot draw the QR code: {0}")]
    Render(#[from] propusk_qr::RenderError),
    /// The embedded font is unreadable (a broken build).
    #[error("the certificate font cannot be read: {0}")]
    Font(String),
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Something in the wallet's store is not what was written.
    #[error("the wallet store is damaged: {0}")]
    Corrupt(&'static str),
    /// SQLite failed.
    #[error("wallet store: {0}")]
    #[cfg(feature = "store")]
    Sqlite(#[from] rusqlite::Error),
}
