//! Redaction shared by every crate: keep patient data, secrets and received values out of
//! `Debug`, error text and logs.
//!
//! - [`Redacted<T>`]: owns a value (an API key, a password, a name) whose `Debug` and
//!   `Display` print `<redacted>`; [`Redacted::expose`] gives it back where it is needed.
//!   [`Secret`] is the one for secret strings (passwords, shared keys, enrolment tokens,
//!   device credentials) that every crate uses.
//! - [`Redact`] + [`Shape`] + [`debug_redacted!`](crate::debug_redacted): `Debug` that shows
//!   the shape of free text (`<12 chars>`, `Some(<3 chars>)`), never the text, for structs
//!   with some sensitive fields.
//! - [`serde_error`]: parser error text without the values it quotes.
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

use std::fmt;

/// The text put where a value was.
pub const REDACTED: &str = "<redacted>";

/// A value that never prints: `Debug` and `Display` show `<redacted>`. Serde sees the value
/// itself (it is for storage and the wire), so keep it out of anything serialised for logs.
///
/// ```
/// use nhs_identifiers::redact::Redacted;
///
/// let key = Redacted::new(String::from("0a1b2c3d4e5f6071"));
/// assert_eq!(format!("{key:?} {key}"), "<redacted> <redacted>");
/// assert_eq!(key.expose(), "0a1b2c3d4e5f6071");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The value, for the one place that needs it (a wire message, a database key).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

/// A secret string: a password, a shared key, an enrolment token, a device credential. It
/// never prints; serde sees the value (for the wire and for storage only).
///
/// ```
/// use nhs_identifiers::redact::Secret;
///
/// let password = Secret::from("mailbox-password");
/// assert_eq!(format!("{password:?}"), "<redacted>");
/// assert_eq!(password.expose(), "mailbox-password");
/// ```
pub type Secret = Redacted<String>;

impl From<&str> for Redacted<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: serde::Serialize> serde::Serialize for Redacted<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Redacted<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

/// A value whose redacted `Debug` shows its shape only: a string prints as `<n chars>`, an
/// `Option` as `Some(<n chars>)` / `None`, a list as `[<n chars>, …]`.
pub trait Redact {
    /// Writes the shape of the value.
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl Redact for str {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} chars>", self.chars().count())
    }
}

impl Redact for String {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt_redacted(f)
    }
}

impl<T: Redact + ?Sized> Redact for &T {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_redacted(f)
    }
}

impl<T: Redact> Redact for Option<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(value) => f.debug_tuple("Some").field(&Shape(value)).finish(),
            None => f.write_str("None"),
        }
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(Shape)).finish()
    }
}

impl<T> Redact for Redacted<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Borrows a value so that its `Debug` is the redacted shape ([`Redact`]).
///
/// ```
/// use nhs_identifiers::redact::Shape;
///
/// let note = String::from("Seen at home with Robin");
/// assert_eq!(format!("{:?}", Shape(&note)), "<23 chars>");
/// assert_eq!(format!("{:?}", Shape(&Some(note))), "Some(<23 chars>)");
/// ```
pub struct Shape<'a, T: ?Sized>(pub &'a T);

impl<T: Redact + ?Sized> fmt::Debug for Shape<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f)
    }
}

/// Implements `Debug` for a struct like `#[derive(Debug)]` would, in field order, except that
/// the fields marked `: redacted` print their shape only ([`Redact`]), and the output ends with
/// `..`. Every field must be listed (the impl destructures `self`), so a new field cannot be
/// forgotten.
///
/// ```
/// use nhs_identifiers::debug_redacted;
///
/// pub struct Task {
///     task_uid: u64,
///     content: String,
///     done_by: Option<String>,
/// }
/// debug_redacted!(Task { task_uid, content: redacted, done_by: redacted });
///
/// let task = Task { task_uid: 7, content: "Call Robin".into(), done_by: None };
/// assert_eq!(
///     format!("{task:?}"),
///     "Task { task_uid: 7, content: <10 chars>, done_by: None, .. }"
/// );
/// ```
#[macro_export]
macro_rules! debug_redacted {
    ($ty:ident { $($field:ident $(: $redacted:ident)?),* $(,)? }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let Self { $($field),* } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(
                        stringify!($field),
                        $crate::debug_redacted!(@value $field $(, $redacted)?),
                    ))*
                    .finish_non_exhaustive()
            }
        }
    };
    (@value $field:ident) => {
        $field
    };
    (@value $field:ident, redacted) => {
        &$crate::redact::Shape($field)
    };
}

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
    fn redacted_values_never_print_but_serialise() {
        let secret = Redacted::new("TestKey".to_owned());
        assert_eq!(
            format!("{secret:?}|{secret}|{:?}", Shape(&secret)),
            "<redacted>|<redacted>|<redacted>"
        );
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"TestKey\"");
        let back: Redacted<String> = serde_json::from_str("\"TestKey\"").unwrap();
        assert_eq!(back, secret);
        assert_eq!(back.into_inner(), "TestKey");
    }

    #[test]
    fn secrets_come_from_borrowed_or_owned_text_and_never_print() {
        let borrowed = Secret::from("s3cr3t");
        let owned: Secret = String::from("s3cr3t").into();
        assert_eq!(borrowed, owned);
        assert_eq!(borrowed.expose(), "s3cr3t");
        assert_eq!(format!("{borrowed:?} {owned}"), "<redacted> <redacted>");
    }

    #[test]
    fn shapes_count_characters_not_bytes() {
        assert_eq!(format!("{:?}", Shape("é")), "<1 chars>");
        assert_eq!(
            format!("{:?}", Shape(&vec!["ab".to_owned()])),
            "[<2 chars>]"
        );
        assert_eq!(format!("{:?}", Shape(&None::<String>)), "None");
    }

    #[test]
    fn a_bare_nhs_number_left_in_the_text_is_masked() {
        let out = serde_error("expected a date near 9990000018");
        assert!(!out.contains("9990000018"), "{out}");
    }
}
