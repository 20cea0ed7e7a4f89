//! The counter example's whole route set (count, login, log out
//! everywhere, log out) on every engine that runs here, with the example's
//! own conf/app.conf and templates and only `sessionprovider` and
//! `sessionproviderconfig` changed, as a user switches engines.
//!
//! couchbase is not here: no Couchbase Server can run on this machine.

#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "support/web.rs"]
mod common;

#[path = "../examples/counter.rs"]
#[allow(dead_code)]
mod counter;
#[path = "support/servers.rs"]
mod servers;

use actix_bee::config::BConfig;
use actix_web::http::{header, StatusCode};
use actix_web::test::{self, TestRequest};

use common::{body, counter_login, set_cookies, TestApp};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A table name no other run uses, in the form the SQL tests sweep
/// (prefix, creation time, a random part).
fn table() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("bee_t_{now}_{:08x}", rand::random::<u32>())
}

/// The example's app.conf on `engine` with `provider_config`.
fn conf(engine: &str, provider_config: String) -> BConfig {
    let mut cfg =
        BConfig::load_from(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/app.conf")).unwrap();
    let s = &mut cfg.web_config.session;
    s.session_provider = engine.into();
    s.session_provider_config = provider_config;
    // Leaves nothing behind on the shared servers for long.
    s.session_gc_max_lifetime = 600;
    cfg
}

async fn get(
    app: &impl TestApp,
    uri: &str,
    id: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut req = TestRequest::get().uri(uri);
    if let Some(id) = id {
        req = req.insert_header((header::COOKIE, format!("beegosessionID={id}")));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let cookie = set_cookies(&res)
        .into_iter()
        .find(|c| c.name() == "beegosessionID")
        .map(|c| c.value().to_owned());
    (status, body(res).await, cookie)
}

fn num(html: &str) -> i64 {
    let start = html.find("<p id=\"num\">").unwrap() + "<p id=\"num\">".len();
    let end = html[start..].find("</p>").unwrap() + start;
    html[start..end].trim().parse().unwrap()
}

/// What the engine can do beyond the routes every engine serves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Server-side store with an owner index: log out everywhere works,
    /// and a moved or destroyed id is dead.
    Indexed,
    /// Server-side store without an owner index (memcache).
    ServerNoIndex,
    /// The session lives in the cookie: an old cookie cannot be revoked.
    ClientSide,
}

/// count, login, log out everywhere, log out, on `engine`.
async fn route_set(engine: &str, provider_config: String, kind: Kind) {
    let state = counter::app(conf(engine, provider_config))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{engine}: the counter does not start: {e}"));
    let app = test::init_service(state.app()).await;

    // Count: 0, then 1, 2 on the same cookie.
    let (status, html, id) = get(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK, "{engine}: {html}");
    assert_eq!(num(&html), 0, "{engine}");
    let mut id = id.unwrap_or_else(|| panic!("{engine}: no session cookie"));
    for want in [1, 2] {
        let (status, html, cookie) = get(&app, "/", Some(&id)).await;
        assert_eq!(status, StatusCode::OK, "{engine}: {html}");
        assert_eq!(num(&html), want, "{engine}");
        // The cookie engine sends its state back on every write.
        if let Some(c) = cookie {
            assert_eq!(
                kind,
                Kind::ClientSide,
                "{engine}: a new cookie for a known session"
            );
            id = c;
        }
    }

    // Login: the user is saved, the count carries over, the id moves.
    let login = counter_login(&app, "bob", Some(&id)).await;
    assert_eq!(
        login.status,
        StatusCode::SEE_OTHER,
        "{engine}: login failed"
    );
    assert!(login.flash.is_some(), "{engine}: no flash message");
    let mut bob = login
        .session
        .unwrap_or_else(|| panic!("{engine}: login sent no new cookie"));
    assert_ne!(bob, id, "{engine}: login kept the id");
    let (status, html, cookie) = get(&app, "/", Some(&bob)).await;
    if let Some(c) = cookie {
        assert_eq!(
            kind,
            Kind::ClientSide,
            "{engine}: a new cookie for a known session"
        );
        bob = c;
    }
    assert_eq!(status, StatusCode::OK, "{engine}: {html}");
    assert!(
        html.contains("Hello, bob"),
        "{engine}: the login was lost: {html}"
    );
    assert_eq!(num(&html), 3, "{engine}: the count was lost");
    if kind != Kind::ClientSide {
        let (_, read, _) = get(&app, "/read", Some(&id)).await;
        assert_eq!(read, "0", "{engine}: the id before login still works");
    }
    // The count is read back after the write of the last "/".
    let (_, read, _) = get(&app, "/read", Some(&bob)).await;
    assert_eq!(read, "4", "{engine}");

    // Log out: the cookie goes, and on the server the session too.
    let carol = counter_login(&app, "carol", None).await.session.unwrap();
    let (status, html, cookie) = get(&app, "/logout", Some(&carol)).await;
    assert_eq!(status, StatusCode::OK, "{engine}: {html}");
    assert!(html.contains("Logged out"), "{engine}: {html}");
    assert_eq!(cookie.as_deref(), Some(""), "{engine}");
    if kind != Kind::ClientSide {
        let (_, html, _) = get(&app, "/", Some(&carol)).await;
        assert!(
            !html.contains("Hello, carol"),
            "{engine}: a destroyed session reads"
        );
    }

    // Log out everywhere: a second client of bob, then from the first.
    let phone = counter_login(&app, "bob", None).await;
    assert_eq!(phone.status, StatusCode::SEE_OTHER, "{engine}");
    let phone = phone.session.unwrap();
    let (status, html, cookie) = get(&app, "/logout/everywhere", Some(&bob)).await;
    if kind == Kind::Indexed {
        assert_eq!(status, StatusCode::OK, "{engine}: {html}");
        assert!(html.contains("Sessions ended: 2"), "{engine}: {html}");
        assert_eq!(cookie.as_deref(), Some(""), "{engine}: the cookie stays");
        for gone in [&bob, &phone] {
            let (_, html, _) = get(&app, "/", Some(gone)).await;
            assert!(!html.contains("Hello, bob"), "{engine}: still logged in");
            assert_eq!(num(&html), 0, "{engine}");
        }
        return;
    }
    // No owner index: said plainly, and nobody is logged out.
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{engine}: {html}");
    assert!(
        html.contains("Log out everywhere is not available")
            && html.contains(&format!("the {engine} engine does not support")),
        "{engine}: {html}"
    );
    assert_eq!(cookie, None, "{engine}");
    for kept in [&bob, &phone] {
        let (_, html, _) = get(&app, "/", Some(kept)).await;
        assert!(html.contains("Hello, bob"), "{engine}: logged out: {html}");
    }
}

#[actix_web::test]
async fn memory() {
    route_set("memory", String::new(), Kind::Indexed).await;
}

#[actix_web::test]
async fn file() {
    let dir = tempfile::tempdir().unwrap();
    route_set("file", dir.path().to_str().unwrap().into(), Kind::Indexed).await;
}

#[actix_web::test]
async fn cookie() {
    let config = serde_json::json!({
        "securityKeys": ["a secret key of at least thirty-two bytes, for the test"],
        "cookieName": "beegosessionID",
    });
    route_set("cookie", config.to_string(), Kind::ClientSide).await;
}

#[actix_web::test]
async fn redis() {
    let url = env_or("ACTIX_BEE_REDIS_URL", "redis://127.0.0.1:6379/");
    route_set("redis", url, Kind::Indexed).await;
}

#[actix_web::test]
async fn redis_cluster() {
    let nodes = servers::setting("REDIS_CLUSTER_NODES");
    route_set("redis_cluster", nodes.replace(',', ";"), Kind::Indexed).await;
}

#[actix_web::test]
async fn redis_sentinel() {
    let sentinels = servers::setting("SENTINELS");
    let master = servers::setting("SENTINEL_MASTER");
    let config = format!("{},100,,0,{master}", sentinels.replace(',', ";"));
    route_set("redis_sentinel", config, Kind::Indexed).await;
}

#[actix_web::test]
async fn memcache() {
    let addr = servers::setting("MEMCACHE_ADDR");
    route_set("memcache", addr, Kind::ServerNoIndex).await;
}

#[actix_web::test]
async fn mysql() {
    let url = env_or("ACTIX_BEE_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
    route_set("mysql", format!("{url}?table={}", table()), Kind::Indexed).await;
}

#[actix_web::test]
async fn postgresql() {
    let url = env_or(
        "ACTIX_BEE_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    route_set(
        "postgresql",
        format!("{url}?table={}", table()),
        Kind::Indexed,
    )
    .await;
}
