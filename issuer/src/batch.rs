//! Batch issuance from a registry export: CSV with a header row, or JSON Lines. Idempotent on
//! the record id; rows are committed in chunks, each chunk whole or not at all, so a run killed
//! at any moment and run again issues nothing twice and loses nothing. Bad rows are reported by
//! line number; the good ones go through.

use std::path::{Path, PathBuf};

use propusk_spec::Timestamp;
use propusk_trust_list::write_atomically;
use serde_json::{Map, Value};

use crate::error::IssuerError;
use crate::input::Request;
use crate::state::{Issued, Issuer};

/// Rows committed together.
pub const CHUNK: usize = 500;

/// The CSV columns: the holder's, then every body field by its JSON name.
pub const CSV_COLUMNS: [&str; 22] = [
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
    "valid_from",
    "valid_until",
    "purpose",
];

/// One row of the input: its line number and what it asks for, or why it cannot be read.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line number in the file (the header is line 1 of a CSV).
    pub line: usize,
    /// The record id, when the row has one.
    pub record_id: Option<String>,
    /// The request, or the reason the row is bad.
    pub request: Result<Request, IssuerError>,
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
        &["kind", "sampled_at", "result", "center", "country"],
    ),
    ("exemption", &["valid_from", "valid_until", "country"]),
    ("pass", &["purpose", "valid_from", "valid_until"]),
];

/// Reads a CSV registry export (header row required, columns as [`CSV_COLUMNS`], in any order;
/// empty cells are absent fields).
pub fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, IssuerError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| IssuerError::Input(format!("CSV header: {e}")))?
        .clone();
    for h in &headers {
        if !CSV_COLUMNS.contains(&h) {
            return Err(IssuerError::Input(format!(
                "CSV header: unknown column `{h}`"
            )));
        }
    }
    for required in [
        "record_id",
        "type",
        "family_name",
        "birth_date",
        "document_kind",
        "document_number",
    ] {
        if !headers.iter().any(|h| h == required) {
            return Err(IssuerError::Input(format!(
                "CSV header: missing column `{required}`"
            )));
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(Row {
                    line,
                    record_id: None,
                    request: Err(IssuerError::Input(e.to_string())),
                });
                continue;
            }
        };
        let cell = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        let record_id = cell("record_id").map(str::to_owned);
        let kind = cell("type").unwrap_or("");
        let mut holder = Map::new();
        for (json, column) in [
            ("family_name", "family_name"),
            ("given_name", "given_name"),
            ("patronymic", "patronymic"),
            ("birth_date", "birth_date"),
        ] {
            if let Some(v) = cell(column) {
                holder.insert(json.into(), Value::String(v.into()));
            }
        }
        let mut document = Map::new();
        document.insert(
            "kind".into(),
            Value::String(cell("document_kind").unwrap_or("").into()),
        );
        document.insert(
            "number".into(),
            Value::String(cell("document_number").unwrap_or("").into()),
        );
        holder.insert("document".into(), Value::Object(document));
        let mut object = Map::new();
        object.insert("type".into(), Value::String(kind.into()));
        if let Some(r) = &record_id {
            object.insert("record_id".into(), Value::String(r.clone()));
        }
        object.insert("holder".into(), Value::Object(holder));
        let stray = BODY_FIELDS.iter().flat_map(|(_, f)| f.iter()).find(|f| {
            cell(f).is_some()
                && !BODY_FIELDS
                    .iter()
                    .any(|(k, fields)| *k == kind && fields.contains(f))
        });
        let request = if let Some(field) = stray {
            Err(IssuerError::Input(format!(
                "column `{field}` is not a field of type `{kind}`"
            )))
        } else {
            if let Some((_, fields)) = BODY_FIELDS.iter().find(|(k, _)| *k == kind) {
                let mut body = Map::new();
                for f in *fields {
                    if let Some(v) = cell(f) {
                        let value = match *f {
                            "dose" | "doses" => v
                                .parse::<u64>()
                                .map_or_else(|_| Value::String(v.into()), Value::from),
                            _ => Value::String(v.into()),
                        };
                        body.insert((*f).into(), value);
                    }
                }
                object.insert(kind.into(), Value::Object(body));
            }
            Request::from_json(&Value::Object(object).to_string())
        };
        let request = match (&record_id, request) {
            (None, Ok(_)) => Err(IssuerError::Input("record_id is empty".into())),
            (_, r) => r,
        };
        rows.push(Row {
            line,
            record_id,
            request,
        });
    }
    Ok(rows)
}

