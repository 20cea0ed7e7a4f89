//! Encoding [`Value`]s into gob streams that Go's `Decoder` accepts.
//!
//! All type definitions, including those of values inside interfaces, are
//! sent as messages of their own before the value's message: Go's decoder
//! accepts that layout, and it keeps the value's bytes in one piece.

use std::sync::Arc;

use super::error::{Error, Result};
use super::types::{GoType, OpaqueKind, StructType};
use super::value::{mismatch, Value};
use super::wire::{FieldWriter, Writer};
use super::{MAX_DEPTH, MAX_NAME_LEN, MAX_TYPES};

/// The first id this encoder gives to a type (Go reserves the ids below).
const FIRST_ID: i64 = 65;
/// Steps allowed for comparing types while assigning ids.
const COMPARE_BUDGET: usize = 1 << 20;

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

#[derive(Default)]
struct Encoder {
    /// Types defined so far, with their ids.
    types: Vec<(GoType, i64)>,
    /// The definition messages, in order.
    defs: Vec<Vec<u8>>,
    budget_used: usize,
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

    /// The wire id of `ty`, defining it (and its parts) on first use.
    fn type_id(&mut self, ty: &GoType, depth: usize) -> Result<i64> {
        let builtin = match ty {
            GoType::Bool => 1,
            GoType::Int(_) => 2,
            GoType::Uint(_) => 3,
            GoType::Float32 | GoType::Float64 => 4,
            GoType::Bytes => 5,
            GoType::String => 6,
            GoType::Complex64 | GoType::Complex128 => 7,
            GoType::Interface => 8,
            _ => 0,
        };
        if builtin != 0 {
            return Ok(builtin);
        }
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        let mut budget = COMPARE_BUDGET.saturating_sub(self.budget_used);
        let start = budget;
        let mut known = None;
        for (t, id) in &self.types {
            if t.same_as(ty, &mut budget)? {
                known = Some(*id);
                break;
            }
        }
        self.budget_used += start - budget;
        if let Some(id) = known {
            return Ok(id);
        }
        if self.types.len() >= MAX_TYPES {
            return Err(Error::TooManyTypes(MAX_TYPES));
        }
        let d = depth + 1;
        // Parts first, so that every id is defined before it is used.
        let mut def = Writer::default();
        let mut wire = FieldWriter::new();
        match ty {
            GoType::Array(n, e) => {
                let elem = self.type_id(e, d)?;
                let id = self.next_id();
                wire.field(&mut def, 0);
                let mut f = common(&mut def, ty, id)?;
                f.field(&mut def, 1);
                def.int(elem);
                if *n > 0 {
                    f.field(&mut def, 2);
                    def.int(i64::try_from(*n).map_err(|_| Error::TooComplex)?);
                }
                f.end(&mut def);
                self.types.push((ty.clone(), id));
            }
            GoType::Slice(e) => {
                let elem = self.type_id(e, d)?;
                let id = self.next_id();
                wire.field(&mut def, 1);
                let mut f = common(&mut def, ty, id)?;
                f.field(&mut def, 1);
                def.int(elem);
                f.end(&mut def);
                self.types.push((ty.clone(), id));
            }
            GoType::Struct(st) => {
                let mut ids = Vec::with_capacity(st.fields.len());
                for (_, t) in &st.fields {
                    ids.push(self.type_id(t, d)?);
                }
                let id = self.next_id();
                wire.field(&mut def, 2);
                let mut f = common(&mut def, ty, id)?;
                if !ids.is_empty() {
                    f.field(&mut def, 1);
                    def.uint(ids.len() as u64);
                    for ((name, _), fid) in st.fields.iter().zip(ids) {
                        let mut ft = FieldWriter::new();
                        ft.field(&mut def, 0);
                        def.bytes(name.as_bytes());
                        ft.field(&mut def, 1);
                        def.int(fid);
                        ft.end(&mut def);
                    }
                }
                f.end(&mut def);
                self.types.push((ty.clone(), id));
            }
            GoType::Map(k, e) => {
                let key = self.type_id(k, d)?;
                let elem = self.type_id(e, d)?;
                let id = self.next_id();
                wire.field(&mut def, 3);
                let mut f = common(&mut def, ty, id)?;
                f.field(&mut def, 1);
                def.int(key);
                f.field(&mut def, 2);
                def.int(elem);
                f.end(&mut def);
                self.types.push((ty.clone(), id));
            }
            GoType::Opaque(o) => {
                let id = self.next_id();
                wire.field(
                    &mut def,
                    match o.kind {
                        OpaqueKind::GobEncoder => 4,
                        OpaqueKind::BinaryMarshaler => 5,
                        OpaqueKind::TextMarshaler => 6,
                    },
                );
                common(&mut def, ty, id)?.end(&mut def);
                self.types.push((ty.clone(), id));
            }
            _ => return Err(Error::Unsupported("basic type without an id")),
        }
        wire.end(&mut def);
        let id = self.types.last().map_or(0, |(_, id)| *id);
        let mut msg = Writer::default();
        msg.int(-id);
        msg.buf.extend_from_slice(&def.buf);
        self.defs.push(msg.buf);
        Ok(id)
    }

    fn next_id(&self) -> i64 {
        FIRST_ID + self.types.len() as i64
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
/// the name (bare for named types, as Go sends it) and the id.
fn common(def: &mut Writer, ty: &GoType, id: i64) -> Result<FieldWriter> {
    let mut f = FieldWriter::new();
    f.field(def, 0);
    let full = ty.go_name().unwrap_or_default();
    let name = match ty {
        GoType::Struct(_) | GoType::Opaque(_) => full.rsplit('.').next().unwrap_or_default(),
        _ => &full,
    };
    let mut c = FieldWriter::new();
    if !name.is_empty() {
        c.field(def, 0);
        def.bytes(name.as_bytes());
    }
    c.field(def, 1);
    def.int(id);
    c.end(def);
    Ok(f)
}

fn out_of_range(v: impl std::fmt::Display, ty: &GoType) -> Error {
    Error::OutOfRange {
        value: v.to_string(),
        ty: ty.to_string(),
    }
}
