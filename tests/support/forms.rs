//! Shared by the form tests: the Go peer that handles XSRF tokens and
//! flash messages as beego does (`tests/go/formpeer`), a minimal HTTP/1.1
//! client to talk to it, and cookie helpers.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[path = "gobuild.rs"]
mod gobuild;

/// A running `formpeer`, killed on drop.
pub struct FormPeer {
    child: Child,
    pub addr: String,
}

impl Drop for FormPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl FormPeer {
    /// Starts the peer with `xsrfkey = key` and extra flags.
    pub fn start(key: &str, flags: &[&str]) -> FormPeer {
        let bin = gobuild::build("formpeer", "the XSRF and flash interop tests");
        let mut child = Command::new(bin)
            .arg("-key")
            .arg(key)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("formpeer starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("formpeer prints its address");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("formpeer said {line:?}"))
            .to_owned();
        FormPeer { child, addr }
    }

    /// One request to the peer.
    pub fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        http(&self.addr, method, path, headers, body)
    }
}

/// An HTTP answer: status, `Set-Cookie` lines, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Reply {
    /// The value this answer sets for cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        cookie_in(&self.set_cookies, name)
    }

    /// The whole `Set-Cookie` line of `name`.
    pub fn cookie_line(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .map(String::as_str)
            .find(|l| l.starts_with(&format!("{name}=")))
    }
}

/// The value `lines` (`Set-Cookie` lines) set for `name`.
pub fn cookie_in(lines: &[String], name: &str) -> Option<String> {
    lines.iter().find_map(|line| {
        let pair = line.split(';').next()?;
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim().to_owned())
    })
}

/// A blocking HTTP/1.1 exchange with `Connection: close`.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    tcp.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let set_cookies = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().to_owned())
        })
        .collect();
    Reply {
        status,
        set_cookies,
        body: body.to_owned(),
    }
}
