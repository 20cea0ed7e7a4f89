//! [`Value`]: a decoded gob value that keeps the Go type of every node, so
//! that it can be written back exactly as Go sent it.

use std::sync::Arc;

use super::error::{Error, Result};
use super::types::{GoType, IntKind, OpaqueType, StructType, UintKind};

/// A Go value with its Go type.
///
/// Slots of interface type (the keys and values of beego's session map, the
/// items of a `[]interface {}`) hold [`Value::Interface`] (a concrete value
/// and the name it is registered under) or [`Value::Nil`]. When encoding, a
/// concrete value found in an interface slot is wrapped automatically under
/// its natural name ([`GoType::go_name`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A nil interface.
    Nil,
    /// `bool`
    Bool(bool),
    /// A signed integer of the given kind.
    Int(IntKind, i64),
    /// An unsigned integer of the given kind.
    Uint(UintKind, u64),
    /// `float32`
    Float32(f32),
    /// `float64`
    Float64(f64),
    /// `complex64` (real, imaginary)
    Complex64(f32, f32),
    /// `complex128` (real, imaginary)
    Complex128(f64, f64),
    /// `string` (Rust requires UTF-8; other Go strings fail to decode).
    String(String),
    /// `[]byte`
    Bytes(Vec<u8>),
    /// `[]T`: the element type and the items.
    Slice {
        /// The element type.
        elem: GoType,
        /// The items, each of type `elem`.
        items: Vec<Value>,
    },
    /// `[N]T`, with N = `items.len()`.
    Array {
        /// The element type.
        elem: GoType,
        /// The items, each of type `elem`.
        items: Vec<Value>,
    },
    /// `map[K]V`, entries in stream order.
    Map {
        /// The key type.
        key: GoType,
        /// The element type.
        elem: GoType,
        /// The entries.
        entries: Vec<(Value, Value)>,
    },
    /// A struct. Only the fields that were sent are present (gob omits zero
    /// fields), as (index into `ty.fields`, value), by increasing index.
    Struct {
        /// The struct type (name and all fields).
        ty: Arc<StructType>,
        /// The present fields.
        fields: Vec<(usize, Value)>,
    },
    /// A non-nil interface: the registered name of the concrete type (e.g.
    /// `int32`, `main.User`, `*main.User`) and the concrete value.
    Interface {
        /// The name Go registered the concrete type under.
        name: String,
        /// The concrete value (never itself an interface).
        value: Box<Value>,
    },
    /// A value of a self-encoding type (e.g. `time.Time`), as Go's own bytes.
    Opaque {
        /// The type.
        ty: Arc<OpaqueType>,
        /// What the type's `GobEncode`/`MarshalBinary`/`MarshalText` wrote.
        data: Vec<u8>,
    },
}

impl Value {
    /// A Go `int`.
    pub fn int(v: i64) -> Value {
        Value::Int(IntKind::Int, v)
    }

    /// A Go `int32`.
    pub fn int32(v: i32) -> Value {
        Value::Int(IntKind::Int32, i64::from(v))
    }

    /// A Go `int64`.
    pub fn int64(v: i64) -> Value {
        Value::Int(IntKind::Int64, v)
    }

    /// A Go `uint64`.
    pub fn uint64(v: u64) -> Value {
        Value::Uint(UintKind::Uint64, v)
    }

    /// A Go `string`.
    pub fn string(v: impl Into<String>) -> Value {
        Value::String(v.into())
    }

    /// A `[]T` of the given items.
    pub fn slice(elem: GoType, items: Vec<Value>) -> Value {
        Value::Slice { elem, items }
    }

    /// A `map[K]V` of the given entries.
    pub fn map(key: GoType, elem: GoType, entries: Vec<(Value, Value)>) -> Value {
        Value::Map { key, elem, entries }
    }

    /// A struct of type `name` (e.g. `main.User`), its fields typed after the
    /// given values. Go decodes it only if it registered a type of that name
    /// whose fields (matched by name) have compatible types.
    ///
    /// ```
    /// use actix_bee::gob::Value;
    /// let user = Value::struct_named("main.User", vec![
    ///     ("Name".into(), Value::string("asta")),
    ///     ("Age".into(), Value::int(32)),
    /// ]);
    /// assert_eq!(user.type_name(), "main.User");
    /// assert_eq!(user.get("Age").and_then(|v| v.as_i64()), Some(32));
    /// ```
    pub fn struct_named(name: impl Into<String>, fields: Vec<(String, Value)>) -> Value {
        let (names, values): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
        let ty = StructType {
            name: name.into(),
            fields: names
                .into_iter()
                .zip(&values)
                .map(|(n, v)| (n, v.go_type()))
                .collect(),
        };
        Value::Struct {
            ty: Arc::new(ty),
            fields: values.into_iter().enumerate().collect(),
        }
    }

