//! Where the id travels, at the HTTP level: lookup order, opt-in query and
//! header, cookie attributes, `Secure`, hostile values.

#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "support/web.rs"]
mod common;

use actix_web::http::header::{self, HeaderValue};
use actix_web::test::{self, TestRequest};

use common::{
    all_sources, config, is_minted_id, probe_app, read, session_cookie, set_cookie_lines,
    set_cookies, TestApp,
};

/// Creates a session holding `k = v` and returns its id.
async fn create(app: &impl TestApp, v: &str) -> String {
    let req = TestRequest::get().uri(&format!("/set?v={v}")).to_request();
    let res = test::call_service(app, req).await;
    assert!(res.status().is_success());
    session_cookie(&res)
}

#[actix_web::test]
async fn lookup_order_is_cookie_then_query_then_header() {
    let (app, _) = probe_app(config(all_sources)).await;
    let a = create(&app, "a").await;
    let b = create(&app, "b").await;
    let c = create(&app, "c").await;
    let get = |cookie: Option<&str>, query: Option<&str>, hdr: Option<&str>| {
        let uri = match query {
            Some(q) => format!("/get?beegosessionID={q}"),
            None => "/get".to_owned(),
        };
        let mut req = TestRequest::get().uri(&uri);
        if let Some(cookie) = cookie {
            req = req.insert_header((header::COOKIE, format!("beegosessionID={cookie}")));
        }
        if let Some(hdr) = hdr {
            req = req.insert_header(("Beegosessionid", hdr.to_owned()));
        }
        req.to_request()
    };
    assert_eq!(read(&app, get(Some(&a), Some(&b), Some(&c))).await, "a");
    assert_eq!(read(&app, get(None, Some(&b), Some(&c))).await, "b");
    assert_eq!(read(&app, get(None, None, Some(&c))).await, "c");
    // An invalid cookie is the one source read: no fallback to the query.
    assert_eq!(read(&app, get(Some("junk"), Some(&b), None)).await, "none");
}

#[actix_web::test]
async fn query_and_header_are_off_by_default() {
    let (app, _) = probe_app(config(|_| {})).await;
    let a = create(&app, "a").await;
    let req = TestRequest::get()
        .uri(&format!("/get?beegosessionID={a}"))
        .to_request();
    assert_eq!(read(&app, req).await, "none");
    let req = TestRequest::get()
        .uri("/get")
        .insert_header(("Beegosessionid", a.clone()))
        .to_request();
    assert_eq!(read(&app, req).await, "none");
}

