//! The GC task: the engine's `session_gc` every `gc_lifetime` seconds.

use std::time::Duration;

use tokio::task::JoinHandle;

use std::sync::Arc;

use super::error::{Error, Result};
use super::provider::Provider;

/// A running GC task. Dropping the handle leaves the task running, as
/// beego's `go globalSessions.GC()` does; [`GcTask::stop`] ends it.
///
/// The first run comes one period (`gc_lifetime` seconds) after the start,
/// then one per period; `tests/gc.rs` checks both, and that nothing runs
/// after `stop`.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// let m = actix_bee::session::Manager::new("memory", Default::default()).await.unwrap();
/// let gc = m.gc().unwrap();
/// // ... serve requests; at shutdown:
/// gc.stop();
/// # });
/// ```
#[derive(Debug)]
pub struct GcTask {
    handle: JoinHandle<()>,
}

impl GcTask {
    /// Runs `provider`'s GC every `period` on the current runtime.
    pub(crate) fn spawn(provider: Arc<dyn Provider>, period: Duration) -> Result<GcTask> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        // A zero period would spin.
        let period = period.max(Duration::from_secs(1));
        let handle = runtime.spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(e) = provider.session_gc().await {
                    tracing::warn!(error = %e, "session: GC failed");
                }
            }
        });
        Ok(GcTask { handle })
    }

    /// True until the task is stopped.
    ///
    /// # Examples
    ///
    /// See [`GcTask`].
    pub fn is_running(&self) -> bool {
        !self.handle.is_finished()
    }

    /// Stops the task.
    ///
    /// # Examples
    ///
    /// See [`GcTask`].
    pub fn stop(self) {
        self.handle.abort();
    }
}
