//! The memcache engine against a real memcached, the binary's own
//! (`support/servers.rs`).

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/deadline.rs"]
mod deadline;
#[path = "support/faults.rs"]
mod faults;
#[path = "support/procs.rs"]
mod procs;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/servers.rs"]
mod servers;

use actix_bee::session::memcache::MemcacheProvider;
use actix_bee::session::{Error, IdGenerator, Provider, SessionId};
use deadline::within;

fn addr() -> String {
    servers::setting("MEMCACHE_ADDR")
}

/// Fails the test, with a hint, when memcached is not reachable.
fn require_server() -> String {
    let addr = addr();
    if let Err(e) = TcpStream::connect(&addr) {
        panic!("memcached is not reachable at {addr} ({e})");
    }
    addr
}

/// A prefix no other test (or run) shares, so counts are exact.
fn unique_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "abt:{}:{}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        actix_bee::session::engine::now_ms()
    )
}

async fn memcache() -> (Box<dyn Provider>, String) {
    let addr = require_server();
    (
        Box::new(MemcacheProvider::default()),
        format!("{addr},prefix={}", unique_prefix()),
    )
}

actix_bee::conformance_tests!(memcache);
actix_bee::conformance_tests!(memcache, no_owner_index);

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(memcache).await;
}

async fn provider(idle: Duration) -> (Arc<dyn Provider>, String) {
    let addr = require_server();
    let prefix = unique_prefix();
    let mut p = MemcacheProvider::default();
    p.session_init(idle, &format!("{addr},prefix={prefix}"))
        .await
        .expect("session_init");
    (Arc::new(p), prefix)
}

fn raw_client() -> memcache::Client {
    memcache::Client::connect(format!("memcache://{}?timeout=3", require_server()))
        .expect("raw memcache client")
}

fn new_id() -> SessionId {
    IdGenerator::default().generate().unwrap()
}

async fn create(p: &Arc<dyn Provider>, key: &str, value: i64) -> SessionId {
    let sid = new_id();
    let store = p.session_read(&sid).await.unwrap();
    store.set(key, &value).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    sid
}

/// memcached reads an expiration over 30 days as a unix time: a 31-day
/// lifetime sent as seconds would mean 1970 and expire at once.
#[actix_rt::test]
async fn thirty_one_day_lifetime_still_finds_the_session() {
    let (p, prefix) = provider(Duration::from_secs(31 * 24 * 3600)).await;
    let sid = create(&p, "k", 31).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Straight from memcached, so the record check cannot mask an expiry.
    let raw: Option<Vec<u8>> = raw_client()
        .get(&format!("{prefix}{}", sid.as_str()))
        .unwrap();
    assert!(
        raw.is_some(),
        "memcached dropped a 31-day session after 1 s"
    );
    let store = p.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(31));
    // Writes (CAS path) keep the absolute form too.
    store.set("k", &32).await.unwrap();
    store.session_release().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let store = p.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(32));
}

/// Sessions live under the configured prefix, as one item each.
#[actix_rt::test]
async fn keys_carry_the_prefix() {
    let (p, prefix) = provider(Duration::from_secs(60)).await;
    let sid = create(&p, "k", 1).await;
    let raw: Option<Vec<u8>> = raw_client()
        .get(&format!("{prefix}{}", sid.as_str()))
        .unwrap();
    assert!(raw.is_some());
    let bare: Option<Vec<u8>> = raw_client().get(sid.as_str()).unwrap();
    assert!(bare.is_none());
}

/// beego dereferences a nil item here and panics; an evicted old id gives
/// an empty new session instead.
#[actix_rt::test]
async fn evicted_id_regenerates_to_an_empty_session() {
    let (p, prefix) = provider(Duration::from_secs(60)).await;
    let old = create(&p, "k", 1).await;
    // Eviction, as memcached does it: the item is simply gone.
    assert!(raw_client()
        .delete(&format!("{prefix}{}", old.as_str()))
        .unwrap());
    let new = new_id();
    let store = p.session_regenerate(&old, &new).await.unwrap();
    assert_eq!(store.session_id(), new);
    assert!(store.meta().is_new);
    assert_eq!(store.get::<i64>("k").await.unwrap(), None);
    store.set("after", &2).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    assert!(p.session_exist(&new).await.unwrap());
    assert!(!p.session_exist(&old).await.unwrap());
}

