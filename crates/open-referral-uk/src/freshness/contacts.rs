//! Contact details found in a page's visible text, without IO: UK phone numbers, e-mail
//! addresses, UK postcodes and opening times, each normalised so that the same detail written
//! differently (`+44 (0)118 496 0000`, `0118-496-0000`) compares equal.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::formats::UkPostcode;

/// The most details of one kind kept from a page.
pub const MAX_PER_KIND: usize = 100;

/// The kinds of contact detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContactKind {
    /// A UK phone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A UK postcode.
    Postcode,
    /// Opening days and hours.
    OpeningTimes,
}

impl fmt::Display for ContactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Phone => "phone number",
            Self::Email => "e-mail address",
            Self::Postcode => "postcode",
            Self::OpeningTimes => "opening times",
        })
    }
}

/// The contact details of a page, normalised and sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactDetails {
    /// Phone numbers (`0118 496 0000`).
    #[serde(default)]
    pub phones: BTreeSet<String>,
    /// E-mail addresses, lower case.
    #[serde(default)]
    pub emails: BTreeSet<String>,
    /// Postcodes (`RG1 1AA`).
    #[serde(default)]
    pub postcodes: BTreeSet<String>,
    /// Opening times (`mon-fri 09:00-17:00`).
    #[serde(default)]
    pub opening_times: BTreeSet<String>,
}

impl ContactDetails {
    /// The details of one kind.
    pub fn of(&self, kind: ContactKind) -> &BTreeSet<String> {
        match kind {
            ContactKind::Phone => &self.phones,
            ContactKind::Email => &self.emails,
            ContactKind::Postcode => &self.postcodes,
            ContactKind::OpeningTimes => &self.opening_times,
        }
    }

    /// Every kind, in display order.
    pub const KINDS: [ContactKind; 4] = [
        ContactKind::Phone,
        ContactKind::Email,
        ContactKind::Postcode,
        ContactKind::OpeningTimes,
    ];

    fn add(&mut self, kind: ContactKind, value: String) {
        let set = match kind {
            ContactKind::Phone => &mut self.phones,
            ContactKind::Email => &mut self.emails,
            ContactKind::Postcode => &mut self.postcodes,
            ContactKind::OpeningTimes => &mut self.opening_times,
        };
        if set.len() < MAX_PER_KIND {
            set.insert(value);
        }
    }
}

/// Extracts the contact details of visible `lines` and `mailto:`/`tel:` link targets.
pub fn extract(lines: &[String], links: &[String]) -> ContactDetails {
    let mut details = ContactDetails::default();
    for line in lines {
        for phone in phones(line) {
            details.add(ContactKind::Phone, phone);
        }
        for email in emails(line) {
            details.add(ContactKind::Email, email);
        }
        for postcode in postcodes(line) {
            details.add(ContactKind::Postcode, postcode);
        }
        if let Some(times) = opening_times(line) {
            details.add(ContactKind::OpeningTimes, times);
        }
    }
    for link in links {
        let lower = link.to_ascii_lowercase();
        if let Some(address) = lower.strip_prefix("mailto:") {
            let address = address.split('?').next().unwrap_or_default();
            let address = address.replace("%40", "@");
            for email in emails(&address) {
                details.add(ContactKind::Email, email);
            }
        } else if let Some(number) = lower.strip_prefix("tel:") {
            let number = number.replace("%20", " ");
            if let Some(phone) = uk_phone(&number) {
                details.add(ContactKind::Phone, phone);
            }
        }
    }
    details
}

