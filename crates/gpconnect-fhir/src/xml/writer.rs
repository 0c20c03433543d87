//! FHIR JSON → FHIR XML.

use super::element::Child;
use super::order::{fallback_rank, lookup};
use super::ordered::Json;
use crate::error::{Error, Result};
use crate::fhir::XHTML_NS;

pub(crate) const FHIR_NS: &str = "http://hl7.org/fhir";
pub(crate) const MAX_DEPTH: usize = 128;

pub(crate) struct Writer {
    out: String,
}

impl Writer {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    fn indent(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    /// Writes a resource object as `<Type>…</Type>`.
    pub(crate) fn resource(
        &mut self,
        value: &Json,
        depth: usize,
        root: bool,
        loc: &str,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::TooLarge {
                what: "nesting depth",
                limit: MAX_DEPTH,
            });
        }
        let rt = value
            .get("resourceType")
            .and_then(Json::as_str)
            .ok_or_else(|| Error::UnexpectedResource {
                expected: "resource",
                found: "an object without resourceType".to_owned(),
                location: loc.to_owned(),
            })?;
        if !is_name(rt) {
            return Err(Error::UnexpectedResource {
                expected: "resource",
                found: "an invalid resourceType".to_owned(),
                location: loc.to_owned(),
            });
        }
        if depth > 0 {
            self.indent(depth);
        }
        self.out.push('<');
        self.out.push_str(rt);
        if root {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(FHIR_NS);
            self.out.push('"');
        }
        self.out.push('>');
        let Json::Object(fields) = value else {
            return Err(Error::UnexpectedResource {
                expected: "resource",
                found: "not an object".to_owned(),
                location: loc.to_owned(),
            });
        };
        self.children(fields, Some(rt), true, depth + 1, rt)?;
        self.indent(depth);
        self.out.push_str("</");
        self.out.push_str(rt);
        self.out.push('>');
        Ok(())
    }

    fn children(
        &mut self,
        fields: &[(String, Json)],
        type_name: Option<&str>,
        is_resource: bool,
        depth: usize,
        loc: &str,
    ) -> Result<()> {
        // Base names in input order, `_x` folded into `x`; attributes and resourceType skipped.
        let mut names: Vec<&str> = Vec::new();
        for (key, _) in fields {
            let base = key.strip_prefix('_').unwrap_or(key);
            if base == "resourceType" && is_resource {
                continue;
            }
            if is_attribute(base, type_name, is_resource) {
                continue;
            }
            if !names.contains(&base) {
                names.push(base);
            }
        }
        let rank = |name: &str| match type_name.and_then(|t| lookup(t, name)) {
            Some((i, _, _)) => i,
            None if type_name.is_some_and(|t| super::order::elements(t).is_some()) => usize::MAX,
            None => fallback_rank(name, is_resource),
        };
        names.sort_by_key(|n| rank(n));
        for name in names {
            if !is_name(name) {
                return Err(Error::Xml {
                    position: 0,
                    reason: format!(
                        "`{}` is not a valid element name at {loc}",
                        name.escape_debug()
                    ),
                });
            }
            let value = fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let ext_key = format!("_{name}");
            let ext = fields.iter().find(|(k, _)| *k == ext_key).map(|(_, v)| v);
            let (child, choice_type) = match type_name.and_then(|t| lookup(t, name)) {
                Some((_, el, choice)) => (Some(el.2), choice),
                None => (None, None),
            };
            let child_type = match child {
                Some(Child::Complex(t)) => Some(t),
                Some(Child::Choice) => choice_type,
                _ => match name {
                    "extension" | "modifierExtension" => Some("Extension"),
                    _ => None,
                },
            };
            let child_loc = format!("{loc}.{name}");
            match (value, ext) {
                (Some(Json::Array(items)), ext) => {
                    let exts = match ext {
                        Some(Json::Array(e)) => e.as_slice(),
                        _ => &[],
                    };
                    for (i, item) in items.iter().enumerate() {
                        self.one(
                            name,
                            Some(item),
                            exts.get(i),
                            child_type,
                            depth,
                            &format!("{child_loc}[{i}]"),
                        )?;
                    }
                    // Extensions beyond the values (values were null and omitted).
                    for (i, e) in exts.iter().enumerate().skip(items.len()) {
                        self.one(
                            name,
                            None,
                            Some(e),
                            child_type,
                            depth,
                            &format!("{child_loc}[{i}]"),
                        )?;
                    }
                }
                (None, Some(Json::Array(exts))) => {
                    for (i, e) in exts.iter().enumerate() {
                        self.one(
                            name,
                            None,
                            Some(e),
                            child_type,
                            depth,
                            &format!("{child_loc}[{i}]"),
                        )?;
                    }
                }
                (value, ext) => self.one(name, value, ext, child_type, depth, &child_loc)?,
            }
        }
        Ok(())
    }

    fn one(
        &mut self,
        name: &str,
        value: Option<&Json>,
        ext: Option<&Json>,
        child_type: Option<&str>,
        depth: usize,
        loc: &str,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::TooLarge {
                what: "nesting depth",
                limit: MAX_DEPTH,
            });
        }
        match value {
            Some(Json::Object(fields)) if fields.iter().any(|(k, _)| k == "resourceType") => {
                self.indent(depth);
                self.open(name, &[])?;
                self.out.push('>');
                self.resource(value.unwrap_or(&Json::Null), depth + 1, false, loc)?;
                self.indent(depth);
                self.close(name);
            }
            Some(Json::Object(fields)) => {
                self.indent(depth);
                let attrs = attributes(fields, child_type);
                self.open(name, &attrs)?;
                let has_children = fields.iter().any(|(k, _)| {
                    let base = k.strip_prefix('_').unwrap_or(k);
                    !is_attribute(base, child_type, false)
                });
                if has_children {
                    self.out.push('>');
                    self.children(fields, child_type, false, depth + 1, loc)?;
                    self.indent(depth);
                    self.close(name);
                } else {
                    self.out.push_str("/>");
                }
            }
            Some(Json::String(div)) if name == "div" => {
                self.indent(depth);
                self.out.push_str(&xhtml(div, loc)?);
            }
            Some(Json::Null) | None if ext.is_none() => {}
            primitive => {
                let text = match primitive {
                    Some(Json::String(s)) if has_forbidden_char(s) => {
                        return Err(Error::Xml {
                            position: 0,
                            reason: format!("a control character XML cannot carry at {loc}"),
                        });
                    }
                    Some(Json::String(s)) => Some(s.clone()),
                    Some(Json::Bool(b)) => Some(b.to_string()),
                    Some(Json::Number(n)) => Some(n.to_string()),
                    Some(Json::Array(_)) => {
                        return Err(Error::Xml {
                            position: 0,
                            reason: format!("nested array at {loc}"),
                        });
                    }
                    _ => None,
                };
                let ext_fields = match ext {
                    Some(Json::Object(f)) => f.as_slice(),
                    _ => &[],
                };
                // A primitive with no value, no id and no extension carries nothing: FHIR
                // XML has no such element (ele-1), and the reader would drop it.
                let start = self.out.len();
                self.indent(depth);
                let mut attrs: Vec<(&str, String)> = Vec::new();
                if let Some(id) = ext_fields
                    .iter()
                    .find(|(k, _)| k == "id")
                    .and_then(|(_, v)| v.as_str())
                {
                    attrs.push(("id", id.to_owned()));
                }
                if let Some(text) = text {
                    attrs.push(("value", text));
                }
                let carries_attributes = !attrs.is_empty();
                let extensions: Vec<&(String, Json)> =
                    ext_fields.iter().filter(|(k, _)| k != "id").collect();
                if !carries_attributes && extensions.is_empty() {
                    self.out.truncate(start);
                    return Ok(());
                }
                self.open(name, &attrs)?;
                if extensions.is_empty() {
                    self.out.push_str("/>");
                } else {
                    self.out.push('>');
                    let before = self.out.len();
                    let owned: Vec<(String, Json)> = extensions.into_iter().cloned().collect();
                    self.children(&owned, Some("Element"), false, depth + 1, loc)?;
                    if self.out.len() == before && !carries_attributes {
                        self.out.truncate(start);
                        return Ok(());
                    }
                    self.indent(depth);
                    self.close(name);
                }
            }
        }
        Ok(())
    }

    fn open(&mut self, name: &str, attrs: &[(&str, String)]) -> Result<()> {
        if attrs.iter().any(|(_, v)| has_forbidden_char(v)) {
            return Err(Error::Xml {
                position: 0,
                reason: format!("a control character XML cannot carry in `{name}`"),
            });
        }
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, v);
            self.out.push('"');
        }
        Ok(())
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
}

