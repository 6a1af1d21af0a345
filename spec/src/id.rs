//! Credential ids and key ids.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Bytes in a credential id: 96 random bits.
pub const CREDENTIAL_ID_BYTES: usize = 12;
/// Characters in the text form of a credential id: 20 data characters and a check character.
pub const CREDENTIAL_ID_CHARS: usize = 21;
/// Crockford's base32 alphabet: digits and capitals without I, L, O, U.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A credential's id: 12 bytes of randomness, unique and unguessable.
///
/// Its text form (in links, on the portal, in the issuer's records) is 20 Crockford base32
/// characters and a check character computed over GF(32), which catches every single
/// mistyped character and every swap of two neighbours, the check character included.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId([u8; CREDENTIAL_ID_BYTES]);

/// Why a credential id's text form was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// Not 21 characters after removing hyphens.
    #[error("a credential id has 21 characters")]
    Length,
    /// A character outside Crockford's base32 alphabet.
    #[error("character {0:?} cannot appear in a credential id")]
    Character(char),
    /// The check character does not match: the id was mistyped.
    #[error("the check character does not match: the id is mistyped")]
    Check,
    /// The padding bits of the last data character are not zero.
    #[error("the id is not in canonical form")]
    Padding,
}

impl CredentialId {
    /// The id made of these bytes (the issuer fills them from a CSPRNG).
    pub const fn from_bytes(bytes: [u8; CREDENTIAL_ID_BYTES]) -> Self {
        CredentialId(bytes)
    }

    /// The raw 12 bytes, as they travel in the claims map.
    pub const fn as_bytes(&self) -> &[u8; CREDENTIAL_ID_BYTES] {
        &self.0
    }

    /// The 20 data symbols (values 0..32): the 96 bits, most significant first, and four zero
    /// padding bits.
    fn symbols(&self) -> [u8; 20] {
        let mut wide = [0u8; 16];
        wide[..12].copy_from_slice(&self.0);
        let n = u128::from_be_bytes(wide) >> 28; // 100 bits: 96 of id, 4 zero
        let mut out = [0u8; 20];
        for (i, s) in out.iter_mut().enumerate() {
            *s = ((n >> (5 * (19 - i))) & 31) as u8;
        }
        out
    }
}

/// Multiplies by the generator α of GF(32) = GF(2)[x]/(x⁵ + x² + 1).
fn times_alpha(v: u8) -> u8 {
    let v = v << 1;
    if v & 0x20 != 0 { (v ^ 0x25) & 31 } else { v }
}

/// The check symbol: Σ d_k·α^(21−k) over GF(32) for data symbols d_1..d_20 (Horner's rule).
fn check_symbol(data: &[u8; 20]) -> u8 {
    data.iter().fold(0, |acc, &d| times_alpha(acc ^ d))
}

fn symbol_value(c: char) -> Result<u8, IdError> {
    let upper = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    CROCKFORD
        .iter()
        .position(|&a| char::from(a) == upper)
        .map(|v| v as u8)
        .ok_or(IdError::Character(c))
}

impl FromStr for CredentialId {
    type Err = IdError;

    /// Parses the text form. Lower case and hyphens are accepted, and `O`, `I`, `L` are read
    /// as `0`, `1`, `1` as in Crockford's base32; the check character must match.
    fn from_str(s: &str) -> Result<Self, IdError> {
        let mut symbols = [0u8; CREDENTIAL_ID_CHARS];
        let mut n = 0;
        for c in s.chars().filter(|&c| c != '-') {
            let slot = symbols.get_mut(n).ok_or(IdError::Length)?;
            *slot = symbol_value(c)?;
            n += 1;
        }
        if n != CREDENTIAL_ID_CHARS {
            return Err(IdError::Length);
        }
        let mut data = [0u8; 20];
        data.copy_from_slice(&symbols[..20]);
        if check_symbol(&data) != symbols[20] {
            return Err(IdError::Check);
        }
        if data[19] & 0b1111 != 0 {
            return Err(IdError::Padding);
        }
        let n = data
            .iter()
            .fold(0u128, |acc, &d| (acc << 5) | u128::from(d))
            << 28;
        let mut bytes = [0u8; CREDENTIAL_ID_BYTES];
        bytes.copy_from_slice(&n.to_be_bytes()[..12]);
        Ok(CredentialId(bytes))
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.symbols();
        for s in data.iter().chain(std::iter::once(&check_symbol(&data))) {
            write!(f, "{}", char::from(CROCKFORD[usize::from(*s)]))?;
        }
        Ok(())
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({self})")
    }
}

