//! Nanoseconds per operation of the memory engine: read, get, set, release
//! with a change, regenerate, and a create with the default limits on a
//! full engine (each create evicts one session).
//!
//! `cargo bench -p actix-bee-bench --bench memory`

use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::memory::MemoryProvider;
use actix_bee::session::{HashFunc, IdGenerator, Provider, SessionId};
use criterion::{criterion_group, criterion_main, Criterion};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One-key sessions (as the counter's) past the default limits: about
/// 350 bytes each as the engine counts them, so 1,000,000 fill 256 MiB.
const PAST_THE_CAP: usize = 1_000_000;

async fn engine_with_sessions(n: usize) -> (Arc<dyn Provider>, Vec<SessionId>) {
    let mut provider = MemoryProvider::default();
    provider
        .session_init(Duration::from_secs(3600), "")
        .await
        .expect("init");
    let provider: Arc<dyn Provider> = Arc::new(provider);
    let ids = IdGenerator::default();
    let mut sids = Vec::with_capacity(n);
    for i in 0..n {
        let sid = ids.generate().expect("id");
        let store = provider.session_read(&sid).await.expect("read");
        store.set("asta", &(i as i64)).await.expect("set");
        store.set("username", "astaxie").await.expect("set");
        store.session_release().await.expect("release");
        sids.push(sid);
    }
    (provider, sids)
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    let (provider, sids) = rt.block_on(engine_with_sessions(10_000));
    let ids = IdGenerator::default();
    let mut group = c.benchmark_group("memory");
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) % sids.len();
        sids[i].clone()
    };

    group.bench_function("read+get", |b| {
        b.to_async(&rt).iter(|| {
            let sid = next();
            let provider = provider.clone();
            async move {
                let store = provider.session_read(&sid).await.expect("read");
                store.get::<i64>("asta").await.expect("get")
            }
        })
    });
    let store = rt.block_on(provider.session_read(&sids[0])).expect("read");
    group.bench_function("set", |b| {
        b.to_async(&rt)
            .iter(|| async { store.set("asta", &42i64).await.expect("set") })
    });
    group.bench_function("read+set+release", |b| {
        b.to_async(&rt).iter(|| {
            let sid = next();
            let provider = provider.clone();
            async move {
                let store = provider.session_read(&sid).await.expect("read");
                let n: i64 = store.get("asta").await.expect("get").unwrap_or(0);
                store.set("asta", &(n + 1)).await.expect("set");
                store.session_release().await.expect("release")
            }
        })
    });
    group.bench_function("regenerate", |b| {
        let mut current = sids[1].clone();
        b.to_async(&rt).iter(|| {
            let new = ids.generate().expect("id");
            let old = std::mem::replace(&mut current, new.clone());
            let provider = provider.clone();
            async move {
                provider
                    .session_regenerate(&old, &new)
                    .await
                    .expect("regen")
            }
        })
    });
    group.bench_function("id generate (sha1)", |b| {
        b.iter(|| ids.generate().expect("id"))
    });
    // The same 16 CSPRNG bytes as plain hex: what the HMAC costs on its own.
    let plain = IdGenerator::new("", HashFunc::None, b"", 16).expect("generator");
    group.bench_function("id generate (none)", |b| {
        b.iter(|| plain.generate().expect("id"))
    });
    group.finish();
}

/// Creates on an engine with the default limits, filled past them first.
fn memory_full(c: &mut Criterion) {
    let rt = runtime();
    let provider = rt.block_on(async {
        let mut provider = MemoryProvider::default();
        provider
            .session_init(Duration::from_secs(3600), "")
            .await
            .expect("init");
        let provider: Arc<dyn Provider> = Arc::new(provider);
        let ids = IdGenerator::default();
        for _ in 0..PAST_THE_CAP {
            let sid = ids.generate().expect("id");
            let store = provider.session_read(&sid).await.expect("read");
            store.set("asta", &1i64).await.expect("set");
            store.session_release().await.expect("release");
        }
        let live = provider.session_all().await.expect("count");
        assert!(live < PAST_THE_CAP, "{live} live: the engine is not full");
        provider
    });
    let ids = IdGenerator::default();
    let mut group = c.benchmark_group("memory-full");
    group.bench_function("create (defaults, past the cap)", |b| {
        b.to_async(&rt).iter(|| {
            let sid = ids.generate().expect("id");
            let provider = provider.clone();
            async move {
                let store = provider.session_read(&sid).await.expect("read");
                store.set("asta", &1i64).await.expect("set");
                store.session_release().await.expect("release")
            }
        })
    });
    group.finish();
}

criterion_group!(benches, memory, memory_full);
criterion_main!(benches);
