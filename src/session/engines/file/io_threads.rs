//! The file engine's own I/O threads, for the calls a request makes.
//!
//! On tokio's blocking pool every call wakes an idle thread (a futex wake
//! and two context switches) and the pool grows a thread per call in
//! flight: 64 connections writing made 54 threads on one core, and the
//! switches were about a third of a write's CPU (issue 26's profile). A
//! few threads sharing one queue take the next call without sleeping
//! while there is work, so under load a call costs a queue push and a
//! wake of the task that waits for it. GC and counts, which walk the whole
//! tree, stay on the blocking pool so that they never hold these threads.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{unbounded, Sender};

use crate::session::error::{Error, Result};

/// One call to run.
type Job = Box<dyn FnOnce() + Send>;

/// The threads; they end when this is dropped (their queue closes).
pub(super) struct IoThreads {
    queue: Sender<Job>,
}

/// How many: twice the cores this process may run on, 4 to 16. A call
/// that waits on a session's lock holds its thread, so never fewer than 4.
fn how_many() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get().saturating_mul(2).clamp(4, 16))
}

impl IoThreads {
    /// Starts the threads.
    pub(super) fn start() -> io::Result<IoThreads> {
        let (queue, jobs) = unbounded::<Job>();
        for _ in 0..how_many() {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name("actix-bee-file-io".into())
                .spawn(move || {
                    while let Ok(job) = jobs.recv() {
                        job();
                    }
                })?;
        }
        Ok(IoThreads { queue })
    }

    /// Runs `work` on one of the threads and waits for its result. A
    /// panic in `work` is an error for this call; the thread goes on.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if let Ok(outcome) = catch_unwind(AssertUnwindSafe(work)) {
                let _ = done.send(outcome);
            }
        });
        let stopped = || Error::backend("file", io::Error::other("a file I/O call failed"));
        self.queue.send(job).map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}
