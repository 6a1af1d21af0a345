//! The golden-vector generator, shared by `examples/gen_vectors.rs` (which writes
//! `spec/vectors/`) and `tests/golden.rs` (which regenerates in memory and compares).
//! Everything comes from one seeded ChaCha20 stream, so the output is byte-for-byte stable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

#[path = "annotate.rs"]
mod annotate;
#[path = "vectors_rules.rs"]
mod rules;

use ciborium::Value;
use curve25519_dalek::Scalar;
use ed25519_dalek::{Signer, SigningKey};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use propusk_spec::{
    BirthDate, Body, Credential, CredentialId, CredentialType, Document, DocumentKind, Encoder,
    KeyId, Name, PREFIX, PassPurpose, TestKind, TestResult, base45, examples, hex, to_be_signed,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256, Sha512};

/// The seed of every vector.
pub(crate) const SEED: u64 = 0x5052_4f50_5553_4b31; // "PROPUSK1"

/// One file of `spec/vectors/`.
pub(crate) struct VectorFile {
    pub(crate) name: String,
    pub(crate) contents: String,
}

struct Ctx {
    rng: ChaCha20Rng,
    key: SigningKey,
    key_id: KeyId,
}

impl Ctx {
    fn id(&mut self) -> CredentialId {
        let mut b = [0u8; 12];
        self.rng.fill_bytes(&mut b);
        CredentialId::from_bytes(b)
    }

    fn cose(&self, c: &Credential) -> Vec<u8> {
        Encoder::sign(c, &self.key_id, |d| self.key.sign(d).to_bytes()).unwrap()
    }

    fn text(&self, c: &Credential) -> String {
        Encoder
            .encode(c, &self.key_id, |d| self.key.sign(d).to_bytes())
            .unwrap()
    }

    /// Rebuilds a COSE_Sign1 around `protected` and `payload`, signed properly, so that only the
    /// deliberate defect is wrong.
    fn resign(&self, protected: Vec<u8>, unprotected: Value, payload: Vec<u8>) -> Vec<u8> {
        let sig = self
            .key
            .sign(&to_be_signed(&protected, &payload))
            .to_bytes();
        enc(&Value::Array(vec![
            Value::Bytes(protected),
            unprotected,
            Value::Bytes(payload),
            Value::Bytes(sig.to_vec()),
        ]))
    }

    /// Re-signs with the payload map edited by `edit`.
    fn with_payload(&self, c: &Credential, edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
        let (protected, _, payload, _) = parts(&self.cose(c));
        let Value::Map(mut entries) = dec(&payload) else {
            unreachable!()
        };
        edit(&mut entries);
        self.resign(protected, Value::Map(vec![]), enc(&Value::Map(entries)))
    }

    fn with_protected(&self, c: &Credential, protected: Value) -> Vec<u8> {
        let (_, _, payload, _) = parts(&self.cose(c));
        self.resign(enc(&protected), Value::Map(vec![]), payload)
    }
}

