//! Turning Rust values into [`Value`]s of natural Go types through serde.

use serde::ser::{self, Serialize};

use super::error::{Error, Result};
use super::limits::MAX_DEPTH;
use super::types::{GoType, UintKind};
use super::value::Value;

/// Converts a Rust value to a [`Value`] of the natural Go type.
///
/// | Rust | Go |
/// | --- | --- |
/// | integers | `int` (`uint64` above `i64::MAX`) |
/// | `f32`, `f64` | `float64` |
/// | `String`, `&str`, `char` | `string` |
/// | bytes (`serde_bytes`) | `[]uint8` (`[]byte`) |
/// | sequences, tuples (also a plain `Vec<u8>`) | `[]interface {}` |
/// | maps with string keys | `map[string]interface {}` |
/// | other maps | `map[interface {}]interface {}` |
/// | structs | `map[string]interface {}` |
/// | `None`, `()` | nil |
/// | unit enum variants | `string`; other variants a one-entry map |
///
/// Structs become maps because Go can only decode a struct type it has
/// registered under the same name: to write a Go struct, re-type the value
/// with [`Value::conform_to`] (like an old value) or [`Value::with_type`].
///
/// ```
/// use actix_bee::gob::to_value;
/// assert_eq!(to_value(&5u8).unwrap().type_name(), "int");
/// assert_eq!(to_value(&vec!["a", "b"]).unwrap().type_name(), "[]interface {}");
/// assert_eq!(to_value(&Some(1.5f32)).unwrap().type_name(), "float64");
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    value.serialize(Serializer { depth: 0 })
}

/// [`to_value`], then [`Value::conform_to`] the old value of the same slot,
/// so that Go sees the type it stored there if the new value fits it.
///
/// ```
/// use actix_bee::gob::{to_value_like, Value};
/// let old = Value::int32(1).boxed().unwrap();
/// assert_eq!(to_value_like(&2u64, &old).unwrap().type_name(), "int32");
/// ```
pub fn to_value_like<T: Serialize + ?Sized>(value: &T, old: &Value) -> Result<Value> {
    Ok(to_value(value)?.conform_to(old))
}

#[derive(Clone, Copy)]
struct Serializer {
    depth: usize,
}

impl Serializer {
    fn child(self) -> Result<Serializer> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        Ok(Serializer {
            depth: self.depth + 1,
        })
    }

    /// A value for an interface slot: wrapped under its natural name.
    fn boxed<T: Serialize + ?Sized>(self, v: &T) -> Result<Value> {
        v.serialize(self.child()?)?.boxed()
    }
}

fn string_map(entries: Vec<(Value, Value)>) -> Value {
    Value::map(GoType::String, GoType::Interface, entries)
}

impl ser::Serializer for Serializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Variant<Seq>;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Variant<Map>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(Value::int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        match i64::try_from(v) {
            Ok(i) => Ok(Value::int(i)),
            Err(_) => u128_value(v),
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::int(i),
            Err(_) => Value::Uint(UintKind::Uint64, v),
        })
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        u128_value(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::Float64(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Float64(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(Value::string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        Ok(string_map(vec![(
            Value::string(variant),
            self.boxed(value)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq> {
        Ok(Seq {
            ser: self,
            items: Vec::with_capacity(len.unwrap_or(0).min(1024)),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq>> {
        Ok(Variant {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map> {
        Ok(Map {
            ser: self,
            entries: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Map>> {
        Ok(Variant {
            variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

fn u128_value(v: impl TryInto<u64> + std::fmt::Display + Copy) -> Result<Value> {
    match v.try_into() {
        Ok(u) => Ok(Value::Uint(UintKind::Uint64, u)),
        Err(_) => Err(Error::OutOfRange {
            value: v.to_string(),
            ty: "uint64".into(),
        }),
    }
}

/// Collects a sequence as `[]interface {}`.
struct Seq {
    ser: Serializer,
    items: Vec<Value>,
}

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.items.push(self.ser.boxed(v)?);
        Ok(())
    }
    fn done(self) -> Value {
        Value::slice(GoType::Interface, self.items)
    }
}

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.push(v)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.push(v)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.push(v)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

/// Collects a map or struct; string-keyed ones become
/// `map[string]interface {}`, others `map[interface {}]interface {}`.
struct Map {
    ser: Serializer,
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
}

impl Map {
    fn done(self) -> Result<Value> {
        if self
            .entries
            .iter()
            .all(|(k, _)| matches!(k, Value::String(_)))
        {
            return Ok(string_map(self.entries));
        }
        let entries = self
            .entries
            .into_iter()
            .map(|(k, v)| Ok((k.boxed()?, v)))
            .collect::<Result<_>>()?;
        Ok(Value::map(GoType::Interface, GoType::Interface, entries))
    }
}

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(self.ser.child()?)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or(Error::Corrupt("map value before key"))?;
        self.entries.push((key, self.ser.boxed(value)?));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        self.done()
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        self.entries.push((Value::string(key), self.ser.boxed(v)?));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        self.done()
    }
}

/// An enum variant with content: `map[string]interface {}{variant: content}`.
struct Variant<T> {
    variant: &'static str,
    inner: T,
}

impl Variant<Seq> {
    fn wrap(self) -> Result<Value> {
        Ok(string_map(vec![(
            Value::string(self.variant),
            self.inner.done().boxed()?,
        )]))
    }
}

impl ser::SerializeTupleVariant for Variant<Seq> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.inner.push(v)
    }
    fn end(self) -> Result<Value> {
        self.wrap()
    }
}

impl ser::SerializeStructVariant for Variant<Map> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, v)
    }
    fn end(self) -> Result<Value> {
        let variant = self.variant;
        Ok(string_map(vec![(
            Value::string(variant),
            self.inner.done()?.boxed()?,
        )]))
    }
}
