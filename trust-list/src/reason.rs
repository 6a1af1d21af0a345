//! Why a credential is not valid: one closed set of reasons with stable snake_case codes, the
//! same for the verifier, the wallet, the issuer's portal and the browser.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Why a verdict is not `valid`. Its [`Reason::code`] is the stable snake_case code of
/// `verify --json`; its words in each language are in the `words` module, an exhaustive match, so a
/// reason added here without words does not compile.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The input is not a health credential at all.
    NotACredential,
    /// The code is damaged or forged (a layer of the format refused it).
    Corrupt,
    /// A portal short link: only the portal can answer it, online.
    OnlineOnly,
    /// Signed by a key the verifier does not know (yet).
    UnknownKey,
    /// Signed by a key no trusted issuer lists although each made its trust data after the
    /// credential was issued: an issuer this verifier does not trust (syncing will not help).
    UntrustedIssuer,
    /// The signature does not verify.
    BadSignature,
    /// The key may not sign this type, or not at this time.
    KeyUsage,
    /// Issued after its key was retired.
    KeyRetired,
    /// Its key was withdrawn (compromised) from a time on.
    KeyRevoked,
    /// Past its expiry (its own claim or the rules').
    Expired,
    /// Not valid yet.
    NotYetValid,
    /// Revoked by its issuer.
    Revoked,
    /// The rule set refuses it (an incomplete course, a positive test, a window too long).
    RuleFailed,
    /// Credentials shown together belong to different people.
    HolderMismatch,
    /// The trust data is past its hard expiry.
    TrustDataExpired,
    /// There is no trust data.
    TrustDataMissing,
    /// The trust data is damaged.
    TrustDataCorrupt,
    /// No QR code was found in the image.
    NoQrCode,
    /// The file is not a readable image.
    NotAnImage,
    /// The image is larger than the reader accepts.
    ImageTooLarge,
    /// The file cannot be read.
    UnreadableFile,
    /// The door's policy does not admit this type of credential.
    NotAdmitted,
    /// Genuine and valid, but the door's policy needs more of the same holder.
    NeedsMore,
}

impl Reason {
    /// Every reason, in the order above.
    pub const ALL: [Reason; 23] = [
        Reason::NotACredential,
        Reason::Corrupt,
        Reason::OnlineOnly,
        Reason::UnknownKey,
        Reason::UntrustedIssuer,
        Reason::BadSignature,
        Reason::KeyUsage,
        Reason::KeyRetired,
        Reason::KeyRevoked,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::Revoked,
        Reason::RuleFailed,
        Reason::HolderMismatch,
        Reason::TrustDataExpired,
        Reason::TrustDataMissing,
        Reason::TrustDataCorrupt,
        Reason::NoQrCode,
        Reason::NotAnImage,
        Reason::ImageTooLarge,
        Reason::UnreadableFile,
        Reason::NotAdmitted,
        Reason::NeedsMore,
    ];

    /// The stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NotACredential => "not_a_credential",
            Reason::Corrupt => "corrupt",
            Reason::OnlineOnly => "online_only",
            Reason::UnknownKey => "unknown_key",
            Reason::UntrustedIssuer => "untrusted_issuer",
            Reason::BadSignature => "bad_signature",
            Reason::KeyUsage => "key_usage",
            Reason::KeyRetired => "key_retired",
            Reason::KeyRevoked => "key_revoked",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Revoked => "revoked",
            Reason::RuleFailed => "rule_failed",
            Reason::HolderMismatch => "holder_mismatch",
            Reason::TrustDataExpired => "trust_data_expired",
            Reason::TrustDataMissing => "trust_data_missing",
            Reason::TrustDataCorrupt => "trust_data_corrupt",
            Reason::NoQrCode => "no_qr_code",
            Reason::NotAnImage => "not_an_image",
            Reason::ImageTooLarge => "image_too_large",
            Reason::UnreadableFile => "unreadable_file",
            Reason::NotAdmitted => "not_admitted",
            Reason::NeedsMore => "needs_more",
        }
    }

    /// The reason for a credential text the format refused.
    pub fn of_format_error(e: &propusk_spec::Error) -> Self {
        use propusk_spec::{Error, LinkError, PrefixError};
        match e {
            Error::Prefix(PrefixError::Unknown) | Error::Link(LinkError::NotALink) => {
                Reason::NotACredential
            }
            Error::Link(LinkError::Fragment) => Reason::OnlineOnly,
            Error::UnknownKey(_) => Reason::UnknownKey,
            Error::BadSignature => Reason::BadSignature,
            _ => Reason::Corrupt,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// A text that is not the code of any reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no reason has the code {0:?}")]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<Self, UnknownReason> {
        Reason::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::Lang;

    #[test]
    fn codes_are_distinct_snake_case_and_read_back() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            let code = r.code();
            assert!(seen.insert(code), "{code} twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert_eq!(code.parse::<Reason>(), Ok(r));
            assert_eq!(serde_json::to_value(r).ok(), Some(code.into()));
        }
        assert!("cannot_tell".parse::<Reason>().is_err());
    }

    #[test]
    fn every_reason_has_distinct_words_in_each_language() {
        for lang in [Lang::En, Lang::Ru] {
            let mut seen = std::collections::HashSet::new();
            for r in Reason::ALL {
                let words = crate::words::reason(r, lang);
                assert!(!words.is_empty() && seen.insert(words), "{r:?} in {lang:?}");
            }
        }
    }
}
