//! A beego session in Redis, served through the web layer: Go writes the
//! session the way beego's redis provider does (key = raw id, value =
//! `EncodeGob`), an actix-web app with the real `SessionMiddleware` and
//! `sessionstoreformat = beego` gets the request carrying beego's cookie,
//! reads and writes typed values, and Go reads the result back.
//!
//! Needs the Go toolchain and the Redis of `scripts/test-servers.sh start`;
//! without them these tests fail, never skip.

#[path = "support/redis.rs"]
mod redis_common;

#[path = "support/gobpeer.rs"]
mod gobpeer;

#[path = "support/web.rs"]
mod web_common;

use std::error::Error as _;
use std::time::Duration;

use actix_bee::gob::Value;
use actix_bee::session::engine::Format;
use actix_bee::session::redis::RedisProvider;
use actix_bee::session::{Error, HashFunc, IdGenerator, Manager, ManagerConfig, Provider, Session};
use actix_bee::web::SessionMiddleware;
use actix_web::{test, web, App};
use gobpeer::{describe, key, run};
use redis::AsyncCommands;
use redis_common::{raw, redis_url};
use web_common::get_with_session;

fn url() -> String {
    redis_url("ACTIX_BEE_REDIS_URL", "redis://127.0.0.1:6379/")
}

/// A unique prefix per test, so tests never see each other's keys.
fn unique_prefix() -> String {
    format!("beegoweb{:016x}_", rand::random::<u64>())
}

/// An id as beego mints it: `prefix + hex(random bytes)`.
fn beego_id(prefix: &str, len: usize) -> String {
    let bytes: Vec<u8> = (0..len).map(|_| rand::random()).collect();
    format!("{prefix}{}", hex::encode(bytes))
}

async fn beego_manager(prefix: &str, id_len: usize) -> Manager {
    let mut cfg = ManagerConfig::default();
    cfg.store_format = Format::Beego;
    cfg.session_id_hash_func = HashFunc::None;
    cfg.session_id_length = id_len;
    cfg.session_id_prefix = prefix.to_owned();
    cfg.provider_config = format!("{},10,,0", url().trim_start_matches("redis://"));
    Manager::new("redis", cfg)
        .await
        .expect("beego-format redis manager")
}

/// `/visit`: Go's `int` as i64 (+1 written back), Go's string, a new key.
async fn visit(s: Session) -> Result<String, Error> {
    let n = s.get::<i64>("int").await?;
    let text = s.get::<String>("string").await?;
    if let Some(n) = n {
        s.set("int", &(n + 1)).await?;
    }
    s.set("from_rust", &true).await?;
    // Go types chosen explicitly, where `set` would pick `int` and a map.
    s.set_gob("level", Value::int32(3)).await?;
    let user = Value::struct_named("main.User", vec![("Name".into(), Value::string("rust"))]);
    s.set_gob("by_rust", user).await?;
    Ok(format!("{n:?} {text:?}"))
}

/// Sends `/visit` with `beegosessionID=<sid>`: the body and the session
/// cookie the response sets, if any.
async fn send(m: &Manager, sid: &str) -> (String, Option<String>) {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(m.clone()))
            .route("/visit", web::get().to(visit)),
    )
    .await;
    get_with_session(&app, "/visit", Some(sid)).await
}

#[actix_rt::test]
async fn a_beego_session_in_redis_is_served_through_the_middleware() {
    let mut conn = raw(&url()).await;
    let fixture = run("encode-fixture", b"");
    let before = describe(&fixture);
    // beego's default sessionIDLength (16) and a longer one it allows.
    for id_len in [16, 32] {
        let prefix = unique_prefix();
        let m = beego_manager(&prefix, id_len).await;
        let sid = beego_id(&prefix, id_len);
        let _: () = conn.set_ex(&sid, &fixture, 3600).await.unwrap();

        let (body, cookie) = send(&m, &sid).await;
        assert_eq!(
            body, "Some(-42) Some(\"hello, 世界\")",
            "id length {id_len}"
        );
        assert_eq!(cookie, None, "beego's id is adopted: no new cookie");

        let stored: Vec<u8> = conn.get(&sid).await.unwrap();
        let after = describe(&stored);
        assert_eq!(after[&key("int")], "int: int(-41)", "a Go int stays int");
        assert_eq!(after[&key("from_rust")], "bool: bool(true)");
        assert_eq!(after[&key("level")], "int32: int32(3)");
        assert!(after[&key("by_rust")]
            .starts_with("main.User: main.User{Name: string(\"rust\"), Age: int(0)"));
        for (k, v) in &before {
            if k != &key("int") {
                assert_eq!(&after[k], v, "{k} is written back as Go stored it");
            }
        }
        assert_eq!(after.len(), before.len() + 3);
        let ttl: i64 = conn.ttl(&sid).await.unwrap();
        assert!(ttl > 3000, "the idle lifetime is refreshed: {ttl}");

        // Ids beego would not mint are refused, not looked up: a new
        // session with a fresh id, and beego's data untouched.
        for bad in [
            format!("{prefix}{}", sid[prefix.len()..].to_uppercase()),
            format!("{sid}0"),
            sid[..sid.len() - 1].to_owned(),
        ] {
            let (body, cookie) = send(&m, &bad).await;
            assert_eq!(body, "None None");
            let fresh = cookie.expect("a new session gets a cookie");
            assert!(IdGenerator::new(&prefix, HashFunc::None, b"", id_len)
                .unwrap()
                .parse(&fresh)
                .is_some());
            let _: () = conn.del(&fresh).await.unwrap();
        }
        let again: Vec<u8> = conn.get(&sid).await.unwrap();
        assert_eq!(again, stored);
        let _: () = conn.del(&sid).await.unwrap();
    }
}

