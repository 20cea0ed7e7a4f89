//! Reading [`Value`]s into Rust types through serde.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use std::cell::Cell;

use super::error::{Error, Result};
use super::limits::MAX_DEPTH;
use super::value::Value;

/// Reads a Go value into a Rust type.
///
/// Go integers read into any Rust integer type they fit, `string` into
/// `String`, `[]byte` into `Vec<u8>` or `serde_bytes::ByteBuf`, slices and
/// arrays into sequences, maps into maps, and a Go struct into a Rust struct
/// with the same field names (use `#[serde(rename_all = "PascalCase")]` or
/// `rename` for Go's exported names). Fields Go left out (zero) read as Go's
/// zero value. Interfaces are looked through; nil reads as `None` or `()`.
///
/// ```
/// use actix_bee::gob::{from_value, Value};
/// #[derive(serde::Deserialize, PartialEq, Debug)]
/// #[serde(rename_all = "PascalCase")]
/// struct User { name: String, age: u8 }
/// let v = Value::struct_named("main.User", vec![
///     ("Name".into(), Value::string("asta")),
///     ("Age".into(), Value::int(32)),
/// ]);
/// let user: User = from_value(&v).unwrap();
/// assert_eq!(user, User { name: "asta".into(), age: 32 });
/// ```
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T> {
    let zeros = Cell::new(MAX_ZEROS);
    T::deserialize(Deserializer {
        v: value,
        depth: 0,
        zeros: &zeros,
    })
}

/// How many absent struct fields one [`from_value`] call may fill in with
/// zero values: nested zero structs of a hostile type could otherwise
/// multiply without bound.
const MAX_ZEROS: usize = 1 << 20;

#[derive(Clone, Copy)]
struct Deserializer<'a> {
    v: &'a Value,
    depth: usize,
    zeros: &'a Cell<usize>,
}

impl<'a> Deserializer<'a> {
    fn child<'b>(&self, v: &'b Value) -> Result<Deserializer<'b>>
    where
        'a: 'b,
    {
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        Ok(Deserializer {
            v,
            depth: self.depth + 1,
            zeros: self.zeros,
        })
    }
}

impl<'de> de::Deserializer<'de> for Deserializer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.v {
            Value::Nil => visitor.visit_unit(),
            Value::Interface { value, .. } => self.child(value)?.deserialize_any(visitor),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(_, i) => visitor.visit_i64(*i),
            Value::Uint(_, u) => visitor.visit_u64(*u),
            Value::Float32(f) => visitor.visit_f32(*f),
            Value::Float64(f) => visitor.visit_f64(*f),
            Value::Complex64(r, i) => {
                visitor.visit_seq(Floats([f64::from(*r), f64::from(*i)].into_iter()))
            }
            Value::Complex128(r, i) => visitor.visit_seq(Floats([*r, *i].into_iter())),
            Value::String(s) => visitor.visit_str(s),
            Value::Bytes(b) => visitor.visit_bytes(b),
            Value::Opaque { data, .. } => visitor.visit_bytes(data),
            Value::Slice { items, .. } | Value::Array { items, .. } => visitor.visit_seq(Items {
                de: self,
                items: items.iter(),
            }),
            Value::Map { entries, .. } => visitor.visit_map(Entries {
                de: self,
                entries: entries.iter(),
                value: None,
            }),
            Value::Struct { ty, fields } => visitor.visit_map(Fields {
                de: self,
                ty,
                fields,
                next: 0,
                zero: None,
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.v {
            Value::Nil => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.v.concrete() {
            // `Vec<u8>` without serde_bytes asks for a sequence.
            Value::Bytes(b) => visitor.visit_seq(Bytes(b.iter())),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.v.concrete() {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Map { entries, .. } if entries.len() == 1 => {
                let (k, v) = &entries[0];
                visitor.visit_enum(Enum {
                    variant: self.child(k)?,
                    content: self.child(v)?,
                })
            }
            other => Err(Error::Message(format!(
                "expected an enum (string or one-entry map), found {}",
                other.type_name()
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct Floats<I>(I);

impl<'de, I: Iterator<Item = f64>> SeqAccess<'de> for Floats<I> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.0
            .next()
            .map(|f| seed.deserialize(f.into_deserializer()))
            .transpose()
    }
}

struct Bytes<'a>(std::slice::Iter<'a, u8>);

impl<'de> SeqAccess<'de> for Bytes<'_> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.0
            .next()
            .map(|b| seed.deserialize((*b).into_deserializer()))
            .transpose()
    }
}

struct Items<'a> {
    de: Deserializer<'a>,
    items: std::slice::Iter<'a, Value>,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.items.next() {
            Some(v) => seed.deserialize(self.de.child(v)?).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'a> {
    de: Deserializer<'a>,
    entries: std::slice::Iter<'a, (Value, Value)>,
    value: Option<&'a Value>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(self.de.child(k)?).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let v = self
            .value
            .take()
            .ok_or(Error::Corrupt("map value before key"))?;
        seed.deserialize(self.de.child(v)?)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A Go struct as a map from field name to value; fields Go did not send
/// (zero values) are made one at a time when read, so a hostile type with
/// many fields costs nothing until a Rust type asks for them.
struct Fields<'a> {
    de: Deserializer<'a>,
    ty: &'a super::types::StructType,
    fields: &'a [(usize, Value)],
    next: usize,
    zero: Option<Value>,
    value: Option<&'a Value>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((name, ty)) = self.ty.fields.get(self.next) else {
            return Ok(None);
        };
        let i = self.next;
        self.next += 1;
        self.value = self.fields.iter().find(|(j, _)| *j == i).map(|(_, v)| v);
        self.zero = match self.value {
            Some(_) => None,
            None => Some(Value::zero(ty)),
        };
        seed.deserialize(name.as_str().into_deserializer())
            .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match (self.value.take(), self.zero.take()) {
            (Some(v), _) => seed.deserialize(self.de.child(v)?),
            (None, Some(zero)) => {
                let left = self
                    .de
                    .zeros
                    .get()
                    .checked_sub(1)
                    .ok_or(Error::TooComplex)?;
                self.de.zeros.set(left);
                seed.deserialize(self.de.child(&zero)?)
            }
            (None, None) => Err(Error::Corrupt("struct value before key")),
        }
    }
}

struct Enum<'a> {
    variant: Deserializer<'a>,
    content: Deserializer<'a>,
}

impl<'de, 'a> EnumAccess<'de> for Enum<'a> {
    type Error = Error;
    type Variant = Deserializer<'a>;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant)> {
        Ok((seed.deserialize(self.variant)?, self.content))
    }
}

impl<'de> VariantAccess<'de> for Deserializer<'_> {
    type Error = Error;
    fn unit_variant(self) -> Result<()> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}