/// UK phone numbers in a line.
pub fn phones(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = (c == '+' || c == '(' || c.is_ascii_digit())
            && (i == 0 || !chars[i - 1].is_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut digits = 0;
        while j < chars.len() {
            let d = chars[j];
            if d.is_ascii_digit() {
                digits += 1;
            } else if matches!(d, '+' | '(' | ')' | '-' | '.' | ' ' | '\u{a0}') {
                // One separator at a time.
                let continues = chars.get(j + 1).is_none_or(|next| {
                    next.is_ascii_digit() || matches!(next, '(' | '+') || d == ')' && *next == ' '
                });
                if !continues {
                    break;
                }
            } else {
                break;
            }
            if digits > 13 {
                break;
            }
            j += 1;
        }
        let candidate: String = chars[i..j].iter().collect();
        if j < chars.len() && chars[j].is_alphanumeric() {
            // Glued to a word (a reference number, a date with letters).
            i = j.max(i + 1);
            continue;
        }
        if let Some(phone) = uk_phone(&candidate) {
            found.push(phone);
        }
        i = j.max(i + 1);
    }
    found
}

/// Normalises one UK phone number (`+44 (0)118 496 0000` → `0118 496 0000`); `None` if the
/// text is not one.
pub fn uk_phone(text: &str) -> Option<String> {
    let international = text.trim_start().starts_with('+');
    let mut digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if international || digits.starts_with("44") && digits.len() >= 12 {
        digits = digits.strip_prefix("44")?.to_owned();
        if let Some(rest) = digits.strip_prefix('0') {
            digits = rest.to_owned();
        }
        digits.insert(0, '0');
    }
    let bytes = digits.as_bytes();
    if !(10..=11).contains(&bytes.len()) || bytes[0] != b'0' || bytes[1] == b'0' {
        return None;
    }
    // 10-digit numbers are only 01xxx areas and 0800 / 0500.
    if bytes.len() == 10 && !(bytes[1] == b'1' || digits.starts_with("0800")) {
        return None;
    }
    Some(format_phone(&digits))
}

fn format_phone(digits: &str) -> String {
    let (a, b) = match digits.len() {
        11 if digits.starts_with("02") => (3, 7),
        11 if digits.starts_with("011") || digits.as_bytes().get(3) == Some(&b'1') => (4, 7),
        11 if digits.starts_with("01") || digits.starts_with("07") => (5, 0),
        _ => (4, 7),
    };
    if b == 0 {
        format!("{} {}", &digits[..a], &digits[a..])
    } else {
        format!("{} {} {}", &digits[..a], &digits[a..b], &digits[b..])
    }
}

