//! XSRF protection the beego way (`enablexsrf`, `xsrfkey`, `xsrfexpire`),
//! sharing its cookie with a live beego app.
//!
//! The token is 32 random letters and digits kept in beego's `_xsrf`
//! [secure cookie](super::secure_cookie), so a token minted by either app
//! is accepted by the other when both have the same `xsrfkey`. A form
//! sends it back as the `_xsrf` field (body or URL query) or in an
//! `X-Xsrftoken` / `X-Csrftoken` header. POST, PUT, DELETE and PATCH are
//! checked: no token answers beego's 422, a token that is not the
//! cookie's answers beego's 417.
//!
//! Where this differs from beego, on purpose:
//! - **`Secure` only over HTTPS.** beego always marks `_xsrf` `Secure`, so
//!   over plain HTTP the browser drops it and every form fails. Here it is
//!   `Secure` when the request came over HTTPS (or `X-Forwarded-Proto:
//!   https` from a trusted proxy, `sessiontrustproxy`), or always when
//!   `enablehttps` or `sessionsecure` is on; always `HttpOnly` and
//!   `SameSite=Lax`.
//! - **No public default key.** beego's default `xsrfkey` is the public
//!   string `beegoxsrf`: with it anyone can sign a cookie. An empty key is
//!   refused at start-up; the default or a key shorter than 32 bytes is
//!   refused outside `runmode = dev` and warned about in dev.
//! - **PATCH is checked** (beego leaves it open).
//! - **Expired cookies are replaced.** With `xsrfexpire` set, a cookie
//!   signed longer ago is not trusted (beego only asks the browser to
//!   drop it).
//! - **Constant time.** The signature and the token are compared in
//!   constant time (beego compares strings).
//! - **Minted when needed.** The cookie is set when a page or a check
//!   needs the token, not on every request.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::cookie::time::{Duration, OffsetDateTime};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use rand::distr::{Alphanumeric, SampleString};
use subtle::ConstantTimeEq;

use super::secure_cookie::SecureCookieKey;
use super::transport::{cookie_value, forwarded_https};
use crate::config::BConfig;

/// beego's XSRF cookie name.
pub const XSRF_COOKIE: &str = "_xsrf";
/// The form field (body or query) that carries the token.
pub const XSRF_FIELD: &str = "_xsrf";
/// The headers that carry the token, in the order beego reads them.
const XSRF_HEADERS: [&str; 2] = ["x-xsrftoken", "x-csrftoken"];
/// beego's default `xsrfkey`: public, so anyone can sign with it.
const BEEGO_DEFAULT_KEY: &str = "beegoxsrf";
/// The shortest `xsrfkey` accepted outside dev: 256 bits for HMAC-SHA256.
pub const MIN_KEY_LEN: usize = 32;
/// Length of a minted token, as beego's `RandomCreateBytes(32)`.
const TOKEN_LEN: usize = 32;
/// Longest token trusted from a verified cookie (beego's are 32).
const MAX_TOKEN_LEN: usize = 128;

/// Why an `xsrfkey` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XsrfKeyError {
    /// The key is empty.
    #[error("xsrfkey is empty: set it to at least {MIN_KEY_LEN} random bytes (the same in every app that shares the _xsrf cookie)")]
    Empty,
    /// beego's public default key, outside dev.
    #[error("xsrfkey is beego's public default \"beegoxsrf\": anyone can sign an _xsrf cookie with it; set your own of at least {MIN_KEY_LEN} random bytes (allowed only with runmode = dev)")]
    PublicDefault,
    /// A key shorter than [`MIN_KEY_LEN`] bytes, outside dev.
    #[error("xsrfkey is {len} bytes: use at least {MIN_KEY_LEN} random bytes (shorter keys are allowed only with runmode = dev)")]
    Short {
        /// The key's length in bytes.
        len: usize,
    },
}

/// The XSRF settings of an app: the key, the cookie's lifetime and when
/// it is `Secure`.
///
/// # Examples
///
/// ```
/// use actix_bee::web::XsrfConfig;
///
/// let xsrf = XsrfConfig::new(b"a key of at least thirty-two bytes!!")
///     .unwrap()
///     .expire(3600);
/// assert_eq!(xsrf.expire_secs(), 3600);
/// assert!(XsrfConfig::new(b"short").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct XsrfConfig {
    key: SecureCookieKey,
    expire: i64,
    always_secure: bool,
    trust_proxy: bool,
}

