//! The Go peer of the interop tests (`tests/go/gobpeer`, standard library
//! only): built once per test binary with the machine's Go toolchain, then
//! run once per call. Without Go the tests fail, never skip.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Builds the Go peer once per test binary, into the cargo target dir.
pub fn peer() -> &'static PathBuf {
    static PEER: OnceLock<PathBuf> = OnceLock::new();
    PEER.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gobpeer");
        let bin = tmp.join("gobpeer");
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/go/gobpeer");
        let out = Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(&src)
            .env("GOCACHE", tmp.join("go-cache"))
            .env("GOPATH", tmp.join("go-path"))
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `go` ({e}): the gob interop tests need the Go toolchain; \
                     run `scripts/test-servers.sh start`, which installs it"
                )
            });
        assert!(
            out.status.success(),
            "go build of tests/go/gobpeer failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        bin
    })
}

/// Runs the peer in `mode` with `input` on stdin; returns stdout.
pub fn run(mode: &str, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(peer())
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gobpeer");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to gobpeer");
    let out = child.wait_with_output().expect("wait for gobpeer");
    assert!(
        out.status.success(),
        "gobpeer {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
