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

/// Decodes exactly one deterministically encoded item from `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, CborError> {
    let mut reader = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH)
        .map_err(|e| match e {
            ciborium::de::Error::RecursionLimitExceeded => CborError::TooDeep { max: MAX_DEPTH },
            _ => CborError::Malformed,
        })?;
    let used = bytes.len() - reader.len();
    check_sorted(&value)?;
    if encode(&value) != bytes[..used] {
        return Err(CborError::NotDeterministic);
    }
    if used != bytes.len() {
        return Err(CborError::TrailingBytes);
    }
    Ok(value)
}

/// Checks that every map's keys are strictly ascending by their encoded bytes.
fn check_sorted(value: &Value) -> Result<(), CborError> {
    match value {
        Value::Map(entries) => {
            let mut previous: Option<Vec<u8>> = None;
            for (k, v) in entries {
                let key = encode(k);
                match previous.as_ref().map(|p| p.cmp(&key)) {
                    Some(std::cmp::Ordering::Equal) => return Err(CborError::DuplicateKey),
                    Some(std::cmp::Ordering::Greater) => return Err(CborError::NotDeterministic),
                    _ => {}
                }
                check_sorted(k)?;
                check_sorted(v)?;
                previous = Some(key);
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(check_sorted),
        Value::Tag(_, inner) => check_sorted(inner),
        _ => Ok(()),
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
