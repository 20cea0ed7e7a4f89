//! What operators see of the engines (cargo feature `metrics`): metrics
//! through the [`metrics`] facade and a debug-level tracing span per
//! backend call.
//!
//! Recorded once, in the engine skeleton and the manager, never in an
//! engine: every built-in engine reports the same names. The handles of
//! the per-request metrics are registered when the engine starts, so a
//! request pays a handle call, not a registry lookup: install the
//! application's recorder (e.g. `metrics-exporter-prometheus`) before the
//! [`Manager`](super::Manager) starts. Without the feature this module is
//! empty and [`observed!`] is the bare call.
//!
//! | name | type | labels |
//! |---|---|---|
//! | `actix_bee_sessions_created_total` | counter | `engine` |
//! | `actix_bee_sessions_destroyed_total` | counter | `engine` |
//! | `actix_bee_sessions_regenerated_total` | counter | `engine` |
//! | `actix_bee_sessions_expired_total` | counter (sessions GC removed) | `engine` |
//! | `actix_bee_sessions_live` | gauge (memory and file; at most once a second) | `engine` |
//! | `actix_bee_backend_call_seconds` | histogram | `engine`, `op` |
//! | `actix_bee_backend_errors_total` | counter | `engine`, `kind` |
//! | `actix_bee_memory_evictions_total` | counter | |
//! | `actix_bee_file_refusals_total` | counter | |
//! | `actix_bee_owner_logouts_total` | counter ("log out everywhere" calls) | `engine` |
//!
//! `op` is one of `load`, `write`, `insert`, `remove`, `move`, `gc`,
//! `count`; `kind` one of `timeout`, `unavailable`, `corrupt`,
//! `too_large`, `full`, `collision`, `other`.

/// Runs the backend call `$call` (a future) as operation `$op` of the
/// engine whose metrics are `$metrics`, for session `$sid` (an
/// `Option<&SessionId>`): timed, counted and in a span with the feature,
/// just awaited without it.
macro_rules! observed {
    ($metrics:expr, $op:expr, $sid:expr, $call:expr) => {{
        #[cfg(feature = "metrics")]
        let done = $metrics.call($op, $sid, $call).await;
        #[cfg(not(feature = "metrics"))]
        let done = $call.await;
        done
    }};
}
pub(crate) use observed;

#[cfg(feature = "metrics")]
pub(crate) use on::*;

#[cfg(feature = "metrics")]
mod on {
    use std::future::Future;
    use std::sync::atomic::{AtomicU64, Ordering};

