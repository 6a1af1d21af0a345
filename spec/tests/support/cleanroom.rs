//! A second decoder of the Propusk format, written from SPEC.md alone (it shares no code with
//! the crate), in which every MUST and refuse rule is a switch. `tests/cleanroom.rs` checks
//! that it agrees with every golden vector, and that leaving out any one rule makes it disagree
//! with at least one: so each rule has a vector that a decoder lacking it fails.
//!
//! Leaving a rule out means skipping its check and decoding on, with the most lenient reading
//! that lets decoding go on: a value of the wrong type or out of range is taken as it is (a
//! text's bytes where bytes belong, a protected header or payload that is no byte string by its
//! own encoding), a missing one as absent (no key id: looked up as none), a long head, an
//! indefinite length, a tag or a duplicate key read through, a lower-case base45 letter as its
//! capital, a group that overflows wrapping, text trimmed.

use std::collections::BTreeSet;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

#[path = "cleanroom_cbor.rs"]
mod cbor;

pub(crate) use cbor::{Item, Profile, Where};

/// Declares [`Rule`]: the rules named here, and a CBOR profile rule in each of the three items.
macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// A MUST or refuse rule of SPEC.md, by section.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum Rule {
            $($(#[$doc])* $name,)*
            /// §5: a CBOR profile rule, in one of the three items.
            Cbor(Where, Profile),
        }

        impl Rule {
            /// Every rule.
            pub(crate) fn all() -> Vec<Rule> {
                let mut all = vec![$(Rule::$name),*];
                for w in [Where::Sign1, Where::Header, Where::Payload] {
                    all.extend(Profile::ALL.map(|p| Rule::Cbor(w, p)));
                }
                all
            }
        }
    };
}

