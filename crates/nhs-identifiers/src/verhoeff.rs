//! The Verhoeff check digit (dihedral group D5), used by SNOMED CT identifiers: one
//! implementation for every crate that checks SNOMED codes.
//!
//! ```
//! use nhs_identifiers::verhoeff::{verhoeff_digit, verhoeff_valid};
//!
//! assert!(verhoeff_valid("716186003")); // "No known allergy"
//! assert_eq!(verhoeff_digit("71618600"), Some(3));
//! assert!(!verhoeff_valid("716186004"));
//! ```

/// Verhoeff multiplication table (dihedral group D5).
const D5: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

/// Verhoeff position permutations: row `i` is the permutation of row 1 applied `i` times.
const PERM: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Whether a string of ASCII digits (check digit last) passes the Verhoeff check.
pub fn verhoeff_valid(digits: &str) -> bool {
    let mut check = 0u8;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let p = PERM[i % 8][usize::from(b - b'0')];
        check = D5[usize::from(check)][usize::from(p)];
    }
    !digits.is_empty() && check == 0
}

/// The Verhoeff check digit for `digits` (without a check digit), if they are all digits.
pub fn verhoeff_digit(digits: &str) -> Option<u8> {
    const INVERSE: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];
    let mut check = 0u8;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let p = PERM[(i + 1) % 8][usize::from(b - b'0')];
        check = D5[usize::from(check)][usize::from(p)];
    }
    Some(INVERSE[usize::from(check)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_rows_are_powers_of_the_first() {
        for i in 1..8 {
            for n in 0..10 {
                assert_eq!(
                    PERM[i][n],
                    PERM[1][usize::from(PERM[i - 1][n])],
                    "row {i} col {n}"
                );
            }
        }
    }

    #[test]
    fn the_check_digit_makes_the_code_valid_and_any_other_digit_does_not() {
        for body in ["71618600", "22298006", "1", "123456789012345"] {
            let d = verhoeff_digit(body).unwrap();
            assert!(verhoeff_valid(&format!("{body}{d}")), "{body}");
            for other in (0..10).filter(|o| *o != d) {
                assert!(!verhoeff_valid(&format!("{body}{other}")), "{body}{other}");
            }
        }
        assert!(!verhoeff_valid(""));
        assert!(!verhoeff_valid("12a4"));
        assert_eq!(verhoeff_digit("12a"), None);
    }
}
