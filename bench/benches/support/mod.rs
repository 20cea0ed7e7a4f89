//! What the HTTP benches (`http`, `callgrind`) share.
#![allow(dead_code)]

pub mod chart;
pub mod load;
pub mod redis_keys;
pub mod report;
#[macro_use]
pub mod servers;

/// A number from the environment, or `default`.
pub fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The command line, less the program and cargo's `--bench`-style flags.
pub fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect()
}
