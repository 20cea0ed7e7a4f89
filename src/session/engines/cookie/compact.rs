//! The record inside a native token of payload version 2: about half the
//! bytes of the MessagePack record of version 1, so the cookie (and every
//! step that touches it: AES-GCM, base64, header checks) is shorter.
//!
//! ```text
//! varint(created_ms) ‖ varint(accessed_ms − created_ms, wrapping)
//! ‖ varint(n) ‖ n × (varint(key length) ‖ key ‖ varint(value length) ‖ value)
//! ```
//!
//! Varints are LEB128 (7 bits a byte, low first, at most 10 bytes); keys
//! come in the map's order. Only authenticated payloads reach [`decode`],
//! but it still refuses anything malformed without panicking.

use crate::session::error::{Error, Result};
use crate::session::record::{SessionRecord, Values};

/// Appends the encoding of `record` to `out`.
pub(super) fn encode(record: &SessionRecord, out: &mut Vec<u8>) {
    varint(out, record.created_ms);
    varint(out, record.accessed_ms.wrapping_sub(record.created_ms));
    varint(out, record.values.len() as u64);
    for (key, value) in &record.values {
        varint(out, key.len() as u64);
        out.extend_from_slice(key.as_bytes());
        varint(out, value.len() as u64);
        out.extend_from_slice(value);
    }
}

/// The record encoded in `bytes` (all of them).
///
/// # Errors
///
/// [`Error::Corrupt`] when `bytes` is not one whole encoding.
pub(super) fn decode(bytes: &[u8]) -> Result<SessionRecord> {
    read(bytes).ok_or_else(|| Error::corrupt("cookie session: malformed compact record"))
}

fn read(mut bytes: &[u8]) -> Option<SessionRecord> {
    let created_ms = take_varint(&mut bytes)?;
    let accessed_ms = created_ms.wrapping_add(take_varint(&mut bytes)?);
    let n = take_varint(&mut bytes)?;
    let mut values = Values::new();
    for _ in 0..n {
        let key = take_bytes(&mut bytes)?;
        let value = take_bytes(&mut bytes)?;
        values.insert(String::from_utf8(key.to_vec()).ok()?, value.to_vec());
    }
    bytes.is_empty().then_some(SessionRecord {
        created_ms,
        accessed_ms,
        values,
    })
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let bits = u64::from(b & 0x7f);
        // The tenth byte holds only the top bit of a u64.
        if i == 9 && bits > 1 {
            return None;
        }
        v |= bits << (7 * i);
        if b < 0x80 {
            *bytes = &bytes[i + 1..];
            return Some(v);
        }
    }
    None
}

fn take_bytes<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(take_varint(bytes)?).ok()?;
    let (taken, rest) = (bytes.get(..len)?, bytes.get(len..)?);
    *bytes = rest;
    Some(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(created: u64, accessed: u64, values: &[(&str, &[u8])]) -> SessionRecord {
        SessionRecord {
            created_ms: created,
            accessed_ms: accessed,
            values: values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn round_trips_and_is_shorter_than_msgpack() {
        let long = vec![0xee; 300];
        for r in [
            record(0, 0, &[]),
            record(1_790_000_000_000, 1_790_000_100_000, &[("asta", b"\x29")]),
            record(u64::MAX, 3, &[("", b""), ("é", &long)]),
            record(5, u64::MAX, &[("k", b"v")]),
        ] {
            let mut out = Vec::new();
            encode(&r, &mut out);
            assert_eq!(decode(&out).unwrap(), r);
            let mut msgpack = Vec::new();
            crate::session::format::native::encode_record_into(&r, &mut msgpack);
            assert!(
                out.len() < msgpack.len(),
                "{} vs {}",
                out.len(),
                msgpack.len()
            );
        }
    }

    #[test]
    fn refuses_malformed_bytes() {
        let mut out = Vec::new();
        encode(&record(7, 9, &[("key", b"value")]), &mut out);
        // Every truncation, and trailing bytes.
        for cut in 0..out.len() {
            assert!(decode(&out[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = out.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        // A key that is not UTF-8.
        let bad = [7, 2, 1, 1, 0xff, 0];
        assert!(decode(&bad).is_err());
        // A varint past 64 bits.
        assert!(decode(&[0xff; 11]).is_err());
        assert!(
            decode(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0]).is_err()
        );
        // A count larger than the bytes can hold ends at the bytes.
        assert!(decode(&[1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }
}
