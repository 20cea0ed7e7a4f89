//! The one reader of `host[:port]` addresses, for every networked engine.
//!
//! An address is a host name, an IPv4 address or a bracketed IPv6 address,
//! each with an optional `:port`: `cache.internal`, `10.0.0.7:6379`,
//! `[::1]`, `[::1]:11211`. An IPv6 address must be bracketed, as in URLs
//! (RFC 3986), because its colons could not be told from the port's: a
//! bare `::1:6379` is refused rather than guessed at. The host is kept
//! without its brackets ([`HostPort::host`]); drivers that want the URL
//! form get it back from [`HostPort::url_host`].

use std::fmt;

/// A parsed `host[:port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostPort<'a> {
    /// The host without brackets: `::1`, `10.0.0.7`, `cache.internal`.
    pub host: &'a str,
    /// The port, when the address gives one.
    pub port: Option<u16>,
}

impl HostPort<'_> {
    /// The host as a URL writes it: an IPv6 address in brackets.
    pub(crate) fn url_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.to_owned()
        }
    }

    /// The port, or `default` when the address gives none.
    pub(crate) fn port_or(&self, default: u16) -> u16 {
        self.port.unwrap_or(default)
    }
}

/// Why an address was refused. The messages never repeat the address:
/// the callers know whether theirs may hold a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrError {
    /// Nothing before the port, or nothing at all.
    NoHost,
    /// `[` without its `]`.
    UnclosedBracket,
    /// Something other than `:port` after `]`.
    AfterBracket,
    /// More than one `:` outside brackets: an IPv6 address without them.
    BareIpv6,
    /// The port is not a number from 0 to 65535.
    BadPort,
    /// A character no host name holds (`/`, `@`, space, brackets).
    BadHost,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddrError::NoHost => "the address has no host",
            AddrError::UnclosedBracket => "unclosed '[' in the address",
            AddrError::AfterBracket => "only :port may follow ']' in the address",
            AddrError::BareIpv6 => "an IPv6 address must be written in brackets, as [::1]:port",
            AddrError::BadPort => "the port in the address is not a number from 0 to 65535",
            AddrError::BadHost => "the host in the address holds '/', '@', a space or a bracket",
        })
    }
}

impl std::error::Error for AddrError {}

/// Reads `host`, `host:port`, `[v6]` or `[v6]:port` (surrounding spaces
/// ignored).
pub(crate) fn parse(addr: &str) -> Result<HostPort<'_>, AddrError> {
    let addr = addr.trim();
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or(AddrError::UnclosedBracket)?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(AddrError::AfterBracket),
        }
    } else {
        match addr.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => return Err(AddrError::BareIpv6),
            Some((host, port)) => (host, Some(port)),
            None => (addr, None),
        }
    };
    if host.is_empty() {
        return Err(AddrError::NoHost);
    }
    if host.contains(['/', '@', ' ', '[', ']']) {
        return Err(AddrError::BadHost);
    }
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| AddrError::BadPort))
        .transpose()?;
    Ok(HostPort { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(addr: &str) -> (&str, Option<u16>) {
        let hp = parse(addr).unwrap();
        (hp.host, hp.port)
    }

    #[test]
    fn host_names_and_ipv4() {
        assert_eq!(ok("cache.internal"), ("cache.internal", None));
        assert_eq!(ok("cache.internal:6380"), ("cache.internal", Some(6380)));
        assert_eq!(ok(" 10.0.0.7:11211 "), ("10.0.0.7", Some(11211)));
        assert_eq!(ok("10.0.0.7"), ("10.0.0.7", None));
        assert_eq!(parse("h").unwrap().port_or(3306), 3306);
        assert_eq!(parse("h:1").unwrap().port_or(3306), 1);
    }

    #[test]
    fn bracketed_ipv6_with_and_without_port() {
        assert_eq!(ok("[::1]:6379"), ("::1", Some(6379)));
        assert_eq!(ok("[::1]"), ("::1", None));
        assert_eq!(ok("[fe80::1:2]:0"), ("fe80::1:2", Some(0)));
        assert_eq!(parse("[::1]:5").unwrap().url_host(), "[::1]");
        assert_eq!(parse("h:5").unwrap().url_host(), "h");
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        for (addr, why) in [
            ("", AddrError::NoHost),
            (":6379", AddrError::NoHost),
            ("[]:1", AddrError::NoHost),
            ("[::1:6379", AddrError::UnclosedBracket),
            ("[::1]6379", AddrError::AfterBracket),
            ("[::1]:", AddrError::BadPort),
            ("::1:6379", AddrError::BareIpv6),
            ("::1", AddrError::BareIpv6),
            ("h:port", AddrError::BadPort),
            ("h:65536", AddrError::BadPort),
            ("h:-1", AddrError::BadPort),
            ("u@h:1", AddrError::BadHost),
            ("h/db:1", AddrError::BadHost),
            ("a b:1", AddrError::BadHost),
        ] {
            assert_eq!(parse(addr), Err(why), "{addr:?}");
            assert!(!why.to_string().is_empty());
        }
        assert!(AddrError::BareIpv6.to_string().contains("[::1]"));
    }
}
