//! Re-typing new values to the Go types of old ones, so that a Go handler's
//! type assertion (`v.(int32)`, `v.(User)`) still holds after Rust wrote
//! the value back.

use super::error::Result;
use super::limits::MAX_DEPTH;
use super::types::GoType;
use super::value::{mismatch, Value};

impl Value {
    /// This value re-typed like `old` where it fits, else unchanged.
    ///
    /// Integers take the old integer kind if in range, floats the old float
    /// kind, a map with string keys (or a struct) takes the old struct type
    /// if every key names a field of it and every value fits, containers are
    /// re-typed item by item, and interface slots keep the old registered
    /// name. Anything that does not fit keeps its natural type.
    ///
    /// ```
    /// use actix_bee::gob::{to_value, Value};
    /// let old = Value::int32(7).boxed().unwrap();
    /// let new = to_value(&8i64).unwrap().conform_to(&old);
    /// assert_eq!(new.type_name(), "int32");
    /// // Out of int32's range: stays a Go int.
    /// let new = to_value(&(1i64 << 40)).unwrap().conform_to(&old);
    /// assert_eq!(new.type_name(), "int");
    /// ```
    pub fn conform_to(self, old: &Value) -> Value {
        match fit(&self, &old.go_type(), Some(old), 0) {
            Some(v) => v,
            None => self,
        }
    }

    /// This value as Go type `ty`, if it fits (same rules as
    /// [`Value::conform_to`]); else [`Error::TypeMismatch`](super::Error::TypeMismatch).
    ///
    /// ```
    /// use actix_bee::gob::{GoType, IntKind, Value};
    /// let v = Value::int(5).with_type(&GoType::Int(IntKind::Int16)).unwrap();
    /// assert_eq!(v, Value::Int(IntKind::Int16, 5));
    /// assert!(Value::int(1 << 20).with_type(&GoType::Int(IntKind::Int16)).is_err());
    /// ```
    pub fn with_type(self, ty: &GoType) -> Result<Value> {
        fit(&self, ty, None, 0).ok_or_else(|| mismatch(ty, &self))
    }
}

