//! Binding [`SessionConfig`] onto the session core's `ManagerConfig`.
//!
//! This mirrors beego's `registerSession` hook (`server/web/hooks.go`) and the
//! defaults `session.NewManager` fills in, with the fixes listed on
//! [`SessionConfig::manager_config`].

use std::str::FromStr;

use crate::session::engine::Format;
use crate::session::{HashFunc, ManagerConfig, SameSite};

use super::bconfig::{BConfig, Listen, SessionConfig};
use super::error::Error;

/// beego's `NewManager` turns a zero id length into this many random bytes.
const DEFAULT_ID_LENGTH: usize = 16;

impl SessionConfig {
    /// The session core's settings for these session keys and `listen`.
    ///
    /// Mapping (app.conf key → `ManagerConfig` field): `sessionname` →
    /// `cookie_name`, `sessionautosetcookie` → `enable_set_cookie`,
    /// `sessiongcmaxlifetime` → `gc_lifetime`, `sessionmaxlifetime` →
    /// `max_lifetime` (0 means the GC lifetime), `sessionproviderconfig` →
    /// `provider_config` (with `/` separators), and so on for the other keys.
    ///
    /// When `sessionconfig` holds beego's JSON `ManagerConfig`, that JSON
    /// replaces the keys it maps, as in beego; unlike beego, keys missing from
    /// the JSON keep their defaults instead of becoming zero. This crate's
    /// additions without a beego JSON key (`sessionabsolutelifetime`,
    /// `sessiontrustproxy`, `sessionhashfunc`, `sessionhashkey`) apply in both cases.
    ///
    /// `secure` is on when `sessionsecure` or `enablehttps` is on (or the JSON
    /// says so): configuration can turn it on but never off.
    /// `sessioncookiesamesite` `0` and `1` (beego's "no attribute") become
    /// `Lax`, the safe default browsers apply anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::BConfig;
    ///
    /// let mut cfg = BConfig::default();
    /// cfg.listen.enable_https = true;
    /// cfg.web_config.session.session_config = r#"{"cookieName":"sid","gclifetime":60}"#.into();
    /// let m = cfg.web_config.session.manager_config(&cfg.listen)?;
    /// assert_eq!((m.cookie_name.as_str(), m.gc_lifetime, m.max_lifetime), ("sid", 60, 60));
    /// assert!(m.secure && m.enable_set_cookie);
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::SessionConfigJson`] when `sessionconfig` is not valid JSON for
    /// a `ManagerConfig`; [`Error::InvalidValue`] for an unknown SameSite or
    /// hash function name, a GC lifetime that is not positive (beego's GC then
    /// spins), a negative lifetime, or an empty or non-canonical header name
    /// while header ids are on (beego panics there).
    // Field by field on purpose: the core's ManagerConfig is `#[non_exhaustive]` and
    // grows; only `default()` and its pub fields are its stable surface.
    #[allow(clippy::field_reassign_with_default)]
    pub fn manager_config(&self, listen: &Listen) -> Result<ManagerConfig, Error> {
        let mut m = ManagerConfig::default();
        m.absolute_lifetime = self.session_absolute_lifetime;
        m.trust_proxy = self.session_trust_proxy;
        m.session_id_hash_func = parse_hash_func(&self.session_hash_func)
            .map_err(|reason| invalid("sessionhashfunc", &self.session_hash_func, reason))?;
        m.session_id_hash_key = self.session_hash_key.clone();
        m.store_format = parse_store_format(&self.session_store_format)
            .map_err(|reason| invalid("sessionstoreformat", &self.session_store_format, reason))?;

        let json = self.session_config.trim();
        let from_json = !json.is_empty();
        if from_json {
            // beego's default for a missing maxLifetime is "same as gclifetime", restored below.
            m.max_lifetime = 0;
            m.merge_json(json).map_err(Error::SessionConfigJson)?;
        } else {
            m.cookie_name = self.session_name.clone();
            m.enable_set_cookie = self.session_auto_set_cookie;
            m.gc_lifetime = self.session_gc_max_lifetime;
            m.max_lifetime = self.session_max_lifetime;
            m.disable_http_only = self.session_disable_http_only;
            m.cookie_life_time = self.session_cookie_lifetime;
            m.provider_config = to_slash(&self.session_provider_config);
            m.domain = self.session_domain.clone();
            m.session_id_length = self.session_id_length;
            m.enable_sid_in_http_header = self.session_enable_sid_in_http_header;
            m.session_name_in_http_header = self.session_name_in_http_header.clone();
            m.enable_sid_in_url_query = self.session_enable_sid_in_url_query;
            m.session_id_prefix = self.session_id_prefix.clone();
            m.cookie_same_site = parse_same_site(&self.session_cookie_same_site)
                .map_err(|r| invalid("sessioncookiesamesite", &self.session_cookie_same_site, r))?;
        }

        m.secure = m.secure || self.session_secure || listen.enable_https;
        if m.max_lifetime == 0 {
            m.max_lifetime = m.gc_lifetime;
        }
        if m.session_id_length == 0 {
            m.session_id_length = DEFAULT_ID_LENGTH;
        }
        validate(&m, from_json)?;
        Ok(m)
    }
}

