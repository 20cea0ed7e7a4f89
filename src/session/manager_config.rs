//! `ManagerConfig`: every beego setting, beego's defaults, and the additions.

use std::time::Duration;

use serde_json::Value;

use super::error::{Error, Result, CORE};
use super::format::Format;
use super::id::{HashFunc, IdGenerator};
use super::record::Lifetimes;

/// The cookie's `SameSite` attribute.
///
/// beego writes none by default; a missing attribute is `Lax` in modern
/// browsers, so `Lax` is written explicitly.
///
/// # Examples
///
/// ```
/// use actix_bee::session::SameSite;
///
/// assert_eq!(SameSite::from_beego("3"), Some(SameSite::Strict));
/// assert_eq!(SameSite::from_beego("none"), Some(SameSite::None));
/// assert_eq!(SameSite::from_beego("1"), Some(SameSite::Lax));
/// assert_eq!(SameSite::from_beego("sometimes"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Lax`.
    #[default]
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (needs `Secure`).
    None,
}

impl SameSite {
    /// Parses beego's integer (`http.SameSite`: 0 and 1 default, 2 Lax,
    /// 3 Strict, 4 None) or a name (`lax`, `strict`, `none`).
    ///
    /// # Examples
    ///
    /// See [`SameSite`].
    pub fn from_beego(value: &str) -> Option<SameSite> {
        match value.trim().to_ascii_lowercase().as_str() {
            "0" | "1" | "2" | "lax" | "default" | "" => Some(SameSite::Lax),
            "3" | "strict" => Some(SameSite::Strict),
            "4" | "none" => Some(SameSite::None),
            _ => None,
        }
    }
}

/// Manager settings: beego's `session.ManagerConfig`, with its defaults.
///
/// Durations are in seconds, as in beego. Build it in code, from beego's
/// JSON ([`ManagerConfig::from_json`]), or from `app.conf` through
/// [`crate::config`].
///
/// # Examples
///
/// ```
/// use actix_bee::session::ManagerConfig;
///
/// let mut cfg = ManagerConfig::default();
/// assert_eq!(cfg.cookie_name, "beegosessionID");
/// cfg.cookie_name = "gosessionid".into();
/// cfg.cookie_life_time = 3600;
/// cfg.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ManagerConfig {
    /// Cookie name (`cookieName`); also the query parameter name.
    pub cookie_name: String,
    /// Emit `Set-Cookie` on create, regenerate and destroy (`enableSetCookie`).
    pub enable_set_cookie: bool,
    /// Seconds between GC runs (`gclifetime`); must be positive.
    pub gc_lifetime: i64,
    /// Idle lifetime in seconds (`maxLifetime`); 0 means `gc_lifetime`.
    pub max_lifetime: i64,
    /// Absolute lifetime in seconds from creation; 0 turns it off.
    pub absolute_lifetime: i64,
    /// Drop `HttpOnly` from the cookie (`disableHTTPOnly`).
    pub disable_http_only: bool,
    /// Always mark the cookie `Secure` (`secure`).
    pub secure: bool,
    /// Trust `X-Forwarded-Proto: https` from the proxy in front to set `Secure`.
    pub trust_proxy: bool,
    /// Cookie `Max-Age` in seconds (`cookieLifeTime`); 0 is a browser-session cookie.
    pub cookie_life_time: i64,
    /// The engine's own configuration string (`providerConfig`).
    pub provider_config: String,
    /// Cookie `Domain` (`domain`); empty for none.
    pub domain: String,
    /// Random bytes per id (`sessionIDLength`), at least 16.
    pub session_id_length: usize,
    /// Also read the id from a request header (`EnableSidInHTTPHeader`).
    pub enable_sid_in_http_header: bool,
    /// That header's name (`SessionNameInHTTPHeader`).
    pub session_name_in_http_header: String,
    /// Also read the id from the URL query (`EnableSidInURLQuery`).
    pub enable_sid_in_url_query: bool,
    /// Prefix of every minted id (`sessionIDPrefix`).
    pub session_id_prefix: String,
    /// Cookie `SameSite` (`cookieSameSite`).
    pub cookie_same_site: SameSite,
    /// How ids are derived (`sessionIDHashFunc`): `sha1` (default) or `none`.
    pub session_id_hash_func: HashFunc,
    /// HMAC key for the `sha1` id function (`sessionIDHashKey`).
    pub session_id_hash_key: String,
    /// How sessions are stored (`storeFormat`, app.conf
    /// `sessionstoreformat`): [`Format::Native`] (default) or
    /// [`Format::Beego`], which shares the store with a beego app and needs
    /// beego's ids (`session_id_hash_func = none`: hex of
    /// `session_id_length` random bytes, as beego's `sessionIDLength`).
    pub store_format: Format,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            cookie_name: "beegosessionID".into(),
            enable_set_cookie: true,
            gc_lifetime: 3600,
            max_lifetime: 0,
            absolute_lifetime: 86_400,
            disable_http_only: false,
            secure: false,
            trust_proxy: false,
            cookie_life_time: 0,
            provider_config: String::new(),
            domain: String::new(),
            session_id_length: 16,
            enable_sid_in_http_header: false,
            session_name_in_http_header: "Beegosessionid".into(),
            enable_sid_in_url_query: false,
            session_id_prefix: String::new(),
            cookie_same_site: SameSite::Lax,
            session_id_hash_func: HashFunc::Sha1,
            session_id_hash_key: String::new(),
            store_format: Format::Native,
        }
    }
}

