//! The XML layer: an element tree read with quick-xml's event reader, and a single-line writer.
//! Every typed message is read from and written through these two.
//!
//! The decoder's tree ([`Document`], read through [`Element`] handles) is two flat `Vec`s (elements
//! in document order, attributes) borrowing from the input: names, attribute values and text are
//! `Cow`s pointing into the document, copied only where unescaping forces it (an entity or
//! character reference, a CR to normalise, text split by a comment). The typed readers copy each
//! value once, into the typed message; only items this crate does not type become owned
//! [`RawElement`]s.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::borrow::Cow;

use crate::error::Error;
use crate::options::EncodeOptions;

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
        parse_document(bytes).map(Document::into_raw)
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

/// One element of a parsed document, stored flat in document order (see [`Document`]).
#[derive(Clone, Default, PartialEq, Eq)]
struct Node<'a> {
    /// Element name.
    name: Cow<'a, str>,
    /// The element's own text (all text and CDATA directly inside it, concatenated, unescaped).
    text: Cow<'a, str>,
    /// Its attributes: `Document::attributes[attributes.0..attributes.1]`.
    attributes: (usize, usize),
    /// One past the index of its last descendant (its first child, if any, is the next node).
    end: usize,
}

/// A parsed document as the decoder reads it: every element in one `Vec` in document order,
/// every attribute in another, names, values and text borrowed from the input (`Cow`s, copied
/// only where unescaping forces it). No allocation per element.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Document<'a> {
    nodes: Vec<Node<'a>>,
    attributes: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Document<'a> {
    /// A document holding one empty element with this name.
    pub(crate) fn empty(name: &'static str) -> Self {
        Self {
            nodes: vec![Node {
                name: Cow::Borrowed(name),
                end: 1,
                ..Node::default()
            }],
            attributes: Vec::new(),
        }
    }

    /// The root element.
    pub(crate) fn root(&self) -> Element<'_, 'a> {
        Element {
            doc: self,
            index: 0,
        }
    }

    /// The whole document as an owned [`RawElement`], moving what is already owned.
    fn into_raw(mut self) -> RawElement {
        if self.nodes.is_empty() {
            return RawElement::default();
        }
        self.take_raw(0)
    }

    fn take_raw(&mut self, index: usize) -> RawElement {
        let Some(node) = self.nodes.get_mut(index) else {
            return RawElement::default();
        };
        let name = std::mem::take(&mut node.name).into_owned();
        let text = std::mem::take(&mut node.text).into_owned();
        let (from, to) = node.attributes;
        let end = node.end;
        let attributes = self
            .attributes
            .get_mut(from..to)
            .unwrap_or_default()
            .iter_mut()
            .map(|(k, v)| {
                (
                    std::mem::take(k).into_owned(),
                    std::mem::take(v).into_owned(),
                )
            })
            .collect();
        let mut children = Vec::new();
        let mut child = index + 1;
        while child < end {
            let next = self.nodes.get(child).map_or(end, |n| n.end);
            children.push(self.take_raw(child));
            child = next.max(child + 1);
        }
        RawElement {
            name,
            attributes,
            text,
            children,
        }
    }
}

/// An element of a [`Document`]: a copyable handle the typed readers take.
#[derive(Clone, Copy)]
pub(crate) struct Element<'d, 'a> {
    doc: &'d Document<'a>,
    index: usize,
}

impl std::fmt::Debug for Element<'_, '_> {
    /// Names the structure only: text and attribute values may be patient data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Element")
            .field("name", &self.name())
            .field(
                "attributes",
                &self
                    .attribute_slice()
                    .iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            )
            .field("text_len", &self.text().len())
            .field("children", &self.children().collect::<Vec<_>>())
            .finish()
    }
}

/// The children of an element, in order.
pub(crate) struct Children<'d, 'a> {
    doc: &'d Document<'a>,
    next: usize,
    end: usize,
}

