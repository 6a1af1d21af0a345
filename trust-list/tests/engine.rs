//! The engine against each key status, each rule at its exact boundaries (across a DST change),
//! revocation, and each attack on trust data that the bundle itself can stop.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::{Signer, SigningKey};
use propusk_spec::{
    Body, Credential, CredentialId, CredentialType, KeyId, Timestamp, encode, examples,
};
use propusk_trust_list::*;

const T2020: i64 = 1_577_836_800;
const T2030: i64 = 1_893_456_000;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct World {
    root: SigningKey,
    signer: SigningKey,
    kid: KeyId,
}

impl World {
    fn new() -> Self {
        let signer = SigningKey::from_bytes(&[2; 32]);
        let kid = key_id_of(&signer.verifying_key());
        World {
            root: SigningKey::from_bytes(&[1; 32]),
            signer,
            kid,
        }
    }

    fn key(&self, status: KeyStatus) -> TrustedKey {
        TrustedKey {
            key_id: self.kid.as_bytes().to_vec(),
            public_key: self.signer.verifying_key().as_bytes().to_vec(),
            issuer: "Минздрав России".into(),
            country: "RU".into(),
            not_before: T2020,
            not_after: T2030,
            types: CredentialType::ALL.to_vec(),
            status,
        }
    }

    fn content(
        &self,
        keys: Vec<TrustedKey>,
        revocations: RevocationSet,
        tz: &str,
    ) -> BundleContent {
        BundleContent {
            jurisdiction: "RU".into(),
            sequence: 1,
            issued_at: T2020,
            soft_expiry: T2030 - 86_400,
            hard_expiry: T2030,
            keys,
            revocations,
            rules: RuleSet::standard("RU", tz),
            eu_signers: vec![],
            eu: Default::default(),
        }
    }

    fn bundle(&self, content: &BundleContent) -> Bundle {
        let bytes = sign_bundle(content, &key_id_of(&self.root.verifying_key()), |d| {
            self.root.sign(d).to_bytes()
        })
        .unwrap();
        Bundle::open(&bytes, &self.root.verifying_key()).unwrap()
    }

    fn text(&self, c: &Credential) -> String {
        encode(c, &self.kid, |d| self.signer.sign(d).to_bytes()).unwrap()
    }
}

fn credential(kind: CredentialType) -> Credential {
    examples::credential(kind, CredentialId::from_bytes([0x11; 12]))
}

#[test]
fn key_statuses() {
    let w = World::new();
    let c = credential(CredentialType::Vaccination); // issued 2021-06-01T12:00Z
    let text = w.text(&c);
    let at = ts("2021-07-01T00:00:00Z");
    let verdict = |status| {
        let b = w.bundle(&w.content(
            vec![w.key(status)],
            RevocationSet::default(),
            "Europe/Moscow",
        ));
        let r = check(Some(&b), &text, at);
        (r.verdict, r.reason, r.checks.signature, r.checks.key_usage)
    };
    use CheckOutcome::{Failed, Ok as Passed};
    assert_eq!(
        verdict(KeyStatus::Active),
        (Verdict::Valid, None, Passed, Passed)
    );
    assert_eq!(
        verdict(KeyStatus::Next),
        (Verdict::Valid, None, Passed, Passed)
    );
    let before = c.issued_at.unix() - 1;
    let after = c.issued_at.unix() + 1;
    assert_eq!(
        verdict(KeyStatus::Retired { since: after }),
        (Verdict::Valid, None, Passed, Passed)
    );
    assert_eq!(
        verdict(KeyStatus::Retired { since: before }),
        (Verdict::Invalid, Some(Reason::KeyRetired), Passed, Failed)
    );
    assert_eq!(
        verdict(KeyStatus::Compromised { since: after }),
        (Verdict::Valid, None, Passed, Passed)
    );
    assert_eq!(
        verdict(KeyStatus::Compromised {
            since: c.issued_at.unix()
        }),
        (Verdict::Invalid, Some(Reason::KeyRevoked), Passed, Failed)
    );

    let mut narrow = w.key(KeyStatus::Active);
    narrow.types = vec![CredentialType::Test];
    let b = w.bundle(&w.content(vec![narrow], RevocationSet::default(), "Europe/Moscow"));
    assert_eq!(check(Some(&b), &text, at).reason, Some(Reason::KeyUsage));

    let mut late = w.key(KeyStatus::Active);
    late.not_before = c.issued_at.unix() + 1;
    let b = w.bundle(&w.content(vec![late], RevocationSet::default(), "Europe/Moscow"));
    assert_eq!(check(Some(&b), &text, at).reason, Some(Reason::KeyUsage));

    let b = w.bundle(&w.content(vec![], RevocationSet::default(), "Europe/Moscow"));
    let r = check(Some(&b), &text, at);
    assert_eq!(
        (r.verdict, r.reason),
        (Verdict::Unknown, Some(Reason::UnknownKey))
    );
    assert!(r.holder.is_none(), "nothing unauthenticated is shown");
}

