//! Contact details found in a page's visible text, without IO: UK phone numbers, e-mail
//! addresses, UK postcodes and opening times, each normalised so that the same detail written
//! differently (`+44 (0)118 496 0000`, `0118-496-0000`) compares equal.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::formats::UkPostcode;

mod hours;
#[cfg(test)]
mod tests;

pub use hours::opening_times;

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
