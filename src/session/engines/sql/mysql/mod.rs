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
//! `unix(...)` over the socket. The address in `tcp(...)` is `host`,
//! `host:port` (port 3306 when none is given) or an IPv6 address in
//! brackets, `tcp([::1]:3306)`, read as every networked engine reads it.
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
//! read at start-up; a missing one is an [`Error::Config`](crate::session::Error::Config) naming it.
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
//! What is verified: with `tls=true`, the server's certificate chain (to
//! the compiled-in roots or `tls-ca`), the host name it is valid for, and
//! the handshake signature (the server holds the certificate's key). The
//! roots are never the operating system's store, unlike Go's. With
//! `skip-verify` and `preferred` the traffic is encrypted but the server
//! is not authenticated. A `tcp(...)` address stays TCP even on loopback
//! (the driver would otherwise move it to the server's unix socket and
//! around TLS).
//!
//! With `create_table` on (the default), start-up connects once outside
//! the pool, so an unsigned certificate, a wrong host name or a server
//! that requires TLS fail `session_init` at once, naming the server and
//! the mode. MariaDB refuses a plain connection to a server with
//! `require_secure_transport` (or a `REQUIRE SSL`/`X509` user) as "access
//! denied" (1045) rather than MySQL's "insecure transport" (3159): with
//! `tls=false` both are reported with a hint to set `tls=true`.
//!
//! The driver builds its TLS configuration with rustls' process-wide
//! crypto provider; start-up installs ring as that provider unless the
//! application chose one, so a build that also compiles in aws-lc-rs
//! (through reqwest, for instance) does not panic.
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
//! larger sessions fail with [`Error::TooLarge`](crate::session::Error::TooLarge));
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
//! Every call runs on the engine's own threads, one per pooled connection
//! (`pool_size`), through an r2d2 pool that connects lazily (start-up never
//! waits for the database unless `create_table` is on); a connection the
//! server killed is replaced and the call run again. Release writes the
//! request's view of the session in one
//! `UPDATE ... WHERE session_expiry = <the expiry it loaded>`: every write
//! and touch moves the expiry forward (by 1 ms at least), so the expiry is
//! the row's version and the update lands only if nobody wrote in between.
//! Otherwise (another request wrote or touched it, or it was destroyed or
//! expired) release merges this request's changes into the stored row
//! under `SELECT ... FOR UPDATE` (connections run at READ COMMITTED, so
//! these locks take no gap locks); with `sessionstoreformat = beego`, whose
//! table beego writes too, it always does. (An older actix-bee
//! writing the same table moves the expiry without that step, so a write
//! of its in the same millisecond as one a request loaded can go unseen:
//! upgrade the app servers on one table together.) Creation is an `INSERT` on the
//! primary key (a live duplicate is [`Error::IdCollision`](crate::session::Error::IdCollision),
//! an expired one is replaced); regeneration inserts the new id and deletes
//! the old one in one transaction; GC deletes expired rows 1,000 at a time.
//! Unreachable servers give [`Error::Backend`](crate::session::Error::Backend)
//! within the connect timeout. Corrupt `session_data` is reported as
//! [`Error::Corrupt`](crate::session::Error::Corrupt); the manager starts a fresh session.

mod conn;
mod dsn;
mod name;
mod tls;

use self::conn::{ConnManager, MysqlBackend};
use self::name::NAME;
use super::options::redact_userinfo;
use super::pool::build_pool;
use super::statements::Dialect;
use super::{Connected, Driver, Sql};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::Result;

pub(crate) use self::dsn::secrets;

/// The table definition, with `` `session` `` replaced by the configured table.
fn ddl(table: &str) -> String {
    include_str!("../../../../../sql/mysql.sql").replace("`session`", &format!("`{table}`"))
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
        let (builder, options, tls) = dsn::parse_dsn(config)?;
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

    #[test]
    fn ddl_follows_the_table() {
        let sql = ddl("web_session");
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS `web_session`"));
        assert!(!sql.contains("`session`"));
    }
}
