//! The `redis_cluster` engine against a 6-node cluster of the binary's own.

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

use actix_bee::session::redis::cluster::RedisClusterProvider;
use actix_bee::session::{IdGenerator, Provider, SessionId};
use redis::cluster::ClusterClient;
use redis_common::prefix;

fn nodes() -> String {
    servers::setting("REDIS_CLUSTER_NODES")
}

async fn redis_cluster_engine() -> (Box<dyn Provider>, String) {
    // beego's old style: `;`-separated seeds, poolsize, password, dbnum.
    let seeds = nodes().replace(',', ";");
    let config = format!(r#"{{"save_path":"{seeds}","key_prefix":"{}"}}"#, prefix());
    (Box::new(RedisClusterProvider::default()), config)
}

actix_bee::conformance_tests!(redis_cluster_engine);
actix_bee::conformance_tests!(redis_cluster_engine, owner_index);

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(redis_cluster_engine).await;
}

async fn cluster_conn() -> redis::cluster_async::ClusterConnection {
    let seeds: Vec<String> = nodes().split(',').map(|n| format!("redis://{n}")).collect();
    ClusterClient::new(seeds)
        .unwrap()
        .get_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis Cluster not reachable ({e}); see support/servers.rs"))
}

async fn slot(conn: &mut redis::cluster_async::ClusterConnection, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

/// The master owning `slot` in the default 3-master layout (0-5460, 5461-10922, 10923-16383).
fn shard(slot: u16) -> u8 {
    match slot {
        0..=5460 => 0,
        5461..=10922 => 1,
        _ => 2,
    }
}

/// beego's RENAME fails with CROSSSLOT here and loses the data; ours moves it.
#[actix_rt::test]
async fn regenerate_across_slots_and_masters() {
    let prefix = prefix();
    let mut p = RedisClusterProvider::default();
    let config = format!(
        r#"{{"save_path":"{}","poolsize":100,"db_num":0,"key_prefix":"{prefix}"}}"#,
        nodes().replace(',', ";")
    );
    p.session_init(Duration::from_secs(3600), &config)
        .await
        .unwrap();
    let mut conn = cluster_conn().await;

    let gen = IdGenerator::default();
    let old = gen.generate().unwrap();
    let old_slot = slot(&mut conn, &format!("{prefix}{}", old.as_str())).await;
    let mut new: Option<SessionId> = None;
    for _ in 0..100 {
        let candidate = gen.generate().unwrap();
        let s = slot(&mut conn, &format!("{prefix}{}", candidate.as_str())).await;
        if shard(s) != shard(old_slot) {
            new = Some(candidate);
            break;
        }
    }
    let new = new.expect("no id on another master in 100 tries");

    let store = p.session_read(&old).await.unwrap();
    store.set("user", "astaxie").await.unwrap();
    store.set("n", &42u32).await.unwrap();
    store.session_release().await.unwrap();

    let moved = p.session_regenerate(&old, &new).await.unwrap();
    assert!(!moved.meta().is_new);
    assert_eq!(
        moved.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    assert!(!p.session_exist(&old).await.unwrap(), "old id survived");
    assert!(p.session_exist(&new).await.unwrap());
    let back = p.session_read(&new).await.unwrap();
    assert_eq!(back.get::<u32>("n").await.unwrap(), Some(42));
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}{}", new.as_str()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 3_500_000, "new session has no idle TTL: {ttl}");

    // session_all scans every master: sessions spread over all three.
    let mut shards = [false; 3];
    let mut made = 1;
    while shards.iter().any(|s| !s) {
        let sid = gen.generate().unwrap();
        let s = p.session_read(&sid).await.unwrap();
        s.set("k", &1).await.unwrap();
        s.session_release().await.unwrap();
        made += 1;
        shards[shard(slot(&mut conn, &format!("{prefix}{}", sid.as_str())).await) as usize] = true;
    }
    assert_eq!(p.session_all().await.unwrap(), made);
}

/// Faults of a real server of the test's own (its own ports, not the
/// shared ones): SIGKILL then restart, SIGSTOP then SIGCONT, under load.
/// Every request during a fault gets a 503 within 3 s (1 s response
/// timeout), the app recovers alone, and no acknowledged write is lost
/// (the server fsyncs its append-only file on every write).
#[actix_rt::test]
async fn server_faults_give_503s_in_time_and_recover() {
    let node = procs::ServerProc::redis_cluster_node();
    let config = format!(
        r#"{{"save_path":"127.0.0.1:{}","connect_timeout":"1s","response_timeout":"1s","max_retries":0}}"#,
        node.port()
    );
    faults::kill_and_freeze("redis_cluster", config, &node, Duration::from_secs(3)).await;
}
