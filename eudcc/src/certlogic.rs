//! CertLogic 1.3.3, the JsonLogic subset in which EU countries publish their DCC business rules:
//! an expression (JSON) evaluated over a data context (JSON) to a value, exactly as the
//! specification and its test suite say — truthy and falsy as CertLogic defines them (some
//! values are neither), integers only, date-times made only by `plusTime` and
//! `dccDateOfBirth` (milliseconds, UTC, offset the way JavaScript's `Date` setters do),
//! `reduce` whose lambda also sees the original data as `data`, and `extractFromUVCI`.
//!
//! An invalid expression (an unknown operation, a wrong number of operands, a type mismatch
//! found on evaluation) is an error, never a value; a rule whose evaluation fails is to be
//! taken as not passed. Expressions come from outside: nesting is bounded.
//!
//! ```
//! use propusk_eudcc::certlogic::{evaluate, Value};
//! let rule = serde_json::json!({"after": [
//!     {"dccDateOfBirth": [{"var": "payload.dob"}]},
//!     {"plusTime": [{"var": "external.validationClock"}, -18, "year"]}]});
//! let data = serde_json::json!({"payload": {"dob": "2010-05"},
//!     "external": {"validationClock": "2026-06-01T12:00:00Z"}});
//! assert_eq!(evaluate(&rule, &data).unwrap(), Value::Bool(true)); // a minor
//! ```

mod time;

use serde_json::Value as Json;
use thiserror::Error;

use time::{TimeUnit, date_of_birth, plus_time};

/// How deeply expressions may nest (the business rules in use nest a dozen levels at most).
pub const MAX_DEPTH: usize = 64;

/// What an expression evaluates to: a JSON value, or a date-time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number that is not an integer (data may hold one; no operation takes it).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, in its keys' order.
    Object(Vec<(String, Value)>),
    /// A date-time, in milliseconds since 1970-01-01T00:00:00Z.
    DateTime(i64),
}

impl Value {
    /// A JSON value as a CertLogic value.
    pub fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::Str(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Value::from_json).collect()),
            Json::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// `Some(true)` when truthy, `Some(false)` when falsy, `None` when neither (a date-time, a
    /// non-integer number).
    pub fn truthiness(&self) -> Option<bool> {
        match self {
            Value::Null => Some(false),
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            Value::Str(s) => Some(!s.is_empty()),
            Value::Array(items) => Some(!items.is_empty()),
            Value::Object(fields) => Some(!fields.is_empty()),
            Value::Float(_) | Value::DateTime(_) => None,
        }
    }

    /// Strict equality as `===` has it: of nulls, booleans, integers and strings by value;
    /// never of arrays, objects or date-times (they are equal only to themselves in
    /// JavaScript, and CertLogic values have no identity).
    fn strictly_equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => *a as f64 == *b,
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("CertLogic: {0}")]
pub struct CertLogicError(String);

fn fail<T>(why: impl Into<String>) -> Result<T, CertLogicError> {
    Err(CertLogicError(why.into()))
}

/// Evaluates `expression` over `data`.
pub fn evaluate(expression: &Json, data: &Json) -> Result<Value, CertLogicError> {
    eval(expression, &Value::from_json(data), 0)
}

/// A date-time as CertLogic reads it (`2021-06-01`, `2021-06-01T06:30:00Z`, with an offset or
/// fractions), in Unix seconds; `None` when it is not one.
pub fn date_time(text: &str) -> Option<i64> {
    time::plus_time(text, 0, time::TimeUnit::Day)
        .ok()
        .map(|ms| ms.div_euclid(1000))
}

/// Evaluates `expression` over `data` as a validation rule: passed only when it evaluates to
/// a truthy value; an error is not passed.
pub fn passes(expression: &Json, data: &Json) -> bool {
    evaluate(expression, data).is_ok_and(|v| v.truthiness() == Some(true))
}

