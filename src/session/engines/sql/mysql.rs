//! The `mysql` engine: sessions in a MySQL or MariaDB table.
//!
//! # Configuration
//!
//! `sessionproviderconfig` is a DSN, in go-sql-driver's form (as in beego)
//! or as a URL:
//!
//! ```text
//! username:password@protocol(address)/dbname?param=value
//! app:secret@unix(/run/mysqld/mysqld.sock)/app
//! ```
//!
//! ```ini
//! sessionprovider = mysql
//! sessionproviderconfig = root:@tcp(127.0.0.1:3306)/test?charset=utf8
//! sessionproviderconfig = mysql://root@127.0.0.1:3306/test?table=web_session&pool_size=32
//! ```
//!
//! Engine options ride as extra parameters and are removed before the DSN
//! reaches the driver:
//!
//! | parameter | default | meaning |
//! |---|---|---|
//! | `table` | `session` | the table, a plain identifier (`^[A-Za-z_][A-Za-z0-9_]{0,62}$`), quoted |
//! | `pool_size` | 16 | most pooled connections |
//! | `connect_timeout` | `5s` | time to connect, and to wait for a pooled connection (`5s`, `500ms`, or seconds) |
//! | `call_timeout` | `5s` | deadline of one session call (pool check-out, statements, commit): past it the request gets a 503 ([`Error::Timeout`](crate::session::Error::Timeout)) |
//! | `max_session_bytes` | `262144` | the largest session (keys, values and a fixed overhead); a bigger one is refused at release with [`Error::TooLarge`](crate::session::Error::TooLarge) |
//! | `create_table` | `true` | create the table at start-up if missing (`sql/mysql.sql`) |
//!
//! Of go-sql-driver's own parameters, `timeout`, `readTimeout` and
//! `writeTimeout` (durations such as `5s` or `500ms`) and `tls` (below)
//! are honoured; the others (`charset`, `parseTime`, `loc`, ...) do not
//! apply and are ignored: the engine stores bytes and epoch milliseconds.
//! A `mysql://` URL takes the `mysql` crate's parameters instead, and the
//! TLS parameters below. `tcp(...)` and URLs connect over TCP, always (a
//! loopback address is never moved to the server's unix socket);
//! `unix(...)` over the socket.
//!
//! # TLS
//!
//! go-sql-driver's `tls` parameter, in both forms (rustls with ring; no
//! OpenSSL):
//!
//! | `tls` | meaning |
//! |---|---|
//! | `false`, unset | no TLS |
//! | `true` | TLS; the certificate must chain to the Mozilla roots compiled in or to `tls-ca`, and be valid for the host name |
//! | `skip-verify` | TLS without verification (encryption only) |
//! | `preferred` | TLS without verification when the server offers it, else plain |
//!
//! go-sql-driver can name a CA only from Go code; here `tls-ca=/path`
//! (PEM) does, and `tls-cert`/`tls-key` give a client certificate
//! (`REQUIRE X509` users). `tls-ca` alone implies `tls=true`. The files are
//! read at start-up; a missing one is an [`Error::Config`] naming it.
//!
//! **`tls-ca` does not pin the CA.** The `mysql` crate adds it to the
//! public (Mozilla) roots it compiles in and has no way to leave those
//! out, so a certificate that any public CA issued for the host name is
//! accepted too, where go-sql-driver's TLS config and PostgreSQL's
//! `sslrootcert` trust only the given CA. A certificate no trusted CA
//! signed is refused. Start-up logs a warning whenever `tls-ca` is used.
//! Where a public CA could certify the name, connect by a name none
//! certifies (a private DNS name such as `db.internal`, or an address) or
//! through a tunnel that pins the CA.
//!
//! ```ini
//! sessionprovider = mysql
//! sessionproviderconfig = app:secret@tcp(db.internal:3306)/app?tls=true&tls-ca=/etc/ssl/db-ca.pem
//! sessionproviderconfig = mysql://app:secret@db.internal:3306/app?tls=true&tls-ca=/etc/ssl/db-ca.pem
//! ```
//!
//! With `create_table` on (the default), start-up connects once outside
//! the pool, so an unsigned certificate, a wrong host name or a server
//! that requires TLS (MariaDB answers "access denied") fail
//! `session_init` at once, naming the server and the mode.
//!
//! # Table
//!
//! `sql/mysql.sql` in the repository:
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS `session` (
//!   `session_key`    VARCHAR(160) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
//!   `session_data`   MEDIUMBLOB NOT NULL,
//!   `session_expiry` BIGINT NOT NULL,
//!   PRIMARY KEY (`session_key`),
//!   KEY `session_expiry_idx` (`session_expiry`)
//! ) ENGINE=InnoDB;
//! ```
//!
//! It differs from beego's on purpose: the key holds the longest id (a
//! 32-character prefix and 128 hex characters) and compares exactly;
//! `MEDIUMBLOB` holds sessions up to 16 MiB (beego's `BLOB` stops at 64 KiB;
//! larger sessions fail with [`Error::TooLarge`]);
//! `session_expiry` is the instant the session expires, in ms since the
//! Unix epoch, computed by the application, so the server's time zone never
//! matters; InnoDB gives the row locks release relies on. A beego table must
//! be migrated (or a new `table` used).
//!
//! # Sessions by owner
//!
//! The owner index ([`Manager::sessions_of`](crate::session::Manager::sessions_of),
//! "log out everywhere") lives in two tables beside the session table,
//! created with it when `create_table` is on (`sql/mysql_owners.sql`), in
//! either storage format: `<table>_owner` (the owner's SHA-256 in hex, the
//! session id, the attach time in ms; one row per session that has an
//! owner) and `<table>_owner_epoch` (the owner's SHA-256, its epoch). A
//! table name over 51 characters gives `<first 36 characters>_<12 hex
//! digits of its SHA-256>_owner` and `..._owner_epoch` instead. With
//! `create_table=false` create them yourself; until then the owner calls
//! fail with [`Error::Config`] naming them, and the rest works as before.
//! A login's attach reads the epoch under `SELECT ... FOR UPDATE` in the
//! same transaction as its insert; listing joins the index with the
//! session table; GC deletes index rows whose session is gone (attached
//! more than five minutes ago) in one statement, then the epochs of owners
//! with no row left that are older than the idle lifetime plus five
//! minutes.
//!
//! # Behaviour
//!
//! Every call runs on the blocking thread pool through an r2d2 pool that
//! connects lazily (start-up never waits for the database unless
//! `create_table` is on) and checks connections on check-out, so killed
//! connections are replaced. Release merges this request's changes into the
//! stored row under `SELECT ... FOR UPDATE` (connections run at READ
//! COMMITTED, so these locks take no gap locks); creation is an `INSERT` on the
//! primary key (a live duplicate is [`Error::IdCollision`],
//! an expired one is replaced); regeneration inserts the new id and deletes
//! the old one in one transaction; GC deletes expired rows 1,000 at a time.
//! Unreachable servers give [`Error::Backend`]
//! within the connect timeout. Corrupt `session_data` is reported as
//! [`Error::Corrupt`]; the manager starts a fresh session.

use mysql::consts::CapabilityFlags;
use mysql::prelude::Queryable;
use mysql::{Opts, OptsBuilder, TxOpts, Value};

use super::mysql_tls::{ConnManager, MyTls, KEYS as TLS_KEYS};
use super::options::{join_query, parse_query, redact_userinfo, EngineOptions};
use super::pool::{build_pool, retry_if_stale, Conn, Counted, IndexRow, Job, Param, Row, Runner};
use super::statements::Dialect;
use super::{Connected, Driver, Sql};
use crate::session::engines::shared::options;
use crate::session::engines::shared::secrets::{url_password, Secrets};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};