#[actix_web::test]
async fn a_query_id_is_never_copied_into_set_cookie() {
    let (app, _) = probe_app(config(|c| {
        c.web_config.session.session_enable_sid_in_url_query = true;
    }))
    .await;
    let a = create(&app, "a").await;
    for path in ["/get", "/set"] {
        let req = TestRequest::get()
            .uri(&format!("{path}?v=q&beegosessionID={a}"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert!(res.status().is_success());
        assert_eq!(
            res.headers().get(header::REFERRER_POLICY).unwrap(),
            "no-referrer"
        );
        assert!(
            set_cookie_lines(&res).iter().all(|line| !line.contains(&a)),
            "{path}: the query id leaked into Set-Cookie"
        );
    }
    let req = TestRequest::get()
        .uri("/get")
        .insert_header((header::COOKIE, format!("beegosessionID={a}")))
        .to_request();
    assert_eq!(read(&app, req).await, "q");
}

#[actix_web::test]
async fn cookie_names_match_exactly_and_the_first_wins() {
    let (app, _) = probe_app(config(|_| {})).await;
    let a = create(&app, "a").await;
    let b = create(&app, "b").await;
    let cases = [
        (format!("beegosessionID={a}; beegosessionID={b}"), "a"),
        (
            format!("other=1; beegosessionID={b}; beegosessionID={a}"),
            "b",
        ),
        (format!("beegosessionid={a}"), "none"),
        (format!("%62eegosessionID={a}"), "none"),
        (format!("xbeegosessionID={a}"), "none"),
        (format!("beegosessionID=\"{a}\""), "a"),
    ];
    for (cookie, want) in cases {
        let req = TestRequest::get()
            .uri("/get")
            .insert_header((header::COOKIE, cookie.clone()))
            .to_request();
        assert_eq!(read(&app, req).await, want, "{cookie}");
    }
}

#[actix_web::test]
async fn the_cookie_carries_every_configured_attribute() {
    let (app, _) = probe_app(config(|c| {
        c.web_config.session.session_name = "sid".into();
        c.web_config.session.session_cookie_lifetime = 3600;
        c.web_config.session.session_domain = "example.com".into();
        c.web_config.session.session_cookie_same_site = "strict".into();
    }))
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/set").to_request()).await;
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1);
    let c = &cookies[0];
    assert_eq!(c.name(), "sid");
    assert!(is_minted_id(c.value()));
    assert_eq!(c.path(), Some("/"));
    assert_eq!(c.domain(), Some("example.com"));
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(c.secure(), None, "plain HTTP with secure off");
    assert_eq!(c.same_site(), Some(actix_web::cookie::SameSite::Strict));
    assert_eq!(
        c.max_age(),
        Some(actix_web::cookie::time::Duration::seconds(3600))
    );
    let expires = c.expires_datetime().unwrap();
    let ahead = expires - actix_web::cookie::time::OffsetDateTime::now_utc();
    assert!(
        ahead.whole_seconds() > 3000 && ahead.whole_seconds() <= 3600,
        "{ahead}"
    );
}

#[actix_web::test]
async fn the_default_cookie_is_a_lax_browser_session_cookie() {
    let (app, _) = probe_app(config(|_| {})).await;
    let res = test::call_service(&app, TestRequest::get().uri("/set").to_request()).await;
    let line = set_cookie_lines(&res).pop().unwrap();
    assert!(line.starts_with("beegosessionID="), "{line}");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(line.contains(part), "{line} lacks {part}");
    }
    for part in ["Max-Age", "Expires", "Domain", "Secure"] {
        assert!(!line.contains(part), "{line} has {part}");
    }
}

#[actix_web::test]
async fn http_only_can_be_disabled() {
    let (app, _) = probe_app(config(|c| {
        c.web_config.session.session_disable_http_only = true;
    }))
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/set").to_request()).await;
    assert!(!set_cookie_lines(&res)[0].contains("HttpOnly"));
}

#[actix_web::test]
async fn secure_is_forced_by_config_on_plain_http() {
    let (app, _) = probe_app(config(|c| c.web_config.session.session_secure = true)).await;
    let res = test::call_service(&app, TestRequest::get().uri("/set").to_request()).await;
    assert_eq!(set_cookies(&res)[0].secure(), Some(true));
}

#[actix_web::test]
async fn forwarded_proto_counts_only_with_trust_proxy() {
    let forwarded = || {
        TestRequest::get()
            .uri("/set")
            .insert_header(("X-Forwarded-Proto", "https"))
            .to_request()
    };
    let (untrusting, _) = probe_app(config(|_| {})).await;
    let res = test::call_service(&untrusting, forwarded()).await;
    assert_eq!(set_cookies(&res)[0].secure(), None);

    let (trusting, _) =
        probe_app(config(|c| c.web_config.session.session_trust_proxy = true)).await;
    let res = test::call_service(&trusting, forwarded()).await;
    assert_eq!(set_cookies(&res)[0].secure(), Some(true));
    let plain = TestRequest::get().uri("/set").to_request();
    let res = test::call_service(&trusting, plain).await;
    assert_eq!(set_cookies(&res)[0].secure(), None);
}

#[actix_web::test]
async fn the_deletion_cookie_carries_the_same_attributes() {
    let (app, manager) = probe_app(config(|c| {
        c.web_config.session.session_domain = "example.com".into();
        c.web_config.session.session_cookie_same_site = "strict".into();
        c.web_config.session.session_secure = true;
        c.web_config.session.session_cookie_lifetime = 600;
    }))
    .await;
    let a = create(&app, "a").await;
    let req = TestRequest::get()
        .uri("/destroy")
        .insert_header((header::COOKIE, format!("beegosessionID={a}")))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1);
    let c = &cookies[0];
    assert_eq!((c.name(), c.value()), ("beegosessionID", ""));
    assert_eq!(c.max_age(), Some(actix_web::cookie::time::Duration::ZERO));
    assert!(c.expires_datetime().unwrap() < actix_web::cookie::time::OffsetDateTime::now_utc());
    assert_eq!(c.path(), Some("/"));
    assert_eq!(c.domain(), Some("example.com"));
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(c.same_site(), Some(actix_web::cookie::SameSite::Strict));
    assert_eq!(manager.unwrap().get_active_session().await.unwrap(), 0);
}

