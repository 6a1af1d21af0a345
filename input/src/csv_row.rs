//! One CSV row of a registry export: its columns (any order, every one optional: an empty cell
//! is an absent field) and the row as the typed input one issuance's JSON is read into, a column
//! that is no field of the row's type named.

use serde::Deserialize;

use crate::error::InputError;
use crate::request::{
    DocumentIn, ExemptionIn, HolderIn, Input, PassIn, RecoveryIn, TestIn, VaccinationIn,
};

/// The CSV columns: the holder's, then every body field by its JSON name.
pub const CSV_COLUMNS: [&str; 23] = [
    "record_id",
    "type",
    "family_name",
    "given_name",
    "patronymic",
    "birth_date",
    "document_kind",
    "document_number",
    "product",
    "dose",
    "doses",
    "date",
    "country",
    "administered_by",
    "first_positive",
    "kind",
    "sampled_at",
    "result",
    "center",
    "device",
    "valid_from",
    "valid_until",
    "purpose",
];

/// One CSV row, every column optional (an empty cell is an absent field).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CsvRow {
    pub(crate) record_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    family_name: Option<String>,
    given_name: Option<String>,
    patronymic: Option<String>,
    birth_date: Option<String>,
    document_kind: Option<String>,
    document_number: Option<String>,
    product: Option<String>,
    dose: Option<String>,
    doses: Option<String>,
    date: Option<String>,
    country: Option<String>,
    administered_by: Option<String>,
    first_positive: Option<String>,
    #[serde(rename = "kind")]
    test_kind: Option<String>,
    sampled_at: Option<String>,
    result: Option<String>,
    center: Option<String>,
    device: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    purpose: Option<String>,
}

impl CsvRow {
    /// The body columns that hold a value, by name.
    fn body_cells(&self) -> [(&'static str, bool); 15] {
        [
            ("product", self.product.is_some()),
            ("dose", self.dose.is_some()),
            ("doses", self.doses.is_some()),
            ("date", self.date.is_some()),
            ("country", self.country.is_some()),
            ("administered_by", self.administered_by.is_some()),
            ("first_positive", self.first_positive.is_some()),
            ("kind", self.test_kind.is_some()),
            ("sampled_at", self.sampled_at.is_some()),
            ("result", self.result.is_some()),
            ("center", self.center.is_some()),
            ("device", self.device.is_some()),
            ("valid_from", self.valid_from.is_some()),
            ("valid_until", self.valid_until.is_some()),
            ("purpose", self.purpose.is_some()),
        ]
    }

    /// The row as the typed issuance input (the same one JSON is read into).
    pub(crate) fn into_input(self) -> Result<Input, InputError> {
        let kind = self.kind.clone().unwrap_or_default();
        let fields = BODY_FIELDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&[][..], |(_, f)| *f);
        if let Some((stray, _)) = self
            .body_cells()
            .into_iter()
            .find(|(name, filled)| *filled && !fields.contains(name))
        {
            return Err(InputError::Json(format!(
                "column `{stray}` is not a field of type `{kind}`"
            )));
        }
        let need = |value: Option<String>, name: &str| {
            value.ok_or_else(|| InputError::Missing(format!("{kind}.{name}")))
        };
        let number = |value: Option<String>, name: &str| {
            let text = need(value, name)?;
            text.parse::<u8>()
                .map_err(|e| InputError::field(format!("{kind}.{name}"), e))
        };
        let mut input = Input {
            kind: kind.clone(),
            record_id: self.record_id,
            holder: HolderIn {
                family_name: self.family_name.unwrap_or_default(),
                given_name: self.given_name,
                patronymic: self.patronymic,
                family_name_latin: None,
                given_name_latin: None,
                birth_date: self.birth_date.unwrap_or_default(),
                document: DocumentIn {
                    kind: self.document_kind.unwrap_or_default(),
                    number: self.document_number.unwrap_or_default(),
                },
            },
            vaccination: None,
            recovery: None,
            test: None,
            exemption: None,
            pass: None,
        };
        match kind.as_str() {
            "vaccination" => {
                input.vaccination = Some(VaccinationIn {
                    product: need(self.product, "product")?,
                    dose: number(self.dose, "dose")?,
                    doses: number(self.doses, "doses")?,
                    date: need(self.date, "date")?,
                    country: need(self.country, "country")?,
                    administered_by: need(self.administered_by, "administered_by")?,
                })
            }
            "recovery" => {
                input.recovery = Some(RecoveryIn {
                    first_positive: need(self.first_positive, "first_positive")?,
                    country: need(self.country, "country")?,
                    administered_by: need(self.administered_by, "administered_by")?,
                })
            }
            "test" => {
                input.test = Some(TestIn {
                    kind: need(self.test_kind, "kind")?,
                    sampled_at: need(self.sampled_at, "sampled_at")?,
                    result: need(self.result, "result")?,
                    center: need(self.center, "center")?,
                    country: need(self.country, "country")?,
                    device: self.device,
                })
            }
            "exemption" => {
                input.exemption = Some(ExemptionIn {
                    valid_from: need(self.valid_from, "valid_from")?,
                    valid_until: need(self.valid_until, "valid_until")?,
                    country: need(self.country, "country")?,
                })
            }
            "pass" => {
                input.pass = Some(PassIn {
                    purpose: need(self.purpose, "purpose")?,
                    valid_from: need(self.valid_from, "valid_from")?,
                    valid_until: need(self.valid_until, "valid_until")?,
                })
            }
            // An unknown type is named by the request's own check.
            _ => {}
        }
        Ok(input)
    }
}

const BODY_FIELDS: [(&str, &[&str]); 5] = [
    (
        "vaccination",
        &[
            "product",
            "dose",
            "doses",
            "date",
            "country",
            "administered_by",
        ],
    ),
    (
        "recovery",
        &["first_positive", "country", "administered_by"],
    ),
    (
        "test",
        &[
            "kind",
            "sampled_at",
            "result",
            "center",
            "country",
            "device",
        ],
    ),
    ("exemption", &["valid_from", "valid_until", "country"]),
    ("pass", &["purpose", "valid_from", "valid_until"]),
];
