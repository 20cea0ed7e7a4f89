//! The `metrics` feature with a recorder installed: each counter and
//! histogram moves as the operations say, on memory, file, redis and
//! postgresql, including an eviction past the memory cap, a refusal on a
//! full file directory and a timeout of a frozen Redis; and the readiness
//! route answers 200, then 503 within its deadline while the backend is
//! frozen, then 200 again after the thaw.

#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "support/deadline.rs"]
mod deadline;
#[path = "support/faults.rs"]
mod faults;
#[path = "support/procs.rs"]
mod procs;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_bee::session::{Manager, ManagerConfig, RequestIds, SessionId};
use actix_bee::web::health_check;
use actix_web::{test, App};
use faults::Fault;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// What the recorder saw, summed over snapshots (a snapshot drains
/// counters and histograms): counters and histogram sample counts by
/// `name{label=value,...}`, and the last value each gauge was set to.
#[derive(Default)]
struct Seen {
    sums: HashMap<String, u64>,
    gauges: HashMap<String, f64>,
}

fn recorder() -> &'static (Snapshotter, Mutex<Seen>) {
    static RECORDER: OnceLock<(Snapshotter, Mutex<Seen>)> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().unwrap();
        (snapshotter, Mutex::default())
    })
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

/// The total of counter or histogram `name` with exactly `labels`.
fn total(name: &str, labels: &[(&str, &str)]) -> u64 {
    let (snapshotter, seen) = recorder();
    let mut seen = seen.lock().unwrap();
    for (ck, _, _, value) in snapshotter.snapshot().into_vec() {
        let (k, labels) = ck.key().clone().into_parts();
        let labels: Vec<(String, String)> = labels
            .into_iter()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        let refs: Vec<(&str, &str)> = labels
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let id = key(k.as_str(), &refs);
        match value {
            DebugValue::Counter(n) => *seen.sums.entry(id).or_default() += n,
            DebugValue::Histogram(xs) => *seen.sums.entry(id).or_default() += xs.len() as u64,
            DebugValue::Gauge(g) if g.0 != 0.0 => {
                seen.gauges.insert(id, g.0);
            }
            DebugValue::Gauge(_) => {}
        }
    }
    let id = key(name, labels);
    seen.sums.get(&id).copied().unwrap_or(0)
}

fn gauge(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    total(name, labels);
    let seen = recorder().1.lock().unwrap();
    seen.gauges.get(&key(name, labels)).copied()
}

fn calls(engine: &str, op: &str) -> u64 {
    total(
        "actix_bee_backend_call_seconds",
        &[("engine", engine), ("op", op)],
    )
}

fn sessions(what: &str, engine: &str) -> u64 {
    total(
        &format!("actix_bee_sessions_{what}_total"),
        &[("engine", engine)],
    )
}

fn errors(engine: &str, kind: &str) -> u64 {
    total(
        "actix_bee_backend_errors_total",
        &[("engine", engine), ("kind", kind)],
    )
}

/// A manager over `engine` with the recorder installed first.
async fn manager(engine: &str, provider_config: &str, max_lifetime: i64) -> Manager {
    recorder();
    let mut cfg = ManagerConfig::default();
    cfg.max_lifetime = max_lifetime;
    cfg.provider_config = provider_config.into();
    Manager::new(engine, cfg).await.unwrap()
}

/// One request that sets `k` on a new session: its id.
async fn create(m: &Manager) -> SessionId {
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("k", &1).await.unwrap();
    m.session_release(&s).await.unwrap();
    s.session_id().await.unwrap()
}