/// The second before `until` is valid, `until` itself is not.
fn assert_boundary(w: &World, b: &Bundle, c: &Credential, until: &str) {
    let text = w.text(c);
    let until = ts(until);
    let before = check(Some(b), &text, until.plus_seconds(-1));
    assert_eq!(
        before.verdict,
        Verdict::Valid,
        "{:?} {:?}",
        before.reason,
        before.detail
    );
    assert_eq!(before.valid_until, Some(until));
    let at = check(Some(b), &text, until);
    assert_eq!(at.verdict, Verdict::Invalid);
    assert_eq!(at.reason, Some(Reason::Expired));
    assert_eq!(
        at.checks.signature,
        CheckOutcome::Ok,
        "the signature is still reported ok"
    );
}

#[test]
fn rules_at_their_boundaries_in_the_jurisdictions_time_zone() {
    let w = World::new();
    let moscow = w.bundle(&w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::default(),
        "Europe/Moscow",
    ));
    let long = |mut c: Credential| {
        c.expires_at = Timestamp::from_unix(T2030 - 1).unwrap();
        c
    };
    // Vaccination 2021-06-01 + 365 days: local midnight of 2022-06-01 in Moscow (UTC+3).
    assert_boundary(
        &w,
        &moscow,
        &long(credential(CredentialType::Vaccination)),
        "2022-05-31T21:00:00Z",
    );
    // Recovery 2021-10-04 + 180 days = 2022-04-02, Moscow midnight.
    assert_boundary(
        &w,
        &moscow,
        &long(credential(CredentialType::Recovery)),
        "2022-04-01T21:00:00Z",
    );
    // PCR sampled 2021-11-20T06:00Z + 72 h, whatever the zone.
    assert_boundary(
        &w,
        &moscow,
        &credential(CredentialType::Test),
        "2021-11-23T06:00:00Z",
    );
    // Exemption 2021-11-01 to 2022-04-30 inclusive: until Moscow midnight of 2022-05-01.
    assert_boundary(
        &w,
        &moscow,
        &credential(CredentialType::Exemption),
        "2022-04-30T21:00:00Z",
    );

    // Across a DST change: in Berlin, 2021-03-28 begins at 00:00 CET (UTC+1), 2021-06-01 at
    // 00:00 CEST (UTC+2).
    let berlin = w.bundle(&w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::default(),
        "Europe/Berlin",
    ));
    let mut winter = long(credential(CredentialType::Vaccination));
    if let Body::Vaccination(v) = &mut winter.body {
        v.date = "2020-03-28".parse().unwrap();
    }
    winter.issued_at = ts("2020-03-28T12:00:00Z");
    assert_boundary(&w, &berlin, &winter, "2021-03-27T23:00:00Z");
    let mut summer = long(credential(CredentialType::Vaccination));
    if let Body::Vaccination(v) = &mut summer.body {
        v.date = "2020-06-01".parse().unwrap();
    }
    summer.issued_at = ts("2020-06-01T12:00:00Z");
    assert_boundary(&w, &berlin, &summer, "2021-05-31T22:00:00Z");
}

