//! Strict, bounded CBOR: deterministic encoding (RFC 8949 §4.2.1) in and out.

use std::collections::BTreeMap;

use ciborium::Value;

use crate::error::{CborError, FieldError};

/// Deepest nesting of arrays and maps accepted in one item.
pub const MAX_DEPTH: usize = 4;

/// A CBOR unsigned integer.
pub(crate) fn uint(n: u64) -> Value {
    Value::Integer(n.into())
}

/// A CBOR integer of either sign.
pub(crate) fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

/// Encodes one item. Integer and length heads are always shortest with ciborium; map keys are
/// sorted by [`map`], so the output is deterministic.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // safe: writing to a Vec cannot fail, and every Value we build is encodable.
    #[allow(clippy::expect_used)]
    ciborium::into_writer(value, &mut out).expect("safe: encoding into a Vec is infallible");
    out
}

/// A map with integer keys, its entries sorted as RFC 8949 §4.2.1 requires (bytewise order of
/// the encoded keys).
pub(crate) fn map(entries: impl IntoIterator<Item = (i64, Option<Value>)>) -> Value {
    let mut sorted: Vec<(Vec<u8>, Value, Value)> = entries
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (encode(&int(k)), int(k), v)))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Map(sorted.into_iter().map(|(_, k, v)| (k, v)).collect())
}

/// Decodes exactly one deterministically encoded item from `bytes`, checking determinism as it
/// goes: shortest heads, definite lengths, map keys strictly ascending by their encoded bytes,
/// nesting at most [`MAX_DEPTH`], nothing after the item. Lengths are checked against the bytes
/// that remain before anything is allocated.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, CborError> {
    let mut parser = Parser { bytes, at: 0 };
    let value = parser.item(1)?;
    if parser.at != bytes.len() {
        return Err(CborError::TrailingBytes);
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CborError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(CborError::Malformed)?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    /// A head: major type and argument (shortest form enforced; indefinite lengths refused).
    /// Tags and major type 7 (floats, simple values) are refused on their first byte.
    fn head(&mut self) -> Result<(u8, u64), CborError> {
        let initial = *self.take(1)?.first().ok_or(CborError::Malformed)?;
        let (major, info) = (initial >> 5, initial & 31);
        match major {
            6 => return Err(CborError::Tag),
            7 => return Err(CborError::Simple),
            _ => {}
        }
        let arg = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let n = 1usize << (info - 24);
                let arg = self
                    .take(n)?
                    .iter()
                    .fold(0u64, |a, &b| a << 8 | u64::from(b));
                let shortest = match info {
                    24 => arg >= 24,
                    25 => arg > 0xFF,
                    26 => arg > 0xFFFF,
                    _ => arg > 0xFFFF_FFFF,
                };
                if !shortest {
                    return Err(CborError::NotDeterministic);
                }
                arg
            }
            31 if matches!(major, 2..=5) => return Err(CborError::NotDeterministic),
            _ => return Err(CborError::Malformed),
        };
        Ok((major, arg))
    }

    fn length(&self, arg: u64, min_item: usize) -> Result<usize, CborError> {
        let n = usize::try_from(arg).map_err(|_| CborError::Malformed)?;
        if n.saturating_mul(min_item) > self.bytes.len() - self.at {
            return Err(CborError::Malformed);
        }
        Ok(n)
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        let (major, arg) = self.head()?;
        let container = |depth: usize| {
            if depth > MAX_DEPTH {
                Err(CborError::TooDeep { max: MAX_DEPTH })
            } else {
                Ok(())
            }
        };
        Ok(match major {
            0 => Value::Integer(arg.into()),
            1 => {
                let n = -1 - i128::from(arg);
                Value::Integer(
                    ciborium::value::Integer::try_from(n).map_err(|_| CborError::Malformed)?,
                )
            }
            2 => {
                let n = self.length(arg, 1)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            3 => {
                let n = self.length(arg, 1)?;
                let text = std::str::from_utf8(self.take(n)?).map_err(|_| CborError::Malformed)?;
                Value::Text(text.to_owned())
            }
            4 => {
                container(depth)?;
                let n = self.length(arg, 1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                container(depth)?;
                let n = self.length(arg, 2)?;
                let mut entries = Vec::with_capacity(n);
                let mut previous: Option<(usize, usize)> = None;
                for _ in 0..n {
                    let key_start = self.at;
                    let key = self.item(depth + 1)?;
                    let key_bytes = (key_start, self.at);
                    if let Some((a, b)) = previous {
                        match self.bytes[a..b].cmp(&self.bytes[key_bytes.0..key_bytes.1]) {
                            std::cmp::Ordering::Equal => return Err(CborError::DuplicateKey),
                            std::cmp::Ordering::Greater => return Err(CborError::NotDeterministic),
                            std::cmp::Ordering::Less => {}
                        }
                    }
                    previous = Some(key_bytes);
                    entries.push((key, self.item(depth + 1)?));
                }
                Value::Map(entries)
            }
            // Major types 6 and 7 never get here: head() refuses them.
            _ => return Err(CborError::Malformed),
        })
    }
}

/// The entries of a map with small integer keys, taken one by one; [`Fields::finish`] refuses
/// any key left over.
pub(crate) struct Fields<'a> {
    map: &'static str,
    entries: BTreeMap<i64, &'a Value>,
}

