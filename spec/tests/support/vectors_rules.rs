//! Vectors that give each MUST or refuse rule of SPEC one of its own: each invalid one breaks a
//! single rule (or, for the order of §1, two, so that only the order decides), everything else
//! being right and properly signed, so that a decoder leaving that rule out answers otherwise
//! (`tests/cleanroom.rs` checks it). Also the valid cases at the limits, and credential ids and
//! links (SPEC §11, §12).

use super::*;
use propusk_spec::{
    Date, Initials, MaskedDocument, Text, Timestamp, Vaccination, VaccineProduct, offline_link,
    short_link,
};

type Vectors = Vec<(String, Json)>;

fn bstr(b: &[u8]) -> Vec<u8> {
    enc(&Value::Bytes(b.to_vec()))
}

/// A COSE_Sign1 from the encodings of its four items.
fn raw_sign1(protected: &[u8], unprotected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    [&[0x84][..], protected, unprotected, payload, signature].concat()
}

impl Ctx {
    fn sign_raw(&self, protected: &[u8], payload: &[u8]) -> Vec<u8> {
        self.key
            .sign(&to_be_signed(protected, payload))
            .to_bytes()
            .to_vec()
    }

    /// A COSE_Sign1 whose protected header is these bytes, properly signed.
    fn with_header_bytes(&self, c: &Credential, protected: Vec<u8>) -> Vec<u8> {
        let (_, _, payload, _) = parts(&self.cose(c));
        self.resign(protected, Value::Map(vec![]), payload)
    }

    /// A COSE_Sign1 whose payload is these bytes, properly signed.
    fn with_payload_bytes(&self, c: &Credential, payload: Vec<u8>) -> Vec<u8> {
        let (protected, _, _, _) = parts(&self.cose(c));
        self.resign(protected, Value::Map(vec![]), payload)
    }

    fn kid_bytes(&self) -> Vec<u8> {
        self.key_id.as_bytes().to_vec()
    }
}

/// Edits the body map of a payload's entries.
fn body_of(e: &mut [(Value, Value)]) -> &mut Vec<(Value, Value)> {
    match e.last_mut() {
        Some((_, Value::Map(body))) => body,
        _ => unreachable!("the body is the last entry"),
    }
}

fn remove_claim(e: &mut Vec<(Value, Value)>, key: i64) {
    e.retain(|(k, _)| *k != int(key));
}

/// All of them.
pub(super) fn rule_vectors(ctx: &mut Ctx, base: &Credential, vectors: &mut Vectors) {
    order(ctx, base, vectors);
    text_layers(ctx, vectors);
    sign1_profile(ctx, base, vectors);
    header_profile(ctx, base, vectors);
    payload_profile(ctx, base, vectors);
    structure(ctx, base, vectors);
    claims(ctx, base, vectors);
    texts(ctx, base, vectors);
    holder(ctx, base, vectors);
    bodies(ctx, base, vectors);
    limits(ctx, vectors);
    ids(ctx, vectors);
    links(ctx, base, vectors);
}

/// SPEC §1: the order of the layers, by texts with two faults.
fn order(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    let unknown_claim = ctx.with_payload(base, |e| e.insert(0, (int(1), Value::Text("RU".into()))));
    let mut bad = unknown_claim.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    vectors.push(invalid(
        "invalid-order-claims-before-signature",
        "An unknown claim (key 1) and a bad signature: the claims are checked before the signature (SPEC §1), so `claims`.",
        b45(&bad),
        "claims",
        "claims: unknown key 1 in claims",
    ));
    let other = SigningKey::from_bytes(&[0x43; 32]);
    let dose_zero = |e: &mut Vec<(Value, Value)>| body_of(e)[1].1 = int(0);
    let (_, _, payload, _) = parts(&ctx.with_payload(base, dose_zero));
    let stranger = protected_of(&[0xEE, 0xEE]);
    let signature = other.sign(&to_be_signed(&stranger, &payload)).to_bytes();
    vectors.push(invalid(
        "invalid-order-body-before-key",
        "Dose 0, signed by a key the verifier does not know: the body is checked before the key is looked up, so `body`, not `unknown_key`.",
        b45(&cose_of(&stranger, &payload, &signature)),
        "body",
        "body: dose is invalid: not 1 to 9",
    ));
    let (_, _, payload, _) = parts(&ctx.with_payload(base, |e| e.swap(0, 1)));
    let header = enc(&Value::Map(vec![
        (int(1), int(-7)),
        (int(4), Value::Bytes(ctx.kid_bytes())),
    ]));
    vectors.push(invalid(
        "invalid-order-header-before-payload",
        "ES256 named in the protected header and the payload's keys out of order: the header is checked before the payload is decoded, so `cose`.",
        b45(&ctx.resign(header, Value::Map(vec![]), payload)),
        "cose",
        "COSE: an algorithm in the protected header: version 2 is EdDSA by its prefix and names none",
    ));
    let both = ctx.with_payload(base, |e| {
        dose_zero(e);
        e.insert(0, (int(1), Value::Text("RU".into())));
    });
    vectors.push(invalid(
        "invalid-order-claims-before-body",
        "An unknown claim and dose 0: the claims are checked before the body (SPEC §7), so `claims`.",
        b45(&both),
        "claims",
        "claims: unknown key 1 in claims",
    ));
    let both = ctx.with_payload(base, |e| {
        dose_zero(e);
        e[0].1 = int(1_600_000_000);
    });
    vectors.push(invalid(
        "invalid-order-body-before-expiry",
        "Dose 0 and an expiry before issued-at: the body is checked before the order of the two instants (SPEC §7), so `body`.",
        b45(&both),
        "body",
        "body: dose is invalid: not 1 to 9",
    ));
}

