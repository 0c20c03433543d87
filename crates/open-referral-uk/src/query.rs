//! Reading the query string of an ORUK API request: percent-decoding and the documented range
//! of every parameter, checked before a value reaches the indexes.
//!
//! | parameter | accepted |
//! | --- | --- |
//! | `page` | whole number 1 ..= 4 294 967 295 |
//! | `per_page` | whole number 1 ..= [`MAX_PER_PAGE`] |
//! | `minimum_age`, `maximum_age` | years, 0 ..= [`MAX_AGE_YEARS`], `minimum_age` ≤ `maximum_age` |
//! | `latitude` (`lat`) | degrees, -90 ..= 90 (needs `longitude`) |
//! | `longitude` (`lng`, `lon`) | degrees, -180 ..= 180 (needs `latitude`) |
//! | `proximity` | metres, above 0 and at most [`MAX_PROXIMITY_METRES`] (needs a point) |
//! | `maximum_cost` (`max_cost`) | 0 ..= [`MAX_COST`], in the cost options' currency |
//! | `search` (`text`) | at most [`MAX_TEXT_CHARS`] characters |
//! | `taxonomy_term_id`, `taxonomy_id` | at most [`MAX_ID_CHARS`] characters |
//! | `start_time`, `end_time` | `HH:MM` |
//! | `day` | `MO` … `SU` or a day name |
//! | `cost` | `free` or `paid` |
//! | `postcode` | a UK postcode |
//! | `modified_after` | an RFC 3339 date-time, or a date `YYYY-MM-DD` (its first moment, UTC) |
//!
//! A whole query string is at most [`MAX_QUERY_BYTES`] bytes and [`MAX_PARAMETERS`] pairs.
//! Numbers must be finite (`NaN`, `inf` and `1e308` are refused by the ranges). Errors name the
//! parameter and what was wrong with it, never the value received: a caller's postcode or
//! search text never comes back in an error body or a log line.
//!
//! [`MAX_PER_PAGE`]: crate::page::MAX_PER_PAGE
//! [`MAX_COST`]: crate::search::MAX_COST

use crate::error::OrukError;

/// The largest `proximity` accepted, in metres (1,000 km: more than the length of Great
/// Britain; a wider search is a search without `proximity`).
pub const MAX_PROXIMITY_METRES: f64 = 1_000_000.0;
/// The largest `minimum_age` / `maximum_age` accepted, in years.
pub const MAX_AGE_YEARS: f64 = 150.0;
/// The longest `search` text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// The longest `taxonomy_term_id` / `taxonomy_id` accepted, in characters.
pub const MAX_ID_CHARS: usize = 200;
/// The longest query string accepted, in bytes (before decoding).
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
/// The most `name=value` pairs accepted in one query string.
pub const MAX_PARAMETERS: usize = 64;

