//! The memory engine's limits and their `sessionproviderconfig` parser.

use super::super::shared::options::{self, DEFAULT_MAX_SESSION_BYTES};
use crate::session::error::{Error, Result};

/// What the memory engine may hold; set through `sessionproviderconfig`
/// (`max_bytes=268435456,max_session_bytes=262144`, the defaults, and
/// optionally `max_sessions`).
///
/// With the defaults an app's sessions take at most about 256 MiB whatever
/// anonymous clients do: past `max_bytes` (or `max_sessions`, when set) the
/// least recently used sessions are evicted (so the sessions in use survive
/// a flood of new ones, and the app keeps serving); a session that would
/// grow past `max_session_bytes` is refused at release with
/// [`Error::TooLarge`], never cut silently.
///
/// No count limit by default: sessions are counted at their keys and
/// values plus a fixed overhead that covers what the engine holds for each,
/// so the byte limit bounds memory by itself, and a count limit would only
/// evict users' sessions while memory is still free (a one-key session is
/// counted at about 350 bytes: 256 MiB hold about 750,000 of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    pub(super) max_sessions: usize,
    pub(super) max_bytes: usize,
    pub(super) max_session_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: usize::MAX,
            max_bytes: 256 * 1024 * 1024,
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
        }
    }
}

impl Limits {
    /// beego ignores the memory provider's config, so anything without
    /// `name=value` (a leftover path, say) keeps the defaults, with a
    /// warning; `name=value` lists are read strictly.
    pub(super) fn parse(config: &str) -> Result<Limits> {
        let mut limits = Limits::default();
        let config = config.trim();
        if config.is_empty() {
            return Ok(limits);
        }
        if !config.contains('=') {
            tracing::warn!(
                "memory engine: sessionproviderconfig is not name=value options; ignored"
            );
            return Ok(limits);
        }
        for pair in config
            .split([',', ';', '&'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name.trim() {
                "max_sessions" => &mut limits.max_sessions,
                "max_bytes" => &mut limits.max_bytes,
                "max_session_bytes" => &mut limits.max_session_bytes,
                other => {
                    return Err(Error::config(
                        "memory",
                        format!("unknown option {other:?} (known: max_sessions, max_bytes, max_session_bytes)"),
                    ))
                }
            };
            *slot = options::positive("memory", name.trim(), value)?;
        }
        Ok(limits)
    }
}
