//! What the key-value engines (memcache, couchbase) share: key naming,
//! prefix and timeout checks, CAS back-off, and the store they return.

use std::time::Duration;

use crate::session::error::{Error, Result};
use crate::session::id::SessionId;

/// memcached's and Couchbase's key limit.
pub(crate) const MAX_KEY_BYTES: usize = 250;
/// Longest id [`IdGenerator`](crate::session::IdGenerator) mints without a
/// `sessionidprefix`: 64 random bytes, hex encoded.
const LONGEST_PLAIN_ID: usize = 128;
/// CAS attempts before an update gives up: enough for dozens of requests
/// writing one session at the same instant.
pub(crate) const CAS_ATTEMPTS: u32 = 200;

/// The key of a session, within [`MAX_KEY_BYTES`].
pub(crate) fn session_key(prefix: &str, sid: &SessionId, what: &'static str) -> Result<String> {
    let key = format!("{prefix}{}", sid.as_str());
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::TooLarge {
            what,
            size: key.len(),
            limit: MAX_KEY_BYTES,
        });
    }
    Ok(key)
}

/// Checks a configured prefix: allowed bytes, and room for the longest id.
pub(crate) fn check_prefix(
    engine: &'static str,
    prefix: &str,
    allowed: fn(u8) -> bool,
    allowed_text: &str,
) -> Result<()> {
    if !prefix.bytes().all(allowed) {
        return Err(Error::config(
            engine,
            format!("prefix may only hold {allowed_text}"),
        ));
    }
    if prefix.len() + LONGEST_PLAIN_ID > MAX_KEY_BYTES {
        return Err(Error::config(
            engine,
            format!(
                "prefix is {} bytes; keys must stay within {MAX_KEY_BYTES} bytes, so at most {} are allowed",
                prefix.len(),
                MAX_KEY_BYTES - LONGEST_PLAIN_ID
            ),
        ));
    }
    Ok(())
}

/// A random pause that spreads out writers which lost a CAS race.
pub(crate) fn cas_backoff(attempt: u32) -> Duration {
    let cap = u64::from(attempt.min(10)) + 1;
    Duration::from_micros(rand::random_range(0..cap * 500))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_timeouts() {
        let ok = |b: u8| b.is_ascii_alphanumeric() || b == b':';
        assert!(check_prefix("x", "app:s:", ok, "letters").is_ok());
        assert!(check_prefix("x", "a b", ok, "letters").is_err());
        assert!(check_prefix("x", &"p".repeat(122), ok, "letters").is_ok());
        assert!(check_prefix("x", &"p".repeat(123), ok, "letters").is_err());
        assert!(cas_backoff(1000) < Duration::from_millis(6));
    }
}
