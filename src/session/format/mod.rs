//! How a session is laid out in a backend: the one seam every engine
//! consults to encode and decode what it stores.
//!
//! Blob engines (file, SQL, memcache, couchbase, cookie) store a whole
//! [`SessionRecord`] as bytes; hash engines (redis) store one field per key
//! plus metadata fields. Both go through [`Format`], so a second layout
//! (beego's gob maps, with its own key names and expiry columns) is one
//! more variant here rather than a copy of every engine.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{Error, Result};
use super::record::SessionRecord;

pub(crate) mod beego;
pub(crate) mod native;

/// Field prefix of user values in the native hash layout.
const NATIVE_VALUE_PREFIX: &[u8] = b"v:";
/// Field holding the creation time (ms since the epoch) in the native hash layout.
const NATIVE_CREATED: &[u8] = b"m:created";

/// A storage format: the record codec and the hash layout, chosen together.
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::{Format, SessionRecord};
///
/// let format = Format::default();
/// let mut record = SessionRecord::new(1_000);
/// record.values.insert("k".into(), vec![1, 2]);
/// let bytes = format.encode(&record).unwrap();
/// assert_eq!(format.decode(&bytes).unwrap(), record);
/// assert!(format.decode(b"junk").unwrap_err().is_corrupt());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// This crate's own layout: a versioned MessagePack envelope for blobs,
    /// `v:<key>` and `m:created` fields for hashes.
    #[default]
    Native,
    /// beego v2's layout (`sessionstoreformat = beego`): the session is Go
    /// `encoding/gob` of a `map[interface{}]interface{}`, stored the way
    /// each beego provider stores it, so a beego app and this crate share
    /// sessions. It keeps no creation time, so the absolute lifetime is
    /// not enforced. Blob engines only; the hash layout below is unused.
    Beego,
}

impl FromStr for Format {
    type Err = String;

    /// `native` or `beego`, case-insensitive (empty is `native`).
    ///
    /// ```
    /// use actix_bee::session::engine::Format;
    /// assert_eq!("Beego".parse::<Format>().unwrap(), Format::Beego);
    /// assert!("gob".parse::<Format>().is_err());
    /// ```
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "native" => Ok(Format::Native),
            "beego" => Ok(Format::Beego),
            other => Err(format!(
                "unknown session store format {other:?} (use native or beego)"
            )),
        }
    }
}

