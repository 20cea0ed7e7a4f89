//! Parsing of the memcache engine's `sessionproviderconfig`.
//!
//! Messages never echo an entry of the config string: a `memcache://` URL
//! may carry a SASL password.

use std::time::Duration;

use memcache::Url;

use crate::session::engines::shared::addr;
use crate::session::engines::shared::kv::check_prefix;
use crate::session::engines::shared::options::{
    self, split_hosts, DEFAULT_KEY_PREFIX, DEFAULT_MAX_SESSION_BYTES,
};
use crate::session::engines::shared::secrets::{url_password, Secrets};
use crate::session::error::{Error, Result};

/// The parsed config.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemcacheConfig {
    /// One `memcache://` URL per server, with the socket timeout added.
    pub servers: Vec<Url>,
    pub prefix: String,
    pub pool_size: u32,
    pub connect_timeout: Duration,
    pub io_timeout: Duration,
    /// Deadline of one session call (pool check-out and every round trip).
    pub call_timeout: Duration,
    /// The largest session stored (`max_session_bytes`).
    pub max_session_bytes: usize,
}

/// Why TLS to memcached is refused.
const NO_TLS: &str = "TLS to memcached (memcache+tls, tls options) is not supported: \
     the memcache crate's TLS links OpenSSL, and this crate uses no C TLS library \
     (use a TLS tunnel such as stunnel, or a private network)";

fn config_error(msg: impl Into<String>) -> Error {
    Error::config(NAME, msg)
}

const NAME: &str = "memcache";

/// `host:port`, `[v6]:port` (read by the shared [`addr`] reader), or a
/// `memcache[+tcp|+unix]://` URL.
fn server_url(entry: &str, index: usize) -> Result<Url> {
    let bad = || {
        config_error(format!(
            "address #{index} is neither host:port nor a memcache:// URL (addresses are \
             separated by ';' or ','; options are name=value, such as pool_size=32)"
        ))
    };
    let url = if entry.contains("://") {
        Url::parse(entry).map_err(|_| bad())?
    } else {
        let hp = addr::parse(entry).map_err(|e| config_error(format!("address #{index}: {e}")))?;
        let port = hp.port.ok_or_else(bad)?;
        Url::parse(&format!("memcache://{}:{port}", hp.url_host())).map_err(|_| bad())?
    };
    match url.scheme() {
        "memcache" | "memcache+tcp" => {
            if url.host_str().is_none_or(str::is_empty) || url.port().is_none() {
                return Err(config_error(format!(
                    "address #{index} needs a host and a port"
                )));
            }
        }
        "memcache+unix" if !url.path().is_empty() => {}
        "memcache+tls" => return Err(config_error(NO_TLS)),
        "memcache+udp" => {
            return Err(config_error(
                "UDP is not supported: session writes must not be lost silently",
            ))
        }
        _ => return Err(bad()),
    }
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), value.as_ref()) {
            ("tls" | "verify_mode" | "ca_path" | "cert_path" | "key_path", _) => {
                return Err(config_error(NO_TLS))
            }
            ("udp", "true") => {
                return Err(config_error(
                    "UDP is not supported: session writes must not be lost silently",
                ))
            }
            // The crate's ASCII `add` answers NOT_STORED with Ok, so an id
            // collision would overwrite another user's session.
            ("protocol", "ascii") => {
                return Err(config_error(
                    "protocol=ascii is not supported: its add() cannot report an existing key",
                ))
            }
            _ => {}
        }
    }
    Ok(url)
}

/// memcached keys are printable ASCII without spaces; these cover every
/// common namespace style.
fn prefix_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b":._-/".contains(&b)
}

/// Parses beego's form (`127.0.0.1:11211`, or addresses separated by `;`
/// or `,`) and `memcache://` URLs, plus `name=value` options in the same
/// list: `prefix`, `pool_size`, `connect_timeout`, `timeout`, `call_timeout`
/// (durations) and `max_session_bytes`.
pub(crate) fn parse(config: &str) -> Result<MemcacheConfig> {
    parse_recording(config, &mut Secrets::new(config))
}

