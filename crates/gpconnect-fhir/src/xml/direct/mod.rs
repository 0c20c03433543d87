//! FHIR XML written straight from the `fhir-model` types (or any `Serialize` value that
//! serialises to a FHIR JSON resource), without going through JSON text.
//!
//! Two steps:
//! 1. a serde [`Serializer`] builds a small ordered tree ([`V`]) of the value: struct field
//!    names stay `&'static str`, every string is copied once (the only copy of a base64
//!    attachment before the output), numbers are formatted exactly as `serde_json` would
//!    print them after a round trip;
//! 2. the writer walks that tree with the same rules and the same STU3 element-order table as
//!    the JSON → XML writer ([`super::writer`]): the output is byte-for-byte the same (a proptest
//!    checks it on random bundles). Values are escaped straight into the output in one pass
//!    (the check for characters XML cannot carry is fused into it); error locations are only
//!    formatted when an error happens.

mod escape;
mod tree;
mod write;

use std::cell::Cell;

use serde::Serialize;

use crate::error::{Error, Result};
use tree::TreeSerializer;
use write::{Loc, Writer};

/// Writes `resource` as FHIR XML (the same text as `super::json_to_xml(serde_json::to_string(resource))`).
pub(crate) fn to_xml<T: Serialize + ?Sized>(resource: &T) -> Result<String> {
    let size = Cell::new(0usize);
    let tree = resource
        .serialize(TreeSerializer {
            depth: 0,
            size: &size,
        })
        .map_err(|e| Error::Json(crate::error::redact_values(&e.0)))?;
    let mut writer = Writer {
        out: String::with_capacity(size.get() + size.get() / 8 + 1024),
    };
    writer.resource(&tree, 0, true, &Loc::ROOT)?;
    let mut out = writer.out;
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::*;

    /// The JSON → XML writer's text for the same value (the reference).
    fn reference<T: Serialize>(value: &T) -> Result<String> {
        super::super::json_to_xml(&serde_json::to_string(value)?)
    }

    fn same<T: Serialize>(value: &T) -> std::result::Result<(), TestCaseError> {
        let direct = to_xml(value).map_err(|e| e.to_string());
        let via_json = reference(value).map_err(|e| e.to_string());
        prop_assert_eq!(direct, via_json);
        Ok(())
    }

    /// Names from the STU3 tables (so the element order matters), primitive-extension and
    /// attribute names, one unknown and one invalid name.
    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "id",
            "meta",
            "text",
            "status",
            "div",
            "extension",
            "modifierExtension",
            "url",
            "valueString",
            "valueCoding",
            "valueBoolean",
            "valueInteger",
            "given",
            "_given",
            "family",
            "name",
            "identifier",
            "system",
            "value",
            "_value",
            "code",
            "coding",
            "display",
            "birthDate",
            "_birthDate",
            "active",
            "_active",
            "entry",
            "fullUrl",
            "resource",
            "contained",
            "type",
            "content",
            "attachment",
            "data",
            "_data",
            "contentType",
            "subject",
            "reference",
            "unknownThing",
            "bad name",
        ])
        .prop_map(str::to_owned)
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => "[A-Za-z0-9 &<>\"'\t\n\r.=/+-]{0,12}".prop_map(Value::from),
            1 => "[\u{1}\u{b}\u{fffe}a]{1,3}".prop_map(Value::from),
            1 => prop::sample::select(vec![
                "<div>hi</div>",
                "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &amp; b</p></div>",
                "<div><p>unclosed</div>",
                "no div",
            ])
            .prop_map(Value::from),
            1 => any::<bool>().prop_map(Value::from),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<f64>().prop_map(Value::from),
            1 => Just(Value::Null),
        ]
    }

    fn resource_type() -> impl Strategy<Value = Value> {
        prop::sample::select(vec![
            "Bundle",
            "Patient",
            "Composition",
            "DocumentReference",
            "Binary",
            "MessageHeader",
            "NotAStu3Type",
            "bad type",
        ])
        .prop_map(Value::from)
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                (
                    prop::collection::vec((key(), inner), 0..6),
                    prop::option::weighted(0.25, resource_type())
                )
                    .prop_map(|(fields, rt)| {
                        let mut map: Map<String, Value> = fields.into_iter().collect();
                        if let Some(rt) = rt {
                            map.insert("resourceType".to_owned(), rt);
                        }
                        Value::Object(map)
                    }),
            ]
        })
    }

    fn resource() -> impl Strategy<Value = Value> {
        (
            resource_type(),
            prop::collection::vec((key(), value()), 0..8),
        )
            .prop_map(|(rt, fields)| {
                let mut map: Map<String, Value> = fields.into_iter().collect();
                map.insert("resourceType".to_owned(), rt);
                Value::Object(map)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Same text (or the same error) as the JSON → XML writer, for random FHIR-shaped
        /// values: element reordering, primitive extensions, nulls in arrays, attributes,
        /// nested resources, narrative, escaping and characters XML cannot carry.
        #[test]
        fn same_output_as_the_json_writer(value in resource()) {
            same(&value)?;
        }
    }

    #[test]
    fn not_a_resource_is_the_same_error() {
        same(&Value::from("x")).unwrap();
        same(&serde_json::json!({"id": "a"})).unwrap();
        same(&serde_json::json!([1, 2])).unwrap();
    }

    #[test]
    fn floats_print_as_serde_json_prints_them() {
        for x in [0.1f64, 1.0, 1e21, -2.5e-7, f64::MAX, f64::NAN] {
            same(&serde_json::json!({"resourceType": "Basic", "valueDecimal": x})).unwrap();
        }
        #[derive(Serialize)]
        struct F {
            #[serde(rename = "resourceType")]
            rt: &'static str,
            a: f32,
            b: u128,
            c: i128,
            d: char,
            e: (),
            f: Option<u8>,
        }
        same(&F {
            rt: "Basic",
            a: 0.1,
            b: u128::MAX,
            c: -5,
            d: 'x',
            e: (),
            f: None,
        })
        .unwrap();
    }
}
