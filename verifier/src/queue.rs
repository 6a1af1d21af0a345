//! A scanner's queue: one credential per line, each line a different person. Every line is
//! answered as soon as it is read; the lines that have already arrived when the verifier is free
//! are verified together, with one batch signature check. A door's scanner, one code at a time,
//! sees no delay; a script piping thousands of codes gets batch speed.

use std::io::BufRead;
use std::sync::mpsc;

use propusk_trust_list::{Report, Verdict};

use crate::session::Session;

/// Lines verified together at most.
pub const QUEUE_BATCH: usize = 256;
/// The longest line read whole (a link with an EU certificate is a few kilobytes): the rest of a
/// longer line is skipped, and what was read is answered (as not a credential, or corrupt).
pub const MAX_LINE: usize = 64 << 10;

/// The next line of `input` without its `\n` or `\r\n`, at most [`MAX_LINE`] bytes of it, as text
/// (invalid UTF-8 replaced, so it is answered rather than ending the queue); `None` at the end.
fn next_line(input: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut any = false;
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..at], at + 1),
            None => (buffer, buffer.len()),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let ended = done > chunk.len();
        input.consume(done);
        if ended {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// What a scanner typed, as the code holds it: surrounding white space dropped, and text typed
/// through a Russian keyboard layout (a scanner emulating a keyboard sends key positions, so
/// `PR2:` arrives as `ЗК2Ж`) mapped back to the Latin keys; `None` for a blank line.
pub fn scanned(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let russian = ["ЗК2Ж", "ЗК1Ж", "РС1Ж", "реезыЖ", "реезЖ", "РЕЕЗЫЖ", "РЕЕЗЖ"]
        .iter()
        .any(|p| line.starts_with(p));
    if !russian {
        return Some(line.to_owned());
    }
    Some(line.chars().map(latin_key).collect())
}

/// The character the same key gives in the US layout, for a character of the Russian ЙЦУКЕН
/// layout; other characters are kept.
fn latin_key(c: char) -> char {
    const RU: &str = "ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮйцукенгшщзхъфывапролджэячсмитьбю.,№;\"";
    const US: &str = "QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>qwertyuiop[]asdfghjkl;'zxcvbnm,./?#$@";
    RU.chars()
        .position(|r| r == c)
        .and_then(|i| US.chars().nth(i))
        .unwrap_or(c)
}

impl Session {
    /// Answers every line of `lines` (one credential each; a trailing `\r` is dropped, invalid
    /// UTF-8 is answered like any other text, a line is read up to [`MAX_LINE`]), calling
    /// `answer` with each batch of reports in line order as soon as it is verified; returns every
    /// verdict. Stops at the first error of `lines` or of `answer`.
    pub fn answer_lines<E: From<std::io::Error>>(
        &self,
        lines: impl BufRead + Send + 'static,
        mut answer: impl FnMut(&[Report]) -> Result<(), E>,
    ) -> Result<Vec<Verdict>, E> {
        let (tx, rx) = mpsc::sync_channel::<std::io::Result<String>>(4 * QUEUE_BATCH);
        std::thread::spawn(move || {
            let mut lines = lines;
            loop {
                let line = next_line(&mut lines).transpose();
                let Some(line) = line else { break };
                // Blank lines from a scanner are no one at the door.
                let line = match line.map(|l| scanned(&l)) {
                    Ok(None) => continue,
                    Ok(Some(l)) => Ok(l),
                    Err(e) => Err(e),
                };
                let failed = line.is_err();
                if tx.send(line).is_err() || failed {
                    break;
                }
            }
        });
        let mut verdicts = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first?];
            while batch.len() < QUEUE_BATCH {
                match rx.try_recv() {
                    Ok(line) => batch.push(line?),
                    Err(_) => break,
                }
            }
            let reports = self.verify_queue(&batch);
            answer(&reports)?;
            verdicts.extend(reports.iter().map(|r| r.verdict));
        }
        Ok(verdicts)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use propusk_spec::Timestamp;
    use propusk_trust_list::Reason;

    use super::*;

    #[test]
    fn what_a_scanner_types_is_read_as_the_code_holds_it() {
        assert_eq!(scanned("  \t "), None);
        assert_eq!(scanned("  PR2:ABC 12  ").as_deref(), Some("PR2:ABC 12"));
        assert_eq!(
            scanned("ЗК2Ж6ИЖю%;*+-ю.").as_deref(),
            Some("PR2:6B:.%$*+-./")
        );
        assert_eq!(
            scanned("реезыЖ..зщкефдюучфьздуюсщь.с.ЗВА2Ч").as_deref(),
            Some("https://portal.example.com/c/PDF2X")
        );
        assert_eq!(
            scanned("реезыЖ..зщкефдюучфьздуюсщь.с.ЗВА2Ч№ЗК2Ж").as_deref(),
            Some("https://portal.example.com/c/PDF2X#PR2:")
        );
        // Text that does not start as a credential or a link typed in Russian is kept.
        assert_eq!(scanned("Привет").as_deref(), Some("Привет"));
    }

    #[test]
    fn every_line_is_answered_in_order_as_a_person_of_its_own() -> Result<(), std::io::Error> {
        let at = Timestamp::from_unix(1_700_000_000).ok_or(std::io::ErrorKind::Other)?;
        let session = Session::without_trust_data(at);
        let mut lines = String::new();
        for i in 0..1_000 {
            lines.push_str(if i % 2 == 0 { "hello\r\n" } else { "PR2:0\n" });
        }
        let mut answered = Vec::new();
        let mut batches = 0;
        let verdicts = session.answer_lines(Cursor::new(lines), |reports| {
            batches += 1;
            answered.extend(reports.iter().map(|r| r.reason));
            Ok::<_, std::io::Error>(())
        })?;
        assert_eq!(verdicts.len(), 1_000);
        assert!(verdicts.iter().all(|v| *v == Verdict::Invalid));
        assert_eq!(
            answered[0],
            Some(Reason::NotACredential),
            "the \\r is dropped"
        );
        assert_eq!(answered[1], Some(Reason::Corrupt));
        assert_eq!(answered[998], Some(Reason::NotACredential));
        assert!(batches >= 1_000 / QUEUE_BATCH, "{batches} batches");
        Ok(())
    }

    #[test]
    fn odd_lines_are_answered_and_the_queue_goes_on() -> Result<(), std::io::Error> {
        let at = Timestamp::from_unix(1_700_000_000).ok_or(std::io::ErrorKind::Other)?;
        let session = Session::without_trust_data(at);
        let mut input = b"\xff\xfe not text\n".to_vec();
        input.extend(std::iter::repeat_n(b'A', 3 * MAX_LINE));
        input.extend_from_slice(b"\nPR2:0\r\nlast line without an end");
        let mut answered = Vec::new();
        session.answer_lines(Cursor::new(input), |reports| {
            answered.extend(reports.iter().map(|r| r.reason));
            Ok::<_, std::io::Error>(())
        })?;
        assert_eq!(
            answered,
            [
                Some(Reason::NotACredential),
                Some(Reason::Corrupt),
                Some(Reason::Corrupt),
                Some(Reason::NotACredential)
            ]
        );
        let mut line = Cursor::new(vec![b'x'; 2 * MAX_LINE]);
        assert_eq!(next_line(&mut line)?.map(|l| l.len()), Some(MAX_LINE));
        assert_eq!(next_line(&mut line)?, None);
        Ok(())
    }
}
