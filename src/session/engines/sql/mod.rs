//! What the `mysql` and `postgresql` engines share.
//!
//! The engines differ only in their driver, their pool and a few words of
//! SQL. Everything else lives here once: the engine options carried in the
//! DSN ([`options`]), the pool seam ([`pool`]), the statements
//! ([`statements`]) and the record store below, written against the small
//! [`Conn`] trait each engine implements for its driver. Each driver's
//! folder holds its engine (`mod.rs`: the docs, the provider), its DSN
//! reader (`dsn.rs`), its connections and pool manager (`conn.rs`) and its
//! TLS settings (`tls.rs`); both managers fail with one [`connect`] error.
//!
//! With `sessionstoreformat = beego` the engines use beego's own `session`
//! table and expiry column ([`beego`]); the table's `session_expiry` type is
//! checked at start-up and before GC, so neither format ever runs on the
//! other's table.

mod beego;
mod connect;
pub(crate) mod options;
mod owner_statements;
mod owners;
pub(crate) mod pool;
pub(crate) mod statements;
mod table_check;

#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgresql")]
pub mod postgresql;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;

use self::options::{EngineOptions, GC_BATCH, MAX_KEY_LEN};
use self::owner_statements::OwnerStatements;
use self::pool::{Conn, Param, Row, Runner};
use self::statements::{Dialect, Statements};
use super::shared::blocking::blocking;
use super::shared::io_threads::IoThreads;
use crate::session::engine::{Loaded, RecordStore, StoreContext};
use crate::session::engine::{Released, Write, WriteMode};
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::SessionRecord;

/// One SQL driver: its dialect and how it connects.
pub(crate) trait Driver: Send + Sync + 'static {
    /// The dialect, which also names the engine.
    const DIALECT: Dialect;
    /// Parses the DSN and builds a lazy pool.
    fn connect(config: &str) -> Result<Connected>;
}

/// What a driver's `connect` hands over.
pub(crate) struct Connected {
    /// The pool.
    pub runner: Box<dyn Runner>,
    /// The engine options taken from the DSN.
    pub options: EngineOptions,
    /// The table definition to run at start-up, when `create_table` is on.
    pub ddl: Option<String>,
    /// The DSN with its password replaced, for `Debug`.
    pub redacted_dsn: String,
}

/// The time as the signed ms the expiry column holds.
fn ms(now: u64) -> i64 {
    i64::try_from(now).unwrap_or(i64::MAX)
}

fn unsigned(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}

/// Ids longer than the key column cannot be stored (only a foreign id
/// source could produce one).
fn check_key(sid: &SessionId) -> Result<()> {
    let len = sid.as_str().len();
    if len > MAX_KEY_LEN {
        return Err(Error::TooLarge {
            what: "session id",
            size: len,
            limit: MAX_KEY_LEN,
        });
    }
    Ok(())
}

struct Shared {
    dialect: Dialect,
    runner: Box<dyn Runner>,
    /// One thread per pooled connection: a call never waits on the pool's
    /// lock for a connection, and a hung server holds at most these.
    io: IoThreads,
    statements: Statements,
    /// Deadline of one call, pool check-out included (`call_timeout`).
    call_timeout: std::time::Duration,
    cx: StoreContext,
    table: String,
    table_checked: std::sync::atomic::AtomicBool,
    /// The owner index's statements ([`owners`]).
    owners: OwnerStatements,
    /// True once both owner tables were seen.
    owner_tables: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn name(&self) -> &'static str {
        self.dialect.name()
    }

    fn expiry(&self, now: i64) -> i64 {
        now.saturating_add(ms(self.cx.lifetimes.idle_ms()))
    }

    /// The expiry a write at `now` gives a row that expired at `stored`:
    /// idle time from now, and always later than before, so that the
    /// expiry is the row's version (two writes in one ms still differ).
    fn next_expiry(&self, now: i64, stored: i64) -> i64 {
        self.expiry(now).max(stored.saturating_add(1))
    }

    /// The stored expiry a record was loaded with: decoding sets the
    /// access time to that expiry less the idle time, exactly, where
    /// expiries are versions ([`Statements::update_if_expiry`]).
    fn loaded_expiry(&self, accessed_ms: u64) -> i64 {
        self.expiry(ms(accessed_ms))
    }

    /// Whether expiries are row versions here, so that a write may skip
    /// the row lock ([`Statements::update_if_expiry`]).
    fn versioned(&self) -> bool {
        self.statements.update_if_expiry.is_some()
    }

    /// Runs `f` on the engine's I/O threads against a pooled connection,
    /// within the call deadline: a hung server gives [`Error::Timeout`],
    /// not a request that never answers.
    async fn call<T, F>(self: &Arc<Self>, transaction: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        // FnMut: the runner runs it again on a connection found stale.
        F: FnMut(&Shared, &mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let shared = self.clone();
        self.io
            .run_within(self.call_timeout, move || {
                let mut f = f;
                let mut out = None;
                shared.runner.run(transaction, &mut |conn| {
                    out = Some(f(&shared, conn)?);
                    Ok(())
                })?;
                out.ok_or_else(|| {
                    Error::backend(shared.name(), "the pool did not run the statement")
                })
            })
            .await
    }

    /// Decodes a live row; [`Error::Corrupt`] when it does not decode.
    fn decode(&self, row: Row) -> Result<SessionRecord> {
        let mut record = self.cx.format.decode(&row.data)?;
        // A touch moves only the expiry column; the access time it
        // implies drives the next touch.
        let touched = unsigned(
            row.expiry_ms
                .saturating_sub(ms(self.cx.lifetimes.idle_ms())),
        );
        record.accessed_ms = if self.versioned() {
            // Exactly, so that a write can name the version it read
            // (`loaded_expiry`). Every write stores an access time no
            // later than this, so it only differs after a change of the
            // idle time, where an earlier touch does no harm.
            touched
        } else {
            record.accessed_ms.max(touched)
        };
        Ok(record)
    }

    fn encode(&self, record: &SessionRecord) -> Result<Vec<u8>> {
        let data = self.cx.format.encode(record)?;
        let limit = match (self.cx.format, self.dialect) {
            (Format::Beego, statements::Dialect::Mysql) => beego::MYSQL_BLOB_MAX,
            _ => self.dialect.max_data_len(),
        };
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

    /// The live row under `sid` (locked when `lock`), decoded.
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
        conn.query_row(sql, &[Param::Str(sid.as_str())])?
            .filter(|row| row.expiry_ms >= now)
            .map(|row| self.decode(row))
            .transpose()
    }
}

