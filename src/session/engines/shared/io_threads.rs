//! An engine's own I/O threads, for the synchronous calls a request makes
//! (the file engine's file system calls, the SQL engines' sync drivers).
//!
//! On tokio's blocking pool every call wakes an idle thread and the pool
//! grows a thread per call in flight. Issue 26's profiles showed what
//! that costs: 64 connections writing made 54 threads on one core for the
//! file engine, the switches about a third of a write's CPU; the SQL
//! engines grew 67 threads for 8 connections, each waiting on the
//! pool's lock and condition variable for its turn. A fixed set of
//! threads sharing one queue takes the next call without sleeping while
//! there is work, so under load a call costs a queue push and a wake of
//! the task that waits for it.
//!
//! A call whose caller gave up (its deadline passed, its request was
//! dropped) is skipped when its turn comes, so that after a backend hangs
//! and comes back the threads run only calls somebody still waits for.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{unbounded, Sender};

use crate::session::error::{Error, Result};

/// One call to run.
type Job = Box<dyn FnOnce() + Send>;

/// The threads; they end when this is dropped (their queue closes) and
/// the calls in flight return.
pub(crate) struct IoThreads {
    queue: Sender<Job>,
    /// The engine, for errors and the threads' names.
    engine: &'static str,
}

impl IoThreads {
    /// Starts `count` threads (at least one) named after `engine`.
    pub(crate) fn start(engine: &'static str, count: usize) -> io::Result<IoThreads> {
        let (queue, jobs) = unbounded::<Job>();
        for _ in 0..count.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("actix-bee-{engine}"))
                .spawn(move || {
                    while let Ok(job) = jobs.recv() {
                        job();
                    }
                })?;
        }
        Ok(IoThreads { queue, engine })
    }

    /// Runs `work` on one of the threads and waits for its result. A
    /// panic in `work` is an error for this call; the thread goes on.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // Nobody waits any more: the call would only load the backend.
            if done.is_closed() {
                return;
            }
            if let Ok(outcome) = catch_unwind(AssertUnwindSafe(work)) {
                let _ = done.send(outcome);
            }
        });
        let engine = self.engine;
        let stopped = || Error::backend(engine, io::Error::other("an I/O call failed"));
        self.queue.send(job).map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }

    /// As [`run`](Self::run), bounded by `deadline`: past it the caller
    /// gets [`Error::Timeout`] (a 503) at once, and the call, if it has
    /// not started, never runs. A call already running cannot be
    /// cancelled; it finishes when the backend answers or its socket gives
    /// up, and what it returns is dropped. Outside tokio (no timer) the
    /// call has no deadline.
    #[cfg(any(feature = "mysql", feature = "postgresql"))]
    pub(crate) async fn run_within<T, F>(&self, deadline: std::time::Duration, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.run(work).await;
        }
        match tokio::time::timeout(deadline, self.run(work)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                backend: self.engine,
                after: deadline,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::*;

    /// A call whose caller gave up while it waited for a thread never
    /// runs; the caller got a timeout at its deadline; the thread then
    /// takes the next call.
    #[cfg(any(feature = "mysql", feature = "postgresql"))]
    #[tokio::test]
    async fn a_call_nobody_waits_for_is_skipped() {
        let threads = Arc::new(IoThreads::start("test", 1).unwrap());
        let (held, release) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let (h, r) = (held.clone(), release.clone());
        let on = threads.clone();
        let busy = tokio::spawn(async move {
            on.run(move || {
                h.wait();
                r.wait();
                Ok(1)
            })
            .await
        });
        // Off the runtime's one thread, which must queue `busy` meanwhile.
        tokio::task::spawn_blocking(move || held.wait())
            .await
            .unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let late = threads.run_within(Duration::from_millis(50), move || {
            flag.store(true, Ordering::SeqCst);
            Ok(2)
        });
        assert!(matches!(late.await, Err(Error::Timeout { .. })));
        release.wait();
        assert_eq!(busy.await.unwrap().unwrap(), 1);
        assert_eq!(threads.run(|| Ok(3)).await.unwrap(), 3);
        assert!(!ran.load(Ordering::SeqCst), "an abandoned call ran");
    }

    /// A panic is that call's error; the thread lives on.
    #[tokio::test]
    async fn a_panic_fails_only_its_call() {
        let threads = IoThreads::start("test", 1).unwrap();
        let failed = threads.run(|| -> Result<()> { panic!("boom") }).await;
        assert!(matches!(failed, Err(Error::Backend { .. })), "{failed:?}");
        assert_eq!(threads.run(|| Ok(4)).await.unwrap(), 4);
    }
}
