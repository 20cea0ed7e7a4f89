//! The table of one sitting and the targets, PASS or MISS.

/// The workloads, as named in the table, and wrk's `BENCH_PATH` for each.
pub const WORKLOADS: [(&str, &str); 3] = [("write", "/"), ("read", "/read"), ("create", "create")];

/// Medians of one server under one workload.
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub rps: f64,
    pub cpu: f64,
    pub p50: f64,
    pub p99: f64,
    /// Redis's CPU µs/request (NaN for servers without Redis).
    pub redis: f64,
    /// The larger of the req/s and CPU spreads, (max - min) / median.
    pub spread: f64,
    pub runs: usize,
}

/// Resident memory of the create workload: before, after, sessions made.
#[derive(Debug, Clone, Copy)]
pub struct Footprint {
    pub before_kib: f64,
    pub after_kib: f64,
    pub sessions: f64,
}

impl Footprint {
    /// Bytes of RSS per session created.
    pub fn bytes_per_session(&self) -> f64 {
        (self.after_kib - self.before_kib) * 1024.0 / self.sessions.max(1.0)
    }
}

/// One server's row.
pub struct Row {
    pub server: String,
    pub cells: Vec<Cell>,
    pub footprint: Option<Footprint>,
}

/// beego's figures from performance-anchors.md: not measured here (the Go
/// module proxy is out of reach, so beego cannot be built on this machine).
const BEEGO_ANCHORS: &[(&str, [(f64, f64); 3])] = &[
    (
        "beego file (anchor, earlier sitting E)",
        [(2566.0, 206.0), (3285.0, 198.0), (6400.0, 147.0)],
    ),
    (
        "beego memory (anchor, earlier sitting B)",
        [(67000.0, 14.9), (54000.0, 18.3), (37000.0, f64::NAN)],
    ),
];

fn find<'a>(rows: &'a [Row], server: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.server == server)
}

/// Prints the table of medians and the footprints.
pub fn table(rows: &[Row], secs: u64) {
    println!("\nmedians; each cell: req/s | server CPU µs/req | p50/p99 ms | spread (runs), {secs} s runs");
    print!("{:40}", "server");
    for (name, _) in WORKLOADS {
        print!(" | {name:^46}");
    }
    println!();
    for row in rows {
        print!("{:40}", row.server);
        for c in &row.cells {
            print!(
                " | {:>8.0} {:>6.2}µs{:6} {:>5.2}/{:<6.2} {:>3.0}%({})",
                c.rps,
                c.cpu,
                if c.redis.is_nan() {
                    String::new()
                } else {
                    format!("+{:.1}", c.redis)
                },
                c.p50,
                c.p99,
                c.spread * 100.0,
                c.runs
            );
        }
        println!();
    }
    for (name, cells) in BEEGO_ANCHORS {
        print!("{name:40}");
        for (rps, cpu) in cells {
            print!(" | {rps:>8.0} {cpu:>6.2}µs {:>28}", "");
        }
        println!();
    }
    for row in rows {
        if let Some(f) = row.footprint {
            println!(
                "RSS {}: {:.1} MiB -> {:.1} MiB after {:.0} created sessions: {:.0} B/session",
                row.server,
                f.before_kib / 1024.0,
                f.after_kib / 1024.0,
                f.sessions,
                f.bytes_per_session()
            );
        }
    }
}

/// One target line: `value` against `limit`, PASS when `ok`.
fn verdict(what: &str, value: f64, limit: &str, ok: bool) {
    if value.is_nan() {
        return; // not measured in this sitting
    }
    let mark = if ok { "PASS" } else { "MISS" };
    println!("  {mark}  {what:58} {value:>8.2}  (target {limit})");
}

/// CPU ratio of `a` over `b` in workload `w`.
fn cpu_ratio(rows: &[Row], a: &str, b: &str, w: usize) -> f64 {
    match (find(rows, a), find(rows, b)) {
        (Some(a), Some(b)) => a.cells[w].cpu / b.cells[w].cpu,
        _ => f64::NAN,
    }
}

