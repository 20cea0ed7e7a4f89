//! Hostile inputs whose cost is bounded by memory, not only by errors:
//! each decode runs alone in a child process (this test binary, running
//! only that test), where its growth of the peak resident memory is
//! measured apart from the other tests.

use std::process::Command;

use super::super::wire::Writer;
use super::super::*;
use super::{message, slice_def};

/// Set in a child process to the name of the test it runs.
const CHILD: &str = "ACTIX_BEE_GOB_CHILD";

/// The peak resident memory of this process so far, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Decodes `input()` in a child process, fails unless the decode grew the
/// peak resident memory by less than `limit_mib` MiB, and hands the result
/// to `check` there.
fn decode_within(name: &str, limit_mib: u64, input: fn() -> Vec<u8>, check: fn(Result<Value>)) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        let input = input();
        let before = peak_rss_kib();
        let result = decode(&input);
        let grown = peak_rss_kib().saturating_sub(before) / 1024;
        eprintln!("{name}: the peak resident memory grew by {grown} MiB");
        assert!(
            grown < limit_mib,
            "decoding {} bytes grew the peak resident memory by {grown} MiB (limit {limit_mib} MiB)",
            input.len()
        );
        check(result);
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args(["--exact", &format!("gob::tests::limits::{name}")])
        .args(["--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .output()
        .expect("run the test binary as a child");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    // The child's own failure, first: the line after "panicked at".
    let why = stderr
        .lines()
        .skip_while(|l| !l.contains("panicked at"))
        .nth(1)
        .unwrap_or("");
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child failed: {why}\n{stdout}{stderr}"
    );
}

/// A type definition message: `id` is the struct `name` with `fields`
/// (name, type id).
fn struct_def(id: i64, name: &str, fields: &[(&str, i64)]) -> Vec<u8> {
    let mut w = Writer::default();
    w.int(-id);
    w.buf.extend([3, 1, 1]); // StructT; CommonType; its field 0 (Name)
    w.bytes(name.as_bytes());
    w.buf.push(1); // CommonType's Id
    w.int(id);
    w.buf.extend([0, 1]); // end of CommonType; Field
    w.uint(fields.len() as u64);
    for (field, ty) in fields {
        w.buf.push(1);
        w.bytes(field.as_bytes());
        w.buf.push(1);
        w.int(*ty);
        w.buf.push(0);
    }
    w.buf.extend([0, 0]);
    message(&w.buf)
}

const FILLER: usize = 16 << 20;

/// Three messages (an empty struct `E`, `[]E`, and a `[]E` claiming
/// `FILLER` items that ends with the message), then `FILLER` zero bytes:
/// empty messages, which frame but are no part of the value.
fn empty_structs_then_filler() -> Vec<u8> {
    let mut input = struct_def(65, "E", &[]);
    input.extend(slice_def(66, 65));
    let mut body = Writer::default();
    body.int(66);
    body.uint(0);
    body.uint(FILLER as u64);
    input.extend(message(&body.buf));
    // Written, not merely reserved: the filler is resident before the
    // measure starts.
    input.resize(input.len() + FILLER, 0);
    input
}

#[test]
fn filler_after_the_value_pays_for_no_values() {
    decode_within(
        "filler_after_the_value_pays_for_no_values",
        32,
        empty_structs_then_filler,
        |result| {
            assert_eq!(
                result,
                Err(Error::Corrupt("more values than bytes read")),
                "the filler frames as empty messages: the bound on values stops it"
            )
        },
    );
}

const FIELDS: usize = 3000;
const NAMES: usize = 3000;

/// A struct of `FIELDS` fields, and a `[]interface{}` holding `NAMES`
/// empty values of it, each under a name of its own.
fn one_struct_under_many_names() -> Vec<u8> {
    let fields = vec![("A", 2); FIELDS];
    let mut input = struct_def(65, "S", &fields);
    input.extend(slice_def(66, 8));
    let mut body = Writer::default();
    body.int(66);
    body.uint(0);
    body.uint(NAMES as u64);
    for i in 0..NAMES {
        body.bytes(format!("main.S{i}").as_bytes());
        body.int(65);
        body.buf.extend([1, 0]); // byte count (ignored); no fields
    }
    input.extend(message(&body.buf));
    input
}

#[test]
fn refining_one_struct_under_many_names_is_linear() {
    decode_within(
        "refining_one_struct_under_many_names_is_linear",
        32,
        one_struct_under_many_names,
        |result| {
            let Ok(Value::Slice { items, .. }) = result else {
                panic!("{result:?}");
            };
            assert_eq!(items.len(), NAMES);
            assert_eq!(items[7].type_name(), "main.S7");
        },
    );
}