    /// Puts a concrete value in an interface under its natural name (its
    /// [`GoType::go_name`]); nil and interface values are returned as they are.
    pub fn boxed(self) -> Result<Value> {
        match self {
            Value::Nil | Value::Interface { .. } => Ok(self),
            v => Ok(Value::Interface {
                name: v.go_type().go_name()?,
                value: Box::new(v),
            }),
        }
    }

    /// The Go type of this value; [`GoType::Interface`] for interfaces.
    pub fn go_type(&self) -> GoType {
        match self {
            Value::Nil | Value::Interface { .. } => GoType::Interface,
            Value::Bool(_) => GoType::Bool,
            Value::Int(k, _) => GoType::Int(*k),
            Value::Uint(k, _) => GoType::Uint(*k),
            Value::Float32(_) => GoType::Float32,
            Value::Float64(_) => GoType::Float64,
            Value::Complex64(..) => GoType::Complex64,
            Value::Complex128(..) => GoType::Complex128,
            Value::String(_) => GoType::String,
            Value::Bytes(_) => GoType::Bytes,
            Value::Slice { elem, .. } => GoType::Slice(Arc::new(elem.clone())),
            Value::Array { elem, items } => GoType::Array(items.len(), Arc::new(elem.clone())),
            Value::Map { key, elem, .. } => {
                GoType::Map(Arc::new(key.clone()), Arc::new(elem.clone()))
            }
            Value::Struct { ty, .. } => GoType::Struct(ty.clone()),
            Value::Opaque { ty, .. } => GoType::Opaque(ty.clone()),
        }
    }

    /// The dynamic Go type name, as Go's `%T` prints it: the registered name
    /// for interfaces, `<nil>` for nil.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".to_string(),
            Value::Interface { name, .. } => name.clone(),
            v => v.go_type().to_string(),
        }
    }

    /// The value inside an interface (this value if it is not one).
    pub fn concrete(&self) -> &Value {
        match self {
            Value::Interface { value, .. } => value,
            v => v,
        }
    }

    /// The integer, for any Go signed kind or an unsigned one that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self.concrete() {
            Value::Int(_, v) => Some(*v),
            Value::Uint(_, v) => i64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The string, for a Go `string`.
    pub fn as_str(&self) -> Option<&str> {
        match self.concrete() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A struct field, or a map entry with that string key; interfaces are
    /// looked through. An absent struct field (zero in Go) gives `None`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self.concrete() {
            Value::Struct { ty, fields } => {
                let i = ty.field_index(key)?;
                fields.iter().find(|(j, _)| *j == i).map(|(_, v)| v)
            }
            Value::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Go's zero value of `ty` (struct zero values have no fields present).
    pub fn zero(ty: &GoType) -> Value {
        match ty {
            GoType::Bool => Value::Bool(false),
            GoType::Int(k) => Value::Int(*k, 0),
            GoType::Uint(k) => Value::Uint(*k, 0),
            GoType::Float32 => Value::Float32(0.0),
            GoType::Float64 => Value::Float64(0.0),
            GoType::Complex64 => Value::Complex64(0.0, 0.0),
            GoType::Complex128 => Value::Complex128(0.0, 0.0),
            GoType::String => Value::String(String::new()),
            GoType::Bytes => Value::Bytes(Vec::new()),
            GoType::Slice(e) => Value::slice(GoType::clone(e), Vec::new()),
            // Gob always sends arrays, so an absent one only comes from
            // hostile input: its zero is left empty rather than allocating
            // elements the input never paid for.
            GoType::Array(_, e) => Value::Array {
                elem: GoType::clone(e),
                items: Vec::new(),
            },
            GoType::Map(k, v) => Value::map(GoType::clone(k), GoType::clone(v), Vec::new()),
            GoType::Struct(s) => Value::Struct {
                ty: s.clone(),
                fields: Vec::new(),
            },
            GoType::Interface => Value::Nil,
            GoType::Opaque(o) => Value::Opaque {
                ty: o.clone(),
                data: Vec::new(),
            },
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<i64> for Value {
    /// A Go `int`.
    fn from(v: i64) -> Self {
        Value::int(v)
    }
}

impl From<f64> for Value {
    /// A Go `float64`.
    fn from(v: f64) -> Self {
        Value::Float64(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<Vec<u8>> for Value {
    /// A Go `[]byte`.
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

/// Builds an [`Error::TypeMismatch`] for `v` in a slot of type `ty`.
pub(crate) fn mismatch(ty: &GoType, v: &Value) -> Error {
    Error::TypeMismatch {
        expected: ty.to_string(),
        found: v.type_name(),
    }
}
