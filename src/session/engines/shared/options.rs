//! One grammar for engine options, whatever engine or config shape carries
//! them: durations, booleans, pool sizes, host lists and secrets.

// Each helper serves several engines; a build with few engines uses few.
#![cfg_attr(
    not(all(
        feature = "memcache",
        feature = "couchbase",
        feature = "mysql",
        feature = "postgresql",
        feature = "redis"
    )),
    allow(dead_code)
)]

use std::fmt;
use std::time::Duration;

use crate::session::error::{Error, Result};

/// The key prefix of the networked key-value engines (redis, memcache,
/// couchbase) when none is configured. A fixed library prefix keeps an
/// application's own cache keys from ever aliasing a session
/// (CVE-2011-4136). Sessions written under another prefix, such as
/// `actixbee:s:`, the prefix memcache and couchbase once used by default,
/// are read again by configuring that prefix explicitly.
pub(crate) const DEFAULT_KEY_PREFIX: &str = "actix-bee:session:";

/// Longest timeout any engine accepts.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Bounds of every engine's `pool_size`.
pub(crate) const POOL_SIZE: std::ops::RangeInclusive<u32> = 1..=1024;
/// The largest session every engine stores without a `max_session_bytes`
/// option, as [`session_bytes`](crate::session::engine::skeleton::session_bytes) counts it:
/// 256 KiB, far above what a login needs and small enough that a flood of
/// large sessions cannot exhaust a backend quickly.
pub(crate) const DEFAULT_MAX_SESSION_BYTES: usize = 256 * 1024;

/// A duration: Go's syntax (`300ms`, `5s`, `1m30s`, `1.5h`) or plain
/// seconds (`30`, `0.5`). `None` unless well-formed, non-negative and
/// representable: absurd values (`1e20`, `u64::MAX` hours) are refused,
/// never a panic.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = text.parse().ok()?;
        return Duration::try_from_secs_f64(secs).ok();
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest.get(..split)?.parse().ok()?;
        rest = rest.get(split..)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match rest.get(..unit_len)? {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        let part = Duration::try_from_secs_f64(number * scale).ok()?;
        total = total.checked_add(part)?;
        rest = rest.get(unit_len..)?;
    }
    Some(total)
}

/// A duration option ([`parse_duration`]), zero allowed.
pub(crate) fn duration(engine: &'static str, name: &str, raw: &str) -> Result<Duration> {
    parse_duration(raw).ok_or_else(|| {
        Error::config(
            engine,
            format!("{name} must be a duration such as 5s, 500ms or 30 (seconds)"),
        )
    })
}

/// A timeout option: a duration in (0, 1 h].
pub(crate) fn timeout(engine: &'static str, name: &str, raw: &str) -> Result<Duration> {
    parse_duration(raw)
        .filter(|d| !d.is_zero() && *d <= MAX_TIMEOUT)
        .ok_or_else(|| {
            Error::config(
                engine,
                format!("{name} must be a duration in (0, 1h], such as 5s, 500ms or 2.5"),
            )
        })
}

/// A boolean option: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in
/// any case.
pub(crate) fn boolean(engine: &'static str, name: &str, raw: &str) -> Result<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::config(
            engine,
            format!("{name} must be true or false"),
        )),
    }
}

/// A `pool_size` option, in [`POOL_SIZE`].
pub(crate) fn pool_size(engine: &'static str, name: &str, raw: &str) -> Result<u32> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| POOL_SIZE.contains(n))
        .ok_or_else(|| {
            Error::config(
                engine,
                format!(
                    "{name} must be {} to {}",
                    POOL_SIZE.start(),
                    POOL_SIZE.end()
                ),
            )
        })
}

/// A non-negative integer option.
pub(crate) fn number<T: std::str::FromStr>(
    engine: &'static str,
    name: &str,
    raw: &str,
) -> Result<T> {
    raw.trim()
        .parse()
        .map_err(|_| Error::config(engine, format!("{name} must be a non-negative integer")))
}

/// A positive count or byte size (`max_session_bytes`, `max_sessions`,
/// `max_bytes`).
pub(crate) fn positive(engine: &'static str, name: &str, raw: &str) -> Result<usize> {
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::config(engine, format!("{name} must be a positive integer")))
}