rules! {
    /// §1: no repairing, trimming or normalising.
    NoRepair,
    /// §1: the fields (layers `claims`, `body`) are checked before the signature.
    FieldsBeforeSignature,
    /// §1: the protected header is checked before the payload is decoded.
    HeaderBeforePayload,
    /// §7: the claims before the body.
    ClaimsBeforeBody,
    /// §7: the body before the order of expiry and issued-at.
    BodyBeforeExpiryOrder,
    /// §2: at most 4296 bytes.
    TextLength,
    /// §2: exactly `PR2:`.
    Prefix,
    /// §3: characters in the alphabet.
    Base45Alphabet,
    /// §3: length mod 3 is not 1.
    Base45Length,
    /// §3: a three-character group at most 65535.
    Base45Group3,
    /// §3: a final two-character group at most 255.
    Base45Group2,
    /// §4: the first byte of `S` is 0x84.
    FirstByte,
    /// §6.1: `protected` is a byte string.
    ProtectedBytes,
    /// §6.1: `unprotected` is the empty map.
    UnprotectedEmpty,
    /// §6.1: `payload` is a byte string.
    PayloadBytes,
    /// §6.1: `signature` is a byte string of 64 bytes.
    Signature64,
    /// §6.2: the protected header is a map holding a key id (not zero bytes, not another item).
    HeaderKeyId,
    /// §6.2: the key id is a byte string.
    KeyIdBytes,
    /// §6.2: the key id has 1 to 16 bytes.
    KeyIdLength,
    /// §6.2: no `alg` (1).
    NoAlg,
    /// §6.2: no `crit` (2).
    NoCrit,
    /// §6.2: no other label.
    NoOtherLabel,
    /// §6.4 rule 1: `A` is the canonical encoding of a point not of small order.
    KeyStrict,
    /// §6.4 rule 2: `R` likewise.
    RStrict,
    /// §6.4 rule 3: `S` below L.
    SReduced,
    /// §6.4 rule 4: the group equation, on `R`'s bytes.
    Equation,
    /// §7: the payload is a map.
    ClaimsMap,
    /// §7: expiry, issued-at, id, holder present.
    ClaimPresent,
    /// §9.2: an instant is an unsigned integer.
    InstantType,
    /// §9.2: an instant at most 253402300799.
    InstantMax,
    /// §7: the id is a byte string.
    CtiBytes,
    /// §7: the id has exactly 12 bytes.
    CtiLength,
    /// §7: no key but those listed.
    UnknownClaim,
    /// §7: exactly one body.
    OneBody,
    /// §7: expiry later than issued-at.
    ExpiryAfterIssue,
    /// §8: the holder is an array of three.
    HolderShape,
    /// §9.1: a text field is a text or byte string.
    TextType,
    /// §9.1: 1 to 80 characters.
    TextChars,
    /// §9.1: no control characters.
    TextControl,
    /// §9.1: no leading or trailing white space.
    TextEdgeSpace,
    /// §9.1: an all-ASCII text is a text string, not bytes.
    FormAscii,
    /// §9.1: a text that windows-1251 can hold (not all ASCII) is bytes, not a text string.
    FormCp1251,
    /// §8.1: one to three initials.
    InitialsCount,
    /// §8.1: each an initial.
    InitialLetter,
    /// §8.2: a date, `[year]` or `[year, month]`.
    BirthForm,
    /// §8.2: month 1 to 12.
    BirthMonth,
    /// §8.2: a year 1900 to 2199.
    BirthYear,
    /// §9.2: a date from 1900-01-01 to 2199-12-31.
    DateRange,
    /// §8.3: a document is a number or an array.
    DocumentType,
    /// §8.3: a domestic passport's number at most 99999.
    PassportRange,
    /// §8.3: `[kind, masked]`, two items.
    DocumentPair,
    /// §8.3: kind 0 does not travel as an array.
    DocumentKindZero,
    /// §8.3: kind 1 or 2.
    DocumentKind,
    /// §8.3: `masked` is a text string.
    MaskedType,
    /// §8.3: `A`–`Z`, digits, space, hyphen, `*`.
    MaskedCharacters,
    /// §8.3: 1 to 24 characters.
    MaskedLength,
    /// §8.3: no leading or trailing space.
    MaskedEdgeSpace,
    /// §8.3: `*` exactly where a character goes.
    MaskedStars,
    /// §10: a body is a map.
    BodyMap,
    /// §10: no unknown body key.
    BodyUnknownKey,
    /// §10: no missing body key.
    BodyKeyPresent,
    /// §10: every body field of its type.
    BodyFieldType,
    /// §10.1: dose and doses 1 to 9.
    DoseRange,
    /// §9.3: product number 1 to 39.
    ProductNumber,
    /// §9.3: a listed product travels as its number.
    ProductListed,
    /// §9.3: a product text is an ASCII text string.
    ProductAscii,
    /// §9.3: country 0 to 675.
    CountryRange,
    /// §9.3: test kind, result, pass purpose: the numbers listed.
    CodeKnown,
    /// §10.4, §10.5: the body's dates in order.
    BodyDateOrder,
    /// §11: the check character matches.
    IdCheck,
    /// §11: the padding bits are zero.
    IdPadding,
    /// §11: 21 characters of the alphabet (hyphens aside).
    IdForm,
    /// §12: the link ends in `/c/ID`.
    LinkShape,
    /// §12: the fragment percent-decodes.
    LinkPercent,
    /// §12: the fragment holds credential text.
    LinkFragment,
    /// §12: the credential's id is the link's.
    LinkIdMatches,
}

/// What the decoder answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Valid; the credential's id (hex).
    Valid(String),
    /// The key id is not trusted.
    UnknownKey,
    /// Refused at this layer.
    Invalid(&'static str),
}

/// The decoder, with some rules left out.
pub(crate) struct Decoder {
    pub(crate) skip: BTreeSet<Rule>,
}

type Step<T> = Result<T, Answer>;

fn refuse<T>(layer: &'static str) -> Step<T> {
    Err(Answer::Invalid(layer))
}

const MAX_INSTANT: i128 = 253_402_300_799;
const FIRST_DAY: i128 = -25_567; // 1900-01-01
const LAST_DAY: i128 = 84_005; // 2199-12-31

impl Decoder {
    pub(crate) fn strict() -> Decoder {
        Decoder {
            skip: BTreeSet::new(),
        }
    }

    pub(crate) fn on(&self, rule: Rule) -> bool {
        !self.skip.contains(&rule)
    }

    /// Refuses at `layer` when `rule` is on and `ok` does not hold.
    fn check(&self, rule: Rule, ok: bool, layer: &'static str) -> Step<()> {
        if !ok && self.on(rule) {
            return refuse(layer);
        }
        Ok(())
    }

