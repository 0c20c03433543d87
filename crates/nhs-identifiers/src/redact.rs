//! Redaction shared by every crate: keep received values out of error text and logs.
//!
//! Parsers of untrusted JSON or XML (serde_json, quick-xml's serde, fhir-model) quote the
//! value they choked on: `invalid type: integer `9990000018`, expected a string`. That value
//! can be an NHS number, a name or note text, and error text reaches logs and HTTP bodies, so
//! every crate passes such messages through [`serde_error`] before keeping them.
//!
//! ```
//! use nhs_identifiers::redact::serde_error;
//!
//! let raw = "invalid type: integer `9990000018`, expected a string at line 1 column 20";
//! assert_eq!(
//!     serde_error(raw),
//!     "invalid type: integer `<redacted>`, expected a string at line 1 column 20"
//! );
//! ```

/// The text put where a value was.
pub const REDACTED: &str = "<redacted>";

/// Removes the input values a serde / quick-xml / `fhir-model` message quotes (`string "…"`,
/// `integer `…``, `floating point `…``, `character `…``, `boolean `…``, `bytes `…``,
/// `unknown variant `…``, `Unknown value: …`), keeping the rest (what was expected, field
/// names, line and column). Also masks any valid NHS number left in the text.
pub fn serde_error(message: &str) -> String {
    const QUOTED: [(&str, char); 7] = [
        ("string \"", '"'),
        ("unknown variant `", '`'),
        ("bytes `", '`'),
        ("integer `", '`'),
        ("floating point `", '`'),
        ("character `", '`'),
        ("boolean `", '`'),
    ];
    const UNKNOWN: &str = "Unknown value: ";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    'scan: while !rest.is_empty() {
        for (marker, close) in QUOTED {
            if let Some(after) = rest.strip_prefix(marker) {
                out.push_str(marker);
                out.push_str(REDACTED);
                // Skip to the closing delimiter (`string` values are Debug-escaped).
                let mut chars = after.char_indices();
                let mut end = after.len();
                while let Some((i, c)) = chars.next() {
                    if c == '\\' && close == '"' {
                        chars.next();
                    } else if c == close {
                        end = i;
                        break;
                    }
                }
                match after.get(end..) {
                    Some(tail) if !tail.is_empty() => {
                        out.push(close);
                        rest = tail.get(close.len_utf8()..).unwrap_or("");
                    }
                    _ => rest = "",
                }
                continue 'scan;
            }
        }
        if let Some(after) = rest.strip_prefix(UNKNOWN) {
            out.push_str(UNKNOWN);
            out.push_str(REDACTED);
            // serde_json appends " at line N column M"; keep that.
            rest = after
                .find(" at line ")
                .map_or("", |i| after.get(i..).unwrap_or(""));
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    crate::scan::redact(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_messages_lose_the_values_they_quote() {
        let cases = [
            (
                "invalid type: integer `9990000476`, expected a string at line 1 column 40",
                "invalid type: integer `<redacted>`, expected a string at line 1 column 40",
            ),
            (
                r#"invalid type: string "Jo \"Smith\"", expected a sequence"#,
                r#"invalid type: string "<redacted>", expected a sequence"#,
            ),
            (
                "Unknown value: Jo Smith at line 3 column 9",
                "Unknown value: <redacted> at line 3 column 9",
            ),
            ("Unknown value: Smith", "Unknown value: <redacted>"),
            (
                "invalid type: floating point `1.5`, expected u32",
                "invalid type: floating point `<redacted>`, expected u32",
            ),
            (
                "unknown variant `Robin Smith`, expected `a` or `b` at line 1 column 9",
                "unknown variant `<redacted>`, expected `a` or `b` at line 1 column 9",
            ),
            ("missing field `status`", "missing field `status`"),
            (
                "unterminated string \"abc",
                "unterminated string \"<redacted>",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(serde_error(input), expected, "{input}");
        }
    }

    #[test]
    fn a_bare_nhs_number_left_in_the_text_is_masked() {
        let out = serde_error("expected a date near 9990000018");
        assert!(!out.contains("9990000018"), "{out}");
    }
}
