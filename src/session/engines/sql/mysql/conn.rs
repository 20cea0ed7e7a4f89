//! The `mysql` driver's side of the SQL seam: statements on a connection
//! or a transaction, the runner over the pool, and the pool's connection
//! manager, whose errors say which server, which TLS mode and what failed.

use mysql::prelude::Queryable;
use mysql::{DriverError, Opts, OptsBuilder, TxOpts, Value};

use super::name::{backend_err, NAME};
use super::tls::{Mode, MyTls, CA_NOT_EXCLUSIVE};
use crate::session::engines::shared::tls;
use crate::session::engines::sql::connect::ConnectError;
use crate::session::engines::sql::pool::{
    retry_if_stale, Conn, Counted, IndexRow, Job, Param, Row, Runner,
};
use crate::session::error::Result;

/// MySQL's `ER_DUP_ENTRY`.
const DUPLICATE_KEY: u16 = 1062;

fn values(params: &[Param<'_>]) -> Vec<Value> {
    params
        .iter()
        .map(|p| match *p {
            Param::Str(s) => Value::Bytes(s.as_bytes().to_vec()),
            Param::Bytes(b) => Value::Bytes(b.to_vec()),
            Param::Int(i) => Value::Int(i),
        })
        .collect()
}

/// A connection or a transaction.
struct MyConn<'a, Q: Queryable>(&'a mut Q);

impl<Q: Queryable> MyConn<'_, Q> {
    fn first(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<mysql::Row>> {
        self.0
            .exec_first::<mysql::Row, _, _>(sql, values(params))
            .map_err(backend_err)
    }
}

impl<Q: Queryable> Conn for MyConn<'_, Q> {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        match self.0.exec_iter(sql, values(params)) {
            Ok(result) => Ok(result.affected_rows()),
            Err(mysql::Error::MySqlError(e)) if e.code == DUPLICATE_KEY => Ok(0),
            Err(e) => Err(backend_err(e)),
        }
    }

    fn query_row(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        let Some(row) = self.first(sql, params)? else {
            return Ok(None);
        };
        // A NULL or odd value reads as empty data, which decodes as corrupt.
        let data = row
            .get_opt::<Vec<u8>, _>(0)
            .and_then(|v| v.ok())
            .unwrap_or_default();
        let expiry_ms = row
            .get_opt::<i64, _>(1)
            .and_then(|v| v.ok())
            .unwrap_or(i64::MIN);
        Ok(Some(Row { data, expiry_ms }))
    }

    fn query_int(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<i64>> {
        let row = self.first(sql, params)?;
        Ok(row.and_then(|row| row.get_opt::<i64, _>(0).and_then(|v| v.ok())))
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.0.query_drop(sql).map_err(backend_err)
    }

    fn query_index(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<IndexRow>> {
        let rows = self
            .0
            .exec::<mysql::Row, _, _>(sql, values(params))
            .map_err(backend_err)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let int = |i| row.get_opt::<i64, _>(i).and_then(|v| v.ok());
                // A NULL expiry is the left join finding no session.
                let session = int(3).map(|expiry_ms| Row {
                    data: row
                        .get_opt::<Vec<u8>, _>(2)
                        .and_then(|v| v.ok())
                        .unwrap_or_default(),
                    expiry_ms,
                });
                IndexRow {
                    sid: row
                        .get_opt::<String, _>(0)
                        .and_then(|v| v.ok())
                        .unwrap_or_default(),
                    attached_ms: int(1).unwrap_or(0),
                    session,
                }
            })
            .collect())
    }
}

pub(super) struct MysqlBackend {
    pub(super) pool: r2d2::Pool<ConnManager>,
    /// For the start-up connection, outside the pool.
    pub(super) manager: ConnManager,
}

