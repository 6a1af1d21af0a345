//! Example credentials of every type, for documentation, golden vectors and benchmarks.
//!
//! The holder is the one of the interface example: a Russian passport and a three-part
//! Cyrillic name.

use crate::codes::{DocumentKind, PassPurpose, TestKind, TestResult, VaccineProduct};
use crate::date::{Date, Timestamp};
use crate::holder::{Document, Holder, Name};
use crate::id::CredentialId;
use crate::model::{
    Body, Credential, CredentialType, Exemption, Pass, Recovery, Test, Vaccination,
};
use crate::text::Text;

fn date(y: i32, m: u8, d: u8) -> Date {
    // safe: the literal dates below exist and lie within range.
    #[allow(clippy::expect_used)]
    Date::new(y, m, d).expect("safe: literal date")
}

fn text(s: &str) -> Text {
    // safe: the literals below are valid text fields.
    #[allow(clippy::expect_used)]
    Text::new(s).expect("safe: literal text")
}

fn name(s: &str) -> Name {
    // safe: the literals below are Cyrillic with an ICAO transliteration.
    #[allow(clippy::expect_used)]
    Name::new(s, None).expect("safe: literal name")
}

/// Иванов Иван Иванович, born 1980-05-12, passport 4510 123789.
pub fn holder() -> Holder {
    Holder {
        family_name: name("Иванов"),
        given_name: Some(name("Иван")),
        patronymic: Some(name("Иванович")),
        birth_date: crate::date::BirthDate::Full(date(1980, 5, 12)),
        // safe: a literal 10-digit passport number.
        #[allow(clippy::expect_used)]
        document: Document::new(DocumentKind::Passport, "4510 123789").expect("safe: literal"),
    }
}

fn at(date: Date, hour: i64) -> Timestamp {
    date.start().plus_seconds(hour * 3600)
}

/// The body of an example credential of this type.
pub fn body(kind: CredentialType) -> Body {
    let ru = "RU"
        .parse()
        .unwrap_or_else(|_| unreachable!("RU is two capitals"));
    match kind {
        CredentialType::Vaccination => Body::Vaccination(Vaccination {
            product: VaccineProduct::Listed(6), // Sputnik-V
            dose: 2,
            doses: 2,
            date: date(2021, 6, 1),
            country: ru,
            administered_by: text("ГБУЗ ГП № 2"),
        }),
        CredentialType::Recovery => Body::Recovery(Recovery {
            first_positive: date(2021, 10, 4),
            country: ru,
            administered_by: text("ГБУЗ ГКБ № 40"),
        }),
        CredentialType::Test => Body::Test(Test {
            kind: TestKind::Pcr,
            sampled_at: at(date(2021, 11, 20), 6),
            result: TestResult::Negative,
            center: text("ООО «Лаборатория Гемотест»"),
            country: ru,
        }),
        CredentialType::Exemption => Body::Exemption(Exemption {
            valid_from: date(2021, 11, 1),
            valid_until: date(2022, 4, 30),
            country: ru,
        }),
        CredentialType::Pass => Body::Pass(Pass {
            purpose: PassPurpose::Work,
            valid_from: at(date(2020, 4, 15), 5),
            valid_until: at(date(2020, 4, 16), 5),
        }),
    }
}

/// An example credential of this type: issued on the day of its event, expiring as the
/// default rule set would have it.
pub fn credential(kind: CredentialType, id: CredentialId) -> Credential {
    let body = body(kind);
    let (issued_at, expires_at) = match &body {
        Body::Vaccination(v) => (at(v.date, 12), v.date.start().plus_seconds(365 * 86_400)),
        Body::Recovery(r) => (
            at(r.first_positive, 12),
            r.first_positive.start().plus_seconds(180 * 86_400),
        ),
        Body::Test(t) => (
            t.sampled_at.plus_seconds(3 * 3600),
            t.sampled_at.plus_seconds(72 * 3600),
        ),
        Body::Exemption(e) => (
            e.valid_from.start(),
            e.valid_until.start().plus_seconds(86_400),
        ),
        Body::Pass(p) => (p.valid_from, p.valid_until),
    };
    Credential {
        id,
        issued_at,
        expires_at,
        holder: holder().door(),
        body,
    }
}
