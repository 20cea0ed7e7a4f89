//! The engine options that ride in an SQL DSN, and the DSN helpers both
//! drivers use.

use std::time::Duration;

use crate::session::engines::shared::options;
use crate::session::error::{Error, Result};

/// The table used when the DSN has no `table` parameter.
pub(crate) const DEFAULT_TABLE: &str = "session";
/// Connections per pool when the DSN has no `pool_size` parameter.
pub(crate) const DEFAULT_POOL_SIZE: u32 = 16;
/// Connect (and pool check-out) timeout without `connect_timeout`.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The deadline of one session call (a read, a write transaction) without
/// `call_timeout`: past it the request gets a 503 instead of waiting on a
/// hung server.
pub(crate) const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows one GC statement deletes, so GC never holds long locks.
pub(crate) const GC_BATCH: u32 = 1000;
/// Width of the `session_key` column: a 32-character prefix plus 128 hex
/// characters (64 random bytes), the longest id the generator mints.
pub(crate) const MAX_KEY_LEN: usize = 160;

/// Engine options that ride as extra DSN parameters; the engines strip
/// them before the DSN reaches the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EngineOptions {
    /// The session table, a plain identifier.
    pub table: String,
    /// Maximum connections in the pool.
    pub pool_size: u32,
    /// Connect timeout, also the longest wait for a pooled connection.
    pub connect_timeout: Duration,
    /// Deadline of one session call, pool check-out included.
    pub call_timeout: Duration,
    /// Create the table (and its index) at start-up if it is missing.
    pub create_table: bool,
    /// The largest session stored (`max_session_bytes`).
    pub max_session_bytes: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            table: DEFAULT_TABLE.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            create_table: true,
            max_session_bytes: options::DEFAULT_MAX_SESSION_BYTES,
        }
    }
}

impl EngineOptions {
    /// Takes this crate's keys out of `params` and leaves the driver's.
    pub(crate) fn take(engine: &'static str, params: &mut Vec<(String, String)>) -> Result<Self> {
        let mut options = EngineOptions::default();
        let mut rest = Vec::with_capacity(params.len());
        for (key, value) in params.drain(..) {
            match key.as_str() {
                "table" => {
                    validate_table(engine, &value)?;
                    options.table = value;
                }
                "pool_size" => options.pool_size = options::pool_size(engine, &key, &value)?,
                "connect_timeout" => {
                    options.connect_timeout = options::timeout(engine, &key, &value)?;
                }
                "call_timeout" => {
                    options.call_timeout = options::timeout(engine, &key, &value)?;
                }
                "create_table" => options.create_table = options::boolean(engine, &key, &value)?,
                "max_session_bytes" => {
                    options.max_session_bytes = options::positive(engine, &key, &value)?;
                }
                _ => rest.push((key, value)),
            }
        }
        *params = rest;
        Ok(options)
    }
}

/// Refuses anything but a plain identifier, `^[A-Za-z_][A-Za-z0-9_]{0,62}$`,
/// so that the table name can be quoted into statements safely.
pub(crate) fn validate_table(engine: &'static str, table: &str) -> Result<()> {
    let mut chars = table.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && table.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(Error::config(
            engine,
            "the table name must be a plain identifier \
             (a letter or '_', then up to 62 letters, digits or '_')",
        ))
    }
}

/// Splits `query` (`a=1&b=2`) into pairs, in order.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (part.to_owned(), String::new()),
        })
        .collect()
}

/// `base?k=v&...`, or `base` alone when no parameters are left.
pub(crate) fn join_query(base: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return base.to_owned();
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{base}?{}", query.join("&"))
}

/// Replaces the password of `user:password@...` (after `scheme://` when
/// there is one) with `***`. Over-redacting is fine; leaking is not.
pub(crate) fn redact_userinfo(dsn: &str) -> String {
    let start = dsn.find("://").map_or(0, |i| i + 3);
    let Some(at) = dsn.rfind('@').filter(|&at| at >= start) else {
        return dsn.to_owned();
    };
    match dsn[start..at].find(':') {
        Some(colon) => format!("{}***{}", &dsn[..start + colon + 1], &dsn[at..]),
        None => dsn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        parse_query(q)
    }

    #[test]
    fn options_are_taken_and_the_rest_is_left() {
        let mut params =
            pairs("charset=utf8&table=sess_1&pool_size=4&connect_timeout=0.5&create_table=false");
        let o = EngineOptions::take("mysql", &mut params).unwrap();
        assert_eq!(o.table, "sess_1");
        assert_eq!(o.pool_size, 4);
        assert_eq!(o.connect_timeout, Duration::from_millis(500));
        assert!(!o.create_table);
        assert_eq!(params, pairs("charset=utf8"));
        let mut none = Vec::new();
        assert_eq!(
            EngineOptions::take("mysql", &mut none).unwrap(),
            EngineOptions::default()
        );
    }

    #[test]
    fn bad_options_are_config_errors() {
        for q in [
            "pool_size=0",
            "pool_size=x",
            "connect_timeout=0",
            "connect_timeout=-1",
            "connect_timeout=NaN",
            "create_table=maybe",
            "table=",
            "max_session_bytes=0",
            "max_session_bytes=1e6",
        ] {
            let err = EngineOptions::take("mysql", &mut pairs(q)).unwrap_err();
            assert!(err.is_config(), "{q}");
        }
    }

    #[test]
    fn table_names_are_plain_identifiers() {
        for ok in ["session", "_s", "Sess_2024", &"a".repeat(63)] {
            assert!(validate_table("pg", ok).is_ok(), "{ok}");
        }
        for bad in [
            "session; DROP TABLE x",
            "1abc",
            "a-b",
            "a.b",
            "`x`",
            "\"x\"",
            "sé",
            "",
            &"a".repeat(64),
        ] {
            assert!(validate_table("pg", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_userinfo("mysql://u:s3cr@t@h:3306/db?x=1"),
            "mysql://u:***@h:3306/db?x=1"
        );
        assert_eq!(
            redact_userinfo("root:pw@tcp(127.0.0.1:3306)/test"),
            "root:***@tcp(127.0.0.1:3306)/test"
        );
        assert_eq!(redact_userinfo("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_userinfo("u@/db"), "u@/db");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "charset=utf8&table=sess_5&pool_size=5&connect_timeout=0.5&create_table=false",
        "call_timeout=5s&max_session_bytes=5",
    ];

    /// The engine's DSN options: taken or a config error, never a panic.
    #[test]
    fn sql_options_never_panic() {
        let take = |raw: &str| {
            let _ = redact_userinfo(raw);
            EngineOptions::take("mysql", &mut parse_query(raw))
        };
        fuzz::parser(SEEDS, take, |o| {
            validate_table("mysql", &o.table).is_ok() && o.max_session_bytes > 0
        });
    }
}
