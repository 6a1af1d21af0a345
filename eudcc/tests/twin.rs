//! The EU DCC twin: a country signing CA and a document signer made here, twins of each EU type
//! signed with it, checked against the official EU DCC JSON schema (`../shared/vectors/
//! eu-dcc-schema`, with its value sets) and verified the way the EU vectors are.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use p256::ecdsa::signature::Verifier;
use propusk_eudcc::twin::{TwinError, certificate, credential_id_of};
use propusk_eudcc::{
    DocumentSigner, Hc1Type, RevocationHash, SignError, SignerCertificate, cert, decode, sign,
    verify,
};
use propusk_spec::{CredentialId, CredentialType, examples};
use serde_json::Value;

const T2021: i64 = 1_609_459_200;
const YEAR: i64 = 365 * 86_400;

fn key(seed: u8) -> p256::ecdsa::SigningKey {
    cert::signing_key(&[seed; 32]).unwrap()
}

/// A CA and a document signer for vaccinations and tests (not recoveries).
fn signer() -> (Vec<u8>, Vec<u8>, DocumentSigner) {
    let (ca_key, dsc_key) = (key(7), key(9));
    let ca = cert::country_signing_ca(
        &ca_key,
        "RU",
        "Минздрав России",
        1,
        T2021,
        T2021 + 10 * YEAR,
    )
    .unwrap();
    let dsc = cert::document_signer(
        &ca_key,
        &ca,
        &dsc_key,
        &[Hc1Type::Vaccination, Hc1Type::Test],
        2,
        T2021,
        T2021 + 3 * YEAR,
    )
    .unwrap();
    let signer = DocumentSigner::new(&dsc_key.to_bytes(), &dsc).unwrap();
    (ca, dsc, signer)
}

#[test]
fn the_document_signer_is_signed_by_the_ca_and_limited_to_its_types() {
    use x509_cert::der::{Decode, Encode};
    let (ca, dsc, _) = signer();
    let ca_cert = x509_cert::Certificate::from_der(&ca).unwrap();
    let dsc_cert = x509_cert::Certificate::from_der(&dsc).unwrap();
    assert_eq!(
        dsc_cert.tbs_certificate.issuer,
        ca_cert.tbs_certificate.subject
    );
    let ca_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(
        ca_cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )
    .unwrap();
    let tbs = dsc_cert.tbs_certificate.to_der().unwrap();
    let signature = p256::ecdsa::DerSignature::try_from(dsc_cert.signature.raw_bytes()).unwrap();
    ca_key.verify(&tbs, &signature).unwrap();
    let parsed = SignerCertificate::from_der(&dsc).unwrap();
    assert!(parsed.allows(Hc1Type::Vaccination) && parsed.allows(Hc1Type::Test));
    assert!(!parsed.allows(Hc1Type::Recovery));
    assert_eq!(parsed.validity(), (T2021, T2021 + 3 * YEAR));
    let pem = cert::to_pem(&dsc).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(SignerCertificate::der(pem.as_bytes()).unwrap(), dsc);
}

#[test]
fn twins_verify_and_carry_the_credential() {
    let (_, dsc, signer) = signer();
    let trusted = [SignerCertificate::from_der(&dsc).unwrap()];
    for kind in [CredentialType::Vaccination, CredentialType::Test] {
        let c = examples::credential(kind, CredentialId::from_bytes([5; 12]));
        let json = twin_json(&c).unwrap();
        let signed = sign(
            &json,
            "RU",
            c.issued_at.unix(),
            c.expires_at.unix(),
            &signer,
        )
        .unwrap();
        assert!(signed.text.starts_with("HC1:"));
        let hc1 = decode(&signed.text).unwrap();
        assert_eq!(hc1.certificate, json);
        assert_eq!(hc1.issuer.as_deref(), Some("RU"));
        assert_eq!(hc1.expires_at, Some(c.expires_at.unix()));
        assert_eq!(
            hc1.key_id.as_deref(),
            Some(signer.certificate().key_id().as_slice())
        );
        assert_eq!(hc1.algorithm, Some(propusk_eudcc::ES256));
        verify(&hc1, &trusted).unwrap();
        let ci = hc1.uci().unwrap();
        assert_eq!(credential_id_of(ci), Some(c.id));
        // The three revocation hashes differ and are 128 bits each.
        let hashes: Vec<[u8; 16]> = RevocationHash::ALL
            .iter()
            .map(|h| h.of(ci, "RU", &signed.signature))
            .collect();
        assert!(hashes[0] != hashes[1] && hashes[1] != hashes[2]);
    }
    // A recovery is outside this signer's extended key usage.
    let r = examples::credential(CredentialType::Recovery, CredentialId::from_bytes([6; 12]));
    let json = twin_json(&r).unwrap();
    assert_eq!(
        sign(
            &json,
            "RU",
            r.issued_at.unix(),
            r.expires_at.unix(),
            &signer
        ),
        Err(SignError::Usage)
    );
    // Nothing outlasts its signer.
    let v = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([7; 12]),
    );
    let json = twin_json(&v).unwrap();
    assert_eq!(
        sign(&json, "RU", T2021, T2021 + 4 * YEAR, &signer),
        Err(SignError::OutlastsSigner)
    );
}

