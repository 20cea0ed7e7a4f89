//! The readiness check: one bounded round trip to the session backend.

use std::time::{Duration, Instant};

use super::error::{Error, Result};
use super::manager::Manager;

impl Manager {
    /// Checks that the session backend answers: one round trip (an
    /// existence check of a freshly minted id, which no session holds)
    /// within `deadline`. Returns how long it took. For a readiness probe
    /// (see [`web::health_check`](crate::web::health_check) for a
    /// ready-made route): a backend that is down fails at once, a hung one
    /// after `deadline`, and the check passes again as soon as the backend
    /// is back, with no restart. Engines that keep sessions in the process
    /// or in the cookie (memory, cookie) always pass.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] after `deadline`; the engine's error when the
    /// backend refuses or is down ([`Error::Backend`], or the engine's own
    /// [`Error::Timeout`] when its call deadline is shorter).
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use std::time::Duration;
    /// use actix_bee::session::Manager;
    ///
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let took = m.health(Duration::from_secs(1)).await.unwrap();
    /// assert!(took < Duration::from_secs(1));
    /// # });
    /// ```
    pub async fn health(&self, deadline: Duration) -> Result<Duration> {
        let probe = self.new_session_id()?;
        let started = Instant::now();
        let provider = self.provider();
        match tokio::time::timeout(deadline, provider.session_exist(&probe)).await {
            Ok(answer) => answer.map(|_| started.elapsed()),
            Err(_) => Err(Error::Timeout {
                backend: provider.name(),
                after: deadline,
            }),
        }
    }
}
