//! The one error type of the `config` layer.

use std::fmt::Write as _;
use std::path::PathBuf;

/// Why loading `app.conf` or building the session settings failed.
///
/// Every message names the file, line or key involved. Values of keys that
/// may hold secrets (hash keys, provider DSNs) never appear in a message: only
/// values of keys that are validated against a fixed set of words do.
///
/// # Examples
///
/// ```
/// use actix_bee::config::{BConfig, Error};
///
/// let err = BConfig::from_str_with_base("novalue\n", ".").unwrap_err();
/// assert!(matches!(err, Error::Syntax { line: 1, .. }));
/// assert!(err.to_string().contains("should key = val"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A config file (or an included one) exists but could not be read.
    #[error("cannot read config file {}", path.display())]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A line is neither a comment, a section, an include nor `key = value`.
    #[error("{}:{line}: read the content error: {text:?}, should key = val", path.display())]
    Syntax {
        /// The file holding the line.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending line, trimmed and cut to a bounded length.
        text: String,
    },

    /// An `include` leads back to a file that is already being read.
    #[error("include cycle in app.conf: {}", render_chain(chain))]
    IncludeCycle {
        /// The files from the outermost one to the repeated one.
        chain: Vec<PathBuf>,
    },

    /// Includes nest deeper than the parser allows.
    #[error("app.conf includes nest deeper than {limit} files at {}", path.display())]
    IncludeTooDeep {
        /// The include that went over the limit.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },

    /// An app.conf or an included file is not a regular file (a device, a
    /// FIFO, a directory): refused before anything is read from it.
    #[error("{} is not a regular file; app.conf and its includes must be", path.display())]
    NotAFile {
        /// The path named.
        path: PathBuf,
    },

    /// An app.conf and its includes read more than the parser allows
    /// ([`MAX_INCLUDED_FILES`](super::MAX_INCLUDED_FILES) files or
    /// [`MAX_CONF_BYTES`](super::MAX_CONF_BYTES) bytes in all).
    #[error("app.conf reads too much at {}: {what}", path.display())]
    TooMuchConfig {
        /// The file being read when the budget ran out.
        path: PathBuf,
        /// Which budget ran out.
        what: String,
    },

    /// The `config` crate failed while layering the sources.
    #[error("layering the configuration sources failed")]
    Layer(#[source] ::config::ConfigError),

    /// `sessionconfig` (beego's JSON `ManagerConfig`) is not valid.
    #[error("sessionconfig is not a valid beego ManagerConfig JSON object")]
    SessionConfigJson(#[source] serde_json::Error),

    /// A value that must be right at startup is not (SameSite, hash function, lifetimes...).
    #[error("invalid value {value:?} for key {key} (from {origin}): {reason}")]
    InvalidValue {
        /// The app.conf key, e.g. `sessioncookiesamesite`.
        key: String,
        /// The rejected value.
        value: String,
        /// Where the value came from: a file, the environment or code.
        origin: String,
        /// What was expected.
        reason: String,
    },
}

impl Error {
    /// Whether the error comes from the text of a config file (syntax or include structure)
    /// rather than from reading it or from a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::BConfig;
    /// assert!(BConfig::from_str_with_base("oops", ".").unwrap_err().is_syntax());
    /// ```
    pub fn is_syntax(&self) -> bool {
        matches!(
            self,
            Error::Syntax { .. }
                | Error::IncludeCycle { .. }
                | Error::IncludeTooDeep { .. }
                | Error::TooMuchConfig { .. }
                | Error::NotAFile { .. }
        )
    }
}

fn render_chain(chain: &[PathBuf]) -> String {
    let mut out = String::new();
    for (i, p) in chain.iter().enumerate() {
        if i > 0 {
            out.push_str(" -> ");
        }
        let _ = write!(out, "{}", p.display());
    }
    out
}
