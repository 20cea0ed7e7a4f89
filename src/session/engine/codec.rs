//! How values are encoded: MessagePack with named fields.
//!
//! MessagePack keeps what JSON loses (u64 above 2^53, NaN, byte strings),
//! and named fields let a struct gain a field without breaking old sessions.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::session::error::{Error, Result};

/// Encodes one session value.
///
/// # Errors
///
/// [`Error::Encode`] when serde refuses the value (a map with non-string
/// keys is fine; a failing `Serialize` impl is not).
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::codec::{decode_value, encode_value};
///
/// let bytes = encode_value("n", &u64::MAX).unwrap();
/// assert_eq!(decode_value::<u64>("n", &bytes).unwrap(), u64::MAX);
/// ```
pub fn encode_value<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>> {
    rmp_serde::to_vec_named(value).map_err(|source| Error::Encode {
        key: key.to_owned(),
        source: source.into(),
    })
}

/// Decodes one session value into the requested type.
///
/// # Errors
///
/// [`Error::Decode`] when the stored value has another type.
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::codec::{decode_value, encode_value};
///
/// let bytes = encode_value("name", "astaxie").unwrap();
/// assert!(decode_value::<i64>("name", &bytes).is_err());
/// ```
pub fn decode_value<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    rmp_serde::from_slice(bytes).map_err(|source| Error::Decode {
        key: key.to_owned(),
        source: source.into(),
    })
}
