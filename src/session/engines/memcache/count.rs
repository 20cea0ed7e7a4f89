//! Listing session keys for `session_all`.
//!
//! The memcache protocol has no key enumeration, so this uses memcached's
//! `lru_crawler metadump all` (memcached 1.4.31 and later, LRU crawler on,
//! the default since 1.5). It is an ASCII command on its own connection,
//! because memcached refuses to pipeline anything before it. Servers started
//! with SASL (`-S`) refuse ASCII commands; there the count fails with
//! [`Error::Backend`](crate::session::Error::Backend) rather than guessing.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use memcache::Url;

use crate::session::error::{Error, Result};

/// How often a `BUSY` crawler (another metadump running) is retried.
const BUSY_RETRIES: u32 = 100;

fn backend(msg: &'static str) -> Error {
    Error::backend("memcache", msg)
}

/// Keys starting with `prefix` that `server` holds and has not expired.
pub(crate) fn dump_keys(
    server: &Url,
    prefix: &str,
    connect_timeout: Duration,
    io_timeout: Duration,
    keys: &mut BTreeSet<String>,
) -> Result<()> {
    for attempt in 0..BUSY_RETRIES {
        match dump_once(server, prefix, connect_timeout, io_timeout, keys)? {
            Dump::Done => return Ok(()),
            Dump::Busy => {
                std::thread::sleep(Duration::from_millis(20 + u64::from(attempt) * 5));
            }
        }
    }
    Err(backend(
        "memcached's LRU crawler stayed busy; cannot count sessions now",
    ))
}

enum Dump {
    Done,
    Busy,
}

fn dump_once(
    server: &Url,
    prefix: &str,
    connect_timeout: Duration,
    io_timeout: Duration,
    keys: &mut BTreeSet<String>,
) -> Result<Dump> {
    match server.scheme() {
        #[cfg(unix)]
        "memcache+unix" => {
            let stream = std::os::unix::net::UnixStream::connect(server.path())
                .and_then(|s| {
                    s.set_read_timeout(Some(io_timeout))?;
                    s.set_write_timeout(Some(io_timeout))?;
                    Ok(s)
                })
                .map_err(|e| Error::backend("memcache", e))?;
            read_dump(stream, prefix, keys)
        }
        "memcache" | "memcache+tcp" => {
            // The url crate has already read the host (an IPv6 address
            // without its brackets); it resolves as the memcache crate's
            // own connections do.
            let addr = server
                .socket_addrs(|| Some(11211))
                .map_err(|e| Error::backend("memcache", e))?
                .into_iter()
                .next()
                .ok_or_else(|| backend("memcache host did not resolve"))?;
            let stream = TcpStream::connect_timeout(&addr, connect_timeout)
                .and_then(|s| {
                    s.set_read_timeout(Some(io_timeout))?;
                    s.set_write_timeout(Some(io_timeout))?;
                    Ok(s)
                })
                .map_err(|e| Error::backend("memcache", e))?;
            read_dump(stream, prefix, keys)
        }
        _ => Err(backend(
            "session_all supports TCP and unix-socket servers only",
        )),
    }
}

fn read_dump<S: std::io::Read + Write>(
    mut stream: S,
    prefix: &str,
    keys: &mut BTreeSet<String>,
) -> Result<Dump> {
    stream
        .write_all(b"lru_crawler metadump all\r\n")
        .and_then(|()| stream.flush())
        .map_err(|e| Error::backend("memcache", e))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut found = Vec::new();
    let encoded_prefix = uri_encode(prefix);
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| Error::backend("memcache", e))?;
        if n == 0 {
            return Err(backend("memcached closed the connection during metadump"));
        }
        let text = line.trim_end();
        if text == "END" {
            break;
        }
        if text.starts_with("BUSY") {
            return Ok(Dump::Busy);
        }
        if text.starts_with("ERROR") || text.contains("_ERROR") {
            return Err(backend(
                "memcached refused `lru_crawler metadump` (needs memcached >= 1.4.31, the LRU crawler on, no SASL); memcache cannot count sessions otherwise",
            ));
        }
        let Some(raw) = text.strip_prefix("key=") else {
            continue;
        };
        let raw = raw.split(' ').next().unwrap_or_default();
        // Ids are made of unreserved characters, which memcached leaves as
        // they are, so only the prefix needs its encoded form.
        if let Some(id) = raw.strip_prefix(encoded_prefix.as_str()) {
            found.push(format!("{prefix}{id}"));
        }
    }
    keys.extend(found);
    Ok(Dump::Done)
}

/// memcached's `uriencode` of keys in metadump output: everything but
/// RFC 3986 unreserved characters becomes `%XX`.
fn uri_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::uri_encode;

    #[test]
    fn encodes_like_memcached() {
        assert_eq!(uri_encode("actixbee:s:"), "actixbee%3As%3A");
        assert_eq!(uri_encode("a-b_c.d~/"), "a-b_c.d~%2F");
    }
}