/// Escapes an attribute value so that it reads back unchanged: markup characters as entities,
/// and tab / line feed / carriage return as character references (a parser would otherwise
/// normalise them to spaces).
fn escape_attribute(out: &mut String, value: &str) {
    // Fast path: most values (base64 content, codes, URLs) need no escaping.
    if !value
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\t' | b'\n' | b'\r'))
    {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, U+FFFE, U+FFFF).
pub(crate) fn has_forbidden_char(value: &str) -> bool {
    first_forbidden_char(value).is_some()
}

/// The byte offset of the first character XML 1.0 cannot carry, if any (the reader refuses a
/// document holding one, so that whatever it accepts the writers can write again).
pub(crate) fn first_forbidden_char(value: &str) -> Option<usize> {
    // Fast path: every such character starts with a byte below 0x20 or with 0xEF.
    if !value
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF)
    {
        return None;
    }
    value
        .char_indices()
        .find(|&(_, c)| {
            matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
        })
        .map(|(at, _)| at)
}

/// Whether `name` is an XML 1.0 `Name` (fifth edition: a NameStartChar, then NameChars).
/// Element and attribute names in a narrative must be, or the document is not well-formed.
pub(crate) fn is_xml_name(name: &str) -> bool {
    fn start(c: char) -> bool {
        matches!(c,
            ':' | 'A'..='Z' | '_' | 'a'..='z'
            | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
            | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
            | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
            | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
    }
    let mut chars = name.chars();
    chars.next().is_some_and(start)
        && chars.all(|c| {
            start(c)
                || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
        })
}

/// `id` on elements and `url` on extensions are XML attributes.
pub(crate) fn is_attribute(name: &str, type_name: Option<&str>, is_resource: bool) -> bool {
    (name == "id" && !is_resource) || (name == "url" && type_name == Some("Extension"))
}

fn attributes<'a>(fields: &'a [(String, Json)], type_name: Option<&str>) -> Vec<(&'a str, String)> {
    fields
        .iter()
        .filter(|(k, _)| is_attribute(k, type_name, false))
        .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s.to_owned())))
        .collect()
}

