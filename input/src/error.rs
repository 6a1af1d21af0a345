//! The input error type.

use thiserror::Error;

/// Why an input was not understood. The message names the field.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    /// The JSON does not parse, or has unknown or missing fields (serde's words).
    #[error("{0}")]
    Json(String),
    /// A field's value is malformed.
    #[error("{field}: {message}")]
    Field {
        /// The field, as a JSON path (`holder.birth_date`) or an option (`--country`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(String),
    /// The CSV is malformed.
    #[error("CSV: {0}")]
    Csv(String),
}

impl InputError {
    /// The field `field` is malformed, for the reason `message`.
    pub fn field(field: impl Into<String>, message: impl ToString) -> Self {
        InputError::Field {
            field: field.into(),
            message: message.to_string(),
        }
    }
}
