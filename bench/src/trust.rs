//! The trust data the benchmarks judge against.

use ed25519_dalek::SigningKey;
use propusk_spec::CredentialType;

/// Trust data at `at` with `signer` as the one active key and `revocations`.
pub(crate) fn bundle_content(
    signer: &SigningKey,
    at: propusk_spec::Timestamp,
    revocations: propusk_trust_list::RevocationSet,
) -> propusk_trust_list::BundleContent {
    use propusk_trust_list::{BundleContent, KeyStatus, RuleSet, TrustedKey, signing_key_id_of};
    BundleContent {
        jurisdiction: "RU".into(),
        sequence: 1,
        issued_at: at.unix() - 3600,
        soft_expiry: at.unix() + 86_400,
        hard_expiry: at.unix() + 7 * 86_400,
        keys: vec![TrustedKey {
            key_id: signing_key_id_of(&signer.verifying_key())
                .as_bytes()
                .to_vec(),
            public_key: signer.verifying_key().as_bytes().to_vec(),
            issuer: "Минздрав России".into(),
            country: "RU".into(),
            not_before: 0,
            not_after: at.unix() + 3 * 365 * 86_400,
            types: CredentialType::ALL.to_vec(),
            status: KeyStatus::Active,
        }],
        revocations,
        rules: RuleSet {
            // A door policy, for the figure of a check by one.
            policies: vec![propusk_trust_list::PolicyEntry {
                effective_from: "2020-01-01".into(),
                policy: propusk_trust_list::Policy {
                    name: "qr-regime".into(),
                    admit: vec![
                        vec![CredentialType::Vaccination],
                        vec![CredentialType::Recovery],
                        vec![CredentialType::Exemption, CredentialType::Test],
                    ],
                    min_age_years: None,
                    booster_after_days: None,
                    products: None,
                },
            }],
            ..RuleSet::standard("RU", "Europe/Moscow")
        },
        eu_signers: vec![],
        eu: Default::default(),
    }
}
