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

/// beego's figures, measured in issue 26's sitting (Go 1.19,
/// `GOMAXPROCS=1`): beego cannot be built on this machine (no Go module
/// proxy), so they are quoted, not measured here. (req/s, CPU µs/req) for
/// write, read, create.
const BEEGO_ANCHORS: &[(&str, [(f64, f64); 3])] = &[
    (
        "beego file (issue 26's sitting)",
        [(4179.0, 150.4), (4540.0, 139.0), (10590.0, 93.8)],
    ),
    (
        "beego memory (issue 26's sitting)",
        [(83689.0, 11.72), (82980.0, 11.78), (47786.0, 20.73)],
    ),
    (
        "beego cookie (issue 26's sitting)",
        [(31457.0, 31.49), (38430.0, 25.68), (31205.0, 31.61)],
    ),
];

/// One target of the issue and what this sitting measured for it.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub what: String,
    pub value: f64,
    pub limit: f64,
    /// `value <= limit` passes (else `value >= limit` does).
    pub at_most: bool,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        if self.at_most {
            self.value <= self.limit
        } else {
            self.value >= self.limit
        }
    }

    /// How much of the target the value uses: 1.0 is the target, above
    /// is a miss, whichever way the target points.
    pub fn score(&self) -> f64 {
        if self.at_most {
            self.value / self.limit
        } else {
            self.limit / self.value
        }
    }

    pub fn target(&self) -> String {
        format!("{} {}", if self.at_most { "<=" } else { ">=" }, self.limit)
    }
}

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

/// Collects and prints the verdicts.
#[derive(Default)]
struct Verdicts(Vec<Verdict>);

impl Verdicts {
    /// Adds one target line, unless this sitting did not measure it.
    fn add(&mut self, what: String, value: f64, limit: f64, at_most: bool) {
        if value.is_nan() {
            return;
        }
        let v = Verdict {
            what,
            value,
            limit,
            at_most,
        };
        let mark = if v.ok() { "PASS" } else { "MISS" };
        println!(
            "  {mark}  {:66} {:>8.2}  (target {})",
            v.what,
            v.value,
            v.target()
        );
        self.0.push(v);
    }
}

fn cell(rows: &[Row], server: &str, w: usize) -> Option<Cell> {
    find(rows, server).map(|r| r.cells[w])
}

/// The cells of `a` and `b` in workload `w`, when both were measured.
fn pair(rows: &[Row], a: &str, b: &str, w: usize) -> Option<(Cell, Cell)> {
    Some((cell(rows, a, w)?, cell(rows, b, w)?))
}

/// `field` of `a` over `field` of `b` in workload `w` (NaN when either
/// was not measured).
fn ratio(rows: &[Row], a: &str, b: &str, w: usize, field: fn(&Cell) -> f64) -> f64 {
    pair(rows, a, b, w).map_or(f64::NAN, |(a, b)| field(&a) / field(&b))
}

/// The CPU a session layer adds to the page: `server`'s CPU per request
/// less `bare-tpl`'s (the same page without a session).
fn overhead(rows: &[Row], server: &str, w: usize) -> f64 {
    pair(rows, server, "bare-tpl", w).map_or(f64::NAN, |(a, b)| a.cpu - b.cpu)
}

/// Prints every target of issue 26 that this sitting measured, PASS or
/// MISS, and returns them for the chart.
pub fn targets(rows: &[Row]) -> Vec<Verdict> {
    println!("\ntargets (issue 26), ratios of medians in this sitting:");
    let mut v = Verdicts::default();
    // 1. Memory: the counter on its defaults, past its limits.
    for (w, base, limit) in [
        (0, "bare-tpl", 1.15),
        (1, "bare", 1.10),
        (2, "bare-tpl", 1.30),
    ] {
        let what = format!("memory: counter CPU/req {} vs {base}", WORKLOADS[w].0);
        let r = ratio(rows, "counter-memory", base, w, |c| c.cpu);
        v.add(what, r, limit, true);
    }
    // 2. Cookie: the session's CPU above the page, against actix-session's.
    for (w, (name, _)) in WORKLOADS.iter().enumerate() {
        let r = overhead(rows, "counter-cookie", w) / overhead(rows, "as-cookie-tpl", w);
        let what = format!("cookie: session CPU above the page {name} vs actix-session's");
        v.add(what, r, 0.6, true);
    }
    // 3. Redis: throughput, and Redis's own CPU per request.
    for (w, (name, _)) in WORKLOADS.iter().enumerate() {
        let what = format!("redis: counter req/s {name} vs actix-session + template");
        let redis = |field| ratio(rows, "counter-redis", "as-redis-tpl", w, field);
        v.add(what, redis(|c| c.rps), 1.5, false);
        let what = format!("redis: Redis CPU/req {name} vs actix-session's");
        v.add(what, redis(|c| c.redis), 1.0, true);
    }
    // 4. File, against beego's file provider (issue 26's figures).
    let beego = BEEGO_ANCHORS[0].1;
    for (w, limit) in [(0, 5.0), (1, 15.0)] {
        let r = cell(rows, "counter-file", w).map_or(f64::NAN, |c| c.rps / beego[w].0);
        let what = format!("file: counter req/s {} vs beego file", WORKLOADS[w].0);
        v.add(what, r, limit, false);
    }
    // 5. SQL: our server's CPU per request, in µs.
    for server in ["counter-postgresql", "counter-mysql"] {
        for (w, limit) in [(0, 80.0), (1, 25.0), (2, 30.0)] {
            let cpu = cell(rows, server, w).map_or(f64::NAN, |c| c.cpu);
            let what = format!("sql: {server} CPU µs/req {}", WORKLOADS[w].0);
            v.add(what, cpu, limit, true);
        }
    }
    // 6. p99 of the engines that run in-process, beside the same page.
    for server in ["counter-memory", "counter-cookie", "counter-file"] {
        for (w, (name, _)) in WORKLOADS.iter().enumerate() {
            let p99 = |s| cell(rows, s, w).map_or(f64::NAN, |c| c.p99);
            let what = format!("p99: {server} {name} vs bare-tpl");
            v.add(what, p99(server) / p99("bare-tpl"), 1.5, true);
        }
    }
    // Kept from the earlier rounds: a GC of a million sessions, and RSS.
    for (w, (name, _)) in WORKLOADS.iter().enumerate() {
        let p99 = |s| cell(rows, s, w).map_or(f64::NAN, |c| c.p99);
        let what = format!("memory p99 {name} during GC of 1M sessions vs without");
        v.add(what, p99("bee-memory-gc") / p99("bee-memory"), 2.0, true);
    }
    if let Some(f) = find(rows, "bee-memory").and_then(|r| r.footprint) {
        let mib = (f.before_kib * 1024.0 + f.bytes_per_session() * 1e6) / 1048576.0;
        let what = "memory: MiB at 1,000,000 sessions (extrapolated)".to_owned();
        v.add(what, mib, 400.0, true);
    }
    for server in [
        "counter-mysql",
        "counter-postgresql",
        "bee-mysql",
        "bee-postgresql",
    ] {
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
    v.0
}
