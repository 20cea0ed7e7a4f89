//! Driving a pinned server with wrk and reading its CPU time and RSS.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Each connection collects the cookie of its first response and sends it
/// back (64 sessions, round robin); `BENCH_PATH=create` sends no cookie.
pub const LUA: &str = r#"
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

/// A server process that is killed when dropped, so that a failed run
/// never leaves a server holding its port for the next run.
pub struct Server(pub Child);

impl Server {
    /// The server's pid.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Starts `server` (this executable, `serve` mode) pinned to core 0 and
/// waits until it accepts connections.
pub fn start(server: &str, port: u16) -> Server {
    let child = Server(
        Command::new("taskset")
            .args(["-c", "0"])
            .arg(std::env::current_exe().unwrap())
            .args(["serve", server, &port.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .expect("taskset (util-linux)"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{server} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The process's user+system CPU time in clock ticks (100 per second).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The process's resident set in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One wrk run against one server.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub req_per_sec: f64,
    pub requests: f64,
    pub cpu_us_per_req: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Redis's own CPU µs/request (Redis servers only, else NaN).
    pub redis_us_per_req: f64,
}

/// Pins the benches' Redis to core 1 (with wrk, as the anchors' method
/// does) when `BENCH_PIN_REDIS=1`; left alone otherwise, since it is a
/// shared server.
pub fn pin_redis() {
    if std::env::var("BENCH_PIN_REDIS").as_deref() != Ok("1") {
        return;
    }
    let info: Option<String> = redis::Client::open(super::redis_keys::redis_url())
        .ok()
        .and_then(|c| c.get_connection().ok())
        .and_then(|mut c| redis::cmd("INFO").arg("server").query(&mut c).ok());
    let pid = info.as_deref().and_then(|i| {
        i.lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .map(|p| p.trim().to_owned())
    });
    if let Some(pid) = pid {
        let ok = Command::new("taskset")
            .args(["-a", "-cp", "1", &pid])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        eprintln!("redis (pid {pid}) pinned to core 1: {ok}");
    }
}

/// Redis's user+system CPU seconds (`INFO cpu`), NaN when unreachable.
pub fn redis_cpu_secs() -> f64 {
    let info: Option<String> = redis::Client::open(super::redis_keys::redis_url())
        .ok()
        .and_then(|c| c.get_connection().ok())
        .and_then(|mut c| redis::cmd("INFO").arg("cpu").query(&mut c).ok());
    let Some(info) = info else {
        return f64::NAN;
    };
    let field = |name: &str| -> f64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    field("used_cpu_user:") + field("used_cpu_sys:")
}

/// A wrk latency like `812.00us`, `3.45ms` or `1.02s`, in ms.
fn latency_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    let (num, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * scale)
}

/// The `NN%` line of wrk's latency distribution.
fn percentile(text: &str, pct: &str) -> f64 {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(pct).and_then(latency_ms))
        .unwrap_or(f64::NAN)
}

/// Runs `wrk -t1 -c64 --latency` on core 1 for `secs` and reads the
/// server's CPU time around it.
pub fn wrk(port: u16, mode: &str, secs: u64, script: &Path, pid: u32, redis: bool) -> Run {
    let redis_before = if redis { redis_cpu_secs() } else { f64::NAN };
    let before = cpu_ticks(pid);
    let out = Command::new("taskset")
        .args([
            "-c",
            "1",
            "wrk",
            "-t1",
            "-c64",
            "--latency",
            &format!("-d{secs}s"),
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .env("BENCH_PATH", mode)
        .output()
        .expect("wrk (apt-get install -y wrk)");
    let ticks = cpu_ticks(pid) - before;
    let redis_secs = if redis {
        redis_cpu_secs() - redis_before
    } else {
        f64::NAN
    };
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
        requests,
        cpu_us_per_req: ticks as f64 * 10_000.0 / requests,
        p50_ms: percentile(&text, "50%"),
        p99_ms: percentile(&text, "99%"),
        redis_us_per_req: redis_secs * 1e6 / requests,
    }
}

/// The median of `v` (the upper one for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (max - min) / median.
pub fn spread(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::MIN, f64::max);
    let min = v.iter().copied().fold(f64::MAX, f64::min);
    (max - min) / median(v.to_vec())
}