impl Runner for MysqlBackend {
    fn run(&self, transaction: bool, job: Job<'_>) -> Result<()> {
        let mut conn = self.pool.get().map_err(backend_err)?;
        retry_if_stale(NAME, &self.manager, &mut conn, |conn, answered| {
            if !transaction {
                return job(&mut Counted::new(&mut MyConn(conn), answered));
            }
            let mut tx = conn
                .start_transaction(TxOpts::default())
                .map_err(backend_err)?;
            *answered += 1;
            // Dropping an uncommitted transaction rolls it back.
            job(&mut Counted::new(&mut MyConn(&mut tx), answered))?;
            tx.commit().map_err(backend_err)
        })
    }

    fn run_direct(&self, job: Job<'_>) -> Result<()> {
        let mut conn = r2d2::ManageConnection::connect(&self.manager).map_err(backend_err)?;
        job(&mut MyConn(&mut conn))
    }
}

/// r2d2 for `mysql::Conn` (r2d2_mysql would bring zlib's C code along).
#[derive(Debug, Clone)]
pub(crate) struct ConnManager {
    opts: Opts,
    /// `tls=preferred`: the same options without TLS, for servers that
    /// do not offer it.
    plain: Option<Opts>,
    tls: MyTls,
}

impl ConnManager {
    /// A manager for `builder` with `tls`. TCP stays TCP: the driver's
    /// `prefer_socket` (which would move a loopback connection to the
    /// server's unix socket, around TLS) is off.
    pub(crate) fn new(builder: OptsBuilder, tls: MyTls) -> Result<Self> {
        if tls.mode() != Mode::False {
            tls::install_default_provider();
        }
        if let (Mode::True, Some(ca)) = (tls.mode(), tls.ca()) {
            tracing::warn!("session: {NAME}: {CA_NOT_EXCLUSIVE} (tls-ca={ca})");
        }
        let builder = builder.prefer_socket(false);
        let plain = (tls.mode() == Mode::Preferred).then(|| builder.clone().ssl_opts(None).into());
        let opts = builder.ssl_opts(tls.ssl_opts()?).into();
        Ok(ConnManager { opts, plain, tls })
    }

    /// `user@host:port` or `user@socket`.
    fn target(&self) -> String {
        let user = self.opts.get_user().unwrap_or("");
        match self.opts.get_socket() {
            Some(socket) => format!("{user}@{socket}"),
            None => format!(
                "{user}@{}:{}",
                self.opts.get_ip_or_hostname(),
                self.opts.get_tcp_port()
            ),
        }
    }

    fn describe(&self, err: &mysql::Error) -> ConnectError {
        let text = tls::chain(err);
        let (target, settings) = (self.target(), self.tls.describe());
        let message = if let Some(why) = tls::explain(&text) {
            format!("TLS handshake with {target} failed ({settings}): {why} ({text})")
        } else if matches!(err, mysql::Error::DriverError(DriverError::TlsNotSupported)) {
            format!(
                "{target} does not offer TLS ({settings}); use tls=preferred to fall back to plain"
            )
        } else if matches!(err, mysql::Error::MySqlError(e) if matches!(e.code, 1045 | 3159))
            && self.tls.mode() == Mode::False
        {
            format!(
                "access denied for {target} (tls=false: if the server requires TLS \
                 (require_secure_transport, REQUIRE SSL/X509), set tls=true): {text}"
            )
        } else {
            format!("cannot connect to {target} ({settings}): {text}")
        };
        ConnectError(format!("{NAME}: {message}"))
    }
}

impl r2d2::ManageConnection for ConnManager {
    type Connection = mysql::Conn;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<mysql::Conn, ConnectError> {
        match (mysql::Conn::new(self.opts.clone()), &self.plain) {
            (Err(mysql::Error::DriverError(DriverError::TlsNotSupported)), Some(plain)) => {
                mysql::Conn::new(plain.clone()).map_err(|e| self.describe(&e))
            }
            (result, _) => result.map_err(|e| self.describe(&e)),
        }
    }

    fn is_valid(&self, conn: &mut mysql::Conn) -> std::result::Result<(), ConnectError> {
        conn.ping().map_err(|e| ConnectError(tls::chain(&e)))
    }

    fn has_broken(&self, _conn: &mut mysql::Conn) -> bool {
        false
    }
}
