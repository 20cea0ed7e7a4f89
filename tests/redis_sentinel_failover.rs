//! A Sentinel failover while requests run: errors are `Error::Backend`,
//! never panics; sessions written (and replicated) before are readable
//! after; the engine finds the new master by itself. The test ends only once
//! the topology is healthy again (sentinels agree, the new master takes
//! writes and has an online replica), whichever node is master.

#[path = "support/redis.rs"]
mod redis_common;
#[path = "support/servers.rs"]
mod servers;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_bee::session::redis::sentinel::RedisSentinelProvider;
use actix_bee::session::{Error, IdGenerator, Provider, SessionId};
use redis_common::prefix;

fn sentinels() -> Vec<String> {
    servers::setting("SENTINELS")
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn master_name() -> String {
    servers::setting("SENTINEL_MASTER")
}

async fn conn(addr: &str) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://{addr}/"))?;
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    client
        .get_multiplexed_async_connection_with_config(&cfg)
        .await
}

async fn sentinel_master(sentinel: &str) -> redis::RedisResult<String> {
    let mut c = conn(sentinel).await?;
    let (host, port): (String, u16) = redis::cmd("SENTINEL")
        .arg("GET-MASTER-ADDR-BY-NAME")
        .arg(master_name())
        .query_async(&mut c)
        .await?;
    Ok(format!("{host}:{port}"))
}

/// The master every sentinel agrees on, once it takes writes and has an
/// online replica; `None` while that is not (yet) so.
async fn healthy_master() -> redis::RedisResult<Option<String>> {
    let mut agreed: Option<String> = None;
    for s in sentinels() {
        let m = sentinel_master(&s).await?;
        if agreed.as_ref().is_some_and(|a| *a != m) {
            return Ok(None);
        }
        agreed = Some(m);
    }
    let Some(master) = agreed else {
        return Ok(None);
    };
    let mut c = conn(&master).await?;
    let set: redis::RedisResult<()> = redis::cmd("SET")
        .arg("actix-bee-test:failover-probe")
        .arg(1)
        .arg("PX")
        .arg(10_000)
        .query_async(&mut c)
        .await;
    if set.is_err() {
        return Ok(None);
    }
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut c)
        .await?;
    let online = info
        .lines()
        .any(|l| l.starts_with("slave") && l.contains("state=online"));
    Ok(online.then_some(master))
}

async fn wait_healthy(within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        match healthy_master().await {
            Ok(Some(m)) => return m,
            Ok(None) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            other => panic!("sentinel topology not healthy within {within:?} ({other:?})"),
        }
    }
}

#[actix_rt::test]
async fn failover_keeps_sessions_and_errors_cleanly() {
    let old_master = wait_healthy(Duration::from_secs(90)).await;
    let prefix = prefix();
    let config = format!(
        r#"{{"save_path":"{}","master_name":"{}","key_prefix":"{prefix}","connect_timeout":"1s","response_timeout":"1s"}}"#,
        sentinels().join(";"),
        master_name()
    );
    let mut provider = RedisSentinelProvider::default();
    provider
        .session_init(Duration::from_secs(3600), &config)
        .await
        .unwrap();
    let provider = Arc::new(provider);

    let gen = IdGenerator::default();
    let mut sids: Vec<SessionId> = Vec::new();
    for i in 0..20u32 {
        let sid = gen.generate().unwrap();
        let s = provider.session_read(&sid).await.unwrap();
        s.set("i", &i).await.unwrap();
        s.session_release().await.unwrap();
        sids.push(sid);
    }
    // WAIT counts this connection's writes, and replication is ordered, so
    // once this marker reached the replica, so did every session above.
    let mut m = conn(&old_master).await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}marker"))
        .arg(1)
        .arg("PX")
        .arg(60_000)
        .query_async(&mut m)
        .await
        .unwrap();
    let acked: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(5000)
        .query_async(&mut m)
        .await
        .unwrap();
    assert!(acked >= 1, "replica did not acknowledge the writes");

    // Requests keep running through the failover.
    let stop = Arc::new(AtomicBool::new(false));
    let (oks, errs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (provider, stop, oks, errs, sids) = (
            provider.clone(),
            stop.clone(),
            oks.clone(),
            errs.clone(),
            sids.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let sid = &sids[n % sids.len()];
                n += 1;
                let result = async {
                    let s = provider.session_read(sid).await?;
                    s.set("hits", &n).await?;
                    s.session_release().await
                }
                .await;
                match result {
                    Ok(_) => oks.fetch_add(1, Ordering::Relaxed),
                    Err(e @ Error::Backend { .. }) => {
                        let _ = e;
                        errs.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(other) => panic!("unexpected error during failover: {other}"),
                };
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut s = conn(&sentinels()[0]).await.unwrap();
    let reply: String = redis::cmd("SENTINEL")
        .arg("FAILOVER")
        .arg(master_name())
        .query_async(&mut s)
        .await
        .unwrap();
    assert_eq!(reply, "OK");

    // The sentinels agree on another master, it takes writes, and the old
    // master is back as its online replica (so writes to it now fail).
    let deadline = Instant::now() + Duration::from_secs(90);
    let new_master = loop {
        if let Ok(Some(m)) = healthy_master().await {
            if m != old_master {
                break m;
            }
        }
        assert!(
            Instant::now() < deadline,
            "failover did not complete within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // The engine finds the new master by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = async {
            let s = provider.session_read(&sids[0]).await?;
            s.set("after", &true).await?;
            s.session_release().await
        }
        .await;
        match ok {
            Ok(r) if r.written => break,
            Ok(_) => panic!("session 0 vanished in the failover"),
            Err(Error::Backend { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("engine did not recover after the failover: {e}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    load.await.expect("request task panicked");
    assert!(oks.load(Ordering::Relaxed) > 0);

    for (i, sid) in sids.iter().enumerate() {
        let s = provider.session_read(sid).await.unwrap();
        assert!(!s.meta().is_new, "session {i} lost in the failover");
        assert_eq!(s.get::<u32>("i").await.unwrap(), Some(i as u32));
    }
    let mut direct = conn(&new_master).await.unwrap();
    let role: Vec<redis::Value> = redis::cmd("ROLE").query_async(&mut direct).await.unwrap();
    assert_eq!(
        role.first(),
        Some(&redis::Value::BulkString(b"master".to_vec()))
    );
    println!(
        "failover {old_master} -> {new_master}: {} ok, {} backend errors during it",
        oks.load(Ordering::Relaxed),
        errs.load(Ordering::Relaxed)
    );

    // The engine's write after the failover is on the new master.
    let after: bool = redis::cmd("HEXISTS")
        .arg(format!("{prefix}{}", sids[0].as_str()))
        .arg("v:after")
        .query_async(&mut direct)
        .await
        .unwrap();
    assert!(after, "the engine did not write to the new master");
    for sid in &sids {
        provider.session_destroy(sid).await.unwrap();
    }
    let _: () = redis::cmd("DEL")
        .arg(format!("{prefix}marker"))
        .query_async(&mut direct)
        .await
        .unwrap();
}