/// E-mail addresses in a line, lower case.
pub fn emails(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = line.as_bytes();
    for (at, _) in line.match_indices('@') {
        let local_ok =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
        let domain_ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
        let mut start = at;
        while start > 0 && local_ok(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && domain_ok(bytes[end]) {
            end += 1;
        }
        let local = line[start..at].trim_start_matches('.');
        let domain = line[at + 1..end].trim_end_matches(['.', '-']);
        let tld = domain.rsplit('.').next().unwrap_or_default();
        if local.is_empty()
            || !domain.contains('.')
            || domain.starts_with(['.', '-'])
            || tld.len() < 2
            || !tld.bytes().all(|b| b.is_ascii_alphabetic())
        {
            continue;
        }
        found.push(format!("{local}@{domain}").to_ascii_lowercase());
    }
    found
}

/// UK postcodes written in capitals in a line (`RG1 1AA`, `RG11AA`).
pub fn postcodes(line: &str) -> Vec<String> {
    let words: Vec<&str> = line
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let capital = |w: &str| {
        w.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if capital(word) {
            if let Some(next) = words.get(i + 1)
                && next.len() == 3
                && capital(next)
                && (2..=4).contains(&word.len())
                && let Ok(postcode) = UkPostcode::try_from(format!("{word}{next}").as_str())
            {
                found.push(postcode.to_string());
                i += 2;
                continue;
            }
            if (5..=7).contains(&word.len())
                && let Ok(postcode) = UkPostcode::try_from(word)
            {
                found.push(postcode.to_string());
            }
        }
        i += 1;
    }
    found
}

const DAYS: [(&str, &str); 7] = [
    ("monday", "mon"),
    ("tuesday", "tue"),
    ("wednesday", "wed"),
    ("thursday", "thu"),
    ("friday", "fri"),
    ("saturday", "sat"),
    ("sunday", "sun"),
];

/// A day word's short name (`Monday`, `Mon`, `Mondays`, `Tues`, `weekdays`).
fn day(word: &str) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    let lower = lower.trim_end_matches('s');
    match lower {
        "weekday" => return Some("weekdays"),
        "weekend" => return Some("weekends"),
        "daily" | "everyday" => return Some("daily"),
        "tue" | "tues" => return Some("tue"),
        "wed" | "weds" => return Some("wed"),
        "thu" | "thur" | "thurs" => return Some("thu"),
        _ => {}
    }
    DAYS.iter()
        .find(|(long, short)| lower == long.trim_end_matches('s') || lower == *short)
        .map(|(_, short)| *short)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Day(&'static str),
    Time {
        hour: u32,
        minute: u32,
        suffix: Option<bool>,
        explicit: bool,
    },
    Range,
    Other,
}

fn tokens(line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '-' | '–' | '—') {
            out.push(Token::Range);
            i += 1;
        } else if c.is_ascii_digit() {
            let mut j = i;
            let mut hour = 0u32;
            while j < chars.len() && chars[j].is_ascii_digit() {
                hour = hour.saturating_mul(10) + chars[j].to_digit(10).unwrap_or(0);
                j += 1;
            }
            if j - i > 2 {
                out.push(Token::Other);
                i = j;
                continue;
            }
            let mut minute = 0;
            let mut explicit = false;
            if j + 2 < chars.len()
                && matches!(chars[j], ':' | '.')
                && chars[j + 1].is_ascii_digit()
                && chars[j + 2].is_ascii_digit()
            {
                minute = chars[j + 1].to_digit(10).unwrap_or(0) * 10
                    + chars[j + 2].to_digit(10).unwrap_or(0);
                explicit = true;
                j += 3;
            }
            let mut k = j;
            while k < chars.len() && chars[k] == ' ' {
                k += 1;
            }
            let word: String = chars[k..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic() || **c == '.')
                .collect();
            let word_lower = word.to_ascii_lowercase().replace('.', "");
            let suffix = match word_lower.as_str() {
                "am" => Some(false),
                "pm" => Some(true),
                _ => None,
            };
            if suffix.is_some() {
                j = k + word.chars().count();
            } else if j < chars.len() && chars[j].is_alphanumeric() {
                out.push(Token::Other);
                i = j + 1;
                continue;
            }
            if hour <= 24 && minute < 60 {
                out.push(Token::Time {
                    hour,
                    minute,
                    suffix,
                    explicit,
                });
            } else {
                out.push(Token::Other);
            }
            i = j.max(i + 1);
        } else if c.is_alphabetic() {
            let mut j = i;
            while j < chars.len() && chars[j].is_alphabetic() {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            let lower = word.to_lowercase();
            match lower.as_str() {
                "to" | "until" | "till" | "til" => out.push(Token::Range),
                "noon" | "midday" => out.push(Token::Time {
                    hour: 12,
                    minute: 0,
                    suffix: Some(true),
                    explicit: true,
                }),
                "and" | "from" | "open" | "opening" | "hours" | "times" | "on" | "the" => {}
                _ => out.push(day(&word).map_or(Token::Other, Token::Day)),
            }
            i = j;
        } else {
            if matches!(c, ',' | ';' | '|' | '/') {
                out.push(Token::Other);
            }
            i += 1;
        }
    }
    out
}

fn to_24h(hour: u32, suffix: Option<bool>, pm_hint: bool) -> u32 {
    match suffix {
        Some(true) if hour < 12 => hour + 12,
        Some(false) if hour == 12 => 0,
        None if pm_hint && hour < 12 => hour + 12,
        _ => hour,
    }
}

