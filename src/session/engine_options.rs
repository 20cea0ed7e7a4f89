//! Option parsing shared by the engines that take options in their config.

use std::time::Duration;

use super::error::{Error, Result};

/// A timeout option in seconds, in (0, 3600].
pub(crate) fn timeout_secs(engine: &str, name: &str, raw: &str) -> Result<Duration> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Error::Config(format!(
                "{engine}: {name} must be a number of seconds in (0, 3600]"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_positive_seconds_up_to_an_hour() {
        assert_eq!(
            timeout_secs("x", "t", " 0.5 ").unwrap(),
            Duration::from_millis(500)
        );
        for bad in ["0", "-1", "inf", "NaN", "3601", "x"] {
            assert!(matches!(timeout_secs("x", "t", bad), Err(Error::Config(_))));
        }
    }
}
