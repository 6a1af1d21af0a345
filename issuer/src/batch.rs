//! Batch issuance from a registry export (read by `propusk_input`). Idempotent on
//! the record id; rows are committed in chunks, each chunk whole or not at all, so a run killed
//! at any moment and run again issues nothing twice and loses nothing. Bad rows are reported by
//! line number; the good ones go through.

use std::collections::HashMap;
use std::path::Path;

use propusk_input::{InputError, Row};
use propusk_spec::Timestamp;

use crate::error::{EuError, IssuerError, StoreError};
use crate::issued_csv::{IssuedCsv, image_name};
use crate::issuer::{Issuer, restrict};
use crate::records::Issued;
use crate::store::Inserted;

/// What a batch writes besides the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOutput {
    /// A QR PNG per record (and per EU twin).
    pub images: bool,
    /// An EU DCC twin per record (`HC1:`), in `issued.csv` and, with images, as
    /// `RECORD.hc1.png`; a record that cannot make one is a bad row.
    pub eu: bool,
    /// A record issued before with other content is issued again: its old credential
    /// revoked, both ids in `issued.csv` (column `replaces`). Without it such a row is a bad
    /// row ([`crate::Refusal::RecordChanged`]) and nothing is written for it.
    pub reissue: bool,
}

/// Rows committed together.
pub const CHUNK: usize = 500;
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
    /// Of those issued, corrected records whose old credential was revoked (`--reissue`).
    pub reissued: usize,
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

/// The image files the run has written so far, by name without case (as some file systems
/// compare them): the record and line of each. A record whose file another record of the run
/// already has is a bad row, naming both.
#[derive(Default)]
struct ImageNames(HashMap<String, (String, usize)>);

impl ImageNames {
    fn claim(&mut self, record: &str, line: usize) -> Option<RowError> {
        let name = image_name(record);
        match self.0.get(&name.to_lowercase()) {
            Some((other, first)) if other != record => Some(RowError::Issue(
                InputError::field(
                    "record_id",
                    format!(
                        "`{other}` and `{record}` would share the QR image file {name} \
                         (`{other}` is on line {first})"
                    ),
                )
                .into(),
            )),
            Some(_) => None,
            None => {
                self.0
                    .insert(name.to_lowercase(), (record.to_owned(), line));
                None
            }
        }
    }
}

