//! The XML layer: an element tree read with quick-xml's event reader, and a single-line writer.
//! Every typed message is read from and written through these two.
//!
//! The decoder's tree ([`Element`]) borrows from the input: names, attribute values and text are
//! `Cow`s pointing into the document, copied only where unescaping forces it (an entity or
//! character reference, a CR to normalise, text split by a comment). The typed readers copy each
//! value once, into the typed message; only items this crate does not type become owned
//! [`RawElement`]s.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::borrow::Cow;

use crate::codec::EncodeOptions;
use crate::error::Error;

/// Elements nested deeper than this are rejected (a SystmOne record nests about eight deep).
pub const MAX_DEPTH: usize = 64;

/// An XML element kept as a tree: what the decoder reads before mapping it onto typed messages,
/// and the catch-all for data items this crate does not type (so they round-trip unchanged).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawElement {
    /// Element name.
    pub name: String,
    /// Attributes in document order, unescaped.
    pub attributes: Vec<(String, String)>,
    /// The element's own text (all text and CDATA directly inside it, concatenated, unescaped).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<RawElement>,
}

impl std::fmt::Debug for RawElement {
    /// Names the structure only: text and attribute values may be patient data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawElement")
            .field("name", &self.name)
            .field(
                "attributes",
                &self.attributes.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("text_len", &self.text.len())
            .field("children", &self.children)
            .finish()
    }
}

impl RawElement {
    /// An empty element with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Parses one XML document into its root element, with the decoder's safety rules (UTF-8
    /// only, DOCTYPE rejected, predefined entities and character references only, nesting
    /// capped at [`MAX_DEPTH`]). For looking at messages this crate does not type.
    ///
    /// # Errors
    /// As [`crate::ClientIntegrationResponse::decode`] for malformed or hostile input.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        parse_document(bytes).map(Element::into_raw)
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&RawElement> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this name, in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a RawElement> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Whether a child with this name is present (presence flags such as `<Demographics/>`).
    pub fn has(&self, name: &str) -> bool {
        self.child(name).is_some()
    }

    /// The value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of the first child with this name.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.clone())
    }

    /// Writes this element and its subtree.
    pub(crate) fn write(&self, w: &mut Writer) {
        let attrs: Vec<(&str, Option<&str>)> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), Some(v.as_str())))
            .collect();
        if self.children.is_empty() && self.text.is_empty() {
            w.empty_attrs(&self.name, &attrs);
            return;
        }
        w.open_attrs(&self.name, &attrs);
        w.text(&self.name, &self.text);
        for c in &self.children {
            c.write(w);
        }
        w.close(&self.name);
    }
}

/// The decoder's element tree: like [`RawElement`], but borrowing from the input document.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    /// Element name.
    pub(crate) name: Cow<'a, str>,
    /// Attributes in document order, unescaped.
    pub(crate) attributes: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// The element's own text (all text and CDATA directly inside it, concatenated, unescaped).
    pub(crate) text: Cow<'a, str>,
    /// Child elements in document order.
    pub(crate) children: Vec<Element<'a>>,
}

impl std::fmt::Debug for Element<'_> {
    /// Names the structure only: text and attribute values may be patient data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Element")
            .field("name", &self.name)
            .field(
                "attributes",
                &self.attributes.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("text_len", &self.text.len())
            .field("children", &self.children)
            .finish()
    }
}

impl<'a> Element<'a> {
    /// An empty element with this name.
    pub(crate) fn empty(name: &'static str) -> Self {
        Self {
            name: Cow::Borrowed(name),
            ..Self::default()
        }
    }