/// Splits a host list on `;` (beego) and `,`, trimmed, empty entries
/// dropped.
pub(crate) fn split_hosts(list: &str) -> impl Iterator<Item = &str> {
    list.split([';', ','])
        .map(str::trim)
        .filter(|h| !h.is_empty())
}

/// Decodes `%XX` escapes (URL user info, paths and queries); `None` on a
/// bad escape or bytes that are not UTF-8.
pub(crate) fn percent_decode(raw: &str) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            rest = tail.get(2..).unwrap_or_default();
        } else {
            out.push(b);
            rest = tail;
        }
    }
    String::from_utf8(out).ok()
}

/// A password or key: `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps a secret; an empty one is `None`.
    pub(crate) fn new(value: impl Into<String>) -> Option<Secret> {
        let value = value.into();
        (!value.is_empty()).then_some(Secret(value))
    }

    /// The secret itself, for the client that needs it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_duration_grammar() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_duration(" 30 "), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in ["", "5x", "-1s", "-1", "s", "1e20", "1e20s", "NaN", "inf"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        // Absurd but well-formed numbers: refused, never a panic.
        for absurd in [
            u64::MAX.to_string(),
            format!("{}h", u64::MAX),
            format!("{}s{}s", u64::MAX / 2, u64::MAX / 2),
            "9".repeat(400),
        ] {
            assert_eq!(parse_duration(&absurd), None, "{absurd}");
            assert!(timeout("x", "t", &absurd).unwrap_err().is_config());
        }
    }

    #[test]
    fn timeouts_are_positive_up_to_an_hour() {
        assert_eq!(
            timeout("x", "t", " 0.5 ").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(timeout("x", "t", "2s").unwrap(), Duration::from_secs(2));
        for bad in ["0", "0s", "-1", "inf", "NaN", "3601", "2h", "x"] {
            assert!(timeout("x", "t", bad).unwrap_err().is_config(), "{bad}");
        }
    }

    #[test]
    fn booleans_pools_and_hosts() {
        assert!(boolean("x", "b", "ON").unwrap());
        assert!(!boolean("x", "b", "0").unwrap());
        assert!(boolean("x", "b", "maybe").is_err());
        assert_eq!(pool_size("x", "p", "1024").unwrap(), 1024);
        for bad in ["0", "1025", "-1", "x"] {
            assert!(pool_size("x", "p", bad).is_err(), "{bad}");
        }
        assert_eq!(
            split_hosts(" a:1 ; b:2,,c ").collect::<Vec<_>>(),
            ["a:1", "b:2", "c"]
        );
    }

    #[test]
    fn percent_decoding_and_secrets() {
        assert_eq!(percent_decode("a%40b%3Ac").as_deref(), Some("a@b:c"));
        for bad in ["%", "%4", "%zz", "%ff"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
        let s = Secret::new("hunter2").unwrap();
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(s.expose(), "hunter2");
        assert!(Secret::new("").is_none());
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;
    use crate::session::engines::shared::fuzz::{config_string, CASES};

    const SEEDS: &[&str] = &[
        "5s",
        "1m30s",
        "0.5",
        "300ms",
        "1.5h",
        "2h5m",
        "true",
        "off",
        "16",
        "a:5;b:2,c",
        "a%40b",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        /// Every option parser: a value or a config error, never a panic;
        /// a timeout is always in (0, 1 h].
        #[test]
        fn option_grammar_never_panics(raw in config_string(SEEDS)) {
            let results = [
                duration("x", "d", &raw).map(drop),
                boolean("x", "b", &raw).map(drop),
                pool_size("x", "p", &raw).map(drop),
                number::<u64>("x", "n", &raw).map(drop),
                positive("x", "m", &raw).map(drop),
            ];
            for result in results {
                if let Err(e) = result {
                    prop_assert!(e.is_config());
                }
            }
            match timeout("x", "t", &raw) {
                Ok(t) => prop_assert!(!t.is_zero() && t <= MAX_TIMEOUT),
                Err(e) => prop_assert!(e.is_config()),
            }
            prop_assert!(split_hosts(&raw).all(|h| !h.is_empty()));
            let _ = percent_decode(&raw);
        }
    }
}
