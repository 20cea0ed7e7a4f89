//! Templates: beego's view layer over Go templates (`gotmpl`, a port of
//! Go's `html/template`; cargo feature `gotmpl`, the default) or minijinja
//! (cargo feature `minijinja`, `templateengine = jinja`), behind one face.
//! Without either feature the face stays, and building templates fails.

// Without an engine, the engine-facing helpers have no caller.
#![cfg_attr(
    not(any(feature = "gotmpl", feature = "minijinja")),
    allow(dead_code, unused_variables)
)]

mod error;
#[cfg(feature = "gotmpl")]
mod funcs;
#[cfg(feature = "gotmpl")]
mod go;
#[cfg(feature = "gotmpl")]
mod gotime;
#[cfg(feature = "minijinja")]
mod jinja;
mod options;
#[cfg(feature = "gotmpl")]
mod text;

pub use error::{Engine, TemplateError};
#[cfg(feature = "gotmpl")]
pub use options::TemplateFunc;
pub use options::TemplateOptions;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Map, Value};

/// One file under the views path: its name (the path under the views path,
/// `/`-separated) and text.
pub(crate) struct SourceFile {
    pub(crate) name: String,
    pub(crate) source: String,
}

/// A template file found under the views path: its name, path, time and
/// size.
type Listed = (String, PathBuf, Option<SystemTime>, u64);

/// What the views path held when it was read: names, times and sizes.
type Stamp = Vec<(String, Option<SystemTime>, u64)>;