impl<D: Driver> Sql<D> {
    /// Writes the request's view of the session in one statement, without
    /// a lock, if the row still holds the version this request loaded
    /// (nobody wrote or touched it since): then that view is the stored
    /// session plus this request's changes. False when it does not, or
    /// where expiries are not versions (beego's table); the caller then
    /// merges under the row lock.
    async fn write_if_unchanged(&self, w: &Write<'_>) -> Result<bool> {
        if !self.shared.versioned() {
            return Ok(false);
        }
        let now = ms(w.now_ms);
        let loaded = self.shared.loaded_expiry(w.loaded_accessed_ms);
        if loaded < now {
            // Expired since: the locked path finds it gone.
            return Ok(false);
        }
        let data = self.shared.encode(w.merged)?;
        let sid = w.sid.clone();
        self.shared
            .call(false, move |shared, conn| {
                let Some(sql) = &shared.statements.update_if_expiry else {
                    return Ok(false);
                };
                let params = [
                    Param::Bytes(&data),
                    Param::Int(shared.next_expiry(now, loaded)),
                    Param::Str(sid.as_str()),
                    Param::Int(loaded),
                ];
                Ok(conn.execute(sql, &params)? == 1)
            })
            .await
    }
}

/// The record store of an SQL engine.
pub(crate) struct Sql<D> {
    shared: Arc<Shared>,
    /// The DSN with its password replaced, for `Debug`.
    redacted_dsn: String,
    table: String,
    max_session_bytes: usize,
    driver: PhantomData<fn() -> D>,
}