impl XsrfConfig {
    /// Settings signing with `key` (at least [`MIN_KEY_LEN`] bytes, not
    /// beego's public default), a browser-session cookie, `Secure` over
    /// HTTPS only.
    ///
    /// # Errors
    ///
    /// [`XsrfKeyError`] for an empty, default or short key.
    pub fn new(key: &[u8]) -> Result<XsrfConfig, XsrfKeyError> {
        check_key(key, false)?;
        Self::with_key(key)
    }

    fn with_key(key: &[u8]) -> Result<XsrfConfig, XsrfKeyError> {
        Ok(XsrfConfig {
            key: SecureCookieKey::new(key).ok_or(XsrfKeyError::Empty)?,
            expire: 0,
            always_secure: false,
            trust_proxy: false,
        })
    }

    /// The settings of `config`: `None` when `enablexsrf` is off. In dev
    /// (`runmode = dev`) the default or a short key is allowed with a
    /// warning.
    ///
    /// # Errors
    ///
    /// [`XsrfKeyError`] for an empty key, or a default or short one
    /// outside dev.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::BConfig;
    /// use actix_bee::web::{XsrfConfig, XsrfKeyError};
    ///
    /// let mut config = BConfig::default();
    /// assert!(XsrfConfig::from_bconfig(&config).unwrap().is_none());
    /// config.web_config.enable_xsrf = true;
    /// // beego's default key, in prod: refused.
    /// let err = XsrfConfig::from_bconfig(&config).unwrap_err();
    /// assert_eq!(err, XsrfKeyError::PublicDefault);
    /// config.run_mode = "dev".into();
    /// assert!(XsrfConfig::from_bconfig(&config).unwrap().is_some());
    /// ```
    pub fn from_bconfig(config: &BConfig) -> Result<Option<XsrfConfig>, XsrfKeyError> {
        let web = &config.web_config;
        if !web.enable_xsrf {
            return Ok(None);
        }
        let key = web.xsrf_key.as_bytes();
        check_key(key, config.run_mode == "dev")?;
        let session = &web.session;
        Ok(Some(XsrfConfig {
            expire: web.xsrf_expire.max(0),
            always_secure: config.listen.enable_https || session.session_secure,
            trust_proxy: session.session_trust_proxy,
            ..Self::with_key(key)?
        }))
    }

    /// The `_xsrf` cookie lives `secs` seconds (beego's `xsrfexpire`; 0, the
    /// default, for a browser-session cookie). Older cookies are replaced.
    pub fn expire(mut self, secs: i64) -> XsrfConfig {
        self.expire = secs.max(0);
        self
    }

    /// The cookie's lifetime in seconds, 0 for a browser-session cookie.
    pub fn expire_secs(&self) -> i64 {
        self.expire
    }

    /// Marks the cookie `Secure` on every request, not only over HTTPS.
    pub fn always_secure(mut self, on: bool) -> XsrfConfig {
        self.always_secure = on;
        self
    }

    /// Trusts `X-Forwarded-Proto: https` from the proxy in front to mark the
    /// cookie `Secure`.
    pub fn trust_proxy(mut self, on: bool) -> XsrfConfig {
        self.trust_proxy = on;
        self
    }

    /// This request's token: the `_xsrf` cookie's when it verifies and has
    /// not expired, else a new one with the cookie that carries it.
    /// `expire` overrides the configured lifetime when positive (beego's
    /// controller `XSRFExpire`).
    pub(crate) fn token_for(&self, req: &HttpRequest, expire: i64) -> XsrfToken {
        let expire = if expire > 0 { expire } else { self.expire };
        let now = now_nanos();
        let kept = cookie_value(req, XSRF_COOKIE)
            .and_then(|raw| self.key.open(raw))
            .filter(|opened| {
                let age_secs = now.saturating_sub(opened.signed_at_nanos) / 1_000_000_000;
                expire == 0 || age_secs <= expire
            })
            .filter(|opened| plausible_token(&opened.value));
        if let Some(opened) = kept {
            return XsrfToken {
                token: opened.value,
                set_cookie: None,
            };
        }
        let token = Alphanumeric.sample_string(&mut rand::rng(), TOKEN_LEN);
        let secure = self.always_secure
            || req.app_config().secure()
            || (self.trust_proxy && forwarded_https(req));
        let mut cookie = Cookie::new(XSRF_COOKIE, self.key.sign(&token, now));
        cookie.set_path("/");
        cookie.set_http_only(true);
        cookie.set_secure(secure);
        cookie.set_same_site(SameSite::Lax);
        if expire > 0 {
            let age = Duration::seconds(expire);
            cookie.set_max_age(age);
            let now = OffsetDateTime::now_utc();
            cookie.set_expires(now.checked_add(age).unwrap_or(now));
        }
        XsrfToken {
            token,
            set_cookie: Some(cookie.to_string()),
        }
    }
}

