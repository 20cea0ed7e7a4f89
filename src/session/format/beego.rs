//! beego's stored format: a session is Go `encoding/gob` of a
//! `map[interface{}]interface{}`, as beego's `EncodeGob`/`DecodeGob` write
//! and read it.
//!
//! In memory ([`MapStore`](crate::session::engine::MapStore)) each
//! string-keyed entry is kept as the gob encoding of that one value,
//! wrapped in a one-item `[]interface {}` so that the interface name Go
//! registered it under (`int`, `main.User`, `*main.User`) survives: a key
//! that Rust did not change is written back with its exact Go type.
//! Entries whose key is not a Go `string` are kept together under
//! [`OTHER_KEYS`], a name that typed reads and writes refuse, and written
//! back unchanged.
//!
//! beego's blob holds no creation or access time (the backend keeps the
//! expiry), so a decoded record's times are 0 (unknown) until the engine
//! sets the access time from its backend (a TTL, an mtime, a column), and
//! the absolute lifetime cannot be enforced in this format. Empty bytes
//! are an empty session, as in beego.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::gob::{self, GoType, Value};
use crate::session::error::{Error, Result};
use crate::session::record::SessionRecord;

/// The internal key holding the entries whose Go key is not a `string`.
/// It starts with a NUL byte; typed `get`/`set` refuse every such key.
pub(crate) const OTHER_KEYS: &str = "\u{0}beego:other-keys";

/// True for keys reserved by this format (typed access refuses them).
pub(crate) fn is_reserved(key: &str) -> bool {
    key.starts_with('\u{0}')
}

/// The first gob message of every beego session: the definition of
/// `map[interface {}]interface {}` (type 65, a map of interfaces), which
/// `EncodeGob` sends before the map itself.
const SESSION_MAP_TYPE: &[u8] = b"\x0e\xff\x81\x04\x01\x02\xff\x82\x00\x01\x10\x01\x10\x00\x00";

/// True when `bytes` start like beego's stored session (cheap: a prefix
/// compare), so the native format can name the setting to change.
pub(crate) fn looks_like_beego(bytes: &[u8]) -> bool {
    bytes.starts_with(SESSION_MAP_TYPE)
}

/// The error of the native format reading beego's data.
pub(crate) fn native_reads_beego() -> Error {
    Error::corrupt(
        "this session is stored in beego's format (Go gob of beego's session map), not \
         actix-bee's native one: to share sessions with a beego app set \
         sessionstoreformat = beego",
    )
}

fn corrupt(e: gob::Error) -> Error {
    Error::corrupt(e)
}

/// The stored bytes of one value: a one-item `[]interface {}`.
pub(crate) fn wrap(value: Value) -> gob::Result<Vec<u8>> {
    gob::encode(&Value::Slice {
        elem: GoType::Interface,
        items: vec![value],
    })
}

/// The value of [`wrap`]'s bytes.
pub(crate) fn unwrap(bytes: &[u8]) -> gob::Result<Value> {
    match gob::decode(bytes)? {
        Value::Slice { mut items, .. } if items.len() == 1 => Ok(items.remove(0)),
        other => Err(gob::Error::TypeMismatch {
            expected: "a wrapped session value".into(),
            found: other.type_name(),
        }),
    }
}

/// A record from beego's gob map (empty bytes: an empty session); its
/// times are 0, for the engine to set.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<SessionRecord> {
    let mut record = SessionRecord::new(0);
    if bytes.is_empty() {
        return Ok(record);
    }
    let entries = gob::decode_map(bytes).map_err(corrupt)?;
    let mut others = Vec::new();
    for (k, v) in entries {
        match k.concrete() {
            Value::String(s) if !is_reserved(s) => {
                let key = s.clone();
                record.values.insert(key, wrap(v).map_err(corrupt)?);
            }
            _ => others.push((k, v)),
        }
    }
    if !others.is_empty() {
        let bytes = gob::encode_map(&others).map_err(corrupt)?;
        record.values.insert(OTHER_KEYS.to_owned(), bytes);
    }
    Ok(record)
}

/// beego's gob map of a record's values.
pub(crate) fn encode_record(record: &SessionRecord) -> Result<Vec<u8>> {
    let mut entries = Vec::with_capacity(record.values.len());
    for (k, bytes) in &record.values {
        if k == OTHER_KEYS {
            entries.extend(gob::decode_map(bytes).map_err(corrupt)?);
        } else {
            entries.push((Value::from(k.as_str()), unwrap(bytes).map_err(corrupt)?));
        }
    }
    gob::encode_map(&entries).map_err(corrupt)
}

