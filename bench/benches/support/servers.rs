//! The servers the HTTP benches compare, built the same way for the wrk
//! harness (`http`, a real server per run) and the instruction counter
//! (`callgrind`, the same app called in-process).
//!
//! Every server answers `GET /` (read `asta`, write +1, reply the old
//! value) and `GET /read` (read only, plain text). `bare` and `bare-tpl`
//! keep no session. `bare-tpl`, the `-tpl` peers and the `counter-`
//! servers render `templates/index.tpl` on `/`; the `bee-` servers are
//! plain handlers over the middleware, as the earlier rounds measured.
//!
//! The `counter-<engine>` servers are `examples/counter.rs` itself, over
//! the counter's own `conf/app.conf` in `prod` (XSRF on, its key from
//! `COUNTER_XSRF_KEY`), with only `sessionprovider` and
//! `sessionproviderconfig` changed: what a user runs.

use std::sync::Arc;

use actix_bee::session::{Manager, ManagerConfig};
use actix_bee::web::{AppState, Templates};
use actix_session::storage::RedisSessionStore;
use actix_web::cookie::Key;

#[path = "../../../examples/counter.rs"]
#[allow(dead_code)]
mod counter_example;

use super::redis_keys::redis_url;

/// Every server, in the order the table prints them.
pub const SERVERS: &[&str] = &[
    "bare",
    "bare-tpl",
    "as-cookie-tpl",
    "as-redis-tpl",
    "counter-memory",
    "counter-cookie",
    "counter-file",
    "counter-redis",
    "counter-mysql",
    "counter-postgresql",
    "as-cookie",
    "as-redis",
    "bee-memory",
    "bee-memory-gc",
    "bee-cookie",
    "bee-file",
    "bee-redis",
    "bee-mysql",
    "bee-postgresql",
];

/// Prefix of every Redis key the HTTP benches write.
pub const PREFIX: &str = "actix-bee-http-bench:";

/// The SQL table the HTTP benches use (created by the engine, emptied after).
pub const SQL_TABLE: &str = "bee_http_bench";

/// `bee-memory`'s engine unbounded for the footprint figure: its create
/// run keeps every session it makes. `counter-memory` runs the defaults.
const MEMORY_UNBOUNDED: &str = "max_sessions=100000000,max_bytes=1099511627776";

/// Sessions `counter-memory` makes before it serves (`BENCH_MEMORY_FILL`):
/// more than the default limits hold (a counter session is counted at about
/// 350 bytes, so 1,000,000 of them pass the 256 MiB byte cap), so every
/// workload, create above all, runs on a full engine that evicts.
const MEMORY_FILL: usize = 1_000_000;

/// What one server's workers share, built once per process.
pub enum Shared {
    /// No session, plain text.
    Bare,
    /// No session; `/` renders `index.tpl` with the app's Go-template setup.
    Template(Arc<Templates>),
    /// actix-session's private cookie store (`None`) or its Redis store;
    /// with templates, `/` renders `index.tpl` as the counter does.
    Peer(Key, Option<RedisSessionStore>, Option<Arc<Templates>>),
    /// actix-bee's middleware and a plain handler.
    Bee(Manager),
    /// `examples/counter.rs` itself: controllers and template.
    Counter(AppState),
}

/// The project's `templates/` directory.
pub fn templates_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("templates")
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

