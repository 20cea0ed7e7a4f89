//! [`TemplateOptions`]: the views path and beego's view settings, and how
//! the app's configuration and routes give them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Engine, TemplateError};
use crate::config::BConfig;

/// A function the app adds to the Go templates (beego's `AddFuncMap`).
#[cfg(feature = "gotmpl")]
pub type TemplateFunc = gotmpl::ValueFunc;

/// How to build [`Templates`](super::Templates): the views path and beego's view settings.
///
/// # Examples
///
/// ```
/// use actix_bee::web::{TemplateOptions, Templates};
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("a.tpl"), "<<.x>>").unwrap();
/// let t = Templates::with_options(TemplateOptions::new(dir.path()).delims("<<", ">>")).unwrap();
/// assert_eq!(t.render("a.tpl", &serde_json::json!({"x": 1})).unwrap(), "1");
/// ```
#[derive(Clone)]
pub struct TemplateOptions {
    pub(super) views_path: PathBuf,
    pub(super) engine: Engine,
    pub(super) left: String,
    pub(super) right: String,
    pub(super) reload: bool,
    pub(super) extensions: Vec<String>,
    #[cfg(feature = "gotmpl")]
    pub(super) funcs: Vec<(String, TemplateFunc)>,
    pub(super) routes: Vec<(String, String)>,
    pub(super) settings: BTreeMap<String, String>,
}

impl std::fmt::Debug for TemplateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateOptions")
            .field("views_path", &self.views_path)
            .field("engine", &self.engine)
            .field("reload", &self.reload)
            .finish_non_exhaustive()
    }
}

impl TemplateOptions {
    /// Go templates under `views_path` with beego's defaults: delimiters
    /// `{{` `}}`, files ending in `.tpl`, `.html` or `.gohtml`, no reload.
    ///
    /// # Examples
    ///
    /// See [`TemplateOptions`].
    pub fn new(views_path: impl AsRef<Path>) -> TemplateOptions {
        TemplateOptions {
            views_path: views_path.as_ref().to_path_buf(),
            engine: Engine::Go,
            left: "{{".into(),
            right: "}}".into(),
            reload: false,
            extensions: vec!["tpl".into(), "html".into(), "gohtml".into()],
            #[cfg(feature = "gotmpl")]
            funcs: Vec::new(),
            routes: Vec::new(),
            settings: BTreeMap::new(),
        }
    }

    /// The template language.
    ///
    /// # Examples
    ///
    /// ```
    /// let opts = actix_bee::web::TemplateOptions::new("views").engine(actix_bee::web::Engine::Jinja);
    /// # let _ = opts;
    /// ```
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The Go engine's action delimiters (`templateleft`, `templateright`).
    ///
    /// # Examples
    ///
    /// See [`TemplateOptions`].
    pub fn delims(mut self, left: impl Into<String>, right: impl Into<String>) -> Self {
        self.left = left.into();
        self.right = right.into();
        self
    }

    /// Re-read changed files before each render (beego's `dev` run mode).
    ///
    /// # Examples
    ///
    /// ```
    /// let opts = actix_bee::web::TemplateOptions::new("views").reload(true);
    /// # let _ = opts;
    /// ```
    pub fn reload(mut self, reload: bool) -> Self {
        self.reload = reload;
        self
    }

    /// Also treats files ending in `.ext` as templates (beego's
    /// `AddTemplateExt`).
    ///
    /// # Examples
    ///
    /// ```
    /// let opts = actix_bee::web::TemplateOptions::new("views").extension("htm");
    /// # let _ = opts;
    /// ```
    pub fn extension(mut self, ext: impl Into<String>) -> Self {
        let ext = ext.into();
        if !self.extensions.contains(&ext) {
            self.extensions.push(ext);
        }
        self
    }

    /// Adds a function to the Go templates (beego's `AddFuncMap`); it
    /// replaces a built-in or beego function of the same name.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::web::{gotmpl::Value, TemplateOptions, Templates};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("a.tpl"), r#"{{shout "hi"}}"#).unwrap();
    /// let opts = TemplateOptions::new(dir.path()).func("shout", |args| {
    ///     let s = args.first().and_then(Value::as_str).unwrap_or_default();
    ///     Ok(Value::String(s.to_uppercase().into()))
    /// });
    /// let t = Templates::with_options(opts).unwrap();
    /// assert_eq!(t.render("a.tpl", &()).unwrap(), "HI");
    /// ```
    #[cfg(feature = "gotmpl")]
    pub fn func(
        mut self,
        name: impl Into<String>,
        f: impl Fn(&[gotmpl::Value]) -> Result<gotmpl::Value, gotmpl::TemplateError>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.funcs.push((name.into(), std::sync::Arc::new(f)));
        self
    }

    /// A route for `urlfor`: `endpoint` is `Controller.Method`, `path` the
    /// route in actix-web syntax (`/user/{id}`).
    ///
    /// # Examples
    ///
    /// ```
    /// let opts = actix_bee::web::TemplateOptions::new("views").route("UserController.Get", "/user/{id}");
    /// # let _ = opts;
    /// ```
    pub fn route(mut self, endpoint: impl Into<String>, path: impl Into<String>) -> Self {
        self.routes.push((endpoint.into(), path.into()));
        self
    }

    /// A configuration value for the `config` template function.
    ///
    /// # Examples
    ///
    /// ```
    /// let opts = actix_bee::web::TemplateOptions::new("views").setting("appname", "counter");
    /// # let _ = opts;
    /// ```
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }
}

impl TemplateOptions {
    /// The options of an app: `viewspath`, `templateengine`, the
    /// delimiters, reload in the `dev` run mode, beego's keys for `config`,
    /// the routes for `urlfor` (`Controller.*` for each controller type)
    /// and the app's functions.
    pub(crate) fn from_app<'a>(
        config: &BConfig,
        routes: impl Iterator<Item = (&'a str, &'a str)>,
        #[cfg(feature = "gotmpl")] funcs: &[(String, TemplateFunc)],
    ) -> Result<TemplateOptions, TemplateError> {
        let web = &config.web_config;
        let engine: Engine = web.template_engine.parse()?;
        let mut opts = TemplateOptions::new(&web.views_path)
            .engine(engine)
            .delims(web.template_left.as_str(), web.template_right.as_str())
            .reload(config.run_mode == "dev");
        opts.settings = crate::config::key_values(config);
        for (path, controller) in routes {
            opts = opts.route(format!("{controller}.*"), path);
        }
        #[cfg(feature = "gotmpl")]
        opts.funcs.extend(funcs.iter().cloned());
        Ok(opts)
    }
}