#[test]
fn rules_refuse_what_they_must() {
    let w = World::new();
    let b = w.bundle(&w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::default(),
        "Europe/Moscow",
    ));
    let at = ts("2021-11-20T10:00:00Z");
    let mut first_dose = credential(CredentialType::Vaccination);
    if let Body::Vaccination(v) = &mut first_dose.body {
        v.dose = 1;
    }
    let r = check(Some(&b), &w.text(&first_dose), ts("2021-07-01T00:00:00Z"));
    assert_eq!(
        (r.reason, r.checks.rules),
        (Some(Reason::RuleFailed), CheckOutcome::Failed)
    );

    let mut light = first_dose.clone();
    if let Body::Vaccination(v) = &mut light.body {
        v.product = propusk_spec::VaccineProduct::new("Sputnik-Light").unwrap();
    }
    assert_eq!(
        check(Some(&b), &w.text(&light), ts("2021-07-01T00:00:00Z")).verdict,
        Verdict::Valid
    );

    let mut positive = credential(CredentialType::Test);
    if let Body::Test(t) = &mut positive.body {
        t.result = propusk_spec::TestResult::Positive;
    }
    assert_eq!(
        check(Some(&b), &w.text(&positive), at).reason,
        Some(Reason::RuleFailed)
    );

    let early = credential(CredentialType::Test);
    let r = check(Some(&b), &w.text(&early), ts("2021-11-20T05:00:00Z"));
    assert_eq!(r.reason, Some(Reason::NotYetValid));
}

#[test]
fn revocation_of_credentials_and_keys() {
    let w = World::new();
    let c = credential(CredentialType::Vaccination);
    let at = ts("2021-07-01T00:00:00Z");
    let others = (0u8..200).map(|i| (CredentialId::from_bytes([i; 12]), c.expires_at));
    let set = RevocationSet::build(others.chain([(c.id, c.expires_at)]), vec![], at);
    let b = w.bundle(&w.content(vec![w.key(KeyStatus::Active)], set, "Europe/Moscow"));
    let r = check(Some(&b), &w.text(&c), at);
    assert_eq!(
        (r.verdict, r.reason, r.checks.revocation),
        (
            Verdict::Invalid,
            Some(Reason::Revoked),
            CheckOutcome::Failed
        )
    );
    let mut fresh = c.clone();
    fresh.id = CredentialId::from_bytes([0xF0; 12]);
    assert_eq!(check(Some(&b), &w.text(&fresh), at).verdict, Verdict::Valid);

    let bulk = vec![BulkRevocation {
        key_id: w.kid.as_bytes().to_vec(),
        before: c.issued_at.unix() + 1,
    }];
    let b = w.bundle(&w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::build([], bulk, at),
        "Europe/Moscow",
    ));
    assert_eq!(
        check(Some(&b), &w.text(&c), at).reason,
        Some(Reason::KeyRevoked)
    );

    // Partitions of months that have passed are left out when building.
    let old = RevocationSet::build([(c.id, ts("2020-01-15T00:00:00Z"))], vec![], at);
    assert!(old.is_empty());
}