/// SPEC §1 – §3: no repair, the length in bytes, the final base45 group.
fn text_layers(ctx: &mut Ctx, vectors: &mut Vectors) {
    let c = examples::credential(CredentialType::Vaccination, ctx.id());
    let good = ctx.text(&c);
    vectors.push(invalid(
        "invalid-leading-space",
        "A valid credential text after a space: a decoder does not trim (SPEC §1).",
        format!(" {good}"),
        "prefix",
        "prefix: the text does not start with a known version prefix",
    ));
    vectors.push(invalid(
        "invalid-trailing-newline",
        "A valid credential text followed by a line end: a decoder does not trim (SPEC §1).",
        format!("{good}\n"),
        "base45",
        &format!(
            "base45: length {} leaves a lone character (length mod 3 = 1)",
            good.len() - 4 + 1
        ),
    ));
    let long = format!("{PREFIX}{}é", "0".repeat(4291));
    vectors.push(invalid(
        "invalid-text-too-long-in-bytes",
        "4296 characters, one of them é (two bytes in UTF-8): 4297 bytes, longer than a version-40 QR code holds (SPEC §2 counts bytes).",
        long,
        "prefix",
        "prefix: the text is 4297 characters long; at most 4296 are accepted",
    ));
    vectors.push(invalid(
        "invalid-empty",
        "The prefix alone: S is empty, so it has no first byte (SPEC §1, §4).",
        PREFIX.to_owned(),
        "cose",
        "COSE: not an untagged COSE_Sign1 array of four items",
    ));
    // A COSE_Sign1 of odd length ends in a two-character group; write its last byte b as b + 256.
    let mut c = examples::credential(CredentialType::Vaccination, ctx.id());
    let mut cose = ctx.cose(&c);
    if cose.len().is_multiple_of(2) {
        if let Body::Vaccination(v) = &mut c.body {
            v.administered_by = Text::new("ГБУЗ ГП № 12").unwrap();
        }
        cose = ctx.cose(&c);
    }
    assert_eq!(cose.len() % 2, 1);
    let text = b45(&cose);
    let n = u32::from(cose[cose.len() - 1]) + 256;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let group: String = [n % 45, n / 45]
        .iter()
        .map(|&v| char::from(ALPHABET[v as usize]))
        .collect();
    vectors.push(invalid(
        "invalid-base45-final-group-overflow",
        "A valid credential whose final two-character group is worth its last byte + 256: more than 255 (SPEC §3).",
        format!("{}{group}", &text[..text.len() - 2]),
        "base45",
        &format!(
            "base45: the group at position {} is out of range",
            text.len() - 4 - 2
        ),
    ));
}

/// SPEC §5 in `S` itself: each rule broken once, where nothing else refuses.
fn sign1_profile(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    let (protected, _, payload, signature) = parts(&ctx.cose(base));
    let (p, s) = (bstr(&protected), bstr(&signature));
    let mut indefinite = vec![0x5F];
    indefinite.extend(bstr(&payload));
    indefinite.push(0xFF);
    let mut tagged = vec![0xD8, 0x18];
    tagged.extend(bstr(&payload));
    let mut text_signature = vec![0x78, 0x40];
    text_signature.extend(&signature);
    assert!(std::str::from_utf8(&signature).is_err());
    let cases: [(&str, &str, Vec<u8>, &str); 7] = [
        (
            "invalid-sign1-indefinite-payload",
            "The payload as an indefinite-length byte string of one chunk (5f … ff).",
            raw_sign1(&p, &[0xA0], &indefinite, &s),
            "CBOR: not deterministically encoded",
        ),
        (
            "invalid-sign1-tagged-payload",
            "The payload byte string under tag 24 (encoded CBOR data item).",
            raw_sign1(&p, &[0xA0], &tagged, &s),
            "CBOR: tags are not used in this format",
        ),
        (
            "invalid-sign1-unsorted-keys",
            "The unprotected header {4: h'00', 1: 1}, keys out of order.",
            raw_sign1(
                &p,
                &[0xA2, 0x04, 0x41, 0x00, 0x01, 0x01],
                &bstr(&payload),
                &s,
            ),
            "CBOR: not deterministically encoded",
        ),
        (
            "invalid-sign1-duplicate-key",
            "The unprotected header {4: h'', 4: h''}, a key twice.",
            raw_sign1(&p, &[0xA2, 0x04, 0x40, 0x04, 0x40], &bstr(&payload), &s),
            "CBOR: duplicate map key",
        ),
        (
            "invalid-sign1-too-deep",
            "The unprotected header {4: [[[0]]]}: arrays five deep counting the COSE_Sign1 array.",
            raw_sign1(
                &p,
                &[0xA1, 0x04, 0x81, 0x81, 0x81, 0x00],
                &bstr(&payload),
                &s,
            ),
            "CBOR: nested deeper than 4 levels",
        ),
        (
            "invalid-sign1-simple-value",
            "The unprotected header as null (f6).",
            raw_sign1(&p, &[0xF6], &bstr(&payload), &s),
            "CBOR: floating-point numbers and simple values are not used in this format",
        ),
        (
            "invalid-sign1-utf8",
            "The signature as a text string of its 64 bytes, which are not UTF-8.",
            raw_sign1(&p, &[0xA0], &bstr(&payload), &text_signature),
            "CBOR: malformed CBOR",
        ),
    ];
    for (name, description, cose, error) in cases {
        vectors.push(invalid(name, description, b45(&cose), "cbor", error));
    }
}