const NAME: &str = "mysql";
/// MySQL's `ER_DUP_ENTRY`.
const DUPLICATE_KEY: u16 = 1062;

/// The table definition, with `` `session` `` replaced by the configured table.
fn ddl(table: &str) -> String {
    include_str!("../../../../sql/mysql.sql").replace("`session`", &format!("`{table}`"))
}

fn backend_err(e: impl Into<crate::session::error::BoxError>) -> Error {
    Error::backend(NAME, e)
}

fn config_err(what: impl Into<String>) -> Error {
    Error::config(NAME, what)
}

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

struct MysqlBackend {
    pool: r2d2::Pool<ConnManager>,
    /// For the start-up connection, outside the pool.
    manager: ConnManager,
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

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn host_port(addr: &str) -> Result<(String, u16)> {
    let (host, port) = if let Some(v6) = addr.strip_prefix('[') {
        let (inner, after) = v6
            .split_once(']')
            .ok_or_else(|| config_err("unclosed '[' in the address"))?;
        (format!("[{inner}]"), after.strip_prefix(':'))
    } else {
        match addr.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (addr.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| config_err("the port in the address is not a number"))?,
        None => 3306,
    };
    if host.is_empty() {
        return Err(config_err("the address has no host"));
    }
    Ok((host, port))
}

/// Takes the TLS keys out of `params`.
fn take_tls(params: &mut Vec<(String, String)>, tls: &mut MyTls) -> Result<()> {
    let mut rest = Vec::with_capacity(params.len());
    for (key, value) in params.drain(..) {
        if TLS_KEYS.contains(&key.as_str()) {
            let value = options::percent_decode(&value)
                .ok_or_else(|| config_err(format!("{key}: bad percent-encoding")))?;
            tls.set(&key, &value)?;
        } else {
            rest.push((key, value));
        }
    }
    *params = rest;
    Ok(())
}

/// go-sql-driver's `[user[:password]@][net[(addr)]]/dbname[?params]`.
fn parse_go_dsn(
    dsn: &str,
    tls: &mut MyTls,
    secrets: &mut Secrets<'_>,
) -> Result<(OptsBuilder, EngineOptions)> {
    // The query starts at the first '?' after the address, so that its
    // values may hold '/' (file paths): go-sql-driver wants those
    // percent-encoded, which works too.
    let query_start = match dsn.rfind(')') {
        Some(close) => dsn[close..].find('?').map(|q| close + q),
        None => dsn.find('?'),
    };
    let slash = dsn[..query_start.unwrap_or(dsn.len())]
        .rfind('/')
        .ok_or_else(|| {
            config_err("the DSN must look like user:password@tcp(host:port)/dbname or mysql://...")
        })?;
    let (head, tail) = (&dsn[..slash], &dsn[slash + 1..]);
    let (db, query) = tail.split_once('?').unwrap_or((tail, ""));
    let (userinfo, net) = match head.rfind('@') {
        Some(at) => (Some(&head[..at]), &head[at + 1..]),
        None => (None, head),
    };
    let (user, pass) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        },
        None => ("", None),
    };
    secrets.add(pass.unwrap_or_default());
    let (protocol, address) = match net.split_once('(') {
        Some((protocol, rest)) => {
            let address = rest
                .strip_suffix(')')
                .ok_or_else(|| config_err("unclosed '(' after the protocol"))?;
            (protocol, Some(address))
        }
        None => (net, None),
    };

    let mut builder = OptsBuilder::new()
        .user((!user.is_empty()).then_some(user))
        .pass(pass.filter(|p| !p.is_empty()))
        .db_name((!db.is_empty()).then_some(db));
    match protocol {
        "" | "tcp" => {
            let (host, port) = host_port(address.unwrap_or("127.0.0.1:3306"))?;
            builder = builder.ip_or_hostname(Some(host)).tcp_port(port);
        }
        "unix" => {
            let path = address
                .filter(|a| !a.is_empty())
                .unwrap_or("/tmp/mysql.sock");
            builder = builder.socket(Some(path));
        }
        // `user@host:3306/db` reads `host:3306` as the protocol: say what was meant.
        other if other.contains([':', '.']) => {
            return Err(config_err(format!(
                "read as go-sql-driver's user:password@protocol(address)/dbname, whose \
                 protocol must be tcp or unix; {other:?} looks like an address: write \
                 user@tcp({other})/dbname or mysql://user@{other}/dbname"
            )))
        }
        _ => return Err(config_err("the protocol must be tcp or unix")),
    }

    let mut params = parse_query(query);
    let mut options = EngineOptions::take(NAME, &mut params)?;
    take_tls(&mut params, tls)?;
    let explicit_timeout = query.split('&').any(|p| p.starts_with("connect_timeout="));
    for (key, value) in &params {
        match key.as_str() {
            "timeout" if !explicit_timeout => {
                options.connect_timeout = options::timeout(NAME, key, value)?;
            }
            "readTimeout" => {
                builder = builder.read_timeout(Some(options::timeout(NAME, key, value)?));
            }
            "writeTimeout" => {
                builder = builder.write_timeout(Some(options::timeout(NAME, key, value)?));
            }
            _ => tracing::debug!(param = %key, "session: mysql DSN parameter ignored"),
        }
    }
    Ok((builder, options))
}