/// Refuses keys nobody should sign with; `dev` lets the default and short
/// keys through with a warning.
fn check_key(key: &[u8], dev: bool) -> Result<(), XsrfKeyError> {
    let refused = if key.is_empty() {
        return Err(XsrfKeyError::Empty);
    } else if key == BEEGO_DEFAULT_KEY.as_bytes() {
        XsrfKeyError::PublicDefault
    } else if key.len() < MIN_KEY_LEN {
        XsrfKeyError::Short { len: key.len() }
    } else {
        return Ok(());
    };
    if !dev {
        return Err(refused);
    }
    tracing::warn!("{refused}; accepted because runmode = dev");
    Ok(())
}

/// A token as beego mints them (letters and digits), bounded: anything
/// else in a verified cookie was not minted by an app and is replaced.
fn plausible_token(token: &str) -> bool {
    (1..=MAX_TOKEN_LEN).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// One request's XSRF token, and the `Set-Cookie` value when it was minted
/// for this request.
#[derive(Debug, Clone)]
pub(crate) struct XsrfToken {
    pub token: String,
    pub set_cookie: Option<String>,
}

impl XsrfToken {
    /// beego's `XSRFFormHTML`: the hidden form field carrying the token.
    pub(crate) fn form_html(&self) -> String {
        form_html(&self.token)
    }
}

/// `<input type="hidden" name="_xsrf" value="TOKEN" />`; the token holds
/// only letters and digits, so it needs no escaping.
pub(crate) fn form_html(token: &str) -> String {
    format!(r#"<input type="hidden" name="{XSRF_FIELD}" value="{token}" />"#)
}

/// True for the methods beego checks (POST, PUT, DELETE, which covers a
/// POST with `_method=PUT|DELETE`), and PATCH.
pub(crate) fn is_checked(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    )
}

/// The token a request sends back: `field` (the `_xsrf` form or query
/// value, looked up by the caller), else the `X-Xsrftoken` header, else
/// `X-Csrftoken`. Empty values count as absent, as in beego.
pub(crate) fn sent_token<'a>(req: &'a HttpRequest, field: Option<&'a str>) -> Option<&'a str> {
    field.filter(|v| !v.is_empty()).or_else(|| {
        XSRF_HEADERS.iter().find_map(|name| {
            req.headers()
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        })
    })
}

/// Why a request failed the XSRF check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum XsrfRejection {
    /// No token was sent: beego's 422.
    Missing,
    /// The token sent is not the cookie's: beego's 417.
    Mismatch,
}

impl XsrfRejection {
    /// beego's answer: 422 or 417 with beego's reason, as plain text.
    pub(crate) fn response(self) -> HttpResponse {
        let (status, reason) = match self {
            XsrfRejection::Missing => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "'_xsrf' argument missing from POST",
            ),
            XsrfRejection::Mismatch => (StatusCode::EXPECTATION_FAILED, "expected XSRF not found"),
        };
        tracing::debug!(status = status.as_u16(), "xsrf: {reason}");
        HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(format!("{status}: {reason}\n"))
    }
}

