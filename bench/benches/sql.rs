//! The SQL engines' hot paths against the test servers (see
//! `scripts/test-servers.sh`): read, release with one change, regenerate.
//!
//! `cargo bench -p actix-bee-bench --bench sql -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::mysql::MysqlProvider;
use actix_bee::session::postgresql::PostgresqlProvider;
use actix_bee::session::{IdGenerator, Provider, SessionId};
use criterion::{criterion_group, criterion_main, Criterion};
use parking_lot::Mutex;

fn engines() -> Vec<(&'static str, Box<dyn Provider>, String)> {
    let mysql = std::env::var("ACTIX_BEE_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let postgres = std::env::var("ACTIX_BEE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    vec![
        ("mysql", Box::new(MysqlProvider::default()), mysql),
        (
            "postgresql",
            Box::new(PostgresqlProvider::default()),
            postgres,
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ids = IdGenerator::default();
    for (name, mut provider, url) in engines() {
        let table = format!("bee_bench_{:08x}", rand::random::<u32>());
        let sep = if url.contains('?') { '&' } else { '?' };
        let config = format!("{url}{sep}table={table}");
        rt.block_on(provider.session_init(Duration::from_secs(3600), &config))
            .unwrap_or_else(|e| panic!("{name}: is the server running? {e}"));
        let provider: Arc<dyn Provider> = Arc::from(provider);
        let sid = ids.generate().unwrap();
        rt.block_on(async {
            let store = provider.session_read(&sid).await.unwrap();
            store.set("user", "astaxie").await.unwrap();
            store.set("roles", &vec!["admin", "dev"]).await.unwrap();
            store.set("n", &0u64).await.unwrap();
            store.session_release().await.unwrap();
        });

        let mut group = c.benchmark_group(name);
        group.bench_function("read", |b| {
            b.to_async(&rt).iter(|| async {
                let store = provider.session_read(&sid).await.unwrap();
                assert!(!store.meta().is_new);
            })
        });
        let mut n = 0u64;
        group.bench_function("read_set_release", |b| {
            b.to_async(&rt).iter(|| {
                n += 1;
                let (provider, sid) = (provider.clone(), sid.clone());
                async move {
                    let store = provider.session_read(&sid).await.unwrap();
                    store.set("n", &n).await.unwrap();
                    assert!(store.session_release().await.unwrap().written);
                }
            })
        });
        let current: Arc<Mutex<SessionId>> = Arc::new(Mutex::new(sid.clone()));
        group.bench_function("regenerate", |b| {
            b.to_async(&rt).iter(|| {
                let (provider, current) = (provider.clone(), current.clone());
                let new = ids.generate().unwrap();
                async move {
                    let old = current.lock().clone();
                    let store = provider.session_regenerate(&old, &new).await.unwrap();
                    assert!(!store.meta().is_new);
                    *current.lock() = new;
                }
            })
        });
        group.finish();
        drop_table(name, &url, &table);
        rt.block_on(async move { drop(provider) });
    }
}

/// Drops the bench table with a client of its own, off the runtime.
fn drop_table(name: &str, url: &str, table: &str) {
    let (name, url, table) = (name.to_owned(), url.to_owned(), table.to_owned());
    std::thread::spawn(move || {
        if name == "mysql" {
            use mysql::prelude::Queryable;
            let mut conn = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
            conn.query_drop(format!("DROP TABLE IF EXISTS `{table}`"))
                .unwrap();
        } else {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("DROP TABLE IF EXISTS \"{table}\""))
                .unwrap();
        }
    })
    .join()
    .unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
