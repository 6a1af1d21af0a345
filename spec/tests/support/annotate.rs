//! A byte-by-byte commentary of a credential's CBOR, for the worked example in SPEC.md.

use propusk_spec::windows_1251_char;

/// What the map keys mean, by the map they stand in.
fn key_name(context: &str, key: i64) -> &'static str {
    match (context, key) {
        ("header", 1) => "alg",
        ("header", 4) => "kid",
        ("claims", 4) => "exp: expiry",
        ("claims", 6) => "iat: issued at",
        ("claims", 7) => "cti: credential id",
        ("claims", -1) => "holder",
        ("claims", -2) => "vaccination body",
        ("claims", -3) => "recovery body",
        ("claims", -4) => "test body",
        ("claims", -5) => "exemption body",
        ("claims", -6) => "pass body",
        ("vaccination", 1) => "product",
        ("vaccination", 2) => "dose",
        ("vaccination", 3) => "doses",
        ("vaccination", 4) => "date",
        ("vaccination", 5) => "country",
        ("vaccination", 6) => "administered by",
        _ => "",
    }
}

fn child_context(context: &str, key: i64) -> &'static str {
    match (context, key) {
        ("claims", -1) => "holder",
        ("claims", -2) => "vaccination",
        _ => "value",
    }
}

struct Walker<'a> {
    bytes: &'a [u8],
    at: usize,
    out: String,
}

impl Walker<'_> {
    fn head(&mut self) -> (u8, u64, usize) {
        let start = self.at;
        let ib = self.bytes[self.at];
        self.at += 1;
        let extra = match ib & 31 {
            n @ 0..=23 => return (ib >> 5, u64::from(n), start),
            24 => 1,
            25 => 2,
            26 => 4,
            _ => 8,
        };
        let mut v = 0u64;
        for _ in 0..extra {
            v = v << 8 | u64::from(self.bytes[self.at]);
            self.at += 1;
        }
        (ib >> 5, v, start)
    }

    fn line(&mut self, depth: usize, from: usize, to: usize, note: &str) {
        let hex: Vec<String> = self.bytes[from..to]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut hex = hex.join(" ");
        if hex.len() > 40 {
            hex = format!("{} …", &hex[..36]);
        }
        let pad = "   ".repeat(depth);
        self.out
            .push_str(&format!("{:<56} # {note}\n", format!("{pad}{hex}")));
    }

    /// Walks one item; returns its integer value when it is an integer (for map keys).
    fn item(&mut self, depth: usize, context: &str, label: &str) -> Option<i64> {
        let (major, arg, start) = self.head();
        let prefix = if label.is_empty() {
            String::new()
        } else {
            format!("{label}: ")
        };
        match major {
            0 => {
                self.line(depth, start, self.at, &format!("{prefix}unsigned({arg})"));
                return i64::try_from(arg).ok();
            }
            1 => {
                let n = -1 - arg as i64;
                self.line(depth, start, self.at, &format!("{prefix}negative({n})"));
                return Some(n);
            }
            2 => {
                let len = arg as usize;
                let body = &self.bytes[self.at..self.at + len];
                let nested = match context {
                    "cose-protected" => Some("header"),
                    "cose-payload" => Some("claims"),
                    _ => None,
                };
                if let Some(inner) = nested {
                    self.line(
                        depth,
                        start,
                        self.at,
                        &format!("{prefix}bytes({len}), holding:"),
                    );
                    let mut w = Walker {
                        bytes: body,
                        at: 0,
                        out: String::new(),
                    };
                    w.item(depth + 1, inner, "");
                    self.out.push_str(&w.out);
                    self.at += len;
                } else {
                    let cyrillic = !body.is_ascii() && !body.contains(&0x98);
                    let note = if cyrillic && context == "text" {
                        let s: String = body.iter().map(|&b| windows_1251_char(b)).collect();
                        format!("{prefix}bytes({len}) \"{s}\" in windows-1251")
                    } else {
                        format!("{prefix}bytes({len})")
                    };
                    self.at += len;
                    self.line(depth, start, self.at, &note);
                }
            }
            3 => {
                let len = arg as usize;
                let s = String::from_utf8_lossy(&self.bytes[self.at..self.at + len]).into_owned();
                self.at += len;
                self.line(
                    depth,
                    start,
                    self.at,
                    &format!("{prefix}text({len}) \"{s}\""),
                );
            }
            4 => {
                let what = if context == "cose" { " COSE_Sign1" } else { "" };
                self.line(
                    depth,
                    start,
                    self.at,
                    &format!("{prefix}array({arg}){what}"),
                );
                let names = [
                    "protected header",
                    "unprotected header",
                    "payload",
                    "signature",
                ];
                // The holder: [initials, date of birth, document].
                let holder = [
                    "initials",
                    "date of birth",
                    "document (a domestic passport's shown digits)",
                ];
                for i in 0..arg as usize {
                    let (ctx, name) = match context {
                        "cose" => (
                            ["cose-protected", "header", "cose-payload", "signature"][i],
                            names[i],
                        ),
                        "holder" if i == 0 => ("text", holder[0]),
                        "holder" => ("value", holder[i.min(2)]),
                        _ => ("value", ""),
                    };
                    self.item(depth + 1, ctx, name);
                }
            }
            5 => {
                self.line(depth, start, self.at, &format!("{prefix}map({arg})"));
                for _ in 0..arg {
                    let key_start = self.at;
                    let (km, kv, _) = self.head();
                    let key = if km == 0 { kv as i64 } else { -1 - kv as i64 };
                    let name = key_name(context, key);
                    self.line(depth + 1, key_start, self.at, &format!("key {key}: {name}"));
                    let child = child_context(context, key);
                    let text_like = matches!(
                        name,
                        "family name" | "given name" | "patronymic" | "administered by"
                    );
                    self.item(depth + 2, if text_like { "text" } else { child }, "");
                }
            }
            _ => self.line(depth, start, self.at, "other"),
        }
        None
    }
}

/// Annotates a COSE_Sign1, one line per CBOR head or value.
pub(crate) fn annotate(cose: &[u8]) -> String {
    let mut w = Walker {
        bytes: cose,
        at: 0,
        out: String::new(),
    };
    w.item(0, "cose", "");
    w.out
}