/// Lists the template files under `root` (a missing root has none, as in
/// beego), sorted by name.
fn scan(root: &Path, extensions: &[String]) -> Result<Vec<Listed>, TemplateError> {
    let mut out = Vec::new();
    let mut dirs = vec![(root.to_path_buf(), String::new(), 0u32)];
    while let Some((dir, prefix, depth)) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && depth == 0 => return Ok(out),
            Err(source) => {
                return Err(TemplateError::Io {
                    path: dir.display().to_string(),
                    source,
                })
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let name = format!("{prefix}{file_name}");
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                // Bounded, so that a symlink loop ends.
                if depth < 16 {
                    dirs.push((path, format!("{name}/"), depth + 1));
                }
                continue;
            }
            let ext = Path::new(&file_name).extension().and_then(|e| e.to_str());
            if ext.is_some_and(|e| extensions.iter().any(|x| x == e)) {
                out.push((name, path, meta.modified().ok(), meta.len()));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn stamp_of(listing: &[Listed]) -> Stamp {
    listing
        .iter()
        .map(|(name, _, time, len)| (name.clone(), *time, *len))
        .collect()
}

/// The compiled views of one engine.
enum Compiled {
    #[cfg(feature = "gotmpl")]
    Go(go::GoViews),
    #[cfg(feature = "minijinja")]
    Jinja(jinja::JinjaViews),
    /// Without an engine feature no views can be compiled: `compile` fails
    /// at start, so this is never built.
    #[cfg(not(any(feature = "gotmpl", feature = "minijinja")))]
    #[allow(dead_code)]
    NoEngine,
}

/// The compiled views, and the files that may show the XSRF token.
struct Current {
    compiled: Compiled,
    /// Files that name `xsrf` or may include another file (which may):
    /// a page rendered from none of them needs no token, so none is minted.
    token_views: BTreeSet<String>,
}

/// Where the compiled views live: fixed for the process, or rebuilt when a
/// file changes (reload).
enum Store {
    Fixed(Current),
    Reload(Mutex<(Stamp, std::sync::Arc<Current>)>),
}

/// A page to render the beego way: `tpl_name`, and when `layout` is set,
/// the layout around it (beego's `Layout`, `LayoutContent`,
/// `LayoutSections`).
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// The template (beego's `TplName`).
    pub tpl_name: &'a str,
    /// The layout; empty for none (beego's `Layout`).
    pub layout: &'a str,
    /// Section name to template, each rendered into `.<name>`.
    pub sections: &'a BTreeMap<String, String>,
    /// The controller's data (beego's `Data`).
    pub data: &'a Map<String, Value>,
    /// Values that are trusted HTML (Go's `template.HTML`).
    pub trusted: &'a BTreeMap<String, String>,
}

/// The app's templates: every file under the views path, parsed at start
/// and shared by all workers without a lock (with reload on, files are
/// checked and re-read before each render).
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("index.tpl"), "<p>{{.name}}</p>").unwrap();
/// let templates = actix_bee::web::Templates::new(dir.path()).unwrap();
/// let html = templates.render("index.tpl", &serde_json::json!({"name": "<b>"})).unwrap();
/// assert_eq!(html, "<p>&lt;b&gt;</p>");
/// assert!(templates.render("missing.tpl", &()).is_err());
/// ```
pub struct Templates {
    opts: TemplateOptions,
    store: Store,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("options", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// Go templates under `views_path` with beego's defaults.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Parse`] for a file that does not parse,
    /// [`TemplateError::Io`] when the views path cannot be read.
    ///
    /// # Examples
    ///
    /// See [`Templates`].
    pub fn new(views_path: impl AsRef<Path>) -> Result<Templates, TemplateError> {
        Templates::with_options(TemplateOptions::new(views_path))
    }

    /// Templates built with `opts`.
    ///
    /// # Errors
    ///
    /// As [`Templates::new`], and [`TemplateError::EngineMissing`] when the
    /// engine's cargo feature is off.
    ///
    /// # Examples
    ///
    /// See [`TemplateOptions`].
    pub fn with_options(opts: TemplateOptions) -> Result<Templates, TemplateError> {
        let listing = scan(&opts.views_path, &opts.extensions)?;
        let compiled = compile(&opts, &listing)?;
        let store = if opts.reload {
            Store::Reload(Mutex::new((
                stamp_of(&listing),
                std::sync::Arc::new(compiled),
            )))
        } else {
            Store::Fixed(compiled)
        };
        Ok(Templates { opts, store })
    }

    /// The template language.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = actix_bee::web::Templates::new("no-such-dir").unwrap();
    /// assert_eq!(t.engine(), actix_bee::web::Engine::Go);
    /// ```
    pub fn engine(&self) -> Engine {
        self.opts.engine
    }

    fn with_current<R>(
        &self,
        f: impl FnOnce(&Current) -> Result<R, TemplateError>,
    ) -> Result<R, TemplateError> {
        match &self.store {
            Store::Fixed(current) => f(current),
            Store::Reload(slot) => {
                let listing = scan(&self.opts.views_path, &self.opts.extensions)?;
                let stamp = stamp_of(&listing);
                let current = {
                    let mut guard = slot.lock();
                    if guard.0 != stamp {
                        tracing::info!(
                            "views changed: re-reading {}",
                            self.opts.views_path.display()
                        );
                        let compiled = compile(&self.opts, &listing)?;
                        *guard = (stamp, std::sync::Arc::new(compiled));
                    }
                    std::sync::Arc::clone(&guard.1)
                };
                f(&current)
            }
        }
    }

    /// Whether the file `name` is under the views path.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = actix_bee::web::Templates::new("no-such-dir").unwrap();
    /// assert!(!t.contains("index.tpl"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.with_current(|current| {
            Ok(match &current.compiled {
                #[cfg(feature = "gotmpl")]
                Compiled::Go(views) => views.contains(name),
                #[cfg(feature = "minijinja")]
                Compiled::Jinja(views) => views.contains(name),
                #[cfg(not(any(feature = "gotmpl", feature = "minijinja")))]
                Compiled::NoEngine => false,
            })
        })
        .unwrap_or(false)
    }

    /// Renders the file `name` (its path under the views path) with `data`.
    ///
    /// # Errors
    ///
    /// [`TemplateError::NotFound`], [`TemplateError::Render`], and with
    /// reload on, the errors of [`Templates::new`].
    ///
    /// # Examples
    ///
    /// See [`Templates`].
    pub fn render<S: Serialize + ?Sized>(
        &self,
        name: &str,
        data: &S,
    ) -> Result<String, TemplateError> {
        self.with_current(|current| match &current.compiled {
            #[cfg(feature = "gotmpl")]
            Compiled::Go(views) => {
                let data = gotmpl::to_value(data).map_err(|e| TemplateError::Render {
                    name: name.to_owned(),
                    cause: e.to_string(),
                })?;
                views.render(name, &data)
            }
            #[cfg(feature = "minijinja")]
            Compiled::Jinja(views) => {
                let value = minijinja::Value::from_serialize(data);
                let data: jinja::JinjaData = match value.try_iter() {
                    Ok(keys) => keys
                        .filter_map(|k| {
                            let v = value.get_item(&k).ok()?;
                            Some((k.as_str()?.to_owned(), v))
                        })
                        .collect(),
                    Err(_) => Default::default(),
                };
                views.render(name, &data)
            }
            #[cfg(not(any(feature = "gotmpl", feature = "minijinja")))]
            Compiled::NoEngine => {
                let _ = data;
                Err(TemplateError::NotFound(name.to_owned()))
            }
        })
    }

    /// Renders a page as beego's `Controller.RenderBytes` does: the
    /// template, then each section, then the layout around them (the
    /// template's output in `.LayoutContent`, each section's in
    /// `.<section>`, all as trusted HTML).
    ///
    /// # Errors
    ///
    /// As [`Templates::render`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use actix_bee::web::{Templates, View};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("layout.tpl"), "<main>{{.LayoutContent}}</main>{{.Foot}}").unwrap();
    /// std::fs::write(dir.path().join("page.tpl"), "<p>{{.msg}}</p>").unwrap();
    /// std::fs::write(dir.path().join("foot.tpl"), "<hr>").unwrap();
    /// let t = Templates::new(dir.path()).unwrap();
    /// let data = serde_json::json!({"msg": "<hi>"}).as_object().unwrap().clone();
    /// let sections = BTreeMap::from([("Foot".to_owned(), "foot.tpl".to_owned())]);
    /// let view = View { tpl_name: "page.tpl", layout: "layout.tpl", sections: &sections, data: &data, trusted: &BTreeMap::new() };
    /// assert_eq!(t.render_view(&view).unwrap(), "<main><p>&lt;hi&gt;</p></main><hr>");
    /// ```
    pub fn render_view(&self, view: &View<'_>) -> Result<String, TemplateError> {
        self.with_current(|current| render_in(current, view))
    }

    /// Renders `tpl_name` (in `layout`, with `sections`) over the data
    /// `page` gives once it knows whether those files may show the XSRF
    /// token (one of them names `xsrf` or may include another file): one
    /// look at the views, so with reload on the directory is read once a
    /// page.
    pub(crate) fn render_page<'a>(
        &self,
        tpl_name: &str,
        layout: &str,
        sections: &BTreeMap<String, String>,
        page: impl FnOnce(bool) -> (&'a Map<String, Value>, &'a BTreeMap<String, String>),
    ) -> Result<String, TemplateError> {
        self.with_current(|current| {
            let needs_token = [tpl_name, layout]
                .into_iter()
                .chain(sections.values().map(String::as_str))
                .filter(|n| !n.is_empty())
                .any(|n| current.token_views.contains(n));
            let (data, trusted) = page(needs_token);
            let view = View {
                tpl_name,
                layout,
                sections,
                data,
                trusted,
            };
            render_in(current, &view)
        })
    }
}

