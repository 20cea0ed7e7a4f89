//! A deadline for calls that must fail fast: `cargo test` has no per-test
//! timeout, so a hang would stall CI instead of failing it.

use std::future::Future;
use std::time::{Duration, Instant};

/// Awaits `call`, failing the test if it takes longer than `limit`: the
/// future is dropped at the limit, so a hung call fails instead of hanging.
/// Returns the call's output and how long it took.
pub async fn within<T>(limit: Duration, what: &str, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    match tokio::time::timeout(limit, call).await {
        Ok(out) => out,
        Err(_) => panic!(
            "{what}: no answer after {:?} (limit {limit:?})",
            started.elapsed()
        ),
    }
}
