//! The issuer's inputs, read strictly into typed requests before anything is signed: the
//! issuance JSON of one credential, registry exports (CSV, JSON Lines) for batches, and the
//! operator API's request bodies. Unknown fields are errors, a missing field is named, and a
//! bad registry row is reported by its line. No I/O: bytes and text in, requests out.
//!
//! ```
//! use propusk_input::{Request, read_csv};
//!
//! let json = r#"{"type": "pass", "holder": {"family_name": "Петрова", "birth_date": "1990",
//!   "document": {"kind": "foreign", "number": "X1"}},
//!   "pass": {"purpose": "work", "valid_from": "2021-06-01T08:00:00+03:00",
//!            "valid_until": "2021-06-01T20:00:00+03:00"}}"#;
//! assert_eq!(Request::from_json(json).map(|r| r.holder.initials()).ok(), Some("P.".into()));
//!
//! let csv = "record_id,type,family_name,birth_date,document_kind,document_number,purpose\n\
//!            R-1,pass,Петрова,1990,foreign,X1,work\n";
//! let rows = read_csv(csv.as_bytes()).unwrap_or_default();
//! let why = rows[0].request.as_ref().err().map(ToString::to_string);
//! assert_eq!(why.as_deref(), Some("missing field `pass.valid_from`"));
//! ```
#![deny(missing_docs)]

mod api;
mod csv_row;
mod error;
mod registry;
mod request;

pub use api::RotateRequest;
pub use error::InputError;
pub use registry::{CSV_COLUMNS, Registry, Row, read_csv, read_jsonl, read_registry, registry};
pub use request::{Request, record_id};
