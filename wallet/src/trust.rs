//! The wallet's trust data: taken from a published directory or the issuer's server, checked
//! with the issuer's root key; what the wallet judges with.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use propusk_trust_list::{Bundle, read_index, read_named};

use crate::Wallet;
use crate::error::WalletError;

impl Wallet {
    /// Takes trust data from a published directory (a USB stick, a mirror), checked with the
    /// issuer's root key; returns its sequence.
    pub fn set_trust(&mut self, root: &VerifyingKey, dir: &Path) -> Result<u64, WalletError> {
        let index = read_index(dir, root)?;
        let bytes = read_named(dir, &index.full)?;
        let bundle = Bundle::open(&bytes, root)?;
        self.store.set_trust(root, &bytes)?;
        Ok(bundle.sequence())
    }

    /// Takes trust data from the issuer's server at `base` (its `/bundle/` files), as `verifier
    /// sync --url` does: the signed index, then the full bundle it names, each checked with the
    /// root key — `root` the first time, after that the one the wallet holds (another is
    /// refused). Older data than the wallet holds is refused. Returns the sequence now held.
    pub fn set_trust_from_url(
        &mut self,
        root: Option<&VerifyingKey>,
        base: &str,
    ) -> Result<u64, WalletError> {
        let held = self.store.trust()?;
        let root = match (root, held.as_ref().map(|(r, _)| *r)) {
            (Some(given), Some(pinned)) if *given != pinned => return Err(WalletError::OtherRoot),
            (Some(given), _) => *given,
            (None, Some(pinned)) => pinned,
            (None, None) => return Err(WalletError::NoRoot),
        };
        let base = base.trim_end_matches('/');
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
        let bundle = Bundle::open(&bytes, &root)?;
        if let Some((pinned, old)) = &held {
            let old = Bundle::open(old, pinned)?;
            if bundle.sequence() < old.sequence() {
                return Err(WalletError::Older {
                    offered: bundle.sequence(),
                    held: old.sequence(),
                });
            }
        }
        self.store.set_trust(&root, &bytes)?;
        Ok(bundle.sequence())
    }

    /// The jurisdiction's time zone from the wallet's trust data (`None` without trust data),
    /// to show times as people there read them.
    pub fn time_zone(&self) -> Result<Option<String>, WalletError> {
        Ok(self.bundle()?.map(|b| b.content().rules.time_zone.clone()))
    }

    pub(crate) fn bundle(&self) -> Result<Option<Bundle>, WalletError> {
        match self.store.trust()? {
            None => Ok(None),
            Some((root, bytes)) => Ok(Some(Bundle::open(&bytes, &root)?)),
        }
    }
}