async fn resume(m: &Manager, sid: &SessionId) -> actix_bee::session::Session {
    m.session_start(&RequestIds {
        cookie: Some(sid.as_str()),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Create, write, regenerate, destroy and GC on `engine`, each moving its
/// counter and its call histogram by exactly what it did. `gc_removes`:
/// the engine's GC removes expired sessions (Redis expires them itself, so
/// its GC counts none).
async fn lifecycle(m: &Manager, engine: &str, gc_removes: bool) {
    let before = |what| sessions(what, engine);
    let (created, destroyed, regenerated) = (
        before("created"),
        before("destroyed"),
        before("regenerated"),
    );
    let (inserts, writes, loads, moves, removes) = (
        calls(engine, "insert"),
        calls(engine, "write"),
        calls(engine, "load"),
        calls(engine, "move"),
        calls(engine, "remove"),
    );
    let sid = create(m).await;
    assert_eq!(sessions("created", engine), created + 1, "{engine}");
    assert_eq!(calls(engine, "insert"), inserts + 1, "{engine}");
    // A request that reads and writes its session.
    let s = resume(m, &sid).await;
    s.set("k", &2).await.unwrap();
    m.session_release(&s).await.unwrap();
    assert_eq!(calls(engine, "load"), loads + 1, "{engine}");
    assert_eq!(calls(engine, "write"), writes + 1, "{engine}");
    assert_eq!(
        sessions("created", engine),
        created + 1,
        "{engine}: an update is no create"
    );
    // Regenerate, then destroy.
    let s = resume(m, &sid).await;
    s.regenerate_id().await.unwrap();
    m.session_release(&s).await.unwrap();
    assert_eq!(sessions("regenerated", engine), regenerated + 1, "{engine}");
    assert_eq!(calls(engine, "move"), moves + 1, "{engine}");
    s.destroy().await.unwrap();
    assert_eq!(sessions("destroyed", engine), destroyed + 1, "{engine}");
    assert_eq!(calls(engine, "remove"), removes + 1, "{engine}");
    // GC of two sessions that expired (a 1 s lifetime manager's).
    let short = manager(engine, &m.config().provider_config, 1).await;
    let (expired, gcs) = (sessions("expired", engine), calls(engine, "gc"));
    create(&short).await;
    create(&short).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    short.provider().session_gc().await.unwrap();
    assert_eq!(calls(engine, "gc"), gcs + 1, "{engine}");
    let removed = sessions("expired", engine) - expired;
    if gc_removes {
        assert!(
            removed >= 2,
            "{engine}: GC removed {removed} sessions, want 2"
        );
    } else {
        assert_eq!(removed, 0, "{engine}: the backend expires sessions itself");
    }
}

#[actix_rt::test]
async fn memory_metrics_move_as_the_operations_say() {
    let m = manager("memory", "", 3600).await;
    lifecycle(&m, "memory", true).await;

    // Log out everywhere.
    let logouts = total("actix_bee_owner_logouts_total", &[("engine", "memory")]);
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set_owner("alice").await.unwrap();
    m.session_release(&s).await.unwrap();
    assert_eq!(m.destroy_sessions_of("alice", None).await.unwrap(), 1);
    assert_eq!(
        total("actix_bee_owner_logouts_total", &[("engine", "memory")]),
        logouts + 1
    );

    // Past the cap, the least recently used are evicted, and counted.
    let capped = manager("memory", "max_sessions=64", 3600).await;
    let evictions = total("actix_bee_memory_evictions_total", &[]);
    for _ in 0..200 {
        create(&capped).await;
    }
    let evicted = total("actix_bee_memory_evictions_total", &[]) - evictions;
    let live = capped.get_active_session().await.unwrap() as u64;
    assert!(evicted > 0, "no eviction counted");
    assert_eq!(evicted + live, 200, "evicted {evicted}, live {live}");

    // The live gauge, refreshed at most once a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    create(&capped).await;
    let live = capped.get_active_session().await.unwrap() as f64;
    // Another test's memory managers share the label: at least this one's.
    let seen = gauge("actix_bee_sessions_live", &[("engine", "memory")]).unwrap();
    assert!(
        seen >= 1.0,
        "live gauge {seen}, this manager alone holds {live}"
    );
}

#[actix_rt::test]
async fn file_metrics_and_refusals_of_a_full_directory() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager("file", dir.path().to_str().unwrap(), 3600).await;
    lifecycle(&m, "file", true).await;

    let full = tempfile::tempdir().unwrap();
    let config = format!("{}?max_sessions=1", full.path().to_str().unwrap());
    let m = manager("file", &config, 3600).await;
    create(&m).await;
    let (refusals, fulls) = (
        total("actix_bee_file_refusals_total", &[]),
        errors("file", "full"),
    );
    for _ in 0..5 {
        let s = m.session_start(&RequestIds::default()).await.unwrap();
        s.set("k", &1).await.unwrap();
        assert!(m.session_release(&s).await.unwrap_err().is_transient());
    }
    assert_eq!(total("actix_bee_file_refusals_total", &[]), refusals + 5);
    assert_eq!(errors("file", "full"), fulls + 5);
    // The budget's count is the gauge (set at the first create above).
    assert!(gauge("actix_bee_sessions_live", &[("engine", "file")]).is_some());
}

#[actix_rt::test]
async fn postgresql_metrics_move_as_the_operations_say() {
    let url = std::env::var("ACTIX_BEE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let table = format!("bee_t_{secs}_{:08x}", rand::random::<u32>());
    let m = manager("postgresql", &format!("{url}?table={table}"), 3600).await;
    lifecycle(&m, "postgresql", true).await;
}

/// A Redis of the test's own: the lifecycle, then frozen (SIGSTOP): a
/// timeout is counted, and the readiness route says 503 within its
/// deadline; thawed, it says 200 again.
#[actix_rt::test]
async fn redis_metrics_timeouts_and_readiness() {
    let server = procs::ServerProc::redis();
    let config = format!(
        r#"{{"save_path":"127.0.0.1:{}","connect_timeout":"1s","response_timeout":"1s","max_retries":0}}"#,
        server.port()
    );
    let m = manager("redis", &config, 3600).await;
    lifecycle(&m, "redis", false).await;

    let deadline = Duration::from_millis(500);
    let app =
        test::init_service(App::new().route("/healthz", health_check(m.clone(), deadline))).await;
    let get = || test::TestRequest::get().uri("/healthz").to_request();
    let res = test::call_service(&app, get()).await;
    assert_eq!(res.status(), 200);

    server.freeze();
    let started = Instant::now();
    let res = test::call_service(&app, get()).await;
    let took = started.elapsed();
    assert_eq!(res.status(), 503);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("did not answer within"), "{body}");
    assert!(
        took < deadline + Duration::from_millis(400),
        "503 after {took:?}"
    );
    // A session read on the frozen server: the engine's own deadline.
    let timeouts = errors("redis", "timeout");
    let sid = m.new_session_id().unwrap();
    let read = deadline::within(
        Duration::from_secs(5),
        "a read of a frozen Redis",
        m.provider().session_read(&sid),
    )
    .await;
    let err = read.err().unwrap();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(errors("redis", "timeout"), timeouts + 1);

    server.resume();
    let back = Instant::now();
    loop {
        let res = test::call_service(&app, get()).await;
        if res.status() == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "still 503 after the thaw"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