/// The provider name and `sessionproviderconfig` of an actix-bee server.
fn bee_engine(server: &str) -> (&'static str, String) {
    match server {
        "bee-memory" | "bee-memory-gc" => ("memory", MEMORY_UNBOUNDED.into()),
        // The counter example's default configuration.
        "counter-memory" => ("memory", String::new()),
        // The counter's default file limits: each run starts on an empty
        // directory (see the harness), so a create run stays under the cap.
        "counter-file" => ("file", file_run_dir().display().to_string()),
        "counter-redis" => (
            "redis",
            format!("{}?key_prefix={PREFIX}counter:", redis_url()),
        ),
        "bee-cookie" | "counter-cookie" => (
            "cookie",
            r#"{"securityKey":"bench-only key of at least thirty-two bytes!"}"#.into(),
        ),
        // Unbounded like the memory engine's: the create runs make more
        // sessions than the default cap of 100,000, which answers 503.
        "bee-file" => (
            "file",
            format!("{}?max_sessions=100000000", file_run_dir().display()),
        ),
        "bee-redis" => ("redis", format!("{}?key_prefix={PREFIX}bee:", redis_url())),
        "bee-mysql" | "counter-mysql" => {
            let url = env_or("ACTIX_BEE_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
            ("mysql", sql_config(&url))
        }
        "bee-postgresql" | "counter-postgresql" => {
            let url = env_or(
                "ACTIX_BEE_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            );
            ("postgresql", sql_config(&url))
        }
        other => panic!("unknown server {other}"),
    }
}

/// The file engine's directory: `BENCH_FILE_DIR` (which the harness sets
/// for its servers), else one per process.
pub fn file_dir() -> std::path::PathBuf {
    std::env::var_os("BENCH_FILE_DIR").map_or_else(
        || std::env::temp_dir().join(format!("actix-bee-bench-{}", std::process::id())),
        Into::into,
    )
}

/// The directory of one run's file server: `BENCH_FILE_RUN_DIR`, which
/// the harness sets per run under [`file_dir`], else [`file_dir`].
fn file_run_dir() -> std::path::PathBuf {
    std::env::var_os("BENCH_FILE_RUN_DIR").map_or_else(file_dir, Into::into)
}

fn sql_config(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}table={SQL_TABLE}&pool_size=8")
}

/// Builds what `server`'s workers share.
pub async fn prepare(server: &str) -> Shared {
    match server {
        "bare" => Shared::Bare,
        "bare-tpl" => Shared::Template(Arc::new(Templates::new(templates_dir()).unwrap())),
        "as-cookie" | "as-cookie-tpl" => {
            Shared::Peer(Key::generate(), None, peer_templates(server))
        }
        "as-redis" | "as-redis-tpl" => {
            let store = RedisSessionStore::builder(redis_url())
                .cache_keygen(|k| format!("{PREFIX}as:{k}"))
                .build()
                .await
                .unwrap();
            Shared::Peer(Key::generate(), Some(store), peer_templates(server))
        }
        counter if counter.starts_with("counter-") => {
            let state = counter_example::app(counter_config(counter))
                .build()
                .await
                .unwrap();
            if counter == "counter-memory" {
                let manager = state.manager().expect("sessions are on");
                fill_past_the_cap(manager, super::env_num("BENCH_MEMORY_FILL", MEMORY_FILL)).await;
            }
            Shared::Counter(state)
        }
        "bee-memory-gc" => {
            let (provider, config) = bee_engine(server);
            let mut cfg = ManagerConfig::default();
            cfg.provider_config = config;
            cfg.gc_lifetime = GC_LIFETIME_SECS;
            let manager = Manager::new(provider, cfg).await.unwrap();
            expired_sessions(&manager, super::env_num("BENCH_GC_SESSIONS", 1_000_000)).await;
            // Detached: it runs as long as the server does.
            drop(manager.gc().unwrap());
            Shared::Bee(manager)
        }
        bee => {
            let (provider, config) = bee_engine(bee);
            let mut cfg = ManagerConfig::default();
            cfg.provider_config = config;
            Shared::Bee(Manager::new(provider, cfg).await.unwrap())
        }
    }
}

/// The counter's own `conf/app.conf`, as `BEEGO_RUNMODE=prod` loads it
/// (XSRF on, the key from `COUNTER_XSRF_KEY`), with `server`'s engine.
fn counter_config(server: &str) -> actix_bee::config::BConfig {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if std::env::var_os("COUNTER_XSRF_KEY").is_none() {
        // A fresh key per run, as a deployment would set one.
        let key: String = (0..48)
            .map(|_| char::from(b'a' + rand::random_range(0..26u8)))
            .collect();
        std::env::set_var("COUNTER_XSRF_KEY", key);
    }
    let (provider, config) = bee_engine(server);
    let mut loader = actix_bee::config::Loader::new()
        .with_env_vars([("BEEGO_RUNMODE", "prod")])
        .with_override("sessionprovider", provider)
        // The bench runs from bench/: the views are the counter's own.
        .with_override("viewspath", templates_dir().display().to_string());
    if !config.is_empty() {
        loader = loader.with_override("sessionproviderconfig", config);
    }
    let cfg = loader
        .load_from(root.join("conf").join("app.conf"))
        .unwrap();
    assert_eq!(cfg.run_mode, "prod");
    assert!(
        cfg.web_config.enable_xsrf,
        "the counter's app.conf turns XSRF on"
    );
    cfg
}

/// The peers' template, for the `-tpl` servers.
fn peer_templates(server: &str) -> Option<Arc<Templates>> {
    server
        .ends_with("-tpl")
        .then(|| Arc::new(Templates::new(templates_dir()).unwrap()))
}

/// `bee-memory-gc`'s idle lifetime and GC period: the sessions made at
/// start-up have all expired at the first GC, which falls inside the first
/// wrk run; wrk's own sessions are used every few ms and stay alive.
const GC_LIFETIME_SECS: i64 = 2;

/// Makes `n` one-key sessions that expire `GC_LIFETIME_SECS` later, for the
/// GC to sweep while wrk measures the latency of other requests.
async fn expired_sessions(manager: &Manager, n: usize) {
    let ids = actix_bee::session::IdGenerator::default();
    let provider = manager.provider();
    for i in 0..n {
        let sid = ids.generate().unwrap();
        let store = provider.session_read(&sid).await.unwrap();
        store.set("asta", &(i as i64)).await.unwrap();
        store.session_release().await.unwrap();
    }
}

/// Makes `n` counter sessions (`asta` set, as the counter's first visit
/// does) and checks that the engine evicted some: it is full, and each new
/// session from now on evicts one.
async fn fill_past_the_cap(manager: &Manager, n: usize) {
    let ids = actix_bee::session::IdGenerator::default();
    let provider = manager.provider();
    for _ in 0..n {
        let sid = ids.generate().unwrap();
        let store = provider.session_read(&sid).await.unwrap();
        store.set("asta", &1i64).await.unwrap();
        store.session_release().await.unwrap();
    }
    let live = manager.get_active_session().await.unwrap();
    assert!(
        live < n,
        "{n} sessions made and {live} live: the engine is not full (raise BENCH_MEMORY_FILL)"
    );
}

/// The handlers of the servers without a session.
pub mod bare {
    use actix_bee::web::Templates;
    use actix_web::{web, HttpResponse};

    pub async fn counter() -> &'static str {
        "0"
    }

    /// What `MainController` renders for a fresh session, without one.
    pub async fn template(t: web::Data<Templates>) -> HttpResponse {
        page(&t, 0)
    }

    /// `index.tpl` with the count `num`, as the counter renders it.
    pub fn page(t: &Templates, num: i64) -> HttpResponse {
        let mut data = serde_json::Map::new();
        data.insert("num".into(), num.into());
        let html = t.render("index.tpl", &data).unwrap();
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html)
    }
}

