#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of the freshness normaliser: whitespace, dates and counters never move the
//! fingerprint or the contact details; a changed phone number always counts; any bytes are
//! read without panicking, within the kept bounds.
#![cfg(feature = "live")]

use open_referral_uk::freshness::snapshot::{KEPT_LINE_CHARS, KEPT_LINES};
use open_referral_uk::freshness::{Snapshot, Verdict, compare};
use proptest::prelude::*;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn date() -> impl Strategy<Value = String> {
    (1u32..=28, 0usize..12, 2000u32..2100, 0usize..7, 0usize..6).prop_map(|(d, m, y, w, style)| {
        match style {
            0 => format!("{d} {} {y}", MONTHS[m]),
            1 => format!("{d:02}/{:02}/{y}", m + 1),
            2 => format!("{y}-{:02}-{d:02}", m + 1),
            3 => format!("{} {d} {}", DAYS[w], MONTHS[m]),
            4 => format!("{} {d}, {y}", &MONTHS[m][..3]),
            _ => format!(
                "{y}-{:02}-{d:02}T{:02}:{:02}:00Z",
                m + 1,
                d % 24,
                (d * 2) % 60
            ),
        }
    })
}

fn whitespace() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![Just(' '), Just('\n'), Just('\t'), Just('\r')],
        1..4,
    )
    .prop_map(|v| v.into_iter().collect())
}

const WORDS: [&str; 8] = [
    "Friendly",
    "walks",
    "for",
    "all",
    "abilities",
    "along",
    "the",
    "river",
];

/// A page: fixed text and contacts, a date and a counter, words joined by `gaps`.
fn page(date: &str, counter: u64, gaps: &[String], phone: &str) -> String {
    let gap = |i: usize| {
        gaps.get(i % gaps.len().max(1))
            .cloned()
            .unwrap_or_else(|| " ".into())
    };
    let mut words = String::new();
    for (i, word) in WORDS.iter().enumerate() {
        words.push_str(word);
        words.push_str(&gap(i));
    }
    format!(
        "<html><body><h1>Riverside{}Walking Group</h1><p>Updated {date}.{}{counter} visits</p>\
         <p>{words}</p><p>Call{}{phone}{}or e-mail walks@riverside.example</p>\
         <p>Tuesdays{}10am - 12pm</p></body></html>",
        gap(1),
        gap(2),
        gap(3),
        gap(4),
        gap(5)
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn whitespace_never_moves_the_fingerprint(gaps in proptest::collection::vec(whitespace(), 1..8)) {
        let plain = Snapshot::of_page(page("30 November 2026", 12, &[" ".into()], "0118 496 0000").as_bytes());
        let spaced = Snapshot::of_page(page("30 November 2026", 12, &gaps, "0118 496 0000").as_bytes());
        prop_assert_eq!(&plain.fingerprint, &spaced.fingerprint);
        prop_assert_eq!(&plain.raw_fingerprint, &spaced.raw_fingerprint);
        prop_assert_eq!(compare(&plain, &spaced).verdict, Verdict::Unchanged);
    }

    #[test]
    fn dates_and_counters_are_cosmetic(a in date(), b in date(), m in 0u64..10_000_000, n in 0u64..10_000_000) {
        let before = Snapshot::of_page(page(&a, m, &[" ".into()], "0118 496 0000").as_bytes());
        let after = Snapshot::of_page(page(&b, n, &[" ".into()], "0118 496 0000").as_bytes());
        prop_assert_eq!(&before.fingerprint, &after.fingerprint);
        prop_assert_eq!(&before.contacts, &after.contacts);
        prop_assert!(compare(&before, &after).verdict <= Verdict::Cosmetic);
    }

    #[test]
    fn a_changed_phone_number_always_counts(last in 0u32..10_000, other in 0u32..10_000, day in date()) {
        prop_assume!(last != other);
        let before = Snapshot::of_page(page(&day, 1, &[" ".into()], &format!("0118 496 {last:04}")).as_bytes());
        let after = Snapshot::of_page(page(&day, 2, &[" ".into()], &format!("0118 496 {other:04}")).as_bytes());
        let comparison = compare(&before, &after);
        prop_assert_eq!(comparison.verdict, Verdict::Meaningful);
        let readable = comparison.readable();
        let expected = format!("phone number added: 0118 496 {other:04}");
        prop_assert!(readable.contains(&expected));
    }

    #[test]
    fn any_bytes_are_read_within_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let snapshot = Snapshot::of_page(&bytes);
        prop_assert!(snapshot.lines.len() <= KEPT_LINES);
        prop_assert!(snapshot.lines.iter().all(|l| l.chars().count() <= KEPT_LINE_CHARS));
    }

    #[test]
    fn any_markup_soup_is_read(parts in proptest::collection::vec(
        prop_oneof![
            Just("<p>".to_owned()), Just("</p>".to_owned()), Just("<script>".to_owned()),
            Just("</script>".to_owned()), Just("<!--".to_owned()), Just("-->".to_owned()),
            Just("<a href=\"mailto:x@y.example".to_owned()), Just("\">".to_owned()),
            Just("&amp".to_owned()), Just("&#x1F600;".to_owned()), Just("0118 496 0000".to_owned()),
            Just("<".to_owned()), Just(">".to_owned()), "[a-zA-Z0-9 ]{0,12}",
        ],
        0..64,
    )) {
        let html = parts.concat();
        let first = Snapshot::of_page(html.as_bytes());
        let again = Snapshot::of_page(html.as_bytes());
        prop_assert_eq!(first, again);
    }
}
