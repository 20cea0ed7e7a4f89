//! The `cookie` engine with `sessionstoreformat = beego` against real Go:
//! `tests/go/gobpeer` seals and opens cookies exactly as beego's cookie
//! provider does (`encodeCookie`/`decodeCookie`), and an actix-web app with
//! the real `SessionMiddleware` reads Go's cookie and writes one Go opens.
//!
//! Needs the Go toolchain (no server); without it these tests fail, never skip.

#[path = "support/gobpeer.rs"]
mod gobpeer;

#[path = "support/web.rs"]
mod web_common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Once;

use actix_bee::session::engine::Format;
use actix_bee::session::{Error, HashFunc, Manager, ManagerConfig, Session};
use actix_bee::web::SessionMiddleware;
use actix_web::{test, web, App};
use gobpeer::{assert_same, key, parse_description, try_run};
use serde::{Deserialize, Serialize};
use web_common::get_with_session;

const SECURITY_KEY: &str = "a beego security key shared by both apps";
const SECURITY_NAME: &str = "beegoapp";
/// beego picks AES-128, 192 or 256 by the block key's length.
const BLOCK_KEYS: [&str; 3] = [
    "0123456789abcdef",
    "0123456789abcdef01234567",
    "0123456789abcdef0123456789abcdef",
];
/// The idle lifetime: beego's `maxlifetime` for cookies.
const LIFETIME: i64 = 3600;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct User {
    name: String,
    age: i64,
    tags: Vec<String>,
}

fn provider_config(security_key: &str, block_key: &str) -> String {
    serde_json::json!({
        "securityKey": security_key,
        "blockKey": block_key,
        "securityName": SECURITY_NAME,
        "cookieName": "beegosessionID",
    })
    .to_string()
}

fn manager_config(provider_config: String) -> ManagerConfig {
    let mut cfg = ManagerConfig::default();
    cfg.store_format = Format::Beego;
    cfg.session_id_hash_func = HashFunc::None;
    cfg.gc_lifetime = LIFETIME;
    cfg.provider_config = provider_config;
    cfg
}

async fn manager(block_key: &str) -> Manager {
    Manager::new(
        "cookie",
        manager_config(provider_config(SECURITY_KEY, block_key)),
    )
    .await
    .expect("beego-format cookie manager")
}

/// Go's `encodeCookie` of the peer's cookie fixture, stamped now + `offset` s.
fn go_cookie(security_key: &str, block_key: &str, offset: i64) -> String {
    let out = try_run(
        &[
            "cookie-encode",
            security_key,
            block_key,
            SECURITY_NAME,
            &offset.to_string(),
        ],
        b"",
    )
    .expect("gobpeer cookie-encode");
    String::from_utf8(out).unwrap()
}

/// Go's `decodeCookie` of a cookie value: the described map, or Go's error.
fn go_open(block_key: &str, value: &str) -> Result<BTreeMap<String, String>, String> {
    try_run(
        &[
            "cookie-decode",
            SECURITY_KEY,
            block_key,
            SECURITY_NAME,
            &LIFETIME.to_string(),
        ],
        value.as_bytes(),
    )
    .map(|out| parse_description(&out))
}

/// `/rw`: reads Go's values with Rust types, answers them, then changes
/// `uid` (+1) and adds keys.
async fn read_write(s: Session) -> Result<String, Error> {
    let Some(uid) = s.get::<i64>("uid").await? else {
        return Ok("empty".into());
    };
    let name = s.get::<String>("name").await?.unwrap_or_default();
    let ratio = s.get::<f64>("ratio").await?.unwrap_or_default();
    let admin = s.get::<bool>("admin").await?.unwrap_or_default();
    let small = s.get::<i32>("small").await?.unwrap_or_default();
    let bytes = s.get::<Vec<u8>>("bytes").await?.unwrap_or_default();
    let map = s.get::<BTreeMap<String, String>>("map_ss").await?;
    let user = s.get::<User>("user").await?;
    s.set("uid", &(uid + 1)).await?;
    s.set("small", &(small * 2)).await?;
    s.set("from_rust", "hello").await?;
    s.set("count", &5).await?;
    Ok(format!(
        "{uid} {name} {ratio} {admin} {small} {bytes:?} {map:?} {user:?}"
    ))
}

