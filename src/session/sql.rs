//! What the `mysql` and `postgresql` engines share.
//!
//! The engines differ only in their driver, their pool and a few words of
//! SQL. Everything else lives here once: the engine options carried in the
//! DSN, the table-name check, DSN redaction, the blocking-pool plumbing, the
//! statements, and the session logic (read, merge on release, create,
//! regenerate, GC) written against the small [`Conn`] trait each engine
//! implements for its driver.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::engine_options::timeout_secs;
use super::error::{Error, Result};
use super::id::SessionId;
use super::record::{now_ms, Lifetimes, SessionRecord};
use super::store::{MapStore, Released, SessionWriter, Store, Write, WriteMode};

/// The table used when the DSN has no `table` parameter.
pub(crate) const DEFAULT_TABLE: &str = "session";
/// Connections per pool when the DSN has no `pool_size` parameter.
pub(crate) const DEFAULT_POOL_SIZE: u32 = 16;
/// Connect (and pool check-out) timeout without `connect_timeout`.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows one GC statement deletes, so GC never holds long locks.
pub(crate) const GC_BATCH: u32 = 1000;
/// Width of the `session_key` column: a 32-character prefix plus 128 hex
/// characters (64 random bytes), the longest id the generator mints.
pub(crate) const MAX_KEY_LEN: usize = 160;

/// Engine options that ride as extra DSN parameters; the engines strip
/// them before the DSN reaches the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EngineOptions {
    /// The session table, a plain identifier.
    pub table: String,
    /// Maximum connections in the pool.
    pub pool_size: u32,
    /// Connect timeout, also the longest wait for a pooled connection.
    pub connect_timeout: Duration,
    /// Create the table (and its index) at start-up if it is missing.
    pub create_table: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            table: DEFAULT_TABLE.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            create_table: true,
        }
    }
}

impl EngineOptions {
    /// Takes this crate's keys out of `params` and leaves the driver's.
    pub(crate) fn take(backend: &str, params: &mut Vec<(String, String)>) -> Result<Self> {
        let mut options = EngineOptions::default();
        let mut rest = Vec::with_capacity(params.len());
        for (key, value) in params.drain(..) {
            match key.as_str() {
                "table" => {
                    validate_table(backend, &value)?;
                    options.table = value;
                }
                "pool_size" => {
                    options.pool_size = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=1024).contains(n))
                        .ok_or_else(|| {
                            Error::Config(format!("{backend}: pool_size must be 1 to 1024"))
                        })?;
                }
                "connect_timeout" => {
                    options.connect_timeout = timeout_secs(backend, "connect_timeout", &value)?;
                }
                "create_table" => {
                    options.create_table = parse_bool(&value).ok_or_else(|| {
                        Error::Config(format!("{backend}: create_table must be true or false"))
                    })?;
                }
                _ => rest.push((key, value)),
            }
        }
        *params = rest;
        Ok(options)
    }
}

/// `true`/`false` in the spellings DSNs use.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Refuses anything but a plain identifier, `^[A-Za-z_][A-Za-z0-9_]{0,62}$`,
/// so that the table name can be quoted into statements safely.
pub(crate) fn validate_table(backend: &str, table: &str) -> Result<()> {
    let mut chars = table.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && table.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{backend}: the table name must be a plain identifier \
             (a letter or '_', then up to 62 letters, digits or '_')"
        )))
    }
}

/// Splits `query` (`a=1&b=2`) into pairs, in order.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (part.to_owned(), String::new()),
        })
        .collect()
}

/// `base?k=v&...`, or `base` alone when no parameters are left.
pub(crate) fn join_query(base: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return base.to_owned();
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{base}?{}", query.join("&"))
}

/// Replaces the password of `user:password@...` (after `scheme://` when
/// there is one) with `***`. Over-redacting is fine; leaking is not.
pub(crate) fn redact_userinfo(dsn: &str) -> String {
    let start = dsn.find("://").map_or(0, |i| i + 3);
    let Some(at) = dsn.rfind('@').filter(|&at| at >= start) else {
        return dsn.to_owned();
    };
    match dsn[start..at].find(':') {
        Some(colon) => format!("{}***{}", &dsn[..start + colon + 1], &dsn[at..]),
        None => dsn.to_owned(),
    }
}

