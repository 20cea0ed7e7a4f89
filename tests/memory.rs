//! The memory engine against the provider conformance suite.

use actix_bee::session::memory::MemoryProvider;
use actix_bee::session::Provider;

async fn memory() -> (Box<dyn Provider>, String) {
    (Box::new(MemoryProvider::default()), String::new())
}

actix_bee::conformance_tests!(memory);

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(memory).await;
}

use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::{Error, IdGenerator, Manager, ManagerConfig, RequestIds, SessionId};

async fn capped(config: &str) -> Arc<dyn Provider> {
    let mut p = MemoryProvider::default();
    p.session_init(Duration::from_secs(3600), config)
        .await
        .expect("session_init");
    Arc::new(p)
}

async fn create(p: &Arc<dyn Provider>, value: &str) -> SessionId {
    let sid = IdGenerator::default().generate().unwrap();
    let store = p.session_new(&sid).await.unwrap();
    store.set("k", value).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    sid
}

/// Past `max_sessions` the least recently used sessions go; one in use
/// through the whole flood survives it.
#[actix_rt::test]
async fn past_the_count_cap_the_least_recently_used_are_evicted() {
    let p = capped("max_sessions=640").await;
    let kept = create(&p, "in use").await;
    for i in 0..5_000 {
        create(&p, "flood").await;
        if i % 50 == 0 {
            // The user of `kept` keeps coming back.
            let store = p.session_read(&kept).await.unwrap();
            assert!(!store.meta().is_new, "a session in use was evicted at {i}");
        }
    }
    let live = p.session_all().await.unwrap();
    // Each of the 64 shards holds at most its share (10) of the cap.
    assert!(live <= 640, "{live} sessions over a cap of 640");
    assert!(live >= 400, "{live}: evicting far more than needed");
    let store = p.session_read(&kept).await.unwrap();
    assert_eq!(
        store.get::<String>("k").await.unwrap().as_deref(),
        Some("in use")
    );
}

/// Past `max_bytes` the least recently used sessions go too.
#[actix_rt::test]
async fn past_the_byte_cap_the_least_recently_used_are_evicted() {
    let p = capped("max_bytes=1048576,max_session_bytes=65536").await;
    let big = "x".repeat(30_000);
    for _ in 0..200 {
        create(&p, &big).await; // 200 x 30 KB = 6 MB, over a 1 MiB cap
    }
    let live = p.session_all().await.unwrap();
    assert!(
        live * 30_000 <= 1_048_576 + 64 * 31_000,
        "{live} sessions of 30 KB kept"
    );
}

/// A session that would grow past `max_session_bytes` is refused at
/// release with a typed error, and what was stored before stays whole.
#[actix_rt::test]
async fn a_session_over_the_size_cap_is_refused_whole() {
    let p = capped("max_session_bytes=4096").await;
    let sid = create(&p, "small").await;
    let store = p.session_read(&sid).await.unwrap();
    store.set("k", "changed").await.unwrap();
    store.set("big", &"x".repeat(10_000)).await.unwrap();
    let err = store.session_release().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "session",
                limit: 4096,
                ..
            }
        ),
        "{err}"
    );
    let back = p.session_read(&sid).await.unwrap();
    assert_eq!(
        back.get::<String>("k").await.unwrap().as_deref(),
        Some("small")
    );
    assert_eq!(back.get::<String>("big").await.unwrap(), None);
    // Too large from the start: no session is created.
    let fresh = IdGenerator::default().generate().unwrap();
    let store = p.session_new(&fresh).await.unwrap();
    store.set("big", &"x".repeat(10_000)).await.unwrap();
    assert!(store.session_release().await.is_err());
    assert!(!p.session_exist(&fresh).await.unwrap());
}

#[actix_rt::test]
async fn limits_config_is_strict_but_a_leftover_path_is_ignored() {
    for bad in [
        "max_sessions=0",
        "max_sessions=-1",
        "max_bytes=lots",
        "maxsessions=5",
    ] {
        let mut p = MemoryProvider::default();
        let err = p
            .session_init(Duration::from_secs(60), bad)
            .await
            .unwrap_err();
        assert!(err.is_config(), "{bad}: {err}");
    }
    // beego ignores the memory provider's config: a path stays harmless.
    let mut p = MemoryProvider::default();
    p.session_init(Duration::from_secs(60), "./tmp")
        .await
        .unwrap();
}

