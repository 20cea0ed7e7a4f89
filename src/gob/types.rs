//! Go types as gob sees them, plus what gob's wire loses: the int kinds,
//! float32 vs float64, and the names of struct types.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use super::error::{Error, Result};
use super::limits::MAX_DEPTH;

/// The signed integer kinds of Go. Gob sends all of them as one "int".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// `int` (64 bits on the platforms beego runs on).
    Int,
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32` (also `rune`)
    Int32,
    /// `int64`
    Int64,
}

/// The unsigned integer kinds of Go. Gob sends all of them as one "uint".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UintKind {
    /// `uint`
    Uint,
    /// `uint8` (also `byte`)
    Uint8,
    /// `uint16`
    Uint16,
    /// `uint32`
    Uint32,
    /// `uint64`
    Uint64,
    /// `uintptr`
    Uintptr,
}

impl IntKind {
    /// Go's name of the kind, e.g. `"int32"`.
    pub fn name(self) -> &'static str {
        match self {
            IntKind::Int => "int",
            IntKind::Int8 => "int8",
            IntKind::Int16 => "int16",
            IntKind::Int32 => "int32",
            IntKind::Int64 => "int64",
        }
    }

    /// Whether `v` is representable in this kind.
    pub fn holds(self, v: i64) -> bool {
        match self {
            IntKind::Int8 => i8::try_from(v).is_ok(),
            IntKind::Int16 => i16::try_from(v).is_ok(),
            IntKind::Int32 => i32::try_from(v).is_ok(),
            IntKind::Int | IntKind::Int64 => true,
        }
    }
}

impl UintKind {
    /// Go's name of the kind, e.g. `"uint16"`.
    pub fn name(self) -> &'static str {
        match self {
            UintKind::Uint => "uint",
            UintKind::Uint8 => "uint8",
            UintKind::Uint16 => "uint16",
            UintKind::Uint32 => "uint32",
            UintKind::Uint64 => "uint64",
            UintKind::Uintptr => "uintptr",
        }
    }

    /// Whether `v` is representable in this kind.
    pub fn holds(self, v: u64) -> bool {
        match self {
            UintKind::Uint8 => u8::try_from(v).is_ok(),
            UintKind::Uint16 => u16::try_from(v).is_ok(),
            UintKind::Uint32 => u32::try_from(v).is_ok(),
            UintKind::Uint | UintKind::Uint64 | UintKind::Uintptr => true,
        }
    }
}

/// A Go type, as far as gob can carry it.
///
/// Pointers do not appear: gob flattens `*T` to `T`. Compound types hold
/// their parts behind [`Arc`] so that types decoded once are shared, not
/// copied, by every value that has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoType {
    /// `bool`
    Bool,
    /// `int`, `int8` ... `int64`
    Int(IntKind),
    /// `uint`, `uint8` ... `uint64`, `uintptr`
    Uint(UintKind),
    /// `float32`
    Float32,
    /// `float64`
    Float64,
    /// `complex64`
    Complex64,
    /// `complex128`
    Complex128,
    /// `string`
    String,
    /// `[]byte` (Go prints it as `[]uint8`)
    Bytes,
    /// `[]T` for any element type but `uint8`
    Slice(Arc<GoType>),
    /// `[N]T`
    Array(usize, Arc<GoType>),
    /// `map[K]V`
    Map(Arc<GoType>, Arc<GoType>),
    /// A struct type with its name and exported fields.
    Struct(Arc<StructType>),
    /// `interface {}` (gob treats every interface type alike).
    Interface,
    /// A type that encodes itself (`GobEncoder`, `BinaryMarshaler` or
    /// `TextMarshaler`, e.g. `time.Time`): kept as opaque bytes.
    Opaque(Arc<OpaqueType>),
}

/// A Go struct type: its name and its exported fields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructType {
    /// The Go name: `main.User` when known from a registered name, else
    /// the bare name gob sends in type definitions (`User`).
    pub name: String,
    /// The exported fields: name and type. Shared: the same struct under
    /// another name (an interface value's registered name) reuses them.
    pub fields: Arc<[(String, GoType)]>,
}

impl StructType {
    /// The index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(n, _)| n == name)
    }
}

/// Which self-encoding interface a type implements; gob tags it in the type
/// definition and Go checks it on receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpaqueKind {
    /// `gob.GobEncoder`
    GobEncoder,
    /// `encoding.BinaryMarshaler`
    BinaryMarshaler,
    /// `encoding.TextMarshaler`
    TextMarshaler,
}

/// A self-encoding Go type (see [`GoType::Opaque`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueType {
    /// The Go name, e.g. `time.Time`.
    pub name: String,
    /// How the type encodes itself.
    pub kind: OpaqueKind,
}

/// Longest type name this module writes or accepts; Go refuses longer ones.
pub const MAX_NAME_LEN: usize = 1024;

impl GoType {
    /// `[]T`; `[]uint8` becomes [`GoType::Bytes`] as in gob.
    pub fn slice(elem: GoType) -> GoType {
        match elem {
            GoType::Uint(UintKind::Uint8) => GoType::Bytes,
            elem => GoType::Slice(Arc::new(elem)),
        }
    }

    /// `map[K]V`.
    pub fn map(key: GoType, elem: GoType) -> GoType {
        GoType::Map(Arc::new(key), Arc::new(elem))
    }

    /// `[N]T`.
    pub fn array(len: usize, elem: GoType) -> GoType {
        GoType::Array(len, Arc::new(elem))
    }

    /// A struct type called `name` (e.g. `main.User`) with these fields.
    pub fn struct_named(name: impl Into<String>, fields: Vec<(String, GoType)>) -> GoType {
        GoType::Struct(Arc::new(StructType {
            name: name.into(),
            fields: fields.into(),
        }))
    }

    /// The type's Go name as `%T` prints it (`map[string]interface {}`,
    /// `main.User`), which is also the name gob registers unnamed types under.
    ///
    /// Names longer than [`MAX_NAME_LEN`] are an error: Go would refuse them,
    /// and hostile type graphs could otherwise make them exponentially long.
    pub fn go_name(&self) -> Result<String> {
        let mut out = String::new();
        self.write_name(&mut out, 0)?;
        Ok(out)
    }

    fn write_name(&self, out: &mut String, depth: usize) -> Result<()> {
        if out.len() > MAX_NAME_LEN || depth > MAX_DEPTH {
            return Err(Error::TooComplex);
        }
        match self {
            GoType::Bool => out.push_str("bool"),
            GoType::Int(k) => out.push_str(k.name()),
            GoType::Uint(k) => out.push_str(k.name()),
            GoType::Float32 => out.push_str("float32"),
            GoType::Float64 => out.push_str("float64"),
            GoType::Complex64 => out.push_str("complex64"),
            GoType::Complex128 => out.push_str("complex128"),
            GoType::String => out.push_str("string"),
            GoType::Bytes => out.push_str("[]uint8"),
            GoType::Interface => out.push_str("interface {}"),
            GoType::Struct(s) => out.push_str(&s.name),
            GoType::Opaque(o) => out.push_str(&o.name),
            GoType::Slice(e) => {
                out.push_str("[]");
                e.write_name(out, depth + 1)?;
            }
            GoType::Array(n, e) => {
                let _ = write!(out, "[{n}]");
                e.write_name(out, depth + 1)?;
            }
            GoType::Map(k, v) => {
                out.push_str("map[");
                k.write_name(out, depth + 1)?;
                out.push(']');
                v.write_name(out, depth + 1)?;
            }
        }
        if out.len() > MAX_NAME_LEN {
            return Err(Error::TooComplex);
        }
        Ok(())
    }
}

impl fmt::Display for GoType {
    /// Writes the Go name, or `<complex type>` past [`MAX_NAME_LEN`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.go_name() {
            Ok(name) => f.write_str(&name),
            Err(_) => f.write_str("<complex type>"),
        }
    }
}

/// What a registered type name (the name in an interface value) tells
/// beyond the wire type: int kinds, float32, struct names.
#[derive(Debug)]
pub(crate) enum Hint {
    /// A predeclared type, fully known.
    Basic(GoType),
    Slice(Box<Hint>),
    Array(usize, Box<Hint>),
    Map(Box<Hint>, Box<Hint>),
    /// A named type, e.g. `main.User` or `time.Time`.
    Named(String),
    /// Nothing usable (anonymous structs, too deep, ...).
    Unknown,
}

impl Hint {
    /// Parses a Go type name like `map[int]int64`, `[]main.User` or
    /// `*main.User` (gob flattens the pointer).
    pub(crate) fn parse(name: &str) -> Hint {
        let mut p = name;
        let hint = parse_hint(&mut p, 0);
        if p.is_empty() {
            hint
        } else {
            Hint::Unknown
        }
    }

    /// Refines `wire` (the type decoded from the stream) with this hint where
    /// they agree; anywhere they disagree the wire type wins. The work is
    /// the size of the hint: parts of `wire` are shared, not copied.
    pub(crate) fn refine(&self, wire: &GoType) -> GoType {
        match (self, wire) {
            (Hint::Basic(h), w) if same_wire_kind(h, w) => h.clone(),
            (Hint::Slice(h), GoType::Slice(e)) => GoType::Slice(Arc::new(h.refine(e))),
            (Hint::Array(n, h), GoType::Array(m, e)) if n == m => {
                GoType::Array(*m, Arc::new(h.refine(e)))
            }
            (Hint::Map(hk, hv), GoType::Map(k, v)) => {
                GoType::Map(Arc::new(hk.refine(k)), Arc::new(hv.refine(v)))
            }
            (Hint::Named(n), GoType::Struct(s)) if *n != s.name => {
                GoType::Struct(Arc::new(StructType {
                    name: n.clone(),
                    fields: Arc::clone(&s.fields),
                }))
            }
            (Hint::Named(n), GoType::Opaque(o)) if *n != o.name => {
                GoType::Opaque(Arc::new(OpaqueType {
                    name: n.clone(),
                    kind: o.kind,
                }))
            }
            _ => wire.clone(),
        }
    }
}

/// Whether two types share one gob wire type (int, uint, float, ...).
fn same_wire_kind(a: &GoType, b: &GoType) -> bool {
    use GoType::*;
    matches!(
        (a, b),
        (Bool, Bool)
            | (Int(_), Int(_))
            | (Uint(_), Uint(_))
            | (Float32 | Float64, Float32 | Float64)
            | (Complex64 | Complex128, Complex64 | Complex128)
            | (String, String)
            | (Bytes, Bytes)
            | (Interface, Interface)
    )
}

fn basic(name: &str) -> Option<GoType> {
    Some(match name {
        "bool" => GoType::Bool,
        "int" => GoType::Int(IntKind::Int),
        "int8" => GoType::Int(IntKind::Int8),
        "int16" => GoType::Int(IntKind::Int16),
        "int32" => GoType::Int(IntKind::Int32),
        "int64" => GoType::Int(IntKind::Int64),
        "uint" => GoType::Uint(UintKind::Uint),
        "uint8" => GoType::Uint(UintKind::Uint8),
        "uint16" => GoType::Uint(UintKind::Uint16),
        "uint32" => GoType::Uint(UintKind::Uint32),
        "uint64" => GoType::Uint(UintKind::Uint64),
        "uintptr" => GoType::Uint(UintKind::Uintptr),
        "float32" => GoType::Float32,
        "float64" => GoType::Float64,
        "complex64" => GoType::Complex64,
        "complex128" => GoType::Complex128,
        "string" => GoType::String,
        _ => return None,
    })
}

fn parse_hint(p: &mut &str, depth: usize) -> Hint {
    if depth > MAX_DEPTH {
        return Hint::Unknown;
    }
    if let Some(rest) = p.strip_prefix('*') {
        *p = rest;
        return parse_hint(p, depth + 1);
    }
    if let Some(rest) = p.strip_prefix("interface {}") {
        *p = rest;
        return Hint::Basic(GoType::Interface);
    }
    if let Some(rest) = p.strip_prefix("[]") {
        *p = rest;
        return match parse_hint(p, depth + 1) {
            Hint::Basic(GoType::Uint(UintKind::Uint8)) => Hint::Basic(GoType::Bytes),
            elem => Hint::Slice(Box::new(elem)),
        };
    }
    if let Some(rest) = p.strip_prefix("map[") {
        *p = rest;
        let key = parse_hint(p, depth + 1);
        let Some(rest) = p.strip_prefix(']') else {
            return Hint::Unknown;
        };
        *p = rest;
        let elem = parse_hint(p, depth + 1);
        return Hint::Map(Box::new(key), Box::new(elem));
    }
    if let Some(rest) = p.strip_prefix('[') {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (num, rest) = rest.split_at(digits);
        let (Ok(n), Some(rest)) = (num.parse::<usize>(), rest.strip_prefix(']')) else {
            return Hint::Unknown;
        };
        *p = rest;
        return Hint::Array(n, Box::new(parse_hint(p, depth + 1)));
    }
    // An identifier, possibly package-qualified (`main.User`,
    // `github.com/x/y.T`); anything else (struct {...}, func, chan) is opaque.
    let end = p
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')))
        .unwrap_or(p.len());
    if end == 0 {
        *p = "";
        return Hint::Unknown;
    }
    let (ident, rest) = p.split_at(end);
    *p = rest;
    match basic(ident) {
        Some(t) => Hint::Basic(t),
        None => Hint::Named(ident.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_print_like_go() {
        let t = GoType::map(GoType::String, GoType::slice(GoType::Interface));
        assert_eq!(t.to_string(), "map[string][]interface {}");
        assert_eq!(
            GoType::slice(GoType::Uint(UintKind::Uint8)).to_string(),
            "[]uint8"
        );
        assert_eq!(
            GoType::array(3, GoType::Int(IntKind::Int)).to_string(),
            "[3]int"
        );
    }

    #[test]
    fn hints_refine_wire_types() {
        let wire = GoType::map(GoType::Int(IntKind::Int), GoType::Int(IntKind::Int));
        let t = Hint::parse("map[int]int64").refine(&wire);
        assert_eq!(t.to_string(), "map[int]int64");
        let user = GoType::struct_named("User", vec![]);
        let t = Hint::parse("[]*main.User").refine(&GoType::slice(user));
        assert_eq!(t.to_string(), "[]main.User");
        // Disagreeing hints are ignored.
        let t = Hint::parse("string").refine(&GoType::Int(IntKind::Int));
        assert_eq!(t, GoType::Int(IntKind::Int));
        assert!(matches!(Hint::parse("struct { A int }"), Hint::Unknown));
    }

    #[test]
    fn long_names_are_refused() {
        let mut t = GoType::String;
        for _ in 0..40 {
            t = GoType::map(t.clone(), t);
        }
        assert_eq!(t.go_name(), Err(Error::TooComplex));
        assert_eq!(t.to_string(), "<complex type>");
    }
}