fn encode_err(key: &str, source: impl Into<crate::session::error::BoxError>) -> Error {
    Error::Encode {
        key: key.to_owned(),
        source: source.into(),
    }
}

/// The stored bytes for `value` under `key`: typed like the key's old value
/// when there is one (a Go `int` stays `int`), else natural Go types.
///
/// # Errors
///
/// [`Error::Encode`] for a reserved key, a value Go cannot hold or a nil
/// value (beego's `EncodeGob` panics on nil: delete the key instead).
pub(crate) fn encode_value<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    old: Option<&[u8]>,
) -> Result<Vec<u8>> {
    if is_reserved(key) {
        return Err(encode_err(key, "keys starting with NUL are reserved"));
    }
    let old = old.and_then(|b| unwrap(b).ok());
    let v = match &old {
        Some(old) => gob::to_value_like(value, old),
        None => gob::to_value(value),
    }
    .map_err(|e| encode_err(key, e))?;
    encode_gob_value(key, v)
}

/// The stored bytes for a Go value given with its Go type, kept as given.
///
/// # Errors
///
/// [`Error::Encode`] for a reserved key or a nil value.
pub(crate) fn encode_gob_value(key: &str, v: Value) -> Result<Vec<u8>> {
    if is_reserved(key) {
        return Err(encode_err(key, "keys starting with NUL are reserved"));
    }
    if matches!(v.concrete(), Value::Nil) {
        return Err(encode_err(
            key,
            "beego cannot store nil (its EncodeGob panics): delete the key instead",
        ));
    }
    wrap(v).map_err(|e| encode_err(key, e))
}

/// Reads the stored bytes of `key` as `T`.
///
/// # Errors
///
/// [`Error::Decode`] when the value does not have the requested type.
pub(crate) fn decode_value<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    let decode_err = |source: gob::Error| Error::Decode {
        key: key.to_owned(),
        source: source.into(),
    };
    gob::from_value(&unwrap(bytes).map_err(decode_err)?).map_err(decode_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_types_and_other_keys() {
        let bytes = gob::encode_map(&[
            (Value::from("uid"), Value::int32(7).boxed().unwrap()),
            (Value::from(12i64), Value::from("twelve")),
            (Value::from("name"), Value::from("asta")),
        ])
        .unwrap();
        let mut record = decode_record(&bytes).unwrap();
        assert!(record.values.contains_key(OTHER_KEYS));
        assert_eq!(
            decode_value::<i64>("uid", &record.values["uid"]).unwrap(),
            7
        );
        let old = record.values["uid"].clone();
        let new = encode_value("uid", &8u64, Some(&old)).unwrap();
        record.values.insert("uid".into(), new);
        let back = gob::decode_map(&encode_record(&record).unwrap()).unwrap();
        assert_eq!(back.len(), 3);
        let uid = back
            .iter()
            .find(|(k, _)| k.as_str() == Some("uid"))
            .unwrap();
        assert_eq!(uid.1.type_name(), "int32");
        assert!(back.iter().any(|(k, _)| k.as_i64() == Some(12)));
    }

    #[test]
    fn beego_data_is_recognised_by_its_first_message() {
        let empty = gob::encode_map(&[]).unwrap();
        let one = gob::encode_map(&[(Value::from("a"), Value::from(1i64))]).unwrap();
        assert!(looks_like_beego(&empty) && looks_like_beego(&one));
        let native = crate::session::format::native::encode_record(&SessionRecord::new(5));
        assert!(!looks_like_beego(&native) && !looks_like_beego(b""));
        // The native format (memcache, file, SQL blobs) names the setting.
        let err = crate::session::format::Format::Native
            .decode(&one)
            .unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(err.is_corrupt() && cause.contains("sessionstoreformat = beego"));
    }

    #[test]
    fn refuses_nil_reserved_and_garbage() {
        assert!(encode_value("k", &None::<i32>, None).is_err());
        assert!(encode_value(OTHER_KEYS, &1, None).is_err());
        assert!(decode_record(b"junk").unwrap_err().is_corrupt());
        assert!(decode_record(b"").unwrap().values.is_empty());
        assert!(decode_value::<i32>("k", b"junk").is_err());
        let s = encode_value("k", "v", None).unwrap();
        assert!(decode_value::<i32>("k", &s).is_err());
    }
}
