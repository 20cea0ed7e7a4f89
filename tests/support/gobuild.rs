//! Builds a Go program of `tests/go/` with the standard library only (no
//! module proxy), once per test binary, into the cargo target dir.

use std::path::PathBuf;
use std::process::Command;

/// Builds `tests/go/<name>` and returns the binary's path; `needed_by`
/// says which tests need the Go toolchain when `go` cannot run.
pub fn build(name: &str, needed_by: &str) -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let bin = tmp.join(name);
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/go")
        .join(name);
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
                "cannot run `go` ({e}): {needed_by} need the Go toolchain; \
                 run `scripts/test-servers.sh start`, which installs it"
            )
        });
    assert!(
        out.status.success(),
        "go build of tests/go/{name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}
