//! Layering app.conf, the environment and code overrides with the `config`
//! crate, each value tagged with its [`Origin`] as its layer is added.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ::config::{Config, Environment, Source};

use super::bconfig::BConfig;
use super::error::Error;
use super::ini::{AppConf, DEFAULT_SECTION};
use super::keys::{slot, SetError};
use super::layer::{
    keep_layer_value, keep_override, warn_if_not_implemented, warn_unparsable, SectionSource,
};
use super::origin::{Explained, Origin};

/// Builds a [`BConfig`] from layered sources, lowest priority first:
///
/// 1. beego's defaults ([`BConfig::default`]);
/// 2. the app.conf default section;
/// 3. the app.conf section named by the run mode (`[dev]` when the run mode is `dev`);
/// 4. environment variables `<PREFIX>_<KEY>` (prefix `BEEGO`, key case-insensitive),
///    e.g. `BEEGO_SESSIONON=true`;
/// 5. values given with [`Loader::with_override`].
///
/// Code can still change any field of the returned [`BConfig`] afterwards.
///
/// Values are typed with beego's rules in every layer: a value that does not
/// parse (`sessiongcmaxlifetime = abc`, `sessionon = yES`) is skipped with a
/// `tracing` warning naming the key, the value and where it came from, so the
/// layer below it (ultimately beego's default) stays in force. An empty value
/// of a string key in a file or the environment counts as unset, as in beego.
///
/// The run mode is, highest first: an override of `runmode`, `<PREFIX>_RUNMODE`,
/// `[prod] runmode`, `runmode` in the default section, then `prod`.
/// Difference from beego: the environment's run mode also picks the overlay
/// section (beego uses the file's run mode for that and applies
/// `BEEGO_RUNMODE` only afterwards).
///
/// # Examples
///
/// ```
/// use actix_bee::config::Loader;
///
/// let cfg = Loader::new()
///     .with_env_vars([("BEEGO_SESSIONON", "true"), ("BEEGO_HTTPPORT", "9000")])
///     .with_override("httpport", "9100")
///     .load_str("sessionon = false\nhttpport = 8000\n", ".")?;
/// assert!(cfg.web_config.session.session_on);
/// assert_eq!(cfg.listen.http_port, 9100);
/// # Ok::<(), actix_bee::config::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Loader {
    env_prefix: String,
    env: Option<Vec<(String, String)>>,
    overrides: Vec<(String, String)>,
}

impl Default for Loader {
    fn default() -> Self {
        Loader {
            env_prefix: "BEEGO".to_owned(),
            env: None,
            overrides: Vec::new(),
        }
    }
}

