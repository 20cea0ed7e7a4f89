//! ns per operation of the local engines (memory, file, cookie): read an
//! existing session, release with one changed key, regenerate.

use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::cookie::CookieProvider;
use actix_bee::session::file::FileProvider;
use actix_bee::session::memory::MemoryProvider;
use actix_bee::session::{IdGenerator, Provider, SessionId};
use criterion::{criterion_group, criterion_main, Criterion};

const COOKIE_CONFIG: &str = r#"{"securityKey": "a benchmark secret of at least thirty-two bytes"}"#;

async fn engine(name: &str, dir: &std::path::Path) -> Arc<dyn Provider> {
    let (mut p, cfg): (Box<dyn Provider>, String) = match name {
        "memory" => (Box::new(MemoryProvider::default()), String::new()),
        "file" => (
            Box::new(FileProvider::default()),
            dir.join("sessions").display().to_string(),
        ),
        _ => (Box::new(CookieProvider::default()), COOKIE_CONFIG.into()),
    };
    p.session_init(Duration::from_secs(3600), &cfg)
        .await
        .expect("session_init");
    Arc::from(p)
}

/// A session with a few values; returns the id the client would send.
async fn seed(p: &Arc<dyn Provider>) -> SessionId {
    let sid = IdGenerator::default().generate().unwrap();
    let store = p.session_read(&sid).await.unwrap();
    store.set("user", "astaxie").await.unwrap();
    store.set("uid", &42u64).await.unwrap();
    store.set("roles", &vec!["admin", "user"]).await.unwrap();
    let released = store.session_release().await.unwrap();
    match released.cookie_value {
        Some(token) => IdGenerator::default()
            .parse_for(&token, p.id_format())
            .expect("a sealed token"),
        None => sid,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["memory", "file", "cookie"] {
        let p = rt.block_on(engine(name, dir.path()));
        let sid = rt.block_on(seed(&p));
        let mut group = c.benchmark_group(name);
        group.bench_function("read", |b| {
            b.to_async(&rt).iter(|| async {
                let store = p.session_read(&sid).await.unwrap();
                assert!(!store.meta().is_new);
            })
        });
        group.bench_function("release_one_key", |b| {
            b.to_async(&rt).iter(|| async {
                let store = p.session_read(&sid).await.unwrap();
                store.set("counter", &7u32).await.unwrap();
                assert!(store.session_release().await.unwrap().written);
            })
        });
        // Regenerate from a live session each time; the old one is consumed
        // (server-side engines), so every iteration seeds a fresh one first.
        group.bench_function("regenerate_incl_seed", |b| {
            b.to_async(&rt).iter(|| async {
                let old = seed(&p).await;
                let new = IdGenerator::default().generate().unwrap();
                let store = p.session_regenerate(&old, &new).await.unwrap();
                store.session_release().await.unwrap();
                p.session_destroy(&store.session_id()).await.unwrap();
            })
        });
        group.bench_function("seed_only", |b| {
            b.to_async(&rt).iter(|| async {
                let sid = seed(&p).await;
                p.session_destroy(&sid).await.unwrap();
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
