//! The `postgresql` engine: sessions in a PostgreSQL table.
//!
//! # Configuration
//!
//! `sessionproviderconfig` is a `postgres://` (or `postgresql://`) URL or a
//! libpq `key=value` conninfo string:
//!
//! ```ini
//! sessionprovider = postgresql
//! sessionproviderconfig = postgres://postgres:secret@127.0.0.1:5432/test?table=web_session&pool_size=32
//! sessionproviderconfig = host=127.0.0.1 port=5432 user=postgres password=secret dbname=test table=web_session
//! ```
//!
//! Engine options ride as extra parameters (URL query parameters, or more
//! `key=value` pairs) and are removed before the string reaches the driver:
//!
//! | parameter | default | meaning |
//! |---|---|---|
//! | `table` | `session` | the table, a plain identifier (`^[A-Za-z_][A-Za-z0-9_]{0,62}$`), quoted (so case-sensitive) |
//! | `pool_size` | 16 | most pooled connections |
//! | `connect_timeout` | `5s` | time to connect, and to wait for a pooled connection (`5s`, `500ms`, or seconds) |
//! | `call_timeout` | `5s` | deadline of one session call (pool check-out, statements, commit): past it the request gets a 503 ([`Error::Timeout`](crate::session::Error::Timeout)) |
//! | `max_session_bytes` | `262144` | the largest session (keys, values and a fixed overhead); a bigger one is refused at release with [`Error::TooLarge`](crate::session::Error::TooLarge) |
//! | `create_table` | `true` | create the table at start-up if missing (`sql/postgresql.sql`) |
//!
//! Everything else goes to the `postgres` crate (`host`, `port`, `user`,
//! `password`, `dbname`, `options`, `application_name`, ...).
//!
//! # TLS
//!
//! lib/pq's keys, in both forms, with lib/pq's meaning (TLS is rustls with
//! ring; no OpenSSL):
//!
//! | `sslmode` | meaning |
//! |---|---|
//! | unset | lib/pq's default: `require` |
//! | `disable` | no TLS |
//! | `require` | TLS, the certificate not checked; with `sslrootcert`, as `verify-ca` (as lib/pq and libpq do) |
//! | `verify-ca` | TLS, the certificate must be signed by `sslrootcert`; the host name is not checked |
//! | `verify-full` | TLS, signed by `sslrootcert` and valid for the host name |
//! | `prefer` | TLS when the server offers it, checked as `require` |
//!
//! `sslrootcert` names the CA file (PEM), required by `verify-ca` and
//! `verify-full`; `sslcert` and `sslkey` a client certificate and its key
//! (PEM, both or neither). The files are read at start-up; a missing or
//! unreadable one is an [`Error::Config`] naming the key and the path.
//!
//! ```ini
//! sessionprovider = postgresql
//! sessionproviderconfig = postgres://pqgotest:password@db.internal:5432/pqgotest?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem
//! sessionproviderconfig = host=db.internal port=5432 user=pqgotest password=password dbname=pqgotest sslmode=verify-full sslrootcert=/etc/ssl/db-ca.pem
//! ```
//!
//! Since an unset `sslmode` means `require`, a server without TLS refuses
//! the connection; the error says so and names `sslmode=disable`.
//! With `create_table` on (the default), start-up connects once outside
//! the pool, so a certificate the CA did not sign, a host name the
//! certificate does not cover or a refused mode fail `session_init` at
//! once, with the host, the mode and the cause in the message.
//!
//! # Table
//!
//! `sql/postgresql.sql` in the repository:
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS "session" (
//!   session_key    VARCHAR(160) NOT NULL PRIMARY KEY,
//!   session_data   BYTEA NOT NULL,
//!   session_expiry BIGINT NOT NULL
//! );
//! CREATE INDEX IF NOT EXISTS "session_expiry_idx" ON "session" (session_expiry);
//! ```
//!
//! It differs from beego's on purpose: the key holds the longest id (a
//! 32-character prefix and 128 hex characters), and `session_expiry` is the
//! instant the session expires in ms since the Unix epoch, computed by the
//! application, where beego's `timestamp` column depended on the server's
//! `TimeZone`. A beego table must be migrated (or a new `table` used).
//!
//! # Sessions by owner
//!
//! The owner index ([`Manager::sessions_of`](crate::session::Manager::sessions_of),
//! "log out everywhere") lives in two tables beside the session table,
//! created with it when `create_table` is on (`sql/postgresql_owners.sql`), in
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
//! The `postgres` client is synchronous (and panics on an async worker
//! thread), so every call runs on the blocking thread pool, through an
//! r2d2 pool that connects lazily and validates connections on check-out.
//! Release merges this request's changes into the stored row under
//! `SELECT ... FOR UPDATE`; creation is `INSERT ... ON CONFLICT DO NOTHING`
//! (a live duplicate is [`Error::IdCollision`],
//! an expired one is replaced); regeneration inserts the new id and deletes
//! the old one in one transaction; GC deletes expired rows 1,000 at a time.
//! Unreachable servers give [`Error::Backend`]
//! within the connect timeout. Corrupt `session_data` is reported as
//! [`Error::Corrupt`]; the manager starts a fresh session.

use std::str::FromStr;

use postgres::types::{ToSql, Type};
use postgres::GenericClient;
use sha1::{Digest, Sha1};

use super::options::{join_query, parse_query, redact_userinfo, EngineOptions};
use super::pg_tls::{PgManager, PgTls, KEYS as TLS_KEYS};
use super::pool::{build_pool, retry_if_stale, Conn, Counted, IndexRow, Job, Param, Row, Runner};
use super::statements::Dialect;
use super::{Connected, Driver, Sql};
use crate::session::engines::shared::options::percent_decode;
use crate::session::engines::shared::secrets::Secrets;
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};

