//! Encoding [`Value`]s into gob streams that Go's `Decoder` accepts.
//!
//! All type definitions, including those of values inside interfaces, are
//! sent as messages of their own before the value's message: Go's decoder
//! accepts that layout, and it keeps the value's bytes in one piece.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::{Error, Result};
use super::limits::{MAX_DEPTH, MAX_TYPES};
use super::types::MAX_NAME_LEN;
use super::types::{GoType, OpaqueKind, StructType};
use super::value::{mismatch, Value};
use super::wire::{FieldWriter, Writer};

/// The first id this encoder gives to a type (Go reserves the ids below).
const FIRST_ID: i64 = 65;

/// Encodes `value` as one gob message stream, as Go's
/// `gob.NewEncoder(w).Encode(v)` would for the same Go value.
///
/// An interface value at the top is encoded as its concrete value (Go's
/// `Encode` takes an `interface{}` too); nil cannot be encoded.
///
/// ```
/// use actix_bee::gob::{decode, encode, Value};
/// let bytes = encode(&Value::int(3)).unwrap();
/// assert_eq!(bytes, [0x03, 0x04, 0x00, 0x06]);
/// assert_eq!(decode(&bytes).unwrap(), Value::int(3));
/// ```
pub fn encode(value: &Value) -> Result<Vec<u8>> {
    let value = value.concrete();
    if matches!(value, Value::Nil) {
        return Err(Error::TypeMismatch {
            expected: "a value".into(),
            found: "nil".into(),
        });
    }
    let mut enc = Encoder::default();
    let ty = value.go_type();
    let id = enc.type_id(&ty, 0)?;
    let mut body = Writer::default();
    body.int(id);
    enc.top_value(&mut body, &ty, value)?;
    Ok(enc.finish(&body.buf))
}

/// Encodes beego's session data: the entries as a Go
/// `map[interface{}]interface{}`. Keys and values that are not already
/// [`Value::Interface`] or [`Value::Nil`] go in under their natural Go names.
///
/// Go decodes a nil value ([`Value::Nil`]) fine, but beego's `EncodeGob`
/// panics on one (it calls `gob.Register(nil)`) when the Go app saves that
/// session again: delete a key rather than storing nil in it.
///
/// ```
/// use actix_bee::gob::{decode_map, encode_map, to_value, Value};
/// let bytes = encode_map(&[
///     (Value::from("name"), to_value("asta").unwrap()),
///     (Value::from(12i64), Value::from(234i64)),
/// ]).unwrap();
/// let entries = decode_map(&bytes).unwrap();
/// assert_eq!(entries[1].0.as_i64(), Some(12));
/// ```
pub fn encode_map(entries: &[(Value, Value)]) -> Result<Vec<u8>> {
    let mut enc = Encoder::default();
    let ty = GoType::map(GoType::Interface, GoType::Interface);
    let id = enc.type_id(&ty, 0)?;
    let mut body = Writer::default();
    body.int(id);
    body.uint(0); // singleton
    body.uint(entries.len() as u64);
    for (k, v) in entries {
        enc.interface(&mut body, k, 1)?;
        enc.interface(&mut body, v, 1)?;
    }
    Ok(enc.finish(&body.buf))
}

/// A type definition's identity once its parts have ids: two types with
/// equal keys are the same Go type (hash-consing), so no deep comparison
/// of type graphs is ever needed.
#[derive(PartialEq, Eq, Hash)]
enum TypeKey {
    Array(usize, i64),
    Slice(i64),
    Struct(String, Vec<(String, i64)>),
    Map(i64, i64),
    Opaque(String, OpaqueKind),
}

