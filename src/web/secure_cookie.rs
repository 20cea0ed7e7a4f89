//! beego's secure cookie (`Ctx.SetSecureCookie` / `Ctx.GetSecureCookie`):
//! a value signed with HMAC-SHA256 under a secret, as the `_xsrf` cookie
//! carries the XSRF token. The format is beego's, byte for byte, so a
//! cookie signed by a beego app opens here and the reverse:
//!
//! `base64url(value) "|" unix-nanoseconds "|" hex(HMAC-SHA256(secret, base64url(value) + unix-nanoseconds))`
//!
//! (`base64url` with `=` padding, as Go's `base64.URLEncoding`; the hex in
//! lower case, as Go's `%02x`). Unlike beego, the signature is checked in
//! constant time and the timestamp must be a number, so that the age of a
//! cookie can be checked.

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest cookie value opened: browsers keep at most 4096 bytes a
/// cookie, so anything longer was not set by an app.
const MAX_COOKIE_LEN: usize = 4096;

/// The secret that signs and checks secure cookies, keyed once.
#[derive(Clone)]
pub(crate) struct SecureCookieKey {
    mac: HmacSha256,
}

impl std::fmt::Debug for SecureCookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecureCookieKey(<redacted>)")
    }
}

/// A secure cookie that verified: its value and when it was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opened {
    /// The signed value.
    pub value: String,
    /// When it was signed, in nanoseconds since the Unix epoch.
    pub signed_at_nanos: i64,
}

impl SecureCookieKey {
    /// The key for `secret`; `None` only if HMAC refused the key, which
    /// it does for no length.
    pub(crate) fn new(secret: &[u8]) -> Option<SecureCookieKey> {
        HmacSha256::new_from_slice(secret)
            .ok()
            .map(|mac| SecureCookieKey { mac })
    }

    /// The signature over `encoded` and `timestamp`, as lower-case hex.
    fn mac(&self, encoded: &str, timestamp: &str) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(encoded.as_bytes());
        mac.update(timestamp.as_bytes());
        mac
    }

    /// The cookie value carrying `value`, signed at `now_nanos`.
    pub(crate) fn sign(&self, value: &str, now_nanos: i64) -> String {
        let encoded = URL_SAFE.encode(value);
        let timestamp = now_nanos.to_string();
        let sig = hex::encode(self.mac(&encoded, &timestamp).finalize().into_bytes());
        let mut out = String::with_capacity(encoded.len() + timestamp.len() + sig.len() + 2);
        out.push_str(&encoded);
        out.push('|');
        out.push_str(&timestamp);
        out.push('|');
        out.push_str(&sig);
        out
    }

    /// The value of `cookie` if its signature verifies; `None` for
    /// anything else (wrong key, edited, truncated, not beego's shape, a
    /// value that is not UTF-8).
    pub(crate) fn open(&self, cookie: &str) -> Option<Opened> {
        if cookie.len() > MAX_COOKIE_LEN {
            return None;
        }
        let mut parts = cookie.splitn(3, '|');
        let (encoded, timestamp, sig) = (parts.next()?, parts.next()?, parts.next()?);
        // Go writes `%02x`: lower case only, as beego compares the text.
        let lower_hex = sig
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if sig.len() != 64 || !lower_hex {
            return None;
        }
        let sig = hex::decode(sig).ok()?;
        self.mac(encoded, timestamp).verify_slice(&sig).ok()?;
        let signed_at_nanos = timestamp.parse().ok()?;
        let value = String::from_utf8(URL_SAFE.decode(encoded).ok()?).ok()?;
        Some(Opened {
            value,
            signed_at_nanos,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecureCookieKey {
        SecureCookieKey::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn signs_in_beegos_shape_and_opens_what_it_signed() {
        let cookie = key().sign("tok", 1_700_000_000_123_456_789);
        let parts: Vec<&str> = cookie.split('|').collect();
        assert_eq!(parts[0], "dG9r");
        assert_eq!(parts[1], "1700000000123456789");
        assert_eq!(parts[2].len(), 64);
        let opened = key().open(&cookie).unwrap();
        assert_eq!(opened.value, "tok");
        assert_eq!(opened.signed_at_nanos, 1_700_000_000_123_456_789);
    }

    #[test]
    fn the_padding_is_gos() {
        // 32 bytes: 44 characters, one `=`, as Go's URLEncoding writes.
        let cookie = key().sign(&"a".repeat(32), 1);
        assert!(cookie.starts_with("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=|"));
    }

    #[test]
    fn refuses_what_did_not_verify() {
        let good = key().sign("tok", 5);
        let other = SecureCookieKey::new(b"another key, another key, anothe")
            .unwrap()
            .sign("tok", 5);
        assert_eq!(key().open(&other), None, "signed with another key");
        let edited = good.replacen("dG9r", "dG9s", 1);
        assert_eq!(key().open(&edited), None, "value edited");
        let retimed = good.replacen("|5|", "|6|", 1);
        assert_eq!(key().open(&retimed), None, "timestamp edited");
        assert_eq!(key().open(&good[..good.len() - 1]), None, "truncated");
        assert_eq!(key().open(&good.to_uppercase()), None);
        for junk in ["", "|", "||", "a|b|c", "dG9r|5", &"x".repeat(5000)] {
            assert_eq!(key().open(junk), None, "{junk:.20}");
        }
    }

    #[test]
    fn a_signed_timestamp_that_is_not_a_number_is_refused() {
        let k = key();
        let sig = hex::encode(k.mac("dG9r", "soon").finalize().into_bytes());
        assert_eq!(k.open(&format!("dG9r|soon|{sig}")), None);
    }
}
