//! Running synchronous driver and file-system calls off the async workers.

use crate::session::error::{Error, Result};

/// Runs `f` on tokio's blocking pool, never on an async worker thread (a
/// sync client would stall every request on that worker, and the sync
/// postgres client panics there). Outside tokio (a plain executor) there is
/// no blocking pool and no worker to starve, so `f` runs in place.
pub(crate) async fn blocking<T, F>(engine: &'static str, f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::backend(engine, e))?
}

/// As [`blocking`], bounded by `deadline`: past it the caller gets
/// [`Error::Timeout`] (a 503) at once. The call itself cannot be cancelled
/// and finishes on its blocking thread when the backend answers or its
/// socket gives up; what it returns then is dropped.
#[cfg(feature = "memcache")]
pub(crate) async fn blocking_within<T, F>(
    engine: &'static str,
    deadline: std::time::Duration,
    f: F,
) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    match tokio::time::timeout(deadline, blocking(engine, f)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout {
            backend: engine,
            after: deadline,
        }),
    }
}