/// Sends `cookie` (if any) to `/rw` of an app on `manager`: the body and
/// the session cookie the response sets.
async fn call(manager: Manager, cookie: Option<&str>) -> (String, Option<String>) {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(manager))
            .route("/rw", web::get().to(read_write)),
    )
    .await;
    get_with_session(&app, "/rw", cookie).await
}

#[actix_rt::test]
async fn go_cookie_opens_in_the_app_and_the_apps_cookie_opens_in_go() {
    for block_key in BLOCK_KEYS {
        let from_go = go_cookie(SECURITY_KEY, block_key, 0);
        let (body, sent) = call(manager(block_key).await, Some(&from_go)).await;
        assert_eq!(
            body,
            "7 asta 0.5 true -3 [0, 255] Some({\"x\": \"y\"}) \
             Some(User { name: \"bee\", age: 3, tags: [\"go\"] })",
            "AES-{}",
            block_key.len() * 8
        );
        let sent = sent.expect("the changed session is sent back");
        assert!(
            sent.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_%".contains(&b)),
            "query-escaped base64url: {sent}"
        );
        let seen = go_open(block_key, &sent).expect("Go opens the app's cookie");
        // Go's view of its own cookie, with the app's changes: a Go int
        // stays int, an int32 stays int32, new keys get natural Go types,
        // and every other key (the non-string key 12 included) is exactly
        // what Go wrote.
        let mut want = go_open(block_key, &from_go).expect("Go opens its own cookie");
        assert_eq!(want.len(), 10, "the cookie fixture: {want:?}");
        for (k, v) in [
            ("uid", "int: int(8)"),
            ("small", "int32: int32(-6)"),
            ("from_rust", "string: string(\"hello\")"),
            ("count", "int: int(5)"),
        ] {
            want.insert(key(k), v.to_owned());
        }
        let what = format!("the app's cookie, AES-{}", block_key.len() * 8);
        assert_same(&seen, &want, &what);
    }
}

#[actix_rt::test]
async fn a_new_session_from_the_app_opens_in_go() {
    let block_key = BLOCK_KEYS[2];
    let (body, sent) = call(manager(block_key).await, None).await;
    assert_eq!(body, "empty");
    assert!(sent.is_none(), "nothing stored, nothing sent");

    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(manager(block_key).await))
            .route(
                "/login",
                web::get().to(|s: Session| async move {
                    s.set("uid", &42).await?;
                    Ok::<_, Error>("ok")
                }),
            ),
    )
    .await;
    let (_, value) = get_with_session(&app, "/login", None).await;
    let value = value.expect("a cookie");
    let seen = go_open(block_key, &value).unwrap();
    assert_eq!(
        seen,
        BTreeMap::from([(key("uid"), "int: int(42)".to_owned())])
    );
    // Go refuses it under another key or name, as it should.
    assert!(go_open(BLOCK_KEYS[0], &value).is_err());
}

#[actix_rt::test]
async fn refused_cookies_are_empty_sessions() {
    let block_key = BLOCK_KEYS[0];
    let m = manager(block_key).await;
    let good = go_cookie(SECURITY_KEY, block_key, 0);
    let other_key = go_cookie("another security key, entirely different", block_key, 0);
    // beego's time rule: older than the lifetime is refused (by Go too).
    let expired = go_cookie(SECURITY_KEY, block_key, -LIFETIME - 5);
    assert!(go_open(block_key, &expired)
        .unwrap_err()
        .contains("expired"));
    let future = go_cookie(SECURITY_KEY, block_key, 600);
    let mut tampered = good.clone().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let truncated = &good[..good.len() / 2];
    let huge = "A".repeat(5000);
    for (what, value) in [
        ("other key", other_key.as_str()),
        ("expired", &expired),
        ("future", &future),
        ("tampered", &tampered),
        ("truncated", truncated),
        ("huge", &huge),
        ("junk", "%zz%3D"),
    ] {
        let (body, _) = call(m.clone(), Some(value)).await;
        assert_eq!(body, "empty", "{what}");
    }
    let (body, _) = call(m, Some(&good)).await;
    assert_eq!(
        body,
        "7 asta 0.5 true -3 [0, 255] Some({\"x\": \"y\"}) \
         Some(User { name: \"bee\", age: 3, tags: [\"go\"] })"
    );
}

