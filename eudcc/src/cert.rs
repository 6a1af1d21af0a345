//! An issuer's own EU DCC certificates: a country signing CA (self-signed X.509, ECDSA P-256)
//! and document signer certificates it signs, each with the EU extended key usage OIDs of the
//! types it may sign. They are what a gateway is onboarded with and what verifiers check HC1
//! signatures against.

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use thiserror::Error;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Encode, EncodePem};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use crate::Hc1Type;
use crate::ec::{CertSigner, EcSign};
use crate::trust::eku_oid;

/// A P-256 signing key (zeroized on drop).
pub use p256::ecdsa::SigningKey as EcKey;

/// Why a certificate could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot make the certificate: {0}")]
pub struct CertError(String);

fn err(e: impl std::fmt::Display) -> CertError {
    CertError(e.to_string())
}

/// A P-256 key from 32 random bytes (`None` when they are not a valid scalar: draw again).
pub fn signing_key(bytes: &[u8; 32]) -> Option<p256::ecdsa::SigningKey> {
    p256::ecdsa::SigningKey::from_slice(bytes).ok()
}

/// Who a certificate names: country, organisation, common name. Values are quoted for the
/// distinguished-name syntax.
fn name(country: &str, organisation: &str, common: &str) -> Result<Name, CertError> {
    let escape = |v: &str| {
        v.chars()
            .flat_map(|c| {
                let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' | '#');
                special.then_some('\\').into_iter().chain([c])
            })
            .collect::<String>()
    };
    Name::from_str(&format!(
        "CN={},O={},C={}",
        escape(common),
        escape(organisation),
        escape(country)
    ))
    .map_err(err)
}

fn validity(not_before: i64, not_after: i64) -> Result<Validity, CertError> {
    if not_after <= not_before {
        return Err(err(
            "a certificate whose validity ends before it starts (its CA's has ended?)",
        ));
    }
    let at = |t: i64| {
        let secs = u64::try_from(t).map_err(|_| err("a time before 1970"))?;
        Time::try_from(UNIX_EPOCH + Duration::from_secs(secs)).map_err(err)
    };
    Ok(Validity {
        not_before: at(not_before)?,
        not_after: at(not_after)?,
    })
}

fn spki(key: &dyn EcSign) -> Result<SubjectPublicKeyInfoOwned, CertError> {
    SubjectPublicKeyInfoOwned::from_key(crate::ec::public(key).map_err(err)?).map_err(err)
}

/// A self-signed country signing CA certificate (DER) for `country`, named after the
/// authority, valid over the window (Unix seconds).
pub fn country_signing_ca(
    key: &dyn EcSign,
    country: &str,
    authority: &str,
    serial: u64,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, CertError> {
    let subject = name(country, authority, &format!("{authority} CSCA"))?;
    let signer = CertSigner::new(key).map_err(err)?;
    let builder = CertificateBuilder::new(
        Profile::Root,
        SerialNumber::from(serial),
        validity(not_before, not_after)?,
        subject,
        spki(key)?,
        &signer,
    )
    .map_err(err)?;
    builder
        .build::<p256::ecdsa::DerSignature>()
        .map_err(err)?
        .to_der()
        .map_err(err)
}

/// A document signer certificate (DER) for `key`, signed by the CA, with the EU extended key
/// usage OIDs of `types`. Only `key`'s public half is used.
#[allow(clippy::too_many_arguments)]
pub fn document_signer(
    ca_key: &dyn EcSign,
    ca_der: &[u8],
    key: &dyn EcSign,
    types: &[Hc1Type],
    serial: u64,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, CertError> {
    use x509_cert::der::Decode;
    let ca = x509_cert::Certificate::from_der(ca_der).map_err(err)?;
    let issuer = ca.tbs_certificate.subject.clone();
    let country = issuer
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == const_oid_country())
        .and_then(|atv| x509_cert::der::asn1::PrintableStringRef::try_from(&atv.value).ok())
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let organisation = issuer
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == const_oid_organisation())
        .and_then(|atv| atv.value.decode_as::<String>().ok())
        .unwrap_or_default();
    let subject = name(&country, &organisation, &format!("DSC {serial}"))?;
    let ca_signer = CertSigner::new(ca_key).map_err(err)?;
    let mut builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer,
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        SerialNumber::from(serial),
        validity(not_before, not_after)?,
        subject,
        spki(key)?,
        &ca_signer,
    )
    .map_err(err)?;
    let oids = types
        .iter()
        .map(|t| ObjectIdentifier::new(eku_oid(*t)).map_err(err))
        .collect::<Result<Vec<_>, _>>()?;
    builder
        .add_extension(&ExtendedKeyUsage(oids))
        .map_err(err)?;
    builder
        .build::<p256::ecdsa::DerSignature>()
        .map_err(err)?
        .to_der()
        .map_err(err)
}

fn const_oid_country() -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap("2.5.4.6")
}

fn const_oid_organisation() -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap("2.5.4.10")
}

/// A certificate's DER as PEM.
pub fn to_pem(der: &[u8]) -> Result<String, CertError> {
    use x509_cert::der::Decode;
    x509_cert::Certificate::from_der(der)
        .map_err(err)?
        .to_pem(x509_cert::der::pem::LineEnding::LF)
        .map_err(err)
}
