//! Where the id travels: reading it from a request, and turning the core's
//! [`CookieSpec`] into an actix-web cookie.

use actix_web::cookie::time::{Duration, OffsetDateTime};
use actix_web::cookie::{Cookie, SameSite as CookieSameSite};
use actix_web::http::header;
use actix_web::HttpRequest;

use crate::session::{CookieSpec, ManagerConfig, RequestIds, SameSite};

/// The id candidates of `req`: the cookie named `cookie_name`, the query
/// parameter of that name (only with `enable_sid_in_url_query`), the header
/// `session_name_in_http_header` (only with `enable_sid_in_http_header`),
/// and whether the request came over TLS (directly, or per
/// `X-Forwarded-Proto: https` when `trust_proxy` is on).
///
/// Names match byte for byte, with no percent-decoding, and the first
/// occurrence wins (security checklist item 7). Values are handed over raw:
/// the core validates them.
///
/// # Examples
///
/// ```
/// use actix_bee::session::ManagerConfig;
/// use actix_web::test::TestRequest;
///
/// let req = TestRequest::default()
///     .insert_header(("Cookie", "other=1; beegosessionID=abc; beegosessionID=def"))
///     .to_http_request();
/// let ids = actix_bee::web::request_ids(&req, &ManagerConfig::default());
/// assert_eq!(ids.cookie, Some("abc"));
/// assert!(!ids.https);
/// ```
pub fn request_ids<'a>(req: &'a HttpRequest, cfg: &ManagerConfig) -> RequestIds<'a> {
    let query = cfg
        .enable_sid_in_url_query
        .then(|| query_value(req.query_string(), &cfg.cookie_name))
        .flatten();
    let header = cfg
        .enable_sid_in_http_header
        .then(|| {
            req.headers()
                .get(cfg.session_name_in_http_header.as_str())
                .and_then(|v| v.to_str().ok())
        })
        .flatten();
    RequestIds {
        cookie: cookie_value(req, &cfg.cookie_name),
        query,
        header,
        https: req.app_config().secure() || (cfg.trust_proxy && forwarded_https(req)),
    }
}

/// The first cookie called exactly `name`, over every `Cookie` header.
pub(crate) fn cookie_value<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    for line in req.headers().get_all(header::COOKIE) {
        for pair in split_semicolons(line.as_bytes()) {
            let pair = pair.trim_ascii();
            let Some(eq) = memchr::memchr(b'=', pair) else {
                continue;
            };
            let (key, value) = pair.split_at(eq);
            if key.trim_ascii() != name.as_bytes() {
                continue;
            }
            let value = value.get(1..).unwrap_or_default().trim_ascii();
            let value = value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value);
            // A value that is not UTF-8 cannot be an id: no session.
            return std::str::from_utf8(value).ok();
        }
    }
    None
}

