//! The file engine's `sessionproviderconfig`: the directory, then options
//! in a query string (`/var/lib/app/sessions?max_sessions=50000`).

use crate::session::engines::shared::options::{self, DEFAULT_MAX_SESSION_BYTES};
use crate::session::error::{Error, Result};

const NAME: &str = "file";
/// Session files the directory holds without `max_sessions`.
pub(super) const DEFAULT_MAX_SESSIONS: usize = 100_000;
/// Bytes of session files the directory holds without `max_bytes`: 1 GiB.
pub(super) const DEFAULT_MAX_BYTES: u64 = 1 << 30;
const KEYS: &str = "max_sessions, max_bytes, max_session_bytes";

/// The parsed config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileConfig {
    /// The session directory, as configured.
    pub dir: String,
    /// Most session files in the directory.
    pub max_sessions: usize,
    /// Most bytes of session files in the directory.
    pub max_bytes: u64,
    /// The largest session (the skeleton's measure).
    pub max_session_bytes: usize,
}

impl FileConfig {
    /// `dir` alone (beego's form), or `dir?name=value&...`. A directory
    /// whose name holds `?` cannot be named here: the part after the last
    /// `?` is always read as options, and an unknown one is an error, never
    /// a silently different directory.
    pub(super) fn parse(config: &str) -> Result<FileConfig> {
        let config = config.trim();
        let (dir, query) = config.rsplit_once('?').unwrap_or((config, ""));
        let mut cfg = FileConfig {
            dir: dir.trim().to_owned(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_bytes: DEFAULT_MAX_BYTES,
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
        };
        if cfg.dir.is_empty() {
            return Err(Error::config(
                NAME,
                "sessionproviderconfig must name a directory",
            ));
        }
        for pair in query.split('&').filter(|p| !p.trim().is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = name.trim();
            match name {
                "max_sessions" => cfg.max_sessions = options::positive(NAME, name, value)?,
                "max_bytes" => {
                    cfg.max_bytes =
                        u64::try_from(options::positive(NAME, name, value)?).unwrap_or(u64::MAX);
                }
                "max_session_bytes" => {
                    cfg.max_session_bytes = options::positive(NAME, name, value)?;
                }
                _ => {
                    return Err(Error::config(
                        NAME,
                        format!(
                            "unknown option {name:?} after '?' (known: {KEYS}; \
                             a directory name may not hold '?')"
                        ),
                    ))
                }
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_alone_or_with_options() {
        let c = FileConfig::parse(" /tmp/sessions ").unwrap();
        assert_eq!(c.dir, "/tmp/sessions");
        assert_eq!(
            (c.max_sessions, c.max_bytes, c.max_session_bytes),
            (
                DEFAULT_MAX_SESSIONS,
                DEFAULT_MAX_BYTES,
                DEFAULT_MAX_SESSION_BYTES
            )
        );
        let c =
            FileConfig::parse("s?max_sessions=10&max_bytes=4096&max_session_bytes=512").unwrap();
        assert_eq!(c.dir, "s");
        assert_eq!(
            (c.max_sessions, c.max_bytes, c.max_session_bytes),
            (10, 4096, 512)
        );
        assert_eq!(FileConfig::parse("s?").unwrap().dir, "s");
    }

    #[test]
    fn bad_options_are_config_errors() {
        for bad in [
            "",
            " ?max_sessions=1",
            "s?max_sessions=0",
            "s?max_bytes=-1",
            "s?max_session_bytes=lots",
            "s?bogus=1",
            "odd?dir",
        ] {
            assert!(FileConfig::parse(bad).unwrap_err().is_config(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "/var/lib/app/sessions",
        "s?max_sessions=5&max_bytes=5&max_session_bytes=5",
        "./tmp?max_session_bytes=5",
    ];

    /// A config or a config error, never a panic.
    #[test]
    fn file_config_never_panics() {
        fuzz::parser(SEEDS, FileConfig::parse, |c| {
            !c.dir.is_empty() && c.max_sessions > 0 && c.max_bytes > 0
        });
    }
}
