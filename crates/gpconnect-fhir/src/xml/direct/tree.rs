//! Step 1: a serde [`Serializer`] that builds the ordered value tree ([`V`]) of a value.

use std::borrow::Cow;
use std::cell::Cell;

use serde::Serialize;
use serde::ser::{self, Serializer};

/// Nesting `serde_json`'s parser accepts (its recursion limit), kept so that the direct path
/// refuses what the JSON path refuses.
const JSON_DEPTH_LIMIT: usize = 128;

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
    pub(super) fn get(&self, key: &str) -> Option<&V> {
        match self {
            V::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The serialiser's error: a message (turned into [`Error::Json`], redacted).
#[derive(Debug)]
pub(crate) struct SerError(pub(super) String);

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
pub(super) struct TreeSerializer<'s> {
    pub(super) depth: usize,
    pub(super) size: &'s Cell<usize>,
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
pub(super) struct SeqSer<'s> {
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
pub(super) struct MapSer<'s> {
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
pub(super) struct VariantSer<I> {
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
