//! A QR code read back from a PDF: the certificates this wallet exports draw the code as filled
//! squares (rebuilt into pixels and read), and scanned documents carry it in a JPEG image (read
//! as it is). Bounded: the file's size, each stream's inflated size, the number of streams.

use std::io::Read;

use crate::error::WalletError;

/// Largest PDF read.
pub(crate) const MAX_PDF_LEN: usize = 32 << 20;
/// Largest stream inflated.
const MAX_STREAM_LEN: u64 = 16 << 20;
/// Most streams looked at.
const MAX_STREAMS: usize = 2_000;

/// The text of the first QR code found in the PDF `bytes`, within one reading budget for the
/// whole file ([`propusk_qr::READ_BUDGET`]): however many images it holds, reading them all
/// takes no longer than reading one may.
pub(crate) fn qr_text(bytes: &[u8]) -> Result<String, WalletError> {
    let no_code = || WalletError::Scan(propusk_qr::ScanError::NoCode);
    if bytes.len() > MAX_PDF_LEN {
        return Err(WalletError::Scan(propusk_qr::ScanError::TooLarge));
    }
    if !bytes.starts_with(b"%PDF") {
        return Err(WalletError::Scan(propusk_qr::ScanError::NotAnImage(
            "not a PDF".into(),
        )));
    }
    let deadline = propusk_qr::Deadline::after(propusk_qr::READ_BUDGET);
    for (dict, data) in streams(bytes).take(MAX_STREAMS) {
        if deadline.passed() {
            return Err(WalletError::Scan(propusk_qr::ScanError::Budget));
        }
        if contains(dict, b"/DCTDecode") {
            match propusk_qr::read_qr_until(data, deadline) {
                Ok(text) => return Ok(text),
                Err(e @ propusk_qr::ScanError::Budget) => return Err(WalletError::Scan(e)),
                Err(_) => {}
            }
        } else if contains(dict, b"/FlateDecode") {
            let mut inflated = Vec::new();
            let read = flate2::read::ZlibDecoder::new(data)
                .take(MAX_STREAM_LEN)
                .read_to_end(&mut inflated);
            if read.is_ok()
                && let Some(text) = squares_to_qr(&inflated)
            {
                return Ok(text);
            }
        } else if let Some(text) = squares_to_qr(data) {
            return Ok(text);
        }
    }
    Err(no_code())
}

/// The name a certificate this wallet exported prints, from its document information
/// (`/PropuskHolder`, a PDF text string: literal ASCII, or hexadecimal UTF-16BE after its byte
/// order mark); `None` in any other PDF, or when it is not such a string.
pub(crate) fn holder_note(bytes: &[u8]) -> Option<String> {
    let mut key = vec![b'/'];
    key.extend_from_slice(crate::page::HOLDER_KEY);
    let at = find(bytes, &key)? + key.len();
    let rest = bytes.get(at..)?;
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let name = match rest.first()? {
        b'(' => String::from_utf8(literal(&rest[1..])?).ok()?,
        b'<' => {
            let end = rest.iter().position(|&b| b == b'>')?;
            let hex = std::str::from_utf8(&rest[1..end]).ok()?;
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<_>>()?;
            let units: Vec<u16> = bytes
                .strip_prefix(&[0xFE, 0xFF])?
                .chunks(2)
                .map(|c| Some(u16::from_be_bytes([*c.first()?, *c.get(1)?])))
                .collect::<Option<_>>()?;
            String::from_utf16(&units).ok()?
        }
        _ => return None,
    };
    let name = propusk_spec::Text::new(name.trim()).ok()?;
    Some(name.as_str().to_owned())
}

