//! Base45 (RFC 9285), strict: every input has at most one decoding and every byte string exactly
//! one encoding.

use crate::error::Base45Error;

/// The 45 characters of RFC 9285 §4, in value order.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Encodes bytes as base45 text (RFC 9285 §4.1).
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut push = |v: u32| out.push(char::from(ALPHABET[(v % 45) as usize]));
    let mut pairs = bytes.chunks_exact(2);
    for pair in &mut pairs {
        let n = u32::from(pair[0]) * 256 + u32::from(pair[1]);
        push(n);
        push(n / 45);
        push(n / 2025);
    }
    if let [last] = pairs.remainder() {
        let n = u32::from(*last);
        push(n);
        push(n / 45);
    }
    out
}

/// The value of each byte as a base45 character, or 0xFF.
const VALUES: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn value(text: &[u8], at: usize) -> Result<u32, Base45Error> {
    match VALUES[usize::from(text[at])] {
        0xFF => Err(Base45Error::InvalidCharacter { position: at }),
        v => Ok(u32::from(v)),
    }
}

/// Decodes base45 text (RFC 9285 §4.2), rejecting characters outside the alphabet, a lone
/// trailing character, and groups whose value does not fit their bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let text = text.as_bytes();
    if text.len() % 3 == 1 {
        return Err(Base45Error::InvalidLength { length: text.len() });
    }
    let mut out = Vec::with_capacity(text.len() / 3 * 2 + 1);
    let mut at = 0;
    while at < text.len() {
        if text.len() - at >= 3 {
            let n = value(text, at)? + value(text, at + 1)? * 45 + value(text, at + 2)? * 2025;
            let pair = u16::try_from(n).map_err(|_| Base45Error::GroupOverflow { position: at })?;
            out.extend_from_slice(&pair.to_be_bytes());
            at += 3;
        } else {
            let n = value(text, at)? + value(text, at + 1)? * 45;
            let byte = u8::try_from(n).map_err(|_| Base45Error::GroupOverflow { position: at })?;
            out.push(byte);
            at += 2;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").as_deref(), Ok(&b"ietf!"[..]));
        assert_eq!(decode("%69 VD92EX0").as_deref(), Ok(&b"Hello!!"[..]));
    }

    #[test]
    fn rejects_what_rfc_9285_rejects() {
        assert_eq!(
            decode("GGW"),
            Err(Base45Error::GroupOverflow { position: 0 })
        );
        assert_eq!(
            decode("AB:"),
            Err(Base45Error::GroupOverflow { position: 0 })
        );
        // Two characters whose value exceeds one byte ("ZZ" = 35 + 35 * 45).
        assert_eq!(
            decode("BB8ZZ"),
            Err(Base45Error::GroupOverflow { position: 3 })
        );
        assert_eq!(
            decode("BB8A"),
            Err(Base45Error::InvalidLength { length: 4 })
        );
        assert_eq!(
            decode("bb8"),
            Err(Base45Error::InvalidCharacter { position: 0 })
        );
        assert_eq!(
            decode("BB#"),
            Err(Base45Error::InvalidCharacter { position: 2 })
        );
        assert_eq!(decode("").as_deref(), Ok(&b""[..]));
    }
}
