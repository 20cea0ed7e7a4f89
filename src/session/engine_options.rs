//! Option parsing shared by the engines that take options in their config.

use std::time::Duration;

/// A timeout option in seconds, in (0, 3600].
#[cfg(any(
    feature = "memcache",
    feature = "couchbase",
    feature = "mysql",
    feature = "postgresql"
))]
pub(crate) fn timeout_secs(engine: &str, name: &str, raw: &str) -> super::error::Result<Duration> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            super::error::Error::Config(format!(
                "{engine}: {name} must be a number of seconds in (0, 3600]"
            ))
        })
}

/// A Go duration (`300ms`, `5s`, `1m30s`), as beego's configs carry them;
/// `None` unless it is well-formed and positive.
#[cfg(any(feature = "mysql", feature = "redis"))]
pub(crate) fn go_duration(text: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
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
        total += number * scale;
        rest = rest.get(unit_len..)?;
    }
    (total.is_finite() && total > 0.0).then(|| Duration::from_secs_f64(total))
}

/// Decodes `%XX` escapes (URL user info and paths); `None` on a bad escape
/// or bytes that are not UTF-8.
#[cfg(any(feature = "redis", feature = "couchbase"))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "redis", feature = "couchbase"))]
    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b%3Ac").as_deref(), Some("a@b:c"));
        for bad in ["%", "%4", "%zz", "%ff"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }

    #[cfg(any(feature = "mysql", feature = "redis"))]
    #[test]
    fn go_durations() {
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("300ms"), Some(Duration::from_millis(300)));
        for bad in ["", "5", "5x", "0s", "-1s"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }

    #[cfg(any(
        feature = "memcache",
        feature = "couchbase",
        feature = "mysql",
        feature = "postgresql"
    ))]
    #[test]
    fn timeouts_are_positive_seconds_up_to_an_hour() {
        assert_eq!(
            timeout_secs("x", "t", " 0.5 ").unwrap(),
            Duration::from_millis(500)
        );
        for bad in ["0", "-1", "inf", "NaN", "3601", "x"] {
            assert!(matches!(
                timeout_secs("x", "t", bad),
                Err(crate::session::Error::Config(_))
            ));
        }
    }
}
