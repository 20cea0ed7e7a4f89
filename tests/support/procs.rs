//! Backend servers of the test's own, on free loopback ports in a temporary
//! directory, for faults played with real signals: `kill` is SIGKILL (and
//! `resume` starts the same server again on the same port and data
//! directory), `freeze` is SIGSTOP (and `resume` is SIGCONT). Signals go to
//! the server and its direct children: PostgreSQL's backends each call
//! `setsid`, so a process-group signal would miss them and a frozen
//! postmaster would leave open connections answering.
//!
//! Redis, MariaDB and PostgreSQL keep every acknowledged write across a
//! kill (Redis fsyncs its append-only file on every write; the databases
//! write their log before they answer, and a killed process loses nothing
//! the kernel already has). memcached keeps nothing (its [`Fault::durable`] is false).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Test binaries that use both procs.rs and servers.rs load it twice.
#[allow(clippy::duplicate_mod)]
#[path = "launch.rs"]
mod launch;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

pub use launch::{free_port, wait_for};
use launch::{is_root, mariadbd, pg_bindir, program, redis_cli, run, succeeds, user_ids};

use super::faults::Fault;

/// Runs `sql` as `postgres` on the server at `port` (database `postgres`).
fn psql(port: u16, sql: &str) -> std::process::Output {
    program("psql", "postgresql-client")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-c", sql])
        .output()
        .expect("psql")
}

/// One server process of the test's own.
pub struct ServerProc {
    name: &'static str,
    command: Box<dyn Fn() -> Command + Send + Sync>,
    ready: Box<dyn Fn(u16) -> bool + Send + Sync>,
    port: u16,
    durable: bool,
    child: Mutex<Option<Child>>,
    frozen: Mutex<bool>,
    dir: tempfile::TempDir,
}

impl ServerProc {
    fn spawn(
        name: &'static str,
        dir: tempfile::TempDir,
        port: u16,
        command: impl Fn() -> Command + Send + Sync + 'static,
        ready: impl Fn(u16) -> bool + Send + Sync + 'static,
    ) -> Self {
        let proc = ServerProc {
            name,
            command: Box::new(command),
            ready: Box::new(ready),
            port,
            durable: true,
            child: Mutex::new(None),
            frozen: Mutex::new(false),
            dir,
        };
        proc.start();
        proc
    }

