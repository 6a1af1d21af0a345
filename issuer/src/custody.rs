//! Where the issuer's secret keys are kept: sealed under the passphrase in the store, or in a
//! hardware security module ([`Token`]). An issuer made with a token keeps every key there and
//! derives its vault (the key that proves rows) in it; an issuer made with a passphrase can
//! move its future keys into a token ([`Issuer::move_to_token`]), and keeps its passphrase for
//! the keys it sealed before.

use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use propusk_eudcc::{EcSign, cert};
use propusk_spec::Timestamp;
use zeroize::Zeroizing;

use crate::error::{IssuerError, StoreError, TokenError};
use crate::issuer::Issuer;
use crate::records::{AuditOp, KeyRole};
use crate::secret::{SecretKey, Vault, random_bytes};
use crate::store::{StoredEuKey, StoredKey};
use crate::token::{Token, TokenEcKey, in_token, token_id};

/// The token object id of the secret an issuer's vault is derived from.
fn vault_id(salt: &[u8]) -> Vec<u8> {
    [b"propusk vault ".as_slice(), salt].concat()
}

/// An Ed25519 key that signs: unsealed in memory, or in the token.
pub(crate) enum Ed25519Key {
    Memory(SecretKey),
    Token {
        token: Arc<Token>,
        id: Vec<u8>,
        public: VerifyingKey,
    },
}

impl Ed25519Key {
    /// Its public key.
    pub(crate) fn public(&self) -> VerifyingKey {
        match self {
            Ed25519Key::Memory(secret) => secret.public(),
            Ed25519Key::Token { public, .. } => *public,
        }
    }

