//! Decoding a gob stream into [`Value`]s.
//!
//! Type definitions are read into a table of wire types, resolved (once per
//! id) into [`GoType`]s, and values are then decoded by walking those types.
//! Interface values name their concrete type; the name refines the wire
//! type (int kinds, float32, struct names) through [`Hint`].

use std::collections::HashMap;
use std::sync::Arc;

use super::error::{Error, Result};
use super::limits::{MAX_DEPTH, MAX_TYPES};
use super::types::MAX_NAME_LEN;
use super::types::{GoType, Hint, IntKind, OpaqueKind, OpaqueType, StructType, UintKind};
use super::value::Value;
use super::wire::{self, Reader};

/// Go reserves type ids below this for its own types.
const FIRST_USER_ID: i64 = 64;

/// A type definition as sent on the wire (Go's `wireType`).
enum WireType {
    Array {
        elem: i64,
        len: i64,
    },
    Slice {
        elem: i64,
    },
    Struct {
        name: String,
        fields: Vec<(String, i64)>,
    },
    Map {
        key: i64,
        elem: i64,
    },
    Opaque {
        name: String,
        kind: OpaqueKind,
    },
}

/// Decodes one top-level value (the value Go passed to `Encoder.Encode`).
///
/// Interface values keep their registered names; see [`Value`].
///
/// ```
/// use actix_bee::gob::{decode, Value};
/// // Go: gob.NewEncoder(w).Encode(3)
/// assert_eq!(decode(&[0x03, 0x04, 0x00, 0x06]).unwrap(), Value::int(3));
/// ```
pub fn decode(input: &[u8]) -> Result<Value> {
    // Bytes that are not whole messages are refused before anything is built.
    wire::whole_messages(input)?;
    let mut d = Decoder {
        r: Reader::new(input),
        input_len: input.len(),
        values: 0,
        wire: HashMap::new(),
        resolved: HashMap::new(),
        resolving: Vec::new(),
        refined: HashMap::new(),
        depth: 0,
    };
    let id = d.type_sequence(false)?;
    let ty = d.resolve(id, 0)?;
    let value = d.top_value(&ty)?;
    match d.r.total_len() {
        0 => Ok(value),
        n => Err(Error::TrailingData(n)),
    }
}

/// Decodes beego's session data: a gob-encoded `map[interface{}]interface{}`
/// (any map type is accepted). Keys and values are usually
/// [`Value::Interface`]; use [`Value::concrete`] or
/// [`from_value`](super::from_value) to read them.
///
/// ```
/// use actix_bee::gob::{decode_map, encode_map, from_value, Value};
/// let bytes = encode_map(&[(Value::from("uid"), Value::from(42i64))]).unwrap();
/// let entries = decode_map(&bytes).unwrap();
/// assert_eq!(entries[0].0.as_str(), Some("uid"));
/// assert_eq!(entries[0].1.type_name(), "int");
/// assert_eq!(from_value::<u32>(&entries[0].1).unwrap(), 42);
/// ```
pub fn decode_map(input: &[u8]) -> Result<Vec<(Value, Value)>> {
    match decode(input)? {
        Value::Map { entries, .. } => Ok(entries),
        v => Err(Error::TypeMismatch {
            expected: "map[interface {}]interface {}".into(),
            found: v.type_name(),
        }),
    }
}

struct Decoder<'a> {
    r: Reader<'a>,
    input_len: usize,
    /// Values built so far; never more than the bytes read (see
    /// [`Decoder::built`]).
    values: usize,
    wire: HashMap<i64, WireType>,
    resolved: HashMap<i64, GoType>,
    /// Ids being resolved, to detect recursive types.
    resolving: Vec<i64>,
    /// Wire types refined by an interface name, so that many interface
    /// values of one type share one refined type.
    refined: HashMap<(i64, String), GoType>,
    depth: usize,
}