#[test]
fn trust_data_state_and_attacks_on_the_bundle() {
    let w = World::new();
    let c = credential(CredentialType::Vaccination);
    let text = w.text(&c);
    let mut content = w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::default(),
        "Europe/Moscow",
    );
    content.soft_expiry = ts("2021-07-01T00:00:00Z").unix();
    content.hard_expiry = ts("2021-08-01T00:00:00Z").unix();
    let b = w.bundle(&content);
    assert_eq!(
        check(Some(&b), &text, ts("2021-06-15T00:00:00Z")).trust_state,
        TrustState::Fresh
    );
    let stale = check(Some(&b), &text, ts("2021-07-15T00:00:00Z"));
    assert_eq!(
        (stale.verdict, stale.trust_state),
        (Verdict::Valid, TrustState::Stale)
    );
    let expired = check(Some(&b), &text, ts("2021-08-01T00:00:00Z"));
    assert_eq!(
        (expired.verdict, expired.reason),
        (Verdict::Unknown, Some(Reason::TrustDataExpired))
    );
    let none = check(None, &text, ts("2021-06-15T00:00:00Z"));
    assert_eq!(
        (none.verdict, none.reason, none.checks.decode),
        (
            Verdict::Unknown,
            Some(Reason::TrustDataMissing),
            CheckOutcome::Ok
        )
    );

    let root_kid = key_id_of(&w.root.verifying_key());
    // Signed by another key under the root's key id.
    let forged = sign_bundle(&content, &root_kid, |d| w.signer.sign(d).to_bytes()).unwrap();
    assert_eq!(
        Bundle::open(&forged, &w.root.verifying_key()).err(),
        Some(TrustError::BadSignature)
    );
    // Signed by another key under its own id.
    let other = sign_bundle(&content, &w.kid, |d| w.signer.sign(d).to_bytes()).unwrap();
    assert!(matches!(
        Bundle::open(&other, &w.root.verifying_key()),
        Err(TrustError::WrongRoot(_))
    ));
    // A byte changed after signing.
    let mut bytes = sign_bundle(&content, &root_kid, |d| w.root.sign(d).to_bytes()).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    assert!(Bundle::open(&bytes, &w.root.verifying_key()).is_err());
    assert!(Bundle::open(b"not a bundle", &w.root.verifying_key()).is_err());

    // Two keys under one id.
    let mut twin = w.key(KeyStatus::Active);
    twin.public_key = SigningKey::from_bytes(&[3; 32])
        .verifying_key()
        .as_bytes()
        .to_vec();
    let collide = w.content(
        vec![w.key(KeyStatus::Active), twin],
        RevocationSet::default(),
        "Europe/Moscow",
    );
    let bytes = sign_bundle(&collide, &root_kid, |d| w.root.sign(d).to_bytes()).unwrap();
    assert!(matches!(
        Bundle::open(&bytes, &w.root.verifying_key()),
        Err(TrustError::KeyIdCollision(_))
    ));

    // A time zone that does not exist.
    let nowhere = w.content(vec![], RevocationSet::default(), "Mars/Olympus_Mons");
    let bytes = sign_bundle(&nowhere, &root_kid, |d| w.root.sign(d).to_bytes()).unwrap();
    assert!(matches!(
        Bundle::open(&bytes, &w.root.verifying_key()),
        Err(TrustError::TimeZone(_))
    ));
}

#[test]
fn broken_input_gets_its_own_reason() {
    let w = World::new();
    let b = w.bundle(&w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::default(),
        "Europe/Moscow",
    ));
    let at = ts("2021-07-01T00:00:00Z");
    let text = w.text(&credential(CredentialType::Vaccination));
    let cases = [
        ("", Verdict::Invalid, "not_a_credential"),
        (
            "https://example.com/some/page",
            Verdict::Invalid,
            "not_a_credential",
        ),
        (&text[..text.len() / 2], Verdict::Invalid, "corrupt"),
        ("HC1:NCFOXN%TS3DH", Verdict::Invalid, "not_a_credential"),
    ];
    for (input, verdict, reason) in cases {
        let r = check(Some(&b), input, at);
        assert_eq!(
            (r.verdict, r.reason.map(Reason::code)),
            (verdict, Some(reason)),
            "{input:?}"
        );
        assert_eq!(r.checks.decode, CheckOutcome::Failed);
    }
    let short =
        propusk_spec::short_link("https://portal.example", &CredentialId::from_bytes([1; 12]))
            .unwrap();
    let r = check(Some(&b), &short, at);
    assert_eq!(
        (r.verdict, r.reason),
        (Verdict::Unknown, Some(Reason::OnlineOnly))
    );
}

