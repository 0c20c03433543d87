#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Modulus 11 properties: every generated number parses, every single-digit change or
//! adjacent transposition of a valid number is rejected, and acceptance agrees with an
//! independent statement of the weighted-sum rule.
//!
//! The proof these tests check: the number is valid when `sum(w_i * d_i) ≡ 0 (mod 11)` with
//! weights 10..2 and 1 for the check digit. Changing one digit by `e` (1..=9) changes the sum by
//! `w * e`; swapping neighbours `a, b` changes it by `(a - b) * (w_i - w_{i+1}) = a - b`. Both
//! are non-zero mod 11 because 11 is prime and every factor lies in 1..=10, so no such error
//! can produce another valid number.

use nhs_identifiers::{IdentifierError, NhsNumber};
use proptest::prelude::*;

fn text(digits: &[u8; 10]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn any_valid() -> impl Strategy<Value = NhsNumber> {
    prop_oneof![
        (0u32..900_000).prop_map(NhsNumber::fictitious),
        proptest::array::uniform9(0u8..10)
            .prop_filter_map("check digit 10", |s| NhsNumber::from_stem(s).ok()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_generated_number_parses(n in any_valid()) {
        let digits = n.digits();
        prop_assert_eq!(text(&digits).parse::<NhsNumber>(), Ok(n));
        prop_assert_eq!(n.expose_spaced().parse::<NhsNumber>(), Ok(n));
        // Only the masked form ever reaches Display / Debug.
        let shown = format!("{n} {n:?}");
        prop_assert!(!shown.contains(&n.expose()[3..8]));
    }

    #[test]
    fn fictitious_numbers_are_in_the_test_range(i in any::<u32>()) {
        prop_assert!(NhsNumber::fictitious(i).is_test_range());
    }

    #[test]
    fn any_single_digit_change_is_rejected(n in any_valid(), pos in 0usize..10, delta in 1u8..10) {
        let mut digits = n.digits();
        digits[pos] = (digits[pos] + delta) % 10;
        let result = text(&digits).parse::<NhsNumber>();
        prop_assert!(
            matches!(result, Err(IdentifierError::CheckDigitMismatch { .. } | IdentifierError::CheckDigitTen)),
            "changed digit {} accepted: {:?}", pos, result
        );
    }

    #[test]
    fn any_adjacent_transposition_is_rejected(n in any_valid(), pos in 0usize..9) {
        let mut digits = n.digits();
        prop_assume!(digits[pos] != digits[pos + 1]);
        digits.swap(pos, pos + 1);
        let result = text(&digits).parse::<NhsNumber>();
        prop_assert!(
            matches!(result, Err(IdentifierError::CheckDigitMismatch { .. } | IdentifierError::CheckDigitTen)),
            "transposition at {} accepted: {:?}", pos, result
        );
    }

    /// Pins the rule itself, not just its error-detecting power: a consistently wrong weighting
    /// (say 2..10 instead of 10..2) still detects every single change and transposition, so the
    /// two properties above cannot catch it. An independent statement of the standard can: ten
    /// digits form a valid NHS number exactly when `sum((10 - i) * d_i) ≡ 0 (mod 11)`, the check
    /// digit having weight 1 (a stem needing check digit 10 can never satisfy it).
    #[test]
    fn acceptance_matches_the_standard_weighted_sum(
        digits in proptest::array::uniform10(0u8..10),
        valid in any_valid(),
        pick_valid in any::<bool>(),
    ) {
        let digits = if pick_valid { valid.digits() } else { digits };
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, &d)| (10 - i as u32) * u32::from(d))
            .sum();
        let parsed = text(&digits).parse::<NhsNumber>();
        prop_assert_eq!(parsed.is_ok(), sum.is_multiple_of(11), "digits {:?}: {:?}", digits, parsed);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = s.parse::<NhsNumber>();
        let _ = nhs_identifiers::scan::redact(&s);
    }

    #[test]
    fn redaction_removes_every_found_number(n in any_valid(), prefix in "[a-z ]{0,10}", suffix in "[a-z .]{0,10}") {
        let text = format!("{prefix} {} {suffix}", n.expose_spaced());
        let redacted = nhs_identifiers::scan::redact(&text);
        prop_assert!(!redacted.contains(&n.expose_spaced()));
        prop_assert!(!nhs_identifiers::scan::contains_nhs_number(&redacted));
    }
}
