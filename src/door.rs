//! `propusk verify` at a door: on a terminal, without texts on the command line, each scan fills
//! the screen — the verdict large and coloured with its symbol, what to match against the ID
//! document, the time of the check — and the next scan replaces it. The scanned text is not
//! echoed. Plain text (no colour) with `NO_COLOR`.

use propusk_spec::Timestamp;
use propusk_trust_list::{Lang, Locale, Report, Verdict};
use propusk_verifier::{Session, TrustView, detail_lines, verdict_line};

use crate::error::CliError;

/// Clears the screen and puts the cursor at the top left.
const CLEAR: &str = "\u{1b}[2J\u{1b}[H";
/// Ends a coloured span.
const RESET: &str = "\u{1b}[0m";

/// How the door display draws.
#[derive(Clone, Copy, Debug)]
pub struct Door {
    /// Colours (not with `NO_COLOR`).
    pub colour: bool,
    /// Columns of the verdict banner.
    pub width: usize,
}

impl Door {
    /// From the environment: `NO_COLOR` turns colour off; `COLUMNS` sets the width.
    pub fn from_env() -> Self {
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(64)
            .clamp(40, 100);
        Door { colour, width }
    }

    /// What to scan next.
    pub fn prompt(lang: Lang) -> &'static str {
        match lang {
            Lang::En => "Scan the next code (Ctrl-C to end) ",
            Lang::Ru => "Сканируйте следующий код (Ctrl-C — выход) ",
        }
    }

    /// One screen: the verdict banner, the details, the time of the check, the prompt.
    pub fn frame(
        &self,
        report: &Report,
        trust: TrustView,
        locale: &Locale,
        at: Timestamp,
    ) -> String {
        let (symbol, background) = match report.verdict {
            Verdict::Valid => ('✓', "42"),
            Verdict::Invalid => ('✗', "41"),
            Verdict::Unknown => ('?', "100"),
            Verdict::Unread => (' ', "100"),
            Verdict::Incomplete => ('…', "43"),
        };
        let headline = format!("{symbol}  {}", verdict_line(report, locale.lang));
        let mut out = String::from(CLEAR);
        let pad = |text: &str| {
            let used = text.chars().count() + 3;
            format!("   {text}{}", " ".repeat(self.width.saturating_sub(used)))
        };
        for (i, line) in [String::new(), headline, String::new()].iter().enumerate() {
            let body = pad(line);
            if self.colour {
                let weight = if i == 1 { "1;" } else { "" };
                out.push_str(&format!("\u{1b}[{weight}97;{background}m{body}{RESET}\n"));
            } else {
                out.push_str(body.trim_end());
                out.push('\n');
            }
        }
        out.push('\n');
        for line in detail_lines(report, trust, locale) {
            out.push_str(&format!("   {line}\n"));
        }
        let checked = match locale.lang {
            Lang::En => "checked",
            Lang::Ru => "проверено",
        };
        out.push_str(&format!("   {checked} {}\n\n", locale.time(at)));
        out.push_str(Door::prompt(locale.lang));
        out
    }
}

/// Reads scans from the terminal without echo and answers each on a screen of its own; ends at
/// Ctrl-D (or Ctrl-C). Returns the verdicts.
pub fn run(session: &mut Session) -> Result<Vec<Verdict>, CliError> {
    use std::io::Write;
    let door = Door::from_env();
    let lang = session.locale().lang;
    let mut out = std::io::stdout();
    write!(out, "{CLEAR}{}", Door::prompt(lang))?;
    out.flush()?;
    let mut verdicts = Vec::new();
    // A terminal that went away reads as endless empty lines: stop after many in a row.
    let mut empty_in_a_row = 0;
    loop {
        let line = match rpassword::read_password() {
            Ok(line) => line,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => break,
            Err(e) => return Err(e.into()),
        };
        let Some(text) = propusk_verifier::scanned(&line) else {
            empty_in_a_row += 1;
            if empty_in_a_row > 1000 {
                break;
            }
            continue;
        };
        empty_in_a_row = 0;
        // Judged as the next scan: with the same holder's code just before when the door's
        // policy found that incomplete.
        let report = session.verify_next(text);
        write!(
            out,
            "{}",
            door.frame(&report, session.trust(), session.locale(), session.at())
        )?;
        verdicts.push(report.verdict);
        out.flush()?;
    }
    writeln!(out)?;
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    use propusk_trust_list::{Reason, TrustState};

    use super::*;

    #[test]
    fn a_frame_clears_the_screen_and_shows_the_verdict_with_its_symbol() {
        let trust = TrustView {
            state: TrustState::Fresh,
            age_s: Some(3600),
        };
        let at = Timestamp::from_unix(1_800_000_000).unwrap_or_else(|| unreachable!());
        let locale = Locale::named(Lang::Ru, "Europe/Moscow");
        let mut report = Report::blank(TrustState::Fresh);
        report.verdict = Verdict::Invalid;
        report.reason = Some(Reason::Revoked);
        let coloured = Door {
            colour: true,
            width: 60,
        }
        .frame(&report, trust, &locale, at);
        assert!(coloured.starts_with(CLEAR));
        assert!(
            coloured.contains("\u{1b}[1;97;41m   ✗  НЕДЕЙСТВИТЕЛЕН"),
            "{coloured}"
        );
        assert!(coloured.contains("проверено 15.01.2027"), "{coloured}");
        assert!(coloured.contains("МСК"));
        let plain = Door {
            colour: false,
            width: 60,
        }
        .frame(&report, trust, &locale, at);
        assert!(!plain.replace(CLEAR, "").contains('\u{1b}'), "{plain}");
        assert!(plain.contains("✗  НЕДЕЙСТВИТЕЛЕН"));
    }
}