/// req/s ratio of `a` over `b` in workload `w`.
fn rps_ratio(rows: &[Row], a: &str, b: &str, w: usize) -> f64 {
    match (find(rows, a), find(rows, b)) {
        (Some(a), Some(b)) => a.cells[w].rps / b.cells[w].rps,
        _ => f64::NAN,
    }
}

/// Prints every target of issue 11 that this sitting measured.
pub fn targets(rows: &[Row]) {
    println!("\ntargets (issue 11), ratios of medians in this sitting:");
    for (w, limit) in [(0, 1.15), (1, 1.10), (2, 1.25)] {
        let r = cpu_ratio(rows, "bee-memory", "bare", w);
        let what = format!("memory CPU/req {} vs bare", WORKLOADS[w].0);
        verdict(&what, r, &format!("<= {limit}x"), r <= limit);
    }
    for (w, (name, _)) in WORKLOADS.iter().enumerate() {
        let r = cpu_ratio(rows, "counter-memory", "bare-tpl", w);
        let what = format!("counter CPU/req {name} vs bare+template");
        verdict(&what, r, "<= 1.15x", r <= 1.15);
    }
    for server in ["bee-memory", "counter-memory"] {
        for (w, (name, _)) in WORKLOADS.iter().enumerate() {
            let p99 = find(rows, server).map_or(f64::NAN, |r| r.cells[w].p99);
            verdict(
                &format!("{server} p99 ms {name}"),
                p99,
                "<= 2 ms",
                p99 <= 2.0,
            );
        }
    }
    for (w, (name, _)) in WORKLOADS.iter().enumerate() {
        let p99 = |server| find(rows, server).map_or(f64::NAN, |r| r.cells[w].p99);
        let r = p99("bee-memory-gc") / p99("bee-memory");
        let what = format!("memory p99 {name} during GC of 1M sessions vs without");
        verdict(&what, r, "< 2x", r < 2.0);
    }
    for server in ["bee-memory", "counter-memory"] {
        if let Some(f) = find(rows, server).and_then(|r| r.footprint) {
            let mib = (f.before_kib * 1024.0 + f.bytes_per_session() * 1e6) / 1048576.0;
            let what = format!("{server} MiB at 1,000,000 sessions (extrapolated)");
            verdict(&what, mib, "<= 400 MiB", mib <= 400.0);
        }
    }
    for w in [0, 1] {
        let r = cpu_ratio(rows, "bee-cookie", "as-cookie", w);
        let what = format!("cookie CPU/req {} vs actix-session cookie", WORKLOADS[w].0);
        verdict(&what, r, "<= 0.8x", r <= 0.8);
    }
    for (w, (name, _)) in WORKLOADS.iter().enumerate() {
        let r = rps_ratio(rows, "bee-redis", "as-redis", w);
        let what = format!("redis req/s {name} vs actix-session redis");
        verdict(&what, r, ">= 1.5x", r >= 1.5);
    }
    let beego = BEEGO_ANCHORS[0].1;
    for (w, limit) in [(0, 10.0), (1, 20.0)] {
        let r = find(rows, "bee-file").map_or(f64::NAN, |f| f.cells[w].rps / beego[w].0);
        let what = format!("file req/s {} vs beego file (anchor)", WORKLOADS[w].0);
        verdict(&what, r, &format!(">= {limit}x"), r >= limit);
    }
    for server in ["bee-mysql", "bee-postgresql"] {
        if let Some(row) = find(rows, server) {
            let cells: Vec<String> = row
                .cells
                .iter()
                .zip(WORKLOADS)
                .map(|(c, (w, _))| format!("{w} {:.0} req/s {:.1} µs", c.rps, c.cpu))
                .collect();
            println!("  info  {server}: {}", cells.join(", "));
        }
    }
}
