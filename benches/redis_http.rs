//! HTTP throughput of the `redis` engine next to actix-session's
//! `RedisSessionStore`, on the same Redis, in the same run; plus a quick
//! comparison of the two connection styles (multiplexed vs r2d2).
//!
//! ```text
//! cargo bench --bench redis_http --features redis            # everything
//! cargo bench --bench redis_http --features redis -- http     # HTTP only
//! cargo bench --bench redis_http --features redis -- conn     # connections only
//! ```
//!
//! HTTP: each server runs pinned to core 0 (`taskset -c 0`, one worker),
//! `wrk -t1 -c64 -d10s` runs on core 1, and a wrk Lua script gives every
//! connection a session of its own (64 sessions, round robin). Workloads:
//! `GET /` reads `asta` and writes it +1; `GET /read` only reads it.
//! Env: `ACTIX_BEE_REDIS_PRIVATE_URL` (default `redis://127.0.0.1:6399/`),
//! `BENCH_RUNS` (default 3), `BENCH_SECS` (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::cookie::Cookie;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

const PREFIX: &str = "actix-bee-bench:";

fn redis_url() -> String {
    std::env::var("ACTIX_BEE_REDIS_PRIVATE_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6399/".into())
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1], args[2].parse().unwrap()),
        Some("http") => http(),
        Some("conn") => conn(),
        _ => {
            conn();
            http();
        }
    }
}

// ---------------------------------------------------------------- servers

mod bee {
    use super::*;
    use actix_bee::session::{Manager, ManagerConfig, RequestIds, Session};

    /// The minimal middleware: start before the handler, release after,
    /// set the cookie the manager asks for.
    async fn with_session<F, Fut>(req: &HttpRequest, m: &Manager, handler: F) -> HttpResponse
    where
        F: FnOnce(Session) -> Fut,
        Fut: std::future::Future<Output = (Session, String)>,
    {
        let cookie = req.cookie(&m.config().cookie_name);
        let ids = RequestIds {
            cookie: cookie.as_ref().map(|c| c.value()),
            ..Default::default()
        };
        let session = match m.session_start(&ids).await {
            Ok(s) => s,
            Err(_) => return HttpResponse::ServiceUnavailable().finish(),
        };
        let (session, body) = handler(session).await;
        let parts = match m.session_release(&session).await {
            Ok(p) => p,
            Err(_) => return HttpResponse::ServiceUnavailable().finish(),
        };
        let mut res = HttpResponse::Ok();
        if let Some(c) = parts.cookie {
            res.cookie(
                Cookie::build(c.name, c.value)
                    .path("/")
                    .http_only(true)
                    .finish(),
            );
        }
        res.body(body)
    }

    async fn counter(req: HttpRequest, m: web::Data<Manager>) -> HttpResponse {
        with_session(&req, &m, |s| async move {
            let v = s.get::<i64>("asta").await.ok().flatten().unwrap_or(0);
            s.set("asta", &(v + 1)).await.unwrap();
            (s, v.to_string())
        })
        .await
    }

    async fn read(req: HttpRequest, m: web::Data<Manager>) -> HttpResponse {
        with_session(&req, &m, |s| async move {
            let v = s.get::<i64>("asta").await.ok().flatten().unwrap_or(0);
            (s, v.to_string())
        })
        .await
    }

    pub async fn run(port: u16) {
        let mut cfg = ManagerConfig::default();
        // BENCH_POOL=1 shares one connection (driven by the main thread).
        let pool = std::env::var("BENCH_POOL").unwrap_or_else(|_| "100".into());
        cfg.provider_config = format!("{}?key_prefix={PREFIX}bee:&pool_size={pool}", redis_url());
        let m = web::Data::new(Manager::new("redis", cfg).await.unwrap());
        HttpServer::new(move || {
            App::new()
                .app_data(m.clone())
                .route("/", web::get().to(counter))
                .route("/read", web::get().to(read))
        })
        .workers(1)
        .bind(("127.0.0.1", port))
        .unwrap()
        .run()
        .await
        .unwrap();
    }
}