    use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};
    use tracing::Instrument;

    use crate::session::error::{Error, Result};
    use crate::session::id::SessionId;

    /// A backend operation, the `op` label.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Op {
        Load,
        Write,
        Insert,
        Remove,
        Move,
        Gc,
        Count,
    }

    impl Op {
        const ALL: [Op; 7] = [
            Op::Load,
            Op::Write,
            Op::Insert,
            Op::Remove,
            Op::Move,
            Op::Gc,
            Op::Count,
        ];

        fn name(self) -> &'static str {
            match self {
                Op::Load => "load",
                Op::Write => "write",
                Op::Insert => "insert",
                Op::Remove => "remove",
                Op::Move => "move",
                Op::Gc => "gc",
                Op::Count => "count",
            }
        }
    }

    /// The `kind` label of a failed call.
    fn kind(e: &Error) -> &'static str {
        match e {
            Error::Timeout { .. } => "timeout",
            Error::Backend { .. } | Error::NotInitialized { .. } => "unavailable",
            Error::Corrupt(_) | Error::Decode { .. } => "corrupt",
            Error::TooLarge { .. } => "too_large",
            Error::Full { .. } => "full",
            Error::IdCollision => "collision",
            _ => "other",
        }
    }

    /// How often the live-sessions gauge is refreshed at most.
    const LIVE_EVERY_MS: u64 = 1000;

    /// One engine's metric handles, registered when it starts.
    pub(crate) struct EngineMetrics {
        engine: &'static str,
        calls: [Histogram; Op::ALL.len()],
        created: Counter,
        destroyed: Counter,
        regenerated: Counter,
        expired: Counter,
        live: Gauge,
        live_at: AtomicU64,
        /// The calls' timer: the CPU's invariant TSC where there is one
        /// (read as a raw count, scaled once per call), else the monotonic
        /// clock.
        clock: quanta::Clock,
    }

    impl std::fmt::Debug for EngineMetrics {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("EngineMetrics")
                .field("engine", &self.engine)
                .finish_non_exhaustive()
        }
    }

    impl EngineMetrics {
        /// Registers `engine`'s handles with the recorder installed now.
        pub(crate) fn register(engine: &'static str) -> Self {
            let calls = Op::ALL.map(|op| {
                histogram!("actix_bee_backend_call_seconds", "engine" => engine, "op" => op.name())
            });
            EngineMetrics {
                engine,
                calls,
                created: counter!("actix_bee_sessions_created_total", "engine" => engine),
                destroyed: counter!("actix_bee_sessions_destroyed_total", "engine" => engine),
                regenerated: counter!("actix_bee_sessions_regenerated_total", "engine" => engine),
                expired: counter!("actix_bee_sessions_expired_total", "engine" => engine),
                live: gauge!("actix_bee_sessions_live", "engine" => engine),
                live_at: AtomicU64::new(0),
                clock: quanta::Clock::new(),
            }
        }

        /// Runs `call` as `op` on `sid`: a debug span (engine, op and the
        /// id's fingerprint, never the id), its duration, and its error
        /// kind when it fails.
        pub(crate) async fn call<T>(
            &self,
            op: Op,
            sid: Option<&SessionId>,
            call: impl Future<Output = Result<T>>,
        ) -> Result<T> {
            let started = self.clock.raw();
            let done = if tracing::level_enabled!(tracing::Level::DEBUG) {
                call.instrument(self.span(op, sid)).await
            } else {
                call.await
            };
            self.record(op, started, &done);
            done
        }

        /// [`call`](Self::call) for an engine that may answer without
        /// waiting (`f` gives `None` when it cannot): recorded only when it
        /// answered.
        pub(crate) fn call_now<T>(
            &self,
            op: Op,
            sid: Option<&SessionId>,
            f: impl FnOnce() -> Option<Result<T>>,
        ) -> Option<Result<T>> {
            let started = self.clock.raw();
            let done = if tracing::level_enabled!(tracing::Level::DEBUG) {
                self.span(op, sid).in_scope(f)?
            } else {
                f()?
            };
            self.record(op, started, &done);
            Some(done)
        }

        /// The span of one call. Made only when some subscriber may want
        /// debug spans (`level_enabled!` is one atomic load): a disabled
        /// span still costs a callsite check, and an instrumented future
        /// an enter and exit per poll. The id's fingerprint (a SHA-256) is
        /// computed only if a subscriber records the span.
        fn span(&self, op: Op, sid: Option<&SessionId>) -> tracing::Span {
            tracing::debug_span!(
                "session_backend",
                engine = self.engine,
                op = op.name(),
                id = sid.map(|sid| tracing::field::display(Fingerprint(sid))),
            )
        }

        /// The duration of a call that started at `started` (a raw
        /// reading of `clock`), and its error.
        fn record<T>(&self, op: Op, started: u64, done: &Result<T>) {
            let nanos = self.clock.delta_as_nanos(started, self.clock.raw());
            self.calls[op as usize].record(nanos as f64 * 1e-9);
            if let Err(e) = done {
                self.error(e);
            }
        }

        /// Counts a failure by its kind.
        pub(crate) fn error(&self, e: &Error) {
            counter!("actix_bee_backend_errors_total", "engine" => self.engine, "kind" => kind(e))
                .increment(1);
            if matches!(e, Error::Full { .. }) && self.engine == "file" {
                counter!("actix_bee_file_refusals_total").increment(1);
            }
        }

        /// A session was created.
        pub(crate) fn created(&self) {
            self.created.increment(1);
        }

        /// A session was destroyed.
        pub(crate) fn destroyed(&self) {
            self.destroyed.increment(1);
        }

        /// A session moved to a new id.
        pub(crate) fn regenerated(&self) {
            self.regenerated.increment(1);
        }

        /// GC removed `n` expired sessions.
        pub(crate) fn expired(&self, n: usize) {
            self.expired.increment(n as u64);
        }

        /// Sets the live-sessions gauge from `live` (an engine count that
        /// needs no I/O), at most once a second.
        pub(crate) fn live(&self, now_ms: u64, live: impl FnOnce() -> Option<usize>) {
            let last = self.live_at.load(Ordering::Relaxed);
            if now_ms.saturating_sub(last) < LIVE_EVERY_MS {
                return;
            }
            if self
                .live_at
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
            {
                return;
            }
            if let Some(n) = live() {
                self.live.set(n as f64);
            }
        }
    }

    /// An id shown by its fingerprint, computed when it is formatted.
    struct Fingerprint<'a>(&'a SessionId);

    impl std::fmt::Display for Fingerprint<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0.fingerprint())
        }
    }

    /// The memory engine evicted `n` sessions to stay within its limits.
    pub(crate) fn evicted(n: usize) {
        counter!("actix_bee_memory_evictions_total").increment(n as u64);
    }

    /// A "log out everywhere" ran on `engine`.
    pub(crate) fn owner_logout(engine: &'static str) {
        counter!("actix_bee_owner_logouts_total", "engine" => engine).increment(1);
    }
}
