//! HTTP throughput and server CPU per request of every engine next to bare
//! actix-web and actix-session, measured in one run, with ratios.
//!
//! ```text
//! cargo bench -p actix-bee-bench --bench http                   # every server
//! cargo bench -p actix-bee-bench --bench http -- bare bee-memory as-cookie
//! ```
//!
//! Method (performance-anchors.md): each server runs pinned to core 0
//! (`taskset -c 0`, one worker), `wrk -t1 -c64 -d10s` runs on core 1, and a
//! wrk Lua script keeps one cookie per session (64 sessions, round robin).
//! Workloads: `write` = `GET /` (read `asta`, write +1), `read` = `GET /read`
//! (read only), `create` = `GET /` with no cookie (a new session each time).
//! CPU µs/request is the server's utime+stime over the run (from /proc)
//! divided by the requests wrk completed. Medians of `BENCH_RUNS` (3).
//! Env: `BENCH_SECS` (10), `ACTIX_BEE_REDIS_PRIVATE_URL`
//! (`redis://127.0.0.1:6399/`). Needs `wrk` and `taskset`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};

const SERVERS: &[&str] = &[
    "bare",
    "as-cookie",
    "as-redis",
    "bee-memory",
    "bee-cookie",
    "bee-file",
    "bee-redis",
];

#[path = "support/redis_keys.rs"]
mod redis_keys;
use redis_keys::redis_url;

const PREFIX: &str = "actix-bee-http-bench:";

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve(&args[1], args[2].parse().unwrap());
    }
    let chosen: Vec<&str> = if args.is_empty() {
        SERVERS.to_vec()
    } else {
        SERVERS
            .iter()
            .copied()
            .filter(|s| args.iter().any(|a| a == s))
            .collect()
    };
    measure(&chosen);
}

// ---------------------------------------------------------------- servers

mod bare {
    pub async fn counter() -> &'static str {
        "0"
    }
}

mod peer {
    use actix_session::Session;

    pub async fn counter(s: Session) -> String {
        let v: i64 = s.get("asta").ok().flatten().unwrap_or(0);
        s.insert("asta", v + 1).unwrap();
        v.to_string()
    }

    pub async fn read(s: Session) -> String {
        let v: i64 = s.get("asta").ok().flatten().unwrap_or(0);
        v.to_string()
    }
}