impl<D> fmt::Debug for Sql<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sql")
            .field("dsn", &self.redacted_dsn)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<D: Driver> RecordStore for Sql<D> {
    const NAME: &'static str = D::DIALECT.name();
    const FORMATS: &'static [Format] = &[Format::Native, Format::Beego];

    async fn open(cx: StoreContext, config: &str) -> Result<Self> {
        let connected = D::connect(config)?;
        let table = &connected.options.table;
        let (statements, ddl) = match cx.format {
            Format::Beego => (
                beego::statements(D::DIALECT, table, cx.lifetimes.idle_ms() / 1000),
                connected.ddl.map(|_| beego::ddl(D::DIALECT, table)),
            ),
            _ => (Statements::new(D::DIALECT, table), connected.ddl),
        };
        // The owner index's tables come with either format's session table.
        let ddl = ddl.map(|session| {
            let mut all = vec![session];
            all.extend(owner_statements::ddl(D::DIALECT, table));
            all
        });
        let owner_statements = OwnerStatements::new(D::DIALECT, table, &statements);
        let threads = usize::try_from(connected.options.pool_size).unwrap_or(1);
        let shared = Arc::new(Shared {
            dialect: D::DIALECT,
            runner: connected.runner,
            io: IoThreads::start(D::DIALECT.name(), threads)
                .map_err(|e| Error::backend(D::DIALECT.name(), e))?,
            statements,
            call_timeout: connected.options.call_timeout,
            cx,
            table: connected.options.table.clone(),
            table_checked: std::sync::atomic::AtomicBool::new(false),
            owners: owner_statements,
            owner_tables: std::sync::atomic::AtomicBool::new(false),
        });
        if let Some(ddl) = ddl {
            // Outside the pool, so that a failure to connect (TLS, login)
            // fails start-up at once with its cause.
            let start = shared.clone();
            blocking(start.name(), move || {
                start.runner.run_direct(&mut |conn| {
                    ddl.iter().try_for_each(|statement| conn.batch(statement))
                })
            })
            .await?;
            // Connected anyway: refuse a table of the other format now, not at first GC.
            shared.check_table().await?;
        }
        Ok(Sql {
            shared,
            redacted_dsn: connected.redacted_dsn,
            max_session_bytes: connected.options.max_session_bytes,
            table: connected.options.table,
            driver: PhantomData,
        })
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        if check_key(sid).is_err() {
            return Ok(None);
        }
        let key = sid.clone();
        self.shared
            .call(false, move |shared, conn| {
                shared.load(conn, &key, ms(now), false)
            })
            .await
    }

    async fn exists(&self, sid: &SessionId, now: u64) -> Result<bool> {
        if check_key(sid).is_err() {
            return Ok(false);
        }
        let key = sid.clone();
        self.shared
            .call(false, move |shared, conn| {
                let params = [Param::Str(key.as_str()), Param::Int(ms(now))];
                Ok(conn
                    .query_int(&shared.statements.live_expiry, &params)?
                    .is_some())
            })
            .await
    }

    async fn write(&self, w: Write<'_>) -> Result<Released> {
        check_key(w.sid)?;
        let now = ms(w.now_ms);
        let sid = w.sid.clone();
        let written = match w.mode {
            WriteMode::Create => {
                self.insert(w.sid, w.merged, w.now_ms).await?;
                true
            }
            WriteMode::Touch => {
                self.shared
                    .call(false, move |shared, conn| {
                        let params = [
                            Param::Int(shared.expiry(now)),
                            Param::Str(sid.as_str()),
                            Param::Int(now),
                        ];
                        Ok(conn.execute(&shared.statements.touch, &params)? > 0)
                    })
                    .await?
            }
            _ => {
                if self.write_if_unchanged(&w).await? {
                    return Ok(Released::wrote(true));
                }
                // Merge under a row lock so concurrent requests on one
                // session lose nothing, and a destroyed session is not
                // written again.
                let changes = w.changes.clone();
                self.shared
                    .call(true, move |shared, conn| {
                        let Some(mut record) = shared.load(conn, &sid, now, true)? else {
                            return Ok(false);
                        };
                        let stored = shared.loaded_expiry(record.accessed_ms);
                        changes.apply(&mut record.values);
                        record.accessed_ms = unsigned(now);
                        let data = shared.encode(&record)?;
                        let params = [
                            Param::Bytes(&data),
                            Param::Int(shared.next_expiry(now, stored)),
                            Param::Str(sid.as_str()),
                        ];
                        conn.execute(&shared.statements.update, &params)?;
                        Ok(true)
                    })
                    .await?
            }
        };
        Ok(Released::wrote(written))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        check_key(sid)?;
        let record = SessionRecord {
            accessed_ms: now,
            ..record.clone()
        };
        let data = self.shared.encode(&record)?;
        let sid = sid.clone();
        self.shared
            .call(false, move |shared, conn| {
                shared.insert_or_replace_expired(conn, sid.as_str(), &data, ms(now))
            })
            .await
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        if check_key(sid).is_err() {
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

    /// New id in, old id out, in one transaction.
    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Loaded {
        check_key(new)?;
        if check_key(old).is_err() {
            return Ok(None);
        }
        let (old_key, new_key) = (old.clone(), new.clone());
        let now = ms(now);
        self.shared
            .call(true, move |shared, conn| {
                let Some(mut record) = shared.load(conn, &old_key, now, true)? else {
                    return Ok(None);
                };
                record.accessed_ms = unsigned(now);
                let data = shared.encode(&record)?;
                shared.insert_or_replace_expired(conn, new_key.as_str(), &data, now)?;
                conn.execute(&shared.statements.delete, &[Param::Str(old_key.as_str())])?;
                Ok(Some(record))
            })
            .await
    }

    fn max_session_bytes(&self) -> usize {
        self.max_session_bytes
    }

    async fn count(&self, now: u64) -> Result<usize> {
        let n = self
            .shared
            .call(false, move |shared, conn| {
                conn.query_int(&shared.statements.count_live, &[Param::Int(ms(now))])
            })
            .await?;
        Ok(n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0))
    }

    async fn gc(&self, now: u64) -> Result<usize> {
        // Never delete rows whose expiry this format does not understand.
        self.shared.check_table().await?;
        let now = ms(now);
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
        // After the sessions, so that the index loses the expired ones too.
        self.shared.gc_owners(unsigned(now)).await?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    fn owner_index(&self) -> Option<&dyn crate::session::OwnerIndex> {
        Some(self)
    }
}