const NAME: &str = "postgresql";

fn backend_err(e: impl Into<crate::session::error::BoxError>) -> Error {
    Error::backend(NAME, e)
}

fn config_err(what: impl Into<String>) -> Error {
    Error::config(NAME, what)
}

/// The GC index's name: `<table>_expiry_idx`, or a hashed form when that
/// would pass Postgres's 63-byte limit (which truncates, and could collide).
fn index_name(table: &str) -> String {
    let name = format!("{table}_expiry_idx");
    if name.len() <= 63 {
        return name;
    }
    let digest = hex::encode(Sha1::digest(table.as_bytes()));
    format!(
        "{}_{}_expiry_idx",
        table.get(..36).unwrap_or(table),
        digest.get(..12).unwrap_or(&digest)
    )
}

/// The table definition for `table`, behind an advisory lock so that
/// instances starting together do not race on `CREATE TABLE IF NOT EXISTS`.
fn ddl(table: &str) -> String {
    let body = include_str!("../../../../sql/postgresql.sql")
        .replace(
            "\"session_expiry_idx\"",
            &format!("\"{}\"", index_name(table)),
        )
        .replace("\"session\"", &format!("\"{table}\""));
    format!("SELECT pg_advisory_xact_lock(hashtext('actix_bee_session_ddl'));\n{body}")
}

/// One `key=value` of a conninfo string: the key and the value as written.
type Pair<'a> = (&'a str, &'a str);

/// Splits a libpq conninfo string, keeping each value's raw text (quotes
/// and escapes included) so the rest can be passed on unchanged.
fn conninfo_pairs(s: &str) -> Result<Vec<Pair<'_>>> {
    let mut pairs = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            return Ok(pairs);
        };
        let mut key_end = key_start;
        while let Some((i, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key_end = i + c.len_utf8();
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(config_err(
                "read as libpq's conninfo (it is not a postgres:// URL), which must be \
                 key=value pairs such as host=127.0.0.1 port=5432 user=app dbname=app; \
                 for host:port write postgres://user@host:port/dbname",
            ));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value_start = chars.peek().map_or(s.len(), |&(i, _)| i);
        let mut value_end = value_start;
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        if quoted {
            value_end += 1;
        }
        let mut closed = !quoted;
        while let Some(&(i, c)) = chars.peek() {
            if !quoted && c.is_whitespace() {
                break;
            }
            chars.next();
            value_end = i + c.len_utf8();
            if c == '\\' {
                if let Some((j, escaped)) = chars.next() {
                    value_end = j + escaped.len_utf8();
                }
            } else if quoted && c == '\'' {
                closed = true;
                break;
            }
        }
        if !closed {
            return Err(config_err("unterminated quote in the conninfo string"));
        }
        pairs.push((&s[key_start..key_end], &s[value_start..value_end]));
    }
}

