//! The servers the tests of one binary share, each started on the first
//! test that asks for it (so tests running side by side start different
//! servers side by side) and stopped when the test process ends (see
//! `launch.rs`). A test asks by name: [`setting`] for the plain servers,
//! [`tls`] for the TLS-only ones and the test PKI.
//!
//! The machine's PostgreSQL, MariaDB and Redis (5432, 3306, 6379) are not
//! here: they always run, and the tests read them from `ACTIX_BEE_*_URL`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "certs.rs"]
mod certs;
#[path = "kv_servers.rs"]
mod kv;
// Test binaries that use both procs.rs and servers.rs load it twice.
#[allow(clippy::duplicate_mod)]
#[path = "launch.rs"]
mod launch;
#[path = "sql_servers.rs"]
mod sql;

use std::path::Path;
use std::sync::OnceLock;

use certs::{pki, Signer, CLIENT_CN};
use kv::{SentinelGroup, Tls, SENTINEL_MASTER, WRONG_HOST};
use sql::{MYSQL_PASSWORD, MYSQL_USER, MYSQL_X509_USER, PG_PASSWORD, PG_USER};

/// The name the test certificates cover.
const HOST: &str = "localhost";

/// Sentinels of the plain group call a silent master down after this, so
/// that a failover test finishes in seconds.
const PLAIN_DOWN_AFTER_MS: u32 = 2_000;
/// The TLS group is never failed over: no test stops its master.
const TLS_DOWN_AFTER_MS: u32 = 60_000;

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `host:port,host:port,...`.
fn nodes(host: &str, ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| format!("{host}:{p}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Starts `start` once per process: its result.
macro_rules! once {
    ($ty:ty, $start:expr) => {{
        static CELL: OnceLock<$ty> = OnceLock::new();
        CELL.get_or_init(|| $start)
    }};
}

/// A plain server's address by name, starting it if needed:
///
/// - `REDIS_PRIVATE_URL`: a Redis of the binary's own (`redis://127.0.0.1:port/`);
/// - `REDIS_CLUSTER_NODES`: a cluster of 3 masters and 3 replicas;
/// - `SENTINELS`, `SENTINEL_MASTER`: a master, a replica and 3 sentinels
///   (quorum 2) that fail over 2 s after the master stops answering;
/// - `MEMCACHE_ADDR`: a memcached of 64 MiB, TCP only.
pub fn setting(name: &str) -> String {
    match name {
        "REDIS_PRIVATE_URL" => format!(
            "redis://127.0.0.1:{}/",
            once!(u16, kv::redis("redis-server", None, ""))
        ),
        "REDIS_CLUSTER_NODES" => nodes("127.0.0.1", once!(Vec<u16>, kv::cluster(None, 3, 1))),
        "SENTINELS" => nodes(
            "127.0.0.1",
            &once!(SentinelGroup, kv::sentinel_group(None, PLAIN_DOWN_AFTER_MS)).sentinels,
        ),
        "SENTINEL_MASTER" => SENTINEL_MASTER.to_owned(),
        "MEMCACHE_ADDR" => format!("127.0.0.1:{}", once!(u16, kv::memcached(false))),
        other => panic!("no test server setting {other}"),
    }
}

/// A TLS server's address, or a file of the test PKI, by name, starting
/// the server if needed. Certificates: `CA`, `ROGUE_CA`, `CLIENT_CERT`,
/// `CLIENT_KEY`. Names: `HOST` (covered by the certificates), `WRONG_HOST`
/// (the same servers, not covered). Servers (the `ROGUE` ones present a
/// certificate of the rogue CA): `POSTGRES_{ADDR,ROGUE_ADDR,URL,ROGUE_URL,CERT_URL}`,
/// `MYSQL_{ADDR,ROGUE_ADDR,URL,ROGUE_URL,USER,X509_USER,PASSWORD}`,
/// `REDIS_{URL,ROGUE_URL,MTLS_URL,CLUSTER_NODES}` (`MTLS` requires a client
/// certificate), `SENTINELS`, `SENTINEL_MASTER`, `MEMCACHE_ADDR`.
pub fn tls(name: &str) -> String {
    let pki = pki();
    let ca = path(&pki.ca);
    let postgres = |signer: Signer| match signer {
        Signer::TestCa => *once!(u16, sql::postgres(Signer::TestCa)),
        Signer::Rogue => *once!(u16, sql::postgres(Signer::Rogue)),
    };
    let mariadb = |signer: Signer| match signer {
        Signer::TestCa => *once!(u16, sql::mariadb(Signer::TestCa)),
        Signer::Rogue => *once!(u16, sql::mariadb(Signer::Rogue)),
    };
    let redis = |tls: Tls| {
        format!(
            "rediss://{HOST}:{}/",
            kv::redis("redis-server", Some(tls), "")
        )
    };
    let pg_url = |signer| {
        format!(
            "postgres://{PG_USER}:{PG_PASSWORD}@{HOST}:{}/{PG_USER}?sslmode=verify-full&sslrootcert={ca}",
            postgres(signer)
        )
    };
    let mysql_url = |signer| {
        format!(
            "mysql://{MYSQL_USER}:{MYSQL_PASSWORD}@{HOST}:{}/test",
            mariadb(signer)
        )
    };
    match name {
        "CA" => ca.clone(),
        "ROGUE_CA" => path(&pki.rogue_ca),
        "CLIENT_CERT" => path(&pki.client.cert),
        "CLIENT_KEY" => path(&pki.client.key),
        "HOST" => HOST.to_owned(),
        "WRONG_HOST" => WRONG_HOST.to_owned(),
        "POSTGRES_ADDR" => format!("{HOST}:{}", postgres(Signer::TestCa)),
        "POSTGRES_ROGUE_ADDR" => format!("{HOST}:{}", postgres(Signer::Rogue)),
        "POSTGRES_URL" => pg_url(Signer::TestCa),
        "POSTGRES_ROGUE_URL" => pg_url(Signer::Rogue),
        "POSTGRES_CERT_URL" => format!(
            "postgres://{CLIENT_CN}@{HOST}:{}/test?sslmode=verify-full&sslrootcert={ca}&sslcert={}&sslkey={}",
            postgres(Signer::TestCa),
            path(&pki.client.cert),
            path(&pki.client.key)
        ),
        "MYSQL_ADDR" => format!("{HOST}:{}", mariadb(Signer::TestCa)),
        "MYSQL_ROGUE_ADDR" => format!("{HOST}:{}", mariadb(Signer::Rogue)),
        "MYSQL_URL" => mysql_url(Signer::TestCa),
        "MYSQL_ROGUE_URL" => mysql_url(Signer::Rogue),
        "MYSQL_USER" => MYSQL_USER.to_owned(),
        "MYSQL_X509_USER" => MYSQL_X509_USER.to_owned(),
        "MYSQL_PASSWORD" => MYSQL_PASSWORD.to_owned(),
        "REDIS_URL" => once!(String, redis(Tls::TEST_CA)).clone(),
        "REDIS_ROGUE_URL" => once!(
            String,
            redis(Tls {
                signer: Signer::Rogue,
                client_auth: false,
            })
        )
        .clone(),
        "REDIS_MTLS_URL" => once!(
            String,
            redis(Tls {
                signer: Signer::TestCa,
                client_auth: true,
            })
        )
        .clone(),
        "REDIS_CLUSTER_NODES" => nodes(HOST, once!(Vec<u16>, kv::cluster(Some(Tls::TEST_CA), 3, 0))),
        "SENTINELS" => nodes(
            HOST,
            &once!(
                SentinelGroup,
                kv::sentinel_group(Some(Tls::TEST_CA), TLS_DOWN_AFTER_MS)
            )
            .sentinels,
        ),
        "SENTINEL_MASTER" => SENTINEL_MASTER.to_owned(),
        "MEMCACHE_ADDR" => format!("{HOST}:{}", once!(u16, kv::memcached(true))),
        other => panic!("no TLS test server setting {other}"),
    }
}
