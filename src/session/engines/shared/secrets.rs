//! Where a config string's secrets are, as the engine's own parser found
//! them: each parser records the slices of the text it took as a password
//! or key, and [`Secrets::render`] masks exactly those. `actix-bee config`
//! prints config strings this way.

// Only the `actix-bee` command prints configs; the parsers record anyway.
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use std::ops::Range;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// What a masked secret prints as.
pub(crate) const MASK: &str = "<redacted>";

/// A value as the config text holds it, for [`Secrets::add_raw`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'r> {
    /// Plain text (a URL's user info, a conninfo value, a comma field).
    Text(&'r str),
    /// A JSON value (`"..."`, `[...]`, `5`).
    Json(&'r str),
}

/// The secrets found in one config string.
#[derive(Debug)]
pub(crate) struct Secrets<'a> {
    text: &'a str,
    /// Byte ranges of `text` and what replaces each.
    spans: Vec<(Range<usize>, &'static str)>,
    /// A secret was taken from a decoded copy (an escaped JSON string, a
    /// percent-decoded value that the driver re-read) and cannot be located
    /// in `text`: the whole text is masked.
    whole: bool,
}

impl<'a> Secrets<'a> {
    /// No secrets found yet in `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Secrets {
            text,
            spans: Vec::new(),
            whole: false,
        }
    }

    /// Records `part` as a secret. `part` is a slice of the text; a part
    /// from anywhere else cannot be located, and masks the whole text.
    pub(crate) fn add(&mut self, part: &str) {
        self.add_as(part, MASK);
    }

    /// Records a JSON value (`"..."`, `[...]`) as a secret: it is replaced
    /// by the mask as a JSON string, so the text stays JSON.
    pub(crate) fn add_json(&mut self, part: &str) {
        const QUOTED: &str = "\"<redacted>\"";
        self.add_as(part, QUOTED);
    }

    /// Records `raw` as a secret, as [`add`](Self::add) or
    /// [`add_json`](Self::add_json) by its kind.
    pub(crate) fn add_raw(&mut self, raw: Raw<'_>) {
        match raw {
            Raw::Text(part) => self.add(part),
            Raw::Json(part) => self.add_json(part),
        }
    }

    /// Masks the whole text: a secret was read but cannot be located.
    pub(crate) fn mask_all(&mut self) {
        self.whole = true;
    }

    /// True when any secret was found.
    pub(crate) fn any(&self) -> bool {
        self.whole || !self.spans.is_empty()
    }

    fn add_as(&mut self, part: &str, with: &'static str) {
        if part.is_empty() {
            return; // an empty password: nothing to hide
        }
        match self.locate(part) {
            Some(range) => self.spans.push((range, with)),
            None => self.whole = true,
        }
    }

    /// The byte range of `part` in the text, when `part` is a slice of it.
    pub(crate) fn locate(&self, part: &str) -> Option<Range<usize>> {
        let base = self.text.as_ptr() as usize;
        let start = (part.as_ptr() as usize).checked_sub(base)?;
        let end = start.checked_add(part.len())?;
        (end <= self.text.len()).then_some(start..end)
    }

    /// Merges the secrets found in `inner`, a config nested in this text
    /// (a JSON string holding a URL). When `inner` is a decoded copy, any
    /// secret in it masks `raw`, the value it was read from.
    pub(crate) fn nest(&mut self, inner: Secrets<'_>, raw: Raw<'_>) {
        if !inner.any() {
            return;
        }
        if inner.whole || self.locate(inner.text).is_none() {
            self.add_raw(raw);
            return;
        }
        for (range, with) in inner.spans {
            let part = &inner.text[range];
            self.add_as(part, with);
        }
    }

    /// The text with every secret replaced by [`MASK`].
    pub(crate) fn render(&self) -> String {
        if self.whole {
            return MASK.to_owned();
        }
        let mut spans = self.spans.clone();
        spans.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(self.text.len());
        let mut at = 0;
        for (range, with) in spans {
            if range.end <= at {
                continue; // inside a span already masked
            }
            let start = range.start.max(at);
            out.push_str(self.text.get(at..start).unwrap_or_default());
            if start == range.start {
                out.push_str(with);
            }
            at = range.end;
        }
        out.push_str(self.text.get(at..).unwrap_or_default());
        out
    }
}

/// The password text of a URL as the url crate (WHATWG URLs, a scheme
/// that is not a web one) delimits it: the authority ends at the first
/// '/', '?' or '#', the user info at its last '@', and the password
/// follows the user info's first ':'.
pub(crate) fn url_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo.split_once(':').map(|(_, pass)| pass)
}

/// The members of a JSON object in order, each value as its raw text (a
/// slice of `text`); `None` unless `text` is a JSON object.
pub(crate) fn json_members(text: &str) -> Option<Vec<(String, &str)>> {
    struct Members<'de>(Vec<(String, &'de RawValue)>);
    struct Each;
    impl<'de> Visitor<'de> for Each {
        type Value = Members<'de>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                out.push(entry);
            }
            Ok(Members(out))
        }
    }
    impl<'de> Deserialize<'de> for Members<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(Each)
        }
    }
    let members: Members<'_> = serde_json::from_str(text.trim()).ok()?;
    Some(members.0.into_iter().map(|(k, v)| (k, v.get())).collect())
}

/// The content of a raw JSON string as a slice of it when it holds no
/// escapes (so slices of it are slices of the config), else decoded.
pub(crate) fn json_str(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw).ok().map(Into::into)
    } else {
        Some(inner.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_mask_exactly_what_was_recorded() {
        let text = "u:1@h:1/1";
        let mut s = Secrets::new(text);
        s.add(&text[2..3]);
        assert_eq!(s.render(), "u:<redacted>@h:1/1");
        let copy = String::from("1");
        s.add(&copy);
        assert_eq!(s.render(), MASK);
    }

    #[test]
    fn json_values_stay_json() {
        let text = r#"{"a":"x","k":["p","q"],"n":{"z":1}}"#;
        let members = json_members(text).unwrap();
        assert_eq!(members[1], ("k".to_owned(), r#"["p","q"]"#));
        let mut s = Secrets::new(text);
        s.add_json(members[1].1);
        let out: serde_json::Value = serde_json::from_str(&s.render()).unwrap();
        assert_eq!(out["k"], MASK);
        assert!(json_members("[1]").is_none());
        assert_eq!(json_str(r#""a\/b""#).as_deref(), Some("a/b"));
    }
}
