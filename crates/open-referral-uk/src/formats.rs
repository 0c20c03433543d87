//! Value formats used by ORUK: UUIDs, URIs, emails, dates, times, weekdays and UK postcodes.

use std::fmt;

use chrono::{NaiveDate, NaiveTime, Weekday};

use crate::error::OrukError;

/// Whether `value` is a UUID in its 8-4-4-4-12 hexadecimal form (the shared check).
pub use nhs_identifiers::uuid::is_uuid;

/// Whether `value` looks like an absolute URI: a scheme, `:`, and no whitespace.
pub fn is_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !value.chars().any(char::is_whitespace)
}

/// Whether `value` looks like an email address: one `@`, a non-empty local part and a dotted
/// domain, no whitespace.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
}

/// Parses an ISO 8601 calendar date `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// Whether `value` is an RFC 3339 date-time.
pub fn is_date_time(value: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(value).is_ok()
}

/// A time of day as read from `opens_at`/`closes_at` or a `start_time` parameter: `HH:MM` with
/// optional `:SS` and optional timezone (`Z` or `±HH:MM`). The timezone is recorded but times
/// are compared as local wall-clock times (UK services publish local times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct TimeOfDay {
    /// The wall-clock time.
    pub time: NaiveTime,
    /// Whether a timezone suffix was given.
    pub has_timezone: bool,
}

impl TimeOfDay {
    /// Parses `HH:MM[:SS][Z|±HH:MM]`.
    pub fn parse(value: &str) -> Option<Self> {
        let (clock, has_timezone) = if let Some(clock) = value.strip_suffix(['Z', 'z']) {
            (clock, true)
        } else if value.len() > 6
            && let Some(tail) = value.get(5..)
            && let Some(split) = tail.find(['+', '-'])
        {
            let (clock, zone) = value.split_at(5 + split);
            NaiveTime::parse_from_str(zone.get(1..)?, "%H:%M").ok()?;
            (clock, true)
        } else {
            (value, false)
        };
        let time = NaiveTime::parse_from_str(clock, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M"))
            .ok()?;
        Some(Self { time, has_timezone })
    }

    /// Minutes since midnight.
    pub fn minutes(&self) -> u16 {
        use chrono::Timelike;
        // At most 23 * 60 + 59, fits in u16.
        u16::try_from(self.time.hour() * 60 + self.time.minute()).unwrap_or(u16::MAX)
    }
}

/// Parses a day the way people and feeds write it: `MO`, `Monday`, `mon`, or ISO weekday
/// numbers `1` (Monday) to `7` (Sunday).
pub fn parse_weekday(value: &str) -> Option<Weekday> {
    let lower = value.trim().to_ascii_lowercase();
    let day = match lower.as_str() {
        "1" | "mo" | "mon" | "monday" => Weekday::Mon,
        "2" | "tu" | "tue" | "tues" | "tuesday" => Weekday::Tue,
        "3" | "we" | "wed" | "wednesday" => Weekday::Wed,
        "4" | "th" | "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "5" | "fr" | "fri" | "friday" => Weekday::Fri,
        "6" | "sa" | "sat" | "saturday" => Weekday::Sat,
        "7" | "su" | "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    };
    Some(day)
}

/// One `byday` token: an optional ordinal (`1`, `-1`) and a two-letter day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ByDay {
    /// `Some(n)` for "the n-th weekday of the month" (negative counts from the end).
    pub ordinal: Option<i8>,
    /// The day.
    pub weekday: Weekday,
}

/// Parses a `byday` list such as `MO,TU` or `1SA,-1FR`. `Err` carries the first bad token.
pub fn parse_byday(value: &str) -> Result<Vec<ByDay>, String> {
    value
        .split(',')
        .map(str::trim)
        .map(|token| {
            let split = token.len().saturating_sub(2);
            let (ordinal, day) = token
                .split_at_checked(split)
                .ok_or_else(|| token.to_owned())?;
            let weekday = match day {
                "MO" => Weekday::Mon,
                "TU" => Weekday::Tue,
                "WE" => Weekday::Wed,
                "TH" => Weekday::Thu,
                "FR" => Weekday::Fri,
                "SA" => Weekday::Sat,
                "SU" => Weekday::Sun,
                _ => return Err(token.to_owned()),
            };
            let ordinal = if ordinal.is_empty() {
                None
            } else {
                let n: i8 = ordinal.parse().map_err(|_| token.to_owned())?;
                if n == 0 || !(-5..=5).contains(&n) {
                    return Err(token.to_owned());
                }
                Some(n)
            };
            Ok(ByDay { ordinal, weekday })
        })
        .collect()
}

/// A UK postcode, validated and normalised to upper case with one space before the inward
/// code (`BS1 5TR`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UkPostcode(String);

impl UkPostcode {
    /// The normalised postcode.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outward code (`BS1` of `BS1 5TR`).
    pub fn outward(&self) -> &str {
        self.0.split(' ').next().unwrap_or(&self.0)
    }
}

impl fmt::Debug for UkPostcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UkPostcode({})", self.0)
    }
}