/// beego's `CheckXSRFCookie`: `sent` must be `expected`, compared in
/// constant time.
pub(crate) fn check(sent: Option<&str>, expected: &str) -> Result<(), XsrfRejection> {
    let sent = sent.ok_or(XsrfRejection::Missing)?;
    if bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(XsrfRejection::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn keys_nobody_should_sign_with_are_refused_outside_dev() {
        assert_eq!(check_key(b"", false), Err(XsrfKeyError::Empty));
        assert_eq!(check_key(b"", true), Err(XsrfKeyError::Empty));
        assert_eq!(
            check_key(b"beegoxsrf", false),
            Err(XsrfKeyError::PublicDefault)
        );
        assert_eq!(check_key(b"beegoxsrf", true), Ok(()));
        assert_eq!(
            check_key(b"61oETzKXQAGaYdkL5gEm", false),
            Err(XsrfKeyError::Short { len: 20 })
        );
        assert_eq!(check_key(KEY, false), Ok(()));
    }

    #[test]
    fn a_verified_cookie_keeps_its_token_and_anything_else_is_replaced() {
        let xsrf = XsrfConfig::new(KEY).unwrap();
        let first = xsrf.token_for(&TestRequest::get().to_http_request(), 0);
        assert_eq!(first.token.len(), 32);
        assert!(plausible_token(&first.token));
        let set = first.set_cookie.clone().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("Path=/"), "{set}");
        assert!(!set.contains("Secure"), "plain HTTP: {set}");
        let value = set
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("_xsrf=")
            .unwrap();
        let req = TestRequest::get()
            .insert_header(("cookie", format!("_xsrf={value}")))
            .to_http_request();
        let again = xsrf.token_for(&req, 0);
        assert_eq!(again.token, first.token);
        assert!(again.set_cookie.is_none());
        let other = XsrfConfig::new(b"ANOTHER KEY 0123456789abcdef0123")
            .unwrap()
            .token_for(&req, 0);
        assert_ne!(other.token, first.token, "another key must not trust it");
        assert!(other.set_cookie.is_some());
    }

    #[test]
    fn an_expired_cookie_is_replaced() {
        let xsrf = XsrfConfig::new(KEY).unwrap().expire(60);
        let old = xsrf.key.sign("abc", now_nanos() - 120 * 1_000_000_000);
        let req = TestRequest::get()
            .insert_header(("cookie", format!("_xsrf={old}")))
            .to_http_request();
        let token = xsrf.token_for(&req, 0);
        assert_ne!(token.token, "abc");
        let set = token.set_cookie.unwrap();
        assert!(set.contains("Max-Age=60"), "{set}");
        // A controller's own, longer, lifetime keeps it.
        assert_eq!(xsrf.token_for(&req, 600).token, "abc");
    }

    #[test]
    fn a_verified_token_that_beego_would_not_mint_is_replaced() {
        let xsrf = XsrfConfig::new(KEY).unwrap();
        for odd in ["", "a\"b", "<script>", &"a".repeat(200)] {
            let signed = xsrf.key.sign(odd, now_nanos());
            let req = TestRequest::get()
                .insert_header(("cookie", format!("_xsrf={signed}")))
                .to_http_request();
            assert_ne!(xsrf.token_for(&req, 0).token, odd);
        }
    }

    #[test]
    fn checks_compare_the_token() {
        assert_eq!(check(None, "abc"), Err(XsrfRejection::Missing));
        assert_eq!(check(Some("abd"), "abc"), Err(XsrfRejection::Mismatch));
        assert_eq!(check(Some("ab"), "abc"), Err(XsrfRejection::Mismatch));
        assert_eq!(check(Some("abc"), "abc"), Ok(()));
        assert_eq!(XsrfRejection::Missing.response().status().as_u16(), 422);
        assert_eq!(XsrfRejection::Mismatch.response().status().as_u16(), 417);
    }

    #[test]
    fn the_token_comes_from_the_field_then_the_headers() {
        let req = TestRequest::post()
            .insert_header(("X-Csrftoken", "c"))
            .insert_header(("X-Xsrftoken", "x"))
            .to_http_request();
        assert_eq!(sent_token(&req, Some("f")), Some("f"));
        assert_eq!(sent_token(&req, Some("")), Some("x"));
        assert_eq!(sent_token(&req, None), Some("x"));
        let req = TestRequest::post()
            .insert_header(("X-Csrftoken", "c"))
            .to_http_request();
        assert_eq!(sent_token(&req, None), Some("c"));
        assert_eq!(
            sent_token(&TestRequest::post().to_http_request(), None),
            None
        );
    }
}
