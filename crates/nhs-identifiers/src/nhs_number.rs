use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::IdentifierError;

/// The first three digits of the range NHS England reserves for test data. Numbers in it are
/// never issued to a real person.
pub const TEST_RANGE_PREFIX: &str = "999";

/// A valid NHS number: ten digits whose last digit is the Modulus 11 check digit of the first
/// nine.
///
/// Construct it with [`str::parse`] / [`TryFrom<&str>`], [`NhsNumber::from_stem`] or, for tests,
/// [`NhsNumber::fictitious`]. `Display` and `Debug` mask the middle digits (`999 *** **78`), so
/// a number that reaches a log line or an error message does not identify anyone;
/// [`NhsNumber::expose`] returns the full value for the places that need it.
///
/// Serde reads and writes the full ten digits as a string, and validates on read.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber {
    digits: [u8; 10],
}

/// Modulus 11 weights of the first nine digits.
const WEIGHTS: [u32; 9] = [10, 9, 8, 7, 6, 5, 4, 3, 2];

/// The check digit of nine digits (each 0..=9), or `None` when the rule gives 10 (never issued).
pub(crate) fn check_digit(stem: &[u8; 9]) -> Option<u8> {
    let sum: u32 = stem
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        // 1..=9: the remainder is 2..=10, so the subtraction cannot underflow.
        c => u8::try_from(c).ok(),
    }
}

impl NhsNumber {
    /// Builds a number from its first nine digits by appending the check digit.
    ///
    /// # Errors
    /// [`IdentifierError::InvalidCharacter`] if an element is not a digit 0..=9, and
    /// [`IdentifierError::CheckDigitTen`] for the one stem in eleven that has no valid check digit.
    pub fn from_stem(stem: [u8; 9]) -> Result<Self, IdentifierError> {
        if let Some(position) = stem.iter().position(|&d| d > 9) {
            return Err(IdentifierError::InvalidCharacter { position });
        }
        let check = check_digit(&stem).ok_or(IdentifierError::CheckDigitTen)?;
        let mut digits = [0u8; 10];
        digits[..9].copy_from_slice(&stem);
        digits[9] = check;
        Ok(Self { digits })
    }

    /// A valid fictitious number from the 999 test range, chosen deterministically by `index`.
    /// Indexes below 900,000 give pairwise different numbers (larger ones wrap round). For tests
    /// and demos only.
    pub fn fictitious(index: u32) -> Self {
        let k = index % 900_000;
        // Eight leading digits `999nnnnn` from k / 9. Of the ten possible ninth digits at most
        // one gives check digit 10 (weight 2 is invertible mod 11), so at least nine remain:
        // pick the (k % 9)-th of them.
        let prefix = 99_900_000 + u64::from(k / 9);
        let wanted = (k % 9) as usize;
        (0..10u64)
            .filter_map(|d| Self::from_stem(stem_from_u64(prefix * 10 + d)).ok())
            .nth(wanted)
            .unwrap_or(Self {
                // 999 000 0018, a valid test-range number; unreachable by the argument above.
                digits: [9, 9, 9, 0, 0, 0, 0, 0, 1, 8],
            })
    }

    /// Every valid number in the 999 test range, in ascending order (about 909,000 of them).
    pub fn test_range() -> impl Iterator<Item = Self> {
        (999_000_000u64..1_000_000_000).filter_map(|s| Self::from_stem(stem_from_u64(s)).ok())
    }

    /// The full ten digits, unformatted, for wire messages and storage. Do not log it.
    pub fn expose(&self) -> String {
        self.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The full number in the spaced 3-3-4 form people read (`999 123 4578`). Do not log it.
    pub fn expose_spaced(&self) -> String {
        let s = self.expose();
        format!("{} {} {}", &s[..3], &s[3..6], &s[6..])
    }

    /// The ten digits as values 0..=9.
    pub fn digits(&self) -> [u8; 10] {
        self.digits
    }

    /// Whether the number is in the 999 range reserved for test data.
    pub fn is_test_range(&self) -> bool {
        self.digits[..3] == [9, 9, 9]
    }

    /// The masked form used by `Display` and `Debug`: first three and last two digits only.
    pub fn masked(&self) -> String {
        let d = |i: usize| char::from(b'0' + self.digits[i]);
        format!("{}{}{} *** **{}{}", d(0), d(1), d(2), d(8), d(9))
    }

    /// Parses and validates, naming the first rule that fails.
    fn parse_str(input: &str) -> Result<Self, IdentifierError> {
        let mut digits = [0u8; 10];
        let mut count = 0usize;
        for (position, ch) in input.trim().chars().enumerate() {
            match ch {
                '0'..='9' => {
                    if count < 10 {
                        digits[count] = ch as u8 - b'0';
                    }
                    count += 1;
                }
                ' ' | '-' => {}
                _ => return Err(IdentifierError::InvalidCharacter { position }),
            }
        }
        match count {
            0 => return Err(IdentifierError::Empty),
            10 => {}
            found => return Err(IdentifierError::WrongLength { found }),
        }
        let mut stem = [0u8; 9];
        stem.copy_from_slice(&digits[..9]);
        let expected = check_digit(&stem).ok_or(IdentifierError::CheckDigitTen)?;
        if expected != digits[9] {
            return Err(IdentifierError::CheckDigitMismatch {
                expected,
                found: digits[9],
            });
        }
        Ok(Self { digits })
    }
}

fn stem_from_u64(mut value: u64) -> [u8; 9] {
    let mut stem = [0u8; 9];
    for slot in stem.iter_mut().rev() {
        *slot = (value % 10) as u8;
        value /= 10;
    }
    stem
}

impl FromStr for NhsNumber {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_str(s)
    }
}

