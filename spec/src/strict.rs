//! Strict Ed25519 on the bytes (SPEC §6.4): which encodings of a public key `A` or of a
//! signature's `R` are canonical, and which name a point of small order. `ed25519-dalek`'s
//! `verify_strict` refuses small-order points, `S ≥ L` and non-canonical `R`, but takes the key's
//! bytes as given; these checks add the key, and let batch verification skip any signature that
//! strict verification would judge differently.

use ed25519_dalek::VerifyingKey;

/// The y coordinates (little-endian, sign bit clear) of the eight points of order dividing 8:
/// 1 (the identity), p − 1 (order 2), 0 (order 4) and ±y₈ (order 8).
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    le(1),
    le_minus(1),
    le(0),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
];

/// `n` as 32 little-endian bytes.
const fn le(n: u8) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0] = n;
    b
}

/// `p − n` (p = 2²⁵⁵ − 19) as 32 little-endian bytes, for small `n`.
const fn le_minus(n: u8) -> [u8; 32] {
    let mut b = [0xFF; 32];
    b[0] = 0xED - n;
    b[31] = 0x7F;
    b
}

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'a' + 10,
        }
    }
    let s = s.as_bytes();
    let mut b = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        b[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    b
}

/// The y coordinate of an encoding: the low 255 bits.
fn y_of(encoding: &[u8; 32]) -> [u8; 32] {
    let mut y = *encoding;
    y[31] &= 0x7F;
    y
}

/// Whether a point encoding is the canonical one: y below p, and the sign bit clear where x is
/// zero (y = 1 or y = p − 1).
pub(crate) fn canonical(encoding: &[u8; 32]) -> bool {
    let y = y_of(encoding);
    let at_least_p = y[31] == 0x7F && y[1..31].iter().all(|&b| b == 0xFF) && y[0] >= 0xED;
    let x_is_zero = y == SMALL_ORDER_Y[0] || y == SMALL_ORDER_Y[1];
    !(at_least_p || (x_is_zero && encoding[31] & 0x80 != 0))
}

/// Whether a canonical encoding names a point of small order.
pub(crate) fn small_order(encoding: &[u8; 32]) -> bool {
    SMALL_ORDER_Y.contains(&y_of(encoding))
}

/// Whether a signature's R is canonical and not of small order.
pub(crate) fn plain_r(signature: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    canonical(&r) && !small_order(&r)
}

/// A public key as trust lists take it: a canonical encoding of a point on the curve that is
/// not of small order; `None` otherwise.
pub fn verifying_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    if !canonical(bytes) || small_order(bytes) {
        return None;
    }
    VerifyingKey::from_bytes(bytes)
        .ok()
        .filter(|k| !k.is_weak())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_order_table_is_exactly_the_eight_torsion_points() {
        for y in SMALL_ORDER_Y {
            for sign in [0, 0x80] {
                let mut e = y;
                e[31] |= sign;
                if let Ok(k) = VerifyingKey::from_bytes(&e) {
                    assert!(k.is_weak(), "{e:?}");
                }
                assert!(verifying_key(&e).is_none());
            }
        }
        // A real key is none of them, and canonical.
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert!(canonical(key.as_bytes()) && !small_order(key.as_bytes()));
        assert!(verifying_key(key.as_bytes()).is_some());
    }

    #[test]
    fn encodings_at_or_above_p_and_negative_zero_are_not_canonical() {
        let p = le_minus(0);
        assert!(!canonical(&p));
        let mut p_plus_1 = p;
        p_plus_1[0] += 1;
        assert!(!canonical(&p_plus_1));
        assert!(canonical(&le_minus(1)));
        let mut negative_identity = le(1);
        negative_identity[31] |= 0x80;
        assert!(!canonical(&negative_identity));
        assert!(!canonical(&[0xFF; 32]));
    }
}