#[test]
fn a_delta_is_proportional_to_the_change_and_leads_exactly_to_the_new_bundle() {
    let w = World::new();
    let at = ts("2021-07-01T00:00:00Z");
    let exp = ts("2022-06-01T00:00:00Z");
    let ids = |range: std::ops::Range<u32>| {
        range.map(move |i| {
            let mut b = [0u8; 12];
            b[..4].copy_from_slice(&i.to_be_bytes());
            (CredentialId::from_bytes(b), exp)
        })
    };
    let mut old = w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::build(ids(0..100_000), vec![], at),
        "Europe/Moscow",
    );
    old.sequence = 1;
    let mut new = w.content(
        vec![w.key(KeyStatus::Active)],
        RevocationSet::build(ids(0..101_000), vec![], at),
        "Europe/Moscow",
    );
    new.sequence = 2;
    let delta = Delta::between(&old, &new).unwrap().unwrap();
    let kid = key_id_of(&w.root.verifying_key());
    let delta_bytes = delta.sign(&kid, |d| w.root.sign(d).to_bytes()).unwrap();
    let full_bytes = sign_bundle(&new, &kid, |d| w.root.sign(d).to_bytes()).unwrap();
    assert!(
        delta_bytes.len() * 50 < full_bytes.len(),
        "delta {} B, full {} B",
        delta_bytes.len(),
        full_bytes.len()
    );
    // 1,000 entries: at most 9 bytes each plus the keys and rules.
    assert!(
        delta_bytes.len() < 1000 * 9 + 2000,
        "delta {} B",
        delta_bytes.len()
    );
    let opened = Delta::open(&delta_bytes, &w.root.verifying_key()).unwrap();
    assert_eq!(opened.apply(&old).unwrap(), new);
    // Applied to anything else, it is refused.
    let mut other = old.clone();
    other.revocations = RevocationSet::build(ids(0..99_999), vec![], at);
    assert!(opened.apply(&other).is_err());
    // Revocations that vanish from a live partition cannot be a delta.
    assert_eq!(
        Delta::between(&new, &{
            let mut n = old.clone();
            n.sequence = 3;
            n
        })
        .unwrap(),
        None
    );
}

/// A trust list takes only keys a strict verifier can use: a small-order key or a
/// non-canonical encoding is refused as malformed, whoever signed the bundle.
#[test]
fn weak_and_non_canonical_keys_are_malformed() {
    let w = World::new();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut identity_plus_p = [0xFF; 32];
    identity_plus_p[0] = 0xEE;
    identity_plus_p[31] = 0x7F;
    for public in [identity, identity_plus_p] {
        let mut key = w.key(KeyStatus::Active);
        key.public_key = public.to_vec();
        assert!(key.verifying_key().is_none());
        assert!(matches!(
            TrustList::new(vec![key]),
            Err(propusk_trust_list::TrustError::MalformedKey(0))
        ));
    }
    assert!(TrustList::new(vec![w.key(KeyStatus::Active)]).is_ok());
}

/// Two issuers' trust data side by side: RU (the verifier's own) and BY, each key under the
/// same short key id on purpose.
mod two_issuers {
    use super::*;

    const KID: [u8; 4] = [9, 9, 9, 9];

    fn key(signer: &SigningKey, issuer: &str, country: &str) -> TrustedKey {
        TrustedKey {
            key_id: KID.to_vec(),
            public_key: signer.verifying_key().as_bytes().to_vec(),
            issuer: issuer.into(),
            country: country.into(),
            not_before: T2020,
            not_after: T2030,
            types: CredentialType::ALL.to_vec(),
            status: KeyStatus::Active,
        }
    }

    fn bundle(
        root: &SigningKey,
        country: &str,
        keys: Vec<TrustedKey>,
        revoked: &[&Credential],
        rules: RuleSet,
    ) -> Bundle {
        bundle_until(T2030, root, country, keys, revoked, rules)
    }

    fn bundle_until(
        hard_expiry: i64,
        root: &SigningKey,
        country: &str,
        keys: Vec<TrustedKey>,
        revoked: &[&Credential],
        rules: RuleSet,
    ) -> Bundle {
        let content = BundleContent {
            jurisdiction: country.into(),
            sequence: 1,
            issued_at: T2020,
            soft_expiry: hard_expiry - 86_400,
            hard_expiry,
            keys,
            revocations: RevocationSet::build(
                revoked.iter().map(|c| (c.id, c.expires_at)),
                vec![],
                Timestamp::from_unix(T2020).unwrap(),
            ),
            rules,
            eu_signers: vec![],
            eu: Default::default(),
        };
        let bytes = sign_bundle(&content, &key_id_of(&root.verifying_key()), |d| {
            root.sign(d).to_bytes()
        })
        .unwrap();
        Bundle::open(&bytes, &root.verifying_key()).unwrap()
    }

