//! The credential as data: holder, body, claims; and their CBOR maps.

use ciborium::Value;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::cbor::{Fields, map, small_uint, uint};
use crate::codes::{Country, PassPurpose, TestKind, TestResult, VaccineProduct};
use crate::date::{Date, Timestamp};
use crate::door::DoorHolder;
use crate::error::FieldError;
use crate::id::{CREDENTIAL_ID_BYTES, CredentialId};
use crate::text::Text;

/// A vaccination.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Vaccination {
    /// The vaccine product.
    pub product: VaccineProduct,
    /// Which dose this is (1–9).
    pub dose: u8,
    /// Doses in the course (1–9).
    pub doses: u8,
    /// Date of this dose.
    pub date: Date,
    /// Country of vaccination.
    pub country: Country,
    /// Who gave the dose.
    pub administered_by: Text,
}

/// A recovery from the disease.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Recovery {
    /// Date of the first positive test.
    pub first_positive: Date,
    /// Country of the test.
    pub country: Country,
    /// Who certified the recovery.
    pub administered_by: Text,
}

/// A test result.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Test {
    /// PCR or rapid antigen.
    pub kind: TestKind,
    /// When the sample was taken.
    pub sampled_at: Timestamp,
    /// The result.
    pub result: TestResult,
    /// The testing centre.
    pub center: Text,
    /// Country of the test.
    pub country: Country,
}

/// A medical exemption. No diagnosis or reason is ever encoded.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Exemption {
    /// First day of the exemption.
    pub valid_from: Date,
    /// Last day of the exemption (inclusive).
    pub valid_until: Date,
    /// Country that granted it.
    pub country: Country,
}

/// A short-lived movement pass.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Pass {
    /// Why the holder may move.
    pub purpose: PassPurpose,
    /// Start of the window.
    pub valid_from: Timestamp,
    /// End of the window (exclusive), after the start.
    pub valid_until: Timestamp,
}

/// The one credential body a credential carries.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// A vaccination.
    Vaccination(Vaccination),
    /// A recovery.
    Recovery(Recovery),
    /// A test.
    Test(Test),
    /// A medical exemption.
    Exemption(Exemption),
    /// A movement pass.
    Pass(Pass),
}

/// The kind of a credential, as its body says.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CredentialType {
    /// Vaccination.
    Vaccination,
    /// Recovery.
    Recovery,
    /// Test.
    Test,
    /// Medical exemption.
    Exemption,
    /// Movement pass.
    Pass,
}

impl CredentialType {
    /// All types, in wire order.
    pub const ALL: [CredentialType; 5] = [
        CredentialType::Vaccination,
        CredentialType::Recovery,
        CredentialType::Test,
        CredentialType::Exemption,
        CredentialType::Pass,
    ];

    /// The snake_case name (`vaccination`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::Vaccination => "vaccination",
            CredentialType::Recovery => "recovery",
            CredentialType::Test => "test",
            CredentialType::Exemption => "exemption",
            CredentialType::Pass => "pass",
        }
    }

    /// The claims-map key of this type's body.
    fn key(self) -> i64 {
        match self {
            CredentialType::Vaccination => -2,
            CredentialType::Recovery => -3,
            CredentialType::Test => -4,
            CredentialType::Exemption => -5,
            CredentialType::Pass => -6,
        }
    }
}

impl std::str::FromStr for CredentialType {
    type Err = FieldError;

    /// Reads the snake_case name.
    fn from_str(s: &str) -> Result<Self, FieldError> {
        CredentialType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(FieldError::Invalid {
                field: "type",
                why: "not vaccination, recovery, test, exemption or pass",
            })
    }
}

impl Body {
    /// This body's type.
    pub fn credential_type(&self) -> CredentialType {
        match self {
            Body::Vaccination(_) => CredentialType::Vaccination,
            Body::Recovery(_) => CredentialType::Recovery,
            Body::Test(_) => CredentialType::Test,
            Body::Exemption(_) => CredentialType::Exemption,
            Body::Pass(_) => CredentialType::Pass,
        }
    }

