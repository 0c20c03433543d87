//! FHIR XML: a writer for any `fhir-model` STU3 resource and a reader back into `fhir-model`.
//!
//! The writer serialises the resource with serde straight into an ordered value tree (no JSON
//! text; `direct.rs`), or takes FHIR JSON text ([`json_to_xml`]), then writes XML from it (the
//! two give the same text): namespace `http://hl7.org/fhir` on the root, `value` attributes for
//! primitives, `id`/`url` attributes on elements and extensions, primitive extensions (`_field`)
//! as children of the primitive element, the XHTML narrative copied as markup (checked
//! well-formed), and nested resources inside `resource`/`contained`.
//!
//! **Element order** comes from an STU3 table (`stu3_types.rs`) with one row per STU3 resource,
//! backbone element and data type (486 rows), generated from the published FHIR STU3
//! StructureDefinitions by `tests/stu3_table.rs`, which fails when the committed table differs
//! (`DEFINITIONS.md` says where the definitions come from). For a name not in the table (not an STU3 type) the fallback
//! order is: the base elements (`id`, `meta`, `implicitRules`, `language`, `text`, `contained`,
//! `extension`, `modifierExtension` for resources; `id`, `extension`, `modifierExtension` for
//! elements) first, then the remaining elements in the order the JSON gives them (`fhir-model`
//! serialises fields in definition order). Properties a known type does not define go last.
//!
//! The reader uses the same table for cardinality (arrays) and primitive JSON types (booleans,
//! numbers). Outside the table an element becomes an array only when it repeats, an element
//! with a `value` attribute is a string primitive, and anything else is a complex element.
//! JSON `null` placeholders in arrays have no XML form and are dropped.

mod direct;
pub mod dom;
mod element;
mod order;
mod ordered;
mod reader;
mod stu3_types;
mod writer;

use fhir_model::stu3::resources::Resource;
use serde::Serialize;

use crate::error::{Error, Result};

/// Writes a `fhir-model` STU3 resource (or any value serialising to a FHIR JSON resource) as
/// FHIR XML.
///
/// Written directly from the value (no JSON text in between), in the same element order and
/// byte for byte the same as [`json_to_xml`] of the value's JSON.
pub fn to_xml<T: Serialize>(resource: &T) -> Result<String> {
    direct::to_xml(resource)
}

/// Converts a FHIR JSON resource to FHIR XML.
pub fn json_to_xml(json: &str) -> Result<String> {
    let value: ordered::Json = serde_json::from_str(json)?;
    let mut writer = writer::Writer::new(json.len() + json.len() / 2);
    writer.resource(&value, 0, true, "")?;
    let mut out = writer.finish();
    out.push('\n');
    Ok(out)
}

/// Converts FHIR XML (one resource) to FHIR JSON (`serde_json::Value`).
pub fn xml_to_json(xml: &str) -> Result<serde_json::Value> {
    let root = dom::parse(xml)?;
    let mut value = reader::resource_to_json(&root, 0)?;
    reader::tidy(&mut value);
    Ok(value)
}

/// Reads FHIR XML into a `fhir-model` STU3 resource.
pub fn from_xml(xml: &str) -> Result<Resource> {
    let value = xml_to_json(xml)?;
    serde_json::from_value(value).map_err(Error::from)
}

/// The STU3 element names of `type_name` in definition order (choice elements as `value[x]`),
/// if the type is in the crate's order table.
pub fn element_order(type_name: &str) -> Option<Vec<String>> {
    order::elements(type_name).map(|els| {
        els.iter()
            .map(|el| match el.2 {
                element::Child::Choice => format!("{}[x]", el.0),
                _ => el.0.to_owned(),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `positiveInt` elements are JSON numbers (`fhir-model` reads them as `NonZeroU32`).
    #[test]
    fn positive_int_reads_as_a_number() {
        let xml = r#"<Patient xmlns="http://hl7.org/fhir"><telecom><system value="phone"/><value value="0000"/><rank value="2"/></telecom></Patient>"#;
        let json = xml_to_json(xml).unwrap();
        assert_eq!(json["telecom"][0]["rank"], serde_json::json!(2));
        let resource = from_xml(xml).unwrap();
        assert_eq!(
            to_xml(&resource).unwrap(),
            json_to_xml(&json.to_string()).unwrap()
        );
    }

    /// Primitive extensions (`_field`) become children of the primitive element, with the
    /// element id as an attribute; a repeating primitive with a `null` value keeps its
    /// extension on the matching element.
    #[test]
    fn primitive_extensions_are_written_and_read_back() {
        let json = r#"{"resourceType":"Patient","id":"p1","active":true,"_active":{"extension":[{"url":"http://example.org/a","valueBoolean":false}]},"name":[{"family":"Fam","given":["A",null],"_given":[null,{"extension":[{"url":"http://example.org/g","valueCode":"z"}]}]}],"birthDate":"1970-01-01","_birthDate":{"id":"b","extension":[{"url":"http://example.org/x","valueString":"y"}]}}"#;
        let resource: Resource = serde_json::from_str(json).unwrap();
        let xml = to_xml(&resource).unwrap();
        let expected = r#"<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <active value="true">
    <extension url="http://example.org/a">
      <valueBoolean value="false"/>
    </extension>
  </active>
  <name>
    <family value="Fam"/>
    <given value="A"/>
    <given>
      <extension url="http://example.org/g">
        <valueCode value="z"/>
      </extension>
    </given>
  </name>
  <birthDate id="b" value="1970-01-01">
    <extension url="http://example.org/x">
      <valueString value="y"/>
    </extension>
  </birthDate>
</Patient>
"#;
        assert_eq!(xml, expected);
        assert_eq!(from_xml(&xml).unwrap(), resource);
        assert_eq!(
            xml_to_json(&xml).unwrap(),
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }
}
