//! Finding NHS numbers in free text.
//!
//! A candidate is ten digits written compactly (`9990000018`), in 3-3-4 groups separated by
//! single spaces or hyphens (`999 000 0018`, `999-000-0018`), not touching another digit
//! or letter. Only candidates that pass the Modulus 11 check are reported, so a phone
//! number or an order reference is rarely mistaken for one; a real NHS number written with
//! unusual spacing can still be missed, so treat the scanner as a guard, not a guarantee.
//!
//! ```
//! use nhs_identifiers::scan;
//!
//! let text = "Seen patient 999 000 0018 today; call 01632 960123.";
//! assert!(scan::contains_nhs_number(text));
//! assert_eq!(scan::redact(text), "Seen patient 999 *** **18 today; call 01632 960123.");
//! ```

use std::ops::Range;

use crate::NhsNumber;

/// One NHS number found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Found {
    /// Byte range of the number as written (including its separators).
    pub range: Range<usize>,
    /// The number.
    pub number: NhsNumber,
}

/// Every valid NHS number in `text`, left to right, not overlapping.
pub fn find_nhs_numbers(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary_before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if boundary_before
            && bytes[i].is_ascii_digit()
            && let Some((len, number)) = candidate_at(&bytes[i..])
        {
            found.push(Found {
                range: i..i + len,
                number,
            });
            i += len;
            continue;
        }
        i += 1;
    }
    found
}

/// Whether `text` holds at least one valid NHS number.
pub fn contains_nhs_number(text: &str) -> bool {
    !find_nhs_numbers(text).is_empty()
}

/// `text` with every NHS number replaced by its masked form (`999 *** **18`).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in find_nhs_numbers(text) {
        out.push_str(&text[last..f.range.start]);
        out.push_str(&f.number.masked());
        last = f.range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Tries the compact and the grouped forms at the start of `s`.
fn candidate_at(s: &[u8]) -> Option<(usize, NhsNumber)> {
    let ends_cleanly = |len: usize| s.get(len).is_none_or(|b| !b.is_ascii_alphanumeric());
    // Compact: exactly ten digits.
    if s.len() >= 10 && s[..10].iter().all(u8::is_ascii_digit) && ends_cleanly(10) {
        return parse(&s[..10]).map(|n| (10, n));
    }
    // Grouped 3-3-4 with one consistent separator.
    if s.len() >= 12 {
        let sep = s[3];
        let digits_at = |r: Range<usize>| s[r].iter().all(u8::is_ascii_digit);
        if (sep == b' ' || sep == b'-')
            && s[7] == sep
            && digits_at(0..3)
            && digits_at(4..7)
            && digits_at(8..12)
            && ends_cleanly(12)
        {
            return parse(&s[..12]).map(|n| (12, n));
        }
    }
    None
}

fn parse(bytes: &[u8]) -> Option<NhsNumber> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_written_form() {
        let text = "a 9990000018, b 999 000 0026, c 999-000-0034.";
        let found = find_nhs_numbers(text);
        assert_eq!(found.len(), 3);
        assert_eq!(&text[found[1].range.clone()], "999 000 0026");
        assert_eq!(
            redact(text),
            "a 999 *** **18, b 999 *** **26, c 999 *** **34."
        );
    }

    #[test]
    fn ignores_invalid_and_embedded_digits() {
        for text in [
            "9991234571",    // wrong check digit
            "19990000018",   // part of a longer run
            "99900000182",   // longer run
            "ref9990000018", // glued to letters
            "999 000-0018",  // mixed separators
            "phone 01632 960123",
            "",
        ] {
            assert!(!contains_nhs_number(text), "{text}");
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn handles_multibyte_text() {
        let text = "café 9990000018 — naïve";
        assert_eq!(redact(text), "café 999 *** **18 — naïve");
    }
}
