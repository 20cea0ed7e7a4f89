//! The native format: this crate's own encoding of a session.
//!
//! A record is a version byte, then the MessagePack map
//! `{c: uint, a: uint, v: {str: bin}}` (creation time, access time, values),
//! each field in its shortest form: the bytes `rmp_serde::encode::write_named`
//! gives, written and read here directly, without serde's intermediate maps.
//! Reading takes that exact shape first; anything else goes to `rmp_serde`,
//! which decides. A value is MessagePack with named fields: it keeps what
//! JSON loses (u64 above 2^53, NaN, byte strings), and a struct can gain a
//! field without breaking old sessions.
//!
//! Everything here is reached through [`Format::Native`](super::Format::Native).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::session::error::{Error, Result};
use crate::session::record::{SessionRecord, Values};

/// Version tag in front of every encoded record, so the format can change.
const RECORD_VERSION: u8 = 1;

/// The record as serde sees it, for the shapes the direct reader leaves to
/// `rmp_serde` (and, in tests, to check the writer against it).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct Wire {
    #[serde(rename = "c")]
    created_ms: u64,
    #[serde(rename = "a")]
    accessed_ms: u64,
    #[serde(rename = "v", with = "values_as_bytes")]
    values: Values,
}

#[cfg(test)]
impl From<&SessionRecord> for Wire {
    fn from(r: &SessionRecord) -> Self {
        Wire {
            created_ms: r.created_ms,
            accessed_ms: r.accessed_ms,
            values: r.values.clone(),
        }
    }
}

mod values_as_bytes {
    //! Values as MessagePack `bin`, not arrays of integers.

    use serde::{Deserialize, Deserializer};
    use serde_bytes::ByteBuf;

    use super::Values;

    #[cfg(test)]
    pub fn serialize<S: serde::Serializer>(values: &Values, s: S) -> Result<S::Ok, S::Error> {
        use serde::Serialize;
        let view: std::collections::BTreeMap<&str, &serde_bytes::Bytes> = values
            .iter()
            .map(|(k, v)| (k.as_str(), serde_bytes::Bytes::new(v)))
            .collect();
        view.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Values, D::Error> {
        let raw = std::collections::BTreeMap::<String, ByteBuf>::deserialize(d)?;
        Ok(raw.into_iter().map(|(k, v)| (k, v.into_vec())).collect())
    }
}

/// Encodes a record: the version byte, then its body.
pub(crate) fn encode_record(record: &SessionRecord) -> Vec<u8> {
    let mut out = Vec::new();
    encode_record_into(record, &mut out);
    out
}

/// Appends what [`encode_record`] returns to `out`, for callers that build
/// a larger buffer around the record (the cookie engine seals in place).
pub(crate) fn encode_record_into(record: &SessionRecord, out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    write_body(record, out);
}

/// Decodes a record written by [`encode_record`].
///
/// # Errors
///
/// [`Error::Corrupt`] on an unknown version or malformed bytes.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<SessionRecord> {
    match bytes.split_first() {
        Some((&RECORD_VERSION, body)) => match read_body(body) {
            Some(record) => Ok(record),
            // Not the shape this crate writes: rmp_serde decides.
            None => rmp_serde::from_slice::<Wire>(body)
                .map(|w| SessionRecord {
                    created_ms: w.created_ms,
                    accessed_ms: w.accessed_ms,
                    values: w.values,
                })
                .map_err(Error::corrupt),
        },
        _ => Err(Error::corrupt("unknown session record version")),
    }
}

/// Encodes one session value.
///
/// # Errors
///
/// [`Error::Encode`] when serde refuses the value (a map with non-string
/// keys is fine; a failing `Serialize` impl is not).
pub(crate) fn encode_value<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>> {
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
pub(crate) fn decode_value<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    rmp_serde::from_slice(bytes).map_err(|source| Error::Decode {
        key: key.to_owned(),
        source: source.into(),
    })
}

/// Appends the record's body (after the version byte).
fn write_body(record: &SessionRecord, out: &mut Vec<u8>) {
    out.reserve(
        32 + record
            .values
            .iter()
            .map(|(k, v)| k.len() + v.len() + 10)
            .sum::<usize>(),
    );
    out.push(0x83);
    out.extend_from_slice(b"\xa1c");
    write_uint(out, record.created_ms);
    out.extend_from_slice(b"\xa1a");
    write_uint(out, record.accessed_ms);
    out.extend_from_slice(b"\xa1v");
    write_len(out, record.values.len(), 0x80, 16, [0xde, 0xdf]);
    for (key, value) in &record.values {
        write_str(out, key);
        write_bin(out, value);
    }
}