    /// Checks what the types alone do not: dose numbers, window order.
    fn check(&self) -> Result<(), FieldError> {
        match self {
            Body::Vaccination(v) => {
                if !(1..=9).contains(&v.dose) {
                    return Err(FieldError::invalid("dose", "not 1 to 9"));
                }
                if !(1..=9).contains(&v.doses) {
                    return Err(FieldError::invalid("doses", "not 1 to 9"));
                }
            }
            Body::Exemption(e) if e.valid_until < e.valid_from => {
                return Err(FieldError::invalid("valid_until", "before valid_from"));
            }
            Body::Pass(p) if p.valid_until <= p.valid_from => {
                return Err(FieldError::invalid("valid_until", "not after valid_from"));
            }
            _ => {}
        }
        Ok(())
    }

    fn to_cbor(&self) -> Value {
        let small = |n: u8| Some(uint(u64::from(n)));
        match self {
            Body::Vaccination(v) => map([
                (1, Some(v.product.to_cbor())),
                (2, small(v.dose)),
                (3, small(v.doses)),
                (4, Some(v.date.to_cbor())),
                (5, Some(v.country.to_cbor())),
                (6, Some(v.administered_by.to_cbor())),
            ]),
            Body::Recovery(r) => map([
                (1, Some(r.first_positive.to_cbor())),
                (2, Some(r.country.to_cbor())),
                (3, Some(r.administered_by.to_cbor())),
            ]),
            Body::Test(t) => map([
                (1, Some(t.kind.to_cbor())),
                (2, Some(t.sampled_at.to_cbor())),
                (3, Some(t.result.to_cbor())),
                (4, Some(t.center.to_cbor())),
                (5, Some(t.country.to_cbor())),
            ]),
            Body::Exemption(e) => map([
                (1, Some(e.valid_from.to_cbor())),
                (2, Some(e.valid_until.to_cbor())),
                (3, Some(e.country.to_cbor())),
            ]),
            Body::Pass(p) => map([
                (1, Some(p.purpose.to_cbor())),
                (2, Some(p.valid_from.to_cbor())),
                (3, Some(p.valid_until.to_cbor())),
            ]),
        }
    }

    fn from_cbor(kind: CredentialType, value: &Value) -> Result<Self, FieldError> {
        let mut f = Fields::new(value, kind.as_str())?;
        let small = |v: &Value, field| small_uint(v, field, 9).map(|n| n as u8);
        let body = match kind {
            CredentialType::Vaccination => Body::Vaccination(Vaccination {
                product: VaccineProduct::from_cbor(f.required(1, "product")?, "product")?,
                dose: small(f.required(2, "dose")?, "dose")?,
                doses: small(f.required(3, "doses")?, "doses")?,
                date: Date::from_cbor(f.required(4, "date")?, "date")?,
                country: Country::from_cbor(f.required(5, "country")?, "country")?,
                administered_by: Text::from_cbor(
                    f.required(6, "administered_by")?,
                    "administered_by",
                )?,
            }),
            CredentialType::Recovery => Body::Recovery(Recovery {
                first_positive: Date::from_cbor(
                    f.required(1, "first_positive")?,
                    "first_positive",
                )?,
                country: Country::from_cbor(f.required(2, "country")?, "country")?,
                administered_by: Text::from_cbor(
                    f.required(3, "administered_by")?,
                    "administered_by",
                )?,
            }),
            CredentialType::Test => Body::Test(Test {
                kind: TestKind::from_cbor(f.required(1, "kind")?, "kind")?,
                sampled_at: Timestamp::from_cbor(f.required(2, "sampled_at")?, "sampled_at")?,
                result: TestResult::from_cbor(f.required(3, "result")?, "result")?,
                center: Text::from_cbor(f.required(4, "center")?, "center")?,
                country: Country::from_cbor(f.required(5, "country")?, "country")?,
            }),
            CredentialType::Exemption => Body::Exemption(Exemption {
                valid_from: Date::from_cbor(f.required(1, "valid_from")?, "valid_from")?,
                valid_until: Date::from_cbor(f.required(2, "valid_until")?, "valid_until")?,
                country: Country::from_cbor(f.required(3, "country")?, "country")?,
            }),
            CredentialType::Pass => Body::Pass(Pass {
                purpose: PassPurpose::from_cbor(f.required(1, "purpose")?, "purpose")?,
                valid_from: Timestamp::from_cbor(f.required(2, "valid_from")?, "valid_from")?,
                valid_until: Timestamp::from_cbor(f.required(3, "valid_until")?, "valid_until")?,
            }),
        };
        f.finish()?;
        body.check()?;
        Ok(body)
    }
}