    /// Signs `message`. A token's signature is checked against the key's public half: a device
    /// that answers with something else is caught here, not by every verifier.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<[u8; 64], IssuerError> {
        match self {
            Ed25519Key::Memory(secret) => Ok(secret.sign(message)),
            Ed25519Key::Token { token, id, public } => {
                let signature = token.sign_ed25519(id, message)?;
                public
                    .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
                    .map_err(|_| TokenError::Refused("a signature that does not verify".into()))?;
                Ok(signature)
            }
        }
    }

    /// Runs `f` with an infallible signing function, as the encoders take one: the first
    /// failure of the token makes the whole result that error (what `f` made with the failed
    /// signature is dropped).
    pub(crate) fn signing<T>(
        &self,
        f: impl FnOnce(&dyn Fn(&[u8]) -> [u8; 64]) -> T,
    ) -> Result<T, IssuerError> {
        let failed = std::cell::RefCell::new(None);
        let sign = |message: &[u8]| {
            self.sign(message).unwrap_or_else(|e| {
                failed.borrow_mut().get_or_insert(e);
                [0; 64]
            })
        };
        let out = f(&sign);
        match failed.into_inner() {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// A new EU key, before its certificate names it: its secret, when it is not in a token, is
/// sealed once the key id is known ([`NewEcKey::stored`]).
pub(crate) enum NewEcKey {
    Memory(cert::EcKey, Zeroizing<[u8; 32]>),
    Token(TokenEcKey),
}

impl NewEcKey {
    /// The key, to sign with.
    pub(crate) fn key(&self) -> &dyn EcSign {
        match self {
            NewEcKey::Memory(key, _) => key,
            NewEcKey::Token(key) => key,
        }
    }

    /// The key, to keep signing with.
    pub(crate) fn into_key(self) -> Box<dyn EcSign> {
        match self {
            NewEcKey::Memory(key, _) => Box::new(key),
            NewEcKey::Token(key) => Box::new(key),
        }
    }

    /// What the store keeps of it: the secret sealed under `label`, or its token object id.
    pub(crate) fn stored(&self, vault: &Vault, label: &[u8]) -> Result<Vec<u8>, IssuerError> {
        match self {
            NewEcKey::Memory(_, secret) => vault.seal_bytes(secret.as_slice(), label),
            NewEcKey::Token(key) => Ok(in_token(&key.id)),
        }
    }
}

impl Issuer {
    /// The token keys are kept in, when one is open.
    pub(crate) fn token(&self) -> Option<&Arc<Token>> {
        self.token.as_ref()
    }

    /// Whether the root key is kept in a token (the vault is then derived there, and no
    /// passphrase is asked for).
    pub fn root_in_token(&self) -> Result<bool, IssuerError> {
        Ok(token_id(&self.root_key()?.sealed).is_some())
    }

    /// A new Ed25519 key: in the token when one is open, else drawn here and sealed under the
    /// vault; returns its public key and what the store keeps of its secret (sealed under the
    /// key id, which the public key gives).
    pub(crate) fn new_ed25519(
        &self,
        role: KeyRole,
    ) -> Result<(VerifyingKey, Vec<u8>), IssuerError> {
        if let Some(token) = self.token() {
            let (id, public) = token.new_ed25519("propusk signing key")?;
            let public = VerifyingKey::from_bytes(&public)
                .map_err(|_| TokenError::Refused("an Ed25519 public key that is none".into()))?;
            return Ok((public, in_token(&id)));
        }
        let secret = SecretKey::generate()?;
        let key_id = crate::keys::key_id_for(role, &secret.public());
        let sealed = self.vault()?.seal(&secret, key_id.to_string().as_bytes())?;
        Ok((secret.public(), sealed))
    }

    /// The signing half of a stored key: unsealed (the issuer must be unlocked), or its handle
    /// in the token (which must be open).
    pub(crate) fn key_of(&self, key: &StoredKey) -> Result<Ed25519Key, IssuerError> {
        let Some(id) = token_id(&key.sealed) else {
            let secret = self
                .vault()?
                .unseal(&key.sealed, key.key_id.to_string().as_bytes())?;
            return Ok(Ed25519Key::Memory(secret));
        };
        let token = self.token().ok_or(TokenError::NotNamed(
            self.dir.join(crate::token::PKCS11_FILE),
        ))?;
        Ok(Ed25519Key::Token {
            token: Arc::clone(token),
            id: id.to_vec(),
            public: key.public_key,
        })
    }

    /// A new P-256 key for the EU twin: in the token when one is open, else drawn here.
    pub(crate) fn new_ec(&self) -> Result<NewEcKey, IssuerError> {
        if let Some(token) = self.token() {
            let (id, public) = token.new_p256("propusk EU key")?;
            return Ok(NewEcKey::Token(TokenEcKey {
                token: Arc::clone(token),
                id,
                public,
            }));
        }
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            random_bytes(bytes.as_mut_slice())?;
            if let Some(key) = cert::signing_key(&bytes) {
                return Ok(NewEcKey::Memory(key, bytes));
            }
        }
    }

    /// The signing half of a stored EU key, its secret sealed under `label` or kept in the
    /// token.
    pub(crate) fn ec_of(
        &self,
        key: &StoredEuKey,
        label: &[u8],
    ) -> Result<Box<dyn EcSign>, IssuerError> {
        if let Some(id) = token_id(&key.sealed) {
            let token = self.token().ok_or(TokenError::NotNamed(
                self.dir.join(crate::token::PKCS11_FILE),
            ))?;
            let public = propusk_eudcc::SignerCertificate::from_der(&key.certificate)
                .ok()
                .and_then(|c| c.public_key_sec1())
                .ok_or(StoreError::Corrupt("an EU certificate that does not parse"))?;
            return Ok(Box::new(TokenEcKey {
                token: Arc::clone(token),
                id: id.to_vec(),
                public,
            }));
        }
        let secret = self.vault()?.unseal_bytes(&key.sealed, label)?;
        let bytes: &[u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("an EU key of the wrong size"))?;
        let key = cert::signing_key(bytes)
            .ok_or(StoreError::Corrupt("an EU key that is not a P-256 key"))?;
        Ok(Box::new(key))
    }

    /// The vault of an issuer made with a token: derived in the token from the secret made at
    /// `init` and the store's salt.
    pub(crate) fn token_vault(token: &Token, salt: &[u8]) -> Result<Vault, IssuerError> {
        let key = token.hmac(&vault_id(salt), b"propusk: the vault key, v1")?;
        Ok(Vault::from_key(&key))
    }

    /// Makes the secret a new issuer's vault is derived from in `token`, and that vault.
    pub(crate) fn new_token_vault(token: &Token, salt: &[u8]) -> Result<Vault, IssuerError> {
        token.new_secret(&vault_id(salt), "propusk vault")?;
        Self::token_vault(token, salt)
    }

    /// Unlocks with the token: the vault derived in it when the root key is kept there (the
    /// passphrase is not needed), else from `passphrase` as [`Issuer::unlock`] does; the keys
    /// kept in the token sign through it from now on. The root key proves the token is this
    /// issuer's: it must sign, and its signature verify.
    pub fn unlock_with_token(
        &mut self,
        token: Token,
        passphrase: Option<&str>,
    ) -> Result<(), IssuerError> {
        let token = Arc::new(token);
        self.token = Some(Arc::clone(&token));
        let unlocked = if self.root_in_token()? {
            Self::token_vault(&token, &self.settings.salt).and_then(|vault| {
                self.vault = Some(vault);
                self.key_of(&self.root_key()?)?.sign(b"propusk: unlock")?;
                Ok(())
            })
        } else {
            match passphrase {
                Some(passphrase) => self.unlock(passphrase),
                None => Err(IssuerError::Passphrase(
                    "this issuer's older keys are sealed under its passphrase: set \
                     PROPUSK_PASSPHRASE as well as the PIN",
                )),
            }
        };
        if unlocked.is_err() {
            self.token = None;
            self.vault = None;
        }
        unlocked
    }

    /// Keeps every key made from now on (signing keys, EU keys) in `token`, named in the
    /// issuer's directory (`pkcs11.json`); the keys sealed before stay sealed and sign until
    /// they are rotated out. The issuer must be unlocked with its passphrase.
    pub fn move_to_token(&mut self, token: Token, now: Timestamp) -> Result<(), IssuerError> {
        self.vault()?;
        let place = token.place().clone();
        self.in_transaction(|issuer| {
            issuer.audit(
                now,
                AuditOp::Config,
                &format!("keys made from now on kept in token {}", place.token),
            )
        })?;
        place.write(&self.dir)?;
        self.token = Some(Arc::new(token));
        Ok(())
    }
}
