//! `propusk issuer issue` and `propusk issuer batch`: credentials (and their EU twins) from
//! issuance JSON or a registry export.

use std::path::Path;

use propusk_issuer::{BatchOutput, IssuerError, Refusal, Request};
use propusk_spec::Timestamp;

use crate::error::{CliError, EXIT_DATA};
use crate::opening::{local, read, unlocked, write};
use crate::progress_bar;

/// What `issue` writes besides printing the credential.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outputs<'a> {
    /// The QR code as PNG.
    pub(crate) png: Option<&'a Path>,
    /// The QR code as SVG.
    pub(crate) svg: Option<&'a Path>,
    /// The link form instead of the credential text.
    pub(crate) link: bool,
    /// The EU twin too.
    pub(crate) eu: bool,
    /// The EU twin's QR code as PNG.
    pub(crate) eu_png: Option<&'a Path>,
    /// A corrected record is issued again (its old credential revoked).
    pub(crate) reissue: bool,
}

pub(crate) fn issue(
    dir: &Path,
    input: &Path,
    outputs: Outputs<'_>,
    now: Timestamp,
) -> Result<(), CliError> {
    let Outputs {
        png,
        svg,
        link,
        eu,
        eu_png,
        reissue,
    } = outputs;
    let request =
        Request::from_json(&String::from_utf8_lossy(&read(input)?)).map_err(IssuerError::from)?;
    let mut issuer = unlocked(dir)?;
    issuer.reissue_changed(reissue);
    let (issued, twin) = if eu {
        let (issued, twin) = issuer.issue_with_twin(&request, now)?;
        (issued, Some(twin))
    } else {
        (issuer.issue(&request, now)?, None)
    };
    if let (Some(path), Some(twin)) = (eu_png, &twin) {
        write(
            path,
            &propusk_qr::render_png(twin, 4).map_err(IssuerError::from)?,
        )?;
    }
    let shown = match (link, &issued.links) {
        (false, _) => issued.credential.clone(),
        (true, Some(links)) => links.offline.clone(),
        (true, None) => return Err(IssuerError::Refused(Refusal::NoPortalUrl).into()),
    };
    if let Some(path) = png {
        write(
            path,
            &propusk_qr::render_png(&shown, 4).map_err(IssuerError::from)?,
        )?;
    }
    if let Some(path) = svg {
        write(
            path,
            propusk_qr::render_svg(&shown)
                .map_err(IssuerError::from)?
                .as_bytes(),
        )?;
    }
    eprintln!(
        "issued {} {} (key {}), valid until {}{}",
        issued.credential_type.as_str(),
        issued.id,
        issued.key_id,
        local(&issuer).time(issued.expires_at),
        issued
            .replaces
            .map(|old| format!("; it replaces {old}, revoked: publish now"))
            .unwrap_or_default()
    );
    println!("{shown}");
    if let Some(twin) = twin {
        println!("{twin}");
    }
    Ok(())
}

/// `issuer reissue`: what was signed again, what could not be, where the new codes are.
pub(crate) fn reissue(
    dir: &Path,
    which: &propusk_issuer::Reissue,
    out: &Path,
    images: bool,
    now: Timestamp,
) -> Result<u8, CliError> {
    let mut issuer = unlocked(dir)?;
    let bar = progress_bar(0, "{spinner} {pos} credentials signed again, {rate}");
    let report = issuer.reissue(which, now, out, images, |done| {
        bar.iter().for_each(|b| b.set_position(done as u64))
    })?;
    bar.inspect(indicatif::ProgressBar::finish_and_clear);
    for (id, why) in &report.refused {
        eprintln!("credential {id}: not signed again: {why}");
    }
    println!(
        "signed again {} (each old credential revoked), {} refused, {} QR images; {}; publish \
         now so that verifiers refuse the old ones",
        report.reissued,
        report.refused.len(),
        report.images,
        out.join("issued.csv").display()
    );
    Ok(if report.refused.is_empty() {
        0
    } else {
        EXIT_DATA
    })
}

/// `issuer reissue RECORD_ID` without `--out`: the new credential text is printed as the last
/// line but one or the last (its twin, when it has one, last), as `issue` prints.
pub(crate) fn reissue_one(
    dir: &Path,
    which: &propusk_issuer::Reissue,
    now: Timestamp,
) -> Result<u8, CliError> {
    let propusk_issuer::Reissue::Record(record) = which else {
        return Err(CliError::Usage(
            "--key and --all sign many credentials again: give --out DIR for their issued.csv \
             and QR images"
                .into(),
        ));
    };
    let mut issuer = unlocked(dir)?;
    let (issued, twin) = issuer.reissue_record(record, now)?;
    let replaced = issued.replaces.map(|id| id.to_string()).unwrap_or_default();
    eprintln!(
        "record {record}: signed again as {} (old credential {replaced} revoked); publish now \
         so that verifiers refuse the old one",
        issued.id
    );
    println!("{}", issued.credential);
    if let Some(twin) = twin {
        println!("{twin}");
    }
    Ok(0)
}

/// The lines of a file (for the progress bar's length), read in blocks.
fn count_lines(path: &Path) -> Result<u64, CliError> {
    let mut file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut block = vec![0u8; 1 << 16];
    let mut lines = 0u64;
    loop {
        let n = std::io::Read::read(&mut file, &mut block).map_err(|e| CliError::io(path, e))?;
        if n == 0 {
            return Ok(lines);
        }
        lines += block[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

pub(crate) fn batch(
    dir: &Path,
    input: &Path,
    out: &Path,
    output: BatchOutput,
    now: Timestamp,
) -> Result<u8, CliError> {
    let jsonl = input
        .extension()
        .is_some_and(|e| e == "jsonl" || e == "ndjson");
    // Read row by row: a national export of millions of rows is never held whole.
    let (source, lines): (Box<dyn std::io::Read>, u64) = if input == Path::new("-") {
        (Box::new(std::io::stdin().lock()), 0)
    } else {
        let file = std::fs::File::open(input).map_err(|e| CliError::io(input, e))?;
        let lines = count_lines(input)?;
        (Box::new(file), lines.saturating_sub(u64::from(!jsonl)))
    };
    let rows = propusk_issuer::registry(std::io::BufReader::new(source), jsonl)
        .map_err(IssuerError::from)?;
    let mut issuer = unlocked(dir)?;
    let bar = progress_bar(lines, "{bar:40} {pos}/{len} records, {rate}, {eta} left");
    let report = issuer.issue_batch(rows, now, out, output, |done| {
        bar.iter().for_each(|b| b.set_position(done as u64))
    })?;
    bar.inspect(indicatif::ProgressBar::finish_and_clear);
    for (line, why) in &report.bad {
        eprintln!("line {line}: {why}");
    }
    let count = |n: usize, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let reissued = match report.reissued {
        0 => String::new(),
        n => format!(" ({n} of them corrections, their old credentials revoked: publish now)"),
    };
    println!(
        "issued {} new{reissued}, {} already issued, {}, {}; {:.0} records per second; {}",
        report.issued,
        report.existing,
        count(report.bad.len(), "bad row"),
        count(report.images, "QR image"),
        report.per_second(),
        out.join("issued.csv").display()
    );
    Ok(if report.bad.is_empty() { 0 } else { EXIT_DATA })
}
