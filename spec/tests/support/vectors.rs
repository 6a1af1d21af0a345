//! The golden-vector generator, shared by `examples/gen_vectors.rs` (which writes
//! `spec/vectors/`) and `tests/golden.rs` (which regenerates in memory and compares).
//! Everything comes from one seeded ChaCha20 stream, so the output is byte-for-byte stable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

#[path = "annotate.rs"]
mod annotate;

use ciborium::Value;
use ed25519_dalek::{Signer, SigningKey};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use propusk_spec::{
    BirthDate, Body, Credential, CredentialId, CredentialType, Document, DocumentKind, Encoder,
    KeyId, Name, PREFIX, Text, base45, examples, hex, to_be_signed,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use serde_json::{Value as Json, json};

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
        Encoder::default()
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
    let mut kid = [0u8; 4];
    rng.fill_bytes(&mut kid);
    let mut ctx = Ctx {
        rng,
        key,
        key_id: KeyId::new(&kid).unwrap(),
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
    c.holder.birth_date = "1955-03-08".parse().unwrap();
    c.holder.family_name = Name::new("Щукина", Some("SHCHUKINA-IVANOVA")).unwrap();
    c.holder.given_name = Some(Name::new("Юлия", None).unwrap());
    c.holder.patronymic = None;
    vectors.push(valid(
        "valid-latin-override-no-patronymic",
        "A Latin family name that is not the transliteration travels (key 2); no patronymic; born before 1970 (negative day count).",
        &ctx,
        &c,
    ));
    c.id = ctx.id();
    c.holder.family_name = Name::new("García Márquez", None).unwrap();
    c.holder.given_name = Some(Name::new("Gabriel", None).unwrap());
    c.holder.document = Document::new(DocumentKind::Foreign, "AB1234567").unwrap();
    vectors.push(valid(
        "valid-latin-script-foreign-document",
        "A Latin-script name (UTF-8 text strings) and a foreign document number as text.",
        &ctx,
        &c,
    ));
    let mut z = examples::credential(CredentialType::Recovery, ctx.id());
    if let Body::Recovery(r) = &mut z.body {
        r.administered_by =
            Text::new("Центр Центр Центр Центр Центр Центр Центр Центр Центр Центр Центр").unwrap();
    }
    vectors.push(valid("valid-compressed", "A repetitive field makes zlib pay off: the base45 carries a zlib stream (first byte 0x78).", &ctx, &z));

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
    vectors.push(invalid(
        "invalid-unknown-key-id",
        "Signed by a key whose id (eeeeeeee) the verifier does not know.",
        b45(&stranger),
        "signature",
        "unknown key id eeeeeeee",
    ));

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
        "invalid-lowercase-prefix",
        "The prefix in lower case.",
        format!("pr1:{}", &good[4..]),
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

    let bomb = zlib(&vec![0u8; 1 << 20]);
    vectors.push(invalid(
        "invalid-zip-bomb",
        "A zlib stream that inflates to 1 MiB of zeros.",
        b45(&bomb),
        "zlib",
        "zlib: inflates beyond 4096 bytes",
    ));
    let mut z_trailing = zlib(&cose);
    z_trailing.push(0);
    vectors.push(invalid(
        "invalid-zlib-trailing-bytes",
        "A byte after the end of the zlib stream.",
        b45(&z_trailing),
        "zlib",
        "zlib: bytes follow the end of the zlib stream",
    ));
    let mut z_broken = zlib(&cose);
    z_broken.truncate(z_broken.len() / 2);
    vectors.push(invalid(
        "invalid-zlib-truncated",
        "A zlib stream cut in half.",
        b45(&z_broken),
        "zlib",
        "zlib: malformed or truncated zlib stream",
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
        "COSE_Sign1 with tag 18: version 1 takes the untagged form only.",
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
        "An issuer claim (key 1), which version 1 does not define.",
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
    let utf8_name = ctx.with_payload(&base, |e| set_holder(e, 1, Value::Text("Иванов".into())));
    vectors.push(invalid(
        "invalid-cyrillic-as-utf8",
        "A Cyrillic family name as a UTF-8 text string instead of the windows-1251 byte string.",
        b45(&utf8_name),
        "claims",
        "claims: family name is invalid: must use the windows-1251 form",
    ));
    let redundant = ctx.with_payload(&base, |e| set_holder(e, 2, Value::Text("IVANOV".into())));
    vectors.push(invalid(
        "invalid-redundant-latin",
        "A Latin family name that equals the transliteration (it must be left out).",
        b45(&redundant),
        "claims",
        "claims: family name is invalid: Latin form sent although derivable",
    ));
    let month13 = ctx.with_payload(&base, |e| {
        set_holder(e, 7, Value::Array(vec![int(1980), int(13)]))
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
            7,
            Value::Array(vec![Value::Array(vec![Value::Array(vec![int(1980)])])]),
        )
    });
    vectors.push(invalid(
        "invalid-too-deep",
        "Arrays nested five deep inside the claims.",
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
            (int(1), int(-8)),
            (int(2), Value::Array(vec![int(99)])),
            (int(4), kid.clone()),
        ]),
    );
    vectors.push(invalid(
        "invalid-crit-header",
        "A crit header parameter, which version 1 does not understand.",
        b45(&crit),
        "cose",
        "COSE: header parameter 2 is not understood",
    ));
    let es256 = ctx.with_protected(
        &base,
        Value::Map(vec![(int(1), int(-7)), (int(4), kid.clone())]),
    );
    vectors.push(invalid(
        "invalid-algorithm",
        "Algorithm ES256 (-7) instead of EdDSA (-8).",
        b45(&es256),
        "cose",
        "COSE: algorithm missing or not EdDSA (-8)",
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
    let mut skip = [0u8; 36];
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

## The text ({text_len} characters; zlib would not make it shorter, so it is not used)

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

fn set_holder(entries: &mut [(Value, Value)], key: i64, value: Value) {
    let Some((_, Value::Map(holder))) = entries.iter_mut().find(|(k, _)| *k == int(-1)) else {
        unreachable!()
    };
    match holder.iter_mut().find(|(k, _)| *k == int(key)) {
        Some(slot) => slot.1 = value,
        None => {
            let at = holder
                .iter()
                .position(
                    |(k, _)| matches!(k, Value::Integer(i) if i64::try_from(*i).unwrap() > key),
                )
                .unwrap_or(holder.len());
            holder.insert(at, (int(key), value));
        }
    }
}

fn pretty(v: &Json) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

const README_HEAD: &str = "# Golden vectors of the Propusk wire format (version 1, `PR1:`)

Generated by `cargo run -p propusk-spec --example gen_vectors` from a fixed seed; the test
`spec/tests/golden.rs` regenerates them and fails if a byte changed, then checks every file
against the decoder. Do not edit by hand.

- `key.json`: the Ed25519 public key (`public_key`, hex of the 32 raw bytes) and its key id
  (`key_id`, hex) that signed every vector except `invalid-unknown-key-id`.
- Each other file is one vector: `text` is the credential text a scanner reads. Valid vectors
  also give `cose` (the COSE_Sign1 bytes, hex) and `payload` (the claims map, hex), and
  `expected.credential`, the decoded content as JSON. Invalid vectors give `expected.layer`,
  the layer that must refuse the input, and `expected.error`, this implementation's message.
  A second implementation should match the layer; the wording is ours.

| file | what it holds | expected |
|---|---|---|
";