/// The secrets of a DSN, as [`parse_dsn`] and the driver take them; a
/// config error when they refuse it.
pub(crate) fn secrets(config: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(config);
    parse_dsn_recording(config, &mut secrets)?;
    Ok(secrets)
}

/// Parses either DSN form into driver options, engine options and TLS
/// settings.
fn parse_dsn(dsn: &str) -> Result<(OptsBuilder, EngineOptions, MyTls)> {
    parse_dsn_recording(dsn, &mut Secrets::new(dsn))
}

/// [`parse_dsn`], recording in `secrets` the text of the password taken.
fn parse_dsn_recording(
    dsn: &str,
    secrets: &mut Secrets<'_>,
) -> Result<(OptsBuilder, EngineOptions, MyTls)> {
    let dsn = dsn.trim();
    if dsn.is_empty() {
        return Err(config_err(
            "sessionproviderconfig must be a DSN such as root:@tcp(127.0.0.1:3306)/test",
        ));
    }
    let mut tls = MyTls::default();
    let (builder, options) = if dsn.starts_with("mysql://") {
        let (base, query) = dsn.split_once('?').unwrap_or((dsn, ""));
        let mut params = parse_query(query);
        let options = EngineOptions::take(NAME, &mut params)?;
        take_tls(&mut params, &mut tls)?;
        let opts = Opts::from_url(&join_query(base, &params))
            .map_err(|e| config_err(format!("invalid URL: {e}")))?;
        // The driver (the url crate) took the password: record its text,
        // or everything when the text found is not what the driver took.
        let raw = url_password(base);
        secrets.add(raw.unwrap_or_default());
        let decoded = raw.and_then(options::percent_decode);
        if opts
            .get_pass()
            .is_some_and(|p| decoded.as_deref() != Some(p))
        {
            secrets.mask_all();
        }
        (OptsBuilder::from_opts(opts), options)
    } else {
        parse_go_dsn(dsn, &mut tls, secrets)?
    };
    let builder = builder
        .tcp_connect_timeout(Some(options.connect_timeout))
        // Row counts then say "matched", not "changed", for touches that
        // happen to write the same expiry.
        .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
        // Only single-row locking reads run in transactions; READ COMMITTED
        // spares them InnoDB's gap locks, and the deadlocks those invite
        // between concurrent regenerations.
        .init(vec![
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        ]);
    Ok((builder, options, tls))
}