    /// The first child with this name.
    pub(crate) fn child(&self, name: &str) -> Option<&Element<'a>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this name, in order.
    pub(crate) fn children_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Element<'a>> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Whether a child with this name is present (presence flags such as `<Demographics/>`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.child(name).is_some()
    }

    /// The value of an attribute.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The text of the first child with this name (the one copy into the typed message).
    pub(crate) fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.as_ref().to_owned())
    }

    /// The text of every child with this name, in order.
    pub(crate) fn texts(&self, name: &str) -> Vec<String> {
        self.children_named(name)
            .map(|c| c.text.as_ref().to_owned())
            .collect()
    }

    /// The first child with this name, or a [`Error::MissingElement`].
    pub(crate) fn require(&self, name: &'static str) -> Result<&Element<'a>, Error> {
        self.child(name).ok_or_else(|| Error::MissingElement {
            parent: self.name.as_ref().to_owned(),
            element: name,
        })
    }

    /// The text of a required child.
    pub(crate) fn require_text(&self, name: &'static str) -> Result<String, Error> {
        self.require(name).map(|c| c.text.as_ref().to_owned())
    }

    /// An owned copy of this subtree (for items kept whole, such as unknown data items).
    pub(crate) fn to_raw(&self) -> RawElement {
        RawElement {
            name: self.name.as_ref().to_owned(),
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
                .collect(),
            text: self.text.as_ref().to_owned(),
            children: self.children.iter().map(Element::to_raw).collect(),
        }
    }

    /// This subtree as an owned [`RawElement`], moving what is already owned.
    pub(crate) fn into_raw(self) -> RawElement {
        RawElement {
            name: self.name.into_owned(),
            attributes: self
                .attributes
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            text: self.text.into_owned(),
            children: self.children.into_iter().map(Element::into_raw).collect(),
        }
    }
}

fn malformed(position: u64, reason: impl Into<String>) -> Error {
    Error::Malformed {
        position,
        reason: reason.into(),
    }
}

/// `piece` as a borrow of `input` when it lies inside it (everything quick-xml's `from_str`
/// reader hands out does), else a copy.
fn reborrow<'a>(input: &'a str, piece: &str) -> Cow<'a, str> {
    let base = input.as_ptr() as usize;
    let at = (piece.as_ptr() as usize).wrapping_sub(base);
    match input.get(at..at.wrapping_add(piece.len())) {
        Some(s) if s.as_ptr() == piece.as_ptr() => Cow::Borrowed(s),
        _ => Cow::Owned(piece.to_owned()),
    }
}

/// Appends a piece of text, borrowing when it is the element's only piece.
fn push_text<'a>(text: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if text.is_empty() {
        *text = piece;
    } else {
        text.to_mut().push_str(&piece);
    }
}

/// Parses one XML document into its root element, borrowing from `bytes`.
///
/// UTF-8 only; a `DOCTYPE` is rejected ([`Error::DoctypeNotAllowed`]); only the five predefined
/// entities and character references are understood; comments and processing instructions are
/// skipped; nesting is limited to [`MAX_DEPTH`].
pub(crate) fn parse_document(bytes: &[u8]) -> Result<Element<'_>, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    {
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_end_names = true;
        config.expand_empty_elements = false;
    }
    let mut stack: Vec<Element<'_>> = Vec::new();
    let mut root: Option<Element<'_>> = None;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| malformed(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(malformed(position, "content after the root element"));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep { limit: MAX_DEPTH });
                }
                stack.push(element_from_start(text, &start, position)?);
            }
            Event::Empty(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep { limit: MAX_DEPTH });
                }
                let element = element_from_start(text, &start, position)?;
                finish(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| malformed(position, "end tag without a start tag"))?;
                finish(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(top) => push_text(&mut top.text, content),
                    None => {
                        if !content.trim().is_empty() {
                            return Err(malformed(position, "text outside the root element"));
                        }
                    }
                }
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                match stack.last_mut() {
                    Some(top) => push_text(&mut top.text, content),
                    None => return Err(malformed(position, "CDATA outside the root element")),
                }
            }
            Event::GeneralRef(r) => {
                let top = stack
                    .last_mut()
                    .ok_or_else(|| malformed(position, "reference outside the root element"))?;
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => top.text.to_mut().push(ch),
                        _ => return Err(malformed(position, "invalid character reference")),
                    }
                } else {
                    let name = r.xml10_content();
                    match resolve_predefined_entity(&name) {
                        Some(value) => push_text(&mut top.text, Cow::Borrowed(value)),
                        None => return Err(malformed(position, "unknown entity reference")),
                    }
                }
            }
            Event::DocType(_) => return Err(Error::DoctypeNotAllowed { position }),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(Error::Truncated);
    }
    root.ok_or(Error::Truncated)
}

fn finish<'a>(stack: &mut [Element<'a>], root: &mut Option<Element<'a>>, element: Element<'a>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// An XML name (simplified: ASCII letters, digits, `_ : - .`, and any non-ASCII character; not
/// starting with a digit, `-` or `.`).
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.') || !c.is_ascii())
}