fn validate(m: &ManagerConfig, from_json: bool) -> Result<(), Error> {
    let key = |conf_key: &'static str, json_key: &'static str| {
        if from_json {
            json_key
        } else {
            conf_key
        }
    };
    if m.gc_lifetime <= 0 {
        return Err(invalid(
            key("sessiongcmaxlifetime", "sessionconfig.gclifetime"),
            &m.gc_lifetime.to_string(),
            "must be a positive number of seconds".into(),
        ));
    }
    if m.max_lifetime < 0 {
        return Err(invalid(
            key("sessionmaxlifetime", "sessionconfig.maxLifetime"),
            &m.max_lifetime.to_string(),
            "must not be negative".into(),
        ));
    }
    if m.absolute_lifetime < 0 {
        return Err(invalid(
            "sessionabsolutelifetime",
            &m.absolute_lifetime.to_string(),
            "must not be negative".into(),
        ));
    }
    // beego's ids are hex of sessionIDLength random bytes: any length
    // works, the hash function must be none.
    if m.store_format == Format::Beego && m.session_id_hash_func != HashFunc::None {
        return Err(invalid(
            key("sessionhashfunc", "sessionconfig.sessionIDHashFunc"),
            "sha1",
            "sessionstoreformat = beego needs beego's ids: set sessionhashfunc = none".into(),
        ));
    }
    if m.enable_sid_in_http_header {
        let name = &m.session_name_in_http_header;
        let canonical = canonical_header_key(name);
        if name.is_empty() || *name != canonical {
            return Err(invalid(
                key(
                    "sessionnameinhttpheader",
                    "sessionconfig.SessionNameInHTTPHeader",
                ),
                name,
                format!("must be a non-empty canonical header name, like {canonical:?}"),
            ));
        }
    }
    Ok(())
}

/// Reads `sessioncookiesamesite`: beego's integer or a name, case-insensitive.
pub(crate) fn parse_same_site(v: &str) -> Result<SameSite, String> {
    let v = v.trim().to_ascii_lowercase();
    // beego's 0 and 1 emit no attribute; browsers then treat the cookie as Lax, so say so.
    if v == "0" || v == "1" {
        return Ok(SameSite::Lax);
    }
    SameSite::from_beego(&v).ok_or_else(|| "expected 0-4, lax, strict or none".to_owned())
}

/// Reads `sessionstoreformat`.
pub(crate) fn parse_store_format(v: &str) -> Result<Format, String> {
    Format::from_str(v).map_err(|_| "expected native or beego".to_owned())
}

/// Reads `sessionhashfunc`.
pub(crate) fn parse_hash_func(v: &str) -> Result<HashFunc, String> {
    HashFunc::from_str(v.trim()).map_err(|_| "expected sha1 or none".to_owned())
}

fn invalid(key: &str, value: &str, reason: String) -> Error {
    Error::InvalidValue {
        key: key.to_owned(),
        value: value.to_owned(),
        origin: "session settings".to_owned(),
        reason,
    }
}

/// Go's `filepath.ToSlash`, as beego applies it to the provider config.
fn to_slash(s: &str) -> String {
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.to_owned()
    }
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: a name with a non-token byte is returned unchanged.
fn canonical_header_key(name: &str) -> String {
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.bytes().all(is_token) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

impl BConfig {
    /// The session core's settings for this configuration (session keys plus `enablehttps`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = actix_bee::config::BConfig::default();
    /// assert_eq!(cfg.session_manager_config()?.cookie_name, "beegosessionID");
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// See [`SessionConfig::manager_config`].
    pub fn session_manager_config(&self) -> Result<ManagerConfig, Error> {
        self.web_config.session.manager_config(&self.listen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_format_needs_beego_ids() {
        let listen = Listen::default();
        let mut s = SessionConfig::default();
        assert_eq!(
            s.manager_config(&listen).unwrap().store_format,
            Format::Native
        );
        s.session_store_format = "beego".into();
        let err = s.manager_config(&listen).unwrap_err().to_string();
        assert!(err.contains("sessionhashfunc"), "{err}");
        s.session_hash_func = "none".into();
        assert_eq!(
            s.manager_config(&listen).unwrap().store_format,
            Format::Beego
        );
        // beego's ids are hex of sessionIDLength bytes: any length it allows.
        s.session_id_length = 32;
        assert_eq!(s.manager_config(&listen).unwrap().session_id_length, 32);
        s.session_id_length = 16;
        s.session_config = r#"{"cookieName":"x","storeFormat":"native"}"#.into();
        assert_eq!(
            s.manager_config(&listen).unwrap().store_format,
            Format::Native
        );
        s.session_store_format = "gob".into();
        assert!(s.manager_config(&listen).is_err());
    }

    #[test]
    fn canonical_header_names() {
        assert_eq!(canonical_header_key("beegosessionid"), "Beegosessionid");
        assert_eq!(canonical_header_key("x-SESSION-id"), "X-Session-Id");
        assert_eq!(canonical_header_key("bad name"), "bad name");
    }

    #[test]
    fn same_site_words() {
        assert_eq!(parse_same_site("0"), Ok(SameSite::Lax));
        assert_eq!(parse_same_site(" Strict "), Ok(SameSite::Strict));
        assert!(parse_same_site("sometimes").is_err());
    }
}