/// Besides the suite's case: a read-only request (a touch) after a logout
/// cannot write the session back either.
#[actix_rt::test]
async fn no_resurrection_by_a_touch_or_a_write() {
    // Idle 4 s: a read-only release touches once 1 s has passed.
    let (p, _) = provider(Duration::from_secs(4)).await;
    let sid = create(&p, "k", 1).await;
    let slow = p.session_read(&sid).await.unwrap();
    let touch_only = p.session_read(&sid).await.unwrap();
    p.session_destroy(&sid).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    slow.set("late", &2).await.unwrap();
    assert!(!slow.session_release().await.unwrap().written);
    assert!(!touch_only.session_release().await.unwrap().written);
    assert!(!p.session_exist(&sid).await.unwrap());
    // The same touch on a live session does write.
    let live = create(&p, "k", 1).await;
    let reader = p.session_read(&live).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(reader.session_release().await.unwrap().written);
}

/// Garbage under a session key is `Error::Corrupt`, not a panic.
#[actix_rt::test]
async fn corrupt_item_is_an_error() {
    let (p, prefix) = provider(Duration::from_secs(60)).await;
    let sid = new_id();
    raw_client()
        .set(&format!("{prefix}{}", sid.as_str()), "not a record", 60)
        .unwrap();
    assert!(matches!(p.session_read(&sid).await, Err(Error::Corrupt(_))));
}

/// A closed port gives `Error::Backend` (a 503), no panic, on every call.
#[actix_rt::test]
async fn closed_port_is_a_backend_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut p = MemcacheProvider::default();
    p.session_init(
        Duration::from_secs(60),
        &format!("127.0.0.1:{port},connect_timeout=0.5,timeout=0.5"),
    )
    .await
    .expect("session_init is lazy and does not connect");
    let sid = new_id();
    // Timeouts of 0.5 s: each call is bounded by them (refused at once, in
    // fact); a few seconds is the limit, so a hang fails the test.
    let limit = Duration::from_secs(5);
    for err in [
        within(limit, "read", p.session_read(&sid)).await.err(),
        within(limit, "exist", p.session_exist(&sid)).await.err(),
        within(limit, "destroy", p.session_destroy(&sid))
            .await
            .err(),
        within(limit, "regenerate", p.session_regenerate(&sid, &new_id()))
            .await
            .err(),
        within(limit, "all", p.session_all()).await.err(),
    ] {
        let err = err.expect("a closed port must fail");
        assert!(matches!(err, Error::Backend { .. }), "{err:?}");
        assert!(err.is_transient());
    }
}