#[test]
fn types_without_an_eu_form_are_refused() {
    for kind in [CredentialType::Exemption, CredentialType::Pass] {
        let c = examples::credential(kind, CredentialId::from_bytes([1; 12]));
        assert!(matches!(twin_json(&c), Err(TwinError::NoEuType(_))));
    }
    assert_eq!(
        certificate(
            &examples::credential(
                CredentialType::Vaccination,
                CredentialId::from_bytes([1; 12])
            ),
            &examples::holder(),
            &"x".repeat(81),
            "RU",
            None
        ),
        Err(TwinError::Issuer)
    );
}

/// The official schema, when `../shared/vectors` is here.
fn schema() -> Option<(Value, std::path::PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    let text = std::fs::read_to_string(root.join("eu-dcc-schema/DCC.combined-schema.json")).ok()?;
    Some((
        serde_json::from_str(&text).unwrap(),
        root.join("eu-dcc-valuesets"),
    ))
}

#[test]
fn twins_of_every_eu_type_pass_the_official_schema() {
    let Some((schema, valuesets)) = schema() else {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "the EU DCC schema is missing from ../shared/vectors"
        );
        eprintln!("no ../shared/vectors/eu-dcc-schema here: the schema test did not run");
        return;
    };
    let validator = schema::Validator::new(&schema, &valuesets);
    // The schema's own examples pass, and broken twins do not: the validator validates.
    let examples_dir = valuesets.join("../eu-dcc-schema/examples");
    let mut examples_seen = 0;
    for kind in ["vaccination", "test", "recovery"] {
        for file in std::fs::read_dir(examples_dir.join(kind))
            .unwrap()
            .flatten()
        {
            let example: Value =
                serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
            let errors = validator.errors(example.get("JSON").unwrap_or(&example));
            assert!(errors.is_empty(), "{}: {errors:?}", file.path().display());
            examples_seen += 1;
        }
    }
    assert!(examples_seen >= 15, "{examples_seen} examples");
    let mut broken = certificate(
        &examples::credential(CredentialType::Test, CredentialId::from_bytes([3; 12])),
        &examples::holder(),
        "Минздрав России",
        "RU",
        None,
    )
    .unwrap();
    broken["nam"]["fnt"] = "ivanov".into();
    assert!(
        !validator.errors(&broken).is_empty(),
        "a lower-case fnt passed"
    );
    broken["nam"]["fnt"] = "IVANOV".into();
    broken["t"][0]["tt"] = "LP0000-0".into();
    assert!(
        !validator.errors(&broken).is_empty(),
        "an unknown test type passed"
    );
    for kind in [
        CredentialType::Vaccination,
        CredentialType::Test,
        CredentialType::Recovery,
    ] {
        let c = examples::credential(kind, CredentialId::from_bytes([4; 12]));
        let json = twin_json(&c).unwrap();
        let errors = validator.errors(&json);
        assert!(errors.is_empty(), "{kind:?}: {errors:?}\n{json:#}");
    }
}