impl Issuer {
    /// Issues every good row at `now`, as the rows come (a registry read row by row: memory
    /// stays that of a chunk, however long the export): chunk by chunk, each chunk in one
    /// transaction; then, with `images`, a QR PNG per record into `out` (written whole or not at
    /// all, and written again by a rerun when missing); and `issued.csv`
    /// (`record_id,credential_id`, then `hc1` with twins and `image`, the record's image file,
    /// with images; one row per record in input order, replaced whole at the end).
    /// Images and `issued.csv` are owner-only. `progress` hears the rows done so far.
    pub fn issue_batch(
        &mut self,
        rows: impl IntoIterator<Item = Row>,
        now: Timestamp,
        out: &Path,
        output: BatchOutput,
        mut progress: impl FnMut(usize),
    ) -> Result<BatchReport, IssuerError> {
        let started = std::time::Instant::now();
        let images = output.images;
        let eu = match output.eu {
            true => Some(self.document_signer()?.0),
            false => None,
        };
        std::fs::create_dir_all(out).map_err(|e| IssuerError::io(out, e))?;
        let mut signer = self.signer(now)?;
        let mut report = BatchReport::default();
        let mut csv = IssuedCsv::create(out, output.eu, images, output.reissue)?;
        self.reissue_changed(output.reissue);
        let mut names = ImageNames::default();
        // The first line of each record id seen so far; a later line with the same id is a bad
        // row. (The ids alone are kept: tens of bytes a record.)
        let mut first_line: HashMap<String, usize> = HashMap::new();
        let mut rows = rows.into_iter();
        loop {
            let mut chunk: Vec<Row> = rows.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            if images {
                // A record whose image file another record has is a bad row, not issued.
                let mut kept = Vec::with_capacity(chunk.len());
                for row in chunk {
                    let clash = row
                        .record_id
                        .as_deref()
                        .and_then(|record| names.claim(record, row.line));
                    match clash {
                        Some(why) => report.bad.push((row.line, why)),
                        None => kept.push(row),
                    }
                }
                chunk = kept;
            }
            for row in &chunk {
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
            let chunk = &chunk;
            // A bad row is reported and the rest of the chunk goes on; a failure of the store
            // (or the random generator) rolls the whole chunk back and stops the run.
            let results = self.in_transaction(|issuer| match eu.as_ref() {
                // Each record with its twin, one by one.
                Some(eu) => chunk
                    .iter()
                    .map(|row| match (&row.request, repeated(row)) {
                        (_, Some(first)) => Ok(Err(RowError::Repeats(first))),
                        (Err(e), None) => Ok(Err(RowError::Issue(e.clone().into()))),
                        (Ok(request), None) => {
                            rowwise(issuer.issue_row(&mut signer, Some(eu), request, now))
                        }
                    })
                    .collect(),
                None => issuer.issue_chunk(&mut signer, chunk, &repeated, now),
            })?;
            for (row, result) in chunk.iter().zip(results) {
                match result {
                    Err(why) => report.bad.push((row.line, why)),
                    Ok((issued, new, twin)) => {
                        if new {
                            report.issued += 1;
                            report.reissued += usize::from(issued.replaces.is_some());
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
                            let eu_path = path.with_extension("hc1.png");
                            if let Some(text) = twin.as_ref().filter(|_| new || !eu_path.exists()) {
                                write_image(&eu_path, &propusk_qr::render_png(text, 4)?)?;
                                report.images += 1;
                            }
                        }
                        csv.row(&issued, twin.as_deref())?;
                    }
                }
            }
            progress(report.issued + report.existing + report.bad.len());
        }
        csv.finish()?;
        report.bad.sort_by_key(|(line, _)| *line);
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// What one row came to: issued (or found issued), its twin; or why not. A failure of the store
/// (or the random generator) is the chunk's, not the row's.
type RowOutcome = Result<(Issued, bool, Option<String>), RowError>;

fn rowwise(
    result: Result<(Issued, bool, Option<String>), IssuerError>,
) -> Result<RowOutcome, IssuerError> {
    result.map(Ok).or_else(|e| row_error(e).map(Err))
}

/// A row's own failure (bad input, refused by the rules, no EU form), or the chunk's (`Err`).
fn row_error(e: IssuerError) -> Result<RowError, IssuerError> {
    match e {
        e @ (IssuerError::Input(_)
        | IssuerError::Refused(_)
        | IssuerError::Eu(EuError::Twin(_))) => Ok(e.into()),
        e => Err(e),
    }
}

impl Issuer {
    /// One chunk without twins: the records issued before found in one query, the new ones
    /// drafted and stored in one statement; a record another writer issued meanwhile (or an id
    /// drawn twice) goes the one-by-one way.
    fn issue_chunk(
        &mut self,
        signer: &mut crate::issuance::Signer,
        chunk: &[Row],
        repeated: &dyn Fn(&Row) -> Option<usize>,
        now: Timestamp,
    ) -> Result<Vec<RowOutcome>, IssuerError> {
        let records: Vec<String> = chunk
            .iter()
            .filter_map(|r| r.request.as_ref().ok()?.record_id.clone())
            .collect();
        let mut existing: HashMap<String, crate::store::CredentialRecord> = self
            .store
            .credentials_for_records(&records)?
            .into_iter()
            .filter_map(|c| Some((c.record_id.clone()?, c)))
            .collect();
        let mut results: Vec<Option<RowOutcome>> = Vec::with_capacity(chunk.len());
        let mut drafts = Vec::new();
        for row in chunk {
            let outcome = match (&row.request, repeated(row)) {
                (_, Some(first)) => Err(RowError::Repeats(first)),
                (Err(e), None) => Err(RowError::Issue(e.clone().into())),
                (Ok(request), None) => {
                    let known = request.record_id.as_ref().and_then(|r| existing.remove(r));
                    match known {
                        Some(record) => {
                            let done = self.issued(record);
                            rowwise(
                                self.again(signer, request, done, now)
                                    .map(|(issued, new)| (issued, new, None)),
                            )?
                        }
                        None => match self.draft(signer, request, now) {
                            Ok(draft) => {
                                drafts.push((results.len(), draft));
                                results.push(None);
                                continue;
                            }
                            Err(e) => Err(row_error(e)?),
                        },
                    }
                }
            };
            results.push(Some(outcome));
        }
        let (slots, records): (Vec<usize>, Vec<_>) = drafts.into_iter().unzip();
        let inserted = self.store.insert_credentials(&records)?;
        for ((slot, record), outcome) in slots.into_iter().zip(records).zip(inserted) {
            results[slot] = Some(match outcome {
                Inserted::Inserted => Ok((self.issued(record), true, None)),
                Inserted::RecordTaken | Inserted::IdTaken => match &chunk[slot].request {
                    Ok(request) => rowwise(self.issue_row(signer, None, request, now))?,
                    Err(e) => Err(RowError::Issue(e.clone().into())),
                },
            });
        }
        // Every row answered, in order (a store that answered fewer outcomes than records would
        // otherwise shift the rows' answers).
        results
            .into_iter()
            .map(|r| r.ok_or(StoreError::Corrupt("a chunk's rows left unanswered").into()))
            .collect()
    }
}

/// Writes an image through a temporary file and a rename, so no reader ever sees half an image,
/// but without waiting for the disk: a rerun after a crash rewrites any image that is missing,
/// and the images are derived from the store, which is durable.
pub(crate) fn write_image(path: &Path, png: &[u8]) -> Result<(), IssuerError> {
    let tmp = path.with_extension("png.tmp");
    std::fs::write(&tmp, png).map_err(|e| IssuerError::io(&tmp, e))?;
    // A QR image is a person's credential: the owner's alone.
    restrict(&tmp, 0o600)?;
    std::fs::rename(&tmp, path).map_err(|e| IssuerError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_has_its_own_image_file() {
        let mut names = ImageNames::default();
        assert!(names.claim("R-1", 2).is_none());
        assert!(names.claim("R-2", 3).is_none());
        assert!(
            names.claim("R-1", 4).is_none(),
            "the same record: its own file"
        );
        let clash = names
            .claim("r-1", 5)
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            clash.contains("`R-1` and `r-1`") && clash.contains("line 2"),
            "{clash}"
        );
    }
}