/// SPEC §5 in the protected header: each rule broken once, properly signed.
fn header_profile(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    let kid = ctx.kid_bytes();
    let bkid = bstr(&kid);
    let mut long_head = vec![0xA1, 0x04, 0x58, kid.len() as u8];
    long_head.extend(&kid);
    let cases: [(&str, &str, Vec<u8>, &str); 9] = [
        (
            "invalid-header-long-head",
            "The key id's length in the protected header written in two bytes (58 02) where one suffices.",
            long_head,
            "CBOR: not deterministically encoded",
        ),
        (
            "invalid-header-indefinite-map",
            "The protected header as an indefinite-length map (bf 04 kid ff).",
            [&[0xBF, 0x04][..], &bkid, &[0xFF]].concat(),
            "CBOR: not deterministically encoded",
        ),
        (
            "invalid-header-unsorted-keys",
            "The protected header {4: kid, 1: -8}: keys out of order.",
            [&[0xA2, 0x04][..], &bkid, &[0x01, 0x27]].concat(),
            "CBOR: not deterministically encoded",
        ),
        (
            "invalid-header-duplicate-key",
            "The protected header {4: kid, 4: kid}: the key id twice.",
            [&[0xA2, 0x04][..], &bkid, &[0x04], &bkid].concat(),
            "CBOR: duplicate map key",
        ),
        (
            "invalid-header-trailing-bytes",
            "A byte (00) after the protected header's map, inside its byte string.",
            [&[0xA1, 0x04][..], &bkid, &[0x00]].concat(),
            "CBOR: bytes follow the end of the item",
        ),
        (
            "invalid-header-too-deep",
            "The protected header {3: [[[[0]]]], 4: kid}: arrays five deep counting its map.",
            [&[0xA2, 0x03, 0x81, 0x81, 0x81, 0x81, 0x00, 0x04][..], &bkid].concat(),
            "CBOR: nested deeper than 4 levels",
        ),
        (
            "invalid-header-tag",
            "The key id under tag 64 in the protected header.",
            [&[0xA1, 0x04, 0xD8, 0x40][..], &bkid].concat(),
            "CBOR: tags are not used in this format",
        ),
        (
            "invalid-header-simple-value",
            "The protected header {3: null, 4: kid}.",
            [&[0xA2, 0x03, 0xF6, 0x04][..], &bkid].concat(),
            "CBOR: floating-point numbers and simple values are not used in this format",
        ),
        (
            "invalid-header-utf8",
            "The protected header {3: a text string holding the byte ff, 4: kid}.",
            [&[0xA2, 0x03, 0x61, 0xFF, 0x04][..], &bkid].concat(),
            "CBOR: malformed CBOR",
        ),
    ];
    for (name, description, header, error) in cases {
        let cose = ctx.with_header_bytes(base, header);
        vectors.push(invalid(name, description, b45(&cose), "cbor", error));
    }
}

/// SPEC §5 in the payload: a long head, trailing bytes, a truncated payload.
fn payload_profile(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    let (_, _, payload, _) = parts(&ctx.cose(base));
    assert_eq!(&payload[..3], &[0xA5, 0x04, 0x1A]);
    let long = [&payload[..2], &[0x1B, 0, 0, 0, 0], &payload[3..]].concat();
    let trailing = [&payload[..], &[0x00]].concat();
    let truncated = payload[..payload.len() - 1].to_vec();
    let cases = [
        (
            "invalid-payload-long-head",
            "The expiry written in nine bytes (1b) where five suffice.",
            long,
            "CBOR: not deterministically encoded",
        ),
        (
            "invalid-payload-trailing-bytes",
            "A byte (00) after the claims map, inside the payload byte string.",
            trailing,
            "CBOR: bytes follow the end of the item",
        ),
        (
            "invalid-payload-truncated",
            "The claims map cut short by one byte, inside a well-formed payload byte string.",
            truncated,
            "CBOR: malformed CBOR",
        ),
    ];
    for (name, description, payload, error) in cases {
        let cose = ctx.with_payload_bytes(base, payload);
        vectors.push(invalid(name, description, b45(&cose), "cbor", error));
    }
}