    fn text(signer: &SigningKey, c: &Credential) -> String {
        encode(c, &KeyId::new(&KID).unwrap(), |d| signer.sign(d).to_bytes()).unwrap()
    }

    #[test]
    fn a_key_id_collision_is_settled_by_the_signature() {
        let (ru_root, by_root) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[3; 32]),
        );
        let (ru_key, by_key) = (
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[4; 32]),
        );
        let ru_c = examples::credential(
            CredentialType::Vaccination,
            CredentialId::from_bytes([1; 12]),
        );
        let by_c = examples::credential(
            CredentialType::Vaccination,
            CredentialId::from_bytes([2; 12]),
        );
        let rules = |c: &str| RuleSet::standard(c, "Europe/Moscow");
        let ru = bundle(
            &ru_root,
            "RU",
            vec![key(&ru_key, "Минздрав России", "RU")],
            &[],
            rules("RU"),
        );
        // BY revokes a credential with RU's credential's id: it must not touch RU's.
        let by = bundle(
            &by_root,
            "BY",
            vec![key(&by_key, "Минздрав Беларуси", "BY")],
            &[&ru_c],
            rules("BY"),
        );
        let at = ts("2021-07-01T00:00:00Z");
        let reports = check_among(
            Some(&ru),
            &[&by],
            &[&text(&ru_key, &ru_c), &text(&by_key, &by_c)],
            at,
        );
        assert_eq!(
            reports[0].verdict,
            Verdict::Valid,
            "{:?}",
            reports[0].detail
        );
        assert_eq!(reports[0].issuer.as_ref().unwrap().country, "RU");
        assert_eq!(
            reports[1].verdict,
            Verdict::Valid,
            "{:?}",
            reports[1].detail
        );
        assert_eq!(reports[1].issuer.as_ref().unwrap().country, "BY");
        // Signed by neither: a bad signature, not one issuer's word for it.
        let stranger = SigningKey::from_bytes(&[5; 32]);
        let forged = check_among(Some(&ru), &[&by], &[&text(&stranger, &by_c)], at);
        assert_eq!(forged[0].reason, Some(Reason::BadSignature));
        assert_eq!(forged[0].issuer, None);
    }

    #[test]
    fn one_root_cannot_vouch_again_for_another_roots_key() {
        let (ru_root, by_root) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[3; 32]),
        );
        let ru_key = SigningKey::from_bytes(&[2; 32]);
        let c = examples::credential(
            CredentialType::Vaccination,
            CredentialId::from_bytes([1; 12]),
        );
        let rules = |c: &str| RuleSet::standard(c, "Europe/Moscow");
        // RU revoked the credential; BY's bundle lists RU's key as its own, with no revocation.
        let ru = bundle(
            &ru_root,
            "RU",
            vec![key(&ru_key, "Минздрав России", "RU")],
            &[&c],
            rules("RU"),
        );
        let by = bundle(
            &by_root,
            "BY",
            vec![key(&ru_key, "Минздрав Беларуси", "BY")],
            &[],
            rules("BY"),
        );
        let at = ts("2021-07-01T00:00:00Z");
        let r = check_among(Some(&ru), &[&by], &[&text(&ru_key, &c)], at).remove(0);
        assert_eq!(r.reason, Some(Reason::Revoked));
        assert_eq!(r.issuer.unwrap().country, "RU");
        // Nor can BY's bundle make an RU credential valid once RU is not trusted besides BY:
        // with BY alone the key is BY's word (its own trust decision), named as BY's.
        let alone = check_among(Some(&by), &[], &[&text(&ru_key, &c)], at).remove(0);
        assert_eq!(alone.issuer.unwrap().country, "BY");
        // With RU's own trust data past its hard expiry, BY's listing of RU's key does not
        // stand in for it (a verifier at home in KZ, trusting RU, then BY).
        let kz = bundle(
            &SigningKey::from_bytes(&[6; 32]),
            "KZ",
            vec![],
            &[],
            rules("KZ"),
        );
        let ru_expired = bundle_until(
            ts("2021-06-30T00:00:00Z").unix(),
            &ru_root,
            "RU",
            vec![key(&ru_key, "Минздрав России", "RU")],
            &[],
            rules("RU"),
        );
        let r = check_among(Some(&kz), &[&ru_expired, &by], &[&text(&ru_key, &c)], at).remove(0);
        assert_eq!(r.reason, Some(Reason::TrustDataExpired));
        // Whichever root was trusted first: BY trusted before RU, or BY at home, cannot
        // override RU's revocation of a credential signed by RU's key (review 3, F7).
        let r = check_among(Some(&kz), &[&by, &ru], &[&text(&ru_key, &c)], at).remove(0);
        assert_eq!(r.reason, Some(Reason::Revoked), "{:?}", r.detail);
        assert_eq!(r.issuer.unwrap().country, "RU");
        let r = check_among(Some(&by), &[&ru], &[&text(&ru_key, &c)], at).remove(0);
        assert_eq!(r.reason, Some(Reason::Revoked), "{:?}", r.detail);
    }

    #[test]
    fn the_home_rules_decide_for_every_issuer() {
        let (ru_root, by_root) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[3; 32]),
        );
        let by_key = SigningKey::from_bytes(&[4; 32]);
        let c = examples::credential(
            CredentialType::Vaccination,
            CredentialId::from_bytes([2; 12]),
        );
        let mut strict = RuleSet::standard("RU", "Europe/Moscow");
        // The home jurisdiction accepts no vaccination at all; BY's own rules would.
        strict
            .rules
            .retain(|r| r.rule.credential_type() != CredentialType::Vaccination);
        let ru = bundle(&ru_root, "RU", vec![], &[], strict);
        let by = bundle(
            &by_root,
            "BY",
            vec![key(&by_key, "Минздрав Беларуси", "BY")],
            &[],
            RuleSet::standard("BY", "Europe/Minsk"),
        );
        let at = ts("2021-07-01T00:00:00Z");
        let r = check_among(Some(&ru), &[&by], &[&text(&by_key, &c)], at).remove(0);
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.checks.rules, CheckOutcome::Failed);
        let own = check_among(Some(&by), &[], &[&text(&by_key, &c)], at).remove(0);
        assert_eq!(own.verdict, Verdict::Valid, "{:?}", own.detail);
    }
}

