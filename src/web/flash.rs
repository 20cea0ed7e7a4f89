//! Flash messages, beego's `FlashData`: messages set while serving one
//! request and shown by the next, carried in beego's flash cookie so that
//! a message stored by a beego app shows here and the reverse.
//!
//! The cookie (`flashname`, default `BEEGO_FLASH`) holds, query-escaped as
//! Go's `url.QueryEscape`, each message as
//! `"\x00" key "\x23" separator "\x23" value "\x00"` (`flashseparator`,
//! default `BEEGOFLASH`). beego does not sign it, so a client can put any
//! text there: the messages are template data, escaped when rendered; a
//! cookie longer than [`MAX_FLASH_COOKIE`] or that does not decode is
//! dropped, never an error page.

use std::collections::BTreeMap;

use actix_web::cookie::time::{Duration, OffsetDateTime};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

use super::transport::cookie_value;

/// The longest flash cookie read or written, in bytes: browsers keep at
/// most 4096 bytes a cookie, name and attributes included.
pub const MAX_FLASH_COOKIE: usize = 3800;

/// The messages of one request (beego's `FlashData`), by level.
///
/// Set on [`Context::flash`](super::Context::flash) while serving a
/// request; stored in the flash cookie when the response goes out, shown
/// by the next page as the template value `flash` (`{{.flash.notice}}`).
///
/// # Examples
///
/// ```
/// use actix_bee::web::Flash;
///
/// let mut flash = Flash::default();
/// flash.notice("Settings saved");
/// flash.error(format!("{} errors", 2));
/// assert_eq!(flash.get("notice"), Some("Settings saved"));
/// assert_eq!(flash.get("error"), Some("2 errors"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flash {
    messages: BTreeMap<String, String>,
}

impl Flash {
    /// Sets the message of `key` (beego's `Set`).
    pub fn set(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.messages.insert(key.into(), message.into());
    }

    /// Sets the `success` message.
    pub fn success(&mut self, message: impl Into<String>) {
        self.set("success", message);
    }

    /// Sets the `notice` message.
    pub fn notice(&mut self, message: impl Into<String>) {
        self.set("notice", message);
    }

    /// Sets the `warning` message.
    pub fn warning(&mut self, message: impl Into<String>) {
        self.set("warning", message);
    }

    /// Sets the `error` message.
    pub fn error(&mut self, message: impl Into<String>) {
        self.set("error", message);
    }

    /// The message of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.messages.get(key).map(String::as_str)
    }

    /// True when no message is set.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The messages, by key.
    pub fn messages(&self) -> &BTreeMap<String, String> {
        &self.messages
    }
}

/// The flash cookie's name and separator (`flashname`, `flashseparator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlashCookie {
    name: String,
    /// `"\x23" separator "\x23"`, between a key and its value.
    between: String,
}

impl Default for FlashCookie {
    fn default() -> Self {
        FlashCookie::new("BEEGO_FLASH", "BEEGOFLASH")
    }
}

impl FlashCookie {
    pub(crate) fn new(name: &str, separator: &str) -> FlashCookie {
        FlashCookie {
            name: name.to_owned(),
            between: format!("#{separator}#"),
        }
    }

    /// The messages the request's flash cookie carries: `None` without
    /// the cookie, an empty flash for one that is too long or does not
    /// decode (beego's `ReadFromRequest`).
    pub(crate) fn read(&self, req: &HttpRequest) -> Option<Flash> {
        let raw = cookie_value(req, &self.name)?;
        Some(self.decode(raw).unwrap_or_else(|| {
            tracing::debug!(
                len = raw.len(),
                "flash: dropped a cookie that does not decode"
            );
            Flash::default()
        }))
    }

    /// The messages of a cookie value; `None` when it is too long or not
    /// query-escaped UTF-8.
    fn decode(&self, raw: &str) -> Option<Flash> {
        if raw.len() > MAX_FLASH_COOKIE {
            return None;
        }
        let text = query_unescape(raw)?;
        let mut flash = Flash::default();
        for entry in text.split('\0').filter(|e| !e.is_empty()) {
            let mut kv = entry.split(self.between.as_str());
            // beego keeps an entry only when it splits in exactly two.
            if let (Some(k), Some(v), None) = (kv.next(), kv.next(), kv.next()) {
                flash.set(k, v);
            }
        }
        Some(flash)
    }