impl fmt::Display for UkPostcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for UkPostcode {
    type Error = OrukError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact == "GIR0AA" {
            return Ok(Self("GIR 0AA".to_owned()));
        }
        let bad = || OrukError::bad_parameter("postcode", "not a UK postcode");
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(bad());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let inward_ok = {
            let b = inward.as_bytes();
            b[0].is_ascii_digit() && is_inward_letter(b[1]) && is_inward_letter(b[2])
        };
        if !inward_ok || !is_outward(outward.as_bytes()) {
            return Err(bad());
        }
        Ok(Self(format!("{outward} {inward}")))
    }
}

impl std::str::FromStr for UkPostcode {
    type Err = OrukError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::try_from(value)
    }
}

fn is_inward_letter(byte: u8) -> bool {
    // [ABD-HJLNP-UW-Z]: not C, I, K, M, O, V.
    byte.is_ascii_uppercase() && !matches!(byte, b'C' | b'I' | b'K' | b'M' | b'O' | b'V')
}

fn is_outward(b: &[u8]) -> bool {
    // [A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[0-9][A-HJKPS-UW])
    let first_ok = |c: u8| c.is_ascii_uppercase() && !matches!(c, b'Q' | b'V' | b'X');
    let second_letter = |c: u8| c.is_ascii_uppercase() && !matches!(c, b'I' | b'J' | b'Z');
    let fourth = |c: u8| {
        c.is_ascii_digit()
            || matches!(
                c,
                b'A' | b'B' | b'E' | b'H' | b'M' | b'N' | b'P' | b'R'..=b'Y'
            )
    };
    let third_letter = |c: u8| matches!(c, b'A'..=b'H' | b'J' | b'K' | b'P'..=b'U' | b'W');
    match b {
        [a, d] => first_ok(*a) && d.is_ascii_digit(),
        [a, d, e] => {
            first_ok(*a)
                && ((d.is_ascii_digit() && e.is_ascii_digit())
                    || (second_letter(*d) && e.is_ascii_digit())
                    || (d.is_ascii_digit() && third_letter(*e)))
        }
        [a, l, d, x] => first_ok(*a) && second_letter(*l) && d.is_ascii_digit() && fourth(*x),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("ac148810-d857-441c-9679-408f346de14b"));
        assert!(!is_uuid("ac148810d857441c9679408f346de14b"));
        assert!(!is_uuid("3556"));
    }

    #[test]
    fn uris_and_emails() {
        assert!(is_uri("http://example.com/counselling"));
        assert!(!is_uri("example_counselling"));
        assert!(is_email("email@example.com"));
        assert!(!is_email("email-example_com"));
        assert!(!is_email("a@b@c.com"));
    }

    #[test]
    fn times() {
        let t = TimeOfDay::parse("09:30").unwrap();
        assert_eq!((t.minutes(), t.has_timezone), (570, false));
        assert!(TimeOfDay::parse("09:00:00Z").unwrap().has_timezone);
        assert!(TimeOfDay::parse("17:00+01:00").unwrap().has_timezone);
        assert_eq!(TimeOfDay::parse("17:00:00-05:00").unwrap().minutes(), 1020);
        assert!(TimeOfDay::parse("25:00").is_none());
        assert!(TimeOfDay::parse("noon").is_none());
    }

    #[test]
    fn bydays() {
        assert_eq!(parse_byday("MO,TU").unwrap().len(), 2);
        let monthly = parse_byday("1SA,-1FR").unwrap();
        assert_eq!(monthly[0].ordinal, Some(1));
        assert_eq!(monthly[1].ordinal, Some(-1));
        assert_eq!(parse_byday("MO,XX"), Err("XX".to_owned()));
        assert!(parse_byday("0MO").is_err());
        assert!(parse_byday("").is_err());
    }

    #[test]
    fn postcodes() {
        for good in [
            "BS1 5TR", "bs15tr", "SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX",
            "EC1A 1BB", "GIR 0AA",
        ] {
            assert!(UkPostcode::try_from(good).is_ok(), "{good}");
        }
        for bad in [
            "ABC 1234", "", "Q1 1AA", "BS1 5CI", "12345", "BS1 5T", "ÄB1 1AA",
        ] {
            assert!(UkPostcode::try_from(bad).is_err(), "{bad}");
        }
        assert_eq!(
            UkPostcode::try_from("sw1a1aa").unwrap().as_str(),
            "SW1A 1AA"
        );
        assert_eq!(UkPostcode::try_from("sw1a1aa").unwrap().outward(), "SW1A");
    }

    #[test]
    fn weekdays() {
        assert_eq!(parse_weekday("Monday"), Some(Weekday::Mon));
        assert_eq!(parse_weekday("SU"), Some(Weekday::Sun));
        assert_eq!(parse_weekday("7"), Some(Weekday::Sun));
        assert_eq!(parse_weekday("funday"), None);
    }
}