/// SPEC §6.1, §6.2, §6.4: the COSE_Sign1's items, the header's parameters, a weak key alone.
fn structure(ctx: &mut Ctx, base: &Credential, vectors: &mut Vectors) {
    let (protected, _, payload, signature) = parts(&ctx.cose(base));
    // Not byte strings: the map itself where its encoding belongs, signed over that encoding.
    let inline_header = raw_sign1(
        &protected,
        &[0xA0],
        &bstr(&payload),
        &bstr(&ctx.sign_raw(&protected, &payload)),
    );
    vectors.push(invalid(
        "invalid-protected-not-bytes",
        "The protected header as the map itself, not a byte string holding it (signed over the map's encoding).",
        b45(&inline_header),
        "cose",
        "COSE: protected header has the wrong type",
    ));
    let inline_payload = raw_sign1(
        &bstr(&protected),
        &[0xA0],
        &payload,
        &bstr(&ctx.sign_raw(&protected, &payload)),
    );
    vectors.push(invalid(
        "invalid-payload-not-bytes",
        "The payload as the claims map itself, not a byte string holding it (signed over the map's encoding).",
        b45(&inline_payload),
        "cose",
        "COSE: payload has the wrong type",
    ));
    vectors.push(invalid(
        "invalid-unprotected-not-a-map",
        "The unprotected header as an empty byte string (40) instead of the empty map.",
        b45(&raw_sign1(
            &bstr(&protected),
            &[0x40],
            &bstr(&payload),
            &bstr(&signature),
        )),
        "cose",
        "COSE: unprotected header has the wrong type",
    ));
    let other_label = enc(&Value::Map(vec![
        (int(3), int(0)),
        (int(4), Value::Bytes(ctx.kid_bytes())),
    ]));
    vectors.push(invalid(
        "invalid-header-content-type",
        "A content type (label 3) in the protected header besides the key id: no parameter but the key id may appear.",
        b45(&ctx.with_header_bytes(base, other_label)),
        "cose",
        "COSE: header parameter 3 is not understood",
    ));
    // A key id as text, checked with the key listed under the bytes of that text.
    let text_kid = KeyId::new(b"PK").unwrap();
    let header = enc(&Value::Map(vec![(int(4), Value::Text("PK".into()))]));
    vectors.push(with_key(
        invalid(
            "invalid-key-id-as-text",
            "The key id as the text string \"PK\", checked with the key listed under the bytes 50 4b (`key`): a key id is a byte string.",
            b45(&ctx.with_header_bytes(base, header)),
            "cose",
            "COSE: key id missing from the protected header, or not 1 to 16 bytes",
        ),
        &text_kid,
        ctx.key.verifying_key().as_bytes(),
    ));
    // A = the identity, R = [r]B, S = r: [S]B − [k]A = R holds, and only the check on A refuses.
    let mut wide = [0u8; 64];
    ctx.rng.fill_bytes(&mut wide);
    let r = Scalar::from_bytes_mod_order_wide(&wide);
    let big_r = curve25519_dalek::EdwardsPoint::mul_base(&r)
        .compress()
        .to_bytes();
    let kid = key_id_of(&IDENTITY, 2);
    let weak = protected_of(kid.as_bytes());
    let signature = [big_r.to_vec(), r.to_bytes().to_vec()].concat();
    vectors.push(with_key(
        invalid(
            "invalid-key-identity-alone",
            "The key is the identity point (small order); R = [r]B is an ordinary point and S = r, so [S]B − [k]A = R: only the check on A refuses. Checked with that key (`key`).",
            b45(&cose_of(&weak, &payload, &signature)),
            "signature",
            "signature verification failed",
        ),
        &kid,
        &IDENTITY,
    ));
}

/// SPEC §7: the claims, each missing or of the wrong type.
fn claims(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    type Edit = Box<dyn Fn(&mut Vec<(Value, Value)>)>;
    let cases: Vec<(&str, &str, Edit, &str)> = vec![
        (
            "invalid-no-expiry",
            "No expiry (key 4).",
            Box::new(|e| remove_claim(e, 4)),
            "claims: expiry is missing",
        ),
        (
            "invalid-no-issued-at",
            "No issued-at (key 6).",
            Box::new(|e| remove_claim(e, 6)),
            "claims: issued-at is missing",
        ),
        (
            "invalid-no-id",
            "No credential id (key 7).",
            Box::new(|e| remove_claim(e, 7)),
            "claims: credential id is missing",
        ),
        (
            "invalid-no-holder",
            "No holder (key -1).",
            Box::new(|e| remove_claim(e, -1)),
            "claims: holder is missing",
        ),
        (
            "invalid-expiry-as-text",
            "The expiry as a text string of its digits.",
            Box::new(|e| e[0].1 = Value::Text("1654041600".into())),
            "claims: expiry has the wrong type",
        ),
        (
            "invalid-issued-at-negative",
            "Issued-at -1 (1969): an instant is an unsigned integer.",
            Box::new(|e| e[1].1 = int(-1)),
            "claims: issued-at is invalid: out of range",
        ),
        (
            "invalid-expiry-after-9999",
            "Expiry 253402300800, one second after 9999-12-31T23:59:59Z.",
            Box::new(|e| e[0].1 = int(253_402_300_800)),
            "claims: expiry is invalid: out of range",
        ),
        (
            "invalid-id-as-text",
            "The credential id as a text string of 12 characters.",
            Box::new(|e| e[2].1 = Value::Text("ABCDEFGHIJKL".into())),
            "claims: credential id has the wrong type",
        ),
        (
            "invalid-id-11-bytes",
            "A credential id of 11 bytes.",
            Box::new(|e| e[2].1 = Value::Bytes(vec![0x5A; 11])),
            "claims: credential id is invalid: not 12 bytes",
        ),
        (
            "invalid-id-13-bytes",
            "A credential id of 13 bytes.",
            Box::new(|e| e[2].1 = Value::Bytes(vec![0x5A; 13])),
            "claims: credential id is invalid: not 12 bytes",
        ),
        (
            "invalid-holder-two-items",
            "The holder as an array of two items (no document).",
            Box::new(|e| {
                if let Some((_, Value::Array(h))) = e.iter_mut().find(|(k, _)| *k == int(-1)) {
                    h.pop();
                }
            }),
            "claims: holder is invalid: not [initials, birth date, document]",
        ),
        (
            "invalid-holder-four-items",
            "The holder as an array of four items (a fourth after the document).",
            Box::new(|e| {
                if let Some((_, Value::Array(h))) = e.iter_mut().find(|(k, _)| *k == int(-1)) {
                    h.push(int(0));
                }
            }),
            "claims: holder is invalid: not [initials, birth date, document]",
        ),
    ];
    for (name, description, edit, error) in cases {
        let cose = ctx.with_payload(base, |e| edit(e));
        vectors.push(invalid(name, description, b45(&cose), "claims", error));
    }
    let (_, _, payload, _) = parts(&ctx.cose(base));
    let Value::Map(entries) = dec(&payload) else {
        unreachable!()
    };
    let values = Value::Array(entries.into_iter().map(|(_, v)| v).collect());
    vectors.push(invalid(
        "invalid-claims-not-a-map",
        "The payload as an array of the claims' values instead of a map.",
        b45(&ctx.with_payload_bytes(base, enc(&values))),
        "claims",
        "claims: claims is not a map",
    ));
}

