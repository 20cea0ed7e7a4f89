//! The `redis_sentinel` engine against the test master, replica and three
//! sentinels. The failover test is its own binary (redis_sentinel_failover)
//! so that it never runs alongside these.

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

use actix_bee::session::redis::sentinel::RedisSentinelProvider;
use actix_bee::session::Provider;
use redis_common::prefix;

async fn redis_sentinel_engine() -> (Box<dyn Provider>, String) {
    let sentinels = servers::setting("SENTINELS");
    let master = servers::setting("SENTINEL_MASTER");
    // The URL shape: the sentinels, then the master name.
    let config = format!(
        "redis://{sentinels}/0?master_name={master}&key_prefix={}",
        prefix()
    );
    (Box::new(RedisSentinelProvider::default()), config)
}

actix_bee::conformance_tests!(redis_sentinel_engine);
actix_bee::conformance_tests!(redis_sentinel_engine, owner_index);

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(redis_sentinel_engine).await;
}

#[actix_rt::test]
async fn beego_old_style_with_master_name_in_field_5() {
    let sentinels = servers::setting("SENTINELS");
    let master = servers::setting("SENTINEL_MASTER");
    let mut p = RedisSentinelProvider::default();
    let config = format!("{},100,,0,{master},30s", sentinels.replace(',', ";"));
    p.session_init(std::time::Duration::from_secs(60), &config)
        .await
        .unwrap();
    // The master named in field 5 really serves: a session round-trips.
    let sid = actix_bee::session::IdGenerator::default()
        .generate()
        .unwrap();
    let store = p.session_read(&sid).await.unwrap();
    store.set("k", &5i64).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    let back = p.session_read(&sid).await.unwrap();
    assert_eq!(back.get::<i64>("k").await.unwrap(), Some(5));
    p.session_destroy(&sid).await.unwrap();
    // Field 6 is read as the idle timeout (beego reads it one field early):
    // a value that is no duration there is a config error.
    let mut bad = RedisSentinelProvider::default();
    let config = format!("{},100,,0,{master},30parsecs", sentinels.replace(',', ";"));
    let err = bad
        .session_init(std::time::Duration::from_secs(60), &config)
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert!(err.to_string().contains("idle_timeout"), "{err}");
    // A wrong master name is an init error, not a panic.
    let mut p = RedisSentinelProvider::default();
    let config = format!("{},100,,0,no-such-master", sentinels.replace(',', ";"));
    let err = p
        .session_init(std::time::Duration::from_secs(60), &config)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}

/// Faults of a real server of the test's own (its own ports, not the
/// shared ones): SIGKILL then restart, SIGSTOP then SIGCONT, under load.
/// Every request during a fault gets a 503 within 3 s (1 s response
/// timeout), the app recovers alone, and no acknowledged write is lost
/// (the server fsyncs its append-only file on every write).
#[actix_rt::test]
async fn server_faults_give_503s_in_time_and_recover() {
    let master = procs::ServerProc::redis();
    let sentinel = procs::ServerProc::redis_sentinel(&master, "faultmaster");
    let config = format!(
        "redis://127.0.0.1:{}/0?master_name=faultmaster&connect_timeout=1s&response_timeout=1s&max_retries=0",
        sentinel.port()
    );
    faults::kill_and_freeze(
        "redis_sentinel",
        config,
        &master,
        std::time::Duration::from_secs(3),
    )
    .await;
}
