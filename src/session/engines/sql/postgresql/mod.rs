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
//! `password`, `dbname`, `options`, `application_name`, ...). A URL's
//! hosts are `host`, `host:port` or an IPv6 address in brackets,
//! `postgres://app@[::1]:5432/app`, read as every networked engine reads
//! them; in the `key=value` form an IPv6 host needs no brackets
//! (`host=::1`).
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
//! unreadable one is an [`Error::Config`](crate::session::Error::Config) naming the key and the path.
//!
//! ```ini
//! sessionprovider = postgresql
//! sessionproviderconfig = postgres://pqgotest:password@db.internal:5432/pqgotest?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem
//! sessionproviderconfig = host=db.internal port=5432 user=pqgotest password=password dbname=pqgotest sslmode=verify-full sslrootcert=/etc/ssl/db-ca.pem
//! ```
//!
//! What is verified: `verify-full` checks the certificate chain against
//! `sslrootcert`, the host name and the handshake signature; `verify-ca`
//! the chain and the handshake signature (the server must hold the
//! certificate's key), not the name; `require` and `prefer` without
//! `sslrootcert` encrypt but authenticate nothing. Only `sslrootcert` is
//! trusted: no compiled-in or system roots are added. Connection errors
//! carry the driver's whole cause chain (the driver's own message says
//! only "error performing TLS handshake").
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
//! fail with [`Error::Config`](crate::session::Error::Config) naming them, and the rest works as before.
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
//! thread), so every call runs on the engine's own threads, one per pooled
//! connection (`pool_size`), through an r2d2 pool that connects lazily; a
//! connection the server closed is replaced and the call run again.
//! Release writes the request's view of the session in one
//! `UPDATE ... WHERE session_expiry = <the expiry it loaded>`: every write
//! and touch moves the expiry forward (by 1 ms at least), so the expiry is
//! the row's version and the update lands only if nobody wrote in between.
//! Otherwise (another request wrote or touched it, or it was destroyed or
//! expired) release merges this request's changes into the stored row
//! under `SELECT ... FOR UPDATE`; with `sessionstoreformat = beego`, whose
//! table beego writes too, it always does. (An older actix-bee
//! writing the same table moves the expiry without that step, so a write
//! of its in the same millisecond as one a request loaded can go unseen:
//! upgrade the app servers on one table together.) Creation is `INSERT ... ON CONFLICT DO NOTHING`
//! (a live duplicate is [`Error::IdCollision`](crate::session::Error::IdCollision),
//! an expired one is replaced); regeneration inserts the new id and deletes
//! the old one in one transaction; GC deletes expired rows 1,000 at a time.
//! Unreachable servers give [`Error::Backend`](crate::session::Error::Backend)
//! within the connect timeout. Corrupt `session_data` is reported as
//! [`Error::Corrupt`](crate::session::Error::Corrupt); the manager starts a fresh session.

mod conn;
mod dsn;
mod name;
mod tls;

use sha1::{Digest, Sha1};

use self::conn::{PgManager, PostgresBackend};
use self::name::NAME;
use super::pool::build_pool;
use super::statements::Dialect;
use super::{Connected, Driver, Sql};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::Result;

pub(crate) use self::dsn::secrets;

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
    let body = include_str!("../../../../../sql/postgresql.sql")
        .replace(
            "\"session_expiry_idx\"",
            &format!("\"{}\"", index_name(table)),
        )
        .replace("\"session\"", &format!("\"{table}\""));
    format!("SELECT pg_advisory_xact_lock(hashtext('actix_bee_session_ddl'));\n{body}")
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
        let (pg_config, options, tls) = dsn::parse_dsn(config)?;
        let manager = PgManager::new(pg_config, tls)?;
        let pool = build_pool(NAME, manager.clone(), &options);
        Ok(Connected {
            runner: Box::new(PostgresBackend {
                pool: Some(pool),
                manager,
            }),
            ddl: options.create_table.then(|| ddl(&options.table)),
            options,
            redacted_dsn: dsn::redact(config.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
