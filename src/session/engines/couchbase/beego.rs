//! beego's couchbase document (`sessionstoreformat = beego`).
//!
//! beego's couchbase provider stores the gob map with go-couchbase's
//! `Bucket.Set(sid, maxlifetime, blob)`, which JSON-encodes its value: the
//! document under the raw id is a JSON string holding the standard base64
//! (padded) of the gob bytes, with flags 0, expiring after the idle
//! lifetime. `null` and `""` (what beego's regenerate of an unknown id
//! stores) are an empty session.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::session::error::{Error, Result};

/// The document for the gob bytes `gob`: `json.Marshal([]byte)` in Go.
pub(super) fn encode(gob: &[u8]) -> Vec<u8> {
    // Base64 needs no JSON escaping: the quotes are the whole encoding.
    let mut doc = Vec::with_capacity(gob.len().div_ceil(3) * 4 + 2);
    doc.push(b'"');
    doc.extend_from_slice(STANDARD.encode(gob).as_bytes());
    doc.push(b'"');
    doc
}

/// The gob bytes of a document (empty for an empty session).
///
/// # Errors
///
/// [`Error::Corrupt`] when it is not a JSON string of base64 or `null`.
pub(super) fn decode(doc: &[u8]) -> Result<Vec<u8>> {
    let text: Option<String> = serde_json::from_slice(doc).map_err(|_| {
        Error::corrupt("a beego couchbase document must be a JSON string of base64 gob")
    })?;
    match text {
        None => Ok(Vec::new()),
        Some(t) => STANDARD.decode(t).map_err(Error::corrupt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::format::Format;

    /// What Go stores for `{"uid": 7}`: `json.Marshal` of `EncodeGob`'s
    /// bytes, printed by a Go 1.19 program (one key, so the gob bytes are
    /// deterministic).
    const GO_DOCUMENT: &str = r#""Dv+BBAEC/4IAARABEAAAGv+CAAEGc3RyaW5nDAUAA3VpZANpbnQEAgAO""#;

    #[test]
    fn reads_and_writes_the_document_go_writes() {
        let gob = decode(GO_DOCUMENT.as_bytes()).unwrap();
        let record = Format::Beego.decode(&gob).unwrap();
        let uid = Format::Beego.decode_value::<i64>("uid", &record.values["uid"]);
        assert_eq!(uid.unwrap(), 7);
        // Written back, byte for byte what Go writes.
        let again = encode(&Format::Beego.encode(&record).unwrap());
        assert_eq!(again, GO_DOCUMENT.as_bytes());
    }

    #[test]
    fn null_and_empty_are_empty_sessions_and_junk_is_corrupt() {
        assert!(decode(b"null").unwrap().is_empty());
        assert!(decode(br#""""#).unwrap().is_empty());
        assert!(decode(b"{}").unwrap_err().is_corrupt());
        assert!(decode(br#""not base64!""#).unwrap_err().is_corrupt());
        assert!(decode(&[0xff, 0x81]).unwrap_err().is_corrupt());
    }
}
