//! The driver seam: pooled connections, bound parameters and rows.

use std::fmt;

use super::options::EngineOptions;
use crate::session::error::Result;

/// Logs pool errors through `tracing` (r2d2 would use `log`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogPoolErrors(pub &'static str);

impl<E: fmt::Display> r2d2::HandleError<E> for LogPoolErrors {
    fn handle_error(&self, error: E) {
        tracing::warn!(backend = self.0, error = %error, "session: database connection failed");
    }
}

/// A lazy pool: nothing connects at start-up, check-outs are validated (so
/// connections killed by the server are replaced), and a check-out waits at
/// most the connect timeout.
pub(crate) fn build_pool<M: r2d2::ManageConnection>(
    backend: &'static str,
    manager: M,
    options: &EngineOptions,
) -> r2d2::Pool<M> {
    r2d2::Pool::builder()
        .max_size(options.pool_size)
        .min_idle(Some(0))
        .connection_timeout(options.connect_timeout)
        .test_on_check_out(true)
        .error_handler(Box::new(LogPoolErrors(backend)))
        .build_unchecked(manager)
}

/// One bound parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    /// A string (the session key).
    Str(&'a str),
    /// A blob (the session data).
    Bytes(&'a [u8]),
    /// A 64-bit integer (an expiry in ms since the epoch).
    Int(i64),
}

/// A stored row: the encoded record and its expiry, ms since the epoch.
#[derive(Debug)]
pub(crate) struct Row {
    pub data: Vec<u8>,
    pub expiry_ms: i64,
}

/// What the session logic needs from a connection or transaction. Engines
/// map every driver error to `Error::backend`.
pub(crate) trait Conn {
    /// Runs a statement; the number of rows it touched. A duplicate-key
    /// error counts as 0 rows (only inserts can raise one).
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64>;
    /// The first row of `SELECT session_data, session_expiry ...`.
    fn query_row(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>>;
    /// The first column of the first row, an integer.
    fn query_int(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<i64>>;
    /// Runs several `;`-separated statements (the DDL).
    fn batch(&mut self, sql: &str) -> Result<()>;
}

/// A closure run against one pooled connection.
pub(crate) type Job<'a> = &'a mut dyn FnMut(&mut dyn Conn) -> Result<()>;

/// An engine's pool: runs jobs on pooled connections.
pub(crate) trait Runner: Send + Sync + 'static {
    /// Runs `job` on a pooled connection, inside one transaction when
    /// `transaction` is true (committed when the job succeeds, rolled back
    /// otherwise).
    fn run(&self, transaction: bool, job: Job<'_>) -> Result<()>;

    /// Runs `job` on a fresh connection outside the pool (start-up), so
    /// that a failure to connect is reported at once, with its cause,
    /// rather than as a pool time-out.
    fn run_direct(&self, job: Job<'_>) -> Result<()> {
        self.run(false, job)
    }
}
