//! The `redis` engine: the conformance suite, its layout, and two processes
//! sharing one Redis.

#[path = "support/faults.rs"]
mod faults;
#[path = "support/procs.rs"]
mod procs;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/redis.rs"]
mod redis_common;
#[path = "support/servers.rs"]
mod servers;

use std::time::Duration;

use actix_bee::session::redis::RedisProvider;
use actix_bee::session::{Error, IdGenerator, Manager, ManagerConfig, Provider, RequestIds};
use redis_common::{cleanup, prefix, raw, redis_url};

fn private_url() -> String {
    servers::setting("REDIS_PRIVATE_URL")
        .trim_end_matches('/')
        .to_owned()
}

fn shared_url() -> String {
    redis_url("ACTIX_BEE_REDIS_URL", "redis://127.0.0.1:6379/")
}

async fn redis_engine() -> (Box<dyn Provider>, String) {
    let config = format!("{}/?key_prefix={}", private_url(), prefix());
    (Box::new(RedisProvider::default()), config)
}

actix_bee::conformance_tests!(redis_engine);
actix_bee::conformance_tests!(redis_engine, owner_index);

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(redis_engine).await;
}

async fn init(config: &str) -> RedisProvider {
    let mut p = RedisProvider::default();
    p.session_init(Duration::from_secs(3600), config)
        .await
        .unwrap();
    p
}

#[actix_rt::test]
async fn layout_is_a_prefixed_hash_with_reserved_meta_fields() {
    let prefix = prefix();
    let p = init(&format!(
        r#"{{"save_path":"{}","key_prefix":"{prefix}"}}"#,
        private_url().trim_start_matches("redis://")
    ))
    .await;
    let sid = IdGenerator::default().generate().unwrap();
    let store = p.session_read(&sid).await.unwrap();
    // A user key that looks like a meta field stays a user key.
    store.set("m:created", &7u8).await.unwrap();
    store.set("asta", &1i64).await.unwrap();
    store.session_release().await.unwrap();

    let mut conn = raw(&private_url()).await;
    let key = format!("{prefix}{}", sid.as_str());
    let mut fields: Vec<String> = redis::cmd("HKEYS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    fields.sort();
    assert_eq!(fields, ["m:created", "v:asta", "v:m:created"]);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 3_500_000 && ttl <= 3_600_000, "ttl {ttl}");
    let back = p.session_read(&sid).await.unwrap();
    assert_eq!(back.get::<u8>("m:created").await.unwrap(), Some(7));
    assert!(back.meta().created_ms.unwrap() > 1_700_000_000_000);

    // Corrupt data: a hash without its creation time is an error, not a panic.
    let _: () = redis::cmd("HDEL")
        .arg(&key)
        .arg("m:created")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(matches!(p.session_read(&sid).await, Err(Error::Corrupt(_))));
    cleanup(&mut conn, &prefix).await;
}

#[actix_rt::test]
async fn bad_config_and_unreachable_server() {
    let mut p = RedisProvider::default();
    let err = p
        .session_init(Duration::from_secs(60), "127.0.0.1:6399,x,hunter2")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err}");
    // Nothing listens on port 1: init fails with a backend error, never a panic,
    // and the password is nowhere in the message chain.
    let err = p
        .session_init(
            Duration::from_secs(60),
            r#"{"save_path":"127.0.0.1:1","password":"hunter2","connect_timeout":"500ms","max_retries":0}"#,
        )
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    let mut chain = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        source = s.source();
    }
    assert!(!chain.contains("hunter2"), "{chain}");
    // Used before init: its own error.
    let sid = IdGenerator::default().generate().unwrap();
    assert!(matches!(
        RedisProvider::default().session_read(&sid).await,
        Err(Error::NotInitialized { engine: "redis" })
    ));
}

const CHILD_ENV: &str = "ACTIX_BEE_REDIS_PEER_COOKIE";

fn peer_config(prefix: &str) -> ManagerConfig {
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = format!("{}/?key_prefix={prefix}", shared_url());
    cfg
}

