//! A minimal element tree for FHIR XML: element names, attributes, children, and the raw XHTML
//! of narrative `div`s. Comments, processing instructions and whitespace are dropped.

use quick_xml::events::{BytesStart, Event};

use super::writer::{first_forbidden_char, is_name};
use crate::error::{Error, Result};

/// Largest XML document accepted (bytes).
pub const MAX_XML_BYTES: usize = 64 * 1024 * 1024;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 128;

/// One XML element.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Element {
    /// Local name (namespace prefix removed).
    pub name: String,
    /// Attributes (local names, unescaped values), in document order.
    pub attributes: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Element>,
    /// For an XHTML `div`: the element's raw markup, children not parsed.
    pub xhtml: Option<String>,
}

impl Element {
    /// The value of an attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Child element names in order (for structure comparisons).
    pub fn child_names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

fn xml_err(position: u64, reason: impl Into<String>) -> Error {
    Error::Xml {
        position,
        reason: reason.into(),
    }
}

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => name.to_owned(),
    }
}

fn element(start: &BytesStart<'_>, position: u64) -> Result<Element> {
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| xml_err(position, e.to_string()))?;
        let key = local(attr.key.as_ref());
        if key == "xmlns" || attr.key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| xml_err(position, e.to_string()))?
            .into_owned();
        // A character reference (`&#1;`) can name a character XML cannot carry.
        if first_forbidden_char(&value).is_some() {
            return Err(xml_err(
                position,
                format!("a character XML cannot carry in the attribute `{key}`"),
            ));
        }
        attributes.push((key, value));
    }
    let name = local(start.name().as_ref());
    // FHIR element names are ASCII letters and digits (what the writers accept); `_given`
    // or `a-b` would come out of the JSON conversion as something else.
    if !is_name(&name) {
        return Err(xml_err(position, "an element name FHIR does not have"));
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
        xhtml: None,
    })
}

/// Parses an XML document into its root element.
pub fn parse(xml: &str) -> Result<Element> {
    if xml.len() > MAX_XML_BYTES {
        return Err(Error::TooLarge {
            what: "XML bytes",
            limit: MAX_XML_BYTES,
        });
    }
    // XML 1.0 has no place for C0 controls (other than tab, LF, CR), U+FFFE or U+FFFF, raw
    // or in a comment; refused here, whatever we accept can be written again.
    if let Some(at) = first_forbidden_char(xml) {
        return Err(xml_err(
            u64::try_from(at).unwrap_or(u64::MAX),
            "a character XML cannot carry",
        ));
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| xml_err(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(xml_err(before, "content after the root element"));
                }
                let mut el = element(&start, before)?;
                if el.name == "div" {
                    let end = start.to_end().into_owned();
                    reader
                        .read_to_end(end.name())
                        .map_err(|e| xml_err(reader.error_position(), e.to_string()))?;
                    let after = reader.buffer_position();
                    let raw = usize::try_from(before)
                        .ok()
                        .zip(usize::try_from(after).ok())
                        .and_then(|(b, a)| xml.get(b..a))
                        .ok_or_else(|| xml_err(before, "narrative out of range"))?;
                    el.xhtml = Some(narrative(raw, before)?);
                    attach(&mut stack, &mut root, el);
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooLarge {
                        what: "nesting depth",
                        limit: MAX_DEPTH,
                    });
                }
                stack.push(el);
            }
            Event::Empty(start) => {
                if root.is_some() {
                    return Err(xml_err(before, "content after the root element"));
                }
                let mut el = element(&start, before)?;
                if el.name == "div" {
                    let raw = usize::try_from(before)
                        .ok()
                        .zip(usize::try_from(reader.buffer_position()).ok())
                        .and_then(|(b, a)| xml.get(b..a))
                        .ok_or_else(|| xml_err(before, "narrative out of range"))?;
                    el.xhtml = Some(narrative(raw, before)?);
                }
                attach(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| xml_err(before, "unexpected end tag"))?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(text) if !text.trim().is_empty() => {
                return Err(xml_err(before, "text content where FHIR XML has none"));
            }
            Event::GeneralRef(_) => {
                return Err(xml_err(before, "character data where FHIR XML has none"));
            }
            Event::CData(_) => return Err(xml_err(before, "CDATA where FHIR XML has none")),
            Event::DocType(_) => return Err(xml_err(before, "DOCTYPE is not allowed")),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(xml_err(reader.buffer_position(), "unexpected end of input"));
    }
    root.ok_or_else(|| xml_err(0, "no root element"))
}

/// The narrative `div` as read, checked by the same rule the writers apply (one well-formed
/// element, XML names, unique attributes), so that whatever the reader accepts can be written
/// again, and given what the writers give it (the XHTML namespace, when the div does not
/// declare it), so that reading what they wrote gives the same value.
fn narrative(raw: &str, position: u64) -> Result<String> {
    super::writer::xhtml(raw, "div").map_err(|error| match error {
        Error::Xhtml { reason, .. } => xml_err(position, format!("narrative: {reason}")),
        other => other,
    })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_keeps_xhtml_raw() {
        let root = parse(
            r#"<?xml version="1.0"?><Patient xmlns="http://hl7.org/fhir"><!-- c --><id value="a"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x &amp; y</p></div></text></Patient>"#,
        )
        .unwrap();
        assert_eq!(root.name, "Patient");
        assert_eq!(root.child_names(), ["id", "text"]);
        let div = root.child("text").unwrap().child("div").unwrap();
        assert!(div.xhtml.as_deref().unwrap().contains("<p>x &amp; y</p>"));
    }

    #[test]
    fn hostile_inputs_are_errors() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "<a>text</a>",
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a/>",
            "<a b='&unknown;'/>",
            "<a b='x\u{4}\u{0}y'/>",
            "<a b='&#1;'/>",
            "<a b='&#x1F;'/>",
            "<a><!-- \u{1} --></a>",
            "<a b='\u{FFFE}'/>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 2);
        assert!(parse(&deep).is_err());
    }
}
