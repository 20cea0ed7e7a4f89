//! Instructions per request, counted by callgrind: a figure that other
//! processes on a shared machine do not disturb, unlike wall-clock runs.
//!
//! ```text
//! cargo bench -p actix-bee-bench --bench callgrind                  # default servers
//! cargo bench -p actix-bee-bench --bench callgrind -- bare bee-memory
//! ```
//!
//! Each server of `http`'s list is built in-process and called through
//! `actix_web::test` (no sockets, no HTTP parsing: what differs between
//! servers is the middleware and the handler). For each workload the
//! driver runs under `valgrind --tool=callgrind` twice, with `N1` and `N2`
//! requests after the same warm-up (64 sessions made), and prints
//! (Ir(N2) - Ir(N1)) / (N2 - N1): start-up cost cancels out.
//! `CALLGRIND_KEEP=1` keeps the N2 profiles (for `callgrind_annotate`).
//! Env: `CALLGRIND_N1` (300), `CALLGRIND_N2` (1300).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;

use actix_web::http::header;
use actix_web::test;

use support::report::WORKLOADS;
use support::servers::prepare;

const DEFAULT: &[&str] = &[
    "bare",
    "bare-tpl",
    "as-cookie",
    "bee-memory",
    "counter-memory",
    "bee-cookie",
    "as-cookie-tpl",
    "counter-cookie",
];

fn main() {
    let args = support::args();
    if args.first().map(String::as_str) == Some("drive") {
        return drive(&args[1], &args[2], args[3].parse().unwrap());
    }
    let chosen: Vec<&str> = if args.is_empty() {
        DEFAULT.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let (n1, n2) = (
        support::env_num("CALLGRIND_N1", 300),
        support::env_num("CALLGRIND_N2", 1300),
    );
    println!("instructions per request (callgrind, in-process), N = {n2} - {n1}");
    println!(
        "{:15} {:>10} {:>10} {:>10}",
        "server", "write", "read", "create"
    );
    let mut bare: Option<Vec<f64>> = None;
    for server in &chosen {
        let per: Vec<f64> = WORKLOADS
            .iter()
            .map(|(name, _)| {
                let a = instructions(server, name, n1, false);
                let b = instructions(server, name, n2, true);
                (b - a) as f64 / (n2 - n1) as f64
            })
            .collect();
        let ratio = bare.as_ref().map(|base| {
            per.iter()
                .zip(base)
                .map(|(p, b)| format!("{:.2}x", p / b))
                .collect::<Vec<_>>()
                .join(" ")
        });
        println!(
            "{server:15} {:>10.0} {:>10.0} {:>10.0}   {}",
            per[0],
            per[1],
            per[2],
            ratio.map(|r| format!("vs bare {r}")).unwrap_or_default()
        );
        if *server == "bare" {
            bare = Some(per);
        }
    }
}

/// Total instructions of `drive server workload n` under callgrind.
fn instructions(server: &str, workload: &str, n: u64, keep: bool) -> u64 {
    let out = std::env::temp_dir().join(format!("callgrind.{server}.{workload}.{n}.out"));
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "-q"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().unwrap())
        .args(["drive", server, workload, &n.to_string()])
        .status()
        .expect("valgrind (apt-get install -y valgrind)");
    assert!(
        status.success(),
        "{server} {workload} failed under callgrind"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no total in {}", out.display()));
    if keep && std::env::var_os("CALLGRIND_KEEP").is_some() {
        eprintln!("kept {}", out.display());
    } else {
        std::fs::remove_file(&out).ok();
    }
    total
}

/// Makes 64 sessions, then sends `n` requests of `workload`.
fn drive(server: &str, workload: &str, n: u64) {
    let name = server.to_owned();
    let workload = workload.to_owned();
    actix_web::rt::System::new().block_on(async move {
        let shared = prepare(&name).await;
        with_app_factory!(shared, factory => {
            let app = test::init_service(factory()).await;
            let mut cookies = Vec::new();
            for _ in 0..64 {
                let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
                assert!(res.status().is_success(), "{}", res.status());
                if let Some(c) = res.headers().get(header::SET_COOKIE) {
                    let c = c.to_str().unwrap();
                    cookies.push(c.split(';').next().unwrap().to_owned());
                }
                test::read_body(res).await;
            }
            let path = if workload == "read" { "/read" } else { "/" };
            for i in 0..n as usize {
                let mut req = test::TestRequest::get().uri(path);
                if workload != "create" && !cookies.is_empty() {
                    req = req.insert_header((header::COOKIE, cookies[i % cookies.len()].clone()));
                }
                let res = test::call_service(&app, req.to_request()).await;
                assert!(res.status().is_success(), "{}", res.status());
                test::read_body(res).await;
            }
        })
    });
    support::servers::clean_backends(&[server]);
}