/// Reads JSON Lines: one issuance JSON object with a `record_id` per line; blank lines skipped.
pub fn read_jsonl(text: &str) -> Vec<Row> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let request = Request::from_json(l).and_then(|r| match r.record_id {
                Some(_) => Ok(r),
                None => Err(IssuerError::Input("missing field `record_id`".into())),
            });
            let record_id = request.as_ref().ok().and_then(|r| r.record_id.clone());
            Row {
                line: i + 1,
                record_id,
                request,
            }
        })
        .collect()
}

/// What a batch run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Credentials issued by this run.
    pub issued: usize,
    /// Records that were issued before (by an earlier run) and were not issued again.
    pub existing: usize,
    /// Bad rows: line number and reason.
    pub bad: Vec<(usize, String)>,
    /// QR images written.
    pub images: usize,
}

/// The file name of a record's QR image: the record id with every character outside
/// `[A-Za-z0-9._-]` replaced by `_`, and `.png`.
pub fn image_name(record_id: &str) -> String {
    let safe: String = record_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.png")
}

impl Issuer {
    /// Issues every good row at `now`: chunk by chunk, each chunk in one transaction; then,
    /// with `images`, a QR PNG per record into `out` (written whole or not at all, and written
    /// again by a rerun when missing); then `issued.csv` (`record_id,credential_id`, one row per
    /// record in input order, rewritten whole). `progress` hears the rows done so far.
    pub fn issue_batch(
        &mut self,
        rows: &[Row],
        now: Timestamp,
        out: &Path,
        images: bool,
        mut progress: impl FnMut(usize),
    ) -> Result<BatchReport, IssuerError> {
        std::fs::create_dir_all(out).map_err(|e| IssuerError::io(out, e))?;
        let mut session = self.session()?;
        let mut report = BatchReport::default();
        let mut done: Vec<(String, Issued)> = Vec::with_capacity(rows.len());
        // The first line of each record id; a later line with the same id is a bad row.
        let mut first_line = std::collections::HashMap::new();
        for row in rows {
            if let Some(record) = &row.record_id {
                first_line.entry(record.clone()).or_insert(row.line);
            }
        }
        let repeated = |row: &Row| {
            row.record_id
                .as_ref()
                .and_then(|r| first_line.get(r))
                .filter(|&&first| first != row.line)
                .copied()
        };
        for chunk in rows.chunks(CHUNK) {
            let results = self.in_transaction(|issuer| {
                chunk
                    .iter()
                    .map(|row| match (&row.request, repeated(row)) {
                        (_, Some(first)) => Err(format!("record_id repeats line {first}")),
                        (Err(e), None) => Err(e.to_string()),
                        (Ok(request), None) => issuer
                            .issue_with(&mut session, request, now)
                            .map_err(|e| e.to_string()),
                    })
                    .collect::<Vec<_>>()
            })?;
            for (row, result) in chunk.iter().zip(results) {
                match result {
                    Err(why) => report.bad.push((row.line, why)),
                    Ok((issued, new)) => {
                        let record = issued.record_id.clone().unwrap_or_default();
                        if new {
                            report.issued += 1;
                        } else {
                            report.existing += 1;
                        }
                        if images {
                            let path = out.join(image_name(&record));
                            if new || !path.exists() {
                                let png = propusk_qr::render_png(&issued.credential, 4)
                                    .map_err(|e| IssuerError::Refused(e.to_string()))?;
                                write_image(&path, &png)?;
                                report.images += 1;
                            }
                        }
                        done.push((record, issued));
                    }
                }
            }
            progress(report.issued + report.existing + report.bad.len());
        }
        let mut csv = String::from("record_id,credential_id\n");
        for (record, issued) in &done {
            csv.push_str(&format!("{},{}\n", csv_field(record), issued.id));
        }
        let path: PathBuf = out.join("issued.csv");
        write_atomically(&path, csv.as_bytes()).map_err(|e| IssuerError::io(&path, e))?;
        Ok(report)
    }
}

/// Writes an image through a temporary file and a rename, so no reader ever sees half an image,
/// but without waiting for the disk: a rerun after a crash rewrites any image that is missing,
/// and the images are derived from the store, which is durable.
fn write_image(path: &Path, png: &[u8]) -> Result<(), IssuerError> {
    let tmp = path.with_extension("png.tmp");
    std::fs::write(&tmp, png).map_err(|e| IssuerError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| IssuerError::io(path, e))
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}
