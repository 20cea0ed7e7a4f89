//! TLS to every networked engine, against TLS-only servers of the tests'
//! own (`support/servers.rs`: test CA, rogue CA, client certificate).
//! Each engine: a session round trip over verified TLS, a certificate the
//! CA did not sign (the rogue servers), a host name the certificate does
//! not cover (127.0.0.2), and TLS turned off against a TLS-only server.
//!
//! Each server starts on the first test that needs it and stops with the
//! test process. A missing program or a server that does not start fails
//! these tests; they never skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/deadline.rs"]
mod deadline;
#[path = "support/servers.rs"]
mod servers;

use std::time::Duration;

use actix_bee::session::{Error, Manager, ManagerConfig, RequestIds};
use deadline::within;

/// Start-up and round trips finish well within this, failures included.
const LIMIT: Duration = Duration::from_secs(20);

const HOWTO: &str = "the TLS test servers are started by support/servers.rs";

/// A setting of the TLS test servers (see [`servers::tls`]),
/// starting the server it names if needed.
fn env(name: &str) -> String {
    servers::tls(name)
}

fn ca() -> String {
    env("CA")
}

/// The port of a `*_ADDR` setting (`host:port`).
fn port(name: &str) -> u16 {
    let addr = env(name);
    addr.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("{name}={addr} is not host:port"))
}

