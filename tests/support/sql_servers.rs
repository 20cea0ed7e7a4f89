//! TLS-only PostgreSQL and MariaDB servers that live as long as the test
//! process, each on a free port of 127.0.0.1 and of [`WRONG_HOST`] (an
//! address the certificates do not cover). One `initdb` and one
//! `mariadb-install-db` are copied for every instance: they take seconds.
//!
//! - PostgreSQL: `hostssl` lines only; `pqgotest`/`password` (scram),
//!   `pqcert` by client certificate; databases `test` and `pqgotest`.
//! - MariaDB: `require_secure_transport=ON`; `actixbee`/`actixbee` and
//!   `actixbee_x509` (`REQUIRE X509`); database `test`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::certs::{pki, Signer, CLIENT_CN};
use super::kv::WRONG_HOST;
use super::launch::{
    free_port_on, is_root, mariadbd, pg_bindir, program, run, shared_dir, succeeds, user_ids,
    Shared,
};

/// The PostgreSQL role that logs in with a password, and its database.
pub const PG_USER: &str = "pqgotest";
/// Its password.
pub const PG_PASSWORD: &str = "password";
/// The MariaDB user that logs in with a password.
pub const MYSQL_USER: &str = "actixbee";
/// The MariaDB user that needs a client certificate too.
pub const MYSQL_X509_USER: &str = "actixbee_x509";
/// Both MariaDB users' password.
pub const MYSQL_PASSWORD: &str = "actixbee";

fn free_port() -> u16 {
    free_port_on(&[WRONG_HOST])
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

// --------------------------------------------------------------- postgresql

/// The `postgres` system user when the tests run as root (PostgreSQL
/// refuses to run as root).
fn pg_owner() -> Option<(u32, u32)> {
    is_root().then(|| user_ids("postgres"))
}

fn as_pg_owner(program: PathBuf) -> Command {
    let mut c = Command::new(program);
    if let Some((uid, gid)) = pg_owner() {
        use std::os::unix::process::CommandExt as _;
        c.uid(uid).gid(gid);
    }
    c
}

fn chown(dir: &Path, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).expect("chown");
    }
}

/// One `initdb`, copied for each instance (it takes seconds).
fn pg_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = shared_dir("pg-template");
        chown(&dir, pg_owner());
        let data = dir.join("data");
        run(
            as_pg_owner(pg_bindir().join("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=reject",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                    "--no-instructions",
                ]),
            "initdb",
        );
        data
    })
}

/// `psql` as `postgres` through the instance's unix socket in `dir`.
fn pg_admin(dir: &Path, port: u16, db: &str) -> Command {
    let mut c = program("psql", "postgresql-client");
    c.args(["-h", &path(dir), "-p", &port.to_string(), "-U", "postgres"])
        .args(["-d", db, "-v", "ON_ERROR_STOP=1", "-Atq"]);
    c
}

