//! The wallet on disk: its SQLite store, adding from text, images, links and PDFs, and what is
//! read back from it.

use std::fmt;
use std::path::Path;

use propusk_spec::{CredentialId, Link, LinkError, Timestamp, UnverifiedCredential, decode_any};

use crate::error::WalletError;
use crate::store::WalletStore;
use propusk_trust_list::Bundle;

use crate::{Added, Entry, QrFormat, SignatureCheck, entries_among, pdf, pdf_read, person_key};

/// The wallet.
pub struct Wallet {
    pub(crate) store: WalletStore,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet").finish_non_exhaustive()
    }
}

impl Wallet {
    /// Opens (creating if needed) the wallet in `dir`.
    pub fn open(dir: &Path) -> Result<Self, WalletError> {
        Ok(Wallet {
            store: WalletStore::open(dir, true)?,
        })
    }

    /// Opens the wallet in `dir` to read it: [`WalletError::NoWallet`] when there is none.
    pub fn open_existing(dir: &Path) -> Result<Self, WalletError> {
        Ok(Wallet {
            store: WalletStore::open(dir, false)?,
        })
    }

    fn store(
        &mut self,
        unverified: &UnverifiedCredential,
        text: &str,
    ) -> Result<Added, WalletError> {
        let c = unverified.unverified_claims();
        // Verified by any trusted root's keys; the words of the wallet's own when by none.
        let bundles = self.bundles()?;
        let failures: Vec<String> = bundles
            .iter()
            .map(|b| {
                unverified
                    .verify(b.trust_list())
                    .err()
                    .map(|e| e.to_string())
            })
            .collect::<Option<_>>()
            .unwrap_or_default();
        let signature = match (bundles.is_empty(), failures.first()) {
            (true, _) => SignatureCheck::NotChecked,
            (false, Some(why)) => SignatureCheck::Failed(why.clone()),
            (false, None) => SignatureCheck::Verified,
        };
        let now = Timestamp::from_system(std::time::SystemTime::now());
        let new = self.store.insert(unverified, text, &person_key(c), now)?;
        Ok(Added {
            id: c.id,
            credential_type: c.credential_type(),
            new,
            signature,
        })
    }

    /// Adds credential text or an offline-verifiable link. The same credential twice is kept
    /// once.
    pub fn add_text(&mut self, input: &str) -> Result<Added, WalletError> {
        let input = input.trim();
        if input.starts_with(propusk_eudcc::PREFIX) {
            return self.add_eu(input);
        }
        let unverified = decode_any(input)?;
        let text = match Link::parse(input) {
            Ok(link) => link.credential.unwrap_or_else(|| input.to_owned()),
            Err(_) => input.to_owned(),
        };
        self.store(&unverified, &text)
    }

