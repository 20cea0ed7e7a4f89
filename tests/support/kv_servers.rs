//! Redis (single, cluster, sentinel group) and memcached, plain or
//! TLS-only, as servers that live as long as the test process.
//!
//! A TLS server listens on 127.0.0.1 and on [`WRONG_HOST`], an address
//! the certificate does not cover; a plain one on 127.0.0.1 only.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use super::certs::{pki, Signer};
use super::launch::{free_port_on, is_root, program, redis_cli, run, shared_dir, wait_for, Shared};

/// An address of the TLS servers that their certificates do not cover.
pub const WRONG_HOST: &str = "127.0.0.2";

/// The master name of the sentinel groups.
pub const SENTINEL_MASTER: &str = "mymaster";

/// How a TLS server is set up.
#[derive(Debug, Clone, Copy)]
pub struct Tls {
    /// Whose server certificate it presents.
    pub signer: Signer,
    /// Whether it requires a client certificate.
    pub client_auth: bool,
}

impl Tls {
    /// The test CA's certificate, no client certificate asked.
    pub const TEST_CA: Tls = Tls {
        signer: Signer::TestCa,
        client_auth: false,
    };
}

/// A free port for a server set up with `tls`.
fn free_port(tls: Option<Tls>) -> u16 {
    let also: &[&str] = if tls.is_some() { &[WRONG_HOST] } else { &[] };
    free_port_on(also)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `redis-cli` to 127.0.0.1:`port`; over TLS (trusting the CA of the
/// signer, presenting the client certificate) when `tls` is given.
pub fn cli(port: u16, tls: Option<Tls>, args: &[&str]) -> String {
    let Some(tls) = tls else {
        return redis_cli(port, args);
    };
    let pki = pki();
    let ca = path(pki.server(tls.signer).1);
    let (cert, key) = (path(&pki.client.cert), path(&pki.client.key));
    let mut all = vec!["--tls", "--cacert", &ca, "--cert", &cert, "--key", &key];
    all.extend_from_slice(args);
    redis_cli(port, &all)
}

/// Starts `program_name` (redis-server or redis-sentinel) with the `extra`
/// config lines, and waits until it answers PING: its port.
pub fn redis(program_name: &str, tls: Option<Tls>, extra: &str) -> u16 {
    let port = free_port(tls);
    let dir = shared_dir(&format!("{program_name}-{port}"));
    let listen = match tls {
        None => format!("port {port}\nbind 127.0.0.1\n"),
        Some(tls) => {
            let installed = pki().install(&dir, tls.signer, None);
            format!(
                "port 0\ntls-port {port}\nbind 127.0.0.1 {WRONG_HOST}\n\
                 tls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\n\
                 tls-auth-clients {}\ntls-replication yes\n",
                path(&installed.cert),
                path(&installed.key),
                path(&dir.join("ca.pem")),
                if tls.client_auth { "yes" } else { "no" },
            )
        }
    };
    // Nothing to keep: the servers die with the tests.
    let persistence = if program_name == "redis-server" {
        "save \"\"\nappendonly no\n"
    } else {
        ""
    };
    let config = format!("{listen}dir {}\n{persistence}{extra}", path(&dir));
    let conf = dir.join("redis.conf");
    std::fs::write(&conf, config).expect("write redis.conf");
    let mut command = program(program_name, "redis-server and redis-sentinel");
    command.arg(&conf);
    let what = if tls.is_some() { "TLS " } else { "" };
    let server = Shared::spawn(&format!("{what}{program_name} on {port}"), &dir, command);
    server.wait(|| cli(port, tls, &["ping"]).trim() == "PONG");
    port
}

/// A Redis Cluster of `masters` masters with `replicas` replicas each (TLS
/// on the cluster bus too when `tls` is given): its nodes' ports.
pub fn cluster(tls: Option<Tls>, masters: usize, replicas: usize) -> Vec<u16> {
    let mut config = "cluster-enabled yes\ncluster-config-file nodes.conf\n\
                      cluster-node-timeout 5000\n"
        .to_owned();
    if tls.is_some() {
        config.push_str("tls-cluster yes\n");
    }
    let count = masters * (1 + replicas);
    let ports: Vec<u16> = (0..count)
        .map(|_| redis("redis-server", tls, &config))
        .collect();
    let mut create = program("redis-cli", "redis-tools");
    if tls.is_some() {
        create.args(["--tls", "--cacert", &path(&pki().ca)]);
    }
    create.args(["--cluster", "create"]);
    create.args(ports.iter().map(|p| format!("127.0.0.1:{p}")));
    create.args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"]);
    run(&mut create, "redis-cli --cluster create");
    for &port in &ports {
        wait_for(&format!("cluster node {port} (cluster_state:ok)"), || {
            let info = cli(port, tls, &["cluster", "info"]);
            let known = format!("cluster_known_nodes:{count}");
            info.lines().any(|l| l.trim() == "cluster_state:ok")
                && info.lines().any(|l| l.trim() == known)
        });
    }
    ports
}

/// A master, its replica and three sentinels watching it as `mymaster`
/// (quorum 2).
#[derive(Debug)]
pub struct SentinelGroup {
    /// The master's port as started (a failover moves the role).
    pub master: u16,
    /// The replica's port as started.
    pub replica: u16,
    /// The sentinels' ports.
    pub sentinels: Vec<u16>,
}

/// Starts a sentinel group whose sentinels call the master down after
/// `down_after_ms` and then fail over.
pub fn sentinel_group(tls: Option<Tls>, down_after_ms: u32) -> SentinelGroup {
    let master = redis("redis-server", tls, "");
    let replica = redis(
        "redis-server",
        tls,
        &format!("replicaof 127.0.0.1 {master}\n"),
    );
    wait_for(&format!("replica {replica} in sync with {master}"), || {
        cli(replica, tls, &["info", "replication"]).contains("master_link_status:up")
    });
    let watch = format!(
        "sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master} 2\n\
         sentinel down-after-milliseconds {SENTINEL_MASTER} {down_after_ms}\n\
         sentinel failover-timeout {SENTINEL_MASTER} 10000\n\
         sentinel parallel-syncs {SENTINEL_MASTER} 1\n"
    );
    let sentinels: Vec<u16> = (0..3)
        .map(|_| redis("redis-sentinel", tls, &watch))
        .collect();
    for &port in &sentinels {
        wait_for(
            &format!("sentinel {port} (master, replica and 2 peers known)"),
            || {
                let ask = |what: &str| cli(port, tls, &["sentinel", what, SENTINEL_MASTER]);
                ask("get-master-addr-by-name").contains(&master.to_string())
                    && ask("replicas").contains(&replica.to_string())
                    && ask("sentinels")
                        .lines()
                        .filter(|l| l.trim() == "name")
                        .count()
                        == 2
            },
        );
    }
    SentinelGroup {
        master,
        replica,
        sentinels,
    }
}

/// A memcached of 64 MiB, TCP only; TLS-only with the test CA's
/// certificate when `tls`: its port.
pub fn memcached(tls: bool) -> u16 {
    let port = free_port(tls.then_some(Tls::TEST_CA));
    let dir = shared_dir(&format!("memcached-{port}"));
    let mut command = program("memcached", "memcached");
    command.args(["-p", &port.to_string(), "-U", "0", "-m", "64"]);
    if is_root() {
        command.args(["-u", "root"]);
    }
    if tls {
        let help = program("memcached", "memcached")
            .arg("-h")
            .output()
            .expect("memcached -h");
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("enable-ssl"),
            "this memcached is built without TLS (-Z): install Debian's memcached package"
        );
        let installed = pki().install(&dir, Signer::TestCa, None);
        command
            .args(["-l", &format!("127.0.0.1,{WRONG_HOST}"), "-Z", "-o"])
            .arg(format!(
                "ssl_chain_cert={},ssl_key={}",
                path(&installed.cert),
                path(&installed.key)
            ));
    } else {
        command.args(["-l", "127.0.0.1"]);
    }
    let what = if tls { "TLS memcached" } else { "memcached" };
    let server = Shared::spawn(&format!("{what} on {port}"), &dir, command);
    server.wait(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    port
}
