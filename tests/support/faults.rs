//! Backend faults under load, one harness for every networked engine: the
//! engine talks to its server through a [`FaultProxy`] of the test's own,
//! an app counts per session (`/count`) beside a route that never touches
//! the session (`/plain`), and the proxy kills, then freezes, the backend.
//!
//! For each fault it checks: `/plain` still answers 200; every `/count` in
//! a burst of concurrent requests answers 503 within `deadline`; after
//! `resume` the app recovers by itself within a bounded wait; and no write
//! that was acknowledged (a 200) is lost (except by a kill of a backend
//! that keeps nothing, see [`Fault::durable`]).

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use actix_bee::session::{Error, Manager, ManagerConfig, Session};
use actix_bee::web::SessionMiddleware;
use actix_web::{test, web, App};

use super::proxy::FaultProxy;

/// A backend that can be made faulty: a [`FaultProxy`] in front of a
/// server, or a server process of the test's own.
pub trait Fault {
    /// The backend dies: connections drop, new ones are refused.
    fn kill(&self);
    /// The backend stops answering, connections open.
    fn freeze(&self);
    /// The backend is back (the same one, same port, after either fault).
    fn resume(&self);
    /// False for a backend that loses its data when killed (memcached):
    /// after a kill, the session starts again from nothing.
    fn durable(&self) -> bool {
        true
    }
}

impl Fault for FaultProxy {
    fn kill(&self) {
        FaultProxy::kill(self);
    }
    fn freeze(&self) {
        FaultProxy::freeze(self);
    }
    fn resume(&self) {
        FaultProxy::resume(self);
    }
}

/// A manager of `engine` over `provider_config`.
async fn manager_of(engine: &str, provider_config: String) -> Manager {
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = provider_config;
    Manager::new(engine, cfg).await.expect("manager")
}

/// The session cookie a response sets.
fn cookie_of<B>(res: &actix_web::dev::ServiceResponse<B>) -> String {
    res.response()
        .cookies()
        .next()
        .expect("a session cookie")
        .value()
        .to_owned()
}

/// Concurrent `/count` requests sent while the backend is faulty.
const BURST: usize = 8;

/// What one fault did, for the test's output.
#[derive(Debug)]
pub struct FaultReport {
    /// `kill` or `freeze`.
    pub fault: &'static str,
    /// The slowest 503 of the burst.
    pub worst_503: Duration,
    /// How long `resume` took: a restart after a kill, a `SIGCONT` after
    /// a freeze.
    pub backend_back: Duration,
    /// From the backend's return to the app's first 200 with no restart
    /// of the app.
    pub recovery: Duration,
}

/// Runs kill and freeze against `engine`, whose `sessionproviderconfig`
/// (`provider_config`) points at the faulty backend `proxy`. Panics on any
/// broken promise.
pub async fn kill_and_freeze(
    engine: &str,
    provider_config: String,
    proxy: &impl Fault,
    deadline: Duration,
) -> Vec<FaultReport> {
    let manager = manager_of(engine, provider_config).await;
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
    let mut cookie = cookie_of(&res);
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
        let resuming = Instant::now();
        proxy.resume();
        let backend_back = resuming.elapsed();
        let resumed = Instant::now();
        let limit = deadline * 3 + Duration::from_secs(10);
        loop {
            let res = test::call_service(&app, get("/count", &cookie)).await;
            if res.status() == 200 {
                acknowledged += 1;
                if fault == "kill" && !proxy.durable() {
                    // The session died with the server's memory.
                    acknowledged = 1;
                    if let Some(c) = res.response().cookies().next() {
                        cookie = c.value().to_owned();
                    }
                }
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
            backend_back,
            recovery: resumed.elapsed(),
        });
    }
    let _ = manager
        .provider()
        .session_destroy(&manager.parse_id(&cookie).expect("the session's id"))
        .await;
    eprintln!("{engine} faults: {reports:?}");
    reports
}

/// A login (`set("user")`, then regenerate) while the backend is lost as
/// the move deletes the old id: `proxy.kill_on(delete)` drops the
/// connection instead of forwarding that delete. A mature library never
/// leaves the old id valid with the login on it: the request must get a
/// 503 and keep its old cookie, and the store must hold exactly the old
/// id as it was (one session) or nothing (the old id dead). After
/// `resume` the same login succeeds, the old id is dead and the store
/// holds exactly the new session. `direct` is a config that
/// reaches the same store without the proxy, to look at what is stored.
pub async fn regenerate_with_a_failing_delete(
    engine: &str,
    provider_config: String,
    direct: String,
    proxy: &FaultProxy,
    delete: &[u8],
) {
    let manager = manager_of(engine, provider_config).await;
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(manager.clone()))
            .route(
                "/visit",
                web::get().to(|s: Session| async move {
                    s.set("visits", &1).await?;
                    Ok::<_, Error>("visited")
                }),
            )
            .route(
                "/login",
                web::post().to(|s: Session| async move {
                    s.set("user", &"alice").await?;
                    s.regenerate_id().await?;
                    Ok::<_, Error>("welcome")
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/visit").to_request()).await;
    assert_eq!(res.status(), 200, "{engine}: first visit");
    let old = cookie_of(&res);
    let login = || {
        test::TestRequest::post()
            .uri("/login")
            .insert_header(("cookie", format!("beegosessionID={old}")))
            .to_request()
    };
    proxy.kill_on(delete);
    let res = test::call_service(&app, login()).await;
    assert!(
        proxy.fired(),
        "{engine}: the move never sent its delete ({})",
        res.status()
    );
    assert_eq!(res.status(), 503, "{engine}: a login whose move failed");
    let new_cookie = res
        .response()
        .cookies()
        .map(|c| c.value().to_owned())
        .next();
    assert!(
        new_cookie.is_none() || new_cookie.as_deref() == Some(old.as_str()),
        "{engine}: a failed move sent a new id"
    );
    proxy.resume();
    let peek = manager_of(engine, direct).await;
    let provider = peek.provider();
    let old_id = peek.parse_id(&old).expect("the old id");
    let stored = provider
        .session_read(&old_id)
        .await
        .expect("read the old id");
    // Exactly one session (the old id, as it was) or none (the old id is
    // dead): any other count is a copy under an id the client never got.
    let old_alive = !stored.meta().is_new;
    if old_alive {
        assert_eq!(stored.get::<i64>("visits").await.unwrap(), Some(1));
        assert_eq!(
            stored.get::<String>("user").await.unwrap(),
            None,
            "{engine}: the login reached the old id"
        );
    }
    assert_eq!(
        provider.session_all().await.expect("count"),
        usize::from(old_alive),
        "{engine}: sessions after the failed move (old id alive: {old_alive})"
    );
    // Back up: the same login succeeds and kills the old id.
    let res = test::call_service(&app, login()).await;
    assert_eq!(res.status(), 200, "{engine}: the login after recovery");
    let new = cookie_of(&res);
    assert_ne!(new, old, "{engine}: regenerate kept the id");
    assert!(
        !provider.session_exist(&old_id).await.unwrap(),
        "{engine}: old id alive"
    );
    let moved = provider
        .session_read(&peek.parse_id(&new).expect("the new id"))
        .await
        .unwrap();
    assert_eq!(
        moved.get::<String>("user").await.unwrap().as_deref(),
        Some("alice")
    );
    // The visit is carried over when the old id kept it.
    let visits = moved.get::<i64>("visits").await.unwrap();
    assert_eq!(visits, old_alive.then_some(1), "{engine}: the visit");
    assert_eq!(
        provider.session_all().await.expect("count"),
        1,
        "{engine}: sessions after the login"
    );
}
