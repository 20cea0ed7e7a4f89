//! HTTP throughput, server CPU per request, latency and memory of every
//! engine next to bare actix-web and actix-session, in one run, with the
//! ratios against issue 26's targets.
//!
//! ```text
//! cargo bench -p actix-bee-bench --bench http                   # every server
//! cargo bench -p actix-bee-bench --bench http -- bare bee-memory as-cookie
//! ```
//!
//! Method (performance-anchors.md): each server runs pinned to core 0
//! (`taskset -c 0`, one worker), `wrk -t1 -c64 --latency` runs on core 1,
//! and a wrk Lua script keeps one cookie per session (64 sessions, round
//! robin). Workloads: `write` = `GET /` (read `asta`, write +1), `read` =
//! `GET /read` (read only), `create` = `GET /` with no cookie (a new
//! session each time). CPU µs/request is the server's utime+stime over the
//! run (from /proc) divided by the requests wrk completed (for Redis
//! servers also Redis's own, from `INFO cpu`, shown as `+N`); RSS is read
//! before and after the create run. Each cell takes `BENCH_RUNS` (3) runs,
//! then more (up to `BENCH_MAX_RUNS`, 7) while the spread of req/s or CPU
//! is 10% or more; medians and the spread are printed.
//!
//! Servers: `bare` (plain text), `bare-tpl` (`/` renders
//! `templates/index.tpl` with the app's Go-template setup, no session),
//! `as-cookie-tpl`/`as-redis-tpl` (actix-session 0.11, private cookie /
//! Redis, rendering the same template), `counter-<engine>`
//! (`examples/counter.rs` itself over its own `conf/app.conf`, only the
//! engine changed: what users run; memory's is filled past its limits
//! first, so create evicts), and the plain-handler rows, labelled so:
//! `as-cookie`/`as-redis` and `bee-<engine>` (actix-bee's middleware and
//! a plain handler), `bee-memory-gc` (`bee-memory` with 1,000,000 sessions
//! made at start-up that expire after 2 s, and the GC every 2 s: its p99
//! next to `bee-memory`'s is the cost of a GC of a million sessions to
//! concurrent requests; `BENCH_GC_SESSIONS` changes the count).
//! beego cannot be built here (no Go module proxy): its rows are the
//! figures of issue 26's sitting, labelled so.
//!
//! The targets are issue 26's; each is printed PASS or MISS, and drawn
//! as a bar chart of measured/target (SVG at `BENCH_CHART`, by default in
//! the temp directory; the README shows `docs/bench/http-ratios.svg`).
//!
//! Env: `BENCH_SECS` (5), `BENCH_PIN_REDIS=1` (pin the Redis below to
//! core 1 first, as the anchors did; it is a shared server, so opt-in), `ACTIX_BEE_REDIS_PRIVATE_URL`
//! (`redis://127.0.0.1:6399/`), `ACTIX_BEE_MYSQL_URL`,
//! `ACTIX_BEE_POSTGRES_URL`. Needs `wrk` and `taskset`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use actix_web::HttpServer;

use support::load::{median, spread, start, wrk, LUA};
use support::report::{Cell, Footprint, Row, WORKLOADS};
use support::servers::{clean_backends, prepare, SERVERS};

