//! The command line's one error type, and every exit code derived from it in one place
//! (`shared/INTERFACE.md`: 0 valid / done, 1 invalid, 2 cannot tell, 64 usage; the rest
//! sysexits).

use std::path::{Path, PathBuf};

use propusk_issuer::{EuError, IssuerError, StoreError, TokenError};
use propusk_spec::Timestamp;
use propusk_trust_list::{TrustState, Verdict};
use propusk_verifier::VerifierError;
use propusk_wallet::WalletError;

/// Exit code: the command did its job, or every credential is valid.
pub const EXIT_OK: u8 = 0;
/// Exit code: a credential is invalid (refused by a decoder or a check).
pub const EXIT_INVALID: u8 = 1;
/// Exit code: the verifier cannot tell.
pub const EXIT_UNKNOWN: u8 = 2;
/// Exit code of `verifier sync`: the trust data in force is stale (past its soft expiry).
pub const EXIT_STALE: u8 = 3;
/// `verify`: genuine and valid, but the door's policy needs more of the same holder (never an
/// admission).
pub const EXIT_INCOMPLETE: u8 = 5;
/// `verify`: an image held no code that could be read (or was no image): nothing was judged
/// there; show the code again.
pub const EXIT_UNREAD: u8 = 6;
/// Exit code of `verifier sync`: the trust data in force is past its hard expiry.
pub const EXIT_EXPIRED: u8 = 4;
/// Exit code: the reader of standard output went away, as a shell reports a SIGPIPE (128 + 13).
pub const EXIT_CLOSED: u8 = 141;
/// Exit code: the command line itself is wrong (sysexits `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;
/// Exit code: the data was refused (bad input, refused by the rules, trust data refused).
pub const EXIT_DATA: u8 = 65;
/// Exit code: a server cannot be reached (sysexits `EX_UNAVAILABLE`).
pub const EXIT_UNAVAILABLE: u8 = 69;
/// Exit code: an input file does not exist (sysexits `EX_NOINPUT`).
pub const EXIT_NOINPUT: u8 = 66;
/// Exit code: an input or output file could not be read or written (sysexits `EX_IOERR`).
pub const EXIT_IO: u8 = 74;
/// Exit code: the passphrase is wrong or missing (sysexits `EX_NOPERM`).
pub const EXIT_NOPERM: u8 = 77;
/// Exit code: not set up, already set up, or pinned to another root (sysexits `EX_CONFIG`).
pub const EXIT_CONFIG: u8 = 78;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// Whoever read standard output stopped reading (`| head -1`): the command ends quietly.
    #[error("the output was closed")]
    Closed,
    /// A file could not be read or written.
    #[error("{}: {}", path.display(), io_words(source))]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The issuer refused or failed.
    #[error(transparent)]
    Issuer(#[from] IssuerError),
    /// The verifier refused or failed.
    #[error(transparent)]
    Verifier(#[from] VerifierError),
    /// The verifier cannot tell: it cannot verify at all (no trust store).
    #[error(transparent)]
    CannotTell(VerifierError),
    /// The wallet refused or failed.
    #[error(transparent)]
    Wallet(#[from] WalletError),
}

impl From<std::io::Error> for CliError {
    /// An error on the standard streams (files name themselves through [`CliError::io`]); a
    /// reader that went away (`| head -1`) is [`CliError::Closed`].
    fn from(source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError::Closed;
        }
        CliError::io(Path::new("the standard streams"), source)
    }
}

impl CliError {
    /// A file error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Closed => EXIT_CLOSED,
            CliError::CannotTell(_) => EXIT_UNKNOWN,
            CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                EXIT_NOINPUT
            }
            CliError::Io { .. } => EXIT_IO,
            CliError::Issuer(e) => match e {
                IssuerError::NotInitialised(_)
                | IssuerError::AlreadyInitialised(_)
                | IssuerError::DatabaseHoldsIssuer
                | IssuerError::Eu(EuError::NotSetUp | EuError::AlreadySetUp) => EXIT_CONFIG,
                IssuerError::Store(StoreError::Unavailable(_)) => EXIT_UNAVAILABLE,
                IssuerError::Store(
                    StoreError::TargetHoldsIssuer
                    | StoreError::Moved(_)
                    | StoreError::Overtaken { .. },
                ) => EXIT_CONFIG,
                IssuerError::Store(StoreError::CopyMismatch(_)) => EXIT_DATA,
                IssuerError::Eu(_) => EXIT_DATA,
                IssuerError::Passphrase(_)
                | IssuerError::Token(
                    TokenError::WrongPin | TokenError::NoPin | TokenError::PinLocked,
                ) => EXIT_NOPERM,
                IssuerError::Token(
                    TokenError::Module { .. }
                    | TokenError::NoToken(_)
                    | TokenError::NotNamed(_)
                    | TokenError::Damaged(_)
                    | TokenError::Unsupported(_),
                ) => EXIT_CONFIG,
                IssuerError::Token(TokenError::NoKey { .. }) => EXIT_DATA,
                IssuerError::Token(_) => EXIT_UNAVAILABLE,
                IssuerError::WeakPassphrase { .. } => EXIT_USAGE,
                IssuerError::Input(_)
                | IssuerError::Refused(_)
                | IssuerError::UnknownCredential(_)
                | IssuerError::UnknownRecord(_)
                | IssuerError::RecordRevoked { .. }
                | IssuerError::Key(_)
                | IssuerError::Store(StoreError::Corrupt(_))
                | IssuerError::Store(StoreError::RevocationsLost { .. })
                | IssuerError::Store(StoreError::Unproven(_)) => EXIT_DATA,
                _ => EXIT_IO,
            },
            CliError::Verifier(e) => verifier_exit(e),
            CliError::Wallet(e) => match e {
                WalletError::NoWallet(_)
                | WalletError::NoRoot
                | WalletError::WhichRoot(_)
                | WalletError::NotTrusted(_) => EXIT_CONFIG,
                WalletError::Network { .. } => EXIT_UNAVAILABLE,
                WalletError::Io { .. } | WalletError::Sqlite(_) | WalletError::Corrupt(_) => {
                    EXIT_IO
                }
                _ => EXIT_DATA,
            },
        }
    }
}