#[derive(Default)]
struct Encoder {
    /// Ids of the types defined so far.
    ids: HashMap<TypeKey, i64>,
    /// Ids of shared type parts already seen, by address; the `Arc` is kept
    /// so the address cannot be reused. This keeps walks over type DAGs
    /// (which may be exponentially large as trees) linear.
    seen: HashMap<*const GoType, (Arc<GoType>, i64)>,
    seen_structs: HashMap<*const StructType, (Arc<StructType>, i64)>,
    /// The definition messages, in order.
    defs: Vec<Vec<u8>>,
}

impl Encoder {
    /// The stream: each definition as a message, then the value's message.
    fn finish(self, body: &[u8]) -> Vec<u8> {
        let mut out = Writer::default();
        for def in &self.defs {
            out.message(def);
        }
        out.message(body);
        out.buf
    }

    /// The id of a shared part of a type.
    fn part_id(&mut self, part: &Arc<GoType>, depth: usize) -> Result<i64> {
        if let Some((_, id)) = self.seen.get(&Arc::as_ptr(part)) {
            return Ok(*id);
        }
        let id = self.type_id(part, depth)?;
        self.seen.insert(Arc::as_ptr(part), (part.clone(), id));
        Ok(id)
    }

    /// The wire id of `ty`, defining it (and its parts, first) on first use.
    fn type_id(&mut self, ty: &GoType, depth: usize) -> Result<i64> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        let d = depth + 1;
        let key = match ty {
            GoType::Bool => return Ok(1),
            GoType::Int(_) => return Ok(2),
            GoType::Uint(_) => return Ok(3),
            GoType::Float32 | GoType::Float64 => return Ok(4),
            GoType::Bytes => return Ok(5),
            GoType::String => return Ok(6),
            GoType::Complex64 | GoType::Complex128 => return Ok(7),
            GoType::Interface => return Ok(8),
            GoType::Array(n, e) => TypeKey::Array(*n, self.part_id(e, d)?),
            GoType::Slice(e) => TypeKey::Slice(self.part_id(e, d)?),
            GoType::Map(k, e) => TypeKey::Map(self.part_id(k, d)?, self.part_id(e, d)?),
            GoType::Struct(st) => {
                if let Some((_, id)) = self.seen_structs.get(&Arc::as_ptr(st)) {
                    return Ok(*id);
                }
                let mut fields = Vec::with_capacity(st.fields.len());
                for (name, t) in st.fields.iter() {
                    fields.push((name.clone(), self.type_id(t, d)?));
                }
                let id = self.define(ty, TypeKey::Struct(st.name.clone(), fields))?;
                self.seen_structs.insert(Arc::as_ptr(st), (st.clone(), id));
                return Ok(id);
            }
            GoType::Opaque(o) => TypeKey::Opaque(o.name.clone(), o.kind),
        };
        self.define(ty, key)
    }

    /// The id for `key`, sending its definition (a wireType) if it is new.
    fn define(&mut self, ty: &GoType, key: TypeKey) -> Result<i64> {
        if let Some(id) = self.ids.get(&key) {
            return Ok(*id);
        }
        if self.defs.len() >= MAX_TYPES {
            return Err(Error::TooManyTypes(MAX_TYPES));
        }
        let id = FIRST_ID + self.defs.len() as i64;
        let mut def = Writer::default();
        def.int(-id);
        let mut wire = FieldWriter::new();
        // Field numbers of wireType: ArrayT 0, SliceT 1, StructT 2, MapT 3,
        // GobEncoderT 4, BinaryMarshalerT 5, TextMarshalerT 6.
        match &key {
            TypeKey::Array(n, elem) => {
                wire.field(&mut def, 0);
                let mut f = common(&mut def, ty, id);
                f.field(&mut def, 1);
                def.int(*elem);
                if *n > 0 {
                    f.field(&mut def, 2);
                    def.int(i64::try_from(*n).map_err(|_| Error::Unsupported("array length"))?);
                }
                f.end(&mut def);
            }
            TypeKey::Slice(elem) => {
                wire.field(&mut def, 1);
                let mut f = common(&mut def, ty, id);
                f.field(&mut def, 1);
                def.int(*elem);
                f.end(&mut def);
            }
            TypeKey::Struct(_, fields) => {
                wire.field(&mut def, 2);
                let mut f = common(&mut def, ty, id);
                if !fields.is_empty() {
                    f.field(&mut def, 1);
                    def.uint(fields.len() as u64);
                    for (name, fid) in fields {
                        let mut ft = FieldWriter::new();
                        ft.field(&mut def, 0);
                        def.bytes(name.as_bytes());
                        ft.field(&mut def, 1);
                        def.int(*fid);
                        ft.end(&mut def);
                    }
                }
                f.end(&mut def);
            }
            TypeKey::Map(k, e) => {
                wire.field(&mut def, 3);
                let mut f = common(&mut def, ty, id);
                f.field(&mut def, 1);
                def.int(*k);
                f.field(&mut def, 2);
                def.int(*e);
                f.end(&mut def);
            }
            TypeKey::Opaque(_, kind) => {
                let field = match kind {
                    OpaqueKind::GobEncoder => 4,
                    OpaqueKind::BinaryMarshaler => 5,
                    OpaqueKind::TextMarshaler => 6,
                };
                wire.field(&mut def, field);
                common(&mut def, ty, id).end(&mut def);
            }
        }
        wire.end(&mut def);
        self.defs.push(def.buf);
        self.ids.insert(key, id);
        Ok(id)
    }

    /// A value as sent by `Encode` or inside an interface: structs as they
    /// are, other values as a singleton behind a zero field delta.
    fn top_value(&mut self, w: &mut Writer, ty: &GoType, v: &Value) -> Result<()> {
        if !matches!(ty, GoType::Struct(_)) {
            w.uint(0);
        }
        self.value(w, ty, v, 1)
    }

    /// Writes `v` into a slot of type `ty`, checking that it fits.
    fn value(&mut self, w: &mut Writer, ty: &GoType, v: &Value, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        let d = depth + 1;
        match (ty, v) {
            (GoType::Interface, v) => self.interface(w, v, d)?,
            (GoType::Bool, Value::Bool(b)) => w.uint(u64::from(*b)),
            (GoType::Int(k), Value::Int(_, i)) if k.holds(*i) => w.int(*i),
            (GoType::Uint(k), Value::Uint(_, u)) if k.holds(*u) => w.uint(*u),
            (GoType::Float32 | GoType::Float64, Value::Float32(f)) => w.float(f64::from(*f)),
            (GoType::Float64, Value::Float64(f)) => w.float(*f),
            (GoType::Float32, Value::Float64(f))
                if !f.is_finite() || f.abs() <= f64::from(f32::MAX) =>
            {
                w.float(*f)
            }
            (GoType::Complex64 | GoType::Complex128, Value::Complex64(r, i)) => {
                w.float(f64::from(*r));
                w.float(f64::from(*i));
            }
            (GoType::Complex128, Value::Complex128(r, i)) => {
                w.float(*r);
                w.float(*i);
            }
            (GoType::String, Value::String(s)) => w.bytes(s.as_bytes()),
            (GoType::Bytes, Value::Bytes(b)) => w.bytes(b),
            (GoType::Slice(e), Value::Slice { items, .. }) => {
                w.uint(items.len() as u64);
                for item in items {
                    self.value(w, e, item, d)?;
                }
            }
            (GoType::Array(n, e), Value::Array { items, .. }) if *n == items.len() => {
                w.uint(items.len() as u64);
                for item in items {
                    self.value(w, e, item, d)?;
                }
            }
            (GoType::Map(k, e), Value::Map { entries, .. }) => {
                w.uint(entries.len() as u64);
                for (key, elem) in entries {
                    self.value(w, k, key, d)?;
                    self.value(w, e, elem, d)?;
                }
            }
            (GoType::Struct(st), Value::Struct { ty: vt, fields }) => {
                self.structure(w, st, vt, fields, d)?
            }
            (GoType::Opaque(o), Value::Opaque { ty: vt, data }) if o.kind == vt.kind => {
                w.bytes(data)
            }
            (ty, v) => {
                return Err(match (ty, v) {
                    (GoType::Int(_), Value::Int(_, i)) => out_of_range(i, ty),
                    (GoType::Uint(_), Value::Uint(_, u)) => out_of_range(u, ty),
                    (GoType::Float32, Value::Float64(f)) => out_of_range(f, ty),
                    _ => mismatch(ty, v),
                })
            }
        }
        Ok(())
    }

    /// Writes the present fields of a struct value of type `vt` as a struct
    /// of type `st`, matching fields by name as Go does.
    fn structure(
        &mut self,
        w: &mut Writer,
        st: &Arc<StructType>,
        vt: &Arc<StructType>,
        fields: &[(usize, Value)],
        depth: usize,
    ) -> Result<()> {
        let mut placed = Vec::with_capacity(fields.len());
        for (i, v) in fields {
            let name = &vt.fields.get(*i).ok_or(Error::Corrupt("field index"))?.0;
            let j = match Arc::ptr_eq(st, vt) {
                true => *i,
                false => st.field_index(name).ok_or_else(|| Error::TypeMismatch {
                    expected: st.name.clone(),
                    found: format!("{} with field {name}", vt.name),
                })?,
            };
            placed.push((j, v));
        }
        placed.sort_by_key(|(j, _)| *j);
        if placed.windows(2).any(|p| p[0].0 == p[1].0) {
            return Err(Error::Corrupt("struct field given twice"));
        }
        let mut f = FieldWriter::new();
        for (j, v) in placed {
            f.field(w, j);
            self.value(w, &st.fields[j].1, v, depth)?;
        }
        f.end(w);
        Ok(())
    }

    /// Writes an interface value: name, type id, then the concrete value
    /// as a delimited message. Types are defined up front (see module docs).
    fn interface(&mut self, w: &mut Writer, v: &Value, depth: usize) -> Result<()> {
        let (name, inner) = match v {
            Value::Nil => {
                w.uint(0);
                return Ok(());
            }
            Value::Interface { name, value } => (name.clone(), &**value),
            v => (v.go_type().go_name()?, v),
        };
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(Error::BadName(name.chars().take(64).collect()));
        }
        if matches!(inner, Value::Nil | Value::Interface { .. }) {
            return Err(Error::TypeMismatch {
                expected: "a concrete value in an interface".into(),
                found: inner.type_name(),
            });
        }
        let ty = inner.go_type();
        let id = self.type_id(&ty, depth)?;
        w.bytes(name.as_bytes());
        w.int(id);
        let mut content = Writer::default();
        if !matches!(ty, GoType::Struct(_)) {
            content.uint(0);
        }
        self.value(&mut content, &ty, inner, depth + 1)?;
        w.message(&content.buf);
        Ok(())
    }
}

/// Starts a structType/sliceType/... and writes its CommonType (field 0):
/// the bare name for named types (`User` for `main.User`), none for
/// unnamed ones, as Go does; then the id.
fn common(def: &mut Writer, ty: &GoType, id: i64) -> FieldWriter {
    let mut f = FieldWriter::new();
    f.field(def, 0);
    let name = match ty {
        GoType::Struct(s) => s.name.rsplit('.').next().unwrap_or_default(),
        GoType::Opaque(o) => o.name.rsplit('.').next().unwrap_or_default(),
        _ => "",
    };
    let mut c = FieldWriter::new();
    if !name.is_empty() {
        c.field(def, 0);
        def.bytes(name.as_bytes());
    }
    c.field(def, 1);
    def.int(id);
    c.end(def);
    f
}

fn out_of_range(v: impl std::fmt::Display, ty: &GoType) -> Error {
    Error::OutOfRange {
        value: v.to_string(),
        ty: ty.to_string(),
    }
}
