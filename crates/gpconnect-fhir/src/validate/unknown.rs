//! Finds JSON properties `fhir-model` does not know (and would silently drop).
//!
//! The input is parsed into the model, re-serialised, and compared key by key with the raw JSON:
//! a key present in the input but absent from the round trip was dropped.

use serde_json::Value;

/// Paths (FHIRPath-like) of properties in `raw` that are missing from `round_trip`.
pub(crate) fn dropped_properties(
    raw: &Value,
    round_trip: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    match (raw, round_trip) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let child = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => dropped_properties(value, other, &child, out),
                    None if value.is_null() => {}
                    None => out.push(child),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, value) in a.iter().enumerate() {
                if let Some(other) = b.get(i) {
                    dropped_properties(value, other, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_keys_missing_after_the_round_trip() {
        let raw = json!({"a": 1, "b": {"c": 2, "d": [{"e": 1, "f": 2}]}, "n": null});
        let rt = json!({"a": 1, "b": {"d": [{"e": 1}]}});
        let mut out = Vec::new();
        dropped_properties(&raw, &rt, "X", &mut out);
        assert_eq!(out, ["X.b.c", "X.b.d[0].f"]);
    }
}