/// The exit code for a verifier's error.
fn verifier_exit(e: &VerifierError) -> u8 {
    match e {
        VerifierError::NotInitialised(_) | VerifierError::OtherRoot => EXIT_CONFIG,
        VerifierError::Io { .. } => EXIT_IO,
        VerifierError::ClockBehind { .. } => EXIT_UNKNOWN,
        VerifierError::Network(_) => EXIT_UNAVAILABLE,
        VerifierError::AlreadyTrusted(_)
        | VerifierError::HomeRoot(_)
        | VerifierError::NoSuchRoot(_)
        | VerifierError::NoSource => EXIT_USAGE,
        VerifierError::OfRoot { source, .. } => verifier_exit(source),
        _ => EXIT_DATA,
    }
}

/// The exit code of `verify`: the worst verdict decides (0 valid, 1 invalid, 2 cannot tell, 5
/// incomplete, 6 an image not read);
/// nothing verified at all is not "valid" (a door must not open on an empty queue): 2.
pub fn verdict_exit(verdicts: impl IntoIterator<Item = Verdict>) -> u8 {
    match Verdict::worst(verdicts) {
        Some(Verdict::Valid) => EXIT_OK,
        Some(Verdict::Invalid) => EXIT_INVALID,
        Some(Verdict::Incomplete) => EXIT_INCOMPLETE,
        Some(Verdict::Unread) => EXIT_UNREAD,
        Some(Verdict::Unknown) | None => EXIT_UNKNOWN,
    }
}

/// The exit code of `verifier sync` by the state of the trust data in force after it.
pub fn trust_exit(state: TrustState) -> u8 {
    match state {
        TrustState::Fresh => EXIT_OK,
        TrustState::Stale => EXIT_STALE,
        TrustState::Expired | TrustState::Missing => EXIT_EXPIRED,
    }
}

/// The time of a command: `--at` (RFC 3339), or now.
pub fn parse_at(at: Option<&str>) -> Result<Timestamp, CliError> {
    match at {
        Some(text) => text
            .parse()
            .map_err(|e| CliError::Usage(format!("--at: {e}"))),
        None => now(),
    }
}

