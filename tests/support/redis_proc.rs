//! Redis servers of the test's own, on free loopback ports in a temporary
//! directory, for faults played with real signals: `kill` is SIGKILL (and
//! `resume` starts the same server again on the same port and directory),
//! `freeze` is SIGSTOP (and `resume` is SIGCONT). The data survives a kill:
//! the append-only file is fsynced on every write, so a write Redis
//! acknowledged is never lost.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::faults::Fault;

/// A free loopback port whose cluster bus port (+10000) is free too.
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("local addr")
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli (install redis-tools)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until `ready` holds, or panics after 20 s.
pub fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} not ready within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One `redis-server` (or `redis-sentinel`) process of the test's own.
pub struct RedisProc {
    program: &'static str,
    config: PathBuf,
    port: u16,
    child: Mutex<Option<Child>>,
    frozen: Mutex<bool>,
    _dir: tempfile::TempDir,
}

impl RedisProc {
    fn spawn_from(
        program: &'static str,
        dir: tempfile::TempDir,
        port: u16,
        config: String,
    ) -> Self {
        let path = dir.path().join("redis.conf");
        std::fs::write(&path, config).expect("write the config");
        let proc = RedisProc {
            program,
            config: path,
            port,
            child: Mutex::new(None),
            frozen: Mutex::new(false),
            _dir: dir,
        };
        proc.start();
        proc
    }

    fn base_config(dir: &Path, port: u16) -> String {
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsave \"\"\nappendonly yes\nappendfsync always\n",
            dir.display()
        )
    }

    /// A plain server.
    pub fn server() -> RedisProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = Self::base_config(dir.path(), port);
        Self::spawn_from("redis-server", dir, port, config)
    }

    /// A one-node cluster: this node owns every slot.
    pub fn cluster_node() -> RedisProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = format!(
            "{}cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout 60000\n",
            Self::base_config(dir.path(), port)
        );
        let node = Self::spawn_from("redis-server", dir, port, config);
        redis_cli(port, &["cluster", "addslotsrange", "0", "16383"]);
        wait_for("the one-node cluster", || {
            redis_cli(port, &["cluster", "info"]).contains("cluster_state:ok")
        });
        node
    }

    /// A sentinel watching `master` under the name `name`; it never fails
    /// over (there is no replica), so faults of the master stay faults.
    pub fn sentinel(master: &RedisProc, name: &str) -> RedisProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor {name} 127.0.0.1 {} 1\n\
             sentinel down-after-milliseconds {name} 60000\n",
            dir.path().display(),
            master.port
        );
        let sentinel = Self::spawn_from("redis-sentinel", dir, port, config);
        wait_for("the sentinel", || {
            redis_cli(port, &["sentinel", "get-master-addr-by-name", name])
                .contains(&master.port.to_string())
        });
        sentinel
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn start(&self) {
        let child = Command::new(self.program)
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} could not start: {e}", self.program));
        *self.child.lock().unwrap() = Some(child);
        let port = self.port;
        wait_for(self.program, || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
                && redis_cli(port, &["ping"]).contains("PONG")
        });
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = self.child.lock().unwrap().as_ref() {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill");
            assert!(status.success(), "kill {signal} failed");
        }
    }
}

impl Fault for RedisProc {
    /// SIGKILL: every connection drops, new ones are refused.
    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
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

impl Drop for RedisProc {
    fn drop(&mut self) {
        if *self.frozen.lock().unwrap() {
            self.signal("-CONT");
        }
        self.kill();
    }
}
