//! The operator API's request bodies besides the issuance JSON.

use serde::Deserialize;

use crate::error::InputError;

/// `POST /api/v1/keys/rotate`: an empty body, or `{"announce": true}` to announce a key
/// ahead of use instead of rotating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Announce only.
    #[serde(default)]
    pub announce: bool,
}

impl RotateRequest {
    /// Reads the body (empty or white space: the defaults).
    pub fn from_body(body: &str) -> Result<Self, InputError> {
        if body.trim().is_empty() {
            return Ok(RotateRequest::default());
        }
        serde_json::from_str(body).map_err(|e| InputError::Json(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_bodies_are_read_strictly() {
        assert_eq!(RotateRequest::from_body(" "), Ok(RotateRequest::default()));
        assert_eq!(
            RotateRequest::from_body(r#"{"announce": true}"#).map(|r| r.announce),
            Ok(true)
        );
        assert!(RotateRequest::from_body(r#"{"announce": 1}"#).is_err());
        assert!(RotateRequest::from_body(r#"{"now": true}"#).is_err());
    }
}