const HOSTILE: &[&str] = &[
    "",
    "a",
    "../../x",
    "..\\x",
    "%2e%2e%2f",
    "%zz",
    "' OR 1=1--",
    "*",
    "0123456789abcdef0123456789abcdef0123456g",
    "0123456789ABCDEF0123456789ABCDEF01234567",
    "${jndi:ldap://x}",
    "\u{7f}\u{1}\u{2}junk",
];

fn assert_fresh<B>(res: &actix_web::dev::ServiceResponse<B>, hostile: &str) {
    assert!(
        !res.status().is_server_error(),
        "{hostile:?}: {}",
        res.status()
    );
    let cookies = set_cookies(res);
    assert_eq!(cookies.len(), 1, "{hostile:?}");
    assert!(is_minted_id(cookies[0].value()), "{hostile:?}");
    assert_ne!(cookies[0].value(), hostile);
}

#[actix_web::test]
async fn hostile_cookie_values_get_a_fresh_session() {
    let (app, manager) = probe_app(config(|_| {})).await;
    let big = "a".repeat(10 * 1024);
    // The hostile ids as raw bytes, plus non-ASCII and non-UTF-8 ones.
    let ids: Vec<Vec<u8>> = HOSTILE
        .iter()
        .chain([big.as_str(), "séssion-ü-日本"].iter())
        .map(|v| v.as_bytes().to_vec())
        .chain([b"\xff\xfe\x80".to_vec()])
        .collect();
    let mut values = Vec::new();
    let mut unsendable = Vec::new();
    for id in &ids {
        let mut line = b"beegosessionID=".to_vec();
        line.extend_from_slice(id);
        match HeaderValue::from_bytes(&line) {
            Ok(value) => values.push((String::from_utf8_lossy(id).into_owned(), value)),
            Err(_) => unsendable.push(String::from_utf8_lossy(id).into_owned()),
        }
    }
    // Only control characters cannot travel in a header at all (the HTTP
    // parser refuses them before any app runs); everything else is sent.
    assert_eq!(unsendable, ["\u{7f}\u{1}\u{2}junk"]);
    assert_eq!(values.len(), ids.len() - 1);
    for (id, value) in &values {
        let req = TestRequest::get()
            .uri("/get")
            .insert_header((header::COOKIE, value.clone()))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200, "{value:?}");
        assert!(
            set_cookies(&res).is_empty(),
            "a read sends no cookie: {value:?}"
        );
        let req = TestRequest::get()
            .uri("/set")
            .insert_header((header::COOKIE, value.clone()))
            .to_request();
        assert_fresh(&test::call_service(&app, req).await, id);
    }
    // Only the /set requests created sessions.
    assert_eq!(
        manager.unwrap().get_active_session().await.unwrap(),
        values.len()
    );
}

#[actix_web::test]
async fn hostile_query_and_header_values_get_a_fresh_session() {
    let (app, _) = probe_app(config(all_sources)).await;
    let big = "a".repeat(10 * 1024);
    for hostile in HOSTILE.iter().copied().chain([big.as_str()]) {
        let encoded: String = hostile
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let req = TestRequest::get()
            .uri(&format!("/set?beegosessionID={encoded}"))
            .to_request();
        assert_fresh(&test::call_service(&app, req).await, hostile);
        match HeaderValue::from_str(hostile) {
            Ok(value) => {
                let req = TestRequest::get()
                    .uri("/set")
                    .insert_header(("Beegosessionid", value))
                    .to_request();
                assert_fresh(&test::call_service(&app, req).await, hostile);
            }
            // Control characters cannot be a header value at all.
            Err(_) => assert!(hostile.chars().any(char::is_control), "{hostile:?}"),
        }
    }
}
