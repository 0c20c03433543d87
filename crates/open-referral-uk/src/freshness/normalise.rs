//! Cosmetic normalisation and fingerprints, without IO.
//!
//! A line is normalised so that what changes from one fetch to the next without anyone
//! editing the page reads the same: case, whitespace, every word holding a digit (dates,
//! times, counters, years, session tokens: `#`), month and weekday names, `today` /
//! `yesterday`, and the unit after a number (`3 hours ago`, `2 days ago`). Runs of numbers
//! joined by punctuation (`30/11/2026`, `12:34:56`, `1,234`) become one `#`. Contact details
//! are compared separately ([`super::contacts`]), so erasing digits here loses nothing that
//! matters.

use sha2::{Digest, Sha256};

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const MONTH_ABBREVIATIONS: [&str; 13] = [
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "may",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const WEEKDAY_ABBREVIATIONS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const RELATIVE_DAYS: [&str; 3] = ["today", "yesterday", "tomorrow"];
const UNITS: [&str; 7] = ["second", "minute", "hour", "day", "week", "month", "year"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Word(String),
    Number,
    Punct(char),
}

fn pieces(line: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Piece>| {
        if word.is_empty() {
            return;
        }
        let lower = word.to_lowercase();
        if lower.chars().any(|c| c.is_ascii_digit()) {
            out.push(Piece::Number);
        } else {
            out.push(Piece::Word(lower));
        }
        word.clear();
    };
    for c in line.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            if !c.is_whitespace() {
                out.push(Piece::Punct(c));
            }
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_number_like(piece: &Piece) -> bool {
    matches!(piece, Piece::Number)
        || matches!(piece, Piece::Word(w) if w == "<date>" || w == "<day>")
}

/// The cosmetic normal form of one visible line (empty if nothing is left).
pub fn normalise_line(line: &str) -> String {
    let mut pieces = pieces(line);
    // Month and weekday names; abbreviations only beside a number.
    for i in 0..pieces.len() {
        let beside_number = (i > 0 && matches!(pieces[i - 1], Piece::Number))
            || matches!(pieces.get(i + 1), Some(Piece::Number));
        if let Piece::Word(w) = &pieces[i] {
            let replacement = if MONTHS.contains(&w.as_str())
                && (w != "may" && w != "march" || beside_number)
                || beside_number && MONTH_ABBREVIATIONS.contains(&w.as_str())
            {
                Some("<date>")
            } else if WEEKDAYS.contains(&w.as_str())
                || RELATIVE_DAYS.contains(&w.as_str())
                || beside_number && WEEKDAY_ABBREVIATIONS.contains(&w.as_str())
            {
                Some("<day>")
            } else if i > 0
                && matches!(pieces[i - 1], Piece::Number)
                && UNITS.contains(&w.trim_end_matches('s'))
            {
                Some("<unit>")
            } else {
                None
            };
            if let Some(r) = replacement {
                pieces[i] = Piece::Word(r.to_owned());
            }
        }
    }
    // Number-like pieces joined by punctuation (or nothing) become one `#`.
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        if is_number_like(&pieces[i]) {
            let mut j = i + 1;
            loop {
                let mut k = j;
                while matches!(pieces.get(k), Some(Piece::Punct(c)) if matches!(c, ':' | '/' | '.' | ',' | '-' | '–' | '+' | '(' | ')'))
                {
                    k += 1;
                }
                match pieces.get(k) {
                    Some(p) if is_number_like(p) => j = k + 1,
                    _ => break,
                }
            }
            out.push("#".to_owned());
            i = j;
            continue;
        }
        match &pieces[i] {
            Piece::Word(w) => out.push(w.clone()),
            Piece::Punct(c) => out.push(c.to_string()),
            Piece::Number => {}
        }
        i += 1;
    }
    out.join(" ")
}

/// The normal forms of `lines`, empty ones dropped.
pub fn normalise(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| normalise_line(l))
        .filter(|l| !l.is_empty())
        .collect()
}

/// SHA-256 (hex) of lines joined by newlines.
pub fn fingerprint<S: AsRef<str>>(lines: &[S]) -> String {
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_ref().as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_counters_and_tokens_are_cosmetic() {
        let pairs = [
            (
                "Last updated: Monday 30 November 2026 at 09:14",
                "Last updated: Tuesday 1 December 2026 at 17:02",
            ),
            ("Visitors: 1,234", "Visitors: 98,765"),
            ("Posted 3 hours ago", "Posted 2 days ago"),
            ("Updated today", "Updated yesterday"),
            ("© 2025 Riverside", "© 2026 Riverside"),
            ("Session a8f9c3e1d2", "Session 77b0e1f4c9"),
            (
                "Published 2026-11-30T09:14:00Z",
                "Published 2026-12-01T10:00:00Z",
            ),
            ("News from 30 Nov 2026", "News from 1 Dec 2026"),
        ];
        for (a, b) in pairs {
            assert_eq!(normalise_line(a), normalise_line(b), "{a} / {b}");
        }
    }

    #[test]
    fn words_still_count() {
        assert_ne!(
            normalise_line("We meet at the Riverside Hall"),
            normalise_line("We meet at the Library")
        );
        assert_eq!(
            normalise_line("You MAY  bring   a friend"),
            "you may bring a friend"
        );
    }

    #[test]
    fn fingerprints_differ_by_line() {
        assert_ne!(fingerprint(&["a b"]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint::<&str>(&[]).len(), 64);
    }
}