/// SPEC §9.1, each rule alone, in the administering body's text (layer `body`).
fn texts(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    let cp1251 = |s: &str| -> Vec<u8> { s.chars().map(windows_1251_byte).collect() };
    let with = |b: Vec<u8>, at: usize, byte: u8| {
        let mut b = b;
        b.insert(at, byte);
        Value::Bytes(b)
    };
    let cases = [
        (
            "invalid-text-as-integer",
            "The administering body as the integer 5.",
            int(5),
            "body: administered_by has the wrong type",
        ),
        (
            "invalid-text-empty",
            "The administering body as the empty text string: a text has 1 to 80 characters.",
            Value::Text(String::new()),
            "body: administered_by is invalid: empty",
        ),
        (
            "invalid-text-81-characters",
            "The administering body as 81 ASCII letters.",
            Value::Text("A".repeat(81)),
            "body: administered_by is invalid: longer than 80 characters",
        ),
        (
            "invalid-text-byte-0x98",
            "The administering body in windows-1251 with byte 0x98 (U+0098, a control character) inside.",
            with(cp1251("ГБУЗ ГП"), 2, 0x98),
            "body: administered_by is invalid: holds a control character",
        ),
        (
            "invalid-text-byte-0x7f",
            "The administering body in windows-1251 with byte 0x7f (DEL, a control character) inside.",
            with(cp1251("ГБУЗ ГП"), 2, 0x7F),
            "body: administered_by is invalid: holds a control character",
        ),
        (
            "invalid-text-control-ascii",
            "The administering body as an ASCII text string with U+0001 inside.",
            Value::Text("GP\u{1}2".into()),
            "body: administered_by is invalid: holds a control character",
        ),
        (
            "invalid-text-control-utf8",
            "The administering body as a UTF-8 text string (ü is not in windows-1251) with U+0085 inside.",
            Value::Text("Müller\u{85}Klinik".into()),
            "body: administered_by is invalid: holds a control character",
        ),
        (
            "invalid-text-leading-space",
            "The administering body in windows-1251 beginning with a space.",
            Value::Bytes(cp1251(" ГБУЗ ГП")),
            "body: administered_by is invalid: has leading or trailing white space",
        ),
        (
            "invalid-text-trailing-no-break-space",
            "The administering body in windows-1251 ending in a0 (U+00A0 no-break space, white space).",
            with(cp1251("ГБУЗ ГП"), 7, 0xA0),
            "body: administered_by is invalid: has leading or trailing white space",
        ),
        (
            "invalid-text-leading-ideographic-space",
            "The administering body as a UTF-8 text string beginning with U+3000 (ideographic space, white space).",
            Value::Text("\u{3000}Müller".into()),
            "body: administered_by is invalid: has leading or trailing white space",
        ),
    ];
    for (name, description, value, error) in cases {
        let cose = ctx.with_payload(base, |e| body_of(e)[5].1 = value);
        vectors.push(invalid(name, description, b45(&cose), "body", error));
    }
}