/// A PDF literal string's bytes, after its `(`: nested balanced parentheses kept; the escapes of
/// a parenthesis and of the backslash undone; `None` for any other escape, or no end.
fn literal(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut depth = 1;
    let mut it = bytes.iter();
    while let Some(&b) = it.next() {
        match b {
            b'\\' => match it.next()? {
                &e @ (b'(' | b')' | b'\\') => out.push(e),
                _ => return None,
            },
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(out);
                }
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Each stream's dictionary (what precedes `stream`, back to the object's start) and data.
fn streams(bytes: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let start = at + find(&bytes[at..], b"stream")?;
            let mut data = start + b"stream".len();
            at = data;
            // `endstream` also contains `stream`; a stream keyword is followed by an end of line.
            if bytes[..start].ends_with(b"end") {
                continue;
            }
            match bytes.get(data) {
                Some(b'\r') if bytes.get(data + 1) == Some(&b'\n') => data += 2,
                Some(b'\n') => data += 1,
                _ => continue,
            }
            let end = data + find(&bytes[data..], b"endstream")?;
            // The dictionary: back to the object's `obj`, looked for in the last 4 KiB only (a
            // stream's dictionary is short; a long search per stream would be quadratic).
            let window = start.saturating_sub(4096);
            let dict_start = window
                + bytes[window..start]
                    .windows(3)
                    .rposition(|w| w == b"obj")
                    .unwrap_or(0);
            at = end;
            let mut data_end = end;
            while data_end > data && matches!(bytes[data_end - 1], b'\r' | b'\n') {
                data_end -= 1;
            }
            return Some((&bytes[dict_start..start], &bytes[data..data_end]));
        }
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A content stream's filled squares (`x y w h re`) as QR modules: the most common square size
/// is the module; the squares of that size are laid on a grid and read from pixels.
fn squares_to_qr(content: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(content).ok()?;
    let mut numbers: Vec<f32> = Vec::new();
    let mut squares: Vec<(f32, f32, f32)> = Vec::new();
    for token in text.split_ascii_whitespace() {
        if token == "re" && numbers.len() >= 4 {
            let n = numbers.len();
            let (x, y, w, h) = (
                numbers[n - 4],
                numbers[n - 3],
                numbers[n - 2],
                numbers[n - 1],
            );
            if w > 0.0 && (w - h).abs() < 0.01 {
                squares.push((x, y, w));
            }
            numbers.clear();
        } else if let Ok(v) = token.parse::<f32>() {
            numbers.push(v);
        } else {
            numbers.clear();
        }
    }
    if squares.len() < 100 {
        return None;
    }
    // The module: the most common side, to a hundredth of a point.
    let mut sides: Vec<i64> = squares
        .iter()
        .map(|s| (s.2 * 100.0).round() as i64)
        .collect();
    sides.sort_unstable();
    let module = sides
        .chunk_by(|a, b| a == b)
        .max_by_key(|run| run.len())
        .map(|run| run[0] as f32 / 100.0)?;
    let modules: Vec<(f32, f32)> = squares
        .iter()
        .filter(|s| (s.2 - module).abs() < 0.01)
        .map(|s| (s.0, s.1))
        .collect();
    let min_x = modules.iter().map(|m| m.0).fold(f32::MAX, f32::min);
    let max_y = modules.iter().map(|m| m.1).fold(f32::MIN, f32::max);
    let cells: Vec<(usize, usize)> = modules
        .iter()
        .map(|(x, y)| {
            (
                ((x - min_x) / module).round() as usize,
                ((max_y - y) / module).round() as usize,
            )
        })
        .collect();
    let side = cells.iter().map(|c| c.0.max(c.1)).max()? + 1;
    if side > 200 {
        return None;
    }
    // Four pixels a module, a quiet zone of four modules.
    let (scale, quiet) = (4usize, 4usize);
    let width = (side + 2 * quiet) * scale;
    let mut luma = vec![255u8; width * width];
    for (cx, cy) in cells {
        for dy in 0..scale {
            let row = (cy + quiet) * scale + dy;
            let from = row * width + (cx + quiet) * scale;
            luma[from..from + scale].fill(0);
        }
    }
    propusk_qr::read_qr_luma(luma, width as u32, width as u32).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_pdf_with_a_code_is_refused_without_panic() {
        assert!(qr_text(b"hello").is_err());
        assert!(qr_text(b"%PDF-1.7\n1 0 obj << >> stream\nno end").is_err());
        assert!(
            qr_text(
                b"%PDF-1.7\n1 0 obj << /Filter /FlateDecode >> stream\n\x78\x9c\x01\x02endstream"
            )
            .is_err()
        );
        let many_squares: String = (0..500)
            .map(|i| format!("{} {} 1 1 re ", i % 25, i / 25))
            .collect();
        let pdf = format!("%PDF-1.7\n1 0 obj << >> stream\n{many_squares}f\nendstream\n");
        assert!(qr_text(pdf.as_bytes()).is_err());
    }

    #[test]
    fn a_certificate_keeps_the_name_it_prints_and_gives_it_back() {
        use ed25519_dalek::Signer;
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let kid = propusk_spec::KeyId::new(&[1, 2]).unwrap();
        let credential = propusk_spec::examples::credential(
            propusk_spec::CredentialType::Vaccination,
            propusk_spec::CredentialId::from_bytes([9; 12]),
        );
        let text = propusk_spec::Encoder
            .encode(&credential, &kid, |d| key.sign(d).to_bytes())
            .unwrap();
        for name in ["Иванов Иван Иванович", "O'Brien Ann (Jr)", "Ivanov Ivan"] {
            let context = crate::pdf::PrintContext {
                tz: "Europe/Moscow".into(),
                issuer: None,
                name: Some(name.into()),
            };
            let pdf = crate::pdf::certificate_in(&text, &[], &context).unwrap();
            assert_eq!(qr_text(&pdf).unwrap(), text);
            assert_eq!(holder_note(&pdf).as_deref(), Some(name));
        }
        let context = crate::pdf::PrintContext {
            tz: "UTC".into(),
            issuer: None,
            name: None,
        };
        let pdf = crate::pdf::certificate_in(&text, &[], &context).unwrap();
        assert_eq!(holder_note(&pdf), None);
        assert_eq!(holder_note(b"%PDF-1.7 /PropuskHolder <FEFF04>"), None);
        assert_eq!(holder_note(b"%PDF-1.7 /PropuskHolder (  )"), None);
        assert_eq!(holder_note(b"%PDF-1.7 /PropuskHolder (A\\nB)"), None);
        assert_eq!(
            holder_note(b"%PDF-1.7 /PropuskHolder (A \\) B)").as_deref(),
            Some("A ) B")
        );
        assert_eq!(holder_note(b"%PDF-1.7 /PropuskHolder (A (B"), None);
    }
}