/// A conninfo value without its quotes and escapes.
fn unquote(raw: &str) -> String {
    let inner = raw
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// The DSN with passwords replaced by `***`, for `Debug`.
fn redact(dsn: &str) -> String {
    if dsn.contains("://") {
        let (base, query) = match dsn.split_once('?') {
            Some((b, q)) => (b, q),
            None => (dsn, ""),
        };
        let params: Vec<(String, String)> = parse_query(query)
            .into_iter()
            .map(|(k, v)| {
                if k == "password" {
                    (k, "***".into())
                } else {
                    (k, v)
                }
            })
            .collect();
        return join_query(&redact_userinfo(base), &params);
    }
    match conninfo_pairs(dsn) {
        Ok(pairs) => pairs
            .into_iter()
            .map(|(k, v)| {
                let v = if k == "password" { "***" } else { v };
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => "(unparsable conninfo)".into(),
    }
}

/// The secrets of a URL or conninfo string, as [`parse_dsn`] and the
/// driver take them; a config error when they refuse it.
pub(crate) fn secrets(config: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(config);
    parse_dsn_recording(config, &mut secrets)?;
    Ok(secrets)
}

/// The raw texts a `postgres://` URL may hold a password in, as the
/// driver's URL parser delimits them: the user info runs from the scheme
/// to the first '@' and the password follows its first ':'; a `password`
/// query parameter sets it too.
fn url_passwords<'a>(base: &'a str, query: &'a str) -> Vec<&'a str> {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let userinfo = rest.split_once('@').map(|(info, _)| info);
    let mut found: Vec<&str> = userinfo
        .and_then(|info| info.split_once(':'))
        .map(|(_, pass)| pass)
        .into_iter()
        .collect();
    found.extend(
        query
            .split('&')
            .filter_map(|pair| pair.strip_prefix("password=")),
    );
    found
}

/// Parses a URL or conninfo string into the driver's config, the engine
/// options and the TLS settings.
fn parse_dsn(dsn: &str) -> Result<(postgres::Config, EngineOptions, PgTls)> {
    parse_dsn_recording(dsn, &mut Secrets::new(dsn))
}

/// [`parse_dsn`], recording in `secrets` the text of every password given.
/// What the driver took must be one of them, or everything is masked.
fn parse_dsn_recording(
    dsn: &str,
    secrets: &mut Secrets<'_>,
) -> Result<(postgres::Config, EngineOptions, PgTls)> {
    let dsn = dsn.trim();
    if dsn.is_empty() {
        return Err(config_err(
            "sessionproviderconfig must be a postgres:// URL or a key=value conninfo string",
        ));
    }
    let mut tls = PgTls::default();
    // Each password text given, with its value as the driver reads it.
    let mut given: Vec<(&str, Option<String>)> = Vec::new();
    let (driver_dsn, options) = if dsn.contains("://") {
        let (base, query) = dsn.split_once('?').unwrap_or((dsn, ""));
        given.extend(
            url_passwords(base, query)
                .into_iter()
                .map(|raw| (raw, percent_decode(raw))),
        );
        let mut params = parse_query(query);
        let options = EngineOptions::take(NAME, &mut params)?;
        let mut rest = Vec::with_capacity(params.len());
        for (key, value) in params {
            if TLS_KEYS.contains(&key.as_str()) {
                let value = percent_decode(&value)
                    .ok_or_else(|| config_err(format!("{key}: bad percent-encoding in the URL")))?;
                tls.set(&key, value)?;
            } else {
                rest.push((key, value));
            }
        }
        (join_query(base, &rest), options)
    } else {
        let pairs = conninfo_pairs(dsn)?;
        let mut ours: Vec<(String, String)> = Vec::new();
        let mut rest = Vec::new();
        for (key, raw) in pairs {
            match key {
                "table" | "pool_size" | "connect_timeout" | "create_table" => {
                    ours.push((key.to_owned(), unquote(raw)));
                }
                k if TLS_KEYS.contains(&k) => tls.set(k, unquote(raw))?,
                _ => {
                    if key == "password" {
                        given.push((raw, Some(unquote(raw))));
                    }
                    rest.push(format!("{key}={raw}"));
                }
            }
        }
        (rest.join(" "), EngineOptions::take(NAME, &mut ours)?)
    };
    let mut config = postgres::Config::from_str(&driver_dsn)
        .map_err(|e| config_err(format!("invalid connection string: {e}")))?;
    for (raw, _) in &given {
        secrets.add(raw);
    }
    if let Some(taken) = config.get_password() {
        let found = given
            .iter()
            .any(|(_, value)| value.as_deref().map(str::as_bytes) == Some(taken));
        if !found {
            secrets.mask_all();
        }
    }
    config.connect_timeout(options.connect_timeout);
    Ok((config, options, tls))
}

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

type Pool = r2d2::Pool<PgManager>;

struct PostgresBackend {
    /// Always `Some` until dropped.
    pool: Option<Pool>,
    /// For the start-up connection, outside the pool.
    manager: PgManager,
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

engine_provider! {
    /// The `postgresql` engine (cargo feature `postgresql`; also registered as
    /// `postgres`).
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
    /// config.provider_config = "postgres://postgres@127.0.0.1:5432/test?table=session".into();
    /// let manager = Manager::new("postgresql", config).await.unwrap();
    /// println!("{} live sessions", manager.get_active_session().await.unwrap());
    /// # });
    /// ```
    #[derive(Default)]
    pub struct PostgresqlProvider(Sql<Postgres>);
}

/// The PostgreSQL driver.
pub(crate) struct Postgres;

impl Driver for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;

    fn connect(config: &str) -> Result<Connected> {
        let (pg_config, options, tls) = parse_dsn(config)?;
        let manager = PgManager::new(pg_config, tls)?;
        let pool = build_pool(NAME, manager.clone(), &options);
        Ok(Connected {
            runner: Box::new(PostgresBackend {
                pool: Some(pool),
                manager,
            }),
            ddl: options.create_table.then(|| ddl(&options.table)),
            options,
            redacted_dsn: redact(config.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn urls_lose_the_engine_options() {
        let (c, o, _) =
            parse_dsn("postgres://u:p@h:5433/d?table=t1&connect_timeout=2&application_name=x")
                .unwrap();
        assert_eq!(c.get_user(), Some("u"));
        assert_eq!(c.get_ports(), [5433]);
        assert_eq!(c.get_application_name(), Some("x"));
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(2)));
        assert_eq!(o.table, "t1");
    }

    #[test]
    fn conninfo_parsing() {
        let pairs = conninfo_pairs("host=h  user = 'a b' password='x\\'y' dbname=d").unwrap();
        assert_eq!(
            pairs,
            [
                ("host", "h"),
                ("user", "'a b'"),
                ("password", "'x\\'y'"),
                ("dbname", "d"),
            ]
        );
        assert_eq!(unquote("'x\\'y'"), "x'y");
        let (c, o, _) =
            parse_dsn("host=127.0.0.1 user='a b' dbname=d table=t2 pool_size=3 create_table=0")
                .unwrap();
        assert_eq!(c.get_user(), Some("a b"));
        assert_eq!(c.get_dbname(), Some("d"));
        assert_eq!(
            (o.table.as_str(), o.pool_size, o.create_table),
            ("t2", 3, false)
        );
        assert!(conninfo_pairs("host='unterminated").is_err());
        assert!(conninfo_pairs("hostonly").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:pw@h/d?password=pw2&table=t"),
            "postgres://u:***@h/d?password=***&table=t"
        );
        assert_eq!(
            redact("host=h password='p w' user=u"),
            "host=h password=*** user=u"
        );
    }

    #[test]
    fn bad_dsns_are_config_errors() {
        for dsn in [
            "",
            "host=h table='x; DROP TABLE y'",
            "postgres://h/d?table=a.b",
            "host=h nonsense=1",
            "postgres://h/d?pool_size=0",
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
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"web_session\""));
        assert!(sql.contains("\"web_session_expiry_idx\" ON \"web_session\""));
        assert!(!sql.contains("\"session\""));
        let long = "a".repeat(63);
        let idx = index_name(&long);
        assert!(idx.len() <= 63);
        assert_ne!(idx, index_name(&format!("{}b", "a".repeat(62))));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "postgres://u:p%40w@127.0.0.1:5435/test?sslmode=disable&table=s&max_session_bytes=5",
        "host=127.0.0.1 port=5435 user=u dbname=test sslmode=verify-full",
        "postgresql://h1:5,h2:5/db?connect_timeout=5&call_timeout=0.5",
    ];

    /// Either DSN form: parsed or a config error, never a panic. Parsing
    /// connects nowhere.
    #[test]
    fn postgresql_dsn_never_panics() {
        fuzz::parser(SEEDS, parse_dsn, |_| true);
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "postgres://u:ZqUrl%40SecretZq@127.0.0.1:5435/test?table=s",
        "host=127.0.0.1 user=u password='Zq a\\' b Zq' dbname=d",
        "postgresql://u@h:5/d?password=ZqQuery@/Zq&application_name=x",
    ];

    /// Whatever the text, the password the driver takes is not shown once
    /// the secrets are masked.
    #[test]
    fn no_password_taken_is_shown() {
        let parse = |raw: &str| {
            let mut secrets = Secrets::new(raw);
            let (config, _, _) = parse_dsn_recording(raw, &mut secrets)?;
            let pass = config
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            Ok((pass, secrets.render()))
        };
        fuzz::parser(SEEDS, parse, |(pass, shown)| {
            pass.as_deref()
                .is_none_or(|p| p.len() < 6 || !shown.contains(p))
        });
    }
}