/// Now, from the system clock.
pub fn now() -> Result<Timestamp, CliError> {
    let since_1970 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since_1970
        .ok()
        .and_then(|d| Timestamp::from_unix(i64::try_from(d.as_secs()).ok()?))
        .ok_or_else(|| CliError::Usage("the system clock is out of range".into()))
}

impl CliError {
    /// The message in `lang`: Russian for what a verifier, a traveller or an operator meets
    /// most (missing files and stores, the clock guard, the network, a damaged store, usage
    /// mistakes of `verify`), English otherwise.
    pub fn words(&self, lang: propusk_trust_list::Lang) -> String {
        use propusk_trust_list::Lang;
        if lang == Lang::En {
            return self.to_string();
        }
        let io_ru = |e: &std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => "нет такого файла или каталога".to_owned(),
            std::io::ErrorKind::PermissionDenied => "нет доступа".to_owned(),
            _ => io_words(e),
        };
        match self {
            CliError::Io { path, source } => format!("{}: {}", path.display(), io_ru(source)),
            CliError::Usage(m) => m.clone(),
            CliError::Verifier(e) | CliError::CannotTell(e) => verifier_words_ru(e),
            CliError::Wallet(e) => match e {
                WalletError::NoWallet(dir) => format!(
                    "в {} нет кошелька: сначала добавьте документ (propusk wallet --dir … add)",
                    dir.display()
                ),
                WalletError::NotFound(id) => format!("в кошельке нет документа {id}"),
                WalletError::NoRoot => "в кошельке ещё нет данных проверки: укажите корневой \
                                        ключ выдавшего (--root ISS/root.pub)"
                    .to_owned(),
                WalletError::WhichRoot(url) => format!(
                    "кошелёк доверяет нескольким корневым ключам, и ни один не получен с {url}: \
                     укажите --root выдавшего"
                ),
                WalletError::NotTrusted(id) => {
                    format!("кошелёк не доверяет ключу {id:?} (см. propusk wallet trust --list)")
                }
                _ => e.to_string(),
            },
            _ => self.to_string(),
        }
    }
}

/// An I/O error in words, without the operating system's error number: `no such file or
/// directory`, `permission denied`.
pub fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::AlreadyExists => "already exists".into(),
        ErrorKind::IsADirectory => "is a directory, not a file".into(),
        ErrorKind::NotADirectory => "a part of the path is not a directory".into(),
        ErrorKind::StorageFull => "no space left on the device".into(),
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_lowercase(),
                None => text,
            }
        }
    }
}

/// A verifier's error in Russian.
fn verifier_words_ru(e: &VerifierError) -> String {
    match e {
        VerifierError::NotInitialised(dir) => format!(
            "в {} нет хранилища проверяющего: сначала выполните propusk verifier init",
            dir.display()
        ),
        VerifierError::ClockBehind { .. } => format!(
            "время проверки раньше действующих подписанных данных: не переведены ли часы \
             устройства назад? ({e})"
        ),
        VerifierError::Network(m) => format!("сеть недоступна: {m}"),
        VerifierError::Corrupt(m) => format!("хранилище проверяющего повреждено: {m}"),
        VerifierError::OtherRoot => "хранилище привязано к другому корневому ключу; \
             другой выдавший орган добавьте командой propusk verifier trust add"
            .to_owned(),
        VerifierError::AlreadyTrusted(kid) => {
            format!("корневому ключу {kid} хранилище уже доверяет")
        }
        VerifierError::HomeRoot(kid) => {
            format!("к корневому ключу {kid} хранилище привязано; удалить его нельзя")
        }
        VerifierError::NoSuchRoot(kid) => {
            format!("среди добавленных нет одного корневого ключа с номером {kid}")
        }
        VerifierError::NoSource => "неоткуда синхронизировать: один раз укажите --url \
             или --from, дальше источник запоминается"
            .to_owned(),
        VerifierError::OfRoot { name, source } => {
            format!("{name}: {}", verifier_words_ru(source))
        }
        _ => e.to_string(),
    }
}