#[actix_rt::test]
async fn unsafe_or_unshareable_keys_are_startup_errors() {
    let refused = |json: serde_json::Value| async move {
        let err = Manager::new("cookie", manager_config(json.to_string()))
            .await
            .expect_err("refused");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        err.to_string()
    };
    let base = serde_json::json!({
        "securityKey": SECURITY_KEY, "blockKey": BLOCK_KEYS[0], "securityName": SECURITY_NAME,
    });
    let with = |k: &str, v: serde_json::Value| {
        let mut j = base.clone();
        j[k] = v;
        j
    };
    let msg = refused(with("securityKey", "".into())).await;
    assert!(
        msg.contains("securityKey") && msg.contains("forge"),
        "{msg}"
    );
    let msg = refused(with("blockKey", "".into())).await;
    assert!(msg.contains("blockKey"), "{msg}");
    let msg = refused(with("blockKey", "ten bytes!".into())).await;
    assert!(msg.contains("16, 24 or 32"), "{msg}");
    let msg = refused(with("securityName", "".into())).await;
    assert!(msg.contains("securityName"), "{msg}");
    let msg = refused(with("oldKeys", serde_json::json!(["x"]))).await;
    assert!(msg.contains("oldKeys"), "{msg}");
    // devMode makes random keys instead: it starts, and its cookies are its own.
    let dev = serde_json::json!({ "devMode": true });
    let m = Manager::new("cookie", manager_config(dev.to_string()))
        .await
        .unwrap();
    let (body, _) = call(m, Some(&go_cookie(SECURITY_KEY, BLOCK_KEYS[0], 0))).await;
    assert_eq!(body, "empty");
}

thread_local! {
    static LOGS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Sends log lines to the calling thread's buffer: each test runs on its own thread.
struct ThreadLogs;

impl std::io::Write for ThreadLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.with(|l| l.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` to completion on this thread and returns what it logged at WARN
/// and above. One global subscriber, as tracing caches per-callsite
/// interest globally.
async fn capture_warnings<T>(f: impl std::future::Future<Output = T>) -> (T, String) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| ThreadLogs)
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .try_init();
    });
    LOGS.with(|l| l.borrow_mut().clear());
    let out = f.await;
    let logs = LOGS.with(|l| String::from_utf8_lossy(&l.borrow()).into_owned());
    (out, logs)
}

/// A `securityKey` under 32 bytes is refused outside devMode: AES-CTR is
/// malleable, so whoever guesses the HMAC key can flip bits of their own
/// cookie and sign it again. devMode takes it with a warning, and uses it:
/// Go's cookie under that key opens.
#[actix_rt::test]
async fn a_short_security_key_is_refused_outside_dev_mode() {
    const SHORT: &str = "sixteen byte key";
    assert_eq!(SHORT.len(), 16);
    let refused = Manager::new(
        "cookie",
        manager_config(provider_config(SHORT, BLOCK_KEYS[0])),
    )
    .await;
    let Err(err) = refused else {
        panic!("a 16-byte securityKey was accepted outside devMode");
    };
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("securityKey") && msg.contains("32 bytes"),
        "{msg}"
    );
    let mut dev: serde_json::Value =
        serde_json::from_str(&provider_config(SHORT, BLOCK_KEYS[0])).unwrap();
    dev["devMode"] = true.into();
    let (m, logs) = capture_warnings(Manager::new("cookie", manager_config(dev.to_string()))).await;
    let m = m.expect("devMode takes a short securityKey");
    assert!(
        logs.contains("WARN") && logs.contains("securityKey"),
        "{logs}"
    );
    let (body, _) = call(m, Some(&go_cookie(SHORT, BLOCK_KEYS[0], 0))).await;
    assert!(body.starts_with("7 asta"), "{body}");
}
