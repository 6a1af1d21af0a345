//! Dates, partial dates of birth and instants, and their small-integer wire forms.

use std::fmt;
use std::str::FromStr;

use ciborium::Value;
use time::format_description::well_known::Rfc3339;
use time::{Month, OffsetDateTime};

use crate::cbor::{int, uint};
use crate::error::FieldError;

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;
/// Earliest year a date may have.
pub const MIN_YEAR: i32 = 1900;
/// Latest year a date may have.
pub const MAX_YEAR: i32 = 2199;

/// A calendar date (proleptic Gregorian), 1900-01-01 to 2199-12-31.
///
/// On the wire: the number of days since 1970-01-01, a CBOR integer (negative before 1970).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(time::Date);

impl Date {
    /// The date of a year, month (1–12) and day, or `None` when there is no such date or it is
    /// out of range.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = Month::try_from(month).ok()?;
        let date = time::Date::from_calendar_date(year, month, day).ok()?;
        (MIN_YEAR..=MAX_YEAR).contains(&year).then_some(Date(date))
    }

    /// The date `days` days after 1970-01-01, when in range.
    pub fn from_days(days: i64) -> Option<Self> {
        let jd = i32::try_from(days)
            .ok()?
            .checked_add(UNIX_EPOCH_JULIAN_DAY)?;
        let date = time::Date::from_julian_day(jd).ok()?;
        (MIN_YEAR..=MAX_YEAR)
            .contains(&date.year())
            .then_some(Date(date))
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        i64::from(self.0.to_julian_day() - UNIX_EPOCH_JULIAN_DAY)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.0.month() as u8
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.0.day()
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> Timestamp {
        Timestamp(self.days() * 86_400)
    }

    pub(crate) fn to_cbor(self) -> Value {
        int(self.days())
    }

    pub(crate) fn from_cbor(value: &Value, field: &'static str) -> Result<Self, FieldError> {
        let days = match value {
            Value::Integer(i) => {
                i64::try_from(*i).map_err(|_| FieldError::invalid(field, "out of range"))?
            }
            _ => return Err(FieldError::WrongType(field)),
        };
        Date::from_days(days).ok_or(FieldError::invalid(field, "out of range"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

/// Why a date or instant in text form was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {0}")]
pub struct ParseDateError(&'static str);

fn parse_number<T: FromStr>(
    s: &str,
    digits: usize,
    what: &'static str,
) -> Result<T, ParseDateError> {
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseDateError(what));
    }
    s.parse().map_err(|_| ParseDateError(what))
}

impl FromStr for Date {
    type Err = ParseDateError;

    /// Parses `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Self, ParseDateError> {
        const WHAT: &str = "date (YYYY-MM-DD, 1900 to 2199)";
        let mut parts = s.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseDateError(WHAT));
        };
        Date::new(
            parse_number(y, 4, WHAT)?,
            parse_number(m, 2, WHAT)?,
            parse_number(d, 2, WHAT)?,
        )
        .ok_or(ParseDateError(WHAT))
    }
}

/// A date of birth, as precise as the civil record: a year, a year and month, or a full date.
/// Never padded: `1980` stays `1980`, not `1980-01-01`.
///
/// On the wire: a full date as a [`Date`] (an integer); a partial one as an array `[year]` or
/// `[year, month]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum BirthDate {
    /// Only the year is known.
    Year(u16),
    /// The year and month are known.
    YearMonth(u16, u8),
    /// The whole date is known.
    Full(Date),
}

impl BirthDate {
    /// Whether this date of birth lies after `today` (for a partial date: begins after it).
    pub fn is_after(self, today: Date) -> bool {
        match self {
            BirthDate::Year(y) => i32::from(y) > today.year(),
            BirthDate::YearMonth(y, m) => (i32::from(y), m) > (today.year(), today.month()),
            BirthDate::Full(d) => d > today,
        }
    }

    /// Whether two records of a date of birth agree as far as both go (`1980-05` agrees with
    /// `1980-05-12` and with `1980`, not with `1980-06-12`).
    pub fn agrees_with(self, other: BirthDate) -> bool {
        let (a, b) = (self.to_string(), other.to_string());
        a.starts_with(&b) || b.starts_with(&a)
    }

    pub(crate) fn to_cbor(self) -> Value {
        match self {
            BirthDate::Year(y) => Value::Array(vec![uint(u64::from(y))]),
            BirthDate::YearMonth(y, m) => {
                Value::Array(vec![uint(u64::from(y)), uint(u64::from(m))])
            }
            BirthDate::Full(d) => d.to_cbor(),
        }
    }

    pub(crate) fn from_cbor(value: &Value, field: &'static str) -> Result<Self, FieldError> {
        let bad = FieldError::invalid(field, "not a year, a year and month, or a date in range");
        let small = |v: &Value| match v {
            Value::Integer(i) => u16::try_from(*i).ok(),
            _ => None,
        };
        match value {
            Value::Integer(_) => Date::from_cbor(value, field).map(BirthDate::Full),
            Value::Array(items) => {
                let parts: Option<Vec<u16>> = items.iter().map(small).collect();
                let date = match parts.as_deref() {
                    Some(&[y]) => BirthDate::Year(y),
                    Some(&[y, m]) => {
                        BirthDate::YearMonth(y, u8::try_from(m).map_err(|_| bad.clone())?)
                    }
                    _ => return Err(bad),
                };
                date.check().map_err(|_| bad)
            }
            _ => Err(FieldError::WrongType(field)),
        }
    }

