//! Where each resolved key's value came from (`actix-bee config`).
//!
//! The loader tags every value with its [`Origin`] as it adds the value's
//! layer; [`Loader::explain_from`](super::Loader::explain_from) keeps, per
//! key that took a value, the origin of the layer that won.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::bconfig::BConfig;
use super::ini::{Entry, FromEnv};
use super::keys::{keys, slot};

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

impl Origin {
    /// The origin of a file entry in `section`.
    pub(crate) fn file(entry: &Entry, section: &str) -> Origin {
        Origin::File {
            path: entry.file.clone(),
            line: entry.line,
            section: section.to_owned(),
            from_env: entry.from_env.clone(),
        }
    }
}