impl<'a> Fields<'a> {
    /// Opens `value` as the map named `map`.
    pub(crate) fn new(value: &'a Value, map: &'static str) -> Result<Self, FieldError> {
        let Value::Map(pairs) = value else {
            return Err(FieldError::NotAMap(map));
        };
        let mut entries = BTreeMap::new();
        for (k, v) in pairs {
            let key = match k {
                Value::Integer(i) => i64::try_from(*i).unwrap_or(i64::MIN),
                _ => i64::MIN,
            };
            if key == i64::MIN || entries.insert(key, v).is_some() {
                return Err(FieldError::UnknownKey { map, key });
            }
        }
        Ok(Fields { map, entries })
    }

    /// Takes an optional field.
    pub(crate) fn optional(&mut self, key: i64) -> Option<&'a Value> {
        self.entries.remove(&key)
    }

    /// Takes a required field.
    pub(crate) fn required(
        &mut self,
        key: i64,
        field: &'static str,
    ) -> Result<&'a Value, FieldError> {
        self.optional(key).ok_or(FieldError::Missing(field))
    }

    /// Refuses the first key not taken.
    pub(crate) fn finish(self) -> Result<(), FieldError> {
        match self.entries.keys().next() {
            Some(&key) => Err(FieldError::UnknownKey { map: self.map, key }),
            None => Ok(()),
        }
    }
}

/// Reads an unsigned integer field no greater than `max`.
pub(crate) fn small_uint(value: &Value, field: &'static str, max: u64) -> Result<u64, FieldError> {
    match value {
        Value::Integer(i) => u64::try_from(*i)
            .ok()
            .filter(|n| *n <= max)
            .ok_or(FieldError::invalid(field, "out of range")),
        _ => Err(FieldError::WrongType(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_sorted_by_encoded_key() {
        let m = map([
            (-2, Some(uint(0))),
            (7, Some(uint(0))),
            (-1, Some(uint(0))),
            (4, None),
        ]);
        let keys: Vec<Value> = match &m {
            Value::Map(e) => e.iter().map(|(k, _)| k.clone()).collect(),
            _ => vec![],
        };
        assert_eq!(keys, vec![int(7), int(-1), int(-2)]);
        assert_eq!(decode(&encode(&m)), Ok(m));
    }

    #[test]
    fn refuses_non_deterministic_and_bounded_input() {
        // 1 encoded with a one-byte argument.
        assert_eq!(decode(&[0x18, 0x01]), Err(CborError::NotDeterministic));
        // Indefinite-length array [1].
        assert_eq!(
            decode(&[0x9f, 0x01, 0xff]),
            Err(CborError::NotDeterministic)
        );
        // {2: 0, 1: 0}: keys out of order; {1: 0, 1: 0}: duplicate.
        assert_eq!(
            decode(&[0xa2, 0x02, 0x00, 0x01, 0x00]),
            Err(CborError::NotDeterministic)
        );
        assert_eq!(
            decode(&[0xa2, 0x01, 0x00, 0x01, 0x00]),
            Err(CborError::DuplicateKey)
        );
        assert_eq!(decode(&[0x01, 0x00]), Err(CborError::TrailingBytes));
        assert_eq!(
            decode(&[0x5a, 0xff, 0xff, 0xff, 0xff]),
            Err(CborError::Malformed)
        );
        assert_eq!(decode(&[]), Err(CborError::Malformed));
        let deep = [vec![0x81; MAX_DEPTH + 1], vec![0x00]].concat();
        assert_eq!(decode(&deep), Err(CborError::TooDeep { max: MAX_DEPTH }));
        // Huge declared lengths are an error, not an allocation.
        for head in [0x9b, 0xbb, 0x5b, 0x7b] {
            let huge = [vec![head], vec![0xff; 8], vec![0x00; 4]].concat();
            assert_eq!(decode(&huge), Err(CborError::Malformed), "{head:#x}");
            let big = [
                vec![head, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
                vec![0; 4],
            ]
            .concat();
            assert_eq!(decode(&big), Err(CborError::Malformed), "{head:#x}");
        }
        let ok = [vec![0x81; MAX_DEPTH - 1], vec![0x00]].concat();
        assert!(decode(&ok).is_ok());
    }
}
