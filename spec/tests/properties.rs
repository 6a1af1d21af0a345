//! Property tests: every credential round-trips through its text and verifies; no input, however
//! mangled, makes a decoder panic; ids catch every single typo.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;
use propusk_spec::*;

fn key() -> (SigningKey, KeyId) {
    (
        SigningKey::from_bytes(&[3; 32]),
        KeyId::new(&[1, 2, 3, 4]).unwrap(),
    )
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        "[А-ЩЁЭ-Я][а-яё]{1,20}",
        "[A-Z][a-z]{1,20}",
        "[А-ЩЭ-Я][а-я]{1,10}-[А-ЩЭ-Я][а-я]{1,10}",
    ]
    .prop_map(|s| Name::new(&s, None).unwrap())
}

fn date() -> impl Strategy<Value = Date> {
    (-25_567i64..=84_000).prop_map(|d| Date::from_days(d).unwrap())
}

fn instant() -> impl Strategy<Value = Timestamp> {
    (1_577_836_800i64..=4_102_444_800).prop_map(|t| Timestamp::from_unix(t).unwrap())
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        "[А-Я№][А-Яа-я№ ]{0,30}[а-я]",
        "[A-Z][A-Za-z0-9 .,]{0,40}[a-z]",
        "[a-z][a-zà-ÿ ]{0,20}[a-z]"
    ]
    .prop_map(|s| Text::new(&s).unwrap())
}

fn country() -> impl Strategy<Value = Country> {
    "[A-Z]{2}".prop_map(|s| s.parse().unwrap())
}

fn birth() -> impl Strategy<Value = BirthDate> {
    prop_oneof![
        (1900u16..=2199).prop_map(BirthDate::Year),
        (1900u16..=2199, 1u8..=12).prop_map(|(y, m)| BirthDate::YearMonth(y, m)),
        date().prop_map(BirthDate::Full),
    ]
}

fn document() -> impl Strategy<Value = Document> {
    prop_oneof![
        "[0-9]{4} [0-9]{6}".prop_map(|n| Document::new(DocumentKind::Passport, &n).unwrap()),
        "[A-Z0-9]{1,20}".prop_map(|n| Document::new(DocumentKind::Foreign, &n).unwrap()),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (0usize..39, 1u8..=9, 1u8..=9, date(), country(), text()).prop_map(
            |(p, dose, doses, date, country, by)| {
                Body::Vaccination(Vaccination {
                    product: VaccineProduct::new(VACCINE_PRODUCTS[p]).unwrap(),
                    dose,
                    doses,
                    date,
                    country,
                    administered_by: by,
                })
            }
        ),
        (date(), country(), text()).prop_map(|(first_positive, country, administered_by)| {
            Body::Recovery(Recovery {
                first_positive,
                country,
                administered_by,
            })
        }),
        (any::<bool>(), instant(), any::<bool>(), text(), country()).prop_map(
            |(pcr, sampled_at, neg, center, country)| {
                Body::Test(Test {
                    kind: if pcr {
                        TestKind::Pcr
                    } else {
                        TestKind::RapidAntigen
                    },
                    sampled_at,
                    result: if neg {
                        TestResult::Negative
                    } else {
                        TestResult::Positive
                    },
                    center,
                    country,
                })
            }
        ),
        (date(), 0i64..400, country()).prop_map(|(from, days, country)| Body::Exemption(
            Exemption {
                valid_from: from,
                valid_until: Date::from_days(from.days() + days).unwrap_or(from),
                country,
            }
        )),
        (instant(), 1i64..86_400).prop_map(|(from, secs)| Body::Pass(Pass {
            purpose: PassPurpose::Medical,
            valid_from: from,
            valid_until: from.plus_seconds(secs),
        })),
    ]
}

fn credential() -> impl Strategy<Value = Credential> {
    (
        any::<[u8; 12]>(),
        instant(),
        1i64..40_000_000,
        (
            name(),
            proptest::option::of(name()),
            proptest::option::of(name()),
            birth(),
            document(),
        ),
        body(),
    )
        .prop_map(
            |(id, issued_at, lifetime, (family, given, patronymic, birth_date, document), body)| {
                Credential {
                    id: CredentialId::from_bytes(id),
                    issued_at,
                    expires_at: issued_at.plus_seconds(lifetime),
                    holder: Holder {
                        family_name: family,
                        given_name: given,
                        patronymic,
                        birth_date,
                        document,
                    }
                    .door(),
                    body,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_credential_round_trips(c in credential()) {
        let (sk, kid) = key();
        let text = encode(&c, &kid, |d| sk.sign(d).to_bytes()).unwrap();
        prop_assert!(text.starts_with(PREFIX));
        let verified = decode(&text).unwrap().verify(&(kid, sk.verifying_key())).unwrap();
        prop_assert_eq!(verified.credential(), &c);
    }

    #[test]
    fn any_bit_flip_in_the_cose_bytes_is_refused(c in credential(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (sk, kid) = key();
        let mut cose = Encoder::sign(&c, &kid, |d| sk.sign(d).to_bytes()).unwrap();
        let i = at.index(cose.len());
        cose[i] ^= 1 << bit;
        let text = format!("{PREFIX}{}", base45::encode(&cose));
        let outcome = decode(&text).and_then(|u| u.verify(&(kid, sk.verifying_key())));
        prop_assert!(outcome.is_err());
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(s in "PR2:[0-9A-Z $%*+./:-]{0,600}") {
        let _ = decode(&s);
        let _ = decode_any(&s);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = decode(&format!("{PREFIX}{}", base45::encode(&bytes)));
        let mut z = vec![0x78, 0xDA];
        z.extend(&bytes);
        let _ = decode(&format!("{PREFIX}{}", base45::encode(&z)));
    }

    #[test]
    fn base45_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(base45::decode(&base45::encode(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn ids_round_trip_and_catch_one_typo(bytes in any::<[u8; 12]>(), pos in 0usize..21, with in 0usize..32) {
        let id = CredentialId::from_bytes(bytes);
        let text = id.to_string();
        prop_assert_eq!(text.parse::<CredentialId>().unwrap(), id);
        let replacement = char::from(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"[with]);
        let mut typo: Vec<char> = text.chars().collect();
        prop_assume!(typo[pos] != replacement);
        typo[pos] = replacement;
        let typo: String = typo.into_iter().collect();
        prop_assert!(typo.parse::<CredentialId>().is_err());
    }

    #[test]
    fn offline_links_carry_the_credential(c in credential()) {
        let (sk, kid) = key();
        let text = encode(&c, &kid, |d| sk.sign(d).to_bytes()).unwrap();
        let link = offline_link("https://portal.example", &c.id, &text).unwrap();
        let u = decode_any(&link).unwrap();
        prop_assert_eq!(u.unverified_claims(), &c);
    }
}