/// A second version without a PCR rule: from its first day PCR tests have no rule at all
/// (a version is in force whole), before it the first version judges; a refusal by the
/// second names its first day.
#[test]
fn a_version_is_in_force_whole_from_its_first_day() {
    let mut set = RuleSet::standard("RU", "Europe/Moscow");
    let second: Vec<RuleEntry> = set
        .rules
        .iter()
        .filter(|e| {
            !matches!(
                e.rule,
                Rule::Test {
                    kind: propusk_spec::TestKind::Pcr,
                    ..
                }
            )
        })
        .map(|e| RuleEntry {
            effective_from: "2021-11-21".into(),
            rule: e.rule.clone(),
        })
        .collect();
    set.rules.extend(second);
    let rules = Rules::new(set).unwrap_or_else(|e| panic!("{e}"));
    // Sampled 2021-11-20 06:00 UTC.
    let test = propusk_spec::examples::credential(
        propusk_spec::CredentialType::Test,
        propusk_spec::CredentialId::from_bytes([1; 12]),
    );
    let at = |s: &str| {
        s.parse::<propusk_spec::Timestamp>()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let before = rules.evaluate(&test, at("2021-11-20T20:00:00Z"));
    assert_eq!((before.result, before.changed_since), (Ok(()), None));
    // 2021-11-21 00:00 in Moscow.
    let after = rules.evaluate(&test, at("2021-11-20T21:00:00Z"));
    assert_eq!(after.result, Err(RuleFailure::NoRule));
    assert_eq!(after.changed_since, propusk_spec::Date::new(2021, 11, 21));
    assert_eq!(
        rules.version_at(at("2021-11-20T21:00:00Z")),
        Some((2, "2021-11-21".to_owned()))
    );
    assert_eq!(
        rules.next_version_at(at("2021-11-20T20:59:59Z")),
        Some((2, "2021-11-21".to_owned()))
    );
    assert_eq!(rules.next_version_at(at("2021-11-20T21:00:00Z")), None);
}
