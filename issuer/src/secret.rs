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

/// What the key that proves rows is derived with (HMAC-SHA-256 under the vault key).
const PROOF_KEY_LABEL: &[u8] = b"propusk: proof of rows, v1";

/// HMAC-SHA-256 under `key` over `parts`, each prefixed by its length (4 bytes, big-endian), so
/// that no two lists of parts give the same input.
fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    // HMAC pads a key shorter than the hash's block (64 bytes) with zeros: the padded block is
    // the same key, and needs no fallible conversion.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new(&block.into());
    block.zeroize();
    for part in parts {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        mac.update(&len.to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Fills `out` from the operating system's CSPRNG.
pub(crate) fn random_bytes(out: &mut [u8]) -> Result<(), IssuerError> {
    getrandom::fill(out).map_err(|_| IssuerError::Random)
}

/// The key that seals secret keys, derived from the passphrase, and the key that proves rows
/// (derived from it: [`Vault::prove`]). Zeroized on drop; its `Debug` shows nothing.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Vault {
    key: [u8; 32],
    proof: [u8; 32],
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
        let vault = Self::from_key(&key);
        key.zeroize();
        Ok(vault)
    }

    /// The vault of a key derived elsewhere (in a hardware security module).
    pub(crate) fn from_key(key: &[u8; 32]) -> Self {
        Vault {
            key: *key,
            proof: mac(key, &[PROOF_KEY_LABEL]),
        }
    }

    /// The proof of a row's content: HMAC-SHA-256 under a key derived from the vault key, over
    /// `parts` each prefixed by its length. Only someone holding the passphrase makes it.
    pub fn prove(&self, parts: &[&[u8]]) -> [u8; 32] {
        mac(&self.proof, parts)
    }

    /// Whether `proof` is the proof of `parts` (compared in constant time).
    pub fn proves(&self, proof: &[u8], parts: &[&[u8]]) -> bool {
        self.prover().proves(proof, parts)
    }

    /// The proof key alone, for a reader that checks proofs and seals nothing (the portal).
    pub(crate) fn prover(&self) -> Prover {
        Prover(self.proof)
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

/// The key that proves rows, apart from the vault. Zeroized on drop; its `Debug` shows nothing.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Prover([u8; 32]);

impl std::fmt::Debug for Prover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prover").finish_non_exhaustive()
    }
}

impl Prover {
    /// Whether `proof` is the proof of `parts` (compared in constant time).
    pub(crate) fn proves(&self, proof: &[u8], parts: &[&[u8]]) -> bool {
        use subtle::ConstantTimeEq;
        proof.ct_eq(mac(&self.0, parts).as_slice()).into()
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
        // Proofs: bound to the passphrase and to every part, and to where parts end.
        let proof = vault.prove(&[b"key", b"ab"]);
        assert!(vault.proves(&proof, &[b"key", b"ab"]));
        assert!(!vault.proves(&proof, &[b"key", b"ac"]));
        assert!(!vault.proves(&proof, &[b"keya", b"b"]));
        assert!(!other.proves(&proof, &[b"key", b"ab"]));
        assert!(!vault.proves(&[], &[b"key", b"ab"]));
        // The padded key is HMAC's own: the same tag as a keyed-from-slice HMAC.
        use hmac::{KeyInit, Mac};
        let mut reference = hmac::Hmac::<sha2::Sha256>::new_from_slice(&[7u8; 32])
            .map_err(|_| IssuerError::Random)?;
        reference.update(&1u32.to_be_bytes());
        reference.update(b"x");
        let expected: [u8; 32] = reference.finalize().into_bytes().into();
        assert_eq!(mac(&[7u8; 32], &[b"x"]), expected);
        Ok(())
    }
}