fn write_uint(out: &mut Vec<u8>, n: u64) {
    if n < 128 {
        out.push(n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[0xcc, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0xcd);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0xce);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A map header: `fix | len` below `fix_max`, else 16- or 32-bit.
fn write_len(out: &mut Vec<u8>, len: usize, fix: u8, fix_max: usize, wide: [u8; 2]) {
    if len < fix_max {
        out.push(fix | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(wide[0]);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(wide[1]);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if let Ok(len) = u8::try_from(len) {
        out.extend_from_slice(&[0xd9, len]);
    } else {
        write_len(out, len, 0, 0, [0xda, 0xdb]);
    }
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    if let Ok(len) = u8::try_from(b.len()) {
        out.extend_from_slice(&[0xc4, len]);
    } else {
        write_len(out, b.len(), 0, 0, [0xc5, 0xc6]);
    }
    out.extend_from_slice(b);
}

/// Reads a body [`write_body`] wrote; `None` for any other shape.
fn read_body(body: &[u8]) -> Option<SessionRecord> {
    let mut r = Reader(body);
    if r.byte()? != 0x83 || r.take(2)? != b"\xa1c" {
        return None;
    }
    let created_ms = r.uint()?;
    if r.take(2)? != b"\xa1a" {
        return None;
    }
    let accessed_ms = r.uint()?;
    if r.take(2)? != b"\xa1v" {
        return None;
    }
    let n = match r.byte()? {
        m @ 0x80..=0x8f => usize::from(m & 0x0f),
        0xde => r.be::<2>()?,
        0xdf => r.be::<4>()?,
        _ => return None,
    };
    let mut values = Values::new();
    for _ in 0..n {
        let len = match r.byte()? {
            m @ 0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 => r.be::<1>()?,
            0xda => r.be::<2>()?,
            0xdb => r.be::<4>()?,
            _ => return None,
        };
        let key = std::str::from_utf8(r.take(len)?).ok()?.to_owned();
        let len = match r.byte()? {
            0xc4 => r.be::<1>()?,
            0xc5 => r.be::<2>()?,
            0xc6 => r.be::<4>()?,
            _ => return None,
        };
        values.insert(key, r.take(len)?.to_vec());
    }
    // Trailing bytes: not ours to judge here.
    r.0.is_empty().then_some(SessionRecord {
        created_ms,
        accessed_ms,
        values,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// A big-endian unsigned length of `N` bytes.
    fn be<const N: usize>(&mut self) -> Option<usize> {
        let bytes = self.take(N)?;
        let n = bytes.iter().fold(0u64, |n, b| n << 8 | u64::from(*b));
        usize::try_from(n).ok()
    }

    fn uint(&mut self) -> Option<u64> {
        let m = self.byte()?;
        let n = match m {
            0x00..=0x7f => return Some(u64::from(m)),
            0xcc => self.take(1)?,
            0xcd => self.take(2)?,
            0xce => self.take(4)?,
            0xcf => self.take(8)?,
            _ => return None,
        };
        Some(n.iter().fold(0u64, |n, b| n << 8 | u64::from(*b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(times: u64, keys: usize, key_len: usize, value_len: usize) -> SessionRecord {
        let mut r = SessionRecord {
            created_ms: times,
            accessed_ms: times.saturating_mul(3),
            values: Values::new(),
        };
        for i in 0..keys {
            let key = format!("{i:0key_len$}");
            r.values.insert(key, vec![i as u8; value_len]);
        }
        r
    }

    /// Byte for byte what rmp_serde writes, and read back, across every
    /// width of every length and integer.
    #[test]
    fn matches_rmp_serde_both_ways() {
        for times in [
            0,
            5,
            127,
            128,
            255,
            256,
            65_535,
            65_536,
            u64::from(u32::MAX),
            1_764_000_000_000,
            u64::MAX,
        ] {
            for (keys, key_len, value_len) in [
                (0, 1, 0),
                (1, 4, 3),
                (15, 3, 31),
                (16, 40, 255),
                (17, 300, 256),
                (3, 2, 70_000),
                (70_000, 6, 1),
            ] {
                let r = record(times, keys, key_len, value_len);
                let mut ours = Vec::new();
                write_body(&r, &mut ours);
                let theirs = rmp_serde::encode::to_vec_named(&Wire::from(&r)).unwrap();
                assert_eq!(ours, theirs, "times {times}, {keys} keys");
                assert_eq!(read_body(&ours), Some(r));
            }
        }
    }

    #[test]
    fn records_round_trip_and_junk_is_corrupt() {
        let mut r = SessionRecord::new(1_000);
        r.values.insert("k".into(), vec![1, 2, 3]);
        let bytes = encode_record(&r);
        assert_eq!(bytes[0], RECORD_VERSION);
        assert_eq!(decode_record(&bytes).unwrap(), r);
        assert!(decode_record(&bytes[..3]).unwrap_err().is_corrupt());
        assert!(decode_record(b"\x07junk").unwrap_err().is_corrupt());
        let mut out = b"head".to_vec();
        encode_record_into(&r, &mut out);
        assert_eq!(&out[4..], bytes);
        // A record in serde's other shape (arrays, not maps) still decodes.
        let mut other = vec![RECORD_VERSION];
        other.extend(rmp_serde::to_vec(&Wire::from(&r)).unwrap());
        assert_eq!(decode_record(&other).unwrap(), r);
    }

    #[test]
    fn values_round_trip() {
        let bytes = encode_value("n", &u64::MAX).unwrap();
        assert_eq!(decode_value::<u64>("n", &bytes).unwrap(), u64::MAX);
        let bytes = encode_value("name", "astaxie").unwrap();
        assert!(decode_value::<i64>("name", &bytes).is_err());
    }

    #[test]
    fn other_shapes_are_left_to_rmp_serde() {
        let r = record(1, 1, 1, 1);
        let mut bytes = Vec::new();
        write_body(&r, &mut bytes);
        for cut in 0..bytes.len() {
            assert_eq!(read_body(&bytes[..cut]), None);
        }
        bytes.push(0);
        assert_eq!(read_body(&bytes), None);
        assert_eq!(
            read_body(&rmp_serde::to_vec(&Wire::from(&r)).unwrap()),
            None
        );
    }
}