/// The handlers over actix-session.
pub mod peer {
    use actix_bee::web::Templates;
    use actix_session::Session;
    use actix_web::{web, HttpResponse};

    /// `/` and `/read`; with templates `/` renders `index.tpl` as the
    /// counter's `MainController` does.
    pub fn routes(tpl: Option<web::Data<Templates>>) -> impl FnOnce(&mut web::ServiceConfig) {
        move |c| {
            match tpl {
                Some(t) => c.app_data(t).route("/", web::get().to(counter_page)),
                None => c.route("/", web::get().to(counter)),
            };
            c.route("/read", web::get().to(read));
        }
    }

    pub async fn counter(s: Session) -> String {
        let v: i64 = s.get("asta").ok().flatten().unwrap_or(0);
        s.insert("asta", v + 1).unwrap();
        v.to_string()
    }

    pub async fn counter_page(s: Session, t: web::Data<Templates>) -> HttpResponse {
        let v: i64 = s.get("asta").ok().flatten().unwrap_or(0);
        s.insert("asta", v + 1).unwrap();
        super::bare::page(&t, v)
    }

    pub async fn read(s: Session) -> String {
        let v: i64 = s.get("asta").ok().flatten().unwrap_or(0);
        v.to_string()
    }
}

/// The plain handlers over actix-bee.
pub mod bee {
    use actix_bee::session::{Error, Session};