mod peer {
    use super::*;
    use actix_session::storage::RedisSessionStore;
    use actix_session::{Session, SessionMiddleware};

    async fn counter(s: Session) -> String {
        let v: i64 = s.get("asta").ok().flatten().unwrap_or(0);
        s.insert("asta", v + 1).unwrap();
        v.to_string()
    }

    async fn read(s: Session) -> String {
        let v: i64 = s.get("asta").ok().flatten().unwrap_or(0);
        v.to_string()
    }

    pub async fn run(port: u16) {
        let store = RedisSessionStore::builder(redis_url())
            .cache_keygen(|k| format!("{PREFIX}as:{k}"))
            .build()
            .await
            .unwrap();
        let key = actix_web::cookie::Key::generate();
        HttpServer::new(move || {
            App::new()
                .wrap(
                    SessionMiddleware::builder(store.clone(), key.clone())
                        .cookie_secure(false)
                        .build(),
                )
                .route("/", web::get().to(counter))
                .route("/read", web::get().to(read))
        })
        .workers(1)
        .bind(("127.0.0.1", port))
        .unwrap()
        .run()
        .await
        .unwrap();
    }
}

fn serve(engine: &str, port: u16) {
    actix_web::rt::System::new().block_on(async move {
        match engine {
            "actix-bee" => bee::run(port).await,
            "actix-session" => peer::run(port).await,
            other => panic!("unknown engine {other}"),
        }
    });
}

// ---------------------------------------------------------------- wrk