/// Runs a synchronous driver call on the blocking pool, never on an async
/// worker thread (the sync postgres client panics there, and both would
/// stall every request on that worker).
pub(crate) async fn blocking<T, F>(backend: &'static str, f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        // Outside tokio (a plain executor) there is no blocking pool, and
        // no worker to starve either.
        return f();
    }
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::backend(backend, e))?
}

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

/// An engine's pool.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Runs `job` on a pooled connection, inside one transaction when
    /// `transaction` is true (committed when the job succeeds, rolled back
    /// otherwise).
    fn run(&self, transaction: bool, job: Job<'_>) -> Result<()>;
}

/// The SQL dialects.
// A build with one engine uses one variant.
#[cfg_attr(not(all(feature = "mysql", feature = "postgresql")), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// MySQL and MariaDB.
    Mysql,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    fn quote(self, ident: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{ident}`"),
            Dialect::Postgres => format!("\"{ident}\""),
        }
    }

    /// The engine name used in errors and logs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dialect::Mysql => "mysql",
            Dialect::Postgres => "postgresql",
        }
    }

    /// The largest `session_data` the column holds.
    fn max_data_len(self) -> usize {
        match self {
            // MEDIUMBLOB is 16 MiB - 1; the margin keeps the statement under
            // a 16 MiB max_allowed_packet (MariaDB's default).
            Dialect::Mysql => (16 << 20) - (64 << 10),
            // bytea holds 1 GB; stay well below what one message may carry.
            Dialect::Postgres => 256 << 20,
        }
    }
}

/// Numbers placeholders in the dialect's style: `?` or `$1, $2, ...`.
struct Placeholders {
    dialect: Dialect,
    next: usize,
}

impl Placeholders {
    fn new(dialect: Dialect) -> Self {
        Placeholders { dialect, next: 0 }
    }

    fn p(&mut self) -> String {
        self.next += 1;
        match self.dialect {
            Dialect::Mysql => "?".to_owned(),
            Dialect::Postgres => format!("${}", self.next),
        }
    }
}

/// Every statement the engines run, built once per table.
#[derive(Debug)]
pub(crate) struct Statements {
    select: String,
    select_for_update: String,
    live_expiry: String,
    count_live: String,
    insert: String,
    update: String,
    replace_expired: String,
    touch: String,
    delete: String,
    delete_expired: String,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect, table: &str) -> Self {
        let t = dialect.quote(table);
        let select = {
            let mut p = Placeholders::new(dialect);
            format!(
                "SELECT session_data, session_expiry FROM {t} WHERE session_key = {}",
                p.p()
            )
        };
        let live_expiry = {
            let mut p = Placeholders::new(dialect);
            format!(
                "SELECT session_expiry FROM {t} WHERE session_key = {} AND session_expiry >= {}",
                p.p(),
                p.p()
            )
        };
        let count_live = {
            let mut p = Placeholders::new(dialect);
            format!("SELECT COUNT(*) FROM {t} WHERE session_expiry >= {}", p.p())
        };
        let insert = {
            let mut p = Placeholders::new(dialect);
            let sql = format!(
                "INSERT INTO {t} (session_key, session_data, session_expiry) VALUES ({}, {}, {})",
                p.p(),
                p.p(),
                p.p()
            );
            match dialect {
                // A duplicate key is an error in MySQL, caught by the engine.
                Dialect::Mysql => sql,
                Dialect::Postgres => format!("{sql} ON CONFLICT (session_key) DO NOTHING"),
            }
        };
        let (update, replace_expired) = {
            let mut p = Placeholders::new(dialect);
            let update = format!(
                "UPDATE {t} SET session_data = {}, session_expiry = {} WHERE session_key = {}",
                p.p(),
                p.p(),
                p.p()
            );
            let replace = format!("{update} AND session_expiry < {}", p.p());
            (update, replace)
        };
        let touch = {
            let mut p = Placeholders::new(dialect);
            format!(
                "UPDATE {t} SET session_expiry = {} WHERE session_key = {} AND session_expiry >= {}",
                p.p(),
                p.p(),
                p.p()
            )
        };
        let delete = {
            let mut p = Placeholders::new(dialect);
            format!("DELETE FROM {t} WHERE session_key = {}", p.p())
        };
        let delete_expired = match dialect {
            Dialect::Mysql => {
                format!("DELETE FROM {t} WHERE session_expiry < ? LIMIT {GC_BATCH}")
            }
            // No DELETE ... LIMIT in Postgres: pick a batch of tuple ids and
            // re-check the expiry in case a row changed meanwhile.
            Dialect::Postgres => format!(
                "DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} \
                 WHERE session_expiry < $1 LIMIT {GC_BATCH})) AND session_expiry < $1"
            ),
        };
        Statements {
            select_for_update: format!("{select} FOR UPDATE"),
            select,
            live_expiry,
            count_live,
            insert,
            update,
            replace_expired,
            touch,
            delete,
            delete_expired,
        }
    }
}

/// The time as the signed ms the expiry column holds.
fn ms(now: u64) -> i64 {
    i64::try_from(now).unwrap_or(i64::MAX)
}

struct Shared {
    dialect: Dialect,
    backend: Box<dyn Backend>,
    statements: Statements,
    lifetimes: Lifetimes,
}

impl Shared {
    fn name(&self) -> &'static str {
        self.dialect.name()
    }

    fn expiry(&self, now: i64) -> i64 {
        now.saturating_add(ms(self.lifetimes.idle_ms()))
    }

    /// Runs `f` on the blocking pool against a pooled connection.
    async fn call<T, F>(self: &Arc<Self>, transaction: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Shared, &mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let shared = self.clone();
        blocking(self.name(), move || {
            let mut f = Some(f);
            let mut out = None;
            shared.backend.run(transaction, &mut |conn| {
                if let Some(f) = f.take() {
                    out = Some(f(&shared, conn)?);
                }
                Ok(())
            })?;
            out.ok_or_else(|| Error::backend(shared.name(), "the pool did not run the statement"))
        })
        .await
    }

    /// Decodes a live row; corrupt data reads as absent, with a warning,
    /// so one bad row never turns into a 503 on every request.
    fn decode(&self, sid: &SessionId, row: Row) -> Option<SessionRecord> {
        match SessionRecord::decode(&row.data) {
            Ok(mut record) => {
                // A touch moves only the expiry column; the access time it
                // implies drives the next touch.
                let touched = row.expiry_ms.saturating_sub(ms(self.lifetimes.idle_ms()));
                record.accessed_ms = record.accessed_ms.max(u64::try_from(touched).unwrap_or(0));
                Some(record)
            }
            Err(e) => {
                tracing::warn!(
                    backend = self.name(),
                    session = %sid,
                    error = %e,
                    "session: stored session_data is corrupt; treated as absent"
                );
                None
            }
        }
    }

    fn encode(&self, record: &SessionRecord) -> Result<Vec<u8>> {
        let data = record.encode()?;
        let limit = self.dialect.max_data_len();
        if data.len() > limit {
            return Err(Error::TooLarge {
                what: "session",
                size: data.len(),
                limit,
            });
        }
        Ok(data)
    }

    /// Inserts `key`, or replaces a row under it that already expired.
    /// Each statement is atomic on its own, so no transaction is needed.
    fn insert_or_replace_expired(
        &self,
        conn: &mut dyn Conn,
        key: &str,
        data: &[u8],
        now: i64,
    ) -> Result<()> {
        let s = &self.statements;
        let expiry = self.expiry(now);
        let row = [Param::Str(key), Param::Bytes(data), Param::Int(expiry)];
        if conn.execute(&s.insert, &row)? == 1 {
            return Ok(());
        }
        let replace = [
            Param::Bytes(data),
            Param::Int(expiry),
            Param::Str(key),
            Param::Int(now),
        ];
        if conn.execute(&s.replace_expired, &replace)? == 1 {
            return Ok(());
        }
        Err(Error::IdCollision)
    }

    /// The live row under `key` (locked when `lock`), decoded.
    fn load(
        &self,
        conn: &mut dyn Conn,
        sid: &SessionId,
        now: i64,
        lock: bool,
    ) -> Result<Option<SessionRecord>> {
        let s = &self.statements;
        let sql = if lock {
            &s.select_for_update
        } else {
            &s.select
        };
        let row = conn.query_row(sql, &[Param::Str(sid.as_str())])?;
        Ok(row
            .filter(|row| row.expiry_ms >= now)
            .and_then(|row| self.decode(sid, row)))
    }
}

/// Ids longer than the key column cannot be stored (only a foreign id
/// source could produce one).
fn check_key(sid: &SessionId) -> Result<()> {
    if sid.as_str().len() > MAX_KEY_LEN {
        return Err(Error::Config(format!(
            "session ids longer than {MAX_KEY_LEN} characters do not fit the session_key column"
        )));
    }
    Ok(())
}

struct SqlWriter(Arc<Shared>);

#[async_trait]
impl SessionWriter for SqlWriter {
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        check_key(w.sid)?;
        let now = ms(w.now_ms);
        let sid = w.sid.clone();
        match w.mode {
            WriteMode::Create => {
                let mut record = w.merged.clone();
                record.accessed_ms = w.now_ms;
                let data = self.0.encode(&record)?;
                self.0
                    .call(false, move |shared, conn| {
                        shared.insert_or_replace_expired(conn, sid.as_str(), &data, now)
                    })
                    .await?;
                Ok(Released::wrote(true))
            }
            WriteMode::Touch => {
                let written = self
                    .0
                    .call(false, move |shared, conn| {
                        let params = [
                            Param::Int(shared.expiry(now)),
                            Param::Str(sid.as_str()),
                            Param::Int(now),
                        ];
                        Ok(conn.execute(&shared.statements.touch, &params)? > 0)
                    })
                    .await?;
                Ok(Released::wrote(written))
            }
            // Merge under a row lock so concurrent requests on one session
            // lose nothing, and a destroyed session is not written again.
            WriteMode::Update => {
                let changes = w.changes.clone();
                let written = self
                    .0
                    .call(true, move |shared, conn| {
                        let Some(mut record) = shared.load(conn, &sid, now, true)? else {
                            return Ok(false);
                        };
                        changes.apply(&mut record.values);
                        record.accessed_ms = w_now(now);
                        let data = shared.encode(&record)?;
                        let params = [
                            Param::Bytes(&data),
                            Param::Int(shared.expiry(now)),
                            Param::Str(sid.as_str()),
                        ];
                        conn.execute(&shared.statements.update, &params)?;
                        Ok(true)
                    })
                    .await?;
                Ok(Released::wrote(written))
            }
        }
    }
}

fn w_now(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0)
}

/// The session logic both SQL engines run once initialised.
pub(crate) struct SqlSessions {
    shared: Arc<Shared>,
    /// The DSN with its password replaced, for `Debug`.
    redacted_dsn: String,
    table: String,
}

impl fmt::Debug for SqlSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlSessions")
            .field("dsn", &self.redacted_dsn)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl SqlSessions {
    /// Wraps an engine's pool; creates the table first when asked to.
    pub(crate) async fn start(
        dialect: Dialect,
        backend: Box<dyn Backend>,
        options: &EngineOptions,
        ddl: Option<String>,
        idle: Duration,
        redacted_dsn: String,
    ) -> Result<Self> {
        let shared = Arc::new(Shared {
            dialect,
            backend,
            statements: Statements::new(dialect, &options.table),
            lifetimes: Lifetimes::new(idle, None),
        });
        if let Some(ddl) = ddl {
            shared.call(false, move |_, conn| conn.batch(&ddl)).await?;
        }
        Ok(SqlSessions {
            shared,
            redacted_dsn,
            table: options.table.clone(),
        })
    }

    fn store(&self, sid: SessionId, record: Option<SessionRecord>) -> Arc<dyn Store> {
        let writer = Arc::new(SqlWriter(self.shared.clone()));
        let lifetimes = self.shared.lifetimes;
        match record {
            Some(record) => Arc::new(MapStore::loaded(sid, record, lifetimes, writer)),
            None => Arc::new(MapStore::new_session(sid, lifetimes, writer)),
        }
    }

    pub(crate) async fn read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        if sid.as_str().len() > MAX_KEY_LEN {
            return Ok(self.store(sid.clone(), None));
        }
        let now = ms(now_ms());
        let key = sid.clone();
        let record = self
            .shared
            .call(false, move |shared, conn| {
                shared.load(conn, &key, now, false)
            })
            .await?;
        Ok(self.store(sid.clone(), record))
    }

    pub(crate) async fn exist(&self, sid: &SessionId) -> Result<bool> {
        if sid.as_str().len() > MAX_KEY_LEN {
            return Ok(false);
        }
        let now = ms(now_ms());
        let key = sid.clone();
        self.shared
            .call(false, move |shared, conn| {
                let params = [Param::Str(key.as_str()), Param::Int(now)];
                Ok(conn
                    .query_int(&shared.statements.live_expiry, &params)?
                    .is_some())
            })
            .await
    }

    pub(crate) async fn regenerate(
        &self,
        old: &SessionId,
        new: &SessionId,
    ) -> Result<Arc<dyn Store>> {
        check_key(new)?;
        if old.as_str().len() > MAX_KEY_LEN {
            return Ok(self.store(new.clone(), None));
        }
        let now = ms(now_ms());
        let (old_key, new_key) = (old.clone(), new.clone());
        let record = self
            .shared
            .call(true, move |shared, conn| {
                let Some(mut record) = shared.load(conn, &old_key, now, true)? else {
                    return Ok(None);
                };
                record.accessed_ms = w_now(now);
                let data = shared.encode(&record)?;
                // New id first, then the old one goes, in one transaction.
                shared.insert_or_replace_expired(conn, new_key.as_str(), &data, now)?;
                conn.execute(&shared.statements.delete, &[Param::Str(old_key.as_str())])?;
                Ok(Some(record))
            })
            .await?;
        Ok(self.store(new.clone(), record))
    }

    pub(crate) async fn destroy(&self, sid: &SessionId) -> Result<()> {
        if sid.as_str().len() > MAX_KEY_LEN {
            return Ok(());
        }
        let key = sid.clone();
        self.shared
            .call(false, move |shared, conn| {
                conn.execute(&shared.statements.delete, &[Param::Str(key.as_str())])?;
                Ok(())
            })
            .await
    }

    pub(crate) async fn count(&self) -> Result<usize> {
        let now = ms(now_ms());
        let n = self
            .shared
            .call(false, move |shared, conn| {
                conn.query_int(&shared.statements.count_live, &[Param::Int(now)])
            })
            .await?;
        Ok(n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0))
    }

    pub(crate) async fn gc(&self) -> Result<()> {
        let now = ms(now_ms());
        let mut removed = 0u64;
        loop {
            // One batch per blocking call, so a large GC never pins a
            // connection or a blocking thread for long.
            let n = self
                .shared
                .call(false, move |shared, conn| {
                    conn.execute(&shared.statements.delete_expired, &[Param::Int(now)])
                })
                .await?;
            removed += n;
            if n < u64::from(GC_BATCH) {
                break;
            }
        }
        tracing::debug!(backend = self.shared.name(), removed, "session: SQL GC");
        Ok(())
    }
}

/// Implements `Provider` for an SQL engine type with a
/// `sessions: Option<SqlSessions>` field and an
/// `async fn connect(max_lifetime, config) -> Result<SqlSessions>`.
macro_rules! sql_provider {
    ($ty:ty, $name:literal) => {
        impl $ty {
            fn sessions(&self) -> $crate::session::Result<&$crate::session::sql::SqlSessions> {
                self.sessions.as_ref().ok_or_else(|| {
                    $crate::session::Error::Config(
                        concat!($name, ": session_init was not called").into(),
                    )
                })
            }
        }

        #[async_trait::async_trait]
        impl $crate::session::Provider for $ty {
            async fn session_init(
                &mut self,
                max_lifetime: std::time::Duration,
                config: &str,
            ) -> $crate::session::Result<()> {
                self.sessions = Some(Self::connect(max_lifetime, config).await?);
                Ok(())
            }

            async fn session_read(
                &self,
                sid: &$crate::session::SessionId,
            ) -> $crate::session::Result<std::sync::Arc<dyn $crate::session::Store>> {
                self.sessions()?.read(sid).await
            }

            async fn session_exist(
                &self,
                sid: &$crate::session::SessionId,
            ) -> $crate::session::Result<bool> {
                self.sessions()?.exist(sid).await
            }

            async fn session_regenerate(
                &self,
                old: &$crate::session::SessionId,
                new: &$crate::session::SessionId,
            ) -> $crate::session::Result<std::sync::Arc<dyn $crate::session::Store>> {
                self.sessions()?.regenerate(old, new).await
            }

            async fn session_destroy(
                &self,
                sid: &$crate::session::SessionId,
            ) -> $crate::session::Result<()> {
                self.sessions()?.destroy(sid).await
            }

            async fn session_all(&self) -> $crate::session::Result<usize> {
                self.sessions()?.count().await
            }

            async fn session_gc(&self) -> $crate::session::Result<()> {
                self.sessions()?.gc().await
            }
        }
    };
}
pub(crate) use sql_provider;

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        parse_query(q)
    }

    #[test]
    fn options_are_taken_and_the_rest_is_left() {
        let mut params =
            pairs("charset=utf8&table=sess_1&pool_size=4&connect_timeout=0.5&create_table=false");
        let o = EngineOptions::take("mysql", &mut params).unwrap();
        assert_eq!(o.table, "sess_1");
        assert_eq!(o.pool_size, 4);
        assert_eq!(o.connect_timeout, Duration::from_millis(500));
        assert!(!o.create_table);
        assert_eq!(params, pairs("charset=utf8"));
        let mut none = Vec::new();
        assert_eq!(
            EngineOptions::take("mysql", &mut none).unwrap(),
            EngineOptions::default()
        );
    }

    #[test]
    fn bad_options_are_config_errors() {
        for q in [
            "pool_size=0",
            "pool_size=x",
            "connect_timeout=0",
            "connect_timeout=-1",
            "connect_timeout=NaN",
            "create_table=maybe",
            "table=",
        ] {
            let err = EngineOptions::take("mysql", &mut pairs(q)).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{q}");
        }
    }

    #[test]
    fn table_names_are_plain_identifiers() {
        for ok in ["session", "_s", "Sess_2024", &"a".repeat(63)] {
            assert!(validate_table("pg", ok).is_ok(), "{ok}");
        }
        for bad in [
            "session; DROP TABLE x",
            "1abc",
            "a-b",
            "a.b",
            "`x`",
            "\"x\"",
            "sé",
            "",
            &"a".repeat(64),
        ] {
            assert!(validate_table("pg", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_userinfo("mysql://u:s3cr@t@h:3306/db?x=1"),
            "mysql://u:***@h:3306/db?x=1"
        );
        assert_eq!(
            redact_userinfo("root:pw@tcp(127.0.0.1:3306)/test"),
            "root:***@tcp(127.0.0.1:3306)/test"
        );
        assert_eq!(redact_userinfo("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_userinfo("u@/db"), "u@/db");
    }

    #[test]
    fn statements_quote_the_table_and_bind_everything() {
        let my = Statements::new(Dialect::Mysql, "t_1");
        assert!(my.select.contains("FROM `t_1` WHERE session_key = ?"));
        assert!(my.delete_expired.ends_with("LIMIT 1000"));
        let pg = Statements::new(Dialect::Postgres, "t_1");
        assert!(pg
            .replace_expired
            .contains("session_key = $3 AND session_expiry < $4"));
        assert!(pg.insert.ends_with("ON CONFLICT (session_key) DO NOTHING"));
        assert!(pg.delete_expired.contains("FROM \"t_1\""));
    }
}