/// SPEC §8: the date of birth and the document, each rule alone.
fn holder(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    let masked = |kind: i64, s: Value| Value::Array(vec![int(kind), s]);
    let cases = [
        (
            "invalid-birth-year-1899",
            "A date of birth known to the year, [1899]: years are 1900 to 2199.",
            1,
            Value::Array(vec![int(1899)]),
            "claims: birth date is invalid: not a year, a year and month, or a date in range",
        ),
        (
            "invalid-birth-year-2200",
            "A date of birth known to the month, [2200, 1]: years are 1900 to 2199.",
            1,
            Value::Array(vec![int(2200), int(1)]),
            "claims: birth date is invalid: not a year, a year and month, or a date in range",
        ),
        (
            "invalid-birth-date-1899-12-31",
            "A full date of birth, 1899-12-31 (-25568): dates are from 1900-01-01.",
            1,
            int(-25_568),
            "claims: birth date is invalid: out of range",
        ),
        (
            "invalid-document-as-text",
            "The document as a text string \"45** ***789\": a number or an array.",
            2,
            Value::Text("45** ***789".into()),
            "claims: document has the wrong type",
        ),
        (
            "invalid-passport-negative",
            "A domestic passport's shown digits as -1: an unsigned integer.",
            2,
            int(-1),
            "claims: document is invalid: out of range",
        ),
        (
            "invalid-document-masked-as-bytes",
            "A foreign document's masked number as a byte string.",
            2,
            masked(2, Value::Bytes(b"AB****567".to_vec())),
            "claims: document number has the wrong type",
        ),
        (
            "invalid-document-lower-case",
            "A foreign document's masked number with a small letter: ab****567.",
            2,
            masked(2, Value::Text("ab****567".into())),
            "claims: document number is invalid: not a masked document number",
        ),
        (
            "invalid-document-25-characters",
            "A foreign document's number of 25 characters, masked as SPEC says: at most 24.",
            2,
            masked(2, Value::Text(format!("AB{}567", "*".repeat(20)))),
            "claims: document number is invalid: not a masked document number",
        ),
        (
            "invalid-document-empty",
            "A foreign document's masked number empty: at least one character.",
            2,
            masked(2, Value::Text(String::new())),
            "claims: document number is invalid: not a masked document number",
        ),
        (
            "invalid-document-trailing-space",
            "A foreign document's masked number with a trailing space: AB****567 followed by a space.",
            2,
            masked(1, Value::Text("AB****567 ".into())),
            "claims: document number is invalid: not a masked document number",
        ),
    ];
    for (name, description, at, value, error) in cases {
        let cose = ctx.with_payload(base, |e| set_holder(e, at, value));
        vectors.push(invalid(name, description, b45(&cose), "claims", error));
    }
}

/// SPEC §9.2, §9.3, §10: body keys, ranges and codes, each alone.
fn bodies(ctx: &Ctx, base: &Credential, vectors: &mut Vectors) {
    let cp1251 = |s: &str| -> Vec<u8> { s.chars().map(windows_1251_byte).collect() };
    type Edit = Box<dyn Fn(&mut Vec<(Value, Value)>)>;
    let cases: Vec<(&str, &str, CredentialType, Edit, &str)> = vec![
        (
            "invalid-body-unknown-key",
            "A vaccination body with a key 7 it does not define.",
            CredentialType::Vaccination,
            Box::new(|b| b.push((int(7), int(1)))),
            "body: unknown key 7 in vaccination",
        ),
        (
            "invalid-body-missing-key",
            "A vaccination body without its administering body (key 6).",
            CredentialType::Vaccination,
            Box::new(|b| {
                b.pop();
            }),
            "body: administered_by is missing",
        ),
        (
            "invalid-doses-10",
            "Doses in the course 10: 1 to 9.",
            CredentialType::Vaccination,
            Box::new(|b| b[2].1 = int(10)),
            "body: doses is invalid: out of range",
        ),
        (
            "invalid-product-listed-as-text",
            "The product Sputnik-V as text: a listed product travels as its number (7).",
            CredentialType::Vaccination,
            Box::new(|b| b[0].1 = Value::Text("Sputnik-V".into())),
            "body: product is invalid: a listed product must be sent as its number",
        ),
        (
            "invalid-product-not-ascii",
            "A product code as a UTF-8 text string with ü: a product text is ASCII.",
            CredentialType::Vaccination,
            Box::new(|b| b[0].1 = Value::Text("Müller-Vax".into())),
            "body: product is invalid: a product code is ASCII",
        ),
        (
            "invalid-product-as-bytes",
            "A product code in windows-1251 bytes (Спутник): a product is a number or an ASCII text string.",
            CredentialType::Vaccination,
            Box::new(move |b| b[0].1 = Value::Bytes(cp1251("Спутник"))),
            "body: product has the wrong type",
        ),
        (
            "invalid-body-date-2200",
            "A vaccination on 2200-01-01 (84006): dates are to 2199-12-31 (84005).",
            CredentialType::Vaccination,
            Box::new(|b| b[3].1 = int(84_006)),
            "body: date is invalid: out of range",
        ),
        (
            "invalid-test-sampled-after-9999",
            "A test sampled at 253402300800, one second after 9999-12-31T23:59:59Z.",
            CredentialType::Test,
            Box::new(|b| b[1].1 = int(253_402_300_800)),
            "body: sampled_at is invalid: out of range",
        ),
        (
            "invalid-pass-start-negative",
            "A movement pass starting at -1: an instant is an unsigned integer.",
            CredentialType::Pass,
            Box::new(|b| b[1].1 = int(-1)),
            "body: valid_from is invalid: out of range",
        ),
    ];
    for (name, description, kind, edit, error) in cases {
        let c = examples::credential(kind, base.id);
        let cose = ctx.with_payload(&c, |e| edit(body_of(e)));
        vectors.push(invalid(name, description, b45(&cose), "body", error));
    }
}

