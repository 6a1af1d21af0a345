//! The wallet's trust data: one bundle per trusted root, each taken from a published directory
//! or its issuer's server and checked with that root key. The first root taken is the wallet's
//! own (its rules judge `list` and `best`); others are issuers abroad whose credentials the
//! wallet can check and whose rules `trip` judges by.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use propusk_spec::Timestamp;
use propusk_trust_list::{Bundle, key_id_of, read_index, read_named};
use serde::Serialize;

use crate::Wallet;
use crate::error::WalletError;

/// A root the wallet trusts, as `wallet trust --list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedRoot {
    /// The root key's id.
    pub root_key_id: String,
    /// The issuer's jurisdiction (ISO 3166-1 alpha-2).
    pub jurisdiction: String,
    /// The sequence of the trust data held.
    pub sequence: u64,
    /// When that trust data was made.
    pub issued_at: Timestamp,
    /// Where it was last taken from (a server's address or a directory).
    pub source: Option<String>,
    /// The wallet's own root (its home jurisdiction's): the first taken.
    pub home: bool,
}

impl Wallet {
    /// Takes trust data from a published directory (a USB stick, a mirror), checked with the
    /// issuer's root key; returns its sequence. A root the wallet does not hold yet is added
    /// (the first is the wallet's own); older data than the wallet holds for it is refused.
    pub fn set_trust(&mut self, root: &VerifyingKey, dir: &Path) -> Result<u64, WalletError> {
        let index = read_index(dir, root)?;
        let bytes = read_named(dir, &index.full)?;
        self.keep(root, bytes, &dir.display().to_string())
    }

    /// Takes trust data from the issuer's server at `base` (its `/bundle/` files), as `verifier
    /// sync --url` does: the signed index, then the full bundle it names, each checked with the
    /// root key. Without `root`: the root last taken from `base`, or the wallet's only one.
    /// Older data than the wallet holds for that root is refused. Returns the sequence now held.
    pub fn set_trust_from_url(
        &mut self,
        root: Option<&VerifyingKey>,
        base: &str,
    ) -> Result<u64, WalletError> {
        let base = base.trim_end_matches('/');
        let root = match root {
            Some(given) => *given,
            None => {
                let held = self.store.trusts()?;
                let from_here = held.iter().find(|h| h.source.as_deref() == Some(base));
                match (from_here, held.as_slice()) {
                    (Some(h), _) => h.root,
                    (None, [only]) => only.root,
                    (None, []) => return Err(WalletError::NoRoot),
                    (None, _) => return Err(WalletError::WhichRoot(base.to_owned())),
                }
            }
        };
        let agent = propusk_verifier::trust_data_agent();
        let get = |name: &str, limit: u64| -> Result<Vec<u8>, WalletError> {
            let url = format!("{base}/bundle/{name}");
            let network = |message: String| WalletError::Network {
                url: url.clone(),
                message,
            };
            let mut response = agent.get(&url).call().map_err(|e| network(e.to_string()))?;
            match response.status().as_u16() {
                200 => response
                    .body_mut()
                    .with_config()
                    .limit(limit)
                    .read_to_vec()
                    .map_err(|e| network(e.to_string())),
                status => Err(network(format!("answered {status}"))),
            }
        };
        let index =
            propusk_trust_list::Index::open(&get(propusk_trust_list::INDEX_FILE, 1 << 20)?, &root)?;
        let bytes = get(&index.full, propusk_trust_list::MAX_BUNDLE_LEN as u64)?;
        self.keep(&root, bytes, base)
    }

    /// Keeps `bytes` as `root`'s trust data once they open with it and are not older than what
    /// the wallet holds for it.
    fn keep(
        &mut self,
        root: &VerifyingKey,
        bytes: Vec<u8>,
        source: &str,
    ) -> Result<u64, WalletError> {
        let bundle = Bundle::open(&bytes, root)?;
        let held = self.store.trusts()?;
        if let Some(old) = held.iter().find(|h| h.root == *root) {
            let old = Bundle::open(&old.bundle, &old.root)?;
            if bundle.sequence() < old.sequence() {
                return Err(WalletError::Older {
                    offered: bundle.sequence(),
                    held: old.sequence(),
                });
            }
        }
        self.store.set_trust(root, &bytes, Some(source))?;
        Ok(bundle.sequence())
    }

    /// The roots the wallet trusts, its own first.
    pub fn trusted(&self) -> Result<Vec<TrustedRoot>, WalletError> {
        let held = self.store.trusts()?;
        held.into_iter()
            .enumerate()
            .map(|(i, h)| {
                let bundle = Bundle::open(&h.bundle, &h.root)?;
                let content = bundle.content();
                Ok(TrustedRoot {
                    root_key_id: key_id_of(&h.root).to_string(),
                    jurisdiction: content.jurisdiction.clone(),
                    sequence: content.sequence,
                    issued_at: Timestamp::from_unix(content.issued_at)
                        .ok_or(WalletError::Corrupt("trust data time out of range"))?,
                    source: h.source,
                    home: i == 0,
                })
            })
            .collect()
    }

    /// Forgets the root whose key id is `key_id` (or begins with it) and its trust data; the
    /// root that was forgotten. Forgetting the wallet's own makes the next one its own.
    pub fn untrust(&mut self, key_id: &str) -> Result<TrustedRoot, WalletError> {
        let wanted = key_id.trim().to_ascii_lowercase();
        let roots = self.trusted()?;
        let keys = self.store.trusts()?;
        let found: Vec<usize> = roots
            .iter()
            .enumerate()
            .filter(|(_, r)| !wanted.is_empty() && r.root_key_id.starts_with(&wanted))
            .map(|(i, _)| i)
            .collect();
        let &[i] = found.as_slice() else {
            return Err(match found.is_empty() {
                true => WalletError::NotTrusted(key_id.to_owned()),
                false => WalletError::Ambiguous {
                    given: key_id.to_owned(),
                    candidates: found
                        .iter()
                        .map(|&i| roots[i].root_key_id.clone())
                        .collect(),
                },
            });
        };
        self.store.remove_trust(&keys[i].root)?;
        Ok(roots[i].clone())
    }

    /// The jurisdiction's time zone from the wallet's own trust data (`None` without trust
    /// data), to show times as people there read them.
    pub fn time_zone(&self) -> Result<Option<String>, WalletError> {
        Ok(self.bundle()?.map(|b| b.content().rules.time_zone.clone()))
    }

    /// The wallet's own trust data.
    pub(crate) fn bundle(&self) -> Result<Option<Bundle>, WalletError> {
        Ok(self.bundles()?.into_iter().next())
    }

    /// Every root's trust data, the wallet's own first.
    pub(crate) fn bundles(&self) -> Result<Vec<Bundle>, WalletError> {
        self.store
            .trusts()?
            .iter()
            .map(|h| Ok(Bundle::open(&h.bundle, &h.root)?))
            .collect()
    }
}
