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

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::{self, Serializer};

use super::order::{Child, elements, fallback_rank, lookup};
use super::writer::{FHIR_NS, MAX_DEPTH, is_attribute, is_name, xhtml};
use crate::error::{Error, Result};

/// Nesting `serde_json`'s parser accepts (its recursion limit), kept so that the direct path
/// refuses what the JSON path refuses.
const JSON_DEPTH_LIMIT: usize = 128;

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

// ---------------------------------------------------------------------------------------------
// Step 1: the value tree.

/// A serialised value: JSON's data model with object keys in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V {
    /// `null` (a `None`, a unit, a non-finite float).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, already formatted as `serde_json::Number` prints it.
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<V>),
    /// An object, keys in serialisation order.
    Obj(Vec<(Cow<'static, str>, V)>),
}

impl V {
    fn get(&self, key: &str) -> Option<&V> {
        match self {
            V::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The serialiser's error: a message (turned into [`Error::Json`], redacted).
#[derive(Debug)]
pub(crate) struct SerError(String);

impl std::fmt::Display for SerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        SerError(msg.to_string())
    }
}

type SerResult<T> = std::result::Result<T, SerError>;

/// Builds a [`V`]. `size` counts string bytes (to size the output once).
#[derive(Clone, Copy)]
struct TreeSerializer<'s> {
    depth: usize,
    size: &'s Cell<usize>,
}

impl<'s> TreeSerializer<'s> {
    fn nested(self) -> SerResult<Self> {
        if self.depth >= JSON_DEPTH_LIMIT {
            return Err(SerError("recursion limit exceeded".to_owned()));
        }
        Ok(Self {
            depth: self.depth + 1,
            size: self.size,
        })
    }

    fn string(self, s: &str) -> V {
        self.size.set(self.size.get() + s.len() + 16);
        V::Str(s.to_owned())
    }
}

/// A float as `serde_json` writes it and then prints it back after parsing.
fn float<F: Serialize>(v: F) -> SerResult<V> {
    let text = serde_json::to_string(&v).map_err(|e| SerError(e.to_string()))?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Number(n)) => Ok(V::Num(n.to_string())),
        _ => Ok(V::Null),
    }
}

impl<'s> Serializer for TreeSerializer<'s> {
    type Ok = V;
    type Error = SerError;
    type SerializeSeq = SeqSer<'s>;
    type SerializeTuple = SeqSer<'s>;
    type SerializeTupleStruct = SeqSer<'s>;
    type SerializeTupleVariant = VariantSer<SeqSer<'s>>;
    type SerializeMap = MapSer<'s>;
    type SerializeStruct = MapSer<'s>;
    type SerializeStructVariant = VariantSer<MapSer<'s>>;