impl Decoder<'_> {
    /// Reads type definitions until a value's type id, pulling in new
    /// messages as Go's decoder does (`decodeTypeSequence`).
    fn type_sequence(&mut self, in_interface: bool) -> Result<i64> {
        loop {
            if self.r.msg_len() == 0 && !self.r.next_message()? {
                return Err(Error::UnexpectedEof);
            }
            let id = self.r.int()?;
            if id >= 0 {
                return Ok(id);
            }
            self.define(id.checked_neg().ok_or(Error::BadTypeId(id))?)?;
            if self.r.msg_len() > 0 {
                if !in_interface {
                    return Err(Error::Corrupt("extra data after a type definition"));
                }
                // Inside an interface, the count of the value that follows.
                self.r.uint()?;
            }
        }
    }

    fn define(&mut self, id: i64) -> Result<()> {
        if id < FIRST_USER_ID || self.wire.contains_key(&id) {
            return Err(Error::BadTypeId(id));
        }
        if self.wire.len() >= MAX_TYPES {
            return Err(Error::TooManyTypes(MAX_TYPES));
        }
        let wire = self.wire_type()?;
        self.wire.insert(id, wire);
        Ok(())
    }

    /// Next field number of a struct being read, `None` at its end (a zero
    /// delta, or the end of the message as Go allows).
    fn next_field(&mut self, field: &mut u64, count: usize) -> Result<Option<usize>> {
        if self.r.msg_len() == 0 {
            return Ok(None);
        }
        let delta = self.r.uint()?;
        if delta == 0 {
            return Ok(None);
        }
        // `field` starts at u64::MAX, standing for Go's -1.
        let next = field.wrapping_add(delta);
        match usize::try_from(next) {
            Ok(n) if n < count && delta <= count as u64 => {
                *field = next;
                Ok(Some(n))
            }
            _ => Err(Error::Corrupt("struct field number out of range")),
        }
    }

    /// Reads a `wireType` struct.
    fn wire_type(&mut self) -> Result<WireType> {
        let mut found = None;
        let mut field = u64::MAX;
        while let Some(f) = self.next_field(&mut field, 7)? {
            if found.is_some() {
                return Err(Error::BadTypeDefinition("more than one kind"));
            }
            found = Some(self.wire_kind(f)?);
        }
        found.ok_or(Error::BadTypeDefinition("no kind"))
    }

    /// Reads the arrayType/sliceType/structType/mapType/gobEncoderType that
    /// is field `f` of a wireType.
    fn wire_kind(&mut self, f: usize) -> Result<WireType> {
        let counts = [3, 2, 2, 3, 1, 1, 1];
        let mut ints = [0i64; 3];
        let mut name = String::new();
        let mut fields = Vec::new();
        let mut field = u64::MAX;
        while let Some(i) = self.next_field(&mut field, counts[f])? {
            match (f, i) {
                (_, 0) => name = self.common_type()?,
                (2, 1) => fields = self.field_types()?,
                (_, i) => ints[i] = self.r.int()?,
            }
        }
        let [_, a, b] = ints;
        Ok(match f {
            0 => WireType::Array { elem: a, len: b },
            1 => WireType::Slice { elem: a },
            2 => WireType::Struct { name, fields },
            3 => WireType::Map { key: a, elem: b },
            4 => WireType::Opaque {
                name,
                kind: OpaqueKind::GobEncoder,
            },
            5 => WireType::Opaque {
                name,
                kind: OpaqueKind::BinaryMarshaler,
            },
            _ => WireType::Opaque {
                name,
                kind: OpaqueKind::TextMarshaler,
            },
        })
    }

    /// Reads a CommonType and returns its name (the id repeats the one
    /// already known).
    fn common_type(&mut self) -> Result<String> {
        let mut name = String::new();
        let mut field = u64::MAX;
        while let Some(i) = self.next_field(&mut field, 2)? {
            match i {
                0 => name = self.r.string()?,
                _ => {
                    self.r.int()?;
                }
            }
        }
        Ok(name)
    }

    /// Reads a structType's `[]*fieldType`.
    fn field_types(&mut self) -> Result<Vec<(String, i64)>> {
        let n = self.r.count()?;
        let mut fields = Vec::with_capacity(n.min(self.r.msg_len()));
        for _ in 0..n {
            let (mut name, mut id) = (String::new(), 0);
            let mut field = u64::MAX;
            while let Some(i) = self.next_field(&mut field, 2)? {
                match i {
                    0 => name = self.r.string()?,
                    _ => id = self.r.int()?,
                }
            }
            fields.push((name, id));
        }
        Ok(fields)
    }

    /// The Go type of wire type `id`, built once and then shared.
    fn resolve(&mut self, id: i64, depth: usize) -> Result<GoType> {
        let builtin = match id {
            1 => Some(GoType::Bool),
            2 => Some(GoType::Int(IntKind::Int)),
            3 => Some(GoType::Uint(UintKind::Uint)),
            4 => Some(GoType::Float64),
            5 => Some(GoType::Bytes),
            6 => Some(GoType::String),
            7 => Some(GoType::Complex128),
            8 => Some(GoType::Interface),
            _ => None,
        };
        if let Some(t) = builtin {
            return Ok(t);
        }
        if let Some(t) = self.resolved.get(&id) {
            return Ok(t.clone());
        }
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        if self.resolving.contains(&id) {
            return Err(Error::Unsupported("recursive types"));
        }
        self.resolving.push(id);
        let t = self.build(id, depth + 1);
        self.resolving.pop();
        let t = t?;
        self.resolved.insert(id, t.clone());
        Ok(t)
    }

    fn build(&mut self, id: i64, depth: usize) -> Result<GoType> {
        // Copy out the ids first: resolving needs `self` mutably.
        let (kind, ids, name) = match self.wire.get(&id).ok_or(Error::UnknownType(id))? {
            WireType::Array { elem, len } => (0, vec![*elem, *len], String::new()),
            WireType::Slice { elem } => (1, vec![*elem], String::new()),
            WireType::Map { key, elem } => (3, vec![*key, *elem], String::new()),
            WireType::Opaque { name, kind } => {
                return Ok(GoType::Opaque(Arc::new(OpaqueType {
                    name: name.clone(),
                    kind: *kind,
                })))
            }
            WireType::Struct { name, fields } => {
                (2, fields.iter().map(|f| f.1).collect(), name.clone())
            }
        };
        Ok(match kind {
            0 => {
                let len = usize::try_from(ids[1])
                    .map_err(|_| Error::BadTypeDefinition("negative array length"))?;
                GoType::Array(len, Arc::new(self.resolve(ids[0], depth)?))
            }
            1 => GoType::slice(self.resolve(ids[0], depth)?),
            3 => GoType::map(self.resolve(ids[0], depth)?, self.resolve(ids[1], depth)?),
            _ => {
                let mut types = Vec::with_capacity(ids.len());
                for fid in ids {
                    types.push(self.resolve(fid, depth)?);
                }
                let names = match self.wire.get(&id) {
                    Some(WireType::Struct { fields, .. }) => fields.iter().map(|f| f.0.clone()),
                    _ => return Err(Error::UnknownType(id)),
                };
                GoType::Struct(Arc::new(StructType {
                    name,
                    fields: names.zip(types).collect(),
                }))
            }
        })
    }

    /// Counts a value built. Every value Go writes takes at least one byte,
    /// but a struct that ends with its message takes none: without this
    /// bound, a count of such structs, which only the bytes left in the
    /// input bound, would build one value per byte of whatever follows
    /// the value, about 80 bytes of memory each.
    fn built(&mut self) -> Result<()> {
        self.values += 1;
        let read = self.input_len - self.r.total_len();
        if self.values > read {
            return Err(Error::Corrupt("more values than bytes read"));
        }
        Ok(())
    }

    /// A value sent by `Encode` (or inside an interface): structs as they
    /// are, anything else as a singleton behind a zero field delta.
    fn top_value(&mut self, ty: &GoType) -> Result<Value> {
        if let GoType::Struct(st) = ty {
            let v = self.structure(st)?;
            self.built()?;
            return Ok(v);
        }
        if self.r.uint()? != 0 {
            return Err(Error::Corrupt("non-zero delta for a singleton"));
        }
        self.value(ty)
    }

    fn value(&mut self, ty: &GoType) -> Result<Value> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        self.depth += 1;
        let v = self.value_inner(ty);
        self.depth -= 1;
        let v = v?;
        self.built()?;
        Ok(v)
    }

    fn value_inner(&mut self, ty: &GoType) -> Result<Value> {
        Ok(match ty {
            GoType::Bool => Value::Bool(self.r.uint()? != 0),
            GoType::Int(k) => {
                let v = self.r.int()?;
                if !k.holds(v) {
                    return Err(out_of_range(v, ty));
                }
                Value::Int(*k, v)
            }
            GoType::Uint(k) => {
                let v = self.r.uint()?;
                if !k.holds(v) {
                    return Err(out_of_range(v, ty));
                }
                Value::Uint(*k, v)
            }
            GoType::Float32 => Value::Float32(self.float32()?),
            GoType::Float64 => Value::Float64(self.r.float()?),
            GoType::Complex64 => Value::Complex64(self.float32()?, self.float32()?),
            GoType::Complex128 => Value::Complex128(self.r.float()?, self.r.float()?),
            GoType::String => Value::String(self.r.string()?),
            GoType::Bytes => Value::Bytes(self.r.byte_string()?.to_vec()),
            GoType::Slice(e) => Value::Slice {
                elem: GoType::clone(e),
                items: self.items(e, None)?,
            },
            GoType::Array(n, e) => Value::Array {
                elem: GoType::clone(e),
                items: self.items(e, Some(*n))?,
            },
            GoType::Map(k, e) => {
                let n = self.r.count()?;
                let mut entries = Vec::with_capacity(n.min(self.r.msg_len()));
                for _ in 0..n {
                    let key = self.value(k)?;
                    entries.push((key, self.value(e)?));
                }
                Value::map(GoType::clone(k), GoType::clone(e), entries)
            }
            GoType::Struct(st) => self.structure(st)?,
            GoType::Interface => self.interface()?,
            GoType::Opaque(o) => Value::Opaque {
                ty: o.clone(),
                data: self.r.byte_string()?.to_vec(),
            },
        })
    }

    /// Go refuses float32 values out of float32's range (but not infinities).
    fn float32(&mut self) -> Result<f32> {
        let f = self.r.float()?;
        if f.is_finite() && f.abs() > f64::from(f32::MAX) {
            return Err(out_of_range(f, &GoType::Float32));
        }
        Ok(f as f32)
    }

    fn items(&mut self, elem: &GoType, len: Option<usize>) -> Result<Vec<Value>> {
        let n = self.r.count()?;
        if len.is_some_and(|len| len != n) {
            return Err(Error::Corrupt("array length mismatch"));
        }
        let mut items = Vec::with_capacity(n.min(self.r.msg_len()));
        for _ in 0..n {
            items.push(self.value(elem)?);
        }
        Ok(items)
    }

    fn structure(&mut self, st: &Arc<StructType>) -> Result<Value> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        self.depth += 1;
        let mut fields = Vec::new();
        let mut field = u64::MAX;
        let result = loop {
            match self.next_field(&mut field, st.fields.len()) {
                Ok(Some(i)) => match self.value(&st.fields[i].1) {
                    Ok(v) => fields.push((i, v)),
                    Err(e) => break Err(e),
                },
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.depth -= 1;
        result?;
        Ok(Value::Struct {
            ty: st.clone(),
            fields,
        })
    }

    fn interface(&mut self) -> Result<Value> {
        let name = self.r.byte_string()?;
        if name.is_empty() {
            return Ok(Value::Nil);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(Error::BadName(
                String::from_utf8_lossy(&name[..64]).into_owned(),
            ));
        }
        let name = std::str::from_utf8(name).map_err(|_| Error::InvalidUtf8)?;
        let id = self.type_sequence(true)?;
        // The byte count of the value: Go ignores it (its own encoder does
        // not always make it exact), and so do we.
        self.r.uint()?;
        let wire = self.resolve(id, 0)?;
        let key = (id, name.to_string());
        let ty = match self.refined.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = Hint::parse(name).refine(&wire);
                self.refined.insert(key, t.clone());
                t
            }
        };
        Ok(Value::Interface {
            name: name.to_string(),
            value: Box::new(self.top_value(&ty)?),
        })
    }
}

fn out_of_range(v: impl std::fmt::Display, ty: &GoType) -> Error {
    Error::OutOfRange {
        value: v.to_string(),
        ty: ty.to_string(),
    }
}