engine_provider! {
    /// The `mysql` engine (cargo feature `mysql`).
    ///
    /// See the [module documentation](self) for the DSN, its options and the
    /// table.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, ManagerConfig};
    ///
    /// let mut config = ManagerConfig::default();
    /// config.provider_config = "root:@tcp(127.0.0.1:3306)/test?table=session&pool_size=16".into();
    /// let manager = Manager::new("mysql", config).await.unwrap();
    /// println!("{} live sessions", manager.get_active_session().await.unwrap());
    /// # });
    /// ```
    #[derive(Default)]
    pub struct MysqlProvider(Sql<Mysql>);
}

/// The MySQL driver.
pub(crate) struct Mysql;

impl Driver for Mysql {
    const DIALECT: Dialect = Dialect::Mysql;

    fn connect(config: &str) -> Result<Connected> {
        let (builder, options, tls) = parse_dsn(config)?;
        let manager = ConnManager::new(builder, tls)?;
        let pool = build_pool(NAME, manager.clone(), &options);
        Ok(Connected {
            runner: Box::new(MysqlBackend { pool, manager }),
            ddl: options.create_table.then(|| ddl(&options.table)),
            options,
            redacted_dsn: redact_userinfo(config.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn opts(dsn: &str) -> (Opts, EngineOptions) {
        let (b, o, _) = parse_dsn(dsn).unwrap();
        (b.into(), o)
    }

    #[test]
    fn go_sql_driver_dsns_parse() {
        let (o, e) = opts("root:@tcp(127.0.0.1:3306)/test?charset=utf8");
        assert_eq!(o.get_user(), Some("root"));
        assert_eq!(o.get_pass(), None);
        assert_eq!(o.get_ip_or_hostname(), "127.0.0.1");
        assert_eq!(o.get_tcp_port(), 3306);
        assert_eq!(o.get_db_name(), Some("test"));
        assert_eq!(e, EngineOptions::default());

        let (o, e) = opts("u:p@ss:w@rd@tcp([::1]:3307)/db?timeout=1500ms&table=t&readTimeout=2s");
        assert_eq!(o.get_user(), Some("u"));
        assert_eq!(o.get_pass(), Some("p@ss:w@rd"));
        assert_eq!(o.get_ip_or_hostname(), "[::1]");
        assert_eq!(o.get_tcp_port(), 3307);
        assert_eq!(e.table, "t");
        assert_eq!(e.connect_timeout, Duration::from_millis(1500));
        assert_eq!(o.get_read_timeout(), Some(&Duration::from_secs(2)));

        let (b, _, t) = parse_dsn("u:p@tcp(h:1)/db?tls=true&tls-ca=/etc/ca.pem&x=%2Fa").unwrap();
        let o: Opts = b.into();
        assert_eq!(o.get_db_name(), Some("db"));
        assert_ne!(t, MyTls::default());
        let (o, _) = opts("app@unix(/run/mysqld/mysqld.sock)/app");
        assert_eq!(o.get_socket(), Some("/run/mysqld/mysqld.sock"));
        let (o, _) = opts("/db");
        assert_eq!(o.get_ip_or_hostname(), "127.0.0.1");
        assert_eq!(o.get_db_name(), Some("db"));
    }

    #[test]
    fn urls_parse_and_lose_the_engine_options() {
        let (o, e) = opts("mysql://a:b@h:1234/d?table=s2&pool_size=3&create_table=false");
        assert_eq!((o.get_user(), o.get_pass()), (Some("a"), Some("b")));
        assert_eq!(o.get_tcp_port(), 1234);
        assert_eq!(e.table, "s2");
        assert_eq!(e.pool_size, 3);
        assert!(!e.create_table);
    }

    #[test]
    fn bad_dsns_are_config_errors() {
        for dsn in [
            "",
            "nodb",
            "u@tcp(h:3306/db",
            "u@udp(h)/db",
            "u@tcp(h:port)/db",
            "u@tcp(h)/db?tls=custom",
            "u@tcp(h)/db?timeout=soon",
            "u@tcp(h)/db?table=x;drop",
            "mysql://h/db?nonsense=1",
        ] {
            assert!(
                matches!(parse_dsn(dsn), Err(Error::Config { .. })),
                "{dsn} accepted"
            );
        }
    }

    #[test]
    fn ddl_follows_the_table() {
        let sql = ddl("web_session");
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS `web_session`"));
        assert!(!sql.contains("`session`"));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "root:@tcp(127.0.0.1:3305)/test?charset=utf8&table=s&max_session_bytes=5",
        "u:p%40ss@unix(/run/mysqld.sock)/db?tls=true&call_timeout=5s",
        "mysql://root@127.0.0.1:3305/test?pool_size=5&tls=skip-verify",
    ];

    /// Either DSN form: parsed or a config error, never a panic. Parsing
    /// connects nowhere.
    #[test]
    fn mysql_dsn_never_panics() {
        fuzz::parser(SEEDS, parse_dsn, |_| true);
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "app:ZqA/b(c)@d?Zq@tcp(127.0.0.1:3305)/db?table=s",
        "mysql://app:ZqUrl%2FSecretZq@127.0.0.1:3305/db?pool_size=5",
        "u:ZqSecretZq@unix(/run/m.sock)/db",
    ];

    /// Whatever the text, the password the driver takes is not shown once
    /// the secrets are masked.
    #[test]
    fn no_password_taken_is_shown() {
        let parse = |raw: &str| {
            let mut secrets = Secrets::new(raw);
            let (builder, _, _) = parse_dsn_recording(raw, &mut secrets)?;
            let opts: Opts = builder.into();
            Ok((opts.get_pass().map(str::to_owned), secrets.render()))
        };
        fuzz::parser(SEEDS, parse, |(pass, shown)| {
            pass.as_deref()
                .is_none_or(|p| p.len() < 6 || !shown.contains(p))
        });
    }
}