impl Format {
    /// The format's name, for logs.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actix_bee::session::engine::Format::Native.name(), "native");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Beego => "beego",
        }
    }

    /// Encodes a whole record (blob engines).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] if the record cannot be encoded.
    ///
    /// # Examples
    ///
    /// See [`Format`].
    pub fn encode(self, record: &SessionRecord) -> Result<Vec<u8>> {
        match self {
            Format::Native => Ok(native::encode_record(record)),
            Format::Beego => beego::encode_record(record),
        }
    }

    /// Decodes a whole record (blob engines).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] when the bytes are not a record of this format;
    /// in the native format, beego's data gets an error that names
    /// `sessionstoreformat = beego`.
    ///
    /// # Examples
    ///
    /// See [`Format`].
    pub fn decode(self, bytes: &[u8]) -> Result<SessionRecord> {
        match self {
            Format::Native => native::decode_record(bytes).map_err(|e| {
                if beego::looks_like_beego(bytes) {
                    beego::native_reads_beego()
                } else {
                    e
                }
            }),
            Format::Beego => beego::decode_record(bytes),
        }
    }

    /// The hash field holding the value of `key` (hash engines).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::engine::Format;
    /// assert_eq!(Format::Native.value_field("uid"), b"v:uid");
    /// ```
    pub fn value_field(self, key: &str) -> Vec<u8> {
        match self {
            Format::Native | Format::Beego => {
                let mut f = Vec::with_capacity(NATIVE_VALUE_PREFIX.len() + key.len());
                f.extend_from_slice(NATIVE_VALUE_PREFIX);
                f.extend_from_slice(key.as_bytes());
                f
            }
        }
    }

    /// The prefix that marks value fields, for scripts that drop them all.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actix_bee::session::engine::Format::Native.value_prefix(), b"v:");
    /// ```
    pub fn value_prefix(self) -> &'static [u8] {
        match self {
            Format::Native | Format::Beego => NATIVE_VALUE_PREFIX,
        }
    }

    /// The hash fields of a new session: its metadata, then its values.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::engine::{Format, SessionRecord};
    /// let fields = Format::Native.to_fields(&SessionRecord::new(5));
    /// assert_eq!(fields, [(b"m:created".to_vec(), b"5".to_vec())]);
    /// ```
    pub fn to_fields(self, record: &SessionRecord) -> Vec<(Vec<u8>, Vec<u8>)> {
        match self {
            Format::Native | Format::Beego => std::iter::once((
                NATIVE_CREATED.to_vec(),
                record.created_ms.to_string().into_bytes(),
            ))
            .chain(
                record
                    .values
                    .iter()
                    .map(|(k, v)| (self.value_field(k), v.clone())),
            )
            .collect(),
        }
    }

    /// A record from stored hash fields; the access time is the caller's
    /// (hash engines derive it from the key's TTL).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] for a field name that is not UTF-8 or a missing
    /// or malformed creation time.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::engine::{Format, SessionRecord};
    /// let mut r = SessionRecord::new(7);
    /// r.values.insert("k".into(), vec![1]);
    /// let back = Format::Native.from_fields(&Format::Native.to_fields(&r), 7).unwrap();
    /// assert_eq!(back, r);
    /// assert!(Format::Native.from_fields(&[], 7).unwrap_err().is_corrupt());
    /// ```
    pub fn from_fields(
        self,
        fields: &[(Vec<u8>, Vec<u8>)],
        accessed_ms: u64,
    ) -> Result<SessionRecord> {
        match self {
            Format::Native | Format::Beego => {
                let mut record = SessionRecord::new(accessed_ms);
                let mut created = None;
                for (field, value) in fields {
                    if let Some(k) = field.strip_prefix(NATIVE_VALUE_PREFIX) {
                        let k = std::str::from_utf8(k).map_err(Error::corrupt)?;
                        record.values.insert(k.to_owned(), value.clone());
                    } else if field == NATIVE_CREATED {
                        created = std::str::from_utf8(value)
                            .ok()
                            .and_then(|s| s.parse::<u64>().ok());
                    }
                }
                record.created_ms = created
                    .ok_or_else(|| Error::corrupt("session hash without a valid creation time"))?;
                Ok(record)
            }
        }
    }
}

impl Format {
    /// Encodes one session value for a store in this format; `old` is the
    /// key's current stored value, whose Go type a beego value keeps.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] when the value cannot be encoded (in beego's
    /// format also a nil value or a reserved key).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::engine::Format;
    /// let bytes = Format::Beego.encode_value("n", &5, None).unwrap();
    /// assert_eq!(Format::Beego.decode_value::<i64>("n", &bytes).unwrap(), 5);
    /// ```
    pub fn encode_value<T: Serialize + ?Sized>(
        self,
        key: &str,
        value: &T,
        old: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        match self {
            Format::Native => native::encode_value(key, value),
            Format::Beego => beego::encode_value(key, value, old),
        }
    }

    /// Encodes one Go value exactly as given, its Go type included (beego's
    /// format only).
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] in the native format, which has no Go types (the
    /// value could only lose the type it was given, and no Go app reads
    /// this format), and for a nil value or a reserved key.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::gob::Value;
    /// use actix_bee::session::engine::Format;
    /// let bytes = Format::Beego.encode_gob("n", Value::int32(5)).unwrap();
    /// assert_eq!(Format::Beego.decode_value::<i64>("n", &bytes).unwrap(), 5);
    /// assert!(Format::Native.encode_gob("n", Value::int32(5)).is_err());
    /// ```
    pub fn encode_gob(self, key: &str, value: crate::gob::Value) -> Result<Vec<u8>> {
        match self {
            Format::Native => Err(Error::Encode {
                key: key.to_owned(),
                source: "a value with a Go type needs sessionstoreformat = beego; the native \
                         format has no Go types (use set)"
                    .into(),
            }),
            Format::Beego => beego::encode_gob_value(key, value),
        }
    }

    /// Decodes one session value of a store in this format.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when the stored value has another type.
    ///
    /// # Examples
    ///
    /// See [`Format::encode_value`].
    pub fn decode_value<T: DeserializeOwned>(self, key: &str, bytes: &[u8]) -> Result<T> {
        match self {
            Format::Native => native::decode_value(key, bytes),
            Format::Beego => beego::decode_value(key, bytes),
        }
    }

    /// True for a key that typed access must not touch (beego's internal
    /// key of non-string Go keys).
    pub(crate) fn is_reserved(self, key: &str) -> bool {
        self == Format::Beego && beego::is_reserved(key)
    }
}
