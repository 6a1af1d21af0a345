//! Minimal disclosure, measured (issue 24): 1,000 credentials issued for generated people —
//! three-part Cyrillic names, Latin names on foreign documents, random passport numbers — and
//! each credential text read back by a generic CBOR reader (ciborium's `Value`, not the format's
//! decoder), every text and byte string in it, the payload opened as CBOR of its own: no full
//! family name, given name or patronymic appears (in UTF-8, in windows-1251 or in Latin letters),
//! nor any run of the document number longer than the five characters a door is shown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ciborium::Value;
use propusk_input::Request;
use propusk_issuer::Issuer;
use propusk_spec::{Timestamp, base45, translit, windows_1251_char};
use rand_core::{Rng, SeedableRng};

const SYLLABLES: &[&str] = &[
    "ва", "ле", "ри", "ко", "на", "ми", "ша", "то", "ген", "дор", "ям", "щу", "жи", "бе", "ху",
    "це", "лю", "фа", "ст", "ор", "ин", "ев", "ов",
];

fn name(rng: &mut impl Rng, syllables: usize, ending: &str) -> String {
    let mut s: String = (0..syllables)
        .map(|_| SYLLABLES[rng.next_u32() as usize % SYLLABLES.len()])
        .collect();
    s.push_str(ending);
    let mut chars = s.chars();
    let first = chars.next().unwrap().to_uppercase().to_string();
    first + chars.as_str()
}

/// Every text a generic reader finds: text strings as they are, byte strings read as windows-1251
/// and as Latin-1, and byte strings that are CBOR opened and searched too; and into `digits`,
/// every byte string in hex and every integer in decimal (binary-coded or numeric digits read as
/// they are written).
fn strings(v: &Value, out: &mut Vec<String>, digits: &mut Vec<String>) {
    match v {
        Value::Text(t) => out.push(t.clone()),
        Value::Bytes(b) => {
            out.push(b.iter().map(|&c| windows_1251_char(c)).collect());
            out.push(b.iter().map(|&c| char::from(c)).collect());
            digits.push(propusk_spec::hex::encode(b));
            if let Ok(inner) = ciborium::from_reader::<Value, _>(b.as_slice()) {
                strings(&inner, out, digits);
            }
        }
        Value::Integer(i) => digits.push(i128::from(*i).to_string()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out, digits)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            strings(k, out, digits);
            strings(v, out, digits);
        }),
        Value::Tag(_, inner) => strings(inner, out, digits),
        _ => {}
    }
}

#[test]
fn a_thousand_credentials_disclose_initials_and_five_characters_only() {
    let tmp = tempfile::tempdir().unwrap();
    let now: Timestamp = "2021-06-02T10:00:00Z".parse().unwrap();
    let mut issuer = Issuer::init(
        tmp.path(),
        "Минздрав",
        "RU",
        None,
        "Europe/Moscow",
        "pass phrase 12",
        "2021-06-01T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(24);
    let mut checked = 0;
    for i in 0..1000 {
        let family = name(&mut rng, 2 + i % 2, "ов");
        let given = name(&mut rng, 3, "");
        let patronymic = name(&mut rng, 2, "вич");
        let (kind, number) = match i % 4 {
            // A foreign document: Latin names and a number of letters and digits.
            3 => ("foreign", format!("AB{:07}", rng.next_u32() % 10_000_000)),
            _ => (
                "passport",
                format!(
                    "{:04} {:06}",
                    rng.next_u32() % 10_000,
                    rng.next_u32() % 1_000_000
                ),
            ),
        };
        let json = format!(
            r#"{{"type": "vaccination",
                "holder": {{"family_name": "{family}", "given_name": "{given}",
                            "patronymic": "{patronymic}", "birth_date": "19{:02}-0{}-1{}",
                            "document": {{"kind": "{kind}", "number": "{number}"}}}},
                "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2,
                                 "date": "2021-06-01", "country": "RU",
                                 "administered_by": "ГБУЗ ГП № 2"}}}}"#,
            40 + i % 60,
            1 + i % 9,
            i % 10
        );
        let request = Request::from_json(&json).unwrap();
        let issued = issuer.issue(&request, now).unwrap();
        let text = &issued.credential;
        let cose = base45::decode(text.strip_prefix("PR2:").unwrap()).unwrap();
        let item: Value = ciborium::from_reader(cose.as_slice()).unwrap();
        let (mut found, mut numbers) = (Vec::new(), Vec::new());
        strings(&item, &mut found, &mut Vec::new());
        // Digits read from what the claims say of the holder (random ids, times and signatures
        // hold six-digit runs by chance).
        let Value::Array(cose_items) = &item else {
            panic!("not an array")
        };
        let Value::Bytes(payload) = &cose_items[2] else {
            panic!("no payload")
        };
        let claims: Value = ciborium::from_reader(payload.as_slice()).unwrap();
        let holder = claims
            .as_map()
            .and_then(|m| m.iter().find(|(k, _)| *k == Value::Integer((-1).into())))
            .map(|(_, v)| v.clone())
            .unwrap();
        strings(&holder, &mut Vec::new(), &mut numbers);
        let raw: String = cose.iter().map(|&c| windows_1251_char(c)).collect();
        found.push(raw);
        let upper: Vec<String> = found.iter().map(|s| s.to_uppercase()).collect();
        for n in [&family, &given, &patronymic] {
            let latin = translit::to_latin(n).unwrap();
            for s in &upper {
                assert!(
                    !s.contains(&n.to_uppercase()) && !s.contains(&latin),
                    "{n} in credential {i}: {s}"
                );
            }
        }
        // No run of the number longer than the five characters shown.
        let digits: Vec<char> = number.chars().filter(|c| *c != ' ').collect();
        for window in digits.windows(6) {
            let run: String = window.iter().collect();
            assert!(
                upper.iter().chain(&numbers).all(|s| !s.contains(&run)),
                "{run} of {number} in credential {i}"
            );
        }
        // What it does carry: the initials and the masked number a door is shown.
        let claims = propusk_spec::decode(text).unwrap();
        let holder = &claims.unverified_claims().holder;
        assert_eq!(holder.initials.letters().len(), 3);
        assert_eq!(holder.document.masked(), request.holder.document.masked());
        checked += 1;
    }
    assert_eq!(checked, 1000);
}