/// Most bytes a key id may have.
pub const MAX_KEY_ID_BYTES: usize = 16;

/// A signing key's id, as carried in the COSE protected header: 1 to 16 bytes.
///
/// Propusk issuers use the first 2 bytes of SHA-256 over the raw public key (and draw
/// another key when a new key's id is already one of theirs; SPEC §6.2); the format only
/// fixes the length bounds. Shown as lower-case hex.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Vec<u8>);

impl KeyId {
    /// A key id from its bytes, or `None` when it is empty or longer than 16 bytes.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        (1..=MAX_KEY_ID_BYTES)
            .contains(&bytes.len())
            .then(|| KeyId(bytes.to_vec()))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Parses lower- or upper-case hex.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = crate::hex::decode(hex)?;
        KeyId::new(&bytes)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex::encode(&self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

crate::serialize_as_display!(CredentialId, KeyId);

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CredentialId {
        CredentialId::from_bytes(*b"\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98")
    }

    #[test]
    fn text_round_trip_and_shape() {
        let id = sample();
        let text = id.to_string();
        assert_eq!(text.len(), CREDENTIAL_ID_CHARS);
        assert_eq!(text.parse::<CredentialId>(), Ok(id));
        assert_eq!(text.to_lowercase().parse::<CredentialId>(), Ok(id));
        let grouped = format!("{}-{}-{}", &text[..7], &text[7..14], &text[14..]);
        assert_eq!(grouped.parse::<CredentialId>(), Ok(id));
    }

    #[test]
    fn every_single_substitution_and_neighbour_swap_is_caught() {
        for seed in 0u8..40 {
            let id = CredentialId::from_bytes(
                [seed.wrapping_mul(37) ^ 0x5a; 12].map(|b| b.wrapping_add(seed)),
            );
            let text: Vec<u8> = id.to_string().into_bytes();
            for pos in 0..text.len() {
                for &c in CROCKFORD {
                    if c == text[pos] {
                        continue;
                    }
                    let mut typo = text.clone();
                    typo[pos] = c;
                    let typo = String::from_utf8(typo).unwrap_or_default();
                    assert!(typo.parse::<CredentialId>().is_err(), "{typo} accepted");
                }
                if pos + 1 < text.len() && text[pos] != text[pos + 1] {
                    let mut swap = text.clone();
                    swap.swap(pos, pos + 1);
                    let swap = String::from_utf8(swap).unwrap_or_default();
                    assert!(swap.parse::<CredentialId>().is_err(), "{swap} accepted");
                }
            }
        }
    }

    #[test]
    fn refuses_bad_text() {
        assert_eq!("ABC".parse::<CredentialId>(), Err(IdError::Length));
        let mut text = sample().to_string();
        text.replace_range(3..4, "U");
        assert_eq!(text.parse::<CredentialId>(), Err(IdError::Character('U')));
    }

    #[test]
    fn key_id_bounds() {
        assert!(KeyId::new(&[]).is_none());
        assert!(KeyId::new(&[0; 17]).is_none());
        let kid = KeyId::new(&[0xde, 0xad]).map(|k| k.to_string());
        assert_eq!(kid.as_deref(), Some("dead"));
        assert_eq!(KeyId::from_hex("DEAD"), KeyId::new(&[0xde, 0xad]));
    }
}