/// Valid cases at the limits and of each kind the others leave out.
fn limits(ctx: &mut Ctx, vectors: &mut Vectors) {
    type Edit = Box<dyn Fn(&mut Credential)>;
    let vaccination = |edit: Box<dyn Fn(&mut Vaccination)>| -> Edit {
        Box::new(move |c| {
            if let Body::Vaccination(v) = &mut c.body {
                edit(v);
            }
        })
    };
    let document = |kind: DocumentKind, masked: &'static str| -> Edit {
        Box::new(move |c| c.holder.document = MaskedDocument::new(kind, masked).unwrap())
    };
    let cases: Vec<(&str, &str, CredentialType, Edit)> = vec![
        (
            "valid-booster",
            "A booster: dose 3 of a course of 2 (dose may exceed doses).",
            CredentialType::Vaccination,
            vaccination(Box::new(|v| v.dose = 3)),
        ),
        (
            "valid-product-as-text",
            "A product without a number of its own (EU/1/23/9999), as an ASCII text string.",
            CredentialType::Vaccination,
            vaccination(Box::new(|v| {
                v.product = VaccineProduct::new("EU/1/23/9999").unwrap()
            })),
        ),
        (
            "valid-text-80-characters",
            "An administering body of 80 Cyrillic letters: 80 windows-1251 bytes.",
            CredentialType::Vaccination,
            vaccination(Box::new(|v| {
                v.administered_by = Text::new(&"Ж".repeat(80)).unwrap()
            })),
        ),
        (
            "valid-text-80-four-byte-characters",
            "An administering body of 80 characters of four UTF-8 bytes each (𝔄).",
            CredentialType::Vaccination,
            vaccination(Box::new(|v| {
                v.administered_by = Text::new(&"𝔄".repeat(80)).unwrap()
            })),
        ),
        (
            "valid-text-inner-spaces",
            "An administering body with a no-break space inside (a0) and an apostrophe: white space only at the ends is refused.",
            CredentialType::Vaccination,
            vaccination(Box::new(|v| {
                v.administered_by = Text::new("Д'Артаньян\u{a0}и сыновья").unwrap()
            })),
        ),
        (
            "valid-text-zero-width-space-at-end",
            "An administering body ending in U+200B (zero-width space, not white space), as UTF-8.",
            CredentialType::Vaccination,
            vaccination(Box::new(|v| {
                v.administered_by = Text::new("Klinik\u{200b}").unwrap()
            })),
        ),
        (
            "valid-country-aa",
            "Country 0 (AA), a code ISO has not assigned: every number 0 to 675 is accepted.",
            CredentialType::Vaccination,
            vaccination(Box::new(|v| v.country = "AA".parse().unwrap())),
        ),
        (
            "valid-dates-at-the-limits",
            "Born 1900-01-01 (-25567), vaccinated 2199-12-31 (84005): the first and last dates.",
            CredentialType::Vaccination,
            Box::new(|c| {
                c.holder.birth_date = BirthDate::Full(Date::new(1900, 1, 1).unwrap());
                if let Body::Vaccination(v) = &mut c.body {
                    v.date = Date::new(2199, 12, 31).unwrap();
                }
            }),
        ),
        (
            "valid-birth-year-2199",
            "Born in December 2199, known to the month: [2199, 12].",
            CredentialType::Vaccination,
            Box::new(|c| c.holder.birth_date = BirthDate::YearMonth(2199, 12)),
        ),
        (
            "valid-expiry-at-the-limit",
            "Expiry 253402300799 (9999-12-31T23:59:59Z), the last instant.",
            CredentialType::Vaccination,
            Box::new(|c| c.expires_at = Timestamp::from_unix(253_402_300_799).unwrap()),
        ),
        (
            "valid-one-initial",
            "One initial (a person with a family name only): X.",
            CredentialType::Vaccination,
            Box::new(|c| {
                c.holder.initials = Initials::new("X").unwrap();
                c.holder.document =
                    MaskedDocument::new(DocumentKind::Foreign, "X1****678").unwrap();
            }),
        ),
        (
            "valid-document-24-characters",
            "A foreign document number of 24 characters, masked: the first two and the last three shown.",
            CredentialType::Vaccination,
            document(DocumentKind::Foreign, "AB*******************567"),
        ),
        (
            "valid-document-four-characters",
            "A foreign document number of four characters (AB12): only the last three shown, *B12.",
            CredentialType::Vaccination,
            document(DocumentKind::Foreign, "*B12"),
        ),
        (
            "valid-document-three-characters",
            "A foreign document number of three characters: every one shown, A12.",
            CredentialType::Vaccination,
            document(DocumentKind::Foreign, "A12"),
        ),
        (
            "valid-document-hyphen-and-space",
            "An international passport number with a hyphen and a space, 12-34 567890: spaces stay and are not counted, a hyphen is a character: 12*** ***890.",
            CredentialType::Vaccination,
            document(DocumentKind::InternationalPassport, "12*** ***890"),
        ),
        (
            "valid-passport-zeros",
            "A domestic passport 0012 000009: the number 9, shown 00** ***009.",
            CredentialType::Vaccination,
            document(DocumentKind::Passport, "00** ***009"),
        ),
    ];
    for (name, description, kind, edit) in cases {
        let mut c = examples::credential(kind, ctx.id());
        edit(&mut c);
        vectors.push(valid(name, description, ctx, &c));
    }
    let c = examples::credential(CredentialType::Vaccination, ctx.id());
    vectors.push(valid_with_key_id(
        "valid-key-id-1-byte",
        "The shortest key id, 1 byte; checked with the key under that id (`key`).",
        ctx,
        &c,
        1,
    ));
}

fn id_vector(name: &str, description: &str, id: &str, expected: Json) -> (String, Json) {
    (
        name.to_owned(),
        json!({"description": description, "id": id, "expected": expected}),
    )
}

