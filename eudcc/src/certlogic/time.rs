//! CertLogic's date-times: the formats it allows, dates of birth as their last possible day,
//! and offsets by year, month, day or hour as JavaScript's UTC `Date` setters make them. A
//! date-time is milliseconds since 1970-01-01T00:00:00Z.

use super::CertLogicError;

/// A unit `plusTime` adds.
#[derive(Clone, Copy)]
pub(super) enum TimeUnit {
    Year,
    Month,
    Day,
    Hour,
}

impl TimeUnit {
    pub(super) fn of(name: &str) -> Option<Self> {
        Some(match name {
            "year" => TimeUnit::Year,
            "month" => TimeUnit::Month,
            "day" => TimeUnit::Day,
            "hour" => TimeUnit::Hour,
            _ => return None,
        })
    }
}

const MS_PER_DAY: i64 = 86_400_000;

/// Days from 1970-01-01 to the proleptic Gregorian date (month 1–12; a day past the month's end
/// runs on into the next, as `Date.UTC` has it).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Normalise the month first (JavaScript's setters carry months into years).
    let (year, month) = (
        year + (month - 1).div_euclid(12),
        (month - 1).rem_euclid(12) + 1,
    );
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

/// (year, month 1–12, day) of a day count from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn last_day(year: i64, month: i64) -> i64 {
    days_from_civil(year, month + 1, 1) - days_from_civil(year, month, 1)
}

fn digits(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

/// A date of birth (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) as the last instant-day consistent with
/// it: the year's last day, the month's last day, or the day, at midnight UTC.
pub(super) fn date_of_birth(s: &str) -> Result<i64, CertLogicError> {
    let bad = || CertLogicError(format!("\"{s}\" is not a date of birth (YYYY[-MM[-DD]])"));
    let parts: Vec<&str> = s.split('-').collect();
    let (year, month, day) = match parts.as_slice() {
        [y] => (digits(y, 4).ok_or_else(bad)?, 12, None),
        [y, m] => (
            digits(y, 4).ok_or_else(bad)?,
            digits(m, 2).ok_or_else(bad)?,
            None,
        ),
        [y, m, d] => (
            digits(y, 4).ok_or_else(bad)?,
            digits(m, 2).ok_or_else(bad)?,
            Some(digits(d, 2).ok_or_else(bad)?),
        ),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&month) {
        return Err(bad());
    }
    let day = day.unwrap_or_else(|| last_day(year, month));
    Ok(days_from_civil(year, month, day) * MS_PER_DAY)
}

/// A date or date-time of the formats CertLogic allows, in milliseconds UTC (fractions beyond
/// milliseconds dropped; no offset: UTC; a partial date as a date of birth).
fn parse_date_time(s: &str) -> Result<i64, CertLogicError> {
    let bad = || CertLogicError(format!("\"{s}\" is not a date-time CertLogic allows"));
    let Some((date, time)) = s.split_once('T') else {
        return date_of_birth(s).map_err(|_| bad());
    };
    let days = date_of_birth(date).map_err(|_| bad())? / MS_PER_DAY;
    if date.len() != 10 {
        return Err(bad());
    }
    let clock = time.get(..8).ok_or_else(bad)?;
    let (h, m, sec) = match clock.split(':').collect::<Vec<_>>().as_slice() {
        [h, m, sec] => (digits(h, 2), digits(m, 2), digits(sec, 2)),
        _ => return Err(bad()),
    };
    let (h, m, sec) = (h.ok_or_else(bad)?, m.ok_or_else(bad)?, sec.ok_or_else(bad)?);
    let mut rest = &time[8..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return Err(bad());
        }
        let kept = format!("{:0<3}", &fraction[..end.min(3)]);
        millis = kept.parse::<i64>().map_err(|_| bad())?;
        rest = &fraction[end..];
    }
    let offset_minutes = match rest {
        "" | "Z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(bad()),
            };
            let zone = &rest[1..];
            let (hours, minutes) = match zone.split_once(':') {
                Some((h, m)) => (h, m),
                None if zone.len() > 2 => zone.split_at(zone.len() - 2),
                None => (zone, "00"),
            };
            let ok = |v: &str| (1..=2).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
            if !ok(hours) || minutes.len() != 2 || !ok(minutes) {
                return Err(bad());
            }
            let hours: i64 = hours.parse().map_err(|_| bad())?;
            let minutes: i64 = minutes.parse().map_err(|_| bad())?;
            sign * (hours * 60 + minutes)
        }
    };
    Ok(days * MS_PER_DAY + ((h * 60 + m - offset_minutes) * 60 + sec) * 1000 + millis)
}

/// `plusTime`: the date-time of `s` with `amount` units added as JavaScript's UTC setters add
/// them (a month or a year past a month's end runs on into the next month).
pub(super) fn plus_time(s: &str, amount: i64, unit: TimeUnit) -> Result<i64, CertLogicError> {
    let at = parse_date_time(s)?;
    let overflow = || CertLogicError("a date-time out of range".into());
    let (days, in_day) = (at.div_euclid(MS_PER_DAY), at.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let days = match unit {
        TimeUnit::Hour => {
            return amount
                .checked_mul(3_600_000)
                .and_then(|d| at.checked_add(d))
                .ok_or_else(overflow);
        }
        TimeUnit::Day => days.checked_add(amount).ok_or_else(overflow)?,
        TimeUnit::Month => {
            let month = month
                .checked_add(amount)
                .filter(|m| m.abs() < 1_000_000)
                .ok_or_else(overflow)?;
            days_from_civil(year, month, day)
        }
        TimeUnit::Year => {
            let year = year
                .checked_add(amount)
                .filter(|y| y.abs() < 1_000_000)
                .ok_or_else(overflow)?;
            days_from_civil(year, month, day)
        }
    };
    days.checked_mul(MS_PER_DAY)
        .and_then(|d| d.checked_add(in_day))
        .filter(|_| days.abs() < 400_000_000)
        .ok_or_else(overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_days_move_as_javascript_moves_them() {
        let day = |s: &str, n, u| {
            let (y, m, d) = civil_from_days(plus_time(s, n, u).unwrap() / MS_PER_DAY);
            format!("{y:04}-{m:02}-{d:02}")
        };
        assert_eq!(day("2020-02-29", 1, TimeUnit::Day), "2020-03-01");
        assert_eq!(day("2020-02-29", 1, TimeUnit::Month), "2020-03-29");
        assert_eq!(day("2020-02-29", 1, TimeUnit::Year), "2021-03-01");
        assert_eq!(day("2021-01-31", 1, TimeUnit::Month), "2021-03-03");
        assert_eq!(day("2021-03-31", -1, TimeUnit::Month), "2021-03-03");
        assert_eq!(day("1969-12-31", 1, TimeUnit::Day), "1970-01-01");
        assert_eq!(
            date_of_birth("2001").unwrap(),
            parse_date_time("2001-12-31").unwrap()
        );
        assert_eq!(
            date_of_birth("2004-02").unwrap(),
            parse_date_time("2004-02-29").unwrap()
        );
        assert_eq!(
            parse_date_time("2021-06-01T02:00:00.1239+2").unwrap(),
            parse_date_time("2021-06-01T00:00:00.123Z").unwrap()
        );
        assert!(parse_date_time("2021-06-01T00:00").is_err());
        assert!(parse_date_time("yesterday").is_err());
    }
}
