//! What every server a test starts needs: free loopback ports, the
//! installed programs (a missing one fails with the package to install),
//! bounded readiness waits, and, for servers shared by the tests of one
//! binary, a life that ends with the test process.
//!
//! A server held in a `static` is never dropped, so it cannot be stopped by
//! `Drop`. Each binary instead starts one reaper (`sh`) whose stdin is a
//! pipe from the test process: when the process ends, however it ends
//! (success, panic, SIGKILL), the kernel closes the pipe, the reaper reads
//! end-of-file, SIGKILLs the pids it was told about and removes the
//! binary's server directory. `PR_SET_PDEATHSIG` was not used: it fires
//! when the spawning *thread* exits (a test thread ends long before the
//! process), and setting it needs `pre_exec`, which is `unsafe` (forbidden
//! in this crate).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a server may take to answer after it was started.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The packages the scripts install, named in the failures.
pub const INSTALL_HINT: &str = "scripts/test-servers.sh install";

/// A free port on 127.0.0.1 whose cluster bus port (+10000) is free too,
/// and free on every address of `also` (a server that listens on several
/// loopback addresses binds the same port on each).
pub fn free_port_on(also: &[&str]) -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("local addr")
            .port();
        let free = |host: &str, port: u16| TcpListener::bind((host, port)).is_ok();
        if port < 55_000
            && free("127.0.0.1", port + 10_000)
            && also.iter().all(|h| free(h, port) && free(h, port + 10_000))
        {
            return port;
        }
    }
}

/// A free loopback port whose cluster bus port (+10000) is free too.
pub fn free_port() -> u16 {
    free_port_on(&[])
}

/// Waits until `ready` holds, or panics after 30 s naming `what`.
pub fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < READY_WITHIN,
            "{what} not ready within {} s",
            READY_WITHIN.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until something accepts TCP connections on `host:port`.
pub fn wait_for_port(what: &str, host: &str, port: u16) {
    wait_for(what, || TcpStream::connect((host, port)).is_ok());
}

/// A command for `program`, which must be installed: a missing program
/// fails here, naming the Debian package that has it.
pub fn program(program: &str, package: &str) -> Command {
    let found = Path::new(program).is_absolute() && Path::new(program).exists()
        || std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
        });
    assert!(
        found,
        "{program} is not installed: install the package {package} ({INSTALL_HINT})"
    );
    Command::new(program)
}

/// Runs a set-up command, panicking with its output when it fails.
pub fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not run: {e} ({INSTALL_HINT})"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True when `command` exits 0 (its output is dropped).
pub fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The output of `redis-cli -h 127.0.0.1 -p port` with `args` (TLS options
/// included by the caller).
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = program("redis-cli", "redis-tools")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The uid and gid of a system user.
pub fn user_ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, user]).output().expect("id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no system user {user} (package postgresql makes it)"))
    };
    (id("-u"), id("-g"))
}

/// True when the tests run as root (PostgreSQL then runs as `postgres`,
/// memcached needs `-u root`).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The directory of PostgreSQL's server programs (`initdb`, `postgres`).
pub fn pg_bindir() -> PathBuf {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    from_pg_config
        .filter(|d| d.join("initdb").exists())
        .or_else(|| {
            let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .filter_map(|e| Some(e.ok()?.path().join("bin")))
                .filter(|d| d.join("initdb").exists())
                .collect();
            found.sort();
            found.pop()
        })
        .unwrap_or_else(|| {
            panic!("PostgreSQL's initdb is not installed: install the package postgresql ({INSTALL_HINT})")
        })
}

/// `mariadbd`: Debian puts it in /usr/sbin, which a user's PATH may lack.
pub fn mariadbd() -> Command {
    let sbin = "/usr/sbin/mariadbd";
    program(
        if Path::new(sbin).exists() {
            sbin
        } else {
            "mariadbd"
        },
        "mariadb-server",
    )
}

/// The reaper of this test process and the directory it removes.
struct Reaper {
    stdin: Mutex<ChildStdin>,
    dir: PathBuf,
}

/// Kills the pids written to its stdin, and removes `$1`, once its stdin
/// reaches end-of-file. It ignores SIGINT and SIGHUP, so a Ctrl-C that
/// ends the tests still leaves it to clean up.
const REAPER: &str = r#"trap '' INT HUP
pids=
while read -r pid; do pids="$pids $pid"; done
[ -n "$pids" ] && kill -9 $pids 2>/dev/null
sleep 0.5
rm -rf "$1""#;

fn reaper() -> &'static Reaper {
    static REAPER_CELL: OnceLock<Reaper> = OnceLock::new();
    REAPER_CELL.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("actix-bee-servers-")
            .tempdir()
            .expect("tempdir")
            .keep();
        // Servers run as other users (postgres) need to reach their dirs.
        set_mode(&dir, 0o755);
        // Never waited for on purpose: the reaper outlives this process
        // (it acts when the pipe closes at exit) and init reaps it then.
        #[allow(clippy::zombie_processes)]
        let child = Command::new("sh")
            .args(["-c", REAPER, "reaper"])
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh for the reaper");
        let stdin = child.stdin.expect("the reaper's stdin");
        Reaper {
            stdin: Mutex::new(stdin),
            dir,
        }
    })
}

/// Sets a path's permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A fresh directory for one shared server, removed when the process ends.
pub fn shared_dir(name: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir_in(&reaper().dir)
        .expect("tempdir")
        .keep();
    set_mode(&dir, 0o755);
    dir
}

/// A server that lives as long as the test process: its output goes to
/// `dir/log` (shown when it does not get ready), the reaper kills it when
/// the process ends.
pub struct Shared {
    /// What it is, for messages.
    pub name: String,
    /// Its directory (config, data, log).
    pub dir: PathBuf,
    child: Mutex<Child>,
}

impl Shared {
    /// Spawns `command` (its output to `dir/log`) and tells the reaper.
    pub fn spawn(name: &str, dir: &Path, mut command: Command) -> Shared {
        let log = std::fs::File::create(dir.join("log")).expect("the server's log");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} could not start: {e} ({INSTALL_HINT})"));
        let mut stdin = reaper().stdin.lock().unwrap();
        writeln!(stdin, "{}", child.id()).expect("tell the reaper");
        stdin.flush().expect("tell the reaper");
        Shared {
            name: name.to_owned(),
            dir: dir.to_owned(),
            child: Mutex::new(child),
        }
    }

    /// Waits until `ready` holds; fails with the server's log if it exits
    /// or takes longer than 30 s.
    pub fn wait(&self, ready: impl Fn() -> bool) {
        let started = Instant::now();
        loop {
            if ready() {
                return;
            }
            let exited = self.child.lock().unwrap().try_wait().ok().flatten();
            if exited.is_some() || started.elapsed() > READY_WITHIN {
                let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(25).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "{} did not get ready ({}); its log ends:\n{}",
                    self.name,
                    exited.map_or("timed out".to_owned(), |s| format!("exited: {s}")),
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