impl Loader {
    /// A loader with the `BEEGO` prefix, reading the process environment.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = actix_bee::config::Loader::new().load_str("", ".")?;
    /// assert_eq!(cfg.app_name, "beego");
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `<prefix>_` instead of `BEEGO_` for environment overrides and the
    /// run-mode variable (`<prefix>_RUNMODE`).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::Loader;
    ///
    /// let cfg = Loader::new()
    ///     .with_env_prefix("MYAPP")
    ///     .with_env_vars([("MYAPP_APPNAME", "x"), ("BEEGO_APPNAME", "ignored")])
    ///     .load_str("", ".")?;
    /// assert_eq!(cfg.app_name, "x");
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    pub fn with_env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env_prefix = prefix.into();
        self
    }

    /// Reads environment overrides from these pairs instead of the process
    /// environment (`${VAR}` inside app.conf still reads the process environment).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::Loader;
    ///
    /// let cfg = Loader::new().with_env_vars([("BEEGO_RUNMODE", "dev")]).load_str("", ".")?;
    /// assert_eq!(cfg.run_mode, "dev");
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    pub fn with_env_vars<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets a value in code, above every other layer; `key` is an app.conf key
    /// (case-insensitive). Unknown keys and unparsable values are skipped with a warning.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::Loader;
    ///
    /// let cfg = Loader::new().with_override("SessionOn", "on").load_str("sessionon = off", ".")?;
    /// assert!(cfg.web_config.session.session_on);
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    pub fn with_override(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.overrides
            .push((key.into().to_lowercase(), value.into()));
        self
    }

    /// Loads `conf/app.conf` (or `conf/<RUNMODE>.app.conf` when `<PREFIX>_RUNMODE`
    /// is set) from the working directory, else from the executable's directory,
    /// else uses defaults.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cfg = actix_bee::config::Loader::new().load()?;
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the working directory is unknown or the file exists
    /// but cannot be read; otherwise as [`Loader::load_str`].
    pub fn load(&self) -> Result<BConfig, Error> {
        let cwd = std::env::current_dir().map_err(|source| Error::Io {
            path: PathBuf::from("."),
            source,
        })?;
        let file = self.conf_path(&cwd);
        if file.exists() {
            return self.load_from(&file);
        }
        // beego falls back to the binary's directory when the working dir has no conf/.
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        if let Some(exe_dir) = &exe_dir {
            let alt = self.conf_path(exe_dir);
            if alt.exists() {
                return self.load_from(&alt);
            }
        }
        // Said loudly: the defaults listen on every interface (0.0.0.0:8080).
        tracing::warn!(
            "no {} in {} (nor beside the binary, in {}): using beego's defaults",
            file.strip_prefix(&cwd).unwrap_or(&file).display(),
            cwd.display(),
            exe_dir.as_deref().unwrap_or(Path::new("?")).display(),
        );
        self.build(None)
    }

    /// Like [`Loader::load`], with `work_dir` instead of the working directory
    /// and no fallback to the executable's directory.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join("conf")).unwrap();
    /// std::fs::write(dir.path().join("conf/app.conf"), "appname = here").unwrap();
    /// let cfg = actix_bee::config::Loader::new().load_in(dir.path())?;
    /// assert_eq!(cfg.app_name, "here");
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Loader::load_from`].
    pub fn load_in(&self, work_dir: impl AsRef<Path>) -> Result<BConfig, Error> {
        self.load_from(self.conf_path(work_dir.as_ref()))
    }

    /// The file [`Loader::load_in`] reads under `work_dir`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::Loader;
    /// use std::path::Path;
    ///
    /// let l = Loader::new().with_env_vars([("BEEGO_RUNMODE", "dev")]);
    /// assert_eq!(l.conf_path(Path::new("app")), Path::new("app/conf/dev.app.conf"));
    /// ```
    pub fn conf_path(&self, work_dir: &Path) -> PathBuf {
        let env = self.env_vars();
        let name = match self.env_entry(&env, "runmode") {
            Some((_, mode)) if !mode.is_empty() => format!("{mode}.app.conf"),
            _ => "app.conf".to_owned(),
        };
        work_dir.join("conf").join(name)
    }

    /// Loads one app.conf file; a missing file means defaults (with a warning).
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = actix_bee::config::Loader::new().load_from("missing/app.conf")?;
    /// assert_eq!(cfg.listen.http_port, 8080);
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file exists but cannot be read, then as [`Loader::load_str`].
    pub fn load_from(&self, path: impl AsRef<Path>) -> Result<BConfig, Error> {
        let path = path.as_ref();
        match AppConf::parse_file(path) {
            Ok(conf) => self.build(Some(&conf)),
            Err(Error::Io { path: p, source })
                if p == path && source.kind() == std::io::ErrorKind::NotFound =>
            {
                tracing::warn!("{}: app.conf not found, using defaults", path.display());
                self.build(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Loads app.conf text; relative includes resolve against `base_dir`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = actix_bee::config::Loader::new().load_str("sessionname = sid", ".")?;
    /// assert_eq!(cfg.web_config.session.session_name, "sid");
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Syntax`], [`Error::Io`], [`Error::IncludeCycle`] or
    /// [`Error::IncludeTooDeep`] from parsing; [`Error::InvalidValue`] for a bad
    /// `sessioncookiesamesite` or `sessionhashfunc`; [`Error::SessionConfigJson`]
    /// when `sessionconfig` is not a JSON object; [`Error::Layer`] if `config` fails.
    pub fn load_str(&self, text: &str, base_dir: impl AsRef<Path>) -> Result<BConfig, Error> {
        let conf = AppConf::parse_str(text, base_dir)?;
        self.build(Some(&conf))
    }

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

    fn build(&self, conf: Option<&AppConf>) -> Result<BConfig, Error> {
        self.build_traced(conf, None)
    }

    /// The merge; with `trace`, also the origin of every key that took a value.
    fn build_traced(
        &self,
        conf: Option<&AppConf>,
        mut trace: Option<&mut BTreeMap<String, Origin>>,
    ) -> Result<BConfig, Error> {
        let env = self.env_vars();
        let (run_mode, run_mode_origin) = self.resolve_run_mode(conf, &env);
        // Each value's origin, noted as its layer is added: a later layer
        // replaces an earlier one's, exactly as the merge does.
        let mut layered: BTreeMap<String, Origin> = BTreeMap::new();

        let mut builder = Config::builder();
        if let Some(conf) = conf {
            for section in [DEFAULT_SECTION.to_owned(), run_mode.to_lowercase()] {
                builder = builder.add_source(SectionSource::new(conf, &section, &mut layered));
            }
        }

        let prefix = format!("{}_", self.env_prefix).to_lowercase();
        let mut env_layer = ::config::Map::<String, String>::new();
        for (name, value) in &env {
            let lower = name.to_lowercase();
            let key = lower.strip_prefix(&prefix).unwrap_or_default();
            // Empty variables are unset, as `export BEEGO_X=` usually means.
            if key != "runmode"
                && !value.is_empty()
                && keep_layer_value(key, value, &format!("environment variable {name}"))
            {
                layered.insert(key.to_owned(), Origin::Env { var: name.clone() });
                env_layer.insert(name.clone(), value.clone());
            }
        }
        builder = builder.add_source(
            Environment::with_prefix(&self.env_prefix)
                .prefix_separator("_")
                .source(Some(env_layer)),
        );

        for (key, value) in &self.overrides {
            if key != "runmode" && keep_override(key, value) {
                layered.insert(key.clone(), Origin::Code);
                builder = builder
                    .set_override(key.as_str(), value.as_str())
                    .map_err(Error::Layer)?;
            }
        }
        layered.insert("runmode".to_owned(), run_mode_origin);
        builder = builder
            .set_override("runmode", run_mode.as_str())
            .map_err(Error::Layer)?;

        let merged = builder.build().map_err(Error::Layer)?;
        let values: BTreeMap<_, _> = Source::collect(&merged)
            .map_err(Error::Layer)?
            .into_iter()
            .collect();

        let mut out = BConfig::default();
        for (key, value) in values {
            // The `config` crate's origin text (`file:line`, "the
            // environment"), for messages only.
            let origin = value.origin().unwrap_or("code").to_owned();
            let Ok(text) = value.into_string() else {
                continue;
            };
            let Some(slot) = slot(&mut out, &key) else {
                continue;
            };
            match slot.set(&text) {
                Ok(()) => {
                    warn_if_not_implemented(&key, &text, &origin);
                    if let Some(trace) = trace.as_deref_mut() {
                        let layer = layered.remove(&key).unwrap_or(Origin::Code);
                        trace.insert(key, layer);
                    }
                }
                // Every layer was filtered already; this only guards the invariant.
                Err(SetError::Unparsable) => warn_unparsable(&key, &text, &origin),
                Err(SetError::Invalid(reason)) => {
                    return Err(Error::InvalidValue {
                        key,
                        value: text,
                        origin,
                        reason,
                    })
                }
                Err(SetError::Json(e)) => return Err(Error::SessionConfigJson(e)),
            }
        }
        Ok(out)
    }

    /// The run mode and where it came from, highest first: an override of
    /// `runmode`, `<PREFIX>_RUNMODE`, `[prod] runmode`, `runmode` in the
    /// default section, then `prod`.
    fn resolve_run_mode(
        &self,
        conf: Option<&AppConf>,
        env: &[(String, String)],
    ) -> (String, Origin) {
        if let Some((_, mode)) = self
            .overrides
            .iter()
            .rev()
            .find(|(k, v)| k == "runmode" && !v.is_empty())
        {
            return (mode.clone(), Origin::Code);
        }
        if let Some((var, mode)) = self.env_entry(env, "runmode") {
            if !mode.is_empty() {
                return (
                    mode.to_owned(),
                    Origin::Env {
                        var: var.to_owned(),
                    },
                );
            }
        }
        // beego reads `RunMode` while BConfig.RunMode is still "prod", hence `prod::runmode` first.
        conf.and_then(|c| {
            [("prod", "prod::runmode"), (DEFAULT_SECTION, "runmode")]
                .into_iter()
                .find_map(|(section, key)| {
                    let entry = c.entry(key).filter(|e| !e.value.is_empty())?;
                    Some((entry.value.clone(), Origin::file(entry, section)))
                })
        })
        .unwrap_or_else(|| ("prod".to_owned(), Origin::Default))
    }

    /// The variables that carry the prefix, from the injected list or the process.
    fn env_vars(&self) -> Vec<(String, String)> {
        let prefix = format!("{}_", self.env_prefix).to_lowercase();
        let has_prefix = |name: &str| name.to_lowercase().starts_with(&prefix);
        if let Some(vars) = &self.env {
            return vars
                .iter()
                .filter(|(k, _)| has_prefix(k))
                .cloned()
                .collect();
        }
        std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok().filter(|k| has_prefix(k))?;
                match v.into_string() {
                    Ok(v) => Some((k, v)),
                    Err(_) => {
                        tracing::warn!("environment variable {k} is not valid UTF-8; ignored");
                        None
                    }
                }
            })
            .collect()
    }

    /// The last variable named `<prefix>_<key>` (case-insensitive): its
    /// name as set, and its value.
    fn env_entry<'e>(&self, env: &'e [(String, String)], key: &str) -> Option<(&'e str, &'e str)> {
        let wanted = format!("{}_{}", self.env_prefix, key).to_lowercase();
        env.iter()
            .rev()
            .find(|(k, _)| k.to_lowercase() == wanted)
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl BConfig {
    /// Loads `conf/app.conf` from the working directory, as beego does at start-up.
    ///
    /// With `BEEGO_RUNMODE` set, `conf/<BEEGO_RUNMODE>.app.conf` is read instead;
    /// when the file is not under the working directory, the executable's
    /// directory is tried. No file at all means beego's defaults. `BEEGO_*`
    /// environment variables override the file; see [`Loader`] for the layers.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cfg = actix_bee::config::BConfig::load()?;
    /// println!("listening on {}:{}", cfg.listen.http_addr, cfg.listen.http_port);
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// See [`Loader::load`].
    pub fn load() -> Result<BConfig, Error> {
        Loader::new().load()
    }

    /// Loads one file (a missing file means defaults), with the usual layering.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = actix_bee::config::BConfig::load_from("no/such/app.conf")?;
    /// assert_eq!(cfg.app_name, "beego");
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// See [`Loader::load_from`].
    pub fn load_from(path: impl AsRef<Path>) -> Result<BConfig, Error> {
        Loader::new().load_from(path)
    }

    /// Parses app.conf text; relative includes resolve against `base_dir`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::BConfig;
    ///
    /// let cfg = BConfig::from_str_with_base("runmode = dev\nhttpport = 80\n[dev]\nhttpport = 8000\n", ".")?;
    /// assert_eq!((cfg.run_mode.as_str(), cfg.listen.http_port), ("dev", 8000));
    /// # Ok::<(), actix_bee::config::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// See [`Loader::load_str`].
    pub fn from_str_with_base(text: &str, base_dir: impl AsRef<Path>) -> Result<BConfig, Error> {
        Loader::new().load_str(text, base_dir)
    }
}
