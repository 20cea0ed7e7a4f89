//! The `postgres` driver's side of the SQL seam: statements on a client
//! or a transaction, the runner over the pool, and the pool's connection
//! manager, whose errors say which host, which TLS mode and what failed.

use std::fmt;

use postgres::types::{ToSql, Type};
use postgres::GenericClient;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::name::{backend_err, NAME};
use super::tls::{PgTls, SslMode};
use crate::session::engines::shared::tls;
use crate::session::engines::sql::connect::ConnectError;
use crate::session::engines::sql::pool::{
    retry_if_stale, Conn, Counted, IndexRow, Job, Param, Row, Runner,
};
use crate::session::error::Result;

fn typed<'p>(params: &'p [Param<'p>]) -> Vec<(&'p (dyn ToSql + Sync), Type)> {
    params
        .iter()
        .map(|p| match p {
            Param::Str(s) => (s as &(dyn ToSql + Sync), Type::VARCHAR),
            Param::Bytes(b) => (b as &(dyn ToSql + Sync), Type::BYTEA),
            Param::Int(i) => (i as &(dyn ToSql + Sync), Type::INT8),
        })
        .collect()
}

/// A client or a transaction.
struct PgConn<'a, C: GenericClient>(&'a mut C);

impl<C: GenericClient> Conn for PgConn<'_, C> {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        self.0
            .execute_typed(sql, &typed(params))
            .map_err(backend_err)
    }

    fn query_row(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        let Some(row) = self
            .0
            .query_typed_opt(sql, &typed(params))
            .map_err(backend_err)?
        else {
            return Ok(None);
        };
        // A NULL or odd value reads as empty data, which decodes as corrupt.
        let data = row
            .try_get::<_, Option<Vec<u8>>>(0)
            .ok()
            .flatten()
            .unwrap_or_default();
        let expiry_ms = row.try_get::<_, i64>(1).unwrap_or(i64::MIN);
        Ok(Some(Row { data, expiry_ms }))
    }

    fn query_int(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<i64>> {
        let row = self
            .0
            .query_typed_opt(sql, &typed(params))
            .map_err(backend_err)?;
        Ok(row.and_then(|row| row.try_get::<_, i64>(0).ok()))
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.0.batch_execute(sql).map_err(backend_err)
    }

    fn query_index(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<IndexRow>> {
        let rows = self
            .0
            .query_typed(sql, &typed(params))
            .map_err(backend_err)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                // A NULL expiry is the left join finding no session.
                let session = row
                    .try_get::<_, Option<i64>>(3)
                    .ok()
                    .flatten()
                    .map(|expiry_ms| Row {
                        data: row
                            .try_get::<_, Option<Vec<u8>>>(2)
                            .ok()
                            .flatten()
                            .unwrap_or_default(),
                        expiry_ms,
                    });
                IndexRow {
                    sid: row.try_get::<_, String>(0).unwrap_or_default(),
                    attached_ms: row.try_get::<_, i64>(1).unwrap_or(0),
                    session,
                }
            })
            .collect())
    }
}

pub(super) type Pool = r2d2::Pool<PgManager>;

pub(super) struct PostgresBackend {
    /// Always `Some` until dropped.
    pub(super) pool: Option<Pool>,
    /// For the start-up connection, outside the pool.
    pub(super) manager: PgManager,
}

impl PostgresBackend {
    fn pool(&self) -> Result<&Pool> {
        self.pool
            .as_ref()
            .ok_or_else(|| backend_err("the pool is closed"))
    }
}

impl Runner for PostgresBackend {
    fn run(&self, transaction: bool, job: Job<'_>) -> Result<()> {
        let mut client = self.pool()?.get().map_err(backend_err)?;
        retry_if_stale(NAME, &self.manager, &mut client, |client, answered| {
            if !transaction {
                return job(&mut Counted::new(&mut PgConn(client), answered));
            }
            let mut tx = client.transaction().map_err(backend_err)?;
            *answered += 1;
            // Dropping an uncommitted transaction rolls it back.
            job(&mut Counted::new(&mut PgConn(&mut tx), answered))?;
            tx.commit().map_err(backend_err)
        })
    }

    fn run_direct(&self, job: Job<'_>) -> Result<()> {
        let mut client = self.manager.connect_now().map_err(backend_err)?;
        job(&mut PgConn(&mut client))
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        // Each sync client owns a tokio runtime, and dropping a runtime on
        // an async thread panics: close the pool on a plain thread then.
        let Some(pool) = self.pool.take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            let closer = std::thread::Builder::new()
                .name("actix-bee-pg-close".into())
                .spawn(move || drop(pool));
            if closer.is_err() {
                tracing::warn!("session: could not start a thread to close the postgresql pool");
            }
        }
    }
}

/// r2d2 for `postgres::Client` over rustls.
#[derive(Clone)]
pub(crate) struct PgManager {
    config: postgres::Config,
    connector: MakeRustlsConnect,
    tls: PgTls,
}

impl fmt::Debug for PgManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgManager")
            .field("tls", &self.tls.describe())
            .finish_non_exhaustive()
    }
}

impl PgManager {
    /// A manager for `config` (its `ssl_mode` is set here) and `tls`.
    pub(crate) fn new(mut config: postgres::Config, tls: PgTls) -> Result<Self> {
        let (mode, connector) = tls.connector()?;
        config.ssl_mode(mode);
        Ok(PgManager {
            config,
            connector,
            tls,
        })
    }

    /// `host:port, ...` of the config.
    fn hosts(&self) -> String {
        let ports = self.config.get_ports();
        self.config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let host = match host {
                    postgres::config::Host::Tcp(h) => h.clone(),
                    postgres::config::Host::Unix(p) => p.display().to_string(),
                };
                let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                format!("{host}:{port}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What `err` means, with the host and the TLS settings.
    fn describe(&self, err: &postgres::Error) -> ConnectError {
        let text = tls::chain(err);
        let (hosts, settings) = (self.hosts(), self.tls.describe());
        let message = if let Some(why) = tls::explain(&text) {
            format!("TLS handshake with {hosts} failed ({settings}): {why} ({text})")
        } else if text.contains("server does not support TLS") {
            if !self.tls.mode_given() {
                format!(
                    "the server at {hosts} does not support TLS; sslmode defaults to require \
                     as in lib/pq: add sslmode=disable to connect without TLS"
                )
            } else {
                format!("the server at {hosts} does not support TLS ({settings})")
            }
        } else if self.tls.mode() == SslMode::Disable && text.contains("no encryption") {
            format!(
                "the server at {hosts} refused a connection without TLS (sslmode=disable): {text}"
            )
        } else {
            format!("cannot connect to {hosts} ({settings}): {text}")
        };
        ConnectError(format!("{NAME}: {message}"))
    }

    /// Connects now, outside any pool.
    pub(crate) fn connect_now(&self) -> std::result::Result<postgres::Client, ConnectError> {
        self.config
            .connect(self.connector.clone())
            .map_err(|e| self.describe(&e))
    }
}

impl r2d2::ManageConnection for PgManager {
    type Connection = postgres::Client;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<postgres::Client, ConnectError> {
        self.connect_now()
    }

    fn is_valid(&self, client: &mut postgres::Client) -> std::result::Result<(), ConnectError> {
        client
            .simple_query("")
            .map(drop)
            .map_err(|e| ConnectError(tls::chain(&e)))
    }

    fn has_broken(&self, client: &mut postgres::Client) -> bool {
        client.is_closed()
    }
}
