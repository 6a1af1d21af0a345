//! Registry exports for batch issuance: CSV with a header row (columns in any order, an empty
//! cell an absent field) or JSON Lines; every row read into the same typed input as the JSON
//! of one issuance, and a bad row named by its line.

use std::io::{BufRead, BufReader, Read};

pub use crate::csv_row::CSV_COLUMNS;
use crate::csv_row::CsvRow;
use crate::error::InputError;
use crate::request::Request;

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

/// How much of a CSV export is looked at before the first row, for the two mistakes
/// spreadsheets make (not UTF-8, `;` separators), said plainly.
const PREFIX: usize = 64 << 10;

/// A registry export read row by row: a national export of millions of rows is never held
/// whole. Rows come in file order; a row that cannot be read is a [`Row`] with its reason.
pub struct Registry<R: Read> {
    inner: Inner<R>,
    /// The file could not be read further: said once, as a bad row, then the end.
    broken: bool,
}

enum Inner<R: Read> {
    Csv {
        reader: csv::Reader<std::io::Chain<std::io::Cursor<Vec<u8>>, R>>,
        headers: csv::StringRecord,
        line: usize,
    },
    Jsonl {
        reader: BufReader<R>,
        line: usize,
    },
}

impl<R: Read> std::fmt::Debug for Registry<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// Opens a registry export for reading row by row: JSON Lines when `jsonl`, else CSV (header
/// row required, columns as [`CSV_COLUMNS`], in any order; empty cells are absent fields). A
/// CSV header that is wrong, or a file that is not UTF-8 or separated by `;`, is refused here.
pub fn registry<R: Read>(reader: R, jsonl: bool) -> Result<Registry<R>, InputError> {
    if jsonl {
        return Ok(Registry {
            inner: Inner::Jsonl {
                reader: BufReader::new(reader),
                line: 0,
            },
            broken: false,
        });
    }
    let mut reader = reader;
    let mut prefix = Vec::with_capacity(PREFIX);
    (&mut reader)
        .take(PREFIX as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| InputError::Csv(e.to_string()))?;
    // Spreadsheets' "CSV UTF-8" starts with a byte order mark.
    if prefix.starts_with(b"\xef\xbb\xbf") {
        prefix.drain(..3);
    }
    // Two ways spreadsheets save what is not this format, said plainly. (A character cut at the
    // end of the prefix is not an error.)
    if std::str::from_utf8(&prefix).is_err_and(|e| e.error_len().is_some()) {
        return Err(InputError::Csv(
            "the file is not UTF-8 (a spreadsheet saved it in Windows-1251?): save it as \
             \"CSV UTF-8\", or convert it: iconv -f cp1251 -t utf-8 IN > OUT"
                .into(),
        ));
    }
    let header = prefix.split(|&b| b == b'\n').next().unwrap_or_default();
    if header.contains(&b';') && !header.contains(&b',') {
        return Err(InputError::Csv(
            "the columns are separated by `;` (a spreadsheet's regional setting): save the \
             CSV with `,` separators"
                .into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(std::io::Cursor::new(prefix).chain(reader));
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
    Ok(Registry {
        inner: Inner::Csv {
            reader,
            headers,
            line: 1,
        },
        broken: false,
    })
}

impl<R: Read> Iterator for Registry<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.broken {
            return None;
        }
        // A file that cannot be read further is a bad row where it stopped (never a silent end:
        // the rows after it would go unissued unreported).
        let broken = |line: usize, e: String| Row {
            line,
            record_id: None,
            request: Err(InputError::Csv(format!(
                "the file could not be read from here on: {e}"
            ))),
        };
        match &mut self.inner {
            Inner::Csv {
                reader,
                headers,
                line,
            } => {
                let mut record = csv::StringRecord::new();
                let read = match reader.read_record(&mut record) {
                    Ok(false) => return None,
                    Ok(true) => Ok(record),
                    Err(e) if e.is_io_error() => {
                        self.broken = true;
                        return Some(broken(*line + 1, e.to_string()));
                    }
                    Err(e) => Err(e),
                };
                *line += 1;
                Some(csv_row(read, headers, *line))
            }
            Inner::Jsonl { reader, line } => loop {
                let mut bytes = Vec::new();
                match reader.read_until(b'\n', &mut bytes) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => {
                        self.broken = true;
                        return Some(broken(*line + 1, e.to_string()));
                    }
                }
                *line += 1;
                let text = String::from_utf8_lossy(&bytes);
                if !text.trim().is_empty() {
                    return Some(jsonl_row(&text, *line));
                }
            },
        }
    }
}

