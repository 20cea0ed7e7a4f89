//! The GC task: the engine's `session_gc` every `gc_lifetime` seconds.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::error::{Error, Result};
use super::manager::Manager;

/// A running GC task. Dropping the handle leaves the task running, as
/// beego's `go globalSessions.GC()` does; [`GcTask::stop`] ends it.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// let m = actix_bee::session::Manager::new("memory", Default::default()).await.unwrap();
/// let gc = m.gc().unwrap();
/// assert!(gc.is_running());
/// gc.stop();
/// # });
/// ```
#[derive(Debug)]
pub struct GcTask {
    handle: JoinHandle<()>,
}

impl GcTask {
    pub(crate) fn spawn(manager: Manager) -> Result<GcTask> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        // validate() refuses a zero period, so this never spins.
        let secs = u64::try_from(manager.config().gc_lifetime.max(1)).unwrap_or(1);
        let period = Duration::from_secs(secs);
        let handle = runtime.spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(e) = manager.provider().session_gc().await {
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
