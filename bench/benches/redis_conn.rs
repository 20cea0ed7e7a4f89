//! The two Redis connection styles side by side: multiplexed
//! `ConnectionManager` against an r2d2 pool with `spawn_blocking`, plus the
//! engine's own read-only request. (HTTP figures: `benches/http.rs`.)
//!
//! ```text
//! cargo bench -p actix-bee-bench --bench redis_conn
//! ```
//!
//! Env: `ACTIX_BEE_REDIS_PRIVATE_URL` (default `redis://127.0.0.1:6399/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

#[path = "support/redis_keys.rs"]
mod redis_keys;
use redis_keys::redis_url;

const PREFIX: &str = "actix-bee-bench:";

fn main() {
    conn();
}

// ---------------------------------------------------------------- connections

const TASKS: usize = 64;
const CONN_SECS: Duration = Duration::from_secs(5);

/// Runs `TASKS` local tasks, each repeating `op` until the time is up;
/// returns operations per second.
async fn ops_per_sec<F, Fut>(op: F) -> f64
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let end = Instant::now() + CONN_SECS;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let op = op.clone();
            tokio::task::spawn_local(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    op().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / CONN_SECS.as_secs_f64()
}

/// 64 concurrent "requests", each one pipelined HGETALL+PTTL (the engine's
/// read), on one current-thread runtime like an actix worker; and the
/// engine's own read-only request for reference.
fn conn() {
    use actix_bee::session::{IdGenerator, Provider};
    use redis::aio::ConnectionManager;
    let key = std::rc::Rc::new(format!("{PREFIX}conn"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let client = redis::Client::open(redis_url()).unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&*key)
        .arg("v:asta")
        .arg(1)
        .query(&mut client.get_connection().unwrap())
        .unwrap();

    let multiplexed = local.block_on(&rt, async {
        let cm = ConnectionManager::new(client.clone()).await.unwrap();
        let key = key.clone();
        ops_per_sec(move || {
            let (mut cm, key) = (cm.clone(), key.clone());
            async move {
                let _: (Vec<(String, String)>, i64) = redis::pipe()
                    .hgetall(&*key)
                    .pttl(&*key)
                    .query_async(&mut cm)
                    .await
                    .unwrap();
            }
        })
        .await
    });

    let pooled = local.block_on(&rt, async {
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .build(client.clone())
            .unwrap();
        let key = (*key).clone();
        ops_per_sec(move || {
            let (pool, key) = (pool.clone(), key.clone());
            async move {
                tokio::task::spawn_blocking(move || {
                    let mut c = pool.get().unwrap();
                    let _: (Vec<(String, String)>, i64) = redis::pipe()
                        .hgetall(&key)
                        .pttl(&key)
                        .query(&mut *c)
                        .unwrap();
                })
                .await
                .unwrap();
            }
        })
        .await
    });

    let engine = local.block_on(&rt, async {
        let mut p = actix_bee::session::redis::RedisProvider::default();
        let config = format!("{}?key_prefix={PREFIX}conn:", redis_url());
        p.session_init(Duration::from_secs(3600), &config)
            .await
            .unwrap();
        let p = std::rc::Rc::new(p);
        let sid = IdGenerator::default().generate().unwrap();
        let s = p.session_read(&sid).await.unwrap();
        s.set("asta", &1).await.unwrap();
        s.session_release().await.unwrap();
        ops_per_sec(move || {
            let (p, sid) = (p.clone(), sid.clone());
            async move {
                let s = p.session_read(&sid).await.unwrap();
                s.session_release().await.unwrap();
            }
        })
        .await
    });
    let _: i64 = redis::cmd("DEL")
        .arg(&*key)
        .query(&mut client.get_connection().unwrap())
        .unwrap();
    redis_keys::delete_prefixed(PREFIX);
    println!("connection style ({TASKS} concurrent HGETALL+PTTL, one current-thread runtime, {CONN_SECS:?}):");
    println!("  multiplexed ConnectionManager:   {multiplexed:.0} ops/s");
    println!("  r2d2 pool (16) + spawn_blocking: {pooled:.0} ops/s");
    println!("  engine session_read + release (read-only): {engine:.0} ops/s");
}
