//! The clean-room decoder's credential ids and links (SPEC §11, §12).

use super::{Answer, Decoder, Rule, Step, refuse};

const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Decoder {
    /// The 12 bytes of a credential id's text form; refusals at `layer`.
    pub(crate) fn id(&self, text: &str, layer: &'static str) -> Step<Vec<u8>> {
        let mut values = Vec::new();
        for c in text.chars().filter(|&c| c != '-') {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            match CROCKFORD.iter().position(|&a| char::from(a) == c) {
                Some(v) => values.push(v as u8),
                None => self.check(Rule::IdForm, false, layer)?,
            }
        }
        if values.len() != 21 {
            self.check(Rule::IdForm, false, layer)?;
            if values.len() < 21 {
                return refuse(layer);
            }
            values.truncate(21);
        }
        let check = values[..20].iter().fold(0u8, |acc, &d| {
            let v = (acc ^ d) << 1;
            if v & 0x20 != 0 { (v ^ 0x25) & 31 } else { v }
        });
        self.check(Rule::IdCheck, check == values[20], layer)?;
        self.check(Rule::IdPadding, values[19] & 0b1111 == 0, layer)?;
        let n = values[..20]
            .iter()
            .fold(0u128, |acc, &d| (acc << 5) | u128::from(d))
            >> 4;
        Ok(n.to_be_bytes()[4..].to_vec())
    }

    /// A link: the id it names and, for an offline link, whether its credential is valid and
    /// the one it names.
    pub(crate) fn link(&self, url: &str, keys: &[(Vec<u8>, [u8; 32])]) -> Step<(Vec<u8>, bool)> {
        let (path, fragment) = match url.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (url, None),
        };
        let lower = path.to_ascii_lowercase();
        let scheme = lower.starts_with("https://")
            || lower.starts_with("http://127.0.0.1")
            || lower.starts_with("http://localhost");
        let (base, id) = path.rsplit_once('/').ok_or(Answer::Invalid("link"))?;
        let shape = scheme && base.to_ascii_lowercase().ends_with("/c");
        self.check(Rule::LinkShape, shape, "link")?;
        let id = self.id(id, "link")?;
        let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
            return Ok((id, false));
        };
        let text = self.percent_decode(fragment)?;
        self.check(Rule::LinkFragment, text.starts_with("PR2:"), "link")?;
        match self.credential(&text, keys) {
            super::Answer::Valid(cti) => {
                let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                self.check(Rule::LinkIdMatches, cti == hex, "link")?;
                Ok((id, true))
            }
            other => Err(other),
        }
    }

    fn percent_decode(&self, s: &str) -> Step<String> {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let escape = (bytes[i] == b'%')
                .then(|| s.get(i + 1..i + 3))
                .flatten()
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match escape {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => {
                    if bytes[i] == b'%' {
                        self.check(Rule::LinkPercent, false, "link")?;
                    }
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        match String::from_utf8(out) {
            Ok(s) => Ok(s),
            Err(_) if self.on(Rule::LinkPercent) => refuse("link"),
            Err(e) => Ok(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }
}