fn element_from_start<'a>(
    input: &'a str,
    start: &quick_xml::events::BytesStart<'_>,
    position: u64,
) -> Result<Element<'a>, Error> {
    let name = start.name();
    let name = name.as_ref();
    if !is_xml_name(name) {
        return Err(malformed(position, "invalid element name"));
    }
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| malformed(position, e.to_string()))?;
        let key = attr.key.as_ref();
        if !is_xml_name(key) {
            return Err(malformed(position, "invalid attribute name"));
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            // Not `e.to_string()`: quick-xml repeats an unknown entity's text, which here is
            // part of an attribute value (patient data).
            .map_err(|_| {
                malformed(
                    position,
                    "invalid entity or character reference in an attribute value",
                )
            })?;
        let value = match value {
            Cow::Borrowed(v) => reborrow(input, v),
            Cow::Owned(v) => Cow::Owned(v),
        };
        attributes.push((reborrow(input, key), value));
    }
    Ok(Element {
        name: reborrow(input, name),
        attributes,
        text: Cow::Borrowed(""),
        children: Vec::new(),
    })
}

/// Writes XML on one line: no raw CR or LF ever appears (they become `&#10;` / `&#13;`).
pub struct Writer {
    pub(crate) out: String,
    pub(crate) options: EncodeOptions,
    bad_text: Option<String>,
}

fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

impl Writer {
    pub(crate) fn new(options: EncodeOptions, capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            options,
            bad_text: None,
        }
    }

    /// The finished text, or the first element whose text could not be written.
    pub(crate) fn finish(self) -> Result<String, Error> {
        match self.bad_text {
            Some(element) => Err(Error::UnencodableText { element }),
            None => Ok(self.out),
        }
    }

    /// Escapes `value`; `owner` and `attribute` (its name, if an attribute value) only name the
    /// place in an error.
    fn escape(&mut self, owner: &str, value: &str, attribute: Option<&str>) {
        if !value.bytes().any(|b| {
            matches!(b, b'&' | b'<' | b'>' | b'"' | b'\n' | b'\r' | b'\t')
                || !(0x20..0xef).contains(&b)
        }) {
            self.out.push_str(value);
            return;
        }
        for c in value.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '"' if attribute.is_some() => self.out.push_str("&quot;"),
                '\n' => self.out.push_str("&#10;"),
                '\r' => self.out.push_str("&#13;"),
                '\t' if attribute.is_some() => self.out.push_str("&#9;"),
                c if !is_xml_char(c) => {
                    if self.bad_text.is_none() {
                        self.bad_text = Some(match attribute {
                            Some(key) => format!("{owner}@{key}"),
                            None => owner.to_owned(),
                        });
                    }
                }
                c => self.out.push(c),
            }
        }
    }

    fn push_attrs(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        for (key, value) in attrs {
            if let Some(value) = value {
                self.out.push(' ');
                self.out.push_str(key);
                self.out.push_str("=\"");
                self.escape(name, value, Some(key));
                self.out.push('"');
            }
        }
    }

    /// `<name>`
    pub(crate) fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name a="v">` (attributes whose value is `None` are left out).
    pub(crate) fn open_attrs(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        self.out.push('<');
        self.out.push_str(name);
        self.push_attrs(name, attrs);
        self.out.push('>');
    }

    /// `<name a="v"/>`
    pub(crate) fn empty_attrs(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        self.out.push('<');
        self.out.push_str(name);
        self.push_attrs(name, attrs);
        self.out.push_str("/>");
    }

    /// `</name>`
    pub(crate) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Escaped text content.
    pub(crate) fn text(&mut self, owner: &str, value: &str) {
        self.escape(owner, value, None);
    }

    /// `<name>text</name>`
    pub(crate) fn elem(&mut self, name: &str, value: &str) {
        self.open(name);
        self.text(name, value);
        self.close(name);
    }

    /// `<name>text</name>` when `Some`.
    pub(crate) fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.elem(name, value);
        }
    }

    /// One `<name>text</name>` per value.
    pub(crate) fn each(&mut self, name: &str, values: &[String]) {
        for value in values {
            self.elem(name, value);
        }
    }

    /// `<name/>` when the flag is set.
    pub(crate) fn flag(&mut self, name: &str, set: bool) {
        if set {
            self.out.push('<');
            self.out.push_str(name);
            self.out.push_str("/>");
        }
    }
}
