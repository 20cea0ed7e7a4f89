//! Helpers shared by the Redis engines' tests.
#![allow(dead_code)]

use actix_bee::session::IdGenerator;

/// A fresh key prefix, so every factory call sees only its own keys.
pub fn prefix() -> String {
    let id = IdGenerator::default().generate().unwrap();
    format!("actix-bee-test:{}:", &id.as_str()[..16])
}

/// An env var, or the scripts/test-servers.sh default.
pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `redis://host:port/` from the env, without the trailing slash.
pub fn redis_url(var: &str, default: &str) -> String {
    env_or(var, default).trim_end_matches('/').to_owned()
}

/// A plain connection for checks behind the engine's back.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).unwrap();
    client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis at {url} is not reachable ({e}); run scripts/test-servers.sh start")
        })
}

/// Deletes every key under `prefix` (SCAN, not KEYS).
pub async fn cleanup(conn: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(&keys)
                .query_async(conn)
                .await
                .unwrap();
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
}