/// Splits a raw query string (the part after `?`) into decoded `(name, value)` pairs:
/// `application/x-www-form-urlencoded` rules, `+` is a space, `%XX` a byte. Empty pairs are
/// skipped. A malformed escape or a value that is not UTF-8 is a
/// [`OrukError::BadParameter`] naming the parameter (or `query` when the name itself is bad).
pub fn decode_query_string(raw: &str) -> Result<Vec<(String, String)>, OrukError> {
    if raw.len() > MAX_QUERY_BYTES {
        return Err(OrukError::bad_parameter(
            "query",
            format!("the query string is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let mut pairs = Vec::new();
    for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
        if pairs.len() == MAX_PARAMETERS {
            return Err(OrukError::bad_parameter(
                "query",
                format!("more than {MAX_PARAMETERS} parameters"),
            ));
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name).ok_or_else(|| {
            OrukError::bad_parameter("query", "a parameter name is not percent-encoded UTF-8")
        })?;
        let value = percent_decode(value).ok_or_else(|| {
            OrukError::bad_parameter(known_name(&name), "not percent-encoded UTF-8")
        })?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// The name to report for a parameter: a known name as is, anything else as `query` (an
/// unknown name is caller text and is never repeated).
pub(crate) fn known_name(name: &str) -> &'static str {
    const KNOWN: [&str; 24] = [
        "search",
        "text",
        "page",
        "per_page",
        "taxonomy_term_id",
        "taxonomy_id",
        "minimum_age",
        "maximum_age",
        "start_time",
        "end_time",
        "day",
        "postcode",
        "proximity",
        "latitude",
        "lat",
        "longitude",
        "lng",
        "lon",
        "cost",
        "maximum_cost",
        "max_cost",
        "status",
        "id",
        "query",
    ];
    KNOWN
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("query")
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = hex(*bytes.get(i + 1)?)?;
                let low = hex(*bytes.get(i + 2)?)?;
                out.push(high << 4 | low);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A finite number within `range`, or an error naming `name` and the range.
pub(crate) fn number_in(
    name: &'static str,
    value: &str,
    range: std::ops::RangeInclusive<f64>,
    unit: &str,
) -> Result<f64, OrukError> {
    let out_of_range = || {
        OrukError::bad_parameter(
            name,
            format!(
                "expected a number of {unit} from {} to {}",
                range.start(),
                range.end()
            ),
        )
    };
    let number: f64 = value.parse().map_err(|_| out_of_range())?;
    if number.is_finite() && range.contains(&number) {
        Ok(number)
    } else {
        Err(out_of_range())
    }
}

/// A whole number within `range`, or an error naming `name` and the range.
pub(crate) fn count_in(
    name: &'static str,
    value: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, OrukError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            OrukError::bad_parameter(
                name,
                format!(
                    "expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Text of at most `max` characters.
pub(crate) fn text_up_to(name: &'static str, value: &str, max: usize) -> Result<String, OrukError> {
    if value.chars().count() > max {
        Err(OrukError::bad_parameter(
            name,
            format!("longer than {max} characters"),
        ))
    } else {
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_a_form() {
        let pairs =
            decode_query_string("postcode=BS1+5TR&search=walk%20group&&flag&x=%E2%9C%93").unwrap();
        assert_eq!(
            pairs,
            [
                ("postcode".to_owned(), "BS1 5TR".to_owned()),
                ("search".to_owned(), "walk group".to_owned()),
                ("flag".to_owned(), String::new()),
                ("x".to_owned(), "✓".to_owned()),
            ]
        );
    }

    #[test]
    fn bad_escapes_name_the_parameter_not_the_value() {
        for (raw, message) in [
            (
                "postcode=%FF%FE",
                "bad parameter `postcode`: not percent-encoded UTF-8",
            ),
            (
                "search=%4",
                "bad parameter `search`: not percent-encoded UTF-8",
            ),
            (
                "secret-name=%zz",
                "bad parameter `query`: not percent-encoded UTF-8",
            ),
            (
                "%FF=1",
                "bad parameter `query`: a parameter name is not percent-encoded UTF-8",
            ),
        ] {
            assert_eq!(decode_query_string(raw).unwrap_err().to_string(), message);
        }
        assert!(decode_query_string(&"a=1&".repeat(MAX_PARAMETERS + 1)).is_err());
        assert!(decode_query_string(&"a".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        for bad in ["1e308", "-1", "NaN", "inf", "-inf", "151", "x", ""] {
            assert!(number_in("minimum_age", bad, 0.0..=MAX_AGE_YEARS, "years").is_err());
        }
        assert_eq!(
            number_in("minimum_age", "150", 0.0..=MAX_AGE_YEARS, "years").unwrap(),
            150.0
        );
        assert!(count_in("page", "0", 1..=u32::MAX).is_err());
        assert!(count_in("page", "4294967296", 1..=u32::MAX).is_err());
        assert_eq!(
            count_in("page", "4294967295", 1..=u32::MAX).unwrap(),
            u32::MAX
        );
    }
}
