//! Link forms: a short portal URL for a phone camera and a browser, and an offline-verifiable
//! URL that carries the whole signed credential in its fragment.
//!
//! ```text
//! https://portal.example/c/0123456789ABCDEFGHJK7              short: the portal looks the id up
//! https://portal.example/c/0123456789ABCDEFGHJK7#PR1:6BF...    offline: a verifier checks the
//!                                                              fragment; browsers never send it
//! ```

use thiserror::Error;

use crate::credential::{self, PREFIX, UnverifiedCredential};
use crate::error::Error;
use crate::id::{CredentialId, IdError};

/// Why a link was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// The base URL is not `https://host[/path]` (plain `http` only for loopback hosts), or
    /// has a query or fragment.
    #[error("the base URL must be https://host[/path] without query or fragment")]
    BaseUrl,
    /// The URL does not end in `/c/ID`.
    #[error("not a Propusk credential link (…/c/ID)")]
    NotALink,
    /// The id in the link is malformed or mistyped.
    #[error("credential id: {0}")]
    Id(#[from] IdError),
    /// The fragment is not a percent-encoded credential.
    #[error("the fragment does not hold a credential")]
    Fragment,
    /// The id in the path is not the id of the credential in the fragment.
    #[error("the link's id is not the id of the credential it carries")]
    IdMismatch,
}

/// A parsed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The issuer's portal base URL, as in the link (`https://portal.example`).
    pub base: String,
    /// The credential id in the path.
    pub id: CredentialId,
    /// The credential text from the fragment, for the offline-verifiable form.
    pub credential: Option<String>,
}

fn check_base(base: &str) -> Result<&str, LinkError> {
    let base = base.trim_end_matches('/');
    let lower = base.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if !(host == "localhost" || host.starts_with("127.") || rest.starts_with("[::1]")) {
            return Err(LinkError::BaseUrl);
        }
        rest
    } else {
        return Err(LinkError::BaseUrl);
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(LinkError::BaseUrl);
    }
    Ok(base)
}

/// The short link for a credential: `{base}/c/{ID}`.
pub fn short_link(base: &str, id: &CredentialId) -> Result<String, LinkError> {
    Ok(format!("{}/c/{id}", check_base(base)?))
}

/// The offline-verifiable link: the short link with the credential text in the fragment, its
/// `%` and space percent-encoded (every other base45 character may stand in a fragment).
pub fn offline_link(base: &str, id: &CredentialId, text: &str) -> Result<String, LinkError> {
    let mut link = short_link(base, id)?;
    link.push('#');
    for c in text.chars() {
        match c {
            '%' => link.push_str("%25"),
            ' ' => link.push_str("%20"),
            c => link.push(c),
        }
    }
    Ok(link)
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = char::from(bytes.next()?).to_digit(16)?;
            let lo = char::from(bytes.next()?).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

impl Link {
    /// Parses either link form. Scheme, host and the `c` segment are case-insensitive.
    pub fn parse(url: &str) -> Result<Link, LinkError> {
        let (without_fragment, fragment) = match url.split_once('#') {
            Some((u, f)) => (u, Some(f)),
            None => (url, None),
        };
        let (base, id) = without_fragment
            .rsplit_once('/')
            .ok_or(LinkError::NotALink)?;
        let base = base
            .strip_suffix("/c")
            .or_else(|| base.strip_suffix("/C"))
            .ok_or(LinkError::NotALink)?;
        let base = check_base(base).map_err(|_| LinkError::NotALink)?;
        let id: CredentialId = id.parse()?;
        let credential = match fragment {
            None | Some("") => None,
            Some(f) => {
                let text = percent_decode(f).ok_or(LinkError::Fragment)?;
                if !text.starts_with(PREFIX) {
                    return Err(LinkError::Fragment);
                }
                Some(text)
            }
        };
        Ok(Link {
            base: base.to_owned(),
            id,
            credential,
        })
    }

    /// Decodes the credential the link carries, and checks that it is the one the link names.
    /// `Ok(None)` for a short link, which only the portal can answer.
    pub fn decode(&self) -> Result<Option<UnverifiedCredential>, Error> {
        let Some(text) = &self.credential else {
            return Ok(None);
        };
        let credential = credential::decode(text)?;
        if credential.unverified_claims().id != self.id {
            return Err(Error::Link(LinkError::IdMismatch));
        }
        Ok(Some(credential))
    }
}

/// Decodes what a scanner read: credential text, or an offline-verifiable link. A short link
/// gives [`LinkError::Fragment`] wrapped in [`Error::Link`]: it holds nothing to verify offline.
pub fn decode_any(input: &str) -> Result<UnverifiedCredential, Error> {
    if input.starts_with(PREFIX) {
        return credential::decode(input);
    }
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return credential::decode(input);
    }
    let link = Link::parse(input).map_err(Error::Link)?;
    link.decode()?.ok_or(Error::Link(LinkError::Fragment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> CredentialId {
        CredentialId::from_bytes([7; 12])
    }

    #[test]
    fn short_links_round_trip() {
        let link = short_link("https://portal.example/", &id()).unwrap_or_default();
        assert_eq!(link, format!("https://portal.example/c/{}", id()));
        let parsed = Link::parse(&link);
        assert_eq!(
            parsed,
            Ok(Link {
                base: "https://portal.example".into(),
                id: id(),
                credential: None
            })
        );
        let upper = link.to_ascii_uppercase();
        assert_eq!(Link::parse(&upper).map(|l| l.id), Ok(id()));
    }

    #[test]
    fn bases_are_checked() {
        assert_eq!(
            short_link("http://portal.example", &id()),
            Err(LinkError::BaseUrl)
        );
        assert!(short_link("http://127.0.0.1:8080", &id()).is_ok());
        assert_eq!(
            short_link("https://x.example/?q", &id()),
            Err(LinkError::BaseUrl)
        );
        assert_eq!(
            short_link("ftp://x.example", &id()),
            Err(LinkError::BaseUrl)
        );
    }

    #[test]
    fn fragments_are_percent_encoded() {
        let link = offline_link("https://p.example", &id(), "PR1:A B%C").unwrap_or_default();
        assert!(link.ends_with("#PR1:A%20B%25C"), "{link}");
        assert_eq!(
            Link::parse(&link).map(|l| l.credential),
            Ok(Some("PR1:A B%C".into()))
        );
        let mut typo = link.clone();
        typo.replace_range(20..21, "Z");
        assert!(
            matches!(Link::parse(&typo), Err(LinkError::Id(_))),
            "{typo}"
        );
    }
}
