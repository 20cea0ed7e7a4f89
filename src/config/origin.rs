//! Where each resolved key's value came from (`actix-bee config`).
//!
//! The normal load path records nothing: [`Loader::explain_from`](super::Loader::explain_from)
//! asks the same merge to also note, per key that took a value, which layer
//! won. The file layers already carry `file:line` (the `config` crate keeps
//! it as each value's origin), so the trace only has to name the layer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use std::path::Path;

use super::bconfig::BConfig;
use super::error::Error;
use super::ini::{AppConf, Entry, FromEnv, DEFAULT_SECTION};
use super::keys::{keys, slot};
use super::loader::Loader;

/// The layer a key's value came from.
///
/// # Examples
///
/// ```
/// use actix_bee::config::{Loader, Origin};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("app.conf");
/// std::fs::write(&path, "runmode = dev\n[dev]\nsessionname = sid\n").unwrap();
/// let explained = Loader::new().with_env_vars([("BEEGO_SESSIONON", "true")]).explain_from(&path)?;
/// assert!(matches!(explained.origin("sessionname"), Origin::File { line: 3, section, .. } if section == "dev"));
/// assert!(matches!(explained.origin("sessionon"), Origin::Env { var } if var == "BEEGO_SESSIONON"));
/// assert_eq!(explained.origin("sessionprovider"), &Origin::Default);
/// # Ok::<(), actix_bee::config::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// beego's default: nothing set the key (or every value set was unparsable).
    Default,
    /// A line of app.conf or of a file it includes.
    File {
        /// The file holding the line.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The section: `default`, or the run mode's section (`dev`, ...).
        section: String,
        /// Set when the line was `${VAR||default}`.
        from_env: Option<FromEnv>,
    },
    /// A `<PREFIX>_<KEY>` environment variable (`BEEGO_SESSIONON`).
    Env {
        /// The variable's name as it is set.
        var: String,
    },
    /// [`Loader::with_override`](super::Loader::with_override).
    Code,
}

/// A loaded [`BConfig`] with the origin of every key.
///
/// # Examples
///
/// See [`Origin`].
#[derive(Debug, Clone)]
pub struct Explained {
    /// The configuration, exactly as [`Loader::load_from`](super::Loader::load_from) gives it.
    pub config: BConfig,
    pub(crate) origins: BTreeMap<String, Origin>,
}

impl Explained {
    /// Where `key`'s value came from; [`Origin::Default`] for keys nothing set.
    ///
    /// # Examples
    ///
    /// See [`Origin`].
    pub fn origin(&self, key: &str) -> &Origin {
        self.origins.get(key).unwrap_or(&Origin::Default)
    }

    /// Every app.conf key with its resolved value (booleans and numbers
    /// typed, lists in app.conf's syntax) and origin, in beego's order.
    ///
    /// # Examples
    ///
    /// ```
    /// let explained = actix_bee::config::Loader::new().explain_str("httpport = 9000", ".")?;
    /// let (_, port, _) = explained.keys().find(|(k, _, _)| *k == "httpport").unwrap();
    /// assert_eq!(port, 9000);
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = (&'static str, serde_json::Value, &Origin)> + '_ {
        let mut scratch = self.config.clone();
        keys().map(move |key| {
            let value = slot(&mut scratch, key)
                .map(|s| s.value())
                .unwrap_or_default();
            (key, value, self.origin(key))
        })
    }
}

/// The origin the `config` crate gives every value of an `Environment` source.
const ENV_ORIGIN: &str = "the environment";

impl Loader {
    /// Like [`Loader::load_from`], also saying where each key's value came
    /// from; a missing file is an [`Error::Io`] here, not defaults.
    ///
    /// # Examples
    ///
    /// See [`Origin`].
    ///
    /// # Errors
    ///
    /// As [`Loader::load_from`], and [`Error::Io`] for a missing file.
    pub fn explain_from(&self, path: impl AsRef<Path>) -> Result<Explained, Error> {
        let conf = AppConf::parse_file(path)?;
        self.explain(Some(&conf))
    }

    /// Like [`Loader::load_str`], also saying where each key's value came from.
    ///
    /// # Examples
    ///
    /// See [`Explained::keys`].
    ///
    /// # Errors
    ///
    /// As [`Loader::load_str`].
    pub fn explain_str(&self, text: &str, base_dir: impl AsRef<Path>) -> Result<Explained, Error> {
        let conf = AppConf::parse_str(text, base_dir)?;
        self.explain(Some(&conf))
    }

    fn explain(&self, conf: Option<&AppConf>) -> Result<Explained, Error> {
        let mut origins = BTreeMap::new();
        let config = self.build_traced(conf, Some(&mut origins))?;
        Ok(Explained { config, origins })
    }

    /// Names the layer of a merged value from its `config` origin: `file:line`
    /// for the file layers, "the environment", or none (`code`) for overrides.
    pub(super) fn layer_of(
        &self,
        conf: Option<&AppConf>,
        run_mode: &str,
        env: &[(String, String)],
        key: &str,
        origin: &str,
    ) -> Origin {
        if key == "runmode" {
            return self.run_mode_layer(conf, env);
        }
        if origin == ENV_ORIGIN {
            return self.env_layer(env, key);
        }
        let sections = [run_mode.to_lowercase(), DEFAULT_SECTION.to_owned()];
        sections
            .into_iter()
            .find_map(|section| {
                let entry = conf?.entry(&format!("{section}::{key}"))?;
                (format!("{}:{}", entry.file.display(), entry.line) == origin)
                    .then(|| file_layer(entry, section))
            })
            .unwrap_or(Origin::Code)
    }

    /// The run mode's own precedence, as [`Loader::resolve_run_mode`] applies it.
    fn run_mode_layer(&self, conf: Option<&AppConf>, env: &[(String, String)]) -> Origin {
        if self
            .overrides
            .iter()
            .any(|(k, v)| k == "runmode" && !v.is_empty())
        {
            return Origin::Code;
        }
        if self.env_get(env, "runmode").is_some_and(|v| !v.is_empty()) {
            return self.env_layer(env, "runmode");
        }
        [("prod", "prod::runmode"), (DEFAULT_SECTION, "runmode")]
            .into_iter()
            .find_map(|(section, key)| {
                let entry = conf?.entry(key).filter(|e| !e.value.is_empty())?;
                Some(file_layer(entry, section.to_owned()))
            })
            .unwrap_or(Origin::Default)
    }

    fn env_layer(&self, env: &[(String, String)], key: &str) -> Origin {
        let wanted = format!("{}_{}", self.env_prefix, key).to_lowercase();
        let var = env
            .iter()
            .rev()
            .find(|(k, _)| k.to_lowercase() == wanted)
            .map_or(wanted, |(k, _)| k.clone());
        Origin::Env { var }
    }
}

fn file_layer(entry: &Entry, section: String) -> Origin {
    Origin::File {
        path: entry.file.clone(),
        line: entry.line,
        section,
        from_env: entry.from_env.clone(),
    }
}
