//! Reading the raw FHIR JSON: small accessors every rule uses.

use serde_json::Value;

pub(super) fn root_name(raw: &Value) -> &str {
    raw.get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("(root)")
}

pub(super) fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(super) fn profiles(res: &Value) -> Vec<&str> {
    res.get("meta").map_or_else(Vec::new, |m| {
        arr(m, "profile").iter().filter_map(Value::as_str).collect()
    })
}

pub(super) fn codings(concept: Option<&Value>) -> &[Value] {
    concept.map_or(&[], |c| arr(c, "coding"))
}

/// `Type/id` relative references.
pub(super) fn is_relative(r: &str) -> bool {
    match r.split_once('/') {
        Some((ty, id)) => {
            ty.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && ty.chars().all(|c| c.is_ascii_alphabetic())
                && !id.is_empty()
                && !id.contains('/')
        }
        None => false,
    }
}
