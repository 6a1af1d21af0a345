//! Link forms: a short portal URL for a phone camera and a browser, and an offline-verifiable
//! URL that carries the whole signed credential in its fragment.
//!
//! ```text
//! https://portal.example/c/0123456789ABCDEFGHJK7              short: the portal looks the id up
//! https://portal.example/c/0123456789ABCDEFGHJK7#PR2:6BF...    offline: a verifier checks the
//!                                                              fragment; browsers never send it
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::credential::{self, PREFIX, UnverifiedCredential};
use crate::error::{Error, LinkError};
use crate::id::CredentialId;

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
    let (rest, plain) = if let Some(rest) = lower.strip_prefix("https://") {
        (rest, false)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (rest, true)
    } else {
        return Err(LinkError::BaseUrl);
    };
    if rest.contains(['?', '#', ' ']) {
        return Err(LinkError::BaseUrl);
    }
    let authority = rest.split('/').next().unwrap_or("");
    let host = host_of(authority).ok_or(LinkError::BaseUrl)?;
    if plain && !is_loopback(host) {
        return Err(LinkError::BaseUrl);
    }
    Ok(base)
}

/// The host of an authority `host[:port]` or `[v6][:port]`; `None` when it is empty, carries
/// user information (`127.0.0.1@evil.example`) or a port that is not a number.
fn host_of(authority: &str) -> Option<&str> {
    if authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (
                host,
                after.strip_prefix(':').or(after.is_empty().then_some(""))?,
            )
        }
        None => authority.split_once(':').unwrap_or((authority, "")),
    };
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    (!host.is_empty() && port_ok).then_some(host)
}

/// Plain `http` is allowed only where nothing leaves the machine: `localhost`, or an address in
/// 127.0.0.0/8 or `::1`, parsed as an address (a name like `127.evil.example` is not one).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
        || host.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback())
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
        assert!(short_link("http://127.1.2.3", &id()).is_ok());
        assert!(short_link("http://localhost:80/portal", &id()).is_ok());
        assert!(short_link("http://[::1]:8080", &id()).is_ok());
        for spoof in [
            "http://127.evil.example",
            "http://127.0.0.1.evil.example",
            "http://127.0.0.1@evil.example",
            "http://localhost.evil.example",
            "http://[::2]",
            "http://127.0.0.1:80x",
            "https://user@portal.example",
            "https://",
        ] {
            assert_eq!(short_link(spoof, &id()), Err(LinkError::BaseUrl), "{spoof}");
        }
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
        let link = offline_link("https://p.example", &id(), "PR2:A B%C").unwrap_or_default();
        assert!(link.ends_with("#PR2:A%20B%25C"), "{link}");
        assert_eq!(
            Link::parse(&link).map(|l| l.credential),
            Ok(Some("PR2:A B%C".into()))
        );
        let mut typo = link.clone();
        typo.replace_range(20..21, "Z");
        assert!(
            matches!(Link::parse(&typo), Err(LinkError::Id(_))),
            "{typo}"
        );
    }
}