fn csv_row(
    record: Result<csv::StringRecord, csv::Error>,
    headers: &csv::StringRecord,
    line: usize,
) -> Row {
    let parsed = record
        .and_then(|r| r.deserialize::<CsvRow>(Some(headers)))
        .map_err(|e| InputError::Csv(e.to_string()));
    let record_id = parsed.as_ref().ok().and_then(|r| r.record_id.clone());
    let request = parsed
        .and_then(CsvRow::into_input)
        .and_then(Request::from_input)
        .and_then(|r| match r.record_id {
            Some(_) => Ok(r),
            None => Err(InputError::Missing("record_id".into())),
        });
    Row {
        line,
        record_id,
        request,
    }
}

fn jsonl_row(text: &str, line: usize) -> Row {
    let request =
        Request::from_json(text.trim_end_matches(['\n', '\r'])).and_then(|r| match r.record_id {
            Some(_) => Ok(r),
            None => Err(InputError::Missing("record_id".into())),
        });
    let record_id = request.as_ref().ok().and_then(|r| r.record_id.clone());
    Row {
        line,
        record_id,
        request,
    }
}

/// Reads a whole CSV registry export (see [`registry`]).
pub fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, InputError> {
    Ok(registry(bytes, false)?.collect())
}

/// Reads a whole registry export: JSON Lines when `jsonl`, else CSV (see [`registry`]).
pub fn read_registry(bytes: &[u8], jsonl: bool) -> Result<Vec<Row>, InputError> {
    Ok(registry(bytes, jsonl)?.collect())
}

/// Reads JSON Lines: one issuance JSON object with a `record_id` per line; blank lines skipped.
pub fn read_jsonl(text: &str) -> Vec<Row> {
    registry(text.as_bytes(), true)
        .map(Iterator::collect)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semicolons_and_windows_1251_are_named() {
        let said = |bytes: &[u8]| {
            read_csv(bytes)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(
            said(b"record_id;type;family_name\nR-1;vaccination;X\n").contains("separated by `;`")
        );
        // "Иванов" in Windows-1251.
        let cp1251 = b"record_id,type,family_name\nR-1,vaccination,\xc8\xe2\xe0\xed\xee\xe2\n";
        assert!(said(cp1251).contains("not UTF-8"));
        // A byte order mark is no part of the first column's name.
        let bom = b"\xef\xbb\xbfrecord_id,type,family_name\nR-1,vaccination,X\n";
        assert!(!said(bom).contains("unknown column"), "{}", said(bom));
    }

    #[test]
    fn csv_rows_read_into_the_typed_input_and_name_what_is_missing() {
        let csv = "record_id,type,family_name,birth_date,document_kind,document_number,product,dose,doses,date,country,administered_by\n\
                   R-1,vaccination,Иванов,1980-05-12,passport,4510 123789,Sputnik-V,2,2,2021-06-01,RU,ГП 2\n\
                   R-2,vaccination,Иванов,1980-05-12,passport,4510 123789,,2,2,2021-06-01,RU,ГП 2\n\
                   R-3,vaccination,Иванов,1980-05-12,passport,4510 123789,Sputnik-V,two,2,2021-06-01,RU,ГП 2\n";
        let rows = read_csv(csv.as_bytes()).unwrap_or_default();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].request.is_ok(), "{:?}", rows[0].request);
        let why = |i: usize| rows[i].request.as_ref().err().map(ToString::to_string);
        assert_eq!(
            why(1).as_deref(),
            Some("missing field `vaccination.product`")
        );
        assert!(
            why(2).is_some_and(|w| w.starts_with("vaccination.dose:")),
            "{:?}",
            why(2)
        );
    }

    #[test]
    fn a_rapid_tests_device_is_read_from_its_column() {
        let csv = "record_id,type,family_name,birth_date,document_kind,document_number,kind,sampled_at,result,center,country,device\n\
                   T-1,test,Иванов,1980,passport,4510 123789,rapid_antigen,2021-06-01T08:00:00Z,negative,ГП 2,RU,1232\n\
                   T-2,test,Иванов,1980,passport,4510 123789,rapid_antigen,2021-06-01T08:00:00Z,negative,ГП 2,RU,12a\n\
                   V-1,vaccination,Иванов,1980,passport,4510 123789,,,,,RU,1232\n";
        let rows = read_csv(csv.as_bytes()).unwrap_or_default();
        let device = rows[0]
            .request
            .as_ref()
            .ok()
            .and_then(|r| r.test_device.clone());
        assert_eq!(device.as_deref(), Some("1232"));
        let why = |i: usize| rows[i].request.as_ref().err().map(ToString::to_string);
        assert!(
            why(1).is_some_and(|w| w.starts_with("test.device")),
            "{:?}",
            why(1)
        );
        assert_eq!(
            why(2).as_deref(),
            Some("column `device` is not a field of type `vaccination`")
        );
    }
}
