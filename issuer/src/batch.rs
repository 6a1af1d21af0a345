//! Batch issuance from a registry export: CSV with a header row, or JSON Lines. Idempotent on
//! the record id; rows are committed in chunks, each chunk whole or not at all, so a run killed
//! at any moment and run again issues nothing twice and loses nothing. Bad rows are reported by
//! line number; the good ones go through.

use std::path::{Path, PathBuf};

use propusk_spec::Timestamp;
use propusk_trust_list::write_atomically;
use serde::Deserialize;

use crate::error::{InputError, IssuerError};
use crate::input::{
    DocumentIn, ExemptionIn, HolderIn, Input, PassIn, RecoveryIn, Request, TestIn, VaccinationIn,
};
use crate::issuer::Issuer;
use crate::records::Issued;

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
    pub request: Result<Request, InputError>,
}

/// One CSV row, every column optional (an empty cell is an absent field).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CsvRow {
    record_id: Option<String>,
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
    valid_from: Option<String>,
    valid_until: Option<String>,
    purpose: Option<String>,
}

impl CsvRow {
    /// The body columns that hold a value, by name.
    fn body_cells(&self) -> [(&'static str, bool); 14] {
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
            ("valid_from", self.valid_from.is_some()),
            ("valid_until", self.valid_until.is_some()),
            ("purpose", self.purpose.is_some()),
        ]
    }

    /// The row as the typed issuance input (the same one JSON is read into).
    fn into_input(self) -> Result<Input, InputError> {
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
        &["kind", "sampled_at", "result", "center", "country"],
    ),
    ("exemption", &["valid_from", "valid_until", "country"]),
    ("pass", &["purpose", "valid_from", "valid_until"]),
];

/// Reads a CSV registry export (header row required, columns as [`CSV_COLUMNS`], in any order;
/// empty cells are absent fields).
pub fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| InputError::Csv(format!("header: {e}")))?
        .clone();
    for h in &headers {
        if !CSV_COLUMNS.contains(&h) {
            return Err(InputError::Csv(format!("header: unknown column `{h}`")));
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
            return Err(InputError::Csv(format!(
                "header: missing column `{required}`"
            )));
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let parsed = record
            .and_then(|r| r.deserialize::<CsvRow>(Some(&headers)))
            .map_err(|e| InputError::Csv(e.to_string()));
        let record_id = parsed.as_ref().ok().and_then(|r| r.record_id.clone());
        let request = parsed
            .and_then(CsvRow::into_input)
            .and_then(Request::from_input)
            .and_then(|r| match r.record_id {
                Some(_) => Ok(r),
                None => Err(InputError::Missing("record_id".into())),
            });
        rows.push(Row {
            line,
            record_id,
            request,
        });
    }
    Ok(rows)
}

/// Reads a registry export: JSON Lines when `jsonl`, else CSV.
pub fn read_registry(bytes: &[u8], jsonl: bool) -> Result<Vec<Row>, InputError> {
    if jsonl {
        Ok(read_jsonl(&String::from_utf8_lossy(bytes)))
    } else {
        read_csv(bytes)
    }
}

/// Reads JSON Lines: one issuance JSON object with a `record_id` per line; blank lines skipped.
pub fn read_jsonl(text: &str) -> Vec<Row> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let request = Request::from_json(l).and_then(|r| match r.record_id {
                Some(_) => Ok(r),
                None => Err(InputError::Missing("record_id".into())),
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

/// Why one row of a batch was not issued.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    /// The row's record id appeared on an earlier line (that line is issued).
    #[error("record_id repeats line {0}")]
    Repeats(usize),
    /// The row is malformed, or issuing it is refused.
    #[error(transparent)]
    Issue(#[from] IssuerError),
}

/// What a batch run did.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Credentials issued by this run.
    pub issued: usize,
    /// Records that were issued before (by an earlier run) and were not issued again.
    pub existing: usize,
    /// Bad rows: line number and reason.
    pub bad: Vec<(usize, RowError)>,
    /// QR images written.
    pub images: usize,
    /// How long the run took.
    pub elapsed: std::time::Duration,
}

impl BatchReport {
    /// Records issued or found issued per second of the run.
    pub fn per_second(&self) -> f64 {
        (self.issued + self.existing) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
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
        let started = std::time::Instant::now();
        std::fs::create_dir_all(out).map_err(|e| IssuerError::io(out, e))?;
        let mut signer = self.signer()?;
        let mut report = BatchReport::default();
        let mut done: Vec<Issued> = Vec::with_capacity(rows.len());
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
            // A bad row is reported and the rest of the chunk goes on; a failure of the store
            // (or the random generator) rolls the whole chunk back and stops the run.
            let results = self.in_transaction(|issuer| {
                let mut results = Vec::with_capacity(chunk.len());
                for row in chunk {
                    let result = match (&row.request, repeated(row)) {
                        (_, Some(first)) => Err(RowError::Repeats(first)),
                        (Err(e), None) => Err(RowError::Issue(e.clone().into())),
                        (Ok(request), None) => match issuer.issue_with(&mut signer, request, now) {
                            Ok(issued) => Ok(issued),
                            Err(e @ (IssuerError::Input(_) | IssuerError::Refused(_))) => {
                                Err(e.into())
                            }
                            Err(e) => return Err(e),
                        },
                    };
                    results.push(result);
                }
                Ok(results)
            })?;
            for (row, result) in chunk.iter().zip(results) {
                match result {
                    Err(why) => report.bad.push((row.line, why)),
                    Ok((issued, new)) => {
                        if new {
                            report.issued += 1;
                        } else {
                            report.existing += 1;
                        }
                        if images {
                            let record = issued.record_id.as_deref().unwrap_or_default();
                            let path = out.join(image_name(record));
                            if new || !path.exists() {
                                let png = propusk_qr::render_png(&issued.credential, 4)?;
                                write_image(&path, &png)?;
                                report.images += 1;
                            }
                        }
                        done.push(issued);
                    }
                }
            }
            progress(report.issued + report.existing + report.bad.len());
        }
        let path: PathBuf = out.join("issued.csv");
        write_atomically(&path, &issued_csv(&done)).map_err(|e| IssuerError::io(&path, e))?;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// `issued.csv`: `record_id,credential_id`, one row per record in input order.
fn issued_csv(done: &[Issued]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![["record_id".to_owned(), "credential_id".to_owned()]];
    rows.extend(done.iter().map(|issued| {
        [
            issued.record_id.clone().unwrap_or_default(),
            issued.id.to_string(),
        ]
    }));
    for row in rows {
        // Writing to memory cannot fail.
        let _ = writer.write_record(&row);
    }
    writer.into_inner().unwrap_or_default()
}

/// Writes an image through a temporary file and a rename, so no reader ever sees half an image,
/// but without waiting for the disk: a rerun after a crash rewrites any image that is missing,
/// and the images are derived from the store, which is durable.
fn write_image(path: &Path, png: &[u8]) -> Result<(), IssuerError> {
    let tmp = path.with_extension("png.tmp");
    std::fs::write(&tmp, png).map_err(|e| IssuerError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| IssuerError::io(path, e))
}