/// The opening times of a line (`Monday to Friday 9am - 5pm` → `mon-fri 09:00-17:00`), if
/// it holds at least one range of times.
pub fn opening_times(line: &str) -> Option<String> {
    let tokens = tokens(line);
    let mut parts: Vec<String> = Vec::new();
    let mut has_range = false;
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i] {
            Token::Day(d) => {
                if let (Some(Token::Range), Some(Token::Day(e))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    parts.push(format!("{d}-{e}"));
                    i += 3;
                    continue;
                }
                parts.push(d.to_owned());
            }
            Token::Time {
                hour,
                minute,
                suffix,
                explicit,
            } => {
                if let (
                    Some(Token::Range),
                    Some(Token::Time {
                        hour: end_hour,
                        minute: end_minute,
                        suffix: end_suffix,
                        explicit: end_explicit,
                    }),
                ) = (tokens.get(i + 1), tokens.get(i + 2))
                    && (explicit || suffix.is_some() || *end_explicit || end_suffix.is_some())
                {
                    let end = to_24h(*end_hour, *end_suffix, false);
                    // `1-5pm` is afternoon; `9-5pm` starts in the morning.
                    let pm_hint = suffix.is_none() && *end_suffix == Some(true) && hour < *end_hour;
                    let start = to_24h(hour, suffix, pm_hint);
                    parts.push(format!("{start:02}:{minute:02}-{end:02}:{end_minute:02}"));
                    has_range = true;
                    i += 3;
                    continue;
                }
            }
            Token::Range | Token::Other => {}
        }
        i += 1;
    }
    has_range.then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_phone_numbers_in_their_usual_spellings() {
        let line = "Call 0118 496 0000, +44 (0)118 496 0001, 0118-496-0002 or 020 7946 0018; \
                    mobile 07700 900123; freephone 0800 123 456";
        assert_eq!(
            phones(line),
            [
                "0118 496 0000",
                "0118 496 0001",
                "0118 496 0002",
                "020 7946 0018",
                "07700 900123",
                "0800 123 456",
            ]
        );
        assert!(phones("Registered charity 1234567, on 30/11/2026, ref ABC0118496000").is_empty());
        assert!(phones("Opened in 2024-11-30 with 12345678901234 visitors").is_empty());
    }

    #[test]
    fn emails_and_postcodes() {
        assert_eq!(
            emails("Write to Hello.Team@Riverside.example. Or x@y, or a@b.c1"),
            ["hello.team@riverside.example"]
        );
        assert_eq!(
            postcodes(
                "Riverside Hall, Reading RG1 1AA (parking at RG11AB); not rg1 1aa or ABC DEF"
            ),
            ["RG1 1AA", "RG1 1AB"]
        );
    }

    #[test]
    fn opening_times_normalise() {
        assert_eq!(
            opening_times("Monday to Friday 9am - 5pm").as_deref(),
            Some("mon-fri 09:00-17:00")
        );
        assert_eq!(
            opening_times("Mon–Fri: 09:00–17:00, Sat 10.00 until 14.00").as_deref(),
            Some("mon-fri 09:00-17:00 sat 10:00-14:00")
        );
        assert_eq!(
            opening_times("Tuesdays 1-3pm").as_deref(),
            Some("tue 13:00-15:00")
        );
        assert_eq!(opening_times("Last updated 12:34 on 3 March"), None);
        assert_eq!(opening_times("Ages 9 - 16"), None);
    }

    #[test]
    fn links_count() {
        let details = extract(
            &[],
            &[
                "mailto:Info@Riverside.example?subject=hi".into(),
                "tel:+441184960000".into(),
            ],
        );
        assert_eq!(
            details.emails.iter().collect::<Vec<_>>(),
            ["info@riverside.example"]
        );
        assert_eq!(details.phones.iter().collect::<Vec<_>>(), ["0118 496 0000"]);
    }
}