/// `new` as a value of type `ty`, guided by the old value of that slot.
fn fit(new: &Value, ty: &GoType, old: Option<&Value>, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let d = depth + 1;
    let n = new.concrete();
    Some(match ty {
        GoType::Interface => {
            // A value under its natural name (as `to_value` makes them) may
            // take the old name; one named explicitly keeps its own.
            let natural = match new {
                Value::Nil => false,
                Value::Interface { name, value } => {
                    value.go_type().go_name().ok().as_ref() == Some(name)
                }
                _ => true,
            };
            if let (Some(Value::Interface { name, value }), true) = (old, natural) {
                if let Some(v) = fit(new, &value.go_type(), Some(value), d) {
                    return Some(Value::Interface {
                        name: name.clone(),
                        value: Box::new(v),
                    });
                }
            }
            new.clone().boxed().unwrap_or_else(|_| new.clone())
        }
        GoType::Bool => match n {
            Value::Bool(b) => Value::Bool(*b),
            _ => return None,
        },
        GoType::Int(k) => {
            let v = match n {
                Value::Int(_, v) => *v,
                Value::Uint(_, v) => i64::try_from(*v).ok()?,
                _ => return None,
            };
            k.holds(v).then_some(Value::Int(*k, v))?
        }
        GoType::Uint(k) => {
            let v = match n {
                Value::Uint(_, v) => *v,
                Value::Int(_, v) => u64::try_from(*v).ok()?,
                _ => return None,
            };
            k.holds(v).then_some(Value::Uint(*k, v))?
        }
        GoType::Float32 => match n {
            Value::Float32(f) => Value::Float32(*f),
            Value::Float64(f) if !f.is_finite() || f.abs() <= f64::from(f32::MAX) => {
                Value::Float32(*f as f32)
            }
            _ => return None,
        },
        GoType::Float64 => match n {
            Value::Float32(f) => Value::Float64(f64::from(*f)),
            Value::Float64(f) => Value::Float64(*f),
            _ => return None,
        },
        GoType::Complex64 => match n {
            Value::Complex64(r, i) => Value::Complex64(*r, *i),
            Value::Complex128(r, i) => Value::Complex64(*r as f32, *i as f32),
            _ => return None,
        },
        GoType::Complex128 => match n {
            Value::Complex64(r, i) => Value::Complex128(f64::from(*r), f64::from(*i)),
            Value::Complex128(r, i) => Value::Complex128(*r, *i),
            _ => return None,
        },
        GoType::String => Value::String(n.as_str()?.to_string()),
        GoType::Bytes => match n {
            Value::Bytes(b) => Value::Bytes(b.clone()),
            Value::Slice { items, .. } | Value::Array { items, .. } => Value::Bytes(
                items
                    .iter()
                    .map(|i| u8::try_from(i.as_i64()?).ok())
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        },
        GoType::Slice(e) => Value::Slice {
            elem: GoType::clone(e),
            items: fit_items(n, e, old, None, d)?,
        },
        GoType::Array(len, e) => Value::Array {
            elem: GoType::clone(e),
            items: fit_items(n, e, old, Some(*len), d)?,
        },
        GoType::Map(k, e) => {
            let Value::Map { entries, .. } = n else {
                return None;
            };
            let old_entries = match old.map(Value::concrete) {
                Some(Value::Map { entries, .. }) => &entries[..],
                _ => &[],
            };
            let mut out = Vec::with_capacity(entries.len());
            for (nk, nv) in entries {
                let ov = old_entries
                    .iter()
                    .find(|(ok, _)| same_key(ok.concrete(), nk.concrete()))
                    .map(|(_, v)| v);
                out.push((fit(nk, k, None, d)?, fit(nv, e, ov, d)?));
            }
            Value::map(GoType::clone(k), GoType::clone(e), out)
        }
        GoType::Struct(st) => {
            let named: Vec<(&str, &Value)> = match n {
                Value::Struct { ty, fields } => fields
                    .iter()
                    .map(|(i, v)| Some((ty.fields.get(*i)?.0.as_str(), v)))
                    .collect::<Option<_>>()?,
                Value::Map { entries, .. } => entries
                    .iter()
                    .map(|(k, v)| Some((k.as_str()?, v)))
                    .collect::<Option<_>>()?,
                _ => return None,
            };
            let mut fields = Vec::with_capacity(named.len());
            for (name, v) in named {
                let i = st.field_index(name)?;
                let ov = old.and_then(|o| o.get(name));
                fields.push((i, fit(v, &st.fields[i].1, ov, d)?));
            }
            fields.sort_by_key(|(i, _)| *i);
            if fields.windows(2).any(|w| w[0].0 == w[1].0) {
                return None;
            }
            Value::Struct {
                ty: st.clone(),
                fields,
            }
        }
        GoType::Opaque(o) => match n {
            Value::Opaque { ty, data } if ty.kind == o.kind => Value::Opaque {
                ty: o.clone(),
                data: data.clone(),
            },
            _ => return None,
        },
    })
}

/// The items of a slice or array `new`, each fitted to `elem` (guided by
/// the old items at the same positions); `len` demands an exact length.
fn fit_items(
    new: &Value,
    elem: &GoType,
    old: Option<&Value>,
    len: Option<usize>,
    depth: usize,
) -> Option<Vec<Value>> {
    let items = match new {
        Value::Slice { items, .. } | Value::Array { items, .. } => items,
        _ => return None,
    };
    if len.is_some_and(|n| n != items.len()) {
        return None;
    }
    let old_items = match old.map(Value::concrete) {
        Some(Value::Slice { items, .. } | Value::Array { items, .. }) => &items[..],
        _ => &[],
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| fit(v, elem, old_items.get(i), depth))
        .collect()
}

/// Whether two map keys are equal, for keys of basic types only: the old
/// entry is just a guide, and comparing compound keys would compare their
/// types, which hostile input can make exponentially costly.
fn same_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Int(_, x), Value::Int(_, y)) => x == y,
        (Value::Uint(_, x), Value::Uint(_, y)) => x == y,
        (Value::Float32(x), Value::Float32(y)) => x == y,
        (Value::Float64(x), Value::Float64(y)) => x == y,
        _ => false,
    }
}
