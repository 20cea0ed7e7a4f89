//! The GC task really runs: `session_gc` every `gc_lifetime` seconds, not
//! before the first period, never after `stop`; `web::App` starts it with
//! the server and stops it when the server ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::memory::MemoryProvider;
use actix_bee::session::testing::delegate::{Delegate, Hooks};
use actix_bee::session::{Manager, ManagerConfig, Result};
use async_trait::async_trait;

/// Counts the GC calls the engine gets.
struct CountingGc(Arc<AtomicUsize>);

#[async_trait]
impl Hooks for CountingGc {
    async fn before_gc(&self) -> Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn counting_manager(gc_secs: i64) -> (Manager, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = Delegate::new(
        Box::new(MemoryProvider::default()),
        Arc::new(CountingGc(calls.clone())),
    );
    let mut cfg = ManagerConfig::default();
    cfg.gc_lifetime = gc_secs;
    let manager = Manager::with_provider(Box::new(provider), cfg)
        .await
        .expect("manager");
    (manager, calls)
}

/// Driven by tokio's paused clock: exact, and instant in real time.
#[actix_rt::test]
async fn gc_runs_every_period_and_stops() {
    tokio::time::pause();
    let (manager, calls) = counting_manager(10).await;
    let gc = manager.gc().unwrap();
    tokio::time::sleep(Duration::from_millis(9_900)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0, "GC ran before one period");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one call per period");
    assert!(gc.is_running());
    gc.stop();
    tokio::time::sleep(Duration::from_secs(100)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "GC ran after stop");
}

/// `App::listen` starts the task; the server's end stops it. Real time
/// (the server needs real sockets), with a 1 s period and bounded waits.
#[actix_rt::test]
async fn the_app_starts_and_stops_the_gc_task() {
    let (manager, calls) = counting_manager(1).await;
    let mut app = actix_bee::web::App::new(actix_bee::config::BConfig::default());
    app.with_manager(manager);
    let listening = app.listen("127.0.0.1:0").await.expect("listen");
    let handle = listening.handle();
    let server = actix_rt::spawn(listening.run());
    // At least two calls, waited for up to 30 s (a slow machine is fine).
    let mut waited = Duration::ZERO;
    while calls.load(Ordering::SeqCst) < 2 {
        assert!(
            waited < Duration::from_secs(30),
            "GC did not run twice in 30 s"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    handle.stop(true).await;
    server.await.expect("server task").expect("server");
    let after_stop = calls.load(Ordering::SeqCst);
    actix_rt::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        after_stop,
        "GC kept running after the server stopped"
    );
}