/// A validator of exactly the JSON Schema (2020-12) keywords the EU DCC schema uses; any other
/// keyword fails the test rather than pass unchecked. `valueset-uri` is checked too: a code must
/// be in the named value set.
mod schema {
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    pub(crate) struct Validator<'a> {
        root: &'a Value,
        valuesets: PathBuf,
    }

    const ANNOTATIONS: &[&str] = &[
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "examples",
    ];

    impl<'a> Validator<'a> {
        pub(crate) fn new(root: &'a Value, valuesets: &Path) -> Self {
            Validator {
                root,
                valuesets: valuesets.to_path_buf(),
            }
        }

        pub(crate) fn errors(&self, instance: &Value) -> Vec<String> {
            let mut out = Vec::new();
            self.check(self.root, instance, "", &mut out);
            out
        }

        fn resolve(&self, reference: &str) -> &'a Value {
            let path = reference.strip_prefix("#/").expect("a local $ref");
            path.split('/').fold(self.root, |v, p| &v[p])
        }

        fn check(&self, schema: &'a Value, v: &Value, at: &str, out: &mut Vec<String>) {
            let Some(keywords) = schema.as_object() else {
                return;
            };
            for (k, arg) in keywords {
                let fail = |out: &mut Vec<String>, why: &str| out.push(format!("{at}: {k} {why}"));
                match k.as_str() {
                    k if ANNOTATIONS.contains(&k) => {}
                    "$ref" => self.check(self.resolve(arg.as_str().unwrap()), v, at, out),
                    "type" => {
                        let ok = match arg.as_str().unwrap() {
                            "object" => v.is_object(),
                            "array" => v.is_array(),
                            "string" => v.is_string(),
                            "integer" => v.is_i64() || v.is_u64(),
                            "number" => v.is_number(),
                            other => panic!("type {other}"),
                        };
                        if !ok {
                            fail(out, "mismatch");
                        }
                    }
                    "properties" => {
                        for (name, sub) in arg.as_object().unwrap() {
                            if let Some(value) = v.get(name) {
                                self.check(sub, value, &format!("{at}/{name}"), out);
                            }
                        }
                    }
                    "required" => {
                        for name in arg.as_array().unwrap() {
                            if v.is_object() && v.get(name.as_str().unwrap()).is_none() {
                                fail(out, &format!("{name} missing"));
                            }
                        }
                    }
                    "items" => {
                        for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                            self.check(arg, item, &format!("{at}/{i}"), out);
                        }
                    }
                    "minItems" | "maxItems" => {
                        if let Some(items) = v.as_array() {
                            let n = arg.as_u64().unwrap() as usize;
                            if (k == "minItems" && items.len() < n)
                                || (k == "maxItems" && items.len() > n)
                            {
                                fail(out, "violated");
                            }
                        }
                    }
                    "maxLength" => {
                        if v.as_str()
                            .is_some_and(|s| s.chars().count() as u64 > arg.as_u64().unwrap())
                        {
                            fail(out, "violated");
                        }
                    }
                    "minimum" => {
                        if v.as_f64().is_some_and(|n| n < arg.as_f64().unwrap()) {
                            fail(out, "violated");
                        }
                    }
                    "pattern" => {
                        let re = regex::Regex::new(arg.as_str().unwrap()).unwrap();
                        if v.as_str().is_some_and(|s| !re.is_match(s)) {
                            fail(out, "not matched");
                        }
                    }
                    "format" => {
                        let ok = v.as_str().is_none_or(|s| match arg.as_str().unwrap() {
                            "date" => s.parse::<propusk_spec::Date>().is_ok(),
                            "date-time" => s.parse::<propusk_spec::Timestamp>().is_ok(),
                            other => panic!("format {other}"),
                        });
                        if !ok {
                            fail(out, "not matched");
                        }
                    }
                    "anyOf" | "oneOf" => {
                        let passing = arg
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter(|sub| {
                                let mut inner = Vec::new();
                                self.check(sub, v, at, &mut inner);
                                inner.is_empty()
                            })
                            .count();
                        if passing == 0 || (k == "oneOf" && passing != 1) {
                            fail(out, &format!("{passing} of the alternatives pass"));
                        }
                    }
                    "valueset-uri" => {
                        let name = arg.as_str().unwrap().rsplit('/').next().unwrap();
                        // The rapid-test devices are published only as an example set: that
                        // annotation is not checked.
                        let Ok(text) = std::fs::read_to_string(self.valuesets.join(name)) else {
                            assert_eq!(name, "test-manf.json");
                            continue;
                        };
                        let set: Value = serde_json::from_str(&text).unwrap();
                        if v.as_str()
                            .is_some_and(|code| set["valueSetValues"].get(code).is_none())
                        {
                            fail(out, "not a code of the value set");
                        }
                    }
                    other => panic!("the validator does not know the keyword {other}"),
                }
            }
        }
    }
}

/// A rapid antigen test's twin carries its device (`ma`, TR-EU-0002 of the EU template rules):
/// one from the EU value set is written; none, or one the value set does not list, is refused.
#[test]
fn a_rapid_tests_twin_carries_its_device() {
    let mut c = examples::credential(CredentialType::Test, CredentialId::from_bytes([6; 12]));
    let propusk_spec::Body::Test(test) = &mut c.body else {
        panic!("not a test")
    };
    test.kind = propusk_spec::TestKind::RapidAntigen;
    let json = twin_json(&c).unwrap();
    assert_eq!(json["t"][0]["ma"], "1232");
    assert_eq!(json["t"][0]["tt"], "LP217198-3");
    assert_eq!(
        certificate(&c, &examples::holder(), "Минздрав России", "RU", None),
        Err(TwinError::Device(None))
    );
    let unknown = certificate(
        &c,
        &examples::holder(),
        "Минздрав России",
        "RU",
        Some("9999999"),
    );
    assert_eq!(unknown, Err(TwinError::Device(Some("9999999".into()))));
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("\"9999999\" is not in it")
    );
    // A PCR test has no device field.
    let pcr = examples::credential(CredentialType::Test, CredentialId::from_bytes([6; 12]));
    let json = twin_json(&pcr).unwrap();
    assert!(json["t"][0].get("ma").is_none());
}

/// The twin's certificate JSON of `c` for the example holder, by the Russian ministry, with the
/// rapid test device 1232.
fn twin_json(c: &propusk_spec::Credential) -> Result<serde_json::Value, TwinError> {
    certificate(
        c,
        &examples::holder(),
        "Минздрав России",
        "RU",
        Some("1232"),
    )
}