    fn serialize_bool(self, v: bool) -> SerResult<V> {
        Ok(V::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_i128(self, v: i128) -> SerResult<V> {
        match i64::try_from(v) {
            Ok(v) => Ok(V::Num(v.to_string())),
            Err(_) => float(v as f64),
        }
    }
    fn serialize_u8(self, v: u8) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> SerResult<V> {
        Ok(V::Num(v.to_string()))
    }
    fn serialize_u128(self, v: u128) -> SerResult<V> {
        match u64::try_from(v) {
            Ok(v) => Ok(V::Num(v.to_string())),
            Err(_) => float(v as f64),
        }
    }
    fn serialize_f32(self, v: f32) -> SerResult<V> {
        float(v)
    }
    fn serialize_f64(self, v: f64) -> SerResult<V> {
        float(v)
    }
    fn serialize_char(self, v: char) -> SerResult<V> {
        Ok(self.string(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> SerResult<V> {
        Ok(self.string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> SerResult<V> {
        Ok(V::Arr(v.iter().map(|b| V::Num(b.to_string())).collect()))
    }
    fn serialize_none(self) -> SerResult<V> {
        Ok(V::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> SerResult<V> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> SerResult<V> {
        Ok(V::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> SerResult<V> {
        Ok(V::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> SerResult<V> {
        Ok(self.string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> SerResult<V> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> SerResult<V> {
        let inner = value.serialize(self.nested()?)?;
        Ok(V::Obj(vec![(Cow::Borrowed(variant), inner)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> SerResult<SeqSer<'s>> {
        Ok(SeqSer {
            ser: self.nested()?,
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
        })
    }
    fn serialize_tuple(self, len: usize) -> SerResult<SeqSer<'s>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> SerResult<SeqSer<'s>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> SerResult<VariantSer<SeqSer<'s>>> {
        let nested = self.nested()?;
        Ok(VariantSer {
            variant,
            inner: nested.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> SerResult<MapSer<'s>> {
        Ok(MapSer {
            ser: self.nested()?,
            fields: Vec::with_capacity(len.unwrap_or(0).min(256)),
            key: None,
            check_duplicates: true,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> SerResult<MapSer<'s>> {
        Ok(MapSer {
            ser: self.nested()?,
            fields: Vec::with_capacity(len.min(256)),
            key: None,
            check_duplicates: false,
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> SerResult<VariantSer<MapSer<'s>>> {
        let nested = self.nested()?;
        Ok(VariantSer {
            variant,
            inner: nested.serialize_struct(variant, len)?,
        })
    }
}

/// Arrays.
struct SeqSer<'s> {
    ser: TreeSerializer<'s>,
    items: Vec<V>,
}

impl ser::SerializeSeq for SeqSer<'_> {
    type Ok = V;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> SerResult<()> {
        self.items.push(value.serialize(self.ser)?);
        Ok(())
    }
    fn end(self) -> SerResult<V> {
        Ok(V::Arr(self.items))
    }
}

impl ser::SerializeTuple for SeqSer<'_> {
    type Ok = V;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> SerResult<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> SerResult<V> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSer<'_> {
    type Ok = V;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> SerResult<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> SerResult<V> {
        ser::SerializeSeq::end(self)
    }
}

/// Objects (structs and maps). Map keys are checked for duplicates, as the JSON path's parser
/// does (struct field names cannot repeat).
struct MapSer<'s> {
    ser: TreeSerializer<'s>,
    fields: Vec<(Cow<'static, str>, V)>,
    key: Option<Cow<'static, str>>,
    check_duplicates: bool,
}

impl MapSer<'_> {
    fn push(&mut self, key: Cow<'static, str>, value: V) -> SerResult<()> {
        if self.check_duplicates && self.fields.iter().any(|(k, _)| *k == key) {
            return Err(SerError(format!("duplicate property `{key}`")));
        }
        self.fields.push((key, value));
        Ok(())
    }
}

impl ser::SerializeMap for MapSer<'_> {
    type Ok = V;
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> SerResult<()> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> SerResult<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerError("map value without a key".to_owned()))?;
        let value = value.serialize(self.ser)?;
        self.push(key, value)
    }
    fn end(self) -> SerResult<V> {
        Ok(V::Obj(self.fields))
    }
}

impl ser::SerializeStruct for MapSer<'_> {
    type Ok = V;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> SerResult<()> {
        let value = value.serialize(self.ser)?;
        self.push(Cow::Borrowed(key), value)
    }
    fn end(self) -> SerResult<V> {
        Ok(V::Obj(self.fields))
    }
}

/// `{variant: inner}`.
struct VariantSer<I> {
    variant: &'static str,
    inner: I,
}

impl<'s> ser::SerializeTupleVariant for VariantSer<SeqSer<'s>> {
    type Ok = V;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> SerResult<()> {
        ser::SerializeSeq::serialize_element(&mut self.inner, value)
    }
    fn end(self) -> SerResult<V> {
        let inner = ser::SerializeSeq::end(self.inner)?;
        Ok(V::Obj(vec![(Cow::Borrowed(self.variant), inner)]))
    }
}

impl<'s> ser::SerializeStructVariant for VariantSer<MapSer<'s>> {
    type Ok = V;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> SerResult<()> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> SerResult<V> {
        let inner = ser::SerializeStruct::end(self.inner)?;
        Ok(V::Obj(vec![(Cow::Borrowed(self.variant), inner)]))
    }
}

/// Map keys: strings, and what `serde_json` turns into strings (integers, chars, unit
/// variants).
struct KeySerializer;

fn key_error() -> SerError {
    SerError("key must be a string".to_owned())
}

impl Serializer for KeySerializer {
    type Ok = Cow<'static, str>;
    type Error = SerError;
    type SerializeSeq = ser::Impossible<Cow<'static, str>, SerError>;
    type SerializeTuple = ser::Impossible<Cow<'static, str>, SerError>;
    type SerializeTupleStruct = ser::Impossible<Cow<'static, str>, SerError>;
    type SerializeTupleVariant = ser::Impossible<Cow<'static, str>, SerError>;
    type SerializeMap = ser::Impossible<Cow<'static, str>, SerError>;
    type SerializeStruct = ser::Impossible<Cow<'static, str>, SerError>;
    type SerializeStructVariant = ser::Impossible<Cow<'static, str>, SerError>;

    fn serialize_str(self, v: &str) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn serialize_char(self, v: char) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> SerResult<Self::Ok> {
        Ok(Cow::Borrowed(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> SerResult<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_bool(self, v: bool) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_i8(self, v: i8) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_i128(self, v: i128) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_u128(self, v: u128) -> SerResult<Self::Ok> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn serialize_f32(self, _v: f32) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_bytes(self, _v: &[u8]) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_none(self) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_unit(self) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> SerResult<Self::Ok> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> SerResult<Self::SerializeSeq> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> SerResult<Self::SerializeTuple> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> SerResult<Self::SerializeTupleStruct> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> SerResult<Self::SerializeTupleVariant> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> SerResult<Self::SerializeMap> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> SerResult<Self::SerializeStruct> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> SerResult<Self::SerializeStructVariant> {
        Err(key_error())
    }
}

// ---------------------------------------------------------------------------------------------
// Step 2: the writer.

/// A FHIRPath-like location, formatted only for an error message.
#[derive(Clone, Copy)]
enum Loc<'p> {
    /// The empty location (the root resource).
    Root,
    /// A location that starts afresh (a resource's fields are located from its type).
    Reset(&'p str),
    /// `parent.name`
    Field(&'p Loc<'p>, &'p str),
    /// `parent[i]`
    Index(&'p Loc<'p>, usize),
}

impl Loc<'_> {
    const ROOT: Loc<'static> = Loc::Root;

    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Loc::Root => {}
            Loc::Reset(s) => out.push_str(s),
            Loc::Field(parent, name) => {
                parent.render_into(out);
                out.push('.');
                out.push_str(name);
            }
            Loc::Index(parent, i) => {
                parent.render_into(out);
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

fn too_deep() -> Error {
    Error::TooLarge {
        what: "nesting depth",
        limit: MAX_DEPTH,
    }
}

/// Bytes that need a look when escaping an attribute value: markup characters, controls, and
/// the lead byte of U+FFFE / U+FFFF.
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[0xEF] = true;
    table
};

/// Whether a byte needs a look (as [`SPECIAL`], but branch-free so that whole chunks can be
/// tested at once: controls, `"`, `&`, `<`, `>`, and any non-ASCII byte).
#[inline(always)]
fn maybe_special(b: u8) -> bool {
    !(0x20..0x80).contains(&b) || b == b'"' || b == b'&' || b == b'<' || b == b'>'
}

/// The index of the first byte [`SPECIAL`] marks. Long values (a base64 attachment) are
/// tested 64 bytes at a time with a test the compiler can vectorise.
fn first_special(bytes: &[u8]) -> Option<usize> {
    const CHUNK: usize = 64;
    let mut start = 0;
    for chunk in bytes.chunks_exact(CHUNK) {
        if chunk.iter().fold(false, |any, &b| any | maybe_special(b))
            && let Some(i) = chunk.iter().position(|&b| SPECIAL[usize::from(b)])
        {
            return Some(start + i);
        }
        start += CHUNK;
    }
    bytes
        .get(start..)?
        .iter()
        .position(|&b| SPECIAL[usize::from(b)])
        .map(|i| start + i)
}

/// Escapes an attribute value into `out` (as the JSON → XML writer does); `false` (and the
/// output left unfinished) if the value holds a character XML cannot carry.
fn escape_attribute(out: &mut String, value: &str) -> bool {
    let Some(first) = first_special(value.as_bytes()) else {
        out.push_str(value);
        return true;
    };
    let (clean, rest) = value.split_at(first);
    out.push_str(clean);
    for c in rest.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{8}'
            | '\u{B}'
            | '\u{C}'
            | '\u{E}'..='\u{1F}'
            | '\u{FFFE}'
            | '\u{FFFF}' => {
                return false;
            }
            c => out.push(c),
        }
    }
    true
}

struct Writer {
    out: String,
}

impl Writer {
    fn indent(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn resource(&mut self, value: &V, depth: usize, root: bool, loc: &Loc<'_>) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let rt = value
            .get("resourceType")
            .and_then(V::as_str)
            .ok_or_else(|| Error::UnexpectedResource {
                expected: "resource",
                found: "an object without resourceType".to_owned(),
                location: loc.render(),
            })?;
        if !is_name(rt) {
            return Err(Error::UnexpectedResource {
                expected: "resource",
                found: "an invalid resourceType".to_owned(),
                location: loc.render(),
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
        let V::Obj(fields) = value else {
            return Err(Error::UnexpectedResource {
                expected: "resource",
                found: "not an object".to_owned(),
                location: loc.render(),
            });
        };
        self.children(fields, Some(rt), true, depth + 1, &Loc::Reset(rt))?;
        self.indent(depth);
        self.out.push_str("</");
        self.out.push_str(rt);
        self.out.push('>');
        Ok(())
    }

    fn children(
        &mut self,
        fields: &[(Cow<'static, str>, V)],
        type_name: Option<&str>,
        is_resource: bool,
        depth: usize,
        loc: &Loc<'_>,
    ) -> Result<()> {
        let known_type = type_name.is_some_and(|t| elements(t).is_some());
        // Base names in input order, `_x` folded into `x`; attributes and resourceType
        // skipped; each with its rank in the type's element order.
        let mut names: Vec<(usize, &str)> = Vec::with_capacity(fields.len());
        for (key, _) in fields {
            let base = key.strip_prefix('_').unwrap_or(key);
            if base == "resourceType" && is_resource {
                continue;
            }
            if is_attribute(base, type_name, is_resource) {
                continue;
            }
            if !names.iter().any(|(_, n)| *n == base) {
                let rank = match type_name.and_then(|t| lookup(t, base)) {
                    Some((i, _, _)) => i,
                    None if known_type => usize::MAX,
                    None => fallback_rank(base, is_resource),
                };
                names.push((rank, base));
            }
        }
        names.sort_by_key(|(rank, _)| *rank);
        for (_, name) in names {
            let child_loc = Loc::Field(loc, name);
            if !is_name(name) {
                return Err(Error::Xml {
                    position: 0,
                    reason: format!(
                        "`{}` is not a valid element name at {}",
                        name.escape_debug(),
                        loc.render()
                    ),
                });
            }
            let value = fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let ext = fields
                .iter()
                .find(|(k, _)| k.strip_prefix('_') == Some(name))
                .map(|(_, v)| v);
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
            match (value, ext) {
                (Some(V::Arr(items)), ext) => {
                    let exts = match ext {
                        Some(V::Arr(e)) => e.as_slice(),
                        _ => &[],
                    };
                    for (i, item) in items.iter().enumerate() {
                        self.one(
                            name,
                            Some(item),
                            exts.get(i),
                            child_type,
                            depth,
                            &Loc::Index(&child_loc, i),
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
                            &Loc::Index(&child_loc, i),
                        )?;
                    }
                }
                (None, Some(V::Arr(exts))) => {
                    for (i, e) in exts.iter().enumerate() {
                        self.one(
                            name,
                            None,
                            Some(e),
                            child_type,
                            depth,
                            &Loc::Index(&child_loc, i),
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
        value: Option<&V>,
        ext: Option<&V>,
        child_type: Option<&str>,
        depth: usize,
        loc: &Loc<'_>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        match value {
            Some(v @ V::Obj(fields)) if fields.iter().any(|(k, _)| k == "resourceType") => {
                self.indent(depth);
                self.out.push('<');
                self.out.push_str(name);
                self.out.push('>');
                self.resource(v, depth + 1, false, loc)?;
                self.indent(depth);
                self.close(name);
            }
            Some(V::Obj(fields)) => {
                self.indent(depth);
                self.out.push('<');
                self.out.push_str(name);
                let mut has_children = false;
                let mut clean = true;
                for (k, v) in fields {
                    if is_attribute(k, child_type, false) {
                        if let V::Str(s) = v {
                            self.out.push(' ');
                            self.out.push_str(k);
                            self.out.push_str("=\"");
                            clean &= escape_attribute(&mut self.out, s);
                            self.out.push('"');
                        }
                    } else {
                        let base = k.strip_prefix('_').unwrap_or(k);
                        has_children |= !is_attribute(base, child_type, false);
                    }
                }
                if !clean {
                    return Err(control_in(name));
                }
                if has_children {
                    self.out.push('>');
                    self.children(fields, child_type, false, depth + 1, loc)?;
                    self.indent(depth);
                    self.close(name);
                } else {
                    self.out.push_str("/>");
                }
            }
            Some(V::Str(div)) if name == "div" => {
                self.indent(depth);
                self.out.push_str(&xhtml(div, &loc.render())?);
            }
            Some(V::Null) | None if ext.is_none() => {}
            primitive => {
                let text: Option<&str> = match primitive {
                    Some(V::Str(s)) => Some(s),
                    Some(V::Bool(true)) => Some("true"),
                    Some(V::Bool(false)) => Some("false"),
                    Some(V::Num(n)) => Some(n),
                    Some(V::Arr(_)) => {
                        return Err(Error::Xml {
                            position: 0,
                            reason: format!("nested array at {}", loc.render()),
                        });
                    }
                    _ => None,
                };
                let ext_fields = match ext {
                    Some(V::Obj(f)) => f.as_slice(),
                    _ => &[],
                };
                self.indent(depth);
                self.out.push('<');
                self.out.push_str(name);
                let mut clean_id = true;
                if let Some(id) = ext_fields
                    .iter()
                    .find(|(k, _)| k == "id")
                    .and_then(|(_, v)| v.as_str())
                {
                    self.out.push_str(" id=\"");
                    clean_id = escape_attribute(&mut self.out, id);
                    self.out.push('"');
                }
                if let Some(text) = text {
                    self.out.push_str(" value=\"");
                    if !escape_attribute(&mut self.out, text) {
                        return Err(Error::Xml {
                            position: 0,
                            reason: format!(
                                "a control character XML cannot carry at {}",
                                loc.render()
                            ),
                        });
                    }
                    self.out.push('"');
                }
                if !clean_id {
                    return Err(control_in(name));
                }
                let mut extensions = ext_fields.iter().filter(|(k, _)| k != "id").peekable();
                if extensions.peek().is_none() {
                    self.out.push_str("/>");
                } else {
                    self.out.push('>');
                    let owned: Vec<(Cow<'static, str>, V)> = extensions.cloned().collect();
                    self.children(&owned, Some("Element"), false, depth + 1, loc)?;
                    self.indent(depth);
                    self.close(name);
                }
            }
        }
        Ok(())
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
}

fn control_in(name: &str) -> Error {
    Error::Xml {
        position: 0,
        reason: format!("a control character XML cannot carry in `{name}`"),
    }
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
