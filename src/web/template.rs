//! Templates: `<viewspath>/<tpl_name>` rendered with minijinja, HTML-escaped.

use std::path::Path;

use minijinja::{path_loader, AutoEscape, Environment};
use serde::Serialize;

/// The app's templates: one minijinja environment over `viewspath`, built at
/// start and shared by every worker.
///
/// Every template is HTML-autoescaped whatever its extension (beego's end in
/// `.tpl`, which minijinja would not escape by default). A template is read
/// from disk on first use and kept.
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("index.tpl"), "<p>{{ name }}</p>").unwrap();
/// let templates = actix_bee::web::Templates::new(dir.path());
/// let html = templates.render("index.tpl", &serde_json::json!({"name": "<b>"})).unwrap();
/// assert_eq!(html, "<p>&lt;b&gt;</p>");
/// assert!(templates.render("missing.tpl", &()).is_err());
/// ```
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Templates under `views_path` (relative paths are relative to the
    /// working directory, as in beego).
    ///
    /// # Examples
    ///
    /// See [`Templates`].
    pub fn new(views_path: impl AsRef<Path>) -> Templates {
        let mut env = Environment::new();
        env.set_loader(path_loader(views_path.as_ref()));
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        Templates { env }
    }

    /// Renders the template `name` with `data`.
    ///
    /// # Errors
    ///
    /// A `minijinja::Error` when the template is missing, does not parse or
    /// fails to render.
    ///
    /// # Examples
    ///
    /// See [`Templates`].
    pub fn render<S: Serialize>(&self, name: &str, data: &S) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(data)
    }
}

/// How the app turns a controller's `tpl_name` into a response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RenderMode {
    /// `autorender`: render `tpl_name` when the controller wrote no body.
    pub auto_render: bool,
    /// Put a render error's cause on the error page (beego's dev run mode);
    /// otherwise the page says only "Internal Server Error".
    pub show_errors: bool,
}