/// A valid XML element name made of ASCII letters and digits (all FHIR names are).
pub(crate) fn is_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Checks the narrative is one well-formed `div` and gives it the XHTML namespace.
pub(crate) fn xhtml(div: &str, loc: &str) -> Result<String> {
    let bad = |reason: String| Error::Xhtml {
        location: loc.to_owned(),
        reason,
    };
    let trimmed = div.trim();
    if !trimmed.starts_with("<div") {
        return Err(bad("does not start with <div".to_owned()));
    }
    let with_ns = if trimmed.contains("xmlns=\"http://www.w3.org/1999/xhtml\"")
        || trimmed.contains("xmlns='http://www.w3.org/1999/xhtml'")
    {
        trimmed.to_owned()
    } else {
        format!("<div xmlns=\"{XHTML_NS}\"{}", &trimmed[4..])
    };
    let mut reader = quick_xml::Reader::from_str(&with_ns);
    let mut depth: usize = 0;
    let mut roots = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(start)) => {
                check_attributes(&start).map_err(bad)?;
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(quick_xml::events::Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(quick_xml::events::Event::Empty(start)) => {
                check_attributes(&start).map_err(bad)?;
                if depth == 0 {
                    roots += 1;
                }
            }
            Ok(quick_xml::events::Event::Text(t)) if depth == 0 => {
                if !t.trim().is_empty() {
                    return Err(bad("text outside the div".to_owned()));
                }
            }
            Ok(quick_xml::events::Event::DocType(_) | quick_xml::events::Event::Decl(_)) => {
                return Err(bad("declarations are not allowed".to_owned()));
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    if depth != 0 || roots != 1 {
        return Err(bad("must be exactly one element".to_owned()));
    }
    Ok(with_ns)
}

/// The element's name and its attributes' names must be XML names (quick-xml reads any
/// run of characters as a name), attributes well-formed and unique.
fn check_attributes(start: &quick_xml::events::BytesStart<'_>) -> std::result::Result<(), String> {
    if !is_xml_name(start.name().as_ref()) {
        return Err("an element name that is not an XML name".to_owned());
    }
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        if !is_xml_name(attr.key.as_ref()) {
            return Err("an attribute name that is not an XML name".to_owned());
        }
        attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
