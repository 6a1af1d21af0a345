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

impl Session {
    /// Answers every line of `lines` (one credential each; a trailing `\r` is dropped), calling
    /// `answer` with each batch of reports in line order as soon as it is verified; returns every
    /// verdict. Stops at the first error of `lines` or of `answer`.
    pub fn answer_lines<E: From<std::io::Error>>(
        &self,
        lines: impl BufRead + Send + 'static,
        mut answer: impl FnMut(&[Report]) -> Result<(), E>,
    ) -> Result<Vec<Verdict>, E> {
        let (tx, rx) = mpsc::sync_channel::<std::io::Result<String>>(4 * QUEUE_BATCH);
        std::thread::spawn(move || {
            for line in lines.lines() {
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
            for line in &mut batch {
                line.truncate(line.trim_end_matches(['\r', '\n']).len());
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
    fn every_line_is_answered_in_order_as_a_person_of_its_own() -> Result<(), std::io::Error> {
        let at = Timestamp::from_unix(1_700_000_000).ok_or(std::io::ErrorKind::Other)?;
        let session = Session::without_trust_data(at);
        let mut lines = String::new();
        for i in 0..1_000 {
            lines.push_str(if i % 2 == 0 { "hello\r\n" } else { "PR1:0\n" });
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
}
