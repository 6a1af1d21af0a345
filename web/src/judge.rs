//! Judging what was scanned, reading QR codes from camera frames and images, and drawing one.

use propusk_qr::ScanError;
use propusk_trust_list::Report;
use propusk_verifier::{Session, fact_lines, holder_lines, to_json, verdict_line};
use serde_json::{Value, json};

use crate::{EngineError, Request};

/// The reports on `texts`, each as `verify --json` gives it, with the words a person reads:
/// the verdict line and the lines under it, in the session's language and the jurisdiction's
/// time zone. Shown together (one person's codes) unless `queue`.
pub(crate) fn verify(session: &Session, texts: &[String], queue: bool) -> Value {
    let reports: Vec<Report> = if queue {
        session.verify_queue(texts)
    } else {
        session.verify(texts)
    };
    present(session, &reports)
}

/// A door's next scan ([`Session::verify_next`]): with the same holder's code just before when
/// the door's policy found that incomplete.
pub(crate) fn verify_next(session: &mut Session, text: String) -> Value {
    let report = session.verify_next(text);
    present(session, &[report])
}

/// Reports as `verify --json` gives them, with the words a person reads: the verdict line, the
/// holder's lines (each on its own line in large type: what the guard compares with the
/// passport) and the lines under them.
fn present(session: &Session, reports: &[Report]) -> Value {
    let trust = session.trust();
    let locale = session.locale();
    Value::Array(
        reports
            .iter()
            .map(|r| {
                let mut v = to_json(r, trust);
                v["words"] = json!({
                    "verdict": verdict_line(r, locale.lang),
                    "holder": holder_lines(r, locale),
                    "details": fact_lines(r, trust, locale),
                });
                v
            })
            .collect(),
    )
}

/// A camera frame's luma plane (`width` × `height` bytes): the text of the QR code in it.
pub(crate) fn scan(r: &Request<'_>) -> Result<Value, EngineError> {
    let side = |k: &str| {
        r.header[k]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or(EngineError::Request("width and height"))
    };
    let (width, height) = (side("width")?, side("height")?);
    Ok(read(propusk_qr::read_qr_frame(
        r.payload.to_vec(),
        width,
        height,
    )))
}

/// A PNG or JPEG file: the text of the QR code in it.
pub(crate) fn image(bytes: &[u8]) -> Value {
    read(propusk_qr::read_qr(bytes))
}

fn read(result: Result<String, ScanError>) -> Value {
    match result {
        Ok(text) => json!({"text": text}),
        Err(e) => json!({
            "error": e.to_string(),
            "reason": match e {
                ScanError::TooLarge => "image_too_large",
                ScanError::NoCode | ScanError::Budget => "no_qr_code",
                _ => "not_an_image",
            },
        }),
    }
}

/// The QR code of `text`: its side in modules and the modules row by row (`1` dark), for the
/// page to draw as large as the screen allows.
pub(crate) fn qr(header: &Value) -> Result<Value, EngineError> {
    let text = header["text"]
        .as_str()
        .ok_or(EngineError::Request("text"))?;
    match propusk_qr::encode(text) {
        Ok(m) => {
            let bits: String = m.dark.iter().map(|&d| if d { '1' } else { '0' }).collect();
            Ok(json!({"size": m.size, "modules": bits}))
        }
        Err(e) => Ok(json!({"error": e.to_string(), "code": "too_long"})),
    }
}