    fn cbor(&self, bytes: &[u8], w: Where) -> Step<(Item, Vec<Vec<u8>>)> {
        cbor::read(bytes, &|p| self.on(Rule::Cbor(w, p))).map_err(|_| Answer::Invalid("cbor"))
    }

    /// Decodes and verifies `text` with the keys `(key id, public key)`.
    pub(crate) fn credential(&self, text: &str, keys: &[(Vec<u8>, [u8; 32])]) -> Answer {
        match self.credential_steps(text, keys) {
            Ok(id) => Answer::Valid(id),
            Err(answer) => answer,
        }
    }

    fn credential_steps(&self, text: &str, keys: &[(Vec<u8>, [u8; 32])]) -> Step<String> {
        let text = if self.on(Rule::NoRepair) {
            text
        } else {
            text.trim()
        };
        self.check(Rule::TextLength, text.len() <= 4296, "prefix")?;
        let body = match text.strip_prefix("PR2:") {
            Some(body) => body,
            None if !self.on(Rule::Prefix) => text.get(4..).ok_or(Answer::Invalid("prefix"))?,
            None => return refuse("prefix"),
        };
        let s = self.base45(body)?;
        if s.is_empty() {
            return refuse("cose");
        }
        self.check(Rule::FirstByte, s[0] == 0x84, "cose")?;
        let (sign1, children) = self.cbor(&s, Where::Sign1)?;
        let Item::Array(items) = &sign1 else {
            return refuse("cose");
        };
        if items.len() != 4 {
            return refuse("cose");
        }
        let protected = self.bytes_of(&items[0], &children[0], Rule::ProtectedBytes)?;
        self.check(
            Rule::UnprotectedEmpty,
            matches!(&items[1], Item::Map(m) if m.is_empty()),
            "cose",
        )?;
        let payload = self.bytes_of(&items[2], &children[2], Rule::PayloadBytes)?;
        let signature = match &items[3] {
            Item::Bytes(b) if b.len() == 64 => b.clone(),
            _ if self.on(Rule::Signature64) => return refuse("cose"),
            Item::Bytes(b) => b.clone(),
            Item::Text(t) => t.as_bytes().to_vec(),
            _ => Vec::new(),
        };
        let claims = if self.on(Rule::HeaderBeforePayload) {
            let kid = self.header(&protected)?;
            (kid, self.cbor(&payload, Where::Payload)?.0)
        } else {
            let claims = self.cbor(&payload, Where::Payload)?.0;
            (self.header(&protected)?, claims)
        };
        let (kid, claims) = claims;
        let verify = || self.signature(&kid, &protected, &payload, &signature, keys);
        if !self.on(Rule::FieldsBeforeSignature) {
            verify()?;
        }
        let id = self.claims(&claims)?;
        verify()?;
        Ok(id)
    }

    /// Base45 (SPEC §3): the length first, then group by group its characters and its value.
    fn base45(&self, text: &str) -> Step<Vec<u8>> {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let mut chars: Vec<char> = text.chars().collect();
        if chars.len() % 3 == 1 {
            self.check(Rule::Base45Length, false, "base45")?;
            chars.pop();
        }
        let value = |c: char| -> Step<u32> {
            let find = |c: char| ALPHABET.iter().position(|&a| char::from(a) == c);
            match find(c) {
                Some(v) => Ok(v as u32),
                None if !self.on(Rule::Base45Alphabet) => find(c.to_ascii_uppercase())
                    .map(|v| v as u32)
                    .ok_or(Answer::Invalid("base45")),
                None => refuse("base45"),
            }
        };
        let mut out = Vec::new();
        for group in chars.chunks(3) {
            let v: Vec<u32> = group.iter().map(|&c| value(c)).collect::<Step<_>>()?;
            if let [c, d, e] = v[..] {
                let n = c + d * 45 + e * 2025;
                self.check(Rule::Base45Group3, n <= 0xFFFF, "base45")?;
                out.extend([(n >> 8) as u8, n as u8]);
            } else {
                let n = v[0] + v[1] * 45;
                self.check(Rule::Base45Group2, n <= 0xFF, "base45")?;
                out.push(n as u8);
            }
        }
        Ok(out)
    }

    /// A byte string's bytes; without the rule, any other item by its own encoding.
    fn bytes_of(&self, item: &Item, encoded: &[u8], rule: Rule) -> Step<Vec<u8>> {
        match item {
            Item::Bytes(b) => Ok(b.clone()),
            _ if self.on(rule) => refuse("cose"),
            _ => Ok(encoded.to_vec()),
        }
    }

