//! The travel page: an EU Digital COVID Certificate (`HC1:`) in English, as EU verifiers and
//! border officers read it, with its QR code; the second page of a credential that has an EU
//! twin, or the only page of an EU certificate kept on its own.

use propusk_eudcc::valuesets;
use propusk_trust_list::{Lang, Locale};
use serde_json::Value;

use crate::error::WalletError;
use crate::page::{A4, Writer};

fn title(kind: propusk_eudcc::Hc1Type) -> &'static str {
    match kind {
        propusk_eudcc::Hc1Type::Vaccination => "EU Digital COVID Certificate — vaccination",
        propusk_eudcc::Hc1Type::Test => "EU Digital COVID Certificate — test",
        propusk_eudcc::Hc1Type::Recovery => "EU Digital COVID Certificate — recovery",
    }
}

fn field(group: &Value, key: &str) -> String {
    match &group[key] {
        Value::String(s) => propusk_verifier::printable(s),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A code's display name in an EU value set (the code itself when the set lacks it).
fn named(sets: &valuesets::ValueSets, set: &str, code: &str) -> String {
    sets.name(set, code).unwrap_or(code).to_owned()
}

fn country(code: &str) -> String {
    valuesets::country(code).map_or_else(|| code.to_owned(), |name| format!("{name} ({code})"))
}

/// What the certificate says, in English.
fn lines(hc1: &propusk_eudcc::Hc1, en: &Locale) -> Vec<(String, String)> {
    let c = &hc1.certificate;
    let nam = &c["nam"];
    let names = [field(nam, "fn"), field(nam, "gn")]
        .into_iter()
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let standard = [field(nam, "fnt"), field(nam, "gnt")].join("<<");
    let dob = field(c, "dob");
    let dob = dob
        .parse::<propusk_spec::BirthDate>()
        .map_or(dob, |b| en.birth_date(&b));
    let sets = valuesets::ValueSets::compiled();
    let group = hc1.entry();
    let targeted = sets
        .name("disease-agent-targeted", &field(group, "tg"))
        .unwrap_or("COVID-19")
        .to_owned();
    let mut rows = vec![
        ("Surname(s), forename(s)".to_owned(), names),
        ("Standardised name (ICAO 9303)".to_owned(), standard),
        ("Date of birth".to_owned(), dob),
        ("Disease or agent targeted".to_owned(), targeted),
    ];
    let date = |s: String| {
        s.parse::<propusk_spec::Date>()
            .map_or(s.clone(), |d| en.date(d))
    };
    match hc1.kind {
        propusk_eudcc::Hc1Type::Vaccination => {
            let product = field(group, "mp");
            let prophylaxis = field(group, "vp");
            let holder = field(group, "ma");
            rows.push((
                "Vaccine/prophylaxis".into(),
                named(&sets, "sct-vaccines-covid-19", &prophylaxis),
            ));
            rows.push((
                "Vaccine product".into(),
                named(&sets, "vaccines-covid-19-names", &product),
            ));
            rows.push((
                "Manufacturer / MA holder".into(),
                named(&sets, "vaccines-covid-19-auth-holders", &holder),
            ));
            rows.push((
                "Dose".into(),
                format!("{} of {}", field(group, "dn"), field(group, "sd")),
            ));
            rows.push(("Date of vaccination".into(), date(field(group, "dt"))));
        }
        propusk_eudcc::Hc1Type::Test => {
            let kind = field(group, "tt");
            let result = field(group, "tr");
            rows.push((
                "Test".into(),
                valuesets::test_type(&kind).unwrap_or(&kind).to_owned(),
            ));
            rows.push((
                "Result".into(),
                valuesets::test_result(&result)
                    .unwrap_or(&result)
                    .to_owned(),
            ));
            let sampled = field(group, "sc");
            let sampled = sampled
                .parse::<propusk_spec::Timestamp>()
                .map_or(sampled, |t| en.time(t));
            rows.push(("Sample collected".into(), sampled));
            let device = field(group, "ma");
            if !device.is_empty() {
                rows.push((
                    "Test device".into(),
                    named(&sets, "covid-19-lab-test-manufacturer-and-name", &device),
                ));
            }
            rows.push(("Testing centre".into(), field(group, "tc")));
        }
        propusk_eudcc::Hc1Type::Recovery => {
            rows.push(("First positive test".into(), date(field(group, "fr"))));
            rows.push((
                "Valid".into(),
                format!(
                    "{} to {}",
                    date(field(group, "df")),
                    date(field(group, "du"))
                ),
            ));
        }
    }
    rows.push(("Country".into(), country(&field(group, "co"))));
    rows.push(("Certificate issuer".into(), field(group, "is")));
    if let Some(exp) = hc1.expires_at.and_then(propusk_spec::Timestamp::from_unix) {
        rows.push(("Valid until".into(), en.time(exp)));
    }
    rows.push(("Unique certificate identifier".into(), field(group, "ci")));
    rows
}

/// How many characters of a value fit on a line beside its label.
const VALUE_CHARS: usize = 50;

/// `text` in lines of at most `width` characters, broken between words (a word longer than a
/// line is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws the travel page of `text` (an `HC1:` certificate); times in the zone named `tz`.
pub(crate) fn travel_page(w: &mut Writer<'_>, text: &str, tz: &str) -> Result<(), WalletError> {
    let hc1 = propusk_eudcc::decode(text)?;
    let en = Locale::named(Lang::En, tz);
    let (left, y) = (56.0, A4.1 - 72.0);
    w.text(left, y, 17.0, title(hc1.kind));
    w.text(
        left,
        y - 20.0,
        9.0,
        "For travel abroad: the same record as the national certificate, for EU DCC verifier apps",
    );
    // Label and value side by side, so that the page holds the data and a large QR.
    let mut row = y - 52.0;
    for (label, value) in lines(&hc1, &en) {
        w.text(left, row, 9.0, &label);
        // A long value (a test device's name) goes on over the next lines, within the page.
        for (i, part) in wrap(&value, VALUE_CHARS).iter().enumerate() {
            if i > 0 {
                row -= 14.0;
            }
            w.text(left + 175.0, row, 11.5, part);
        }
        row -= 19.0;
    }
    let size = w.qr(text, 80.0, 280.0)?;
    w.text(
        (A4.0 - size) / 2.0,
        62.0,
        9.0,
        "Show this QR code to an EU DCC verifier",
    );
    w.end_page();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_values_wrap_between_words() {
        let device = "Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test";
        let lines = wrap(device, 44);
        assert_eq!(
            lines,
            ["Abbott Rapid Diagnostics, Panbio COVID-19 Ag", "Rapid Test"]
        );
        assert_eq!(wrap("short", 44), ["short"]);
        assert_eq!(wrap("", 44), [""]);
        assert!(
            wrap(&"x".repeat(100), 44)
                .iter()
                .all(|l| l.chars().count() <= 44)
        );
    }
}
