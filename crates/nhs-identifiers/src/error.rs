use thiserror::Error;

/// Why an identifier was rejected. The message names the rule that failed and never repeats
/// the rejected value in full (it may be a real patient's NHS number).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// The input was empty (or only separators).
    #[error("NHS number is empty")]
    Empty,
    /// A character other than a digit, a space or a hyphen.
    #[error(
        "NHS number has an invalid character at position {position} (only digits, spaces and hyphens are allowed)"
    )]
    InvalidCharacter {
        /// Zero-based character position in the input.
        position: usize,
    },
    /// Not exactly ten digits.
    #[error("NHS number must have 10 digits, found {found}")]
    WrongLength {
        /// How many digits the input had.
        found: usize,
    },
    /// The first nine digits give a Modulus 11 check digit of 10: no such number is ever issued.
    #[error(
        "NHS number is invalid: its first nine digits give a check digit of 10, which is never issued"
    )]
    CheckDigitTen,
    /// The tenth digit is not the Modulus 11 check digit of the first nine.
    #[error(
        "NHS number fails the Modulus 11 check: check digit should be {expected}, found {found}"
    )]
    CheckDigitMismatch {
        /// The check digit the first nine digits require.
        expected: u8,
        /// The check digit the input had.
        found: u8,
    },
    /// An ODS code that is not 3 to 12 ASCII letters and digits.
    #[error("ODS code must be 3 to 12 ASCII letters or digits: {reason}")]
    InvalidOdsCode {
        /// What was wrong.
        reason: &'static str,
    },
}
