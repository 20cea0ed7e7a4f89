//! What one request exchanges with the session core: the id candidates the
//! web layer found ([`RequestIds`]) going in, the cookie and headers to add
//! to the response ([`ResponseParts`]) coming out.
//!
//! A leaf: the manager and the session handle both speak these types, and
//! neither has to know the other to name them.

use super::manager_config::SameSite;

/// Where a request carried its session id.
///
/// # Examples
///
/// ```
/// assert_eq!(actix_bee::session::IdSource::default(), actix_bee::session::IdSource::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IdSource {
    /// No id came in.
    #[default]
    None,
    /// The session cookie.
    Cookie,
    /// The URL query (opt-in).
    Query,
    /// A request header (opt-in).
    Header,
}

/// The id candidates of one request, as the web layer found them.
///
/// # Examples
///
/// ```
/// use actix_bee::session::RequestIds;
///
/// let ids = RequestIds { cookie: Some("abc"), ..Default::default() };
/// assert!(ids.query.is_none() && !ids.https);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIds<'a> {
    /// The session cookie's value.
    pub cookie: Option<&'a str>,
    /// The query parameter named like the cookie (only read when enabled).
    pub query: Option<&'a str>,
    /// The session header (only read when enabled).
    pub header: Option<&'a str>,
    /// True when the request arrived over TLS (directly, or through a
    /// trusted proxy), so the cookie gets `Secure`.
    pub https: bool,
}

/// A cookie for the web layer to send.
///
/// # Examples
///
/// ```
/// use actix_bee::session::{CookieSpec, SameSite};
///
/// let c = CookieSpec { name: "sid".into(), value: "v".into(), path: "/", domain: None,
///     max_age: None, http_only: true, secure: false, same_site: SameSite::Lax };
/// assert!(!c.is_removal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSpec {
    /// Cookie name.
    pub name: String,
    /// Cookie value; empty for a removal cookie.
    pub value: String,
    /// Always `/`, as beego.
    pub path: &'static str,
    /// `Domain`, when configured.
    pub domain: Option<String>,
    /// `Max-Age` in seconds (with a matching `Expires`); `Some(0)` removes.
    pub max_age: Option<i64>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Secure`.
    pub secure: bool,
    /// `SameSite`.
    pub same_site: SameSite,
}

impl CookieSpec {
    /// True for the deletion cookie.
    ///
    /// # Examples
    ///
    /// See [`CookieSpec`].
    pub fn is_removal(&self) -> bool {
        self.max_age == Some(0)
    }
}

/// What the web layer must add to the response of a request.
///
/// # Examples
///
/// ```
/// let parts = actix_bee::session::ResponseParts::default();
/// assert!(parts.cookie.is_none() && !parts.no_store);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseParts {
    /// A session cookie to set or remove.
    pub cookie: Option<CookieSpec>,
    /// A header carrying a new id (header mode): name and value.
    pub header: Option<(String, String)>,
    /// Add `Cache-Control: no-store` (the response hands out or removes an id).
    pub no_store: bool,
    /// Add `Referrer-Policy: no-referrer` (the id came in the URL).
    pub no_referrer: bool,
}
