//! The Go peer of the interop tests (`tests/go/gobpeer`, standard library
//! only): built once per test binary with the machine's Go toolchain, then
//! run once per call. Without Go the tests fail, never skip.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

#[path = "gobuild.rs"]
mod gobuild;

/// Builds the Go peer once per test binary, into the cargo target dir.
pub fn peer() -> &'static PathBuf {
    static PEER: OnceLock<PathBuf> = OnceLock::new();
    PEER.get_or_init(|| gobuild::build("gobpeer", "the gob interop tests"))
}

/// Runs the peer in `mode` with `input` on stdin; returns stdout.
pub fn run(mode: &str, input: &[u8]) -> Vec<u8> {
    try_run(&[mode], input).unwrap_or_else(|e| panic!("gobpeer {mode} failed: {e}"))
}

/// Runs the peer with `args` and `input` on stdin: stdout, or stderr when
/// it fails (Go's error text, e.g. beego's "Decode: expired timestamp").
pub fn try_run(args: &[&str], input: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(peer())
        .args(args)
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
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Go's description of a session map (the peer's `describe` output): key
/// as Go prints it => `%T: value-with-types`.
pub fn parse_description(text: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8(text.to_vec())
        .expect("utf-8")
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(" => ").expect("key => value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Go's description of the gob session map `bytes`.
pub fn describe(bytes: &[u8]) -> BTreeMap<String, String> {
    parse_description(&run("describe", bytes))
}

/// A string key as the description prints it.
pub fn key(k: &str) -> String {
    format!("string({k:?})")
}

/// The Go peer's `main.User` (tests/go/gobpeer), field for field.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub name: String,
    pub age: i64,
    pub tags: Vec<String>,
    pub score: f64,
    pub admin: bool,
    #[serde(with = "serde_bytes")]
    pub avatar: Vec<u8>,
}

/// Panics unless Go's description `got` is `want` key for key, naming each
/// key that is missing, extra or different (`what` says which session).
#[track_caller]
pub fn assert_same(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>, what: &str) {
    let mut diffs = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => diffs.push(format!("missing {k} => {w}")),
            Some(g) if g != w => diffs.push(format!("{k} => {g}, not {w}")),
            Some(_) => {}
        }
    }
    for (k, g) in got {
        if !want.contains_key(k) {
            diffs.push(format!("extra {k} => {g}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{what}: Go sees {} difference(s): {}",
        diffs.len(),
        diffs.join("; ")
    );
}
