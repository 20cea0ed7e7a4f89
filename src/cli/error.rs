//! Why a command failed, and what to change.

use std::error::Error as _;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Error as ConfigError;
use crate::session::Error as SessionError;
use crate::web::StartError;

/// What an error's hint needs from the loaded app.conf: where a key was
/// set, and the engine it names.
pub(crate) trait KeyOrigins {
    /// Where `key`'s value came from, in words: `conf/app.conf:7 [dev]`.
    fn describe(&self, key: &str) -> String;
    /// The configured engine's name.
    fn provider(&self) -> &str;
}

/// A failed command. [`CliError::report`] renders it with its causes and
/// a line saying what to change.
///
/// # Examples
///
/// ```
/// use actix_bee::cli::CliError;
///
/// let err = CliError::NoFile { path: "conf/app.conf".into() };
/// assert!(err.report().contains("conf/app.conf"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The file does not exist.
    #[error("{}: no such file", path.display())]
    NoFile {
        /// The path given.
        path: PathBuf,
    },
    /// The file (or a value in it) is one the app would refuse at start-up.
    #[error("the configuration is refused: {source}")]
    Config {
        /// The loader's error, naming the file and line or the key (boxed: it is large).
        source: Box<ConfigError>,
        /// Where the offending key was set, when the error names one.
        at: Option<String>,
    },
    /// The session engine did not start or a session call failed.
    #[error("{step}: {source}")]
    Session {
        /// What was being done: `start`, `write`, `count`...
        step: &'static str,
        /// The session core's error.
        source: SessionError,
        /// What to change.
        hint: Option<String>,
    },
    /// A step took longer than `--timeout`.
    #[error("{step}: no answer within {after:?}")]
    Timeout {
        /// The step.
        step: &'static str,
        /// The limit.
        after: Duration,
        /// Where the backend's address was set.
        hint: String,
    },
    /// A step ran but the backend did not do what it should have.
    #[error("{step}: {what}")]
    Check {
        /// The step.
        step: &'static str,
        /// What went wrong.
        what: String,
    },
    /// `sessions destroy` was given something that is not an id of this configuration.
    #[error("not a session id of this configuration: {reason}")]
    BadId {
        /// What an id looks like here.
        reason: String,
    },
    /// The app built no session manager (cannot happen with sessions forced on).
    #[error("the app built no session manager")]
    NoManager,
    /// Writing the output failed.
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

impl CliError {
    pub(crate) fn config(source: ConfigError, loaded: Option<&dyn KeyOrigins>) -> CliError {
        let at = match (&source, loaded) {
            (ConfigError::InvalidValue { key, .. }, Some(l)) => {
                let key = key.split('.').next().unwrap_or(key);
                Some(format!("{key} is set at {}", l.describe(key)))
            }
            _ => None,
        };
        CliError::Config {
            source: Box::new(source),
            at,
        }
    }

    pub(crate) fn start(e: StartError, loaded: &dyn KeyOrigins) -> CliError {
        match e {
            StartError::Config(source) => CliError::config(source, Some(loaded)),
            StartError::Session(source) => CliError::session("start", source, loaded),
            StartError::Io(source) => CliError::Output(source),
            // The app parses viewspath at start; a view that does not parse
            // stops it as it would stop the app.
            StartError::Template(source) => CliError::Check {
                step: "templates",
                what: source.to_string(),
            },
            StartError::Xsrf(source) => CliError::Check {
                step: "xsrf",
                what: format!(
                    "{source} (xsrfkey is set at {})",
                    loaded.describe("xsrfkey")
                ),
            },
        }
    }

    pub(crate) fn session(
        step: &'static str,
        source: SessionError,
        l: &dyn KeyOrigins,
    ) -> CliError {
        let provider = format!("sessionprovider ({})", l.describe("sessionprovider"));
        let config = format!(
            "sessionproviderconfig ({})",
            l.describe("sessionproviderconfig")
        );
        let hint = match &source {
            SessionError::UnknownProvider { .. } => {
                Some(format!("set {provider} to one of the known names"))
            }
            SessionError::Config { engine, .. } if *engine == crate::session::CORE => {
                Some("fix the session keys named above".to_owned())
            }
            SessionError::Config { .. } => Some(format!("fix {config}")),
            SessionError::Backend { .. } | SessionError::Timeout { .. } => Some(format!(
                "check that the {} server named in {config} runs, is reachable and accepts \
                 these credentials",
                l.provider()
            )),
            SessionError::Unsupported { .. } => Some(unsupported_hint(l.provider(), &provider)),
            SessionError::InvalidOwner { .. } => {
                Some("give the user id exactly as the app passes it to set_owner".to_owned())
            }
            SessionError::Corrupt(_) => Some(format!(
                "the store holds data in another format: check sessionstoreformat ({})",
                l.describe("sessionstoreformat")
            )),
            _ => None,
        };
        CliError::Session { step, source, hint }
    }

    /// The message, its causes one per line, and what to change.
    ///
    /// # Examples
    ///
    /// See [`CliError`].
    pub fn report(&self) -> String {
        let mut out = format!("error: {self}");
        // The Display of `Config` and `Session` already holds their source's text.
        let mut cause = match self {
            CliError::Config { source, .. } => source.source(),
            CliError::Session { source, .. } => source.source(),
            other => other.source(),
        };
        while let Some(e) = cause {
            let _ = write!(out, "\n  caused by: {e}");
            cause = e.source();
        }
        let hint = match self {
            CliError::NoFile { .. } => {
                Some("give the app.conf to read (the app would run on beego's defaults)".into())
            }
            CliError::Config { at, .. } => at.clone(),
            CliError::Session { hint, .. } => hint.clone(),
            CliError::Timeout { hint, .. } => Some(hint.clone()),
            _ => None,
        };
        if let Some(hint) = hint {
            let _ = write!(out, "\n  to fix: {hint}");
        }
        out
    }
}

/// What to do on an engine without an owner index.
fn unsupported_hint(engine: &str, provider: &str) -> String {
    let instead = if engine == "cookie" {
        "change the cookie engine's securityKey to end every session at once"
    } else {
        "end them one by one with `actix-bee sessions destroy ID`, with ids the app \
         records at login"
    };
    format!(
        "sessions by owner need an engine that keeps an owner index (memory, file, \
         redis, redis_cluster, redis_sentinel, mysql, postgresql): set {provider} to \
         one of them, or {instead}"
    )
}