/// Past the cap a new session evicts the least recently used ones, in
/// order: with every shard full, sessions read just before a flood (every
/// tenth) and the flood's own sessions all survive it, and only sessions
/// left untouched are evicted, as many as the flood made.
#[actix_rt::test]
async fn a_flood_evicts_the_least_recently_used_first() {
    // 100 sessions a shard: the flood's 1,600 put about 25 on each, never
    // near the 90 untouched ones a shard holds.
    let p = capped("max_sessions=6400").await;
    let mut filled = Vec::new();
    for _ in 0..12_800 {
        filled.push(create(&p, "old").await);
    }
    let mut held = Vec::new();
    for sid in filled {
        if p.session_exist(&sid).await.unwrap() {
            held.push(sid);
        }
    }
    assert_eq!(held.len(), 6400, "every shard full at its share of the cap");
    let touched: Vec<SessionId> = held.iter().step_by(10).cloned().collect();
    for sid in &touched {
        let store = p.session_read(sid).await.unwrap();
        assert!(!store.meta().is_new);
    }
    let mut flood = Vec::new();
    for _ in 0..1_600 {
        flood.push(create(&p, "flood").await);
    }
    for (i, sid) in touched.iter().enumerate() {
        assert!(
            p.session_exist(sid).await.unwrap(),
            "touched session {i} evicted"
        );
    }
    for (i, sid) in flood.iter().enumerate() {
        assert!(
            p.session_exist(sid).await.unwrap(),
            "flood session {i} evicted"
        );
    }
    assert_eq!(p.session_all().await.unwrap(), 6400);
}

/// Sessions that grow through updates are held to `max_bytes` as new ones
/// are: 1,000 small sessions (about 350 KB) each grown to 30 KB (30 MB)
/// leave at most about 1 MiB of them.
#[actix_rt::test]
async fn sessions_grown_by_updates_stay_within_the_byte_cap() {
    let p = capped("max_bytes=1048576,max_session_bytes=65536").await;
    let mut sids = Vec::new();
    for _ in 0..1_000 {
        sids.push(create(&p, "small").await);
    }
    assert_eq!(p.session_all().await.unwrap(), 1_000);
    let big = "x".repeat(30_000);
    for sid in &sids {
        let store = p.session_read(sid).await.unwrap();
        store.set("k", &big).await.unwrap();
        store.session_release().await.unwrap();
    }
    let live = p.session_all().await.unwrap();
    assert!(
        live * 30_000 <= 1_048_576 + 64 * 31_000,
        "{live} sessions of 30 KB kept under a 1 MiB cap"
    );
}

/// No count cap by default: the byte cap bounds memory, so 120,000 small
/// sessions (about 40 MiB counted) all stay.
#[actix_rt::test]
async fn the_defaults_keep_every_session_that_fits_the_byte_cap() {
    let m = Manager::new("memory", ManagerConfig::default())
        .await
        .unwrap();
    for _ in 0..120_000 {
        let s = m.session_start(&RequestIds::default()).await.unwrap();
        s.set("asta", &1i64).await.unwrap();
        m.session_release(&s).await.unwrap();
    }
    assert_eq!(m.get_active_session().await.unwrap(), 120_000);
}

/// The defaults bound the process: a flood of cookie-less writes (each a
/// new session holding a 4 KB value, as a form would) past the 256 MiB byte
/// cap keeps the sessions' counted bytes under it and RSS well under
/// 512 MiB, and a session in use survives.
#[actix_rt::test]
async fn a_flood_of_new_sessions_stays_within_the_memory_bound() {
    let m = Manager::new("memory", ManagerConfig::default())
        .await
        .unwrap();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("user", "kept").await.unwrap();
    let cookie = m.session_release(&s).await.unwrap().cookie.unwrap().value;
    let value = "v".repeat(4096);
    // 90,000 x 4 KB: about 390 MB, past the cap.
    for i in 0..90_000 {
        let s = m.session_start(&RequestIds::default()).await.unwrap();
        s.set("name", &value).await.unwrap();
        m.session_release(&s).await.unwrap();
        if i % 1_000 == 0 {
            let ids = RequestIds {
                cookie: Some(&cookie),
                ..Default::default()
            };
            let s = m.session_start(&ids).await.unwrap();
            assert_eq!(
                s.get::<String>("user").await.unwrap().as_deref(),
                Some("kept"),
                "a session in use was lost at {i}"
            );
        }
    }
    let live = m.get_active_session().await.unwrap();
    assert!(live < 90_000, "{live} sessions: nothing was evicted");
    assert!(
        live * 4096 <= 256 * 1024 * 1024,
        "{live} sessions of 4 KB over the 256 MiB cap"
    );
    let rss_kib: u64 = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    eprintln!(
        "after 90,000 new sessions of 4 KB: {live} live, RSS {} MiB",
        rss_kib / 1024
    );
    assert!(rss_kib < 512 * 1024, "RSS {} MiB", rss_kib / 1024);
}