/// Names used in beego's JSON, lower-cased (Go matches them case-insensitively).
const JSON_KEYS: &[&str] = &[
    "cookiename",
    "enablesetcookie",
    "gclifetime",
    "maxlifetime",
    "absolutelifetime",
    "disablehttponly",
    "secure",
    "trustproxy",
    "cookielifetime",
    "providerconfig",
    "domain",
    "sessionidlength",
    "enablesidinhttpheader",
    "sessionnameinhttpheader",
    "enablesidinurlquery",
    "sessionidprefix",
    "cookiesamesite",
    "sessionidhashfunc",
    "sessionidhashkey",
    "storeformat",
];

impl ManagerConfig {
    /// Parses beego's JSON config on top of the defaults.
    ///
    /// Unlike beego, keys that are missing keep their defaults.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for malformed JSON, unknown keys or values of the
    /// wrong type.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::ManagerConfig;
    ///
    /// let cfg = ManagerConfig::from_json(
    ///     r#"{"cookieName":"gosessionid","EnableSetCookie":true,"gclifetime":3600,
    ///         "maxLifetime":60,"cookieLifeTime":3600,"providerConfig":"./tmp"}"#,
    /// ).unwrap();
    /// assert_eq!(cfg.cookie_name, "gosessionid");
    /// assert_eq!(cfg.max_lifetime, 60);
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let mut cfg = ManagerConfig::default();
        cfg.merge_json(json)
            .map_err(|e| Error::config(CORE, format!("session config JSON: {e}")))?;
        Ok(cfg)
    }

    /// Applies the keys present in beego's JSON config to `self`.
    ///
    /// # Errors
    ///
    /// A `serde_json::Error` naming the offending key.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cfg = actix_bee::session::ManagerConfig::default();
    /// cfg.merge_json(r#"{"COOKIENAME":"x","cookieSameSite":3}"#).unwrap();
    /// assert_eq!(cfg.cookie_name, "x");
    /// assert!(cfg.merge_json(r#"{"gclifetime":"soon"}"#).is_err());
    /// ```
    pub fn merge_json(&mut self, json: &str) -> std::result::Result<(), serde_json::Error> {
        use serde::de::Error as _;
        let map: serde_json::Map<String, Value> = serde_json::from_str(json)?;
        for (key, value) in map {
            let lower = key.to_ascii_lowercase();
            let bad = |what: &str| serde_json::Error::custom(format!("{key}: expected {what}"));
            let as_bool = |v: &Value| v.as_bool().ok_or_else(|| bad("a boolean"));
            let as_int = |v: &Value| v.as_i64().ok_or_else(|| bad("an integer"));
            let as_str = |v: &Value| v.as_str().map(str::to_owned).ok_or_else(|| bad("a string"));
            match lower.as_str() {
                "cookiename" => self.cookie_name = as_str(&value)?,
                "enablesetcookie" => self.enable_set_cookie = as_bool(&value)?,
                "gclifetime" => self.gc_lifetime = as_int(&value)?,
                "maxlifetime" => self.max_lifetime = as_int(&value)?,
                "absolutelifetime" => self.absolute_lifetime = as_int(&value)?,
                "disablehttponly" => self.disable_http_only = as_bool(&value)?,
                "secure" => self.secure = as_bool(&value)?,
                "trustproxy" => self.trust_proxy = as_bool(&value)?,
                "cookielifetime" => self.cookie_life_time = as_int(&value)?,
                "providerconfig" => {
                    // Engines take JSON too; accept an embedded object as its text.
                    self.provider_config = match &value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }
                }
                "domain" => self.domain = as_str(&value)?,
                "sessionidlength" => {
                    self.session_id_length =
                        usize::try_from(as_int(&value)?).map_err(|_| bad("a positive integer"))?
                }
                "enablesidinhttpheader" => self.enable_sid_in_http_header = as_bool(&value)?,
                "sessionnameinhttpheader" => self.session_name_in_http_header = as_str(&value)?,
                "enablesidinurlquery" => self.enable_sid_in_url_query = as_bool(&value)?,
                "sessionidprefix" => self.session_id_prefix = as_str(&value)?,
                "cookiesamesite" => {
                    let text = match &value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    self.cookie_same_site = SameSite::from_beego(&text)
                        .ok_or_else(|| bad("0-4, lax, strict or none"))?
                }
                "sessionidhashfunc" => {
                    self.session_id_hash_func = as_str(&value)?
                        .parse()
                        .map_err(|e: String| serde_json::Error::custom(e))?
                }
                "sessionidhashkey" => self.session_id_hash_key = as_str(&value)?,
                "storeformat" | "sessionstoreformat" => {
                    self.store_format = as_str(&value)?
                        .parse()
                        .map_err(|e: String| serde_json::Error::custom(e))?
                }
                _ => {
                    return Err(serde_json::Error::custom(format!(
                        "unknown session config key {key:?} (known: {})",
                        JSON_KEYS.join(", ")
                    )))
                }
            }
        }
        Ok(())
    }

    /// The idle lifetime actually used (`max_lifetime`, or `gc_lifetime` when 0).
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = actix_bee::session::ManagerConfig::default();
    /// assert_eq!(cfg.idle_lifetime().as_secs(), 3600);
    /// ```
    pub fn idle_lifetime(&self) -> Duration {
        let secs = if self.max_lifetime > 0 {
            self.max_lifetime
        } else {
            self.gc_lifetime
        };
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    }

    /// Idle and absolute lifetimes.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = actix_bee::session::ManagerConfig::default();
    /// assert_eq!(cfg.lifetimes().absolute.unwrap().as_secs(), 86_400);
    /// ```
    pub fn lifetimes(&self) -> Lifetimes {
        let absolute = u64::try_from(self.absolute_lifetime)
            .ok()
            // beego's format stores no creation time.
            .filter(|s| *s > 0 && self.store_format == Format::Native)
            .map(Duration::from_secs);
        Lifetimes::new(self.idle_lifetime(), absolute)
    }

    /// True when the cookie must carry `Secure` whatever the request says:
    /// configured, or forced by a `__Host-`/`__Secure-` name.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cfg = actix_bee::session::ManagerConfig::default();
    /// cfg.cookie_name = "__Host-sid".into();
    /// assert!(cfg.always_secure());
    /// ```
    pub fn always_secure(&self) -> bool {
        let lower = self.cookie_name.to_ascii_lowercase();
        self.secure || lower.starts_with("__host-") || lower.starts_with("__secure-")
    }

    /// The id generator these settings describe.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an id length below 16 bytes or a bad prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// let ids = actix_bee::session::ManagerConfig::default().id_generator().unwrap();
    /// assert_eq!(ids.id_len(), 40);
    /// ```
    pub fn id_generator(&self) -> Result<IdGenerator> {
        IdGenerator::new(
            &self.session_id_prefix,
            self.session_id_hash_func,
            self.session_id_hash_key.as_bytes(),
            self.session_id_length,
        )
    }

    /// Checks the settings; [`Manager::new`](super::Manager::new) calls it.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the setting: a zero GC period (beego
    /// busy-loops on it), a cookie name that is not an RFC 6265 token, a
    /// domain with `;`, `,` or whitespace, `SameSite=None` without `Secure`,
    /// a `__Host-` name with a domain, a header name that is not canonical,
    /// an id length below 16 bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cfg = actix_bee::session::ManagerConfig::default();
    /// cfg.domain = "example.com; SameSite=None".into();
    /// assert!(cfg.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::config(CORE, msg));
        if self.gc_lifetime <= 0 {
            return bad(format!(
                "gclifetime (sessiongcmaxlifetime) must be positive, not {}",
                self.gc_lifetime
            ));
        }
        if self.max_lifetime < 0 || self.absolute_lifetime < 0 || self.cookie_life_time < 0 {
            return bad("lifetimes must not be negative".into());
        }
        // Keeps Max-Age far away from integer overflow in cookie handling.
        const TEN_YEARS: i64 = 10 * 366 * 86_400;
        if [
            self.gc_lifetime,
            self.max_lifetime,
            self.absolute_lifetime,
            self.cookie_life_time,
        ]
        .iter()
        .any(|v| *v > TEN_YEARS)
        {
            return bad("lifetimes must be at most ten years".into());
        }
        if !is_token(&self.cookie_name) {
            return bad(format!(
                "cookie name {:?} is not an RFC 6265 token",
                self.cookie_name
            ));
        }
        if self
            .domain
            .bytes()
            .any(|b| b == b';' || b == b',' || b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return bad("cookie domain must not contain ';', ',', whitespace or controls".into());
        }
        let lower = self.cookie_name.to_ascii_lowercase();
        if lower.starts_with("__host-") && !self.domain.is_empty() {
            return bad("a __Host- cookie must not have a Domain".into());
        }
        if self.cookie_same_site == SameSite::None && !self.always_secure() {
            return bad("SameSite=None needs secure = true (browsers drop the cookie)".into());
        }
        if self.enable_sid_in_http_header && !is_canonical_header(&self.session_name_in_http_header)
        {
            return bad(format!(
                "session header name {:?} must be in canonical form, like Beegosessionid",
                self.session_name_in_http_header
            ));
        }
        // Any length works: beego's ids are hex of `sessionIDLength` random
        // bytes, and so are ours with hash function none.
        if self.store_format == Format::Beego && self.session_id_hash_func != HashFunc::None {
            return bad(
                "sessionstoreformat = beego needs beego's ids: set sessionhashfunc = none \
                 (sessionIDHashFunc in sessionconfig JSON)"
                    .into(),
            );
        }
        self.id_generator()?;
        Ok(())
    }

    /// Logs what is allowed but weakens security; called once at start-up.
    pub(crate) fn warn_about_weak_settings(&self) {
        if self.disable_http_only {
            tracing::warn!("session cookie HttpOnly is disabled: scripts can read the session id");
        }
        if self.enable_sid_in_url_query {
            tracing::warn!(
                "session ids are accepted from the URL query: they leak through logs and Referer"
            );
        }
        if self.enable_sid_in_http_header {
            tracing::warn!(
                "session ids are accepted from the {} header",
                self.session_name_in_http_header
            );
        }
        if self.cookie_life_time > self.idle_lifetime().as_secs() as i64 {
            tracing::warn!(
                "sessioncookielifetime ({}) is longer than the session lifetime ({}): the cookie outlives the session",
                self.cookie_life_time,
                self.idle_lifetime().as_secs()
            );
        }
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// Go's `textproto.CanonicalMIMEHeaderKey` shape: `Beegosessionid`, `X-Session-Id`.
fn is_canonical_header(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_beego_panics_or_spins_on() {
        let mut c = ManagerConfig::default();
        c.gc_lifetime = 0;
        assert!(c.validate().is_err());
        let mut c = ManagerConfig::default();
        c.enable_sid_in_http_header = true;
        c.session_name_in_http_header = "beegosessionid".into();
        assert!(c.validate().is_err());
        c.session_name_in_http_header = "X-Session-Id".into();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn cookie_attributes_are_checked() {
        for (name, domain, same_site, secure, ok) in [
            ("sid", "", SameSite::Lax, false, true),
            ("s id", "", SameSite::Lax, false, false),
            ("sid;x", "", SameSite::Lax, false, false),
            ("sid", "a.com;b", SameSite::Lax, false, false),
            ("sid", "", SameSite::None, false, false),
            ("sid", "", SameSite::None, true, true),
            ("__Host-sid", "example.com", SameSite::Lax, true, false),
            ("__host-sid", "", SameSite::None, false, true),
        ] {
            let mut c = ManagerConfig::default();
            c.cookie_name = name.into();
            c.domain = domain.into();
            c.cookie_same_site = same_site;
            c.secure = secure;
            assert_eq!(c.validate().is_ok(), ok, "{name} {domain} {same_site:?}");
        }
    }

    #[test]
    fn short_ids_are_refused() {
        let mut c = ManagerConfig::default();
        c.session_id_length = 8;
        assert!(c.validate().is_err());
    }
}
