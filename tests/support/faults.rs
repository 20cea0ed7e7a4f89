//! Backend faults under load, one harness for every networked engine: the
//! engine talks to its server through a [`FaultProxy`] of the test's own,
//! an app counts per session (`/count`) beside a route that never touches
//! the session (`/plain`), and the proxy kills, then freezes, the backend.
//!
//! For each fault it checks: `/plain` still answers 200; every `/count` in
//! a burst of concurrent requests answers 503 within `deadline`; after
//! `resume` the app recovers by itself within a bounded wait; and no write
//! that was acknowledged (a 200) is lost.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use actix_bee::session::{Error, Manager, ManagerConfig, Session};
use actix_bee::web::SessionMiddleware;
use actix_web::{test, web, App};

use super::proxy::FaultProxy;

/// Concurrent `/count` requests sent while the backend is faulty.
const BURST: usize = 8;

/// What one fault did, for the test's output.
#[derive(Debug)]
pub struct FaultReport {
    /// `kill` or `freeze`.
    pub fault: &'static str,
    /// The slowest 503 of the burst.
    pub worst_503: Duration,
    /// From `resume` to the first 200.
    pub recovery: Duration,
}

/// Runs kill and freeze against `engine`, whose `sessionproviderconfig`
/// (`provider_config`) points at `proxy`. Panics on any broken promise.
pub async fn kill_and_freeze(
    engine: &str,
    provider_config: String,
    proxy: &FaultProxy,
    deadline: Duration,
) -> Vec<FaultReport> {
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = provider_config;
    let manager = Manager::new(engine, cfg).await.expect("manager");
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(manager.clone()))
            .route("/plain", web::get().to(|| async { "plain" }))
            .route(
                "/count",
                web::get().to(|s: Session| async move {
                    let n = s.get::<i64>("n").await?.unwrap_or(0);
                    s.set("n", &(n + 1)).await?;
                    Ok::<_, Error>((n + 1).to_string())
                }),
            ),
    )
    .await;
    let get = |uri: &str, cookie: &str| {
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("cookie", format!("beegosessionID={cookie}")))
            .to_request()
    };
    let res = test::call_service(&app, test::TestRequest::get().uri("/count").to_request()).await;
    assert_eq!(res.status(), 200, "{engine}: first request");
    let cookie = res
        .response()
        .cookies()
        .next()
        .expect("a session cookie")
        .value()
        .to_owned();
    let mut acknowledged = 1i64;
    let mut reports = Vec::new();
    for fault in ["kill", "freeze"] {
        match fault {
            "kill" => proxy.kill(),
            _ => proxy.freeze(),
        }
        let res = test::call_service(&app, get("/plain", &cookie)).await;
        assert_eq!(res.status(), 200, "{engine} {fault}: /plain");
        let burst = (0..BURST).map(|_| async {
            let started = Instant::now();
            let res = test::call_service(&app, get("/count", &cookie)).await;
            (res.status().as_u16(), started.elapsed())
        });
        let answers = futures_util::future::join_all(burst).await;
        let mut worst = Duration::ZERO;
        for (status, took) in answers {
            assert_eq!(status, 503, "{engine} {fault}: a /count during the fault");
            assert!(
                took <= deadline,
                "{engine} {fault}: a 503 after {took:?} (deadline {deadline:?})"
            );
            worst = worst.max(took);
        }
        proxy.resume();
        let resumed = Instant::now();
        let limit = deadline * 3 + Duration::from_secs(10);
        loop {
            let res = test::call_service(&app, get("/count", &cookie)).await;
            if res.status() == 200 {
                acknowledged += 1;
                let body = test::read_body(res).await;
                assert_eq!(
                    body,
                    acknowledged.to_string().as_bytes(),
                    "{engine} {fault}: an acknowledged write was lost"
                );
                break;
            }
            assert!(
                resumed.elapsed() < limit,
                "{engine} {fault}: no recovery within {limit:?}"
            );
            actix_rt::time::sleep(Duration::from_millis(100)).await;
        }
        reports.push(FaultReport {
            fault,
            worst_503: worst,
            recovery: resumed.elapsed(),
        });
    }
    let _ = manager
        .provider()
        .session_destroy(&actix_bee::session::IdGenerator::sealed(&cookie))
        .await;
    eprintln!("{engine} faults: {reports:?}");
    reports
}