fn enc(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

fn dec(b: &[u8]) -> Value {
    ciborium::from_reader(b).unwrap()
}

fn parts(cose: &[u8]) -> (Vec<u8>, Value, Vec<u8>, Vec<u8>) {
    let Value::Array(items) = dec(cose) else {
        unreachable!()
    };
    let b = |v: &Value| match v {
        Value::Bytes(b) => b.clone(),
        _ => unreachable!(),
    };
    (b(&items[0]), items[1].clone(), b(&items[2]), b(&items[3]))
}

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

fn b45(bytes: &[u8]) -> String {
    format!("{PREFIX}{}", base45::encode(bytes))
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

fn valid(name: &str, description: &str, ctx: &Ctx, c: &Credential) -> (String, Json) {
    let text = ctx.text(c);
    let cose = ctx.cose(c);
    let (_, _, payload, _) = parts(&cose);
    (
        name.to_owned(),
        json!({
            "description": description,
            "text": text,
            "cose": hex::encode(&cose),
            "payload": hex::encode(&payload),
            "expected": {"outcome": "valid", "credential": serde_json::to_value(c).unwrap()},
        }),
    )
}

fn invalid(
    name: &str,
    description: &str,
    text: String,
    layer: &str,
    error: &str,
) -> (String, Json) {
    (
        name.to_owned(),
        json!({
            "description": description,
            "text": text,
            "expected": {"outcome": "invalid", "layer": layer, "error": error},
        }),
    )
}

/// Every vector file, README included, in a stable order.
pub(crate) fn generate() -> Vec<VectorFile> {
    let mut rng = ChaCha20Rng::seed_from_u64(SEED);
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let key = SigningKey::from_bytes(&secret);
    // SPEC §6.2: the first 2 bytes of SHA-256 over the public key.
    let kid = key_id_of(key.verifying_key().as_bytes(), 2);
    let mut ctx = Ctx {
        rng,
        key,
        key_id: kid,
    };

    let mut vectors: Vec<(String, Json)> = Vec::new();
    for kind in CredentialType::ALL {
        let c = examples::credential(kind, ctx.id());
        let name = format!("valid-{}", kind.as_str());
        let article = if kind == CredentialType::Exemption {
            "An"
        } else {
            "A"
        };
        vectors.push(valid(
            &name,
            &format!(
                "{article} {} credential for the example holder.",
                kind.as_str()
            ),
            &ctx,
            &c,
        ));
    }
    let mut c = examples::credential(CredentialType::Vaccination, ctx.id());
    c.holder.birth_date = BirthDate::Year(1980);
    vectors.push(valid(
        "valid-birth-year-only",
        "Date of birth known only to the year: [1980].",
        &ctx,
        &c,
    ));
    c.id = ctx.id();
    c.holder.birth_date = BirthDate::YearMonth(1980, 5);
    vectors.push(valid(
        "valid-birth-year-month",
        "Date of birth known to the month: [1980, 5].",
        &ctx,
        &c,
    ));
    c.id = ctx.id();
    c.holder = door(|h| {
        h.birth_date = "1955-03-08".parse().unwrap();
        h.family_name = Name::new("Щукина", Some("SHCHUKINA-IVANOVA")).unwrap();
        h.given_name = Some(Name::new("Юлия", None).unwrap());
        h.patronymic = None;
    });
    vectors.push(valid(
        "valid-two-initials",
        "Щукина Юлия, no patronymic, with a domestic passport: two Cyrillic initials (ЩЮ, windows-1251 bytes d9 de); born before 1970 (negative day count).",
        &ctx,
        &c,
    ));
    c.id = ctx.id();
    c.holder = door(|h| {
        h.family_name = Name::new("García Márquez", None).unwrap();
        h.given_name = Some(Name::new("Gabriel", None).unwrap());
        h.patronymic = None;
        h.document = Document::new(DocumentKind::Foreign, "AB1234567").unwrap();
    });
    vectors.push(valid(
        "valid-foreign-document",
        "García Márquez Gabriel with a foreign document AB1234567: Latin initials (GG, a text string) and the masked number AB****567 as [2, text].",
        &ctx,
        &c,
    ));
    // Invalid: each breaks one thing, everything else being right.
    let base = examples::credential(CredentialType::Vaccination, ctx.id());
    let cose = ctx.cose(&base);
    let good = b45(&cose);

    let mut bad_sig = cose.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    vectors.push(invalid(
        "invalid-bad-signature",
        "One bit of the signature flipped.",
        b45(&bad_sig),
        "signature",
        "signature verification failed",
    ));

    let other = SigningKey::from_bytes(&[0x42; 32]);
    let stranger = Encoder::sign(&base, &KeyId::new(&[0xEE; 4]).unwrap(), |d| {
        other.sign(d).to_bytes()
    })
    .unwrap();
    let mut unknown_key = invalid(
        "invalid-unknown-key-id",
        "Signed by a key whose id (eeeeeeee) the verifier does not know: its own outcome, `unknown_key`, at layer `signature`.",
        b45(&stranger),
        "signature",
        "unknown key id eeeeeeee",
    );
    unknown_key.1["expected"]["outcome"] = json!("unknown_key");
    vectors.push(unknown_key);

    let whole_groups = 4 + (good.len() - 4) / 3 * 3 - 3;
    vectors.push(invalid(
        "invalid-truncated",
        "The text cut short at a base45 group boundary: the COSE_Sign1 ends early.",
        good[..whole_groups].to_owned(),
        "cbor",
        "CBOR: malformed CBOR",
    ));
    vectors.push(invalid(
        "invalid-wrong-prefix",
        "An EU prefix on a Propusk credential.",
        format!("HC1:{}", &good[4..]),
        "prefix",
        "prefix: the text does not start with a known version prefix",
    ));
    vectors.push(invalid(
        "invalid-version-1-prefix",
        "The version 1 prefix, withdrawn before release (its holder carried full names), on a version 2 credential.",
        format!("PR1:{}", &good[4..]),
        "prefix",
        "prefix: a version 1 credential (PR1:), withdrawn before release: the issuer issues it again",
    ));
    vectors.push(invalid(
        "invalid-lowercase-prefix",
        "The prefix in lower case.",
        format!("pr2:{}", &good[4..]),
        "prefix",
        "prefix: the text does not start with a known version prefix",
    ));
    vectors.push(invalid(
        "invalid-base45-character",
        "A lower-case letter in the base45 text.",
        format!("{}a{}", &good[..10], &good[11..]),
        "base45",
        "base45: character at position 6 is not in the base45 alphabet",
    ));
    vectors.push(invalid(
        "invalid-base45-overflow",
        "A three-character group worth more than 65535 (GGW = 65536).",
        format!("{PREFIX}GGW"),
        "base45",
        "base45: the group at position 0 is out of range",
    ));
    let cut = &good[..whole_groups + 3];
    vectors.push(invalid(
        "invalid-base45-length",
        "Whole groups and one dangling character.",
        format!("{cut}0"),
        "base45",
        &format!(
            "base45: length {} leaves a lone character (length mod 3 = 1)",
            cut.len() - 4 + 1
        ),
    ));

    vectors.push(invalid(
        "invalid-compressed",
        "The valid vaccination COSE_Sign1 zlib-compressed, as EU texts are: version 2 texts are never compressed (one credential, one text).",
        b45(&zlib(&cose)),
        "cose",
        "COSE: a compressed text (zlib); version 2 texts are never compressed",
    ));
    vectors.push(invalid(
        "invalid-text-too-long",
        "4297 characters: longer than a version-40 QR code holds, refused before any other work.",
        format!("{PREFIX}{}", "0".repeat(4293)),
        "prefix",
        "prefix: the text is 4297 characters long; at most 4296 are accepted",
    ));
    let mut trailing = cose.clone();
    trailing.push(0);
    vectors.push(invalid(
        "invalid-trailing-bytes",
        "A byte after the COSE_Sign1 array.",
        b45(&trailing),
        "cbor",
        "CBOR: bytes follow the end of the item",
    ));
    vectors.push(invalid(
        "invalid-tagged-cose",
        "COSE_Sign1 with tag 18: version 2 takes the untagged form only.",
        b45(&[vec![0xD2], cose.clone()].concat()),
        "cose",
        "COSE: not an untagged COSE_Sign1 array of four items",
    ));

    let dup = ctx.with_payload(&base, |e| e.insert(1, (int(4), int(1_700_000_000))));
    vectors.push(invalid(
        "invalid-duplicate-key",
        "The claims map holds key 4 (expiry) twice; properly signed.",
        b45(&dup),
        "cbor",
        "CBOR: duplicate map key",
    ));
    let unsorted = ctx.with_payload(&base, |e| e.swap(0, 1));
    vectors.push(invalid(
        "invalid-unsorted-keys",
        "Claims keys out of deterministic order (6 before 4); properly signed.",
        b45(&unsorted),
        "cbor",
        "CBOR: not deterministically encoded",
    ));
    let (protected, _, payload, _) = parts(&cose);
    let mut long_head = vec![0x84];
    long_head.extend(enc(&Value::Bytes(protected.clone())));
    long_head.push(0xA0);
    long_head.extend([0x59, (payload.len() >> 8) as u8, payload.len() as u8]);
    long_head.extend(&payload);
    long_head.extend(enc(&Value::Bytes(
        ctx.key
            .sign(&to_be_signed(&protected, &payload))
            .to_bytes()
            .to_vec(),
    )));
    vectors.push(invalid(
        "invalid-long-length-head",
        "The payload's length written in two bytes where one suffices.",
        b45(&long_head),
        "cbor",
        "CBOR: not deterministically encoded",
    ));

    let unknown = ctx.with_payload(&base, |e| e.insert(0, (int(1), Value::Text("RU".into()))));
    vectors.push(invalid(
        "invalid-unknown-claim",
        "An issuer claim (key 1), which version 2 does not define.",
        b45(&unknown),
        "claims",
        "claims: unknown key 1 in claims",
    ));
    let two = ctx.with_payload(&base, |e| {
        let recovery = examples::credential(CredentialType::Recovery, base.id);
        let Value::Map(r) = dec(&parts(&ctx.cose(&recovery)).2) else {
            unreachable!()
        };
        e.push(r.last().unwrap().clone());
    });
    vectors.push(invalid(
        "invalid-two-bodies",
        "A vaccination and a recovery body in one credential.",
        b45(&two),
        "claims",
        "claims: exactly one credential body is required, found 2",
    ));
    let no_body = ctx.with_payload(&base, |e| {
        e.pop();
    });
    vectors.push(invalid(
        "invalid-no-body",
        "No credential body.",
        b45(&no_body),
        "claims",
        "claims: exactly one credential body is required, found 0",
    ));
    let expired_first = ctx.with_payload(&base, |e| e[0].1 = int(1_600_000_000));
    vectors.push(invalid(
        "invalid-expiry-before-issue",
        "Expiry before issued-at.",
        b45(&expired_first),
        "claims",
        "claims: expiry is invalid: not after issued-at",
    ));
    let utf8_name = ctx.with_payload(&base, |e| set_holder(e, 0, Value::Text("ИИИ".into())));
    vectors.push(invalid(
        "invalid-cyrillic-as-utf8",
        "Cyrillic initials as a UTF-8 text string instead of the windows-1251 byte string.",
        b45(&utf8_name),
        "claims",
        "claims: initials is invalid: must use the windows-1251 form",
    ));
    let month13 = ctx.with_payload(&base, |e| {
        set_holder(e, 1, Value::Array(vec![int(1980), int(13)]))
    });
    vectors.push(invalid(
        "invalid-birth-month-13",
        "A partial date of birth with month 13.",
        b45(&month13),
        "claims",
        "claims: birth date is invalid: not a year, a year and month, or a date in range",
    ));
    let deep = ctx.with_payload(&base, |e| {
        set_holder(
            e,
            1,
            Value::Array(vec![Value::Array(vec![Value::Array(vec![int(1980)])])]),
        )
    });
    vectors.push(invalid(
        "invalid-too-deep",
        "Arrays nested five deep inside the claims (claims, holder, three arrays as the birth date).",
        b45(&deep),
        "cbor",
        "CBOR: nested deeper than 4 levels",
    ));
    let dose_text = ctx.with_payload(&base, |e| {
        if let Some((_, Value::Map(body))) = e.last_mut() {
            body[1].1 = Value::Text("2".into());
        }
    });
    vectors.push(invalid(
        "invalid-dose-as-text",
        "The dose number as a text string.",
        b45(&dose_text),
        "body",
        "body: dose has the wrong type",
    ));
    let dose_zero = ctx.with_payload(&base, |e| {
        if let Some((_, Value::Map(body))) = e.last_mut() {
            body[1].1 = int(0);
        }
    });
    vectors.push(invalid(
        "invalid-dose-zero",
        "Dose number 0.",
        b45(&dose_zero),
        "body",
        "body: dose is invalid: not 1 to 9",
    ));

    let kid = Value::Bytes(ctx.key_id.as_bytes().to_vec());
    let crit = ctx.with_protected(
        &base,
        Value::Map(vec![
            (int(2), Value::Array(vec![int(99)])),
            (int(4), kid.clone()),
        ]),
    );
    vectors.push(invalid(
        "invalid-crit-header",
        "A crit header parameter, which version 2 does not understand.",
        b45(&crit),
        "cose",
        "COSE: header parameter 2 is not understood",
    ));
    let alg = "COSE: an algorithm in the protected header: version 2 is EdDSA by its prefix and names none";
    let eddsa = ctx.with_protected(
        &base,
        Value::Map(vec![(int(1), int(-8)), (int(4), kid.clone())]),
    );
    vectors.push(invalid(
        "invalid-algorithm-named",
        "The protected header of version 1, {1: -8, 4: kid}: EdDSA named, which version 2 fixes by its prefix and does not carry.",
        b45(&eddsa),
        "cose",
        alg,
    ));
    let es256 = ctx.with_protected(
        &base,
        Value::Map(vec![(int(1), int(-7)), (int(4), kid.clone())]),
    );
    vectors.push(invalid(
        "invalid-algorithm",
        "Algorithm ES256 (-7) named in the protected header.",
        b45(&es256),
        "cose",
        alg,
    ));
    let (protected, _, payload, _) = parts(&cose);
    let unprot = ctx.resign(protected, Value::Map(vec![(int(4), kid)]), payload);
    vectors.push(invalid(
        "invalid-unprotected-header",
        "The key id repeated in the unprotected header, which must be empty.",
        b45(&unprot),
        "cose",
        "COSE: the unprotected header must be empty",
    ));

    more_valid(&mut ctx, &mut vectors);
    cbor_profile(&ctx, &base, &mut vectors);
    cose_headers(&ctx, &base, &mut vectors);
    strict_ed25519(&ctx, &base, &mut vectors);
    fields(&ctx, &base, &mut vectors);
    rules::rule_vectors(&mut ctx, &base, &mut vectors);

    let key = json!({"key_id": ctx.key_id.to_string(), "public_key": hex::encode(ctx.key.verifying_key().as_bytes())});
    let mut files = vec![VectorFile {
        name: "key.json".into(),
        contents: pretty(&key),
    }];
    let mut readme = String::from(README_HEAD);
    for (name, v) in &vectors {
        let outcome = match v["expected"]["outcome"].as_str() {
            Some("valid") => "valid".to_owned(),
            _ => format!(
                "`{}`: {}",
                v["expected"]["layer"].as_str().unwrap_or(""),
                v["expected"]["error"].as_str().unwrap_or("")
            ),
        };
        readme.push_str(&format!(
            "| `{name}.json` | {} | {outcome} |\n",
            v["description"].as_str().unwrap_or("")
        ));
        files.push(VectorFile {
            name: format!("{name}.json"),
            contents: pretty(v),
        });
    }
    files.push(VectorFile {
        name: "worked-example.md".into(),
        contents: worked_example(&ctx),
    });
    files.push(VectorFile {
        name: "README.md".into(),
        contents: readme,
    });
    files
}

/// The vaccination credential of `valid-vaccination.json`, taken apart layer by layer.
fn worked_example(ctx: &Ctx) -> String {
    let mut rng = ChaCha20Rng::seed_from_u64(SEED);
    let mut skip = [0u8; 32];
    rng.fill_bytes(&mut skip);
    let mut id = [0u8; 12];
    rng.fill_bytes(&mut id);
    let c = examples::credential(CredentialType::Vaccination, CredentialId::from_bytes(id));
    let cose = ctx.cose(&c);
    let (protected, _, payload, _) = parts(&cose);
    let text = ctx.text(&c);
    let tbs = to_be_signed(&protected, &payload);
    let short = propusk_spec::short_link("https://portal.example", &c.id).unwrap();
    let offline = propusk_spec::offline_link("https://portal.example", &c.id, &text).unwrap();
    format!(
        "# Worked example: a vaccination credential, layer by layer

Generated with the golden vectors (`valid-vaccination.json`); do not edit by hand.

## The content

```json
{json}
```

## The COSE_Sign1, annotated ({cose_len} bytes)

```text
{annotated}```

## The bytes that are signed (Sig_structure, {tbs_len} bytes)

```text
{tbs}
```

## The text ({text_len} characters: base45 of the COSE_Sign1, which is never compressed)

```text
{text}
```

## The links

```text
{short}
{offline}
```
",
        json = serde_json::to_string_pretty(&c).unwrap(),
        cose_len = cose.len(),
        annotated = annotate::annotate(&cose),
        tbs_len = tbs.len(),
        tbs = hex::encode(&tbs),
        text_len = text.len(),
    )
}

/// Sets item `at` of the holder array `[initials, birth date, document]`.
fn set_holder(entries: &mut [(Value, Value)], at: usize, value: Value) {
    let Some((_, Value::Array(holder))) = entries.iter_mut().find(|(k, _)| *k == int(-1)) else {
        unreachable!()
    };
    holder[at] = value;
}

/// The door form of the example holder, edited.
fn door(edit: impl FnOnce(&mut propusk_spec::Holder)) -> propusk_spec::DoorHolder {
    let mut h = examples::holder();
    edit(&mut h);
    h.door()
}

fn pretty(v: &Json) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

const README_HEAD: &str = "# Golden vectors of the Propusk wire format (version 2, `PR2:`)

Generated by `cargo run -p propusk-spec --example gen_vectors` from a fixed seed; the test
`spec/tests/golden.rs` regenerates them and fails if a byte changed, then checks every file
against the decoder. Do not edit by hand.

- `key.json`: the Ed25519 public key (`public_key`, hex of the 32 raw bytes) and its key id
  (`key_id`, hex: the first 2 bytes of SHA-256 over the key, SPEC §6.2), trusted for every
  vector that has no `key` of its own.
- Each other file is one vector: `text` is the credential text a scanner reads. A vector with a
  `key` (`key_id`, `public_key`) is checked with that key alone. Valid vectors also give `cose`
  (the COSE_Sign1 bytes, hex) and `payload` (the claims map, hex), and `expected.credential`,
  the decoded content as JSON. Other vectors give `expected.outcome` (`invalid`, or
  `unknown_key` for a key id the verifier does not know), `expected.layer`, the layer that must
  refuse the input, and `expected.error`, this implementation's message. A second
  implementation should match the outcome and the layer; the wording is ours.
- The strict Ed25519 vectors (`invalid-signature-*`, `invalid-key-*` with layer `signature`)
  each satisfy the group equation as a permissive verifier computes it: a verifier that accepts
  one of them is not strict (SPEC §6.4).
- An id vector has `id` instead of `text`: a credential id's text form (SPEC §11); valid, it
  gives the 12 `bytes` (hex); invalid, the layer is `id`.
- A link vector has `link` (SPEC §12); valid, it gives the `id` it names and whether it is
  `offline` (carries a credential, which must then be valid); invalid, the layer is `link`, or
  the layer that refuses the credential it carries.
- Every MUST or refuse rule of SPEC has a vector that a decoder leaving out only that rule fails
  (a text with two faults where the order of §1 decides): `spec/tests/cleanroom.rs` holds a
  second decoder written from SPEC alone, in which each rule is a switch, and checks that it
  agrees with every vector and that it disagrees with at least one when any one rule is off.

| file | what it holds | expected |
|---|---|---|
";

/// The key id a Propusk issuer derives (SPEC §6.2): the first `n` bytes of SHA-256 of the key.
fn key_id_of(public: &[u8; 32], n: usize) -> KeyId {
    KeyId::new(&Sha256::digest(public)[..n]).unwrap()
}

/// A valid vector signed by the vectors' key under a key id of its first `n` bytes, checked with
/// that key under that id.
fn valid_with_key_id(
    name: &str,
    description: &str,
    ctx: &Ctx,
    c: &Credential,
    n: usize,
) -> (String, Json) {
    let kid = key_id_of(ctx.key.verifying_key().as_bytes(), n);
    let cose = Encoder::sign(c, &kid, |d| ctx.key.sign(d).to_bytes()).unwrap();
    let (_, _, payload, _) = parts(&cose);
    with_key(
        (
            name.into(),
            json!({
                "description": description,
                "text": b45(&cose),
                "cose": hex::encode(&cose),
                "payload": hex::encode(&payload),
                "expected": {"outcome": "valid", "credential": serde_json::to_value(c).unwrap()},
            }),
        ),
        &kid,
        ctx.key.verifying_key().as_bytes(),
    )
}

/// A vector checked with its own key instead of `key.json`'s.
fn with_key(mut v: (String, Json), key_id: &KeyId, public: &[u8]) -> (String, Json) {
    v.1["key"] = json!({"key_id": key_id.to_string(), "public_key": hex::encode(public)});
    v
}

/// A COSE_Sign1 from its four parts as given.
fn cose_of(protected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    enc(&Value::Array(vec![
        Value::Bytes(protected.to_vec()),
        Value::Map(vec![]),
        Value::Bytes(payload.to_vec()),
        Value::Bytes(signature.to_vec()),
    ]))
}

/// The protected header `{4: kid}` of a key id.
fn protected_of(key_id: &[u8]) -> Vec<u8> {
    enc(&Value::Map(vec![(int(4), Value::Bytes(key_id.to_vec()))]))
}

/// Signs by hand with `R` chosen: `S = k·a` where `k = SHA-512(R ‖ A ‖ M)`. With `R` of small
/// order (or a non-canonical encoding of one), `[S]B = R + [k]A` holds in the group, so a
/// permissive verifier accepts what a strict one must refuse.
fn signature_with_r(ctx: &Ctx, r: [u8; 32], message: &[u8]) -> Vec<u8> {
    let digest = Sha512::new()
        .chain_update(r)
        .chain_update(ctx.key.verifying_key().as_bytes())
        .chain_update(message)
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    let s = Scalar::from_bytes_mod_order_wide(&wide) * ctx.key.to_scalar();
    [r.to_vec(), s.to_bytes().to_vec()].concat()
}

/// The identity point, canonically encoded (y = 1).
const IDENTITY: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 1;
    b
};

/// The identity point encoded with y = p + 1: not canonical.
const IDENTITY_PLUS_P: [u8; 32] = {
    let mut b = [0xFF; 32];
    b[0] = 0xEE;
    b[31] = 0x7F;
    b
};

/// Valid vectors for what the others leave out: Latin forms of every name, every row of the
/// transliteration table, the longest key id, every test kind and result, every pass purpose,
/// an exemption of one day.
fn more_valid(ctx: &mut Ctx, vectors: &mut Vec<(String, Json)>) {
    let mut c = examples::credential(CredentialType::Vaccination, ctx.id());
    c.holder = door(|h| {
        h.given_name = Some(Name::new("Юлия", Some("YULIYA")).unwrap());
        h.patronymic = Some(Name::new("Алексеевна", Some("ALEXEEVNA")).unwrap());
        h.document = Document::new(DocumentKind::InternationalPassport, "72 1234567").unwrap();
    });
    vectors.push(valid(
        "valid-international-passport",
        "An international passport 72 1234567 spelling the names IVANOV YULIYA ALEXEEVNA: the initials of its Latin forms (IYA, a text string) and the masked number 72 ****567 as [1, text].",
        ctx,
        &c,
    ));
    // Every Cyrillic capital that may stand as an initial (SPEC §8.1), three to a credential.
    let capitals: Vec<char> = "АБВГЃҐДЂЕЁЭЖЗИЙІЇКЌЛЉМНЊОПРСТУЎФХЦЧШЩЪЄЫЮЯЅЏЈЋ"
        .chars()
        .collect();
    for (n, three) in capitals.chunks(3).enumerate() {
        let mut c = examples::credential(CredentialType::Vaccination, ctx.id());
        let letters: String = three.iter().collect();
        c.holder.initials = propusk_spec::Initials::new(&letters).unwrap();
        vectors.push(valid(
            &format!("valid-initials-cyrillic-{:02}", n + 1),
            &format!(
                "Cyrillic initials {letters}: capitals of the transliteration table may stand as initials (windows-1251 bytes)."
            ),
            ctx,
            &c,
        ));
    }

    let c = examples::credential(CredentialType::Vaccination, ctx.id());
    vectors.push(valid_with_key_id(
        "valid-key-id-16-bytes",
        "The longest key id, 16 bytes (the first 16 of SHA-256 over the key); checked with the key under that id (`key`).",
        ctx,
        &c,
        16,
    ));

    let mut c = examples::credential(CredentialType::Test, ctx.id());
    if let Body::Test(t) = &mut c.body {
        t.kind = TestKind::RapidAntigen;
        t.result = TestResult::Positive;
    }
    vectors.push(valid(
        "valid-test-rapid-antigen-positive",
        "A rapid antigen test (kind 1) with a positive result (1): valid as a credential; rule sets decide what it is good for.",
        ctx,
        &c,
    ));
    let mut c = examples::credential(CredentialType::Exemption, ctx.id());
    if let Body::Exemption(e) = &mut c.body {
        e.valid_until = e.valid_from;
    }
    vectors.push(valid(
        "valid-exemption-one-day",
        "An exemption valid for one day: valid until (inclusive) equals valid from.",
        ctx,
        &c,
    ));
    for purpose in [
        PassPurpose::Shopping,
        PassPurpose::Medical,
        PassPurpose::Other,
    ] {
        let mut c = examples::credential(CredentialType::Pass, ctx.id());
        if let Body::Pass(p) = &mut c.body {
            p.purpose = purpose;
        }
        vectors.push(valid(
            &format!("valid-pass-{}", purpose.as_str()),
            &format!(
                "A movement pass for purpose {} ({}).",
                purpose as u8,
                purpose.as_str()
            ),
            ctx,
            &c,
        ));
    }
}

/// The CBOR profile (SPEC §5): what no field allows is refused at layer `cbor`, everything else
/// at the layer of the field; the payload is an item of its own, so its depth starts again.
fn cbor_profile(ctx: &Ctx, base: &Credential, vectors: &mut Vec<(String, Json)>) {
    let (protected, _, payload, _) = parts(&ctx.cose(base));
    let mut indefinite = payload.clone();
    assert_eq!(indefinite[0], 0xA5);
    indefinite[0] = 0xBF;
    indefinite.push(0xFF);
    vectors.push(invalid(
        "invalid-indefinite-length",
        "The claims map with an indefinite length (bf … ff); properly signed.",
        b45(&ctx.resign(protected.clone(), Value::Map(vec![]), indefinite)),
        "cbor",
        "CBOR: not deterministically encoded",
    ));
    let simple = "CBOR: floating-point numbers and simple values are not used in this format";
    let float = ctx.with_payload(base, |e| e[0].1 = Value::Float(1_654_041_600.0));
    vectors.push(invalid(
        "invalid-float",
        "The expiry as a floating-point number of the same value; properly signed.",
        b45(&float),
        "cbor",
        simple,
    ));
    let null = ctx.with_payload(base, |e| set_holder(e, 2, Value::Null));
    vectors.push(invalid(
        "invalid-simple-value",
        "The document as null (f6), a simple value; properly signed.",
        b45(&null),
        "cbor",
        simple,
    ));
    let tagged = ctx.with_payload(base, |e| {
        e[0].1 = Value::Tag(1, Box::new(e[0].1.clone()));
    });
    vectors.push(invalid(
        "invalid-tag-in-payload",
        "The expiry under tag 1 (epoch time); properly signed.",
        b45(&tagged),
        "cbor",
        "CBOR: tags are not used in this format",
    ));
    let deep4 = ctx.with_payload(base, |e| {
        set_holder(e, 1, Value::Array(vec![Value::Array(vec![int(1980)])]))
    });
    vectors.push(invalid(
        "invalid-depth-4",
        "Arrays nested four deep counting from the claims map (claims, holder, two arrays as the birth date): the CBOR is within the limit, the payload's depth starting again at 1, so the holder field refuses it.",
        b45(&deep4),
        "claims",
        "claims: birth date is invalid: not a year, a year and month, or a date in range",
    ));
    let latin_name = ctx.with_payload(base, |e| set_holder(e, 0, Value::Text("IVA".into())));
    let (_, _, p, _) = parts(&latin_name);
    let at = p.windows(3).position(|w| w == b"IVA").unwrap();
    let mut bad_utf8 = p.clone();
    bad_utf8[at + 1] = 0xFF;
    vectors.push(invalid(
        "invalid-utf8",
        "Initials as a text string holding the byte ff, which is not UTF-8; properly signed.",
        b45(&ctx.resign(protected, Value::Map(vec![]), bad_utf8)),
        "cbor",
        "CBOR: malformed CBOR",
    ));
    let not_map = ctx.with_payload(base, |e| e.last_mut().unwrap().1 = int(5));
    vectors.push(invalid(
        "invalid-body-not-a-map",
        "The vaccination body as the integer 5 instead of a map.",
        b45(&not_map),
        "body",
        "body: vaccination is not a map",
    ));
}

/// The protected header and the COSE_Sign1 array (SPEC §6.1, §6.2).
fn cose_headers(ctx: &Ctx, base: &Credential, vectors: &mut Vec<(String, Json)>) {
    let (protected, _, payload, _) = parts(&ctx.cose(base));
    let key_id = "COSE: key id missing from the protected header, or not 1 to 16 bytes";
    let header = |m: Vec<(Value, Value)>| ctx.with_protected(base, Value::Map(m));
    let cases = [
        (
            "invalid-empty-protected-header",
            "A protected header of zero bytes (h'').",
            ctx.resign(Vec::new(), Value::Map(vec![]), payload.clone()),
            key_id,
        ),
        (
            "invalid-protected-header-not-a-map",
            "A protected header that holds the integer -8 instead of a map.",
            ctx.resign(enc(&int(-8)), Value::Map(vec![]), payload.clone()),
            "COSE: protected header has the wrong type",
        ),
        (
            "invalid-key-id-missing",
            "A protected header without a key id: the empty map {}.",
            header(vec![]),
            key_id,
        ),
        (
            "invalid-key-id-empty",
            "A key id of zero bytes.",
            header(vec![(int(4), Value::Bytes(vec![]))]),
            key_id,
        ),
        (
            "invalid-key-id-17-bytes",
            "A key id of 17 bytes, one more than allowed.",
            header(vec![(int(4), Value::Bytes(vec![7; 17]))]),
            key_id,
        ),
    ];
    for (name, description, cose, error) in cases {
        vectors.push(invalid(name, description, b45(&cose), "cose", error));
    }
    let signature = ctx.key.sign(&to_be_signed(&protected, &payload)).to_bytes();
    for (length, name) in [
        (63, "invalid-signature-63-bytes"),
        (65, "invalid-signature-65-bytes"),
    ] {
        let mut s = signature.to_vec();
        s.resize(length, 0);
        vectors.push(invalid(
            name,
            &format!("A signature of {length} bytes instead of 64."),
            b45(&cose_of(&protected, &payload, &s)),
            "cose",
            "COSE: the signature is not 64 bytes",
        ));
    }
}

/// Strict Ed25519 (SPEC §6.4): each of these verifies with a permissive library.
fn strict_ed25519(ctx: &Ctx, base: &Credential, vectors: &mut Vec<(String, Json)>) {
    let (protected, _, payload, _) = parts(&ctx.cose(base));
    let message = to_be_signed(&protected, &payload);
    let bad = "signature verification failed";
    let mut s_plus_l = ctx.key.sign(&message).to_bytes();
    // S + L, little-endian: the same scalar mod L, not reduced.
    const L: [u8; 32] = [
        0xED, 0xD3, 0xF5, 0x5C, 0x1A, 0x63, 0x12, 0x58, 0xD6, 0x9C, 0xF7, 0xA2, 0xDE, 0xF9, 0xDE,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (s, l) in s_plus_l[32..].iter_mut().zip(L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
    let cases = [
        (
            "invalid-signature-s-not-reduced",
            "A valid signature with S replaced by S + L (the group order): the same value mod L, but S MUST be below L.",
            s_plus_l.to_vec(),
        ),
        (
            "invalid-signature-small-order-r",
            "R is the identity point (small order) and S = k·a: [S]B = R + [k]A holds, but R MUST NOT be of small order.",
            signature_with_r(ctx, IDENTITY, &message),
        ),
        (
            "invalid-signature-non-canonical-r",
            "R is the identity encoded with y = p + 1 (ee ff … ff 7f), not canonical; S = k·a over those bytes.",
            signature_with_r(ctx, IDENTITY_PLUS_P, &message),
        ),
    ];
    for (name, description, signature) in cases {
        vectors.push(invalid(
            name,
            description,
            b45(&cose_of(&protected, &payload, &signature)),
            "signature",
            bad,
        ));
    }
    // Weak keys: R = identity and S = 0 satisfy [S]B = R + [k]A for every message when A is the
    // identity, however it is encoded.
    for (name, description, public) in [
        (
            "invalid-key-small-order",
            "The key is the identity point (small order); R is the identity and S = 0, which verifies for any message with a permissive library. Checked with that key (`key`).",
            IDENTITY,
        ),
        (
            "invalid-key-non-canonical",
            "The key is the identity encoded with y = p + 1 (ee ff … ff 7f), not canonical; R is the identity and S = 0. Checked with that key (`key`).",
            IDENTITY_PLUS_P,
        ),
    ] {
        let kid = key_id_of(&public, 2);
        let weak = protected_of(kid.as_bytes());
        let signature = [IDENTITY.to_vec(), vec![0; 32]].concat();
        vectors.push(with_key(
            invalid(
                name,
                description,
                b45(&cose_of(&weak, &payload, &signature)),
                "signature",
                bad,
            ),
            &kid,
            &public,
        ));
    }
}

/// Fields: the text forms, Latin forms, codes and date order (SPEC §8 – §10).
fn fields(ctx: &Ctx, base: &Credential, vectors: &mut Vec<(String, Json)>) {
    let holder = |name: &str, description: &str, at: usize, value: Value, error: &str| {
        invalid(
            name,
            description,
            b45(&ctx.with_payload(base, |e| set_holder(e, at, value))),
            "claims",
            error,
        )
    };
    let initials =
        "claims: initials is invalid: an initial is a capital letter: A-Z, or a Cyrillic capital";
    let cp1251 = |s: &str| Value::Bytes(s.chars().map(windows_1251_byte).collect());
    let cases = [
        (
            "invalid-ascii-byte-string",
            "All-ASCII initials as a byte string (they must be a text string).",
            0,
            Value::Bytes(b"IVA".to_vec()),
            "claims: initials is invalid: ASCII must be a text string",
        ),
        (
            "invalid-byte-0x98",
            "Initials in windows-1251 holding byte 0x98, which WHATWG maps to the control character U+0098.",
            0,
            Value::Bytes(vec![0xC8, 0x98, 0xC8]),
            "claims: initials is invalid: holds a control character",
        ),
        (
            "invalid-initials-lower-case",
            "A small letter as an initial (и).",
            0,
            cp1251("Иии"),
            initials,
        ),
        (
            "invalid-initials-soft-sign",
            "Ь as an initial: its transliteration is empty, so it is no initial.",
            0,
            cp1251("ИЬИ"),
            initials,
        ),
        (
            "invalid-initials-digit",
            "A digit as an initial.",
            0,
            Value::Text("I1I".into()),
            initials,
        ),
        (
            "invalid-initials-four",
            "Four initials: at most three (family name, given name, patronymic).",
            0,
            cp1251("ИИИИ"),
            "claims: initials is invalid: one to three initials",
        ),
        (
            "invalid-initials-full-name",
            "The full family name where the initials belong: what version 2 never carries.",
            0,
            cp1251("Иванов"),
            "claims: initials is invalid: one to three initials",
        ),
        (
            "invalid-passport-number-too-large",
            "A domestic passport's shown digits as 100000: at most 99999 (two digits, then three).",
            2,
            int(100_000),
            "claims: document is invalid: out of range",
        ),
        (
            "invalid-passport-as-text",
            "A domestic passport as [0, \"45** ***789\"]: a domestic passport travels as a number.",
            2,
            Value::Array(vec![int(0), Value::Text("45** ***789".into())]),
            "claims: document kind is invalid: a domestic passport travels as a number",
        ),
        (
            "invalid-document-unmasked",
            "A foreign document number in full (AB1234567) where the masked one belongs.",
            2,
            Value::Array(vec![int(2), Value::Text("AB1234567".into())]),
            "claims: document number is invalid: not a masked document number",
        ),
        (
            "invalid-document-kind-3",
            "Document kind 3: only 0 to 2 exist.",
            2,
            Value::Array(vec![int(3), Value::Text("AB****567".into())]),
            "claims: document kind is invalid: not a known document kind",
        ),
        (
            "invalid-document-three-items",
            "A document array of three items.",
            2,
            Value::Array(vec![int(2), Value::Text("AB****567".into()), int(0)]),
            "claims: document is invalid: not [kind, masked number]",
        ),
    ];
    for (name, description, at, value, error) in cases {
        vectors.push(holder(name, description, at, value, error));
    }
    let old_holder = ctx.with_payload(base, |e| {
        let Some(slot) = e.iter_mut().find(|(k, _)| *k == int(-1)) else {
            unreachable!()
        };
        slot.1 = Value::Map(vec![
            (int(1), cp1251("Иванов")),
            (int(7), int(3784)),
            (int(8), int(0)),
            (int(9), Value::Bytes(vec![0x45, 0x10, 0x12, 0x37, 0x89])),
        ]);
    });
    vectors.push(invalid(
        "invalid-holder-map",
        "The holder of version 1, a map with the full family name and passport number: version 2 carries the array [initials, birth date, document] only.",
        b45(&old_holder),
        "claims",
        "claims: holder has the wrong type",
    ));

    let body = |name: &str,
                description: &str,
                kind: CredentialType,
                key: usize,
                value: Value,
                error: &str| {
        let c = examples::credential(kind, base.id);
        let cose = ctx.with_payload(&c, |e| {
            if let Some((_, Value::Map(b))) = e.last_mut() {
                b[key].1 = value;
            }
        });
        invalid(name, description, b45(&cose), "body", error)
    };
    let cases = [
        (
            "invalid-product-0",
            "Vaccine product number 0.",
            CredentialType::Vaccination,
            0,
            int(0),
            "body: product is invalid: product number 0 is not assigned",
        ),
        (
            "invalid-product-40",
            "Vaccine product number 40, beyond the table of 39.",
            CredentialType::Vaccination,
            0,
            int(40),
            "body: product is invalid: out of range",
        ),
        (
            "invalid-country-676",
            "Country number 676, beyond ZZ (675).",
            CredentialType::Vaccination,
            4,
            int(676),
            "body: country is invalid: out of range",
        ),
        (
            "invalid-test-kind-2",
            "Test kind 2: only 0 (PCR) and 1 (rapid antigen) exist.",
            CredentialType::Test,
            0,
            int(2),
            "body: kind is invalid: not a known test kind",
        ),
        (
            "invalid-test-result-2",
            "Test result 2: only 0 (negative) and 1 (positive) exist.",
            CredentialType::Test,
            2,
            int(2),
            "body: result is invalid: not a known test result",
        ),
        (
            "invalid-pass-purpose-4",
            "Pass purpose 4: only 0 to 3 exist.",
            CredentialType::Pass,
            0,
            int(4),
            "body: purpose is invalid: not a known pass purpose",
        ),
    ];
    for (name, description, kind, key, value, error) in cases {
        vectors.push(body(name, description, kind, key, value, error));
    }
    let exemption = examples::credential(CredentialType::Exemption, base.id);
    let Body::Exemption(e) = &exemption.body else {
        unreachable!()
    };
    let before = int(e.valid_from.days() - 1);
    vectors.push(body(
        "invalid-exemption-dates-reversed",
        "An exemption whose last day is the day before its first.",
        CredentialType::Exemption,
        1,
        before,
        "body: valid_until is invalid: before valid_from",
    ));
    let pass = examples::credential(CredentialType::Pass, base.id);
    let Body::Pass(p) = &pass.body else {
        unreachable!()
    };
    vectors.push(body(
        "invalid-pass-empty-window",
        "A movement pass whose end equals its start: the end must be later.",
        CredentialType::Pass,
        2,
        Value::Integer(p.valid_from.unix().into()),
        "body: valid_until is invalid: not after valid_from",
    ));
}

/// The windows-1251 byte of a character that has one.
fn windows_1251_byte(c: char) -> u8 {
    (0..=0xFFu8)
        .find(|&b| propusk_spec::windows_1251_char(b) == c)
        .unwrap()
}