/// The SASL passwords of a config, as [`parse`] and the url crate take
/// them; a config error when [`parse`] refuses the text.
pub(crate) fn secrets(config: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(config);
    parse_recording(config, &mut secrets)?;
    Ok(secrets)
}

/// Records the password text of `entry`, which the url crate read as
/// `url`; everything when the text found is not what it took.
fn record_password(entry: &str, url: &Url, secrets: &mut Secrets<'_>) {
    let raw = url_password(entry);
    secrets.add(raw.unwrap_or_default());
    if let Some(taken) = url.password() {
        if raw.and_then(options::percent_decode) != options::percent_decode(taken) {
            secrets.mask_all();
        }
    }
}

/// [`parse`], recording in `secrets` the text of every password taken.
fn parse_recording(config: &str, secrets: &mut Secrets<'_>) -> Result<MemcacheConfig> {
    let mut servers = Vec::new();
    let mut prefix = DEFAULT_KEY_PREFIX.to_owned();
    let mut pool_size = 16u32;
    let mut connect_timeout = Duration::from_secs(3);
    let mut io_timeout = Duration::from_secs(3);
    let mut call_timeout = Duration::from_secs(5);
    let mut max_session_bytes = DEFAULT_MAX_SESSION_BYTES;
    for entry in split_hosts(config) {
        match entry.split_once('=') {
            Some((name, value)) if !entry.contains("://") => match name.trim() {
                "prefix" => prefix = value.trim().to_owned(),
                "pool_size" | "poolsize" => {
                    pool_size = options::pool_size(NAME, "pool_size", value)?
                }
                "connect_timeout" => {
                    connect_timeout = options::timeout(NAME, "connect_timeout", value)?;
                }
                "timeout" => io_timeout = options::timeout(NAME, "timeout", value)?,
                "call_timeout" => {
                    call_timeout = options::timeout(NAME, "call_timeout", value)?;
                }
                "max_session_bytes" => {
                    max_session_bytes = options::positive(NAME, "max_session_bytes", value)?;
                }
                "tls" | "tls_ca_file" | "tls_cert_file" | "tls_key_file" | "tls_skip_verify" => {
                    return Err(config_error(NO_TLS))
                }
                other => {
                    return Err(config_error(format!(
                    "unknown option {other:?} (known: prefix, pool_size, connect_timeout, timeout, call_timeout, max_session_bytes)"
                )))
                }
            },
            _ => {
                let url = server_url(entry, servers.len() + 1)?;
                record_password(entry, &url, secrets);
                servers.push(url);
            }
        }
    }
    if servers.is_empty() {
        return Err(config_error(
            "no server address (expected e.g. 127.0.0.1:11211)",
        ));
    }
    check_prefix(
        NAME,
        &prefix,
        prefix_byte,
        "ASCII letters, digits and : . _ - /",
    )?;
    for url in &mut servers {
        // The crate applies `timeout` as the socket read/write timeout of
        // every connection; without it a stalled server blocks a thread.
        if !url.query_pairs().any(|(k, _)| k == "timeout") {
            url.query_pairs_mut()
                .append_pair("timeout", &io_timeout.as_secs_f64().to_string());
        }
    }
    Ok(MemcacheConfig {
        servers,
        prefix,
        pool_size,
        connect_timeout,
        io_timeout,
        call_timeout,
        max_session_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(c: &MemcacheConfig) -> Vec<String> {
        c.servers
            .iter()
            .map(|u| format!("{}:{}", u.host_str().unwrap(), u.port().unwrap()))
            .collect()
    }

    #[test]
    fn beego_forms() {
        let c = parse("127.0.0.1:11211").unwrap();
        assert_eq!(hosts(&c), ["127.0.0.1:11211"]);
        assert_eq!(c.prefix, "actix-bee:session:");
        assert_eq!(c.servers[0].scheme(), "memcache");
        assert!(c.servers[0].query().unwrap().contains("timeout=3"));
        let c = parse(" 10.0.0.1:1 ; 10.0.0.2:2,[::1]:3 ").unwrap();
        assert_eq!(hosts(&c), ["10.0.0.1:1", "10.0.0.2:2", "[::1]:3"]);
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        let c = parse("[::1]:11311").unwrap();
        let ip = std::net::Ipv6Addr::LOCALHOST;
        assert_eq!(c.servers[0].host_str(), Some("[::1]"));
        assert_eq!(c.servers[0].port(), Some(11311));
        let addrs = c.servers[0].socket_addrs(|| None).unwrap();
        assert_eq!(addrs, [std::net::SocketAddr::from((ip, 11311))]);
        for bad in ["::1:11311", "[::1:11311", "[::1]11311", "[::1]"] {
            let err = parse(bad).unwrap_err();
            assert!(err.is_config(), "{bad}: {err}");
        }
        let err = parse("::1:11311").unwrap_err().to_string();
        assert!(err.contains("[::1]:port"), "{err}");
    }

    #[test]
    fn urls_and_options() {
        let c = parse(
            "memcache://u:p@h:11211?timeout=1;memcache+tcp://h2:5,prefix=app:,pool_size=4,connect_timeout=0.5,timeout=2",
        )
        .unwrap();
        assert_eq!(hosts(&c), ["h:11211", "h2:5"]);
        assert_eq!(c.servers[0].password(), Some("p"));
        assert_eq!(c.servers[0].query(), Some("timeout=1"));
        assert_eq!(c.servers[1].query(), Some("timeout=2"));
        assert_eq!(c.prefix, "app:");
        assert_eq!(c.pool_size, 4);
        assert_eq!(c.connect_timeout, Duration::from_millis(500));
        assert!(parse("memcache+unix:///run/memcached.sock").is_ok());
    }

    #[test]
    fn bad_forms_are_config_errors_without_secrets() {
        for bad in [
            "",
            " ; ",
            "localhost",
            "host:notaport",
            ":11211",
            "redis://h:1",
            "memcache://u:secretpw@h",
            "memcache+tls://u:secretpw@h:1",
            "memcache+udp://h:1",
            "memcache://h:1?udp=true",
            "memcache://u:secretpw@h:1?protocol=ascii",
            "h:1,pool_size=0",
            "h:1,pool_size=x",
            "h:1,timeout=-1",
            "h:1,connect_timeout=inf",
            "h:1,prefix=has space",
            "h:1,bogus=1",
        ] {
            match parse(bad) {
                Err(
                    e @ Error::Config {
                        engine: "memcache", ..
                    },
                ) => {
                    assert!(!e.to_string().contains("secretpw"), "{e}");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let long = format!("h:1,prefix={}", "p".repeat(123));
        assert!(parse(&long).unwrap_err().is_config());
        assert!(parse(&format!("h:1,prefix={}", "p".repeat(122))).is_ok());
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "127.0.0.1:11215",
        "10.0.0.1:5;10.0.0.2:5,[::1]:5,prefix=app:,pool_size=5",
        "memcache://u:p@h:11215?timeout=5;memcache+tcp://h2:5,connect_timeout=0.5,call_timeout=5s",
        "memcache+unix:///run/m.sock,max_session_bytes=5",
    ];

    /// A config or a config error, never a panic.
    #[test]
    fn memcache_config_never_panics() {
        fuzz::parser(SEEDS, parse, |c| {
            !c.servers.is_empty() && c.max_session_bytes > 0
        });
    }

    #[test]
    fn max_session_bytes_option() {
        let c = parse("127.0.0.1:11211,max_session_bytes=4096").unwrap();
        assert_eq!(c.max_session_bytes, 4096);
        assert_eq!(
            parse("127.0.0.1:11211").unwrap().max_session_bytes,
            DEFAULT_MAX_SESSION_BYTES
        );
        assert!(parse("127.0.0.1:11211,max_session_bytes=-1").is_err());
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "memcache://u:ZqSecret%3BZq@h:11215?timeout=5,pool_size=5",
        "memcache://u:ZqSe:cr@tZq@10.0.0.1:5;memcache://v:ZqOtherZq@h2:5",
    ];

    /// Whatever the text, no password the url crate takes is shown once
    /// the secrets are masked.
    #[test]
    fn no_password_taken_is_shown() {
        fuzz::passwords_hidden(SEEDS, parse_recording, |cfg| {
            cfg.servers
                .iter()
                .filter_map(|u| u.password().and_then(options::percent_decode))
                .collect()
        });
    }
}
