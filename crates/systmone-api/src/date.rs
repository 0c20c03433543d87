//! Dates and times as SystmOne writes them (reference §7).
//!
//! Attributes carry `YYYY-MM-DDTHH:MM:SS` in local time with no zone; on read an optional
//! fraction of a second and a trailing `Z` are accepted (the spec has one such example) and
//! dropped. Elements such as `DateOfBirth` carry `CCYY-MM-DD`; on read a trailing time part is
//! accepted too. Values are [`chrono::NaiveDate`] / [`chrono::NaiveDateTime`]: SystmOne sends
//! no zone, so none is invented here.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::error::Error;

/// Formats a date element value: `CCYY-MM-DD`.
pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Formats a date-time value: `YYYY-MM-DDTHH:MM:SS` (fractions of a second are dropped).
pub fn format_date_time(value: NaiveDateTime) -> String {
    value.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Reads a date element (`CCYY-MM-DD`, or a date-time whose date part is taken).
///
/// # Errors
/// [`Error::InvalidValue`] naming `element` (the value is not repeated).
pub fn parse_date(element: &str, value: &str) -> Result<NaiveDate, Error> {
    let value = value.trim();
    if let Some(date) = canonical_date(value.as_bytes()) {
        return Ok(date);
    }
    let date_part = match value.split_once('T') {
        Some((date, _time)) => date,
        None => value,
    };
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .map_err(|_| Error::invalid(element, "expected a date CCYY-MM-DD"))
}

/// Reads a date-time (`YYYY-MM-DDTHH:MM:SS`, optional fraction, optional `Z`; a bare date is
/// read as midnight).
///
/// # Errors
/// [`Error::InvalidValue`] naming `element` (the value is not repeated).
pub fn parse_date_time(element: &str, value: &str) -> Result<NaiveDateTime, Error> {
    let value = value.trim();
    let value = value.strip_suffix('Z').unwrap_or(value);
    if let Some(parsed) = canonical_date_time(value.as_bytes()) {
        return Ok(parsed);
    }
    if let Ok(parsed) = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f") {
        // SystmOne's values are whole seconds: a fraction is dropped, so what is read encodes
        // back to the same value.
        return Ok(parsed.with_nanosecond(0).unwrap_or(parsed));
    }
    if let Ok(parsed) = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M") {
        return Ok(parsed);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|d| d.and_time(NaiveTime::MIN))
        .map_err(|_| Error::invalid(element, "expected a date-time YYYY-MM-DDTHH:MM:SS"))
}

/// Two ASCII digits as a number.
fn two_digits(bytes: &[u8], at: usize) -> Option<u32> {
    match bytes.get(at..at + 2)? {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
        _ => None,
    }
}

/// Exactly `YYYY-MM-DD` and a valid date: the form SystmOne sends, read without chrono's
/// format parser (anything else goes to it, so the result is the same either way).
fn canonical_date(bytes: &[u8]) -> Option<NaiveDate> {
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let year = two_digits(bytes, 0)? * 100 + two_digits(bytes, 2)?;
    NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        two_digits(bytes, 5)?,
        two_digits(bytes, 8)?,
    )
}

/// Exactly `YYYY-MM-DDTHH:MM:SS` and valid (no leap second): as [`canonical_date`].
fn canonical_date_time(bytes: &[u8]) -> Option<NaiveDateTime> {
    if bytes.len() != 19
        || bytes.get(10) != Some(&b'T')
        || bytes.get(13) != Some(&b':')
        || bytes.get(16) != Some(&b':')
    {
        return None;
    }
    canonical_date(bytes.get(..10)?)?.and_hms_opt(
        two_digits(bytes, 11)?,
        two_digits(bytes, 14)?,
        two_digits(bytes, 17)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_fraction_and_zone_suffix() {
        let t = parse_date_time("DateTime", "2017-12-19T12:45:12.0Z").unwrap();
        assert_eq!(format_date_time(t), "2017-12-19T12:45:12");
        let t = parse_date_time("DateTime", "2017-12-19T12:45:12.999Z").unwrap();
        assert_eq!(t.nanosecond(), 0, "fraction dropped");
        assert_eq!(format_date_time(t), "2017-12-19T12:45:12");
        assert_eq!(
            parse_date_time("DateTime", &format_date_time(t)).unwrap(),
            t
        );
        let t = parse_date_time("DateTime", "2026-03-03T10:15:02").unwrap();
        assert_eq!(format_date_time(t), "2026-03-03T10:15:02");
        let t = parse_date_time("DateTime", "2026-03-03").unwrap();
        assert_eq!(format_date_time(t), "2026-03-03T00:00:00");
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for value in [
            "2026-03-03T10:15:02",
            "1999-12-31T23:59:59",
            "2024-02-29T00:00:00",
            "2023-02-29T00:00:00",
            "2026-03-03T24:00:00",
            "2016-12-31T23:59:60",
            "0000-01-01T00:00:00",
            "2026-3-03T10:15:02",
        ] {
            // As the slow path reads it (a leap second's fraction is dropped too).
            let chrono = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.with_nanosecond(0).unwrap_or(t));
            assert_eq!(parse_date_time("D", value).ok(), chrono, "{value}");
            let date = value.split_once('T').map_or(value, |(d, _)| d);
            assert_eq!(
                parse_date("D", date).ok(),
                NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
                "{date}"
            );
        }
    }

    #[test]
    fn date_elements_accept_a_time_part() {
        let d = parse_date("DateOfBirth", "1970-05-14T00:00:00").unwrap();
        assert_eq!(format_date(d), "1970-05-14");
        assert!(parse_date("DateOfBirth", "14/05/1970").is_err());
        let e = parse_date("DateOfBirth", "1970-13-14").unwrap_err();
        assert!(!e.to_string().contains("1970"));
    }
}
