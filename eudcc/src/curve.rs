//! Which EC domain parameters are P-256 (RFC 5480 §2.1.1): the named curve `prime256v1`, or
//! explicit parameters (RFC 3279 `ECParameters`) equal to it, as some signer certificates carry.
//! Anything else — another named curve, other explicit parameters, none — is not P-256, even
//! when the key's point happens to lie on P-256.

/// `prime256v1` (1.2.840.10045.3.1.7), the OID's content bytes.
const PRIME256V1: [u8; 8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// `prime-field` (1.2.840.10045.1.1).
const PRIME_FIELD: [u8; 7] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x01, 0x01];

const P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const A: &str = "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc";
const B: &str = "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b";
const GX: &str = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
const GY: &str = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
const N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// Whether the algorithm parameters of an `id-ecPublicKey` key (the universal tag number and the
/// content bytes) name P-256.
pub(crate) fn is_p256(tag: u32, content: &[u8]) -> bool {
    match tag {
        6 => content == PRIME256V1,
        16 => explicit_is_p256(content).unwrap_or(false),
        _ => false,
    }
}

/// One DER element: its tag byte, its content and what follows.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = match first {
        0..=0x7F => (usize::from(first), rest),
        0x81 | 0x82 => {
            let n = usize::from(first & 0x7F);
            let bytes = rest.get(..n)?;
            let length = bytes.iter().fold(0usize, |a, &b| a << 8 | usize::from(b));
            (length, &rest[n..])
        }
        _ => return None,
    };
    let content = rest.get(..length)?;
    Some((tag, content, &rest[length..]))
}

/// The next element, which must carry `tag`.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = element(input)?;
    (t == tag).then_some((content, rest))
}

/// Whether an unsigned big-endian number (leading zeros allowed) equals the hex constant.
fn equals(bytes: &[u8], hex: &str) -> bool {
    let strip = |b: &[u8]| -> Vec<u8> { b.iter().copied().skip_while(|&x| x == 0).collect() };
    propusk_spec::hex::decode(hex).is_some_and(|want| strip(bytes) == strip(&want))
}

fn explicit_is_p256(content: &[u8]) -> Option<bool> {
    let (version, rest) = expect(content, TAG_INTEGER)?;
    let (field, rest) = expect(rest, TAG_SEQUENCE)?;
    let (field_type, field_rest) = expect(field, TAG_OID)?;
    let (prime, field_rest) = expect(field_rest, TAG_INTEGER)?;
    let (curve, rest) = expect(rest, TAG_SEQUENCE)?;
    let (a, curve_rest) = expect(curve, TAG_OCTET_STRING)?;
    let (b, curve_rest) = expect(curve_rest, TAG_OCTET_STRING)?;
    let seed_ok = curve_rest.is_empty() || expect(curve_rest, TAG_BIT_STRING)?.1.is_empty();
    let (base, rest) = expect(rest, TAG_OCTET_STRING)?;
    let (order, rest) = expect(rest, TAG_INTEGER)?;
    let cofactor_ok = rest.is_empty() || {
        let (h, after) = expect(rest, TAG_INTEGER)?;
        equals(h, "01") && after.is_empty()
    };
    let generator = match base.split_first()? {
        (0x04, xy) if xy.len() == 64 => equals(&xy[..32], GX) && equals(&xy[32..], GY),
        // y = GY is odd: the compressed form is 03 ‖ x.
        (0x03, x) if x.len() == 32 => equals(x, GX),
        _ => false,
    };
    Some(
        version == [1]
            && field_type == PRIME_FIELD
            && field_rest.is_empty()
            && equals(prime, P)
            && equals(a, A)
            && equals(b, B)
            && seed_ok
            && generator
            && equals(order, N)
            && cofactor_ok,
    )
}
