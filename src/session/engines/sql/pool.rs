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

/// A lazy pool: nothing connects at start-up, and a check-out waits at
/// most the connect timeout.
///
/// Check-outs are **not** validated: a ping on every check-out is one more
/// round trip on every session call. A connection the server closed while
/// it sat in the pool is caught instead by [`retry_if_stale`], which
/// replaces it and runs the job again.
pub(crate) fn build_pool<M: r2d2::ManageConnection>(
    backend: &'static str,
    manager: M,
    options: &EngineOptions,
) -> r2d2::Pool<M> {
    r2d2::Pool::builder()
        .max_size(options.pool_size)
        .min_idle(Some(0))
        .connection_timeout(options.connect_timeout)
        .test_on_check_out(false)
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

/// One entry of an owner index joined with the session table: the id,
/// when it was attached (ms), and its session row when there is one.
#[derive(Debug)]
pub(crate) struct IndexRow {
    pub sid: String,
    pub attached_ms: i64,
    pub session: Option<Row>,
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
    /// Every row of `SELECT id, attached_at, session_data, expiry ...`
    /// (an owner index left-joined with the session table).
    fn query_index(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<IndexRow>>;
}

/// Runs `attempt` on a pooled connection; if it fails before the server
/// answered anything and the connection no longer answers a ping, the
/// connection is replaced by a fresh one (in its pool slot) and `attempt`
/// runs once more.
///
/// Why this is safe without knowing the statements: a connection that
/// failed before its first answer is one the server had already closed
/// (killed, restarted, timed out while idle in the pool), so nothing of
/// the job ran; a transaction's first round trip is `BEGIN`; and every
/// session statement is safe to run again anyway (reads, absolute
/// `UPDATE`s and `DELETE`s by key, and an insert-if-absent that cannot
/// insert twice). A failure after an answer, or on a connection that
/// still pings, is the job's own error and is returned as it is.
///
/// `attempt` counts the answers it got in its `&mut u32`.
pub(crate) fn retry_if_stale<M: r2d2::ManageConnection>(
    backend: &'static str,
    manager: &M,
    conn: &mut M::Connection,
    mut attempt: impl FnMut(&mut M::Connection, &mut u32) -> Result<()>,
) -> Result<()>
where
    M::Error: Into<crate::session::error::BoxError>,
{
    let mut answered = 0;
    match attempt(conn, &mut answered) {
        Err(error) if answered == 0 && manager.is_valid(conn).is_err() => {
            tracing::debug!(
                backend,
                %error,
                "session: pooled connection was closed by the server; reconnecting once"
            );
            *conn = manager
                .connect()
                .map_err(|e| crate::session::error::Error::backend(backend, e))?;
            attempt(conn, &mut 0)
        }
        result => result,
    }
}

/// A connection that counts the statements the server answered, for
/// [`retry_if_stale`].
pub(crate) struct Counted<'a> {
    inner: &'a mut dyn Conn,
    answered: &'a mut u32,
}

impl<'a> Counted<'a> {
    pub(crate) fn new(inner: &'a mut dyn Conn, answered: &'a mut u32) -> Self {
        Counted { inner, answered }
    }

    fn count<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.is_ok() {
            *self.answered += 1;
        }
        result
    }
}

impl Conn for Counted<'_> {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let r = self.inner.execute(sql, params);
        self.count(r)
    }
    fn query_row(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        let r = self.inner.query_row(sql, params);
        self.count(r)
    }
    fn query_int(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<i64>> {
        let r = self.inner.query_int(sql, params);
        self.count(r)
    }
    fn batch(&mut self, sql: &str) -> Result<()> {
        let r = self.inner.batch(sql);
        self.count(r)
    }
    fn query_index(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<IndexRow>> {
        let r = self.inner.query_index(sql, params);
        self.count(r)
    }
}

/// A closure run against one pooled connection; it may run twice (see
/// [`retry_if_stale`]).
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