const LUA: &str = r#"
local cookies = {}
local n = 0
local path = os.getenv("BENCH_PATH") or "/"
request = function()
  n = n + 1
  if #cookies < 64 then return wrk.format("GET", "/") end
  return wrk.format("GET", path, { ["Cookie"] = cookies[(n % #cookies) + 1] })
end
response = function(status, headers, body)
  if status ~= 200 then error("status " .. status) end
  local sc = headers["set-cookie"] or headers["Set-Cookie"]
  if sc and #cookies < 64 then cookies[#cookies + 1] = string.match(sc, "^([^;]+)") end
end
"#;

fn start(engine: &str, port: u16) -> Child {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new("taskset")
        .args(["-c", "0"])
        .arg(exe)
        .args(["serve", engine, &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{engine} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn wrk(port: u16, path: &str, secs: u64, script: &std::path::Path) -> f64 {
    let out = Command::new("taskset")
        .args(["-c", "1", "wrk", "-t1", "-c64", &format!("-d{secs}s"), "-s"])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .env("BENCH_PATH", path)
        .output()
        .expect("wrk (apt-get install -y wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") || text.contains("errors:") {
        eprintln!("{text}");
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no wrk result:\n{text}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn http() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let script = std::env::temp_dir().join(format!("actix-bee-bench-{}.lua", std::process::id()));
    std::fs::write(&script, LUA).unwrap();
    let mut results = Vec::new();
    for (path, name) in [("/", "write"), ("/read", "read")] {
        let mut per_engine = Vec::new();
        for (i, engine) in ["actix-bee", "actix-session"].into_iter().enumerate() {
            let mut v = Vec::new();
            for run in 0..runs {
                let port = 18080 + (i as u16) * 10 + run as u16;
                let mut server = start(engine, port);
                v.push(wrk(port, path, secs, &script));
                server.kill().ok();
                server.wait().ok();
            }
            println!(
                "{name:5} {engine:13} runs {:?}",
                v.iter().map(|x| x.round()).collect::<Vec<_>>()
            );
            per_engine.push(median(v));
        }
        results.push((name, per_engine[0], per_engine[1]));
    }
    std::fs::remove_file(&script).ok();
    println!(
        "\nworkload  actix-bee req/s  actix-session req/s  ratio (medians of {runs}, {secs}s each)"
    );
    for (name, bee, peer) in results {
        println!("{name:8}  {bee:15.0}  {peer:19.0}  {:.2}x", bee / peer);
    }
    cleanup();
}

fn cleanup() {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut c = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg(format!("{PREFIX}*"))
        .arg("COUNT")
        .arg(10_000)
        .clone()
        .iter(&mut c)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for chunk in keys.chunks(500) {
        let _: i64 = redis::cmd("DEL").arg(chunk).query(&mut c).unwrap();
    }
}

// ---------------------------------------------------------------- connections

const TASKS: usize = 64;
const CONN_SECS: Duration = Duration::from_secs(5);

/// Runs `TASKS` local tasks, each repeating `op` until the time is up;
/// returns operations per second.
async fn ops_per_sec<F, Fut>(op: F) -> f64
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let end = Instant::now() + CONN_SECS;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let op = op.clone();
            tokio::task::spawn_local(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    op().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / CONN_SECS.as_secs_f64()
}

/// 64 concurrent "requests", each one pipelined HGETALL+PTTL (the engine's
/// read), on one current-thread runtime like an actix worker; and the
/// engine's own read-only request for reference.
fn conn() {
    use actix_bee::session::{IdGenerator, Provider};
    use redis::aio::ConnectionManager;
    let key = std::rc::Rc::new(format!("{PREFIX}conn"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let client = redis::Client::open(redis_url()).unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&*key)
        .arg("v:asta")
        .arg(1)
        .query(&mut client.get_connection().unwrap())
        .unwrap();

    let multiplexed = local.block_on(&rt, async {
        let cm = ConnectionManager::new(client.clone()).await.unwrap();
        let key = key.clone();
        ops_per_sec(move || {
            let (mut cm, key) = (cm.clone(), key.clone());
            async move {
                let _: (Vec<(String, String)>, i64) = redis::pipe()
                    .hgetall(&*key)
                    .pttl(&*key)
                    .query_async(&mut cm)
                    .await
                    .unwrap();
            }
        })
        .await
    });

    let pooled = local.block_on(&rt, async {
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .build(client.clone())
            .unwrap();
        let key = (*key).clone();
        ops_per_sec(move || {
            let (pool, key) = (pool.clone(), key.clone());
            async move {
                tokio::task::spawn_blocking(move || {
                    let mut c = pool.get().unwrap();
                    let _: (Vec<(String, String)>, i64) = redis::pipe()
                        .hgetall(&key)
                        .pttl(&key)
                        .query(&mut *c)
                        .unwrap();
                })
                .await
                .unwrap();
            }
        })
        .await
    });

    let engine = local.block_on(&rt, async {
        let mut p = actix_bee::session::redis::RedisProvider::default();
        let config = format!("{}?key_prefix={PREFIX}conn:", redis_url());
        p.session_init(Duration::from_secs(3600), &config)
            .await
            .unwrap();
        let p = std::rc::Rc::new(p);
        let sid = IdGenerator::default().generate().unwrap();
        let s = p.session_read(&sid).await.unwrap();
        s.set("asta", &1).await.unwrap();
        s.session_release().await.unwrap();
        ops_per_sec(move || {
            let (p, sid) = (p.clone(), sid.clone());
            async move {
                let s = p.session_read(&sid).await.unwrap();
                s.session_release().await.unwrap();
            }
        })
        .await
    });
    let _: i64 = redis::cmd("DEL")
        .arg(&*key)
        .query(&mut client.get_connection().unwrap())
        .unwrap();
    cleanup();
    println!("connection style ({TASKS} concurrent HGETALL+PTTL, one current-thread runtime, {CONN_SECS:?}):");
    println!("  multiplexed ConnectionManager:   {multiplexed:.0} ops/s");
    println!("  r2d2 pool (16) + spawn_blocking: {pooled:.0} ops/s");
    println!("  engine session_read + release (read-only): {engine:.0} ops/s");
}