    /// Adds the credential whose QR code a PDF carries: a certificate this wallet exported, or a
    /// scanned document with the code in a JPEG image.
    pub fn add_pdf(&mut self, path: &Path) -> Result<Added, WalletError> {
        let io = |source| WalletError::Io {
            path: path.to_path_buf(),
            source,
        };
        // Bounded by the bytes read, whatever the file is (a device has no length).
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                std::fs::File::open(path).map_err(io)?,
                pdf_read::MAX_PDF_LEN as u64 + 1,
            ),
            &mut bytes,
        )
        .map_err(io)?;
        let text = pdf_read::qr_text(&bytes)?;
        let added = self.add_text(&text)?;
        // A certificate a wallet exported names the holder as that wallet noted it: kept as
        // this wallet's note too, unless it has one already.
        if let Some(name) = pdf_read::holder_note(&bytes)
            && self.noted(&added.id)?.is_none()
        {
            self.note_name(&added.id, &name)?;
        }
        Ok(added)
    }

    /// Adds the credentials of an issuer's answer — its issuance API's JSON,
    /// `{"credential": "PR2:…", "holder": {"family_name": …}, "eu": "HC1:…"}`, as a registry
    /// hands it to the holder — and keeps the names it gives as the holder's note (unless the
    /// wallet has one already): the credential itself carries initials only. The EU twin, when
    /// the answer has one, is kept with its credential.
    pub fn add_issued(&mut self, answer: &str) -> Result<Added, WalletError> {
        let bad = |why: &str| WalletError::Issued(why.to_owned());
        let answer: serde_json::Value =
            serde_json::from_str(answer).map_err(|e| bad(&e.to_string()))?;
        let credential = answer["credential"]
            .as_str()
            .ok_or_else(|| bad("no \"credential\" text"))?;
        let holder = &answer["holder"];
        if !holder["family_name"].is_string() {
            return Err(bad("no \"holder\" with a family name"));
        }
        let names: Vec<&str> = ["family_name", "given_name", "patronymic"]
            .iter()
            .filter_map(|k| holder[*k].as_str())
            .collect();
        // The names must be the credential's holder's: each begins with its initial, in the
        // native script or the Latin form.
        let initials = decode_any(credential)?
            .unverified_claims()
            .holder
            .initials
            .letters()
            .to_vec();
        let first = |key: &str| {
            let native = holder[key].as_str()?.chars().next()?.to_uppercase().next();
            let latin = holder[format!("{key}_latin")]
                .as_str()
                .and_then(|l| l.chars().next());
            Some([native, latin])
        };
        let agree = initials.len() == names.len()
            && ["family_name", "given_name", "patronymic"]
                .iter()
                .zip(&initials)
                .all(|(key, i)| first(key).is_some_and(|f| f.contains(&Some(*i))));
        if !agree {
            return Err(bad("its names are not those of its credential's holder"));
        }
        let added = self.add_text(credential)?;
        if let Some(twin) = answer["eu"].as_str() {
            self.add_text(twin)?;
        }
        if self.noted(&added.id)?.is_none() {
            self.note_name(&added.id, &names.join(" "))?;
        }
        Ok(added)
    }

    /// Adds the credential in a QR image (PNG or JPEG: a photo, a screenshot).
    pub fn add_image(&mut self, path: &Path) -> Result<Added, WalletError> {
        let text = propusk_qr::read_qr_file(path)?;
        self.add_text(&text)
    }

    /// Adds the credential behind a portal link: an offline-verifiable link needs no network; a
    /// short link is fetched from the portal (`{link}/credential`).
    pub fn add_link(&mut self, url: &str) -> Result<Added, WalletError> {
        let link = Link::parse(url.trim()).map_err(propusk_spec::Error::Link)?;
        if link.credential.is_some() {
            return self.add_text(url);
        }
        let fetch = format!("{}/c/{}/credential", link.base, link.id);
        let network = |message: String| WalletError::Network {
            url: fetch.clone(),
            message,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .get(&fetch)
            .call()
            .map_err(|e| network(e.to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(network(format!("answered {status}")));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(propusk_spec::MAX_TEXT_LEN as u64)
            .read_to_string()
            .map_err(|e| network(e.to_string()))?;
        let unverified = propusk_spec::decode(text.trim())?;
        if unverified.unverified_claims().id != link.id {
            return Err(propusk_spec::Error::Link(LinkError::IdMismatch).into());
        }
        self.store(&unverified, text.trim())
    }

    /// Keeps `name` as the holder's own note of their name on a credential (a credential
    /// carries initials only): shown in `list` and printed on its certificate; never something
    /// a verifier relies on. An empty name clears nothing and is refused.
    pub fn note_name(&mut self, id: &CredentialId, name: &str) -> Result<(), WalletError> {
        let name = propusk_spec::Text::new(name.trim())
            .map_err(|why| WalletError::Name(why.to_owned()))?;
        match self.store.set_name(id, name.as_str())? {
            true => Ok(()),
            false => Err(WalletError::NotFound(id.to_string())),
        }
    }

    /// The holder's note of the name on a credential, if one was kept.
    fn noted(&self, id: &CredentialId) -> Result<Option<String>, WalletError> {
        let id = id.to_string();
        Ok(self
            .store
            .names()?
            .into_iter()
            .find_map(|(i, n)| (i == id).then_some(n)))
    }

    /// The credential text of an id.
    pub fn text(&self, id: &str) -> Result<String, WalletError> {
        let not_found = || WalletError::NotFound(id.to_owned());
        let id: CredentialId = id.parse().map_err(|_| not_found())?;
        self.store.text(&id)?.ok_or_else(not_found)
    }

    /// The credential's QR code, drawn as `format`.
    pub fn qr(&self, id: &str, format: QrFormat) -> Result<Vec<u8>, WalletError> {
        let text = self.text(id)?;
        Ok(match format {
            QrFormat::Png => propusk_qr::render_png(&text, 6)?,
            QrFormat::Svg => propusk_qr::render_svg(&text)?.into_bytes(),
            QrFormat::Terminal { light } => propusk_qr::render_terminal(&text, light)?.into_bytes(),
        })
    }

    /// A printable A4 certificate (PDF) of one credential, in Russian and English, with its QR;
    /// with a second page in English for travel when the wallet keeps its EU DCC twin. An EU
    /// DCC on its own gets the travel page alone.
    pub fn certificate_pdf(&self, id: &str) -> Result<Vec<u8>, WalletError> {
        let text = self.text(id)?;
        let mut context = pdf::PrintContext::of(&text, self.bundle()?.as_ref());
        context.name = match id.parse() {
            Ok(id) => self.noted(&id)?,
            Err(_) => None,
        };
        pdf::certificate_in(&text, &self.texts()?, &context)
    }

    /// Every credential's text, oldest first.
    pub fn texts(&self) -> Result<Vec<String>, WalletError> {
        self.store.texts()
    }

    /// Every credential judged at `at` with the verifier's engine, grouped by person (sorted by
    /// person, then newest first).
    pub fn list(&self, at: Timestamp) -> Result<Vec<Entry>, WalletError> {
        let bundles = self.bundles()?;
        let others: Vec<&Bundle> = bundles.iter().skip(1).collect();
        let entries = entries_among(&self.texts()?, bundles.first(), &others, at);
        Ok(crate::with_notes(entries, &self.store.names()?))
    }
}