/// Two OS processes, each with its own `Manager`, share sessions through
/// the shared Redis: the parent creates, the child (this same test binary,
/// re-run with an env var) reads and changes, the parent sees the change.
#[actix_rt::test]
async fn two_processes_share_sessions() {
    match std::env::var(CHILD_ENV) {
        Ok(cookie) => peer_child(&cookie).await,
        Err(_) => peer_parent().await,
    }
}

async fn start_with_cookie(m: &Manager, cookie: &str) -> actix_bee::session::Session {
    let ids = RequestIds {
        cookie: Some(cookie),
        ..Default::default()
    };
    m.session_start(&ids).await.unwrap()
}

/// The child process: reads and changes the parent's session.
async fn peer_child(cookie: &str) {
    let prefix = std::env::var("ACTIX_BEE_REDIS_PEER_PREFIX").unwrap();
    let m = Manager::new("redis", peer_config(&prefix)).await.unwrap();
    let s = start_with_cookie(&m, cookie).await;
    assert_eq!(
        s.get::<i64>("asta").await.unwrap(),
        Some(1),
        "child: session not shared"
    );
    s.set("asta", &2i64).await.unwrap();
    s.set("pid", &std::process::id()).await.unwrap();
    assert!(m.session_release(&s).await.unwrap().cookie.is_none());
}

async fn peer_parent() {
    let prefix = prefix();
    let m = Manager::new("redis", peer_config(&prefix)).await.unwrap();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("asta", &1i64).await.unwrap();
    let cookie = m.session_release(&s).await.unwrap().cookie.unwrap().value;

    let exe = std::env::current_exe().unwrap();
    // The child's own test output stays out of ours unless it failed.
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "two_processes_share_sessions",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, &cookie)
        .env("ACTIX_BEE_REDIS_PEER_PREFIX", &prefix)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child process failed: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let s = start_with_cookie(&m, &cookie).await;
    assert_eq!(
        s.get::<i64>("asta").await.unwrap(),
        Some(2),
        "child's write not seen"
    );
    let child_pid = s.get::<u32>("pid").await.unwrap().unwrap();
    assert_ne!(child_pid, std::process::id());
    cleanup(&mut raw(&shared_url()).await, &prefix).await;
}

/// A Redis process of the test's own, killed (SIGKILL, then started again)
/// and frozen (SIGSTOP, then SIGCONT) under load (tests/support/faults.rs).
#[actix_web::test]
async fn backend_faults_give_503s_in_time_and_recover() {
    let server = procs::ServerProc::redis();
    let config = format!(
        r#"{{"save_path":"127.0.0.1:{}","key_prefix":"{}","connect_timeout":"1s","response_timeout":"1s","max_retries":0}}"#,
        server.port(),
        prefix()
    );
    faults::kill_and_freeze("redis", config, &server, Duration::from_secs(3)).await;
}

/// A `redis-server` of the test's own that listens on `::1` only, so a
/// session can reach it through `[::1]:port` and nothing else.
struct Ipv6OnlyRedis(std::process::Child);

impl Drop for Ipv6OnlyRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The bracketed IPv6 address every networked engine reads the same way,
/// here over a real connection.
#[actix_rt::test]
async fn bracketed_ipv6_address_connects() {
    let port = procs::free_port();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "::1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (package redis-server)");
    let _server = Ipv6OnlyRedis(child);
    procs::wait_for(
        "redis-server on ::1 (needs the ::1 loopback address)",
        || std::net::TcpStream::connect(("::1", port)).is_ok(),
    );

    let p = init(&format!("[::1]:{port}")).await;
    let sid = IdGenerator::default().generate().unwrap();
    let store = p.session_read(&sid).await.unwrap();
    store.set("over", &6u8).await.unwrap();
    store.session_release().await.unwrap();
    let back = p.session_read(&sid).await.unwrap();
    assert_eq!(back.get::<u8>("over").await.unwrap(), Some(6));
}