    /// The protected header: the key id it names (empty when none is read).
    fn header(&self, protected: &[u8]) -> Step<Vec<u8>> {
        if protected.is_empty() {
            self.check(Rule::HeaderKeyId, false, "cose")?;
            return Ok(Vec::new());
        }
        let (header, _) = self.cbor(protected, Where::Header)?;
        let Item::Map(entries) = header else {
            self.check(Rule::HeaderKeyId, false, "cose")?;
            return Ok(Vec::new());
        };
        let mut kid = None;
        for (label, value) in &entries {
            match label.int() {
                Some(1) => self.check(Rule::NoAlg, false, "cose")?,
                Some(2) => self.check(Rule::NoCrit, false, "cose")?,
                Some(4) => {
                    if kid.is_none() {
                        kid = Some(value.clone());
                    }
                }
                _ => self.check(Rule::NoOtherLabel, false, "cose")?,
            }
        }
        let Some(kid) = kid else {
            self.check(Rule::HeaderKeyId, false, "cose")?;
            return Ok(Vec::new());
        };
        let bytes = match kid {
            Item::Bytes(b) => b,
            Item::Text(t) => {
                self.check(Rule::KeyIdBytes, false, "cose")?;
                t.into_bytes()
            }
            _ => {
                self.check(Rule::KeyIdBytes, false, "cose")?;
                Vec::new()
            }
        };
        self.check(Rule::KeyIdLength, (1..=16).contains(&bytes.len()), "cose")?;
        Ok(bytes)
    }

    fn signature(
        &self,
        kid: &[u8],
        protected: &[u8],
        payload: &[u8],
        signature: &[u8],
        keys: &[(Vec<u8>, [u8; 32])],
    ) -> Step<()> {
        let Some((_, a)) = keys.iter().find(|(k, _)| k == kid) else {
            return Err(Answer::UnknownKey);
        };
        let mut sig = signature.to_vec();
        sig.resize(64, 0);
        let r: [u8; 32] = sig[..32].try_into().unwrap_or([0; 32]);
        let s: [u8; 32] = sig[32..].try_into().unwrap_or([0; 32]);
        let bad = Answer::Invalid("signature");
        let strict_point = |bytes: &[u8; 32]| {
            CompressedEdwardsY(*bytes)
                .decompress()
                .is_some_and(|p| p.compress().0 == *bytes && !p.is_small_order())
        };
        if !strict_point(a) && self.on(Rule::KeyStrict) {
            return Err(bad);
        }
        if !strict_point(&r) && self.on(Rule::RStrict) {
            return Err(bad);
        }
        let s = match Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) {
            Some(s) => s,
            None if !self.on(Rule::SReduced) => Scalar::from_bytes_mod_order(s),
            None => return Err(bad),
        };
        if !self.on(Rule::Equation) {
            return Ok(());
        }
        let Some(point_a) = CompressedEdwardsY(*a).decompress() else {
            return Err(bad);
        };
        let message = sig_structure(protected, payload);
        let digest: [u8; 64] = Sha512::new()
            .chain_update(r)
            .chain_update(a)
            .chain_update(&message)
            .finalize()
            .into();
        let k = Scalar::from_bytes_mod_order_wide(&digest);
        let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-k, &point_a, &s);
        if check.compress().0 == r {
            Ok(())
        } else {
            Err(bad)
        }
    }
}

/// `["Signature1", protected, h'', payload]`, deterministically encoded.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x84, 0x6A];
    out.extend_from_slice(b"Signature1");
    for b in [protected, &[][..], payload] {
        out.extend(bstr_head(b.len()));
        out.extend_from_slice(b);
    }
    out
}

fn bstr_head(n: usize) -> Vec<u8> {
    match n {
        0..=23 => vec![0x40 | n as u8],
        24..=0xFF => vec![0x58, n as u8],
        0x100..=0xFFFF => vec![0x59, (n >> 8) as u8, n as u8],
        _ => {
            let mut v = vec![0x5A];
            v.extend((n as u32).to_be_bytes());
            v
        }
    }
}

#[path = "cleanroom_fields.rs"]
mod fields;

#[path = "cleanroom_links.rs"]
mod links;