mod bee {
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

async fn bee_manager(engine: &str) -> actix_bee::session::Manager {
    use actix_bee::session::{Manager, ManagerConfig};
    let mut cfg = ManagerConfig::default();
    let provider = match engine {
        "bee-memory" => "memory",
        "bee-cookie" => {
            cfg.provider_config =
                r#"{"securityKey":"bench-only key of at least thirty-two bytes!"}"#.into();
            "cookie"
        }
        "bee-file" => {
            let dir = std::env::temp_dir().join(format!("actix-bee-bench-{}", std::process::id()));
            cfg.provider_config = dir.display().to_string();
            "file"
        }
        "bee-redis" => {
            cfg.provider_config = format!("{}?key_prefix={PREFIX}bee:", redis_url());
            "redis"
        }
        other => panic!("unknown server {other}"),
    };
    Manager::new(provider, cfg).await.unwrap()
}

/// Runs one server with `$middleware` (built per worker) around the counter.
macro_rules! run_server {
    ($port:expr, $middleware:expr, $counter:path, $read:path) => {
        HttpServer::new(move || {
            App::new()
                .wrap($middleware)
                .route("/", web::get().to($counter))
                .route("/read", web::get().to($read))
        })
        .workers(1)
        .bind(("127.0.0.1", $port))
        .unwrap()
        .run()
        .await
        .unwrap()
    };
}

fn serve(server: &str, port: u16) {
    use actix_session::storage::{CookieSessionStore, RedisSessionStore};
    use actix_session::SessionMiddleware as Peer;
    use actix_web::middleware::Identity;
    let server = server.to_owned();
    actix_web::rt::System::new().block_on(async move {
        let key = actix_web::cookie::Key::generate();
        match server.as_str() {
            "bare" => run_server!(port, Identity::default(), bare::counter, bare::counter),
            "as-cookie" => run_server!(
                port,
                Peer::builder(CookieSessionStore::default(), key.clone())
                    .cookie_secure(false)
                    .build(),
                peer::counter,
                peer::read
            ),
            "as-redis" => {
                let store = RedisSessionStore::builder(redis_url())
                    .cache_keygen(|k| format!("{PREFIX}as:{k}"))
                    .build()
                    .await
                    .unwrap();
                run_server!(
                    port,
                    Peer::builder(store.clone(), key.clone())
                        .cookie_secure(false)
                        .build(),
                    peer::counter,
                    peer::read
                )
            }
            bee => {
                let manager = bee_manager(bee).await;
                run_server!(
                    port,
                    actix_bee::web::SessionMiddleware::new(manager.clone()),
                    bee::counter,
                    bee::read
                )
            }
        }
    });
}

// ---------------------------------------------------------------- load

/// Each connection collects the cookie of its first response and sends it
/// back; `BENCH_PATH=create` sends no cookie at all.
const LUA: &str = r#"
local cookies = {}
local n = 0
local mode = os.getenv("BENCH_PATH") or "/"
request = function()
  n = n + 1
  if mode == "create" then return wrk.format("GET", "/") end
  if #cookies < 64 then return wrk.format("GET", "/") end
  return wrk.format("GET", mode, { ["Cookie"] = cookies[(n % #cookies) + 1] })
end
response = function(status, headers, body)
  if status ~= 200 then error("status " .. status) end
  local sc = headers["set-cookie"] or headers["Set-Cookie"]
  if sc and #cookies < 64 then cookies[#cookies + 1] = string.match(sc, "^([^;]+)") end
end
"#;

fn start(server: &str, port: u16) -> Child {
    let child = Command::new("taskset")
        .args(["-c", "0"])
        .arg(std::env::current_exe().unwrap())
        .args(["serve", server, &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("taskset (util-linux)");
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{server} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The process's user+system CPU time in clock ticks (100 per second).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

struct Run {
    req_per_sec: f64,
    cpu_us_per_req: f64,
}

fn wrk(port: u16, mode: &str, secs: u64, script: &std::path::Path, pid: u32) -> Run {
    let before = cpu_ticks(pid);
    let out = Command::new("taskset")
        .args(["-c", "1", "wrk", "-t1", "-c64", &format!("-d{secs}s"), "-s"])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .env("BENCH_PATH", mode)
        .output()
        .expect("wrk (apt-get install -y wrk)");
    let ticks = cpu_ticks(pid) - before;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Non-2xx") && !text.contains("errors:"),
        "wrk saw errors:\n{text}"
    );
    let req_per_sec: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no wrk result:\n{text}"));
    let requests: f64 = text
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .map(|(n, _)| n.trim().to_owned())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(req_per_sec * secs as f64);
    Run {
        req_per_sec,
        cpu_us_per_req: ticks as f64 * 10_000.0 / requests,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure(servers: &[&str]) {
    let runs: usize = env_num("BENCH_RUNS", 3);
    let secs: u64 = env_num("BENCH_SECS", 10);
    let script = std::env::temp_dir().join(format!("actix-bee-http-{}.lua", std::process::id()));
    std::fs::write(&script, LUA).unwrap();
    let workloads = [("write", "/"), ("read", "/read"), ("create", "create")];
    // results[server][workload] = (req/s, cpu µs/req)
    let mut results = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let mut row = Vec::new();
        for (w, (name, mode)) in workloads.iter().enumerate() {
            let (mut rps, mut cpu) = (Vec::new(), Vec::new());
            for run in 0..runs {
                let port = 19000 + (i * 100 + w * 10 + run) as u16;
                let mut child = start(server, port);
                let r = wrk(port, mode, secs, &script, child.id());
                child.kill().ok();
                child.wait().ok();
                rps.push(r.req_per_sec);
                cpu.push(r.cpu_us_per_req);
            }
            eprintln!("{server:11} {name:6} req/s {rps:.0?} cpu µs/req {cpu:.1?}");
            row.push((median(rps), median(cpu)));
        }
        results.push(row);
    }
    std::fs::remove_file(&script).ok();
    redis_keys::delete_prefixed(PREFIX);

    let find = |name: &str| servers.iter().position(|s| *s == name);
    println!(
        "\nmedians of {runs} runs of {secs} s; ratios are req/s ratios (CPU ratios in brackets)"
    );
    println!(
        "{:11} {:>16} {:>16} {:>16}   vs bare (w/r/c)          vs actix-session (w/r/c)",
        "server", "write req/s|µs", "read req/s|µs", "create req/s|µs"
    );
    for (i, server) in servers.iter().enumerate() {
        let row = &results[i];
        let cells: Vec<String> = row
            .iter()
            .map(|(r, c)| format!("{r:>9.0}|{c:>5.1}"))
            .collect();
        let ratio = |base: Option<usize>| -> String {
            match base {
                Some(b) => (0..workloads.len())
                    .map(|w| {
                        let (r, c) = row[w];
                        let (br, bc) = results[b][w];
                        format!("{:.2}({:.2})", r / br, c / bc)
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                None => "-".into(),
            }
        };
        let peer = if server.contains("redis") {
            find("as-redis")
        } else {
            find("as-cookie")
        };
        println!(
            "{server:11} {} {} {}   {:24} {}",
            cells[0],
            cells[1],
            cells[2],
            ratio(find("bare")),
            ratio(peer)
        );
    }
}