impl<'d, 'a> Iterator for Children<'d, 'a> {
    type Item = Element<'d, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let index = self.next;
        let node = self.doc.nodes.get(index)?;
        // `end` is always past the node itself; `max` keeps a corrupt value from looping.
        self.next = node.end.max(index + 1);
        Some(Element {
            doc: self.doc,
            index,
        })
    }
}

impl<'d, 'a> Element<'d, 'a> {
    fn node(&self) -> Option<&'d Node<'a>> {
        self.doc.nodes.get(self.index)
    }

    /// Element name.
    pub(crate) fn name(&self) -> &'d str {
        self.node().map_or("", |n| &n.name)
    }

    /// The element's own text (unescaped).
    pub(crate) fn text(&self) -> &'d str {
        self.node().map_or("", |n| &n.text)
    }

    fn attribute_slice(&self) -> &'d [(Cow<'a, str>, Cow<'a, str>)] {
        self.node()
            .and_then(|n| self.doc.attributes.get(n.attributes.0..n.attributes.1))
            .unwrap_or_default()
    }

    /// Child elements in document order.
    pub(crate) fn children(&self) -> Children<'d, 'a> {
        Children {
            doc: self.doc,
            next: self.index + 1,
            end: self.node().map_or(0, |n| n.end),
        }
    }

    /// The first child with this name.
    pub(crate) fn child(&self, name: &str) -> Option<Element<'d, 'a>> {
        self.children().find(|c| c.name() == name)
    }

    /// All children with this name, in order.
    pub(crate) fn children_named<'n>(
        &self,
        name: &'n str,
    ) -> impl Iterator<Item = Element<'d, 'a>> + use<'d, 'a, 'n> {
        self.children().filter(move |c| c.name() == name)
    }

    /// Whether a child with this name is present (presence flags such as `<Demographics/>`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.child(name).is_some()
    }

    /// The value of an attribute.
    pub(crate) fn attr(&self, name: &str) -> Option<&'d str> {
        self.attribute_slice()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The text of the first child with this name, borrowed.
    pub(crate) fn child_str(&self, name: &str) -> Option<&'d str> {
        self.child(name).map(|c| c.text())
    }

    /// The text of the first child with this name (the one copy into the typed message).
    pub(crate) fn child_text(&self, name: &str) -> Option<String> {
        self.child_str(name).map(str::to_owned)
    }

    /// The text of every child with this name, in order.
    pub(crate) fn texts(&self, name: &str) -> Vec<String> {
        self.children_named(name)
            .map(|c| c.text().to_owned())
            .collect()
    }

    /// The first child with this name, or a [`Error::MissingElement`].
    pub(crate) fn require(&self, name: &'static str) -> Result<Element<'d, 'a>, Error> {
        self.child(name).ok_or_else(|| Error::MissingElement {
            parent: self.name().to_owned(),
            element: name,
        })
    }

    /// The text of a required child.
    pub(crate) fn require_text(&self, name: &'static str) -> Result<String, Error> {
        self.require(name).map(|c| c.text().to_owned())
    }

    /// An owned copy of this subtree (for items kept whole, such as unknown data items).
    pub(crate) fn to_raw(self) -> RawElement {
        RawElement {
            name: self.name().to_owned(),
            attributes: self
                .attribute_slice()
                .iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
                .collect(),
            text: self.text().to_owned(),
            children: self.children().map(Element::to_raw).collect(),
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
        owned_text(text).push_str(&piece);
    }
}

/// The text as an owned `String`, copied once with room for the pieces that usually follow
/// (text split by entity references arrives in several pieces: one allocation, not one per
/// piece).
fn owned_text<'t>(text: &'t mut Cow<'_, str>) -> &'t mut String {
    if let Cow::Borrowed(borrowed) = *text {
        let mut owned = String::with_capacity(borrowed.len() * 2 + 16);
        owned.push_str(borrowed);
        *text = Cow::Owned(owned);
    }
    text.to_mut()
}

