//! The template language of the views, and why templates could not be
//! built or rendered: a leaf that the engines and the options share.

/// Which template language the views are written in (`templateengine`).
///
/// # Examples
///
/// ```
/// use actix_bee::web::Engine;
///
/// assert_eq!("go".parse::<Engine>().unwrap(), Engine::Go);
/// assert_eq!("Jinja".parse::<Engine>().unwrap(), Engine::Jinja);
/// assert!("php".parse::<Engine>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Go's `html/template` syntax, as beego's views (`{{.num}}`).
    #[default]
    Go,
    /// minijinja (`{{ num }}`), for apps written fresh in Rust.
    Jinja,
}

impl std::str::FromStr for Engine {
    type Err = TemplateError;

    fn from_str(s: &str) -> Result<Engine, TemplateError> {
        match s.to_ascii_lowercase().as_str() {
            "go" | "" => Ok(Engine::Go),
            "jinja" | "minijinja" => Ok(Engine::Jinja),
            _ => Err(TemplateError::UnknownEngine(s.to_owned())),
        }
    }
}

/// Why templates could not be built or rendered.
///
/// # Examples
///
/// ```
/// let err = actix_bee::web::TemplateError::NotFound("x.tpl".into());
/// assert_eq!(err.to_string(), "template \"x.tpl\" not found under the views path");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A file does not parse: the engine's message names the file, the
    /// line and the cause (`template: index.tpl:3:9: ...`).
    #[error("{0}")]
    Parse(String),
    /// The views path could not be read.
    #[error("views path {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No such file under the views path.
    #[error("template {0:?} not found under the views path")]
    NotFound(String),
    /// Rendering failed.
    #[error("template {name:?}: {cause}")]
    Render {
        /// The template being rendered.
        name: String,
        /// The engine's message.
        cause: String,
    },
    /// `templateengine` names an engine whose cargo feature is off.
    #[error("the {0} template engine is not compiled in: enable the cargo feature {1}")]
    EngineMissing(&'static str, &'static str),
    /// `templateengine` is neither `go` nor `jinja`.
    #[error("templateengine {0:?} is unknown: use go or jinja")]
    UnknownEngine(String),
}