fn eval(expr: &Json, data: &Value, depth: usize) -> Result<Value, CertLogicError> {
    if depth > MAX_DEPTH {
        return fail(format!("expressions nested deeper than {MAX_DEPTH}"));
    }
    let operands = match expr {
        Json::Bool(b) => return Ok(Value::Bool(*b)),
        Json::String(s) => return Ok(Value::Str(s.clone())),
        Json::Number(n) => {
            return n
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| CertLogicError(format!("{n} is not an integer literal")));
        }
        Json::Null => return fail("null is not an expression"),
        Json::Array(items) => {
            return items
                .iter()
                .map(|item| eval(item, data, depth + 1))
                .collect::<Result<_, _>>()
                .map(Value::Array);
        }
        Json::Object(map) => map,
    };
    let mut entries = operands.iter();
    let (Some((operator, values)), None) = (entries.next(), entries.next()) else {
        return fail("an operation object must have exactly one key");
    };
    if operator == "var" {
        let Json::String(path) = values else {
            return fail("not of the form { \"var\": \"<path>\" }");
        };
        return Ok(access(data, path));
    }
    let Some(values) = values.as_array().filter(|v| !v.is_empty()) else {
        return fail(format!(
            "\"{operator}\" is not of the form {{ \"{operator}\": [ … ] }}"
        ));
    };
    let d = depth + 1;
    let arg = |i: usize| -> Result<Value, CertLogicError> {
        match values.get(i) {
            Some(e) => eval(e, data, d),
            None => fail(format!("\"{operator}\" lacks operand #{}", i + 1)),
        }
    };
    match operator.as_str() {
        "if" => {
            if values.len() != 3 {
                return fail("an if-operation must have a guard, a then and an else");
            }
            match arg(0)?.truthiness() {
                Some(true) => arg(1),
                Some(false) => arg(2),
                None => fail("an if-guard neither truthy nor falsy"),
            }
        }
        "!" => match arg(0)?.truthiness() {
            Some(b) => Ok(Value::Bool(!b)),
            None => fail("the operand of ! is neither truthy nor falsy"),
        },
        "and" => {
            if values.len() < 2 {
                return fail("an \"and\" operation must have at least 2 operands");
            }
            let mut last = Value::Bool(true);
            for i in 0..values.len() {
                last = arg(i)?;
                match last.truthiness() {
                    Some(true) => {}
                    Some(false) => return Ok(last),
                    None => return fail("an \"and\" operand neither truthy nor falsy"),
                }
            }
            Ok(last)
        }
        "===" | "in" | "+" => {
            if values.len() != 2 {
                return fail(format!("\"{operator}\" must have 2 operands"));
            }
            let (left, right) = (arg(0)?, arg(1)?);
            match (operator.as_str(), left, right) {
                ("===", l, r) => Ok(Value::Bool(l.strictly_equals(&r))),
                ("in", l, Value::Array(items)) => {
                    Ok(Value::Bool(items.iter().any(|i| l.strictly_equals(i))))
                }
                ("in", _, _) => fail("the right-hand side of \"in\" must be an array"),
                ("+", Value::Int(l), Value::Int(r)) => l
                    .checked_add(r)
                    .map(Value::Int)
                    .ok_or_else(|| CertLogicError("an integer overflow".into())),
                _ => fail("the operands of \"+\" must both be integers"),
            }
        }
        "<" | ">" | "<=" | ">=" | "before" | "after" | "not-after" | "not-before" => {
            if !(2..=3).contains(&values.len()) {
                return fail(format!("\"{operator}\" must have 2 or 3 operands"));
            }
            let dates = matches!(
                operator.as_str(),
                "before" | "after" | "not-after" | "not-before"
            );
            let mut keys = Vec::with_capacity(values.len());
            for i in 0..values.len() {
                keys.push(match (arg(i)?, dates) {
                    (Value::Int(n), false) | (Value::DateTime(n), true) => n,
                    (_, false) => return fail("comparison operands must be integers"),
                    (_, true) => return fail("date-time comparison operands must be date-times"),
                });
            }
            let holds = |a: i64, b: i64| match operator.as_str() {
                "<" | "before" => a < b,
                ">" | "after" => a > b,
                "<=" | "not-after" => a <= b,
                _ => a >= b,
            };
            Ok(Value::Bool(keys.windows(2).all(|w| holds(w[0], w[1]))))
        }
        "plusTime" => {
            if values.len() != 3 {
                return fail("\"plusTime\" must have 3 operands");
            }
            let Some(amount) = values[1].as_i64() else {
                return fail("the amount (#2) of \"plusTime\" must be an integer");
            };
            let Some(unit) = values[2].as_str().and_then(TimeUnit::of) else {
                return fail("the unit (#3) of \"plusTime\" must be year, month, day or hour");
            };
            match arg(0)? {
                Value::Str(s) => plus_time(&s, amount, unit).map(Value::DateTime),
                _ => fail("the date (#1) of \"plusTime\" must be a string"),
            }
        }
        "dccDateOfBirth" => match arg(0)? {
            Value::Str(s) => date_of_birth(&s).map(Value::DateTime),
            _ => fail("the operand of \"dccDateOfBirth\" must be a string"),
        },
        "reduce" => {
            if values.len() != 3 {
                return fail("\"reduce\" must have 3 operands");
            }
            let items = match arg(0)? {
                Value::Null => Vec::new(),
                Value::Array(items) => items,
                _ => return fail("the operand of \"reduce\" is neither null nor an array"),
            };
            let mut accumulator = arg(2)?;
            for current in items {
                let context = Value::Object(vec![
                    ("accumulator".into(), accumulator),
                    ("current".into(), current),
                    ("data".into(), data.clone()),
                ]);
                accumulator = eval(&values[1], &context, d)?;
            }
            Ok(accumulator)
        }
        "extractFromUVCI" => {
            if values.len() != 2 {
                return fail("\"extractFromUVCI\" must have 2 operands");
            }
            let Some(index) = values[1].as_i64() else {
                return fail("the index (#2) of \"extractFromUVCI\" must be an integer");
            };
            match arg(0)? {
                Value::Null => Ok(Value::Null),
                Value::Str(uci) => {
                    Ok(extract_from_uvci(&uci, index).map_or(Value::Null, Value::Str))
                }
                _ => fail("the UCI (#1) of \"extractFromUVCI\" must be a string or null"),
            }
        }
        other => fail(format!("unknown operation \"{other}\"")),
    }
}

/// `it.<path>`: fragments separated by `.`, an integer fragment indexing an array; anything
/// missing is `null`; the empty path is the whole context.
fn access(data: &Value, path: &str) -> Value {
    if path.is_empty() {
        return data.clone();
    }
    let mut at = data;
    for fragment in path.split('.') {
        let next = match at {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == fragment).map(|(_, v)| v),
            Value::Array(items) => fragment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => at = v,
            None => return Value::Null,
        }
    }
    at.clone()
}

/// The fragment `index` of a UCI split on `/`, `#` and `:`, the optional `URN:UVCI:` prefix
/// ignored.
fn extract_from_uvci(uci: &str, index: i64) -> Option<String> {
    let body = uci.strip_prefix("URN:UVCI:").unwrap_or(uci);
    let index = usize::try_from(index).ok()?;
    body.split(['/', '#', ':']).nth(index).map(str::to_owned)
}