/// Parses one XML document, borrowing from `bytes`.
///
/// UTF-8 only; a `DOCTYPE` is rejected ([`Error::DoctypeNotAllowed`]); only the five predefined
/// entities and character references are understood; comments and processing instructions are
/// skipped; nesting is limited to [`MAX_DEPTH`].
pub(crate) fn parse_document(bytes: &[u8]) -> Result<Document<'_>, Error> {
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
    // About one element per 50 bytes in SystmOne records: one allocation up front.
    let mut doc = Document {
        nodes: Vec::with_capacity(text.len() / 50 + 1),
        attributes: Vec::with_capacity(text.len() / 100 + 1),
    };
    // Indexes of the open elements.
    let mut stack: Vec<usize> = Vec::new();
    let mut root_done = false;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| malformed(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root_done => {
                let _ = start;
                return Err(malformed(position, "content after the root element"));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep { limit: MAX_DEPTH });
                }
                stack.push(push_element(&mut doc, text, &start, position)?);
            }
            Event::Empty(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep { limit: MAX_DEPTH });
                }
                push_element(&mut doc, text, &start, position)?;
                root_done = stack.is_empty();
            }
            Event::End(_) => {
                let index = stack
                    .pop()
                    .ok_or_else(|| malformed(position, "end tag without a start tag"))?;
                let end = doc.nodes.len();
                if let Some(node) = doc.nodes.get_mut(index) {
                    node.end = end;
                }
                root_done = stack.is_empty();
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last().and_then(|&top| doc.nodes.get_mut(top)) {
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
                match stack.last().and_then(|&top| doc.nodes.get_mut(top)) {
                    Some(top) => push_text(&mut top.text, content),
                    None => return Err(malformed(position, "CDATA outside the root element")),
                }
            }
            Event::GeneralRef(r) => {
                let top = stack
                    .last()
                    .and_then(|&top| doc.nodes.get_mut(top))
                    .ok_or_else(|| malformed(position, "reference outside the root element"))?;
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => owned_text(&mut top.text).push(ch),
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
    if !stack.is_empty() || !root_done {
        return Err(Error::Truncated);
    }
    Ok(doc)
}

/// An XML name (simplified: ASCII letters, digits, `_ : - .`, and any non-ASCII character; not
/// starting with a digit, `-` or `.`).
fn is_xml_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match bytes.first() {
        Some(&b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' || !b.is_ascii() => {}
        _ => return false,
    }
    // Non-ASCII bytes (any UTF-8 sequence) are all allowed, so bytes can be tested one by one.
    bytes.iter().all(|&b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.') || !b.is_ascii()
    })
}

/// Appends the element a start tag opens (and its attributes); returns its index.
fn push_element<'a>(
    doc: &mut Document<'a>,
    input: &'a str,
    start: &quick_xml::events::BytesStart<'_>,
    position: u64,
) -> Result<usize, Error> {
    let name = start.name();
    let name = name.as_ref();
    if !is_xml_name(name) {
        return Err(malformed(position, "invalid element name"));
    }
    let first_attribute = doc.attributes.len();
    let mut attributes = start.attributes();
    // quick-xml's own duplicate check keeps a `Vec` of the keys seen: one allocation per
    // element. The keys already pushed to `doc.attributes` serve the same purpose.
    attributes.with_checks(false);
    for attr in attributes {
        let attr = attr.map_err(|e| malformed(position, e.to_string()))?;
        let key = attr.key.as_ref();
        if !is_xml_name(key) {
            return Err(malformed(position, "invalid attribute name"));
        }
        if doc
            .attributes
            .get(first_attribute..)
            .unwrap_or_default()
            .iter()
            .any(|(seen, _)| seen == key)
        {
            return Err(malformed(position, "duplicate attribute"));
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
        doc.attributes.push((reborrow(input, key), value));
    }
    let index = doc.nodes.len();
    doc.nodes.push(Node {
        name: reborrow(input, name),
        text: Cow::Borrowed(""),
        attributes: (first_attribute, doc.attributes.len()),
        end: index + 1,
    });
    Ok(index)
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
