//! Element order and types per STU3 type (lookups in the table), and the fallback for types not
//! in the table.

use super::element::{Child, El};
use super::stu3_types::TYPES;

/// The elements of `type_name`, if it is in the table.
pub(crate) fn elements(type_name: &str) -> Option<&'static [El]> {
    TYPES
        .binary_search_by(|(name, _)| name.cmp(&type_name))
        .ok()
        .and_then(|i| TYPES.get(i))
        .map(|(_, els)| *els)
}

/// Finds the element a JSON/XML name refers to; for a choice element also returns the suffix
/// (`valueCoding` → `Coding`).
pub(crate) fn lookup(type_name: &str, name: &str) -> Option<(usize, El, Option<&'static str>)> {
    let els = elements(type_name)?;
    for (i, el) in els.iter().enumerate() {
        if el.0 == name {
            return Some((i, *el, None));
        }
        if el.2 == Child::Choice
            && let Some(suffix) = name.strip_prefix(el.0)
            && suffix
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
        {
            let known = choice_type(suffix);
            return Some((i, *el, known));
        }
    }
    None
}

/// The table name for a choice suffix, if it is a complex type we know.
fn choice_type(suffix: &str) -> Option<&'static str> {
    TYPES
        .binary_search_by(|(name, _)| name.cmp(&suffix))
        .ok()
        .and_then(|i| TYPES.get(i))
        .map(|(name, _)| *name)
}

/// Primitive kind of a choice suffix.
pub(crate) fn choice_primitive(suffix_name: &str) -> Child {
    let suffix = suffix_name
        .char_indices()
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or("", |(i, _)| &suffix_name[i..]);
    match suffix {
        "Boolean" => Child::Boolean,
        "Integer" | "Decimal" | "UnsignedInt" | "PositiveInt" => Child::Number,
        _ => Child::String,
    }
}

/// Fallback order for types missing from the table: the `Element`/`Resource` base elements
/// first (in their STU3 order), then everything else in input order.
pub(crate) fn fallback_rank(name: &str, is_resource: bool) -> usize {
    const RESOURCE: [&str; 8] = [
        "id",
        "meta",
        "implicitRules",
        "language",
        "text",
        "contained",
        "extension",
        "modifierExtension",
    ];
    const ELEMENT: [&str; 3] = ["id", "extension", "modifierExtension"];
    let base: &[&str] = if is_resource { &RESOURCE } else { &ELEMENT };
    base.iter().position(|b| *b == name).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn choice_lookup() {
        let (_, el, ty) = lookup("Extension", "valueCoding").unwrap();
        assert_eq!(el.0, "value");
        assert_eq!(ty, Some("Coding"));
        assert_eq!(choice_primitive("valueBoolean"), Child::Boolean);
        assert!(lookup("MessageHeader", "event").is_some());
    }
}