/// A credential's content: the claims that are signed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Credential {
    /// The credential's unique id (CWT `cti`).
    pub id: CredentialId,
    /// When it was issued (CWT `iat`).
    pub issued_at: Timestamp,
    /// When it expires at the latest (CWT `exp`), after `issued_at`.
    pub expires_at: Timestamp,
    /// Whom it is for: the door form (initials, date of birth, masked document).
    pub holder: DoorHolder,
    /// What it certifies.
    pub body: Body,
}

/// Where a claims-level error belongs: the claims map or the body.
pub(crate) enum ClaimsError {
    Claims(FieldError),
    Body(FieldError),
}

impl From<FieldError> for ClaimsError {
    fn from(e: FieldError) -> Self {
        ClaimsError::Claims(e)
    }
}

impl Credential {
    /// The credential's type.
    pub fn credential_type(&self) -> CredentialType {
        self.body.credential_type()
    }

    /// Checks the invariants that the field types alone do not hold.
    pub(crate) fn check(&self) -> Result<(), ClaimsError> {
        if self.expires_at <= self.issued_at {
            return Err(FieldError::invalid("expiry", "not after issued-at").into());
        }
        self.body.check().map_err(ClaimsError::Body)
    }

    /// The claims map (CWT-style, RFC 8392 keys 4, 6, 7; Propusk keys -1 to -6).
    pub(crate) fn to_cbor(&self) -> Value {
        let body_key = self.credential_type().key();
        map([
            (4, Some(self.expires_at.to_cbor())),
            (6, Some(self.issued_at.to_cbor())),
            (7, Some(Value::Bytes(self.id.as_bytes().to_vec()))),
            (-1, Some(self.holder.to_cbor())),
            (body_key, Some(self.body.to_cbor())),
        ])
    }

    pub(crate) fn from_cbor(value: &Value) -> Result<Self, ClaimsError> {
        let mut f = Fields::new(value, "claims")?;
        let expires_at = Timestamp::from_cbor(f.required(4, "expiry")?, "expiry")?;
        let issued_at = Timestamp::from_cbor(f.required(6, "issued-at")?, "issued-at")?;
        let id = match f.required(7, "credential id")? {
            Value::Bytes(b) => <[u8; CREDENTIAL_ID_BYTES]>::try_from(b.as_slice())
                .map(CredentialId::from_bytes)
                .map_err(|_| FieldError::invalid("credential id", "not 12 bytes"))?,
            _ => return Err(FieldError::WrongType("credential id").into()),
        };
        let holder = DoorHolder::from_cbor(f.required(-1, "holder")?)?;
        let bodies: Vec<(CredentialType, &Value)> = CredentialType::ALL
            .into_iter()
            .filter_map(|t| f.optional(t.key()).map(|v| (t, v)))
            .collect();
        f.finish()?;
        let [(kind, body)] = bodies.as_slice() else {
            return Err(FieldError::BodyCount(bodies.len()).into());
        };
        let body = Body::from_cbor(*kind, body).map_err(ClaimsError::Body)?;
        let credential = Credential {
            id,
            issued_at,
            expires_at,
            holder,
            body,
        };
        credential.check()?;
        Ok(credential)
    }
}

impl Serialize for Credential {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &self.credential_type())?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("issued_at", &self.issued_at)?;
        m.serialize_entry("expires_at", &self.expires_at)?;
        m.serialize_entry("holder", &self.holder)?;
        match &self.body {
            Body::Vaccination(b) => m.serialize_entry("vaccination", b)?,
            Body::Recovery(b) => m.serialize_entry("recovery", b)?,
            Body::Test(b) => m.serialize_entry("test", b)?,
            Body::Exemption(b) => m.serialize_entry("exemption", b)?,
            Body::Pass(b) => m.serialize_entry("pass", b)?,
        }
        m.end()
    }
}