    pub async fn counter(s: Session) -> Result<String, Error> {
        let v = s.get::<i64>("asta").await?.unwrap_or(0);
        s.set("asta", &(v + 1)).await?;
        Ok(v.to_string())
    }

    pub async fn read(s: Session) -> Result<String, Error> {
        Ok(s.get::<i64>("asta").await?.unwrap_or(0).to_string())
    }
}

/// Binds `$factory` to a `Fn() -> actix_web::App` for the server `$shared`
/// describes, then evaluates `$body` (once per kind of app: their types
/// differ).
#[macro_export]
macro_rules! with_app_factory {
    ($shared:expr, $factory:ident => $body:expr) => {{
        use actix_web::{web, App};
        use $crate::support::servers::{bare, bee, peer, Shared};
        match $shared {
            Shared::Bare => {
                let $factory = move || {
                    App::new()
                        .wrap(actix_web::middleware::Identity::default())
                        .route("/", web::get().to(bare::counter))
                        .route("/read", web::get().to(bare::counter))
                };
                $body
            }
            Shared::Template(templates) => {
                let data = web::Data::from(templates);
                let $factory = move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/", web::get().to(bare::template))
                        .route("/read", web::get().to(bare::counter))
                };
                $body
            }
            Shared::Peer(key, store, templates) => {
                use actix_session::storage::CookieSessionStore;
                use actix_session::SessionMiddleware as Peer;
                let tpl = templates.map(web::Data::from);
                match store {
                    None => {
                        let $factory = move || {
                            App::new()
                                .wrap(
                                    Peer::builder(CookieSessionStore::default(), key.clone())
                                        .cookie_secure(false)
                                        .build(),
                                )
                                .configure(peer::routes(tpl.clone()))
                        };
                        $body
                    }
                    Some(store) => {
                        let $factory = move || {
                            App::new()
                                .wrap(
                                    Peer::builder(store.clone(), key.clone())
                                        .cookie_secure(false)
                                        .build(),
                                )
                                .configure(peer::routes(tpl.clone()))
                        };
                        $body
                    }
                }
            }
            Shared::Bee(manager) => {
                let $factory = move || {
                    App::new()
                        .wrap(actix_bee::web::SessionMiddleware::new(manager.clone()))
                        .route("/", web::get().to(bee::counter))
                        .route("/read", web::get().to(bee::read))
                };
                $body
            }
            Shared::Counter(state) => {
                let $factory = move || state.app();
                $body
            }
        }
    }};
}

/// Empties what the servers stored in the shared backends (best effort).
pub fn clean_backends(servers: &[&str]) {
    if servers.iter().any(|s| s.ends_with("-file")) {
        let _ = std::fs::remove_dir_all(file_dir());
    }
    if servers.iter().any(|s| s.contains("redis")) {
        super::redis_keys::delete_prefixed(PREFIX);
    }
    if servers.iter().any(|s| s.ends_with("-mysql")) {
        let url = env_or("ACTIX_BEE_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
        if let Ok(pool) = mysql::Pool::new(url.as_str()) {
            if let Ok(mut c) = pool.get_conn() {
                use mysql::prelude::Queryable;
                let _ = c.query_drop(format!(
                    "DROP TABLE IF EXISTS {SQL_TABLE}, {SQL_TABLE}_owner, {SQL_TABLE}_owner_epoch"
                ));
            }
        }
    }
    if servers.iter().any(|s| s.ends_with("-postgresql")) {
        let url = env_or(
            "ACTIX_BEE_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/test",
        );
        if let Ok(mut c) = postgres::Client::connect(&url, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP TABLE IF EXISTS {SQL_TABLE}, {SQL_TABLE}_owner, {SQL_TABLE}_owner_epoch"
            ));
        }
    }
}