#[actix_rt::test]
async fn the_native_format_names_the_setting_when_it_meets_beego_data() {
    let mut conn = raw(&url()).await;
    let key_prefix = unique_prefix();
    let ids = IdGenerator::default();
    let sid = ids.generate().unwrap();
    // beego's value where the native engine looks for its session hash.
    let stored_at = format!("{key_prefix}{}", sid.as_str());
    let _: () = conn
        .set_ex(&stored_at, run("encode-fixture", b""), 60)
        .await
        .unwrap();
    let mut p = RedisProvider::default();
    let config = serde_json::json!({
        "save_path": url().trim_start_matches("redis://").trim_end_matches('/'),
        "key_prefix": key_prefix,
    });
    p.session_init(Duration::from_secs(3600), &config.to_string())
        .await
        .unwrap();
    let Err(err) = p.session_read(&sid).await else {
        panic!("not a native session")
    };
    assert!(err.is_corrupt(), "{err:?}");
    let cause = err.source().map(ToString::to_string).unwrap_or_default();
    assert!(
        cause.contains("beego's format") && cause.contains("sessionstoreformat = beego"),
        "{cause}"
    );
    // Any other foreign value says so without naming beego.
    let _: () = conn.set_ex(&stored_at, "not a session", 60).await.unwrap();
    let Err(err) = p.session_read(&sid).await else {
        panic!("not a native session")
    };
    let cause = err.source().map(ToString::to_string).unwrap_or_default();
    assert!(
        cause.contains("key_prefix") && !cause.contains("beego"),
        "{cause}"
    );
    let _: () = conn.del(&stored_at).await.unwrap();
}

#[actix_rt::test]
async fn beego_regenerate_on_one_redis_is_one_script() {
    let mut conn = raw(&url()).await;
    let mut p = RedisProvider::default();
    p.set_format(Format::Beego).unwrap();
    p.session_init(
        Duration::from_secs(3600),
        &format!("{},10,,0", url().trim_start_matches("redis://")),
    )
    .await
    .unwrap();
    let ids = IdGenerator::new(&unique_prefix(), HashFunc::None, b"", 16).unwrap();
    let (old, new) = (ids.generate().unwrap(), ids.generate().unwrap());
    let fixture = run("encode-fixture", b"");
    let _: () = conn.set_ex(old.as_str(), &fixture, 60).await.unwrap();

    // A taken new id changes nothing: the old session stays whole.
    let _: () = conn.set_ex(new.as_str(), "taken", 60).await.unwrap();
    let err = p.session_regenerate(&old, &new).await.err().expect("taken");
    assert!(matches!(err, Error::IdCollision), "{err:?}");
    let still: Vec<u8> = conn.get(old.as_str()).await.unwrap();
    assert_eq!(still, fixture);
    let _: () = conn.del(new.as_str()).await.unwrap();

    let store = p.session_regenerate(&old, &new).await.unwrap();
    assert_eq!(store.get::<i64>("int").await.unwrap(), Some(-42));
    let gone: Option<Vec<u8>> = conn.get(old.as_str()).await.unwrap();
    assert_eq!(gone, None);
    let moved: Vec<u8> = conn.get(new.as_str()).await.unwrap();
    assert_eq!(moved, fixture, "moved byte for byte");
    let ttl: i64 = conn.ttl(new.as_str()).await.unwrap();
    assert!(ttl > 3000, "a fresh idle lifetime: {ttl}");
    // Regenerating a gone session gives a new empty one.
    let empty = p
        .session_regenerate(&old, &ids.generate().unwrap())
        .await
        .unwrap();
    assert!(empty.meta().is_new);
    let _: () = conn.del(new.as_str()).await.unwrap();
}