    /// The cookie value carrying `flash` (beego's `Store`); `None` when it
    /// would be too long for a browser to keep. Messages that would not
    /// read back as they are (holding a NUL or the separator) are left
    /// out.
    fn encode(&self, flash: &Flash) -> Option<String> {
        let mut text = String::new();
        for (k, v) in flash.messages() {
            let fits = |s: &str| !s.contains('\0') && !s.contains(self.between.as_str());
            if !fits(k) || !fits(v) {
                tracing::warn!(key = %k, "flash: message left out, it holds a NUL or the flash separator");
                continue;
            }
            text.push('\0');
            text.push_str(k);
            text.push_str(&self.between);
            text.push_str(v);
            text.push('\0');
        }
        let value = query_escape(&text);
        if value.len() > MAX_FLASH_COOKIE {
            tracing::warn!(
                len = value.len(),
                "flash: messages not stored, longer than {MAX_FLASH_COOKIE} bytes"
            );
            return None;
        }
        Some(value)
    }

    /// The `Set-Cookie` value storing `flash`; `None` when it is too long.
    pub(crate) fn store(&self, flash: &Flash) -> Option<String> {
        let mut cookie = Cookie::new(self.name.as_str(), self.encode(flash)?);
        cookie.set_path("/");
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        Some(cookie.to_string())
    }

    /// The `Set-Cookie` value removing the flash cookie, once it was read.
    pub(crate) fn clear(&self) -> String {
        let mut cookie = Cookie::new(self.name.as_str(), "");
        cookie.set_path("/");
        cookie.set_max_age(Duration::ZERO);
        cookie.set_expires(OffsetDateTime::UNIX_EPOCH);
        cookie.to_string()
    }
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` as they are, space
/// as `+`, every other byte as `%XX`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    out
}

/// Go's `url.QueryUnescape`: `None` for a bad `%` escape or text that is
/// not UTF-8.
fn query_unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn encodes_as_beego_does() {
        let mut flash = Flash::default();
        flash.notice("Saved: 1 item");
        let value = FlashCookie::default().encode(&flash).unwrap();
        assert_eq!(value, "%00notice%23BEEGOFLASH%23Saved%3A+1+item%00");
    }

    #[test]
    fn reads_what_it_stores_and_drops_what_does_not_decode() {
        let cookie = FlashCookie::new("F", "SEP");
        let mut flash = Flash::default();
        flash.notice("<b>hi</b> & ü");
        flash.error("x");
        let value = cookie.encode(&flash).unwrap();
        let req = TestRequest::get()
            .insert_header(("cookie", format!("F={value}")))
            .to_http_request();
        assert_eq!(cookie.read(&req), Some(flash));
        for bad in ["%zz", "%0", "%ff%fe", &"a".repeat(MAX_FLASH_COOKIE + 1)] {
            let req = TestRequest::get()
                .insert_header(("cookie", format!("F={bad}")))
                .to_http_request();
            assert_eq!(cookie.read(&req), Some(Flash::default()), "{bad:.20}");
        }
        assert_eq!(cookie.read(&TestRequest::get().to_http_request()), None);
    }

    #[test]
    fn entries_that_do_not_split_in_two_are_skipped_as_beego_does() {
        let cookie = FlashCookie::default();
        let text = "\0a#BEEGOFLASH#1\0\0b\0\0c#BEEGOFLASH#2#BEEGOFLASH#3\0";
        let flash = cookie.decode(&query_escape(text)).unwrap();
        assert_eq!(flash.messages().len(), 1);
        assert_eq!(flash.get("a"), Some("1"));
    }

    #[test]
    fn messages_that_would_not_read_back_are_left_out_and_size_is_bounded() {
        let cookie = FlashCookie::default();
        let mut flash = Flash::default();
        flash.set("nul", "a\0b");
        flash.set("sep", "a#BEEGOFLASH#b");
        flash.set("ok", "fine");
        let read = cookie.decode(&cookie.encode(&flash).unwrap()).unwrap();
        assert_eq!(read.messages().len(), 1);
        let mut big = Flash::default();
        big.notice("x".repeat(MAX_FLASH_COOKIE));
        assert_eq!(cookie.store(&big), None);
        let clear = cookie.clear();
        assert!(clear.starts_with("BEEGO_FLASH=;"), "{clear}");
        assert!(clear.contains("Max-Age=0"), "{clear}");
    }

    #[test]
    fn escape_round_trips() {
        let s = "a b+c%d/é\0~*";
        assert_eq!(query_unescape(&query_escape(s)).as_deref(), Some(s));
        assert_eq!(query_escape("~*"), "~%2A");
    }
}