/// The error with its sources, as one line.
fn chain(err: &Error) -> String {
    let mut out = err.to_string();
    let mut next = std::error::Error::source(err);
    while let Some(e) = next {
        out.push_str(" | ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

async fn start(engine: &str, config: &str) -> Result<Manager, Error> {
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = config.to_owned();
    within(
        LIMIT,
        &format!("{engine} start-up"),
        Manager::new(engine, cfg),
    )
    .await
}

/// Starts `engine`, stores a value, releases, reads it back in a second
/// request and destroys the session.
async fn round_trip(engine: &str, config: &str) {
    let m = start(engine, config)
        .await
        .unwrap_or_else(|e| panic!("{engine} over TLS did not start ({HOWTO}): {}", chain(&e)));
    within(LIMIT, &format!("{engine} round trip"), async {
        let s = m.session_start(&RequestIds::default()).await.unwrap();
        s.set("transport", "tls").await.unwrap();
        let cookie = m.session_release(&s).await.unwrap().cookie.unwrap().value;
        let ids = RequestIds {
            cookie: Some(&cookie),
            ..Default::default()
        };
        let s = m.session_start(&ids).await.unwrap();
        assert_eq!(
            s.get::<String>("transport").await.unwrap().as_deref(),
            Some("tls"),
            "{engine}: the session did not come back"
        );
        m.session_destroy(&s).await.unwrap();
    })
    .await;
}

/// Start-up must fail, with an error whose chain holds every one of `words`.
/// Each test calls it only after a [`round_trip`] (or a TLS exchange of its
/// own) with the same server has proved that the server answers, so that a
/// refusal is the one under test, never a server that is not there.
async fn refused(engine: &str, config: &str, words: &[&str]) -> Error {
    let err = match start(engine, config).await {
        Ok(_) => panic!("{engine} started with {config}: it should have failed"),
        Err(e) => e,
    };
    let text = chain(&err);
    for word in words {
        assert!(text.contains(word), "{engine}: {word:?} not in: {text}");
    }
    err
}

// ---------------------------------------------------------------- postgresql

/// The TLS PostgreSQL server's URL with `query` (the DSN's parameters).
fn pg_url(host: &str, port_var: &str, query: &str) -> String {
    format!(
        "postgres://pqgotest:password@{host}:{}/pqgotest?table=tls_session&connect_timeout=5&{query}",
        port(port_var)
    )
}

/// The spec's example as written, with the test server's port and CA added.
#[actix_rt::test]
async fn postgresql_spec_example_verify_full() {
    let spec = "postgres://pqgotest:password@localhost/pqgotest?sslmode=verify-full";
    let config = format!(
        "{}&sslrootcert={}",
        spec.replace(
            "@localhost/",
            &format!("@localhost:{}/", port("POSTGRES_ADDR"))
        ),
        ca()
    );
    round_trip("postgresql", &config).await;
    // And the URL the test servers give for it.
    round_trip("postgresql", &env("POSTGRES_URL")).await;
}

#[actix_rt::test]
async fn postgresql_conninfo_verify_full_and_verify_ca() {
    let p = port("POSTGRES_ADDR");
    let base =
        format!("user=pqgotest password=password dbname=pqgotest port={p} table=tls_session");
    round_trip(
        "postgresql",
        &format!(
            "host=localhost {base} sslmode=verify-full sslrootcert='{}'",
            ca()
        ),
    )
    .await;
    // verify-ca does not check the name: 127.0.0.2 is fine.
    round_trip(
        "postgresql",
        &format!(
            "host={} {base} sslmode=verify-ca sslrootcert={}",
            env("WRONG_HOST"),
            ca()
        ),
    )
    .await;
}

#[actix_rt::test]
async fn postgresql_require_encrypts_without_checking() {
    // lib/pq: require (and unset) without a root certificate encrypts
    // without verification, so even the rogue server is accepted...
    round_trip(
        "postgresql",
        &pg_url("localhost", "POSTGRES_ROGUE_ADDR", "sslmode=require"),
    )
    .await;
    round_trip("postgresql", &pg_url("localhost", "POSTGRES_ADDR", "")).await;
    // ...but require with sslrootcert is verify-ca.
    refused(
        "postgresql",
        &pg_url(
            "localhost",
            "POSTGRES_ROGUE_ADDR",
            &format!("sslmode=require&sslrootcert={}", ca()),
        ),
        &[
            "TLS handshake",
            "not signed by a trusted CA",
            "sslmode=require",
        ],
    )
    .await;
}

#[actix_rt::test]
async fn postgresql_rogue_certificate_is_refused() {
    // The rogue server answers: trusting its own CA, it is verified.
    round_trip(
        "postgresql",
        &pg_url(
            "localhost",
            "POSTGRES_ROGUE_ADDR",
            &format!("sslmode=verify-full&sslrootcert={}", env("ROGUE_CA")),
        ),
    )
    .await;
    let err = refused(
        "postgresql",
        &pg_url(
            "localhost",
            "POSTGRES_ROGUE_ADDR",
            &format!("sslmode=verify-full&sslrootcert={}", ca()),
        ),
        &[
            "TLS handshake",
            "not signed by a trusted CA",
            "sslmode=verify-full",
            &ca(),
        ],
    )
    .await;
    assert!(
        err.is_transient(),
        "a connection failure is a backend error"
    );
}

#[actix_rt::test]
async fn postgresql_wrong_host_name_is_refused_under_verify_full() {
    let wrong = env("WRONG_HOST");
    // The server answers at that address: verify-ca does not check names.
    round_trip(
        "postgresql",
        &pg_url(
            &wrong,
            "POSTGRES_ADDR",
            &format!("sslmode=verify-ca&sslrootcert={}", ca()),
        ),
    )
    .await;
    let err = refused(
        "postgresql",
        &pg_url(
            &wrong,
            "POSTGRES_ADDR",
            &format!("sslmode=verify-full&sslrootcert={}", ca()),
        ),
        &["TLS handshake", "not valid for the host name", &wrong],
    )
    .await;
    assert!(err.is_transient(), "{}", chain(&err));
}

/// The verified TLS PostgreSQL server answers a session round trip.
async fn postgresql_answers() {
    round_trip(
        "postgresql",
        &pg_url(
            "localhost",
            "POSTGRES_ADDR",
            &format!("sslmode=verify-full&sslrootcert={}", ca()),
        ),
    )
    .await;
}

#[actix_rt::test]
async fn postgresql_disable_against_a_tls_only_server_fails_clearly() {
    postgresql_answers().await;
    let err = refused(
        "postgresql",
        &pg_url("localhost", "POSTGRES_ADDR", "sslmode=disable"),
        &["without TLS", "sslmode=disable", "no encryption"],
    )
    .await;
    assert!(err.is_transient(), "{}", chain(&err));
}

#[actix_rt::test]
async fn postgresql_client_certificate_login() {
    let p = port("POSTGRES_ADDR");
    round_trip(
        "postgresql",
        &format!(
            "postgres://pqcert@localhost:{p}/test?table=tls_session&sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
            ca(),
            env("CLIENT_CERT"),
            env("CLIENT_KEY")
        ),
    )
    .await;
}

#[actix_rt::test]
async fn postgresql_missing_files_are_config_errors() {
    postgresql_answers().await;
    let err = refused(
        "postgresql",
        &pg_url(
            "localhost",
            "POSTGRES_ADDR",
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ),
        &["sslrootcert", "/nonexistent/ca.pem"],
    )
    .await;
    assert!(err.is_config(), "{err}");
    let err = refused(
        "postgresql",
        &pg_url("localhost", "POSTGRES_ADDR", "sslmode=verify-full"),
        &["needs sslrootcert"],
    )
    .await;
    assert!(err.is_config(), "{err}");
}

// --------------------------------------------------------------------- redis

/// `host:port` of the TLS Redis URL `var` (`rediss://host:port/`).
fn redis_addr(var: &str) -> String {
    let url = env(var);
    url.trim_start_matches("rediss://")
        .trim_end_matches('/')
        .to_owned()
}

/// A key prefix of this test run's own.
fn prefix(test: &str) -> String {
    format!("actix-bee:tls:{test}:{}:", std::process::id())
}

#[actix_rt::test]
async fn redis_round_trip_in_every_config_shape() {
    let (addr, ca) = (redis_addr("REDIS_URL"), ca());
    let p = prefix("shapes");
    round_trip(
        "redis",
        &format!("{}?tls_ca_file={ca}&key_prefix={p}", env("REDIS_URL")),
    )
    .await;
    round_trip(
        "redis",
        &format!(r#"{{"save_path":"{addr}","tls":true,"tls_ca_file":"{ca}","key_prefix":"{p}"}}"#),
    )
    .await;
    round_trip(
        "redis",
        &format!(r#"{{"save_path":"rediss://{addr}","tls_ca_file":"{ca}","key_prefix":"{p}"}}"#),
    )
    .await;
    // beego's comma list: key=value fields after the password.
    round_trip("redis", &format!("{addr},10,,0,tls=true,tls_ca_file={ca}")).await;
}

#[actix_rt::test]
async fn redis_client_certificate() {
    let url = env("REDIS_MTLS_URL");
    round_trip(
        "redis",
        &format!(
            "{url}?tls_ca_file={}&tls_cert_file={}&tls_key_file={}&key_prefix={}",
            ca(),
            env("CLIENT_CERT"),
            env("CLIENT_KEY"),
            prefix("mtls")
        ),
    )
    .await;
    refused(
        "redis",
        &format!(
            "{url}?tls_ca_file={}&max_retries=0&connect_timeout=3s",
            ca()
        ),
        &["requires a client certificate"],
    )
    .await;
}

#[actix_rt::test]
async fn redis_rogue_certificate_and_wrong_host_are_refused() {
    // The rogue server answers: trusting its own CA, it is verified.
    round_trip(
        "redis",
        &format!(
            "{}?tls_ca_file={}&key_prefix={}",
            env("REDIS_ROGUE_URL"),
            env("ROGUE_CA"),
            prefix("rogue")
        ),
    )
    .await;
    let err = refused(
        "redis",
        &format!(
            "{}?tls_ca_file={}&max_retries=0&connect_timeout=3s",
            env("REDIS_ROGUE_URL"),
            ca()
        ),
        &["TLS handshake", "not signed by a trusted CA", &ca()],
    )
    .await;
    assert!(err.is_transient(), "{}", chain(&err));
    let port = redis_addr("REDIS_URL")
        .rsplit_once(':')
        .unwrap()
        .1
        .to_owned();
    let wrong = env("WRONG_HOST");
    // The server answers at that address (encryption only: no name check).
    round_trip(
        "redis",
        &format!(
            "rediss://{wrong}:{port}/?tls_skip_verify=true&key_prefix={}",
            prefix("wrong-host")
        ),
    )
    .await;
    let err = refused(
        "redis",
        &format!(
            "rediss://{wrong}:{port}/?tls_ca_file={}&max_retries=0&connect_timeout=3s",
            ca()
        ),
        &["TLS handshake", "not valid for the host name", &wrong],
    )
    .await;
    assert!(err.is_transient(), "{}", chain(&err));
    // tls_skip_verify: encryption only, the rogue server is accepted.
    round_trip(
        "redis",
        &format!(
            "{}?tls_skip_verify=true&key_prefix={}",
            env("REDIS_ROGUE_URL"),
            prefix("skip")
        ),
    )
    .await;
}

#[actix_rt::test]
async fn redis_plain_text_against_a_tls_port_fails_clearly() {
    let addr = redis_addr("REDIS_URL");
    // The server answers TLS (start-up PINGs it)...
    round_trip(
        "redis",
        &format!(
            "{}?tls_ca_file={}&key_prefix={}",
            env("REDIS_URL"),
            ca(),
            prefix("plain")
        ),
    )
    .await;
    // ...and closes a plain-text connection, which the error explains.
    let err = refused(
        "redis",
        &format!("redis://{addr}/?max_retries=0&connect_timeout=3s&response_timeout=3s"),
        &[
            &format!("redis: {addr} closed the connection"),
            "the server may expect TLS: use rediss://",
        ],
    )
    .await;
    assert!(err.is_transient(), "{}", chain(&err));
    let err = refused(
        "redis",
        &format!("redis://{addr}/?tls_ca_file={}", ca()),
        &["need TLS"],
    )
    .await;
    assert!(err.is_config());
    let err = refused(
        "redis",
        &format!("{}?tls_ca_file=/nonexistent/ca.pem", env("REDIS_URL")),
        &["tls_ca_file", "/nonexistent/ca.pem"],
    )
    .await;
    assert!(err.is_config());
}

#[actix_rt::test]
async fn redis_cluster_over_tls() {
    let nodes = env("REDIS_CLUSTER_NODES");
    let ca = ca();
    round_trip(
        "redis_cluster",
        &format!(
            "rediss://{nodes}/?tls_ca_file={ca}&key_prefix={}",
            prefix("cluster")
        ),
    )
    .await;
    round_trip(
        "redis_cluster",
        &format!(
            r#"{{"save_path":"{}","tls":true,"tls_ca_file":"{ca}","key_prefix":"{}"}}"#,
            nodes.replace(',', ";"),
            prefix("cluster-json")
        ),
    )
    .await;
    // Trusting only the rogue CA: the real nodes' certificates fail.
    refused(
        "redis_cluster",
        &format!(
            "rediss://{nodes}/?tls_ca_file={}&max_retries=0&connect_timeout=3s",
            env("ROGUE_CA")
        ),
        &["not signed by a trusted CA"],
    )
    .await;
    let wrong = nodes.replace("localhost", &env("WRONG_HOST"));
    refused(
        "redis_cluster",
        &format!("rediss://{wrong}/?tls_ca_file={ca}&max_retries=0&connect_timeout=3s"),
        &["not valid for the host name"],
    )
    .await;
}

#[actix_rt::test]
async fn redis_sentinel_over_tls_to_sentinels_and_master() {
    let sentinels = env("SENTINELS");
    let master = env("SENTINEL_MASTER");
    let ca = ca();
    round_trip(
        "redis_sentinel",
        &format!(
            "rediss://{sentinels}/?master_name={master}&tls_ca_file={ca}&key_prefix={}",
            prefix("sentinel")
        ),
    )
    .await;
    round_trip(
        "redis_sentinel",
        &format!(
            "{},10,,0,{master},tls=true,tls_ca_file={ca}",
            sentinels.replace(',', ";")
        ),
    )
    .await;
    refused(
        "redis_sentinel",
        &format!(
            "rediss://{sentinels}/?master_name={master}&tls_ca_file={}&connect_timeout=3s",
            env("ROGUE_CA")
        ),
        &["not signed by a trusted CA"],
    )
    .await;
    let wrong = sentinels.replace("localhost", &env("WRONG_HOST"));
    refused(
        "redis_sentinel",
        &format!("rediss://{wrong}/?master_name={master}&tls_ca_file={ca}&connect_timeout=3s"),
        &["not valid for the host name"],
    )
    .await;
}

// ------------------------------------------------------------------ memcache

/// `version` over verified TLS to the TLS memcached at `addr`: its answer.
fn memcache_tls_version(addr: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(ca()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = addr.rsplit_once(':').unwrap().0.to_owned();
    let name = rustls::pki_types::ServerName::try_from(host).unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr)
        .unwrap_or_else(|e| panic!("TLS memcached at {addr} unreachable ({HOWTO}): {e}"));
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"version\r\n").unwrap();
    let mut answer = [0u8; 64];
    let n = tls.read(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[actix_rt::test]
async fn memcache_tls_is_refused_naming_openssl() {
    let addr = env("MEMCACHE_ADDR");
    // The TLS memcached answers a verified TLS client...
    let answer = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || memcache_tls_version(&addr)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("VERSION "), "{answer:?}");
    // ...and the engine refuses TLS before connecting, saying why.
    let err = refused(
        "memcache",
        &format!("memcache+tls://{addr}"),
        &["memcache+tls", "OpenSSL"],
    )
    .await;
    assert!(err.is_config());
}

// --------------------------------------------------------------------- mysql

/// go-sql-driver DSN to the TLS MariaDB at `addr_var` with `query`.
fn mysql_dsn(user: &str, host: &str, addr_var: &str, query: &str) -> String {
    format!(
        "{user}:{}@tcp({host}:{})/test?table=tls_session&connect_timeout=5s&{query}",
        env("MYSQL_PASSWORD"),
        port(addr_var)
    )
}

/// Our own verified-TLS connection to the TLS MariaDB.
fn mysql_raw() -> mysql::Conn {
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some(env("HOST")))
        .tcp_port(port("MYSQL_ADDR"))
        .user(Some(env("MYSQL_USER")))
        .pass(Some(env("MYSQL_PASSWORD")))
        .db_name(Some("test"))
        .prefer_socket(false)
        .ssl_opts(Some(
            mysql::SslOpts::default().with_root_cert_path(Some(std::path::PathBuf::from(ca()))),
        ));
    mysql::Conn::new(opts).unwrap_or_else(|e| panic!("TLS MariaDB unreachable ({HOWTO}): {e}"))
}

#[actix_rt::test]
async fn mysql_tls_true_with_a_ca_in_both_forms_stays_on_tcp() {
    let user = env("MYSQL_USER");
    let query = format!("tls=true&tls-ca={}", ca());
    let m = start(
        "mysql",
        &mysql_dsn(&user, "localhost", "MYSQL_ADDR", &query),
    )
    .await
    .unwrap_or_else(|e| panic!("mysql over TLS did not start ({HOWTO}): {}", chain(&e)));
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("transport", "tls").await.unwrap();
    m.session_release(&s).await.unwrap();
    // The engine's pooled connection is TCP ("host:port"), not the unix
    // socket ("localhost") the driver's prefer_socket would move it to.
    let hosts: Vec<String> = tokio::task::spawn_blocking(move || {
        use mysql::prelude::Queryable;
        mysql_raw()
            .query(
                "SELECT HOST FROM information_schema.PROCESSLIST \
                 WHERE USER = 'actixbee' AND ID <> CONNECTION_ID()",
            )
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        !hosts.is_empty(),
        "the engine's connection is not in the process list"
    );
    assert!(
        hosts.iter().all(|h| h.contains(':')),
        "a connection went through the unix socket: {hosts:?}"
    );
    drop(m);
    round_trip(
        "mysql",
        &mysql_dsn(&user, "localhost", "MYSQL_ADDR", &query),
    )
    .await;
    round_trip(
        "mysql",
        &format!("{}?table=tls_session&{query}", env("MYSQL_URL")),
    )
    .await;
    // tls-ca alone means tls=true.
    round_trip(
        "mysql",
        &mysql_dsn(
            &user,
            "localhost",
            "MYSQL_ADDR",
            &format!("tls-ca={}", ca()),
        ),
    )
    .await;
}

#[actix_rt::test]
async fn mysql_client_certificate_and_lax_modes() {
    round_trip(
        "mysql",
        &mysql_dsn(
            &env("MYSQL_X509_USER"),
            "localhost",
            "MYSQL_ADDR",
            &format!(
                "tls=true&tls-ca={}&tls-cert={}&tls-key={}",
                ca(),
                env("CLIENT_CERT"),
                env("CLIENT_KEY")
            ),
        ),
    )
    .await;
    let user = env("MYSQL_USER");
    // skip-verify: encryption only, even with the rogue certificate.
    round_trip(
        "mysql",
        &mysql_dsn(&user, "localhost", "MYSQL_ROGUE_ADDR", "tls=skip-verify"),
    )
    .await;
    round_trip(
        "mysql",
        &mysql_dsn(&user, "localhost", "MYSQL_ADDR", "tls=preferred"),
    )
    .await;
}

#[actix_rt::test]
async fn mysql_rogue_certificate_and_wrong_host_are_refused() {
    let user = env("MYSQL_USER");
    // The rogue server answers: trusting its own CA, it is verified.
    round_trip(
        "mysql",
        &mysql_dsn(
            &user,
            "localhost",
            "MYSQL_ROGUE_ADDR",
            &format!("tls=true&tls-ca={}", env("ROGUE_CA")),
        ),
    )
    .await;
    let query = format!("tls=true&tls-ca={}", ca());
    let err = refused(
        "mysql",
        &mysql_dsn(&user, "localhost", "MYSQL_ROGUE_ADDR", &query),
        &["TLS handshake", "not signed by a trusted CA", &ca()],
    )
    .await;
    assert!(err.is_transient(), "{}", chain(&err));
    let wrong = env("WRONG_HOST");
    // The server answers at that address (encryption only: no name check).
    round_trip(
        "mysql",
        &mysql_dsn(&user, &wrong, "MYSQL_ADDR", "tls=skip-verify"),
    )
    .await;
    let err = refused(
        "mysql",
        &mysql_dsn(&user, &wrong, "MYSQL_ADDR", &query),
        &["TLS handshake", "not valid for the host name", &wrong],
    )
    .await;
    assert!(err.is_transient(), "{}", chain(&err));
}

thread_local! {
    static LOGS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sends log lines to the calling thread's buffer: each test runs on its
/// own thread, and the engines log start-up warnings on the caller's.
struct ThreadLogs;

impl std::io::Write for ThreadLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.with(|l| l.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What this thread logged at WARN and above since the last call.
fn take_warnings() -> String {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| ThreadLogs)
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .try_init();
    });
    LOGS.with(|l| String::from_utf8_lossy(&std::mem::take(&mut *l.borrow_mut())).into_owned())
}

/// The mysql crate adds `tls-ca` to the public (Mozilla) roots it compiles
/// in and offers no way to leave them out, so `tls-ca` does not pin the
/// CA as PostgreSQL's `sslrootcert` does: start-up says so, every time it
/// is used; a certificate no trusted CA signed is still refused (the rogue
/// test above).
#[actix_rt::test]
async fn mysql_tls_ca_warns_that_it_adds_to_the_public_roots() {
    take_warnings();
    let user = env("MYSQL_USER");
    for dsn in [
        mysql_dsn(
            &user,
            "localhost",
            "MYSQL_ADDR",
            &format!("tls=true&tls-ca={}", ca()),
        ),
        format!("{}?table=tls_session&tls-ca={}", env("MYSQL_URL"), ca()),
    ] {
        round_trip("mysql", &dsn).await;
        let logs = take_warnings();
        for words in [
            "WARN",
            "tls-ca is added to the public CAs compiled into the mysql crate",
            "not used alone",
            &ca(),
        ] {
            assert!(logs.contains(words), "{words:?} not in: {logs}");
        }
    }
    // Without tls-ca (skip-verify), nothing to say.
    round_trip(
        "mysql",
        &mysql_dsn(&user, "localhost", "MYSQL_ADDR", "tls=skip-verify"),
    )
    .await;
    let logs = take_warnings();
    assert!(!logs.contains("tls-ca"), "{logs}");
}

#[actix_rt::test]
async fn mysql_tls_false_against_a_tls_only_server_fails_clearly() {
    let user = env("MYSQL_USER");
    // The server answers verified TLS.
    round_trip(
        "mysql",
        &mysql_dsn(
            &user,
            "localhost",
            "MYSQL_ADDR",
            &format!("tls=true&tls-ca={}", ca()),
        ),
    )
    .await;
    for query in ["tls=false", ""] {
        let err = refused(
            "mysql",
            &mysql_dsn(&user, "localhost", "MYSQL_ADDR", query),
            &["access denied", "tls=false", "set tls=true"],
        )
        .await;
        assert!(err.is_transient(), "{}", chain(&err));
    }
    let err = refused(
        "mysql",
        &mysql_dsn(
            &user,
            "localhost",
            "MYSQL_ADDR",
            "tls=true&tls-ca=/nonexistent/ca.pem",
        ),
        &["tls-ca", "/nonexistent/ca.pem"],
    )
    .await;
    assert!(err.is_config());
}
