//! Opening times in a line of text (`Monday to Friday 9am - 5pm` → `mon-fri 09:00-17:00`):
//! a small tokenizer of day words, times and range words; a line counts only with at least
//! one range of times, one side of which has minutes or am/pm.

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