fn main() {
    let args = support::args();
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

/// Serves `server` on `port` with one worker until killed.
fn serve(server: &str, port: u16) {
    let server = server.to_owned();
    actix_web::rt::System::new().block_on(async move {
        let shared = prepare(&server).await;
        with_app_factory!(shared, factory => {
            HttpServer::new(factory)
                .workers(1)
                .bind(("127.0.0.1", port))
                .unwrap()
                .run()
                .await
                .unwrap()
        })
    });
}

/// Runs one workload against fresh servers until the spread is under 10%
/// (or the run budget is spent).
fn cell(
    server: &str,
    port_base: u16,
    mode: &str,
    script: &std::path::Path,
    footprint: &mut Vec<Footprint>,
) -> Cell {
    let (min_runs, max_runs): (usize, usize) = (
        support::env_num("BENCH_RUNS", 3),
        support::env_num("BENCH_MAX_RUNS", 7),
    );
    let secs: u64 = support::env_num("BENCH_SECS", 5);
    let mut runs = Vec::new();
    loop {
        let port = port_base + runs.len() as u16;
        if server.ends_with("-file") {
            // Each run on an empty directory of its own, so that one create
            // run stays under the counter's default cap (100,000 files).
            // Nothing is deleted until the sitting ends: right after tens
            // of thousands of unlinks, ext4 skips the freed inodes on every
            // allocation for 5-35 s, which would charge the next run for
            // the harness's cleanup.
            let base = support::servers::file_dir();
            let run = base.join(format!("run-{}-{mode}-{}", server, runs.len()));
            std::env::set_var("BENCH_FILE_RUN_DIR", run);
        }
        let child = start(server, port);
        let before = support::load::rss_kib(child.id());
        let r = wrk(
            port,
            mode,
            secs,
            script,
            child.id(),
            server.contains("redis"),
        );
        if mode == "create" {
            footprint.push(Footprint {
                before_kib: before as f64,
                after_kib: support::load::rss_kib(child.id()) as f64,
                sessions: r.requests,
            });
        }
        drop(child);
        runs.push(r);
        let rps: Vec<f64> = runs.iter().map(|r| r.req_per_sec).collect();
        let cpu: Vec<f64> = runs.iter().map(|r| r.cpu_us_per_req).collect();
        let worst = spread(&rps).max(spread(&cpu));
        if runs.len() >= max_runs || (runs.len() >= min_runs && worst < 0.10) {
            eprintln!("{server:15} {mode:7} req/s {rps:.0?} cpu µs/req {cpu:.2?}");
            return Cell {
                rps: median(rps),
                cpu: median(cpu),
                p50: median(runs.iter().map(|r| r.p50_ms).collect()),
                p99: median(runs.iter().map(|r| r.p99_ms).collect()),
                redis: median(runs.iter().map(|r| r.redis_us_per_req).collect()),
                spread: worst,
                runs: runs.len(),
            };
        }
    }
}

/// Empties the benches' keys, tables and directory when dropped.
struct Cleanup<'a>(&'a [&'a str]);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        clean_backends(self.0);
    }
}

fn measure(servers: &[&str]) {
    for tool in ["wrk", "taskset"] {
        // Checked first: a missing wrk would otherwise surface as a failed
        // run with a server still holding the terminal.
        if std::process::Command::new(tool).arg("-V").output().is_err() {
            panic!("{tool} is missing (apt-get install -y wrk util-linux)");
        }
    }
    let script = std::env::temp_dir().join(format!("actix-bee-http-{}.lua", std::process::id()));
    std::fs::write(&script, LUA).unwrap();
    // One file engine directory for every server this run starts, removed at the end.
    let file_dir = std::env::temp_dir().join(format!("actix-bee-bench-{}", std::process::id()));
    std::env::set_var("BENCH_FILE_DIR", &file_dir);
    if servers.iter().any(|s| s.contains("redis")) {
        support::load::pin_redis();
    }
    // Whatever happens (a run that fails panics), the backends are left
    // as found: millions of bench sessions left in a test Redis slow every
    // SCAN of the test suite.
    let _cleanup = Cleanup(servers);
    let mut rows = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let mut footprints = Vec::new();
        let cells = WORKLOADS
            .iter()
            .enumerate()
            .map(|(w, (_, mode))| {
                let port = 19000 + (i * 100 + w * 10) as u16;
                cell(server, port, mode, &script, &mut footprints)
            })
            .collect();
        // Only the memory engine keeps its sessions in the process; the
        // run with the median bytes per session stands for the cell.
        footprints.sort_by(|a, b| a.bytes_per_session().total_cmp(&b.bytes_per_session()));
        let footprint = (server.contains("memory") && !server.ends_with("-gc"))
            .then(|| footprints.get(footprints.len() / 2).copied())
            .flatten();
        rows.push(Row {
            server: server.to_string(),
            cells,
            footprint,
        });
    }
    std::fs::remove_file(&script).ok();
    support::report::table(&rows, support::env_num("BENCH_SECS", 5));
    let verdicts = support::report::targets(&rows);
    let chart = std::env::var_os("BENCH_CHART").map_or_else(
        || std::env::temp_dir().join("actix-bee-http-ratios.svg"),
        Into::into,
    );
    support::chart::write(&chart, &verdicts).unwrap();
    println!("\nchart of the ratios: {}", chart.display());
}