/// Renders `view` with the views of `current`.
fn render_in(current: &Current, view: &View<'_>) -> Result<String, TemplateError> {
    match &current.compiled {
        #[cfg(feature = "gotmpl")]
        Compiled::Go(views) => {
            let mut data = go::data(view.data, view.trusted);
            layout(
                view,
                &mut data,
                |name, data| views.render(name, data),
                |data, k, v| {
                    go::insert(data, k, go::html(&v));
                },
            )
        }
        #[cfg(feature = "minijinja")]
        Compiled::Jinja(views) => {
            let mut data = jinja::data(view.data, view.trusted);
            layout(
                view,
                &mut data,
                |name, data| views.render(name, data),
                |data, k, v| {
                    data.insert(k.to_owned(), minijinja::Value::from_safe_string(v));
                },
            )
        }
        #[cfg(not(any(feature = "gotmpl", feature = "minijinja")))]
        Compiled::NoEngine => Err(TemplateError::NotFound(view.tpl_name.to_owned())),
    }
}

/// beego's `RenderBytes` over one engine's data.
fn layout<D>(
    view: &View<'_>,
    data: &mut D,
    render: impl Fn(&str, &D) -> Result<String, TemplateError>,
    set_html: impl Fn(&mut D, &str, String),
) -> Result<String, TemplateError> {
    if view.layout.is_empty() {
        return render(view.tpl_name, data);
    }
    let content = render(view.tpl_name, data)?;
    set_html(data, "LayoutContent", content);
    for (section, tpl) in view.sections {
        let text = if tpl.is_empty() {
            String::new()
        } else {
            render(tpl, data)?
        };
        set_html(data, section, text);
    }
    render(view.layout, data)
}

/// Reads and compiles every file of `listing` with the chosen engine.
// Without an engine feature every arm returns an error.
#[cfg_attr(
    not(any(feature = "gotmpl", feature = "minijinja")),
    allow(unreachable_code)
)]
fn compile(opts: &TemplateOptions, listing: &[Listed]) -> Result<Current, TemplateError> {
    let files = listing
        .iter()
        .map(|(name, path, _, _)| {
            std::fs::read_to_string(path)
                .map(|source| SourceFile {
                    name: name.clone(),
                    source,
                })
                .map_err(|source| TemplateError::Io {
                    path: path.display().to_string(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let token_views = files
        .iter()
        .filter(|f| {
            ["xsrf", "template", "block", "include", "extends", "import"]
                .iter()
                .any(|word| f.source.contains(word))
        })
        .map(|f| f.name.clone())
        .collect();
    let compiled = match opts.engine {
        #[cfg(feature = "gotmpl")]
        Engine::Go => {
            let mut funcs = funcs::beego_funcs(
                std::sync::Arc::new(opts.settings.clone()),
                std::sync::Arc::new(opts.routes.clone()),
            );
            funcs.extend(opts.funcs.iter().cloned());
            Compiled::Go(go::GoViews::build(&files, opts, &funcs)?)
        }
        #[cfg(not(feature = "gotmpl"))]
        Engine::Go => return Err(TemplateError::EngineMissing("go", "gotmpl")),
        #[cfg(feature = "minijinja")]
        Engine::Jinja => Compiled::Jinja(jinja::JinjaViews::build(&files)?),
        #[cfg(not(feature = "minijinja"))]
        Engine::Jinja => return Err(TemplateError::EngineMissing("jinja", "minijinja")),
    };
    Ok(Current {
        compiled,
        token_views,
    })
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
