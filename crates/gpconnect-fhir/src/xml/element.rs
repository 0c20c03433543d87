//! The vocabulary of the STU3 element table: what one element of a type holds. Its own module so
//! that the table (`stu3_types.rs`) and the lookups over it (`order.rs`) both import it.

/// What an element holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Child {
    /// A string-like primitive (string, code, uri, dates, base64, ...).
    String,
    /// A boolean primitive.
    Boolean,
    /// A numeric primitive (integer, decimal, unsignedInt, positiveInt).
    Number,
    /// A complex type, by name.
    Complex(&'static str),
    /// A nested resource (`Bundle.entry.resource`, `contained`).
    Resource,
    /// A choice element `name[x]`; the type is the suffix of the JSON/XML name.
    Choice,
}

/// One element: JSON/XML name (without `[x]`), repeating?, content.
#[derive(Debug, Clone, Copy)]
pub(crate) struct El(pub &'static str, pub bool, pub Child);