    fn redis_config(dir: &Path, port: u16) -> String {
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsave \"\"\nappendonly yes\nappendfsync always\n",
            dir.display()
        )
    }

    fn redis_like(
        program: &'static str,
        dir: tempfile::TempDir,
        port: u16,
        config: String,
    ) -> Self {
        let path = dir.path().join("redis.conf");
        std::fs::write(&path, config).expect("write the config");
        Self::spawn(
            program,
            dir,
            port,
            move || {
                let mut c = launch::program(program, "redis-server and redis-sentinel");
                c.arg(&path);
                c
            },
            |port| {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
                    && redis_cli(port, &["ping"]).contains("PONG")
            },
        )
    }

    /// A plain Redis server.
    pub fn redis() -> ServerProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = Self::redis_config(dir.path(), port);
        Self::redis_like("redis-server", dir, port, config)
    }

    /// A one-node Redis cluster: this node owns every slot.
    pub fn redis_cluster_node() -> ServerProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = format!(
            "{}cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout 60000\n",
            Self::redis_config(dir.path(), port)
        );
        let node = Self::redis_like("redis-server", dir, port, config);
        redis_cli(port, &["cluster", "addslotsrange", "0", "16383"]);
        wait_for("the one-node cluster", || {
            redis_cli(port, &["cluster", "info"]).contains("cluster_state:ok")
        });
        node
    }

    /// A sentinel watching `master` under the name `name`; it never fails
    /// over (there is no replica), so faults of the master stay faults.
    pub fn redis_sentinel(master: &ServerProc, name: &str) -> ServerProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor {name} 127.0.0.1 {} 1\n\
             sentinel down-after-milliseconds {name} 60000\n",
            dir.path().display(),
            master.port
        );
        let sentinel = Self::redis_like("redis-sentinel", dir, port, config);
        wait_for("the sentinel", || {
            redis_cli(port, &["sentinel", "get-master-addr-by-name", name])
                .contains(&master.port.to_string())
        });
        sentinel
    }

    /// A memcached of 64 MiB. It keeps nothing across a kill.
    pub fn memcached() -> ServerProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut proc = Self::spawn(
            "memcached",
            dir,
            port,
            move || {
                let mut c = program("memcached", "memcached");
                c.args([
                    "-l",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-U",
                    "0",
                    "-m",
                    "64",
                ]);
                if is_root() {
                    c.args(["-u", "root"]);
                }
                c
            },
            |port| {
                use std::io::{Read, Write};
                let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                    return false;
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 64];
                s.write_all(b"version\r\n").is_ok()
                    && s.read(&mut buf)
                        .is_ok_and(|n| buf[..n].starts_with(b"VERSION"))
            },
        );
        proc.durable = false;
        proc
    }

    /// A MariaDB server (root without a password, database `test`).
    pub fn mariadb() -> ServerProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let data = dir.path().join("data");
        run(
            program("mariadb-install-db", "mariadb-server")
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .args(["--user=root", "--auth-root-authentication-method=normal"]),
            "mariadb-install-db",
        );
        let base = dir.path().to_owned();
        Self::spawn(
            "mariadbd",
            dir,
            port,
            move || {
                let mut c = mariadbd();
                c.arg("--no-defaults")
                    .arg(format!("--datadir={}", base.join("data").display()))
                    .arg(format!("--socket={}", base.join("sock").display()))
                    .arg(format!("--pid-file={}", base.join("pid").display()))
                    .arg(format!("--port={port}"))
                    .args([
                        "--bind-address=127.0.0.1",
                        "--user=root",
                        "--skip-log-bin",
                        "--innodb-buffer-pool-size=16M",
                        "--innodb-flush-log-at-trx-commit=2",
                    ]);
                c
            },
            |port| {
                succeeds(
                    program("mariadb", "mariadb-client")
                        .args(["--no-defaults", "--protocol=tcp", "-h", "127.0.0.1"])
                        .args(["-P", &port.to_string(), "-u", "root", "-e", "select 1"]),
                )
            },
        )
    }

    /// A PostgreSQL server (user `postgres`, trust, database `test`), run
    /// as the `postgres` system user when the tests run as root.
    pub fn postgres() -> ServerProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let bindir = pg_bindir();
        let owner = is_root().then(|| user_ids("postgres"));
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
        }
        let as_owner = move |program: PathBuf| {
            let mut c = Command::new(program);
            if let Some((uid, gid)) = owner {
                c.uid(uid).gid(gid);
            }
            c
        };
        let data = dir.path().join("data");
        run(
            as_owner(bindir.join("initdb")).arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-N",
            ]),
            "initdb",
        );
        let socket_dir = dir.path().to_owned();
        let server = Self::spawn(
            "postgres",
            dir,
            port,
            move || {
                let mut c = as_owner(bindir.join("postgres"));
                c.arg("-D").arg(&data).arg("-k").arg(&socket_dir).args([
                    "-p",
                    &port.to_string(),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                ]);
                c
            },
            |port| psql(port, "select 1").status.success(),
        );
        let created = psql(port, "create database test");
        assert!(
            created.status.success(),
            "create database test: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server and waits until it answers. A server that exits
    /// at once is started again: after a kill, a PostgreSQL backend that
    /// has not yet noticed its postmaster's death holds the shared memory
    /// for a moment.
    fn start(&self) {
        let spawn = || {
            (self.command)()
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{} could not start: {e}", self.name))
        };
        *self.child.lock().unwrap() = Some(spawn());
        let port = self.port;
        wait_for(self.name, || {
            let mut child = self.child.lock().unwrap();
            if let Some(c) = child.as_mut() {
                if c.try_wait().is_ok_and(|status| status.is_some()) {
                    std::thread::sleep(Duration::from_millis(200));
                    *child = Some(spawn());
                    return false;
                }
            }
            drop(child);
            (self.ready)(port)
        });
    }

    /// The server's pid and its direct children's.
    fn pids(&self) -> Vec<String> {
        let Some(pid) = self
            .child
            .lock()
            .unwrap()
            .as_ref()
            .map(|c| c.id().to_string())
        else {
            return Vec::new();
        };
        let out = program("pgrep", "procps")
            .args(["-P", &pid])
            .output()
            .expect("pgrep");
        let mut pids = vec![pid];
        pids.extend(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_owned),
        );
        pids
    }

    /// Sends `signal` to the server first (so that it forks no more), then
    /// to its children.
    fn signal(&self, signal: &str) {
        let pids = self.pids();
        if !pids.is_empty() {
            // A child may exit between the listing and the signal.
            let _ = Command::new("kill").arg(signal).args(&pids).status();
        }
    }
}

impl Fault for ServerProc {
    /// False for a server that keeps nothing across a kill (memcached).
    fn durable(&self) -> bool {
        self.durable
    }

    /// SIGKILL: every connection drops, new ones are refused.
    fn kill(&self) {
        if *self.frozen.lock().unwrap() {
            self.signal("-CONT");
            *self.frozen.lock().unwrap() = false;
        }
        self.signal("-KILL");
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.wait();
        }
    }

    /// SIGSTOP: connections stay open and nothing answers.
    fn freeze(&self) {
        self.signal("-STOP");
        *self.frozen.lock().unwrap() = true;
    }

    /// SIGCONT after a freeze; the same server again after a kill.
    fn resume(&self) {
        let frozen = std::mem::take(&mut *self.frozen.lock().unwrap());
        if frozen {
            self.signal("-CONT");
        }
        if self.child.lock().unwrap().is_none() {
            self.start();
        }
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill();
    }
}