/// `bytes.split(|b| *b == b';')`, with memchr: a session cookie is long,
/// and this runs on every request.
fn split_semicolons(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr(b';', r) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The first raw (still percent-encoded) value of the parameter `name`.
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// `X-Forwarded-Proto: https`, as set by the nearest proxy (the last value).
pub(crate) fn forwarded_https(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("x-forwarded-proto")
        .last()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// The actix-web cookie for `spec`: Path, Domain, HttpOnly, Secure, SameSite,
/// and `Max-Age` with a matching `Expires` (a past `Expires` for removal).
///
/// # Examples
///
/// ```
/// use actix_bee::session::{CookieSpec, SameSite};
///
/// let spec = CookieSpec { name: "sid".into(), value: "v".into(), path: "/", domain: None,
///     max_age: Some(60), http_only: true, secure: true, same_site: SameSite::Strict };
/// let text = actix_bee::web::to_actix_cookie(&spec).to_string();
/// assert!(text.starts_with("sid=v; HttpOnly; SameSite=Strict; Secure; Path=/"));
/// assert!(text.contains("Max-Age=60") && text.contains("Expires="));
/// ```
pub fn to_actix_cookie(spec: &CookieSpec) -> Cookie<'static> {
    let mut cookie = Cookie::new(spec.name.clone(), spec.value.clone());
    cookie.set_path(spec.path);
    if let Some(domain) = &spec.domain {
        cookie.set_domain(domain.clone());
    }
    cookie.set_http_only(spec.http_only);
    cookie.set_secure(spec.secure);
    cookie.set_same_site(match spec.same_site {
        SameSite::Strict => CookieSameSite::Strict,
        SameSite::None => CookieSameSite::None,
        SameSite::Lax => CookieSameSite::Lax,
    });
    match spec.max_age {
        Some(secs) if secs > 0 => {
            let age = Duration::seconds(secs);
            cookie.set_max_age(age);
            // Saturates instead of overflowing on absurd lifetimes.
            let expires = OffsetDateTime::now_utc()
                .checked_add(age)
                .unwrap_or(OffsetDateTime::now_utc());
            cookie.set_expires(expires);
        }
        Some(_) => {
            cookie.set_max_age(Duration::ZERO);
            cookie.set_expires(OffsetDateTime::UNIX_EPOCH);
        }
        None => {}
    }
    cookie
}

/// The `Set-Cookie` value of `spec`, exactly as actix-web's `add_cookie`
/// writes it. Built by hand when no attribute needs formatting (no
/// domain, no lifetime: the default settings), since `Cookie`'s `Display`
/// costs about 3,000 instructions a response.
pub(crate) fn set_cookie_value(spec: &CookieSpec) -> String {
    if spec.domain.is_some() || spec.max_age.is_some() {
        return to_actix_cookie(spec).to_string();
    }
    let same_site = match spec.same_site {
        SameSite::Strict => "Strict",
        SameSite::None => "None",
        SameSite::Lax => "Lax",
    };
    let mut out = String::with_capacity(spec.name.len() + spec.value.len() + 48);
    out.push_str(&spec.name);
    out.push('=');
    out.push_str(&spec.value);
    if spec.http_only {
        out.push_str("; HttpOnly");
    }
    out.push_str("; SameSite=");
    out.push_str(same_site);
    if spec.secure {
        out.push_str("; Secure");
    }
    out.push_str("; Path=");
    out.push_str(spec.path);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-built header is the cookie crate's, attribute for attribute.
    #[test]
    fn set_cookie_value_matches_the_cookie_crate() {
        for http_only in [false, true] {
            for secure in [false, true] {
                for same_site in [SameSite::Strict, SameSite::Lax, SameSite::None] {
                    for domain in [None, Some("example.com".to_owned())] {
                        for max_age in [None, Some(0)] {
                            let spec = CookieSpec {
                                name: "beegosessionID".into(),
                                value: "0123abcd-_".into(),
                                path: "/",
                                domain: domain.clone(),
                                max_age,
                                http_only,
                                secure,
                                same_site,
                            };
                            assert_eq!(set_cookie_value(&spec), to_actix_cookie(&spec).to_string());
                        }
                    }
                }
            }
        }
    }
    use actix_web::test::TestRequest;

    #[test]
    fn query_takes_the_first_exact_name() {
        assert_eq!(query_value("a=1&sid=x&sid=y", "sid"), Some("x"));
        assert_eq!(query_value("SID=x&%73id=y", "sid"), None);
        assert_eq!(query_value("sid", "sid"), Some(""));
    }

    #[test]
    fn cookie_names_are_not_decoded() {
        let req = TestRequest::default()
            .insert_header(("Cookie", "__%48ost-sid=a; ..Host-sid=b; x=\"q\""))
            .to_http_request();
        assert_eq!(cookie_value(&req, "__Host-sid"), None);
        assert_eq!(cookie_value(&req, "x"), Some("q"));
    }

    #[test]
    fn forwarded_proto_uses_the_nearest_proxy() {
        let req = TestRequest::default()
            .insert_header(("X-Forwarded-Proto", "http, HTTPS"))
            .to_http_request();
        assert!(forwarded_https(&req));
        let req = TestRequest::default()
            .insert_header(("X-Forwarded-Proto", "https, http"))
            .to_http_request();
        assert!(!forwarded_https(&req));
    }

    #[test]
    fn removal_has_a_past_expiry() {
        let spec = CookieSpec {
            name: "sid".into(),
            value: String::new(),
            path: "/",
            domain: Some("example.com".into()),
            max_age: Some(0),
            http_only: true,
            secure: false,
            same_site: SameSite::Lax,
        };
        let text = to_actix_cookie(&spec).to_string();
        assert!(text.contains("Max-Age=0"), "{text}");
        assert!(text.contains("Expires=Thu, 01 Jan 1970"), "{text}");
        assert!(text.contains("Domain=example.com"), "{text}");
    }
}