    fn check(self) -> Result<Self, ParseDateError> {
        const WHAT: &str = "date of birth (YYYY, YYYY-MM or YYYY-MM-DD)";
        let year_ok = |y: u16| (MIN_YEAR..=MAX_YEAR).contains(&i32::from(y));
        match self {
            BirthDate::Year(y) if year_ok(y) => Ok(self),
            BirthDate::YearMonth(y, m) if year_ok(y) && (1..=12).contains(&m) => Ok(self),
            BirthDate::Full(_) => Ok(self),
            _ => Err(ParseDateError(WHAT)),
        }
    }
}

impl FromStr for BirthDate {
    type Err = ParseDateError;

    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Self, ParseDateError> {
        const WHAT: &str = "date of birth (YYYY, YYYY-MM or YYYY-MM-DD)";
        let parts: Vec<&str> = s.split('-').collect();
        match parts.as_slice() {
            [y] => BirthDate::Year(parse_number(y, 4, WHAT)?).check(),
            [y, m] => {
                BirthDate::YearMonth(parse_number(y, 4, WHAT)?, parse_number(m, 2, WHAT)?).check()
            }
            [_, _, _] => s
                .parse()
                .map(BirthDate::Full)
                .map_err(|_| ParseDateError(WHAT)),
            _ => Err(ParseDateError(WHAT)),
        }
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BirthDate::Year(y) => write!(f, "{y:04}"),
            BirthDate::YearMonth(y, m) => write!(f, "{y:04}-{m:02}"),
            BirthDate::Full(d) => d.fmt(f),
        }
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BirthDate({self})")
    }
}

/// Latest instant accepted: 9999-12-31T23:59:59Z.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// An instant, in whole seconds since 1970-01-01T00:00:00Z (a CWT NumericDate without
/// fractions, RFC 8392 §2), never before 1970.
///
/// On the wire: an unsigned CBOR integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `secs` seconds after the epoch, when in range.
    pub fn from_unix(secs: i64) -> Option<Self> {
        (0..=MAX_TIMESTAMP)
            .contains(&secs)
            .then_some(Timestamp(secs))
    }

    /// The instant of a system time, clamped into the range (a clock set before 1970 reads as
    /// 1970). Reading the clock is the caller's: this crate does no I/O.
    pub fn from_system(time: std::time::SystemTime) -> Self {
        let secs = match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(MAX_TIMESTAMP),
            Err(_) => 0,
        };
        Timestamp(secs.clamp(0, MAX_TIMESTAMP))
    }

    /// Seconds since the epoch.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// This instant plus `secs` seconds (saturating at the range's ends).
    pub fn plus_seconds(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs).clamp(0, MAX_TIMESTAMP))
    }

    /// The UTC date this instant falls on.
    pub fn date(self) -> Option<Date> {
        Date::from_days(self.0.div_euclid(86_400))
    }

    pub(crate) fn to_cbor(self) -> Value {
        int(self.0)
    }

    pub(crate) fn from_cbor(value: &Value, field: &'static str) -> Result<Self, FieldError> {
        match value {
            Value::Integer(i) => i64::try_from(*i)
                .ok()
                .and_then(Timestamp::from_unix)
                .ok_or(FieldError::invalid(field, "out of range")),
            _ => Err(FieldError::WrongType(field)),
        }
    }
}

impl FromStr for Timestamp {
    type Err = ParseDateError;

    /// Parses RFC 3339 with an offset (`2021-06-01T09:30:00+03:00`); fractions of a second
    /// are dropped.
    fn from_str(s: &str) -> Result<Self, ParseDateError> {
        const WHAT: &str = "RFC 3339 time with offset";
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| ParseDateError(WHAT))?;
        Timestamp::from_unix(t.unix_timestamp()).ok_or(ParseDateError(WHAT))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, `2021-06-01T06:30:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = OffsetDateTime::from_unix_timestamp(self.0).map_err(|_| fmt::Error)?;
        let text = t.format(&Rfc3339).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

crate::serialize_as_display!(Date, BirthDate, Timestamp);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_since_1970() {
        let d: Date = "2021-06-01".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.days(), 18_779);
        assert_eq!(Date::from_days(18_779), Some(d));
        let old: Date = "1955-03-08".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(old.days() < 0);
        assert_eq!(Date::from_days(old.days()), Some(old));
        assert!("1899-12-31".parse::<Date>().is_err());
        assert!("2021-02-29".parse::<Date>().is_err());
        assert!("2021-6-01".parse::<Date>().is_err());
    }

    #[test]
    fn partial_birth_dates_stay_partial() {
        for text in ["1980", "1980-05", "1980-05-12"] {
            let dob: BirthDate = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(dob.to_string(), text);
            assert_eq!(BirthDate::from_cbor(&dob.to_cbor(), "dob"), Ok(dob));
        }
        assert!("1980-13".parse::<BirthDate>().is_err());
        assert!("80".parse::<BirthDate>().is_err());
        assert!(BirthDate::from_cbor(&Value::Array(vec![]), "dob").is_err());
        assert!(BirthDate::from_cbor(&Value::Array(vec![uint(1980), uint(0)]), "dob").is_err());
    }

    #[test]
    fn timestamps_read_offsets_and_print_utc() {
        let t: Timestamp = "2021-06-01T09:30:00+03:00"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_string(), "2021-06-01T06:30:00Z");
        assert!("2021-06-01T09:30:00".parse::<Timestamp>().is_err());
        assert!(Timestamp::from_unix(-1).is_none());
    }
}