impl TryFrom<&str> for NhsNumber {
    type Error = IdentifierError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse_str(value)
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = IdentifierError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_str(&value)
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NhsNumber({})", self.masked())
    }
}

impl Serialize for NhsNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose())
    }
}

impl<'de> Deserialize<'de> for NhsNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse_str(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compact_spaced_and_hyphenated_forms() {
        for s in [
            "9991234578",
            "999 123 4578",
            "999-123-4578",
            "  999 123 4578 ",
        ] {
            let n: NhsNumber = s.parse().unwrap();
            assert_eq!(n.expose(), "9991234578");
        }
    }

    #[test]
    fn names_the_rule_that_failed() {
        assert_eq!("".parse::<NhsNumber>(), Err(IdentifierError::Empty));
        assert_eq!(" - ".parse::<NhsNumber>(), Err(IdentifierError::Empty));
        assert_eq!(
            "999123456".parse::<NhsNumber>(),
            Err(IdentifierError::WrongLength { found: 9 })
        );
        assert_eq!(
            "99912345780".parse::<NhsNumber>(),
            Err(IdentifierError::WrongLength { found: 11 })
        );
        assert_eq!(
            "999x234560".parse::<NhsNumber>(),
            Err(IdentifierError::InvalidCharacter { position: 3 })
        );
        assert_eq!(
            "9991234571".parse::<NhsNumber>(),
            Err(IdentifierError::CheckDigitMismatch {
                expected: 8,
                found: 1
            })
        );
        // A stem whose check digit would be 10 is rejected whatever its last digit.
        let stem = (0u64..100)
            .map(|i| stem_from_u64(999_000_000 + i))
            .find(|s| check_digit(s).is_none())
            .unwrap();
        let mut text: String = stem.iter().map(|d| char::from(b'0' + d)).collect();
        text.push('0');
        assert_eq!(
            text.parse::<NhsNumber>(),
            Err(IdentifierError::CheckDigitTen)
        );
        assert_eq!(
            NhsNumber::from_stem(stem),
            Err(IdentifierError::CheckDigitTen)
        );
    }

    #[test]
    fn known_valid_and_invalid_examples() {
        // Published fixtures: 9434765919 is valid; NHS example payloads use invalid ones.
        assert!("943 476 5919".parse::<NhsNumber>().is_ok());
        for bad in ["9989453456", "1234567890", "9996668887"] {
            assert!(bad.parse::<NhsNumber>().is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn display_and_debug_never_show_the_full_number() {
        let n: NhsNumber = "9991234578".parse().unwrap();
        assert_eq!(n.to_string(), "999 *** **78");
        assert_eq!(format!("{n:?}"), "NhsNumber(999 *** **78)");
        assert!(!format!("{n:?}{n}").contains("1234"));
        assert_eq!(n.expose_spaced(), "999 123 4578");
    }

    #[test]
    fn errors_never_echo_the_input() {
        let err = "9991234571".parse::<NhsNumber>().unwrap_err();
        assert!(!err.to_string().contains("999123456"));
    }

    #[test]
    fn serde_uses_the_full_string_and_validates() {
        let n: NhsNumber = "9991234578".parse().unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"9991234578\"");
        let back: NhsNumber = serde_json::from_str("\"999 123 4578\"").unwrap();
        assert_eq!(back, n);
        let err = serde_json::from_str::<NhsNumber>("\"9991234571\"").unwrap_err();
        assert!(err.to_string().contains("Modulus 11"));
    }

    #[test]
    fn fictitious_numbers_are_valid_test_numbers_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..2000 {
            let n = NhsNumber::fictitious(i);
            assert!(n.is_test_range());
            assert_eq!(n.expose().parse::<NhsNumber>().unwrap(), n);
            seen.insert(n);
        }
        assert_eq!(seen.len(), 2000);
        assert_eq!(
            NhsNumber::fictitious(899_999),
            NhsNumber::fictitious(1_799_999)
        );
        assert_eq!(NhsNumber::test_range().take(5).count(), 5);
    }
}