/// Bad configs fail at init with `Error::Config`, and never echo a password.
#[actix_rt::test]
async fn bad_config_is_a_config_error() {
    for bad in ["", "localhost", "memcache://u:hunter2@h:1?protocol=ascii"] {
        let mut p = MemcacheProvider::default();
        match p.session_init(Duration::from_secs(60), bad).await {
            Err(e @ Error::Config { .. }) => assert!(!e.to_string().contains("hunter2"), "{e}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

/// A memcached of the test's own, killed (SIGKILL, then started again:
/// the sessions are gone, as memcached keeps nothing) and frozen (SIGSTOP,
/// then SIGCONT) under load (tests/support/faults.rs); I/O timeouts of 1 s.
#[actix_web::test]
async fn backend_faults_give_503s_in_time_and_recover() {
    let server = procs::ServerProc::memcached();
    let config = format!(
        "127.0.0.1:{},connect_timeout=1,timeout=1,call_timeout=2",
        server.port()
    );
    faults::kill_and_freeze("memcache", config, &server, Duration::from_secs(4)).await;
}

/// One write of the race below: its key, whether the engine acknowledged
/// it, and when its release started and ended.
struct RacedWrite {
    key: String,
    acknowledged: bool,
    started: Instant,
    ended: Instant,
}

/// Regenerate racing with writers of the old id: every write the engine
/// acknowledged (`written: true`) is in the new session, and no other. A
/// move that reads, adds and then deletes loses the writes that land
/// between its read and its delete; a CAS move retries instead.
///
/// Each writer holds sessions read before the move and releases them one
/// after another, from before the move starts until it is over, so writes
/// land during the move: the test counts the acknowledged writes whose
/// release started before the move ended and ended after it started, and
/// requires some.
#[actix_rt::test]
async fn regenerate_keeps_every_acknowledged_write_to_the_old_id() {
    const ROUNDS: usize = 20;
    const WRITERS: usize = 8;
    /// Sessions each writer holds: more than it can release in one move.
    const HELD: usize = 40;
    let (mut provider, config) = memcache().await;
    provider
        .session_init(Duration::from_secs(3600), &config)
        .await
        .unwrap();
    let provider: Arc<dyn Provider> = Arc::from(provider);
    let (mut acknowledged_total, mut during_move) = (0, 0);
    for round in 0..ROUNDS {
        let old = IdGenerator::default().generate().unwrap();
        let store = provider.session_new(&old).await.unwrap();
        store.set("base", &0).await.unwrap();
        store.session_release().await.unwrap();
        let new = IdGenerator::default().generate().unwrap();
        let over = Arc::new(AtomicBool::new(false));
        let first_writes = Arc::new(tokio::sync::Barrier::new(WRITERS + 1));
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let mut held = Vec::new();
            for _ in 0..HELD {
                held.push(provider.session_read(&old).await.unwrap());
            }
            let (over, first_writes) = (over.clone(), first_writes.clone());
            writers.push(tokio::spawn(async move {
                let mut done = Vec::new();
                for (j, store) in held.into_iter().enumerate() {
                    if j > 0 && over.load(Ordering::SeqCst) {
                        break;
                    }
                    let key = format!("k{w}_{j}");
                    store.set(&key, &j).await.unwrap();
                    let started = Instant::now();
                    let acknowledged = store.session_release().await.unwrap().written;
                    let ended = Instant::now();
                    done.push(RacedWrite {
                        key,
                        acknowledged,
                        started,
                        ended,
                    });
                    if j == 0 {
                        first_writes.wait().await;
                    }
                }
                done
            }));
        }
        // The move starts once every writer has written once (a writer that
        // failed never arrives: the limit stops the hang).
        within(
            Duration::from_secs(30),
            "the writers' first writes",
            first_writes.wait(),
        )
        .await;
        let move_started = Instant::now();
        provider.session_regenerate(&old, &new).await.unwrap();
        let move_ended = Instant::now();
        over.store(true, Ordering::SeqCst);
        let mut writes = Vec::new();
        for w in writers {
            writes.extend(w.await.unwrap());
        }
        assert!(
            !provider.session_exist(&old).await.unwrap(),
            "round {round}: old id alive"
        );
        let moved = provider.session_read(&new).await.unwrap();
        for write in &writes {
            let there = moved.get::<usize>(&write.key).await.unwrap().is_some();
            assert_eq!(
                there, write.acknowledged,
                "round {round}: {} acknowledged {}, in the new session {there} \
                 (an acknowledged write to the old id lost by the move, or an \
                 unacknowledged one kept)",
                write.key, write.acknowledged
            );
            if write.acknowledged {
                acknowledged_total += 1;
                if write.started < move_ended && write.ended > move_started {
                    during_move += 1;
                }
            }
        }
        provider.session_destroy(&new).await.unwrap();
    }
    eprintln!("acknowledged writes checked: {acknowledged_total}, during the move: {during_move}");
    assert!(
        during_move > 0,
        "no acknowledged write overlapped a move ({acknowledged_total} before them)"
    );
}