/// Starts a TLS-only PostgreSQL presenting `signer`'s certificate: its port.
pub fn postgres(signer: Signer) -> u16 {
    let template = pg_template();
    let port = free_port();
    let dir = shared_dir(&format!("postgres-{port}"));
    let owner = pg_owner();
    chown(&dir, owner);
    let data = dir.join("data");
    run(
        Command::new("cp").arg("-a").arg(template).arg(&data),
        "copy the PostgreSQL template",
    );
    let installed = pki().install(&dir, signer, owner);
    let conf = format!(
        "\nlisten_addresses = '127.0.0.1,{WRONG_HOST}'\nport = {port}\n\
         unix_socket_directories = '{}'\nssl = on\nssl_cert_file = '{}'\n\
         ssl_key_file = '{}'\nssl_ca_file = '{}'\n\
         password_encryption = scram-sha-256\nfsync = off\n\
         synchronous_commit = off\nfull_page_writes = off\n\
         shared_buffers = 16MB\nmax_connections = 60\nlogging_collector = off\n",
        path(&dir),
        path(&installed.cert),
        path(&installed.key),
        path(&dir.join("ca.pem")),
    );
    let append = |file: &str, text: &str| {
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join(file))
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .expect("write PostgreSQL's config");
    };
    append("postgresql.conf", &conf);
    // TLS only: no `host` or `hostnossl` line.
    std::fs::write(
        data.join("pg_hba.conf"),
        format!(
            "local all postgres trust\n\
             hostssl all {CLIENT_CN} 127.0.0.1/32 cert\n\
             hostssl all {CLIENT_CN} {WRONG_HOST}/32 cert\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostssl all all {WRONG_HOST}/32 scram-sha-256\n"
        ),
    )
    .expect("write pg_hba.conf");
    let mut command = as_pg_owner(pg_bindir().join("postgres"));
    command.arg("-D").arg(&data);
    let server = Shared::spawn(&format!("TLS PostgreSQL on {port}"), &dir, command);
    server.wait(|| succeeds(pg_admin(&dir, port, "postgres").args(["-c", "select 1"])));
    run(
        pg_admin(&dir, port, "postgres").args([
            "-c",
            &format!("create role {PG_USER} login password '{PG_PASSWORD}'"),
            "-c",
            &format!("create role {CLIENT_CN} login"),
            "-c",
            &format!("create database test owner {PG_USER}"),
            "-c",
            &format!("create database {PG_USER} owner {PG_USER}"),
        ]),
        "PostgreSQL roles and databases",
    );
    for db in ["test", PG_USER] {
        run(
            pg_admin(&dir, port, db)
                .args(["-c", &format!("grant all on schema public to {CLIENT_CN}")]),
            "PostgreSQL grants",
        );
    }
    port
}

// ------------------------------------------------------------------ mariadb

/// One `mariadb-install-db`, copied for each instance (it takes seconds).
fn mariadb_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let data = shared_dir("mariadb-template").join("data");
        run(
            program("mariadb-install-db", "mariadb-server")
                .arg("--no-defaults")
                .arg(format!("--datadir={}", path(&data)))
                .args([
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ]),
            "mariadb-install-db",
        );
        data
    })
}

/// `mariadb` as root through the instance's unix socket.
fn mariadb_admin(socket: &Path, sql: &str) -> Command {
    let mut c = program("mariadb", "mariadb-client");
    c.arg("--no-defaults")
        .arg(format!("--socket={}", path(socket)))
        .args(["-u", "root", "-e", sql]);
    c
}

/// Starts a TLS-only MariaDB presenting `signer`'s certificate: its port.
pub fn mariadb(signer: Signer) -> u16 {
    let template = mariadb_template();
    let port = free_port();
    let dir = shared_dir(&format!("mariadb-{port}"));
    let data = dir.join("data");
    run(
        Command::new("cp").arg("-a").arg(template).arg(&data),
        "copy the MariaDB template",
    );
    let installed = pki().install(&dir, signer, None);
    let socket = dir.join("sock");
    let mut command = mariadbd();
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", path(&data)))
        .arg(format!("--socket={}", path(&socket)))
        .arg(format!("--pid-file={}", path(&dir.join("pid"))))
        .arg(format!("--port={port}"))
        .arg(format!("--bind-address=127.0.0.1,{WRONG_HOST}"))
        .arg(format!("--ssl-ca={}", path(&dir.join("ca.pem"))))
        .arg(format!("--ssl-cert={}", path(&installed.cert)))
        .arg(format!("--ssl-key={}", path(&installed.key)))
        .args([
            "--user=root",
            "--require-secure-transport=ON",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--performance-schema=OFF",
            "--innodb-buffer-pool-size=16M",
            "--innodb-flush-log-at-trx-commit=0",
            "--max-connections=100",
        ]);
    let server = Shared::spawn(&format!("TLS MariaDB on {port}"), &dir, command);
    server.wait(|| succeeds(&mut mariadb_admin(&socket, "select 1")));
    run(
        &mut mariadb_admin(
            &socket,
            &format!(
                "create database if not exists test;\
                 create user '{MYSQL_USER}'@'%' identified by '{MYSQL_PASSWORD}';\
                 grant all on test.* to '{MYSQL_USER}'@'%';\
                 create user '{MYSQL_X509_USER}'@'%' identified by '{MYSQL_PASSWORD}' require x509;\
                 grant all on test.* to '{MYSQL_X509_USER}'@'%';\
                 flush privileges;"
            ),
        ),
        "MariaDB users",
    );
    port
}
