//! Go's `encoding/gob`, for sharing beego's session data with Go.
//!
//! beego stores a session as `gob`-encoded `map[interface{}]interface{}`
//! ([`decode_map`], [`encode_map`]). Gob keeps Go types: `int32` stays
//! `int32`, a registered `main.User` struct stays `main.User`. So does
//! [`Value`], which records the Go type of every node and writes back
//! exactly what it read.
//!
//! - Reading: [`from_value`] turns a [`Value`] into a Rust type via serde.
//! - Writing: [`to_value`] maps a Rust value to natural Go types (`int`,
//!   `float64`, `string`, `[]interface {}`, `map[string]interface {}`);
//!   [`Value::conform_to`] / [`to_value_like`] re-type it like the old value
//!   of the same key so that Go's type assertions keep working, and
//!   [`Value::with_type`] or the constructors pick a Go type explicitly.
//!
//! ```
//! use actix_bee::gob::{decode_map, encode_map, from_value, to_value, to_value_like, Value};
//!
//! // What Go's beego would have stored: {"uid": int32(7)}.
//! let stored = encode_map(&[(Value::from("uid"), Value::int32(7))]).unwrap();
//!
//! let mut entries = decode_map(&stored).unwrap();
//! let uid: i64 = from_value(&entries[0].1).unwrap();
//! // Write back uid + 1; it stays an int32 for Go.
//! entries[0].1 = to_value_like(&(uid + 1), &entries[0].1).unwrap();
//! entries.push((Value::from("tags"), to_value(&["a", "b"]).unwrap()));
//!
//! let back = decode_map(&encode_map(&entries).unwrap()).unwrap();
//! assert_eq!(back[0].1, Value::int32(8).boxed().unwrap());
//! assert_eq!(back[1].1.type_name(), "[]interface {}");
//! ```
//!
//! Go's side must know every type name it receives: beego registers
//! `[]interface{}`, `map[int]interface{}`, `map[string]interface{}`,
//! `map[interface{}]interface{}`, `map[string]string`, `map[int]string`,
//! `map[int]int` and `map[int]int64`; gob itself registers the basic types
//! and their slices; struct types must be registered by the Go app
//! (`gob.Register(User{})` makes `main.User`).
//!
//! Limits: values and types nest at most [`MAX_DEPTH`] levels, a stream
//! defines at most [`MAX_TYPES`] types, no count is believed beyond the
//! bytes left in the input, no more values are built than bytes were read,
//! and input that is not a sequence of whole messages is refused before any
//! value is built, so hostile input fails with an [`Error`] instead of
//! exhausting memory or stack. Not supported: recursive types (a struct
//! that contains itself), strings that are not UTF-8; self-encoding types
//! (`GobEncoder`, e.g. `time.Time`) are carried as opaque bytes.

mod conform;
mod de;
mod decode;
mod encode;
mod error;
mod limits;
mod ser;
mod types;
mod value;
mod wire;

pub use de::from_value;
pub use decode::{decode, decode_map};
pub use encode::{encode, encode_map};
pub use error::{Error, Result};
pub use limits::{MAX_DEPTH, MAX_TYPES};
pub use ser::{to_value, to_value_like};
pub use types::{GoType, IntKind, OpaqueKind, OpaqueType, StructType, UintKind, MAX_NAME_LEN};
pub use value::Value;

#[cfg(test)]
mod tests;
