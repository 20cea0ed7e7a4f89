//! The `actix-bee` command: what an app.conf resolves to, whether its
//! session backend works, and the sessions it holds.
//!
//! The binary (`src/bin/actix-bee.rs`) only calls [`main`]; everything is
//! here so that it is tested as a library too.
//!
//! ```text
//! actix-bee config [FILE] [--json] [--show-secrets]
//! actix-bee check [FILE] [--timeout SECS]
//! actix-bee sessions [--file FILE] count | gc | destroy ID | destroy --owner USER
//! actix-bee sessions [--file FILE] list --owner USER [--json]
//! ```
//!
//! `FILE` defaults to `conf/app.conf`. Every command reads it with the
//! app's own loader ([`Loader`], so `BEEGO_*` variables and `${VAR}` values
//! apply) and builds the session manager with the app's own code path
//! ([`web::App::build`](crate::web::App::build)).
//!
//! # Examples
//!
//! ```
//! use actix_bee::cli::{Cli, Command};
//! use clap::Parser;
//!
//! let cli = Cli::try_parse_from(["actix-bee", "config", "--json", "my.conf"]).unwrap();
//! assert!(matches!(cli.command, Command::Config { json: true, .. }));
//! ```

mod check;
mod error;
mod redact;
mod sessions;
mod show;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser, Subcommand};

use crate::config::{Explained, Loader};
use crate::session::Manager;

pub use error::CliError;
pub(crate) use error::KeyOrigins;

/// The file every command reads unless told otherwise, as beego does.
pub const DEFAULT_FILE: &str = "conf/app.conf";

/// `actix-bee`: inspect an actix-bee app's configuration and session store.
#[derive(Debug, Parser)]
#[command(name = "actix-bee", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Print the resolved configuration and where each session key came from.
    Config {
        /// The app.conf to read.
        #[arg(default_value = DEFAULT_FILE)]
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Print passwords and keys instead of masking them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Start the session engine as the app would and round-trip a throw-away session.
    Check {
        /// The app.conf to read.
        #[arg(default_value = DEFAULT_FILE)]
        file: PathBuf,
        /// Seconds each step may take.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
    /// Work on the sessions of the configured engine.
    Sessions {
        /// The app.conf to read.
        #[arg(long, short, default_value = DEFAULT_FILE)]
        file: PathBuf,
        /// What to do with them.
        #[command(subcommand)]
        action: SessionsAction,
    },
}

/// `actix-bee sessions ...`.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum SessionsAction {
    /// Print the number of live sessions.
    Count,
    /// Remove expired sessions now.
    Gc,
    /// End one session (`destroy ID`), or every session of one owner
    /// (`destroy --owner USER`: "log out everywhere").
    #[command(group(ArgGroup::new("which").required(true).args(["id", "owner"])))]
    Destroy {
        /// The session id (the cookie's value).
        id: Option<String>,
        /// End every session of this owner instead (the user id the app
        /// gave `set_owner`); needs an engine with an owner index.
        #[arg(long, value_name = "USER")]
        owner: Option<String>,
    },
    /// List the live sessions of one owner: id fingerprints, never ids.
    List {
        /// The owner (the user id the app gave `set_owner`).
        #[arg(long, value_name = "USER")]
        owner: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the arguments, runs the command, prints an error with what to
/// change; the binary's whole `main`.
///
/// Exit codes: 0 done, 1 the command failed (message on stderr), 2 bad
/// arguments (clap's).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let mut out = std::io::stdout().lock();
    match run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("{}", e.report());
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command, writing its output to `out`.
///
/// # Errors
///
/// [`CliError`], whose [`report`](CliError::report) says what to change.
///
/// # Examples
///
/// ```
/// use actix_bee::cli::{run, Cli};
/// use clap::Parser;
///
/// let dir = tempfile::tempdir().unwrap();
/// let file = dir.path().join("app.conf");
/// std::fs::write(&file, "sessionname = sid\n").unwrap();
/// let cli = Cli::try_parse_from(["actix-bee", "config", file.to_str().unwrap()]).unwrap();
/// let mut out = Vec::new();
/// run(cli, &mut out).unwrap();
/// assert!(String::from_utf8(out).unwrap().contains("sessionname"));
/// ```
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Config {
            file,
            json,
            show_secrets,
        } => {
            let loaded = Loaded::read(&file)?;
            loaded.validate()?;
            show::print(&loaded, json, show_secrets, out)
        }
        Command::Check { file, timeout } => {
            let loaded = Loaded::read(&file)?;
            block_on(check::run(
                &loaded,
                Duration::from_secs(timeout.max(1)),
                out,
            ))
        }
        Command::Sessions { file, action } => {
            let loaded = Loaded::read(&file)?;
            block_on(sessions::run(&loaded, action, out))
        }
    }
}

fn block_on<F: std::future::Future<Output = Result<(), CliError>>>(fut: F) -> Result<(), CliError> {
    actix_rt::System::new().block_on(fut)
}

/// Warnings (an unparsable value, a weak setting) go to stderr; `RUST_LOG`
/// changes the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .try_init();
}

impl KeyOrigins for Loaded {
    fn describe(&self, key: &str) -> String {
        show::origin_text(self.explained.origin(key), &self.file)
    }

    fn provider(&self) -> &str {
        &self.explained.config.web_config.session.session_provider
    }
}

/// An app.conf read with provenance, and the name it was given by.
pub(crate) struct Loaded {
    pub(crate) file: PathBuf,
    pub(crate) explained: Explained,
}

impl Loaded {
    fn read(file: &Path) -> Result<Loaded, CliError> {
        if !file.exists() {
            return Err(CliError::NoFile {
                path: file.to_path_buf(),
            });
        }
        let explained = Loader::new()
            .explain_from(file)
            .map_err(|e| CliError::config(e, None))?;
        Ok(Loaded {
            file: file.to_path_buf(),
            explained,
        })
    }

    /// The session settings the app would build, refused as the app would refuse them.
    fn validate(&self) -> Result<(), CliError> {
        self.explained
            .config
            .session_manager_config()
            .map(|_| ())
            .map_err(|e| CliError::config(e, Some(self)))
    }

    /// Builds the session manager through [`web::App::build`](crate::web::App::build),
    /// the app's own path, with sessions on even when the file leaves them off.
    pub(crate) async fn manager(&self) -> Result<Manager, CliError> {
        let mut config = self.explained.config.clone();
        config.web_config.session.session_on = true;
        let state = crate::web::App::new(config)
            .build()
            .await
            .map_err(|e| CliError::start(e, self))?;
        state.manager().cloned().ok_or(CliError::NoManager)
    }

    /// True when the file turns sessions on.
    pub(crate) fn session_on(&self) -> bool {
        self.explained.config.web_config.session.session_on
    }
}
