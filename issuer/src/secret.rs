//! Secret keys: held in memory only as zeroizing types, stored only encrypted.
//!
//! One Argon2id run turns the operator's passphrase and a per-store salt into a 32-byte
//! key-encryption key; each secret key is sealed with XChaCha20-Poly1305 under it, with a random
//! 24-byte nonce and the key id as associated data (so a sealed key cannot be swapped for
//! another key's record).

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::IssuerError;

/// Argon2id memory cost in KiB (OWASP's minimum for Argon2id: 19 MiB, 2 passes).
pub const KDF_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const KDF_PASSES: u32 = 2;

/// Fills `out` from the operating system's CSPRNG.
pub(crate) fn random_bytes(out: &mut [u8]) -> Result<(), IssuerError> {
    getrandom::fill(out).map_err(|_| IssuerError::Random)
}

/// The key that seals secret keys, derived from the passphrase. Zeroized on drop; its `Debug`
/// shows nothing.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Vault {
    key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

impl Vault {
    /// Derives the vault key from a passphrase and the store's salt.
    pub fn open(passphrase: &str, salt: &[u8]) -> Result<Self, IssuerError> {
        if passphrase.is_empty() {
            return Err(IssuerError::Passphrase("the passphrase is empty"));
        }
        let params = Params::new(KDF_MEMORY_KIB, KDF_PASSES, 1, Some(32))
            .map_err(|_| IssuerError::Random)?;
        let mut key = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), salt, &mut key)
            .map_err(|_| IssuerError::Passphrase("the key derivation failed"))?;
        Ok(Vault { key })
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(self.key))
    }

    /// Seals a secret key: nonce (24 bytes) followed by the ciphertext and tag.
    pub fn seal(&self, secret: &SecretKey, key_id: &[u8]) -> Result<Vec<u8>, IssuerError> {
        self.seal_bytes(Zeroizing::new(secret.0.to_bytes()).as_slice(), key_id)
    }

    /// Seals secret bytes (another kind of key) under `label`, as [`Vault::seal`] does.
    pub fn seal_bytes(&self, plain: &[u8], label: &[u8]) -> Result<Vec<u8>, IssuerError> {
        let mut nonce = [0u8; 24];
        random_bytes(&mut nonce)?;
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: label,
                },
            )
            .map_err(|_| IssuerError::Random)?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// Opens a sealed secret key; a wrong passphrase (or a tampered record) fails here.
    pub fn unseal(&self, sealed: &[u8], key_id: &[u8]) -> Result<SecretKey, IssuerError> {
        let wrong = || IssuerError::Passphrase("wrong passphrase, or a damaged key record");
        let plain = self.unseal_bytes(sealed, key_id)?;
        let bytes: Zeroizing<[u8; 32]> =
            Zeroizing::new(plain.as_slice().try_into().map_err(|_| wrong())?);
        Ok(SecretKey(SigningKey::from_bytes(&bytes)))
    }

    /// Opens bytes sealed with [`Vault::seal_bytes`] under `label`.
    pub fn unseal_bytes(
        &self,
        sealed: &[u8],
        label: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, IssuerError> {
        let wrong = || IssuerError::Passphrase("wrong passphrase, or a damaged key record");
        let (nonce, body) = sealed.split_at_checked(24).ok_or_else(wrong)?;
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| wrong())?;
        Ok(Zeroizing::new(
            self.cipher()
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: body,
                        aad: label,
                    },
                )
                .map_err(|_| wrong())?,
        ))
    }
}

/// An Ed25519 secret key. Zeroized on drop (ed25519-dalek's `SigningKey` with `zeroize`); its
/// `Debug` shows only the public half; no `PartialEq`.
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, IssuerError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        random_bytes(seed.as_mut_slice())?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// The public key.
    pub fn public(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// Signs `data`.
    pub fn sign(&self, data: &[u8]) -> [u8; 64] {
        self.0.sign(data).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_passphrase_and_their_id() -> Result<(), IssuerError> {
        let vault = Vault::open("correct horse", b"0123456789abcdef")?;
        let key = SecretKey::generate()?;
        let sealed = vault.seal(&key, b"kid1")?;
        assert_eq!(vault.unseal(&sealed, b"kid1")?.public(), key.public());
        assert!(vault.unseal(&sealed, b"kid2").is_err());
        let other = Vault::open("wrong horse", b"0123456789abcdef")?;
        assert!(other.unseal(&sealed, b"kid1").is_err());
        let shown = format!("{key:?} {vault:?}");
        assert!(
            !shown.contains(&format!("{:?}", key.0.to_bytes())),
            "{shown}"
        );
        assert!(Vault::open("", b"0123456789abcdef").is_err());
        Ok(())
    }
}