/// SPEC §11: credential ids in text form.
fn ids(ctx: &mut Ctx, vectors: &mut Vectors) {
    // An id whose text holds both 0 and 1, to type them as o and l.
    let (id, text) = loop {
        let id = ctx.id();
        let text = id.to_string();
        if text[..20].contains('0') && text[..20].contains('1') {
            break (id, text);
        }
    };
    let mut loose = String::new();
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i % 4 == 0 && i <= 20 {
            loose.push('-');
        }
        loose.push(match c {
            '0' => 'o',
            '1' => 'l',
            c => c.to_ascii_lowercase(),
        });
    }
    let bytes = hex::encode(id.as_bytes());
    vectors.push(id_vector(
        "valid-id-typed-loosely",
        &format!("The id {text} typed in lower case, with hyphens, o for 0 and l for 1: the same 12 bytes."),
        &loose,
        json!({"outcome": "valid", "bytes": bytes}),
    ));
    vectors.push(id_vector(
        "valid-id",
        "A credential id in its text form.",
        &text,
        json!({"outcome": "valid", "bytes": bytes}),
    ));
    let refused =
        |layer: &str, error: &str| json!({"outcome": "invalid", "layer": layer, "error": error});
    const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let value = |c: char| CROCKFORD.find(c).unwrap();
    let symbol = |v: usize| CROCKFORD.chars().nth(v).unwrap();
    let last = text.chars().last().unwrap();
    let wrong_check = format!("{}{}", &text[..20], symbol((value(last) + 1) % 32));
    vectors.push(id_vector(
        "invalid-id-check-character",
        "A credential id with its check character changed: a mistyped id.",
        &wrong_check,
        refused(
            "id",
            "the check character does not match: the id is mistyped",
        ),
    ));
    // Padding bits set in the 20th character, the check character computed over it.
    let mut data: Vec<usize> = text[..20].chars().map(value).collect();
    data[19] |= 1;
    let check = data.iter().fold(0usize, |acc, &d| {
        let v = (acc ^ d) << 1;
        if v & 0x20 != 0 { (v ^ 0x25) & 31 } else { v }
    });
    let padded: String = data.iter().chain([&check]).map(|&v| symbol(v)).collect();
    vectors.push(id_vector(
        "invalid-id-padding",
        "A credential id whose last data character has a padding bit set, with a check character that matches: the 4 padding bits must be zero.",
        &padded,
        refused("id", "the id is not in canonical form"),
    ));
    vectors.push(id_vector(
        "invalid-id-22-characters",
        "A valid credential id with one more character after it.",
        &format!("{text}0"),
        refused("id", "a credential id has 21 characters"),
    ));
    vectors.push(id_vector(
        "invalid-id-letter-u",
        "A credential id with U, which Crockford's alphabet leaves out, in place of a character.",
        &format!("U{}", &text[1..]),
        refused("id", "character 'U' cannot appear in a credential id"),
    ));
}

fn link_vector(name: &str, description: &str, link: &str, expected: Json) -> (String, Json) {
    (
        name.to_owned(),
        json!({"description": description, "link": link, "expected": expected}),
    )
}

/// SPEC §12: links.
fn links(ctx: &mut Ctx, base: &Credential, vectors: &mut Vectors) {
    let base_url = "https://portal.example";
    let text = ctx.text(base);
    let short = short_link(base_url, &base.id).unwrap();
    let offline = offline_link(base_url, &base.id, &text).unwrap();
    let id = base.id.to_string();
    let valid = |offline: bool| json!({"outcome": "valid", "id": id, "offline": offline});
    vectors.push(link_vector(
        "valid-link-short",
        "A short link: the portal looks the id up; nothing to verify offline.",
        &short,
        valid(false),
    ));
    vectors.push(link_vector(
        "valid-link-offline",
        "An offline-verifiable link to a valid credential, its % written %25.",
        &offline,
        valid(true),
    ));
    let (head, fragment) = offline.split_once('#').unwrap();
    vectors.push(link_vector(
        "valid-link-upper-case",
        "The offline link with scheme, host and the c segment in capitals: they are case-insensitive.",
        &format!("{}#{fragment}", head.to_uppercase()),
        valid(true),
    ));
    let refused = |error: &str| json!({"outcome": "invalid", "layer": "link", "error": error});
    vectors.push(link_vector(
        "invalid-link-not-c",
        "A link whose path ends in /d/ID instead of /c/ID.",
        &short.replace("/c/", "/d/"),
        refused("link: not a Propusk credential link (…/c/ID)"),
    ));
    let other = CredentialId::from_bytes([0x11; 12]);
    vectors.push(link_vector(
        "invalid-link-id-mismatch",
        "A link naming one id and carrying the credential of another.",
        &format!("{}#{fragment}", short_link(base_url, &other).unwrap()),
        refused("link: the link's id is not the id of the credential it carries"),
    ));
    vectors.push(link_vector(
        "invalid-link-bad-percent-escape",
        "An offline link whose fragment ends in %ZZ, which does not percent-decode.",
        &format!("{offline}%ZZ"),
        refused("link: the fragment does not hold a credential"),
    ));
    vectors.push(link_vector(
        "invalid-link-fragment-not-a-credential",
        "A short link with the fragment #top, which is no credential text.",
        &format!("{short}#top"),
        refused("link: the fragment does not hold a credential"),
    ));
    let mut chars: Vec<char> = id.chars().collect();
    chars[20] = if chars[20] == '0' { '1' } else { '0' };
    let mistyped: String = chars.into_iter().collect();
    vectors.push(link_vector(
        "invalid-link-mistyped-id",
        "A short link whose id has a wrong check character.",
        &short.replace(&id, &mistyped),
        refused("link: credential id: the check character does not match: the id is mistyped"),
    ));
}
