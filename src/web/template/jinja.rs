//! The minijinja engine, for apps written fresh in Rust
//! (`templateengine = jinja`).

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, Value};

use super::{SourceFile, TemplateError};

/// Every file under the views path, parsed at start.
pub(crate) struct JinjaViews {
    env: Environment<'static>,
}

/// Template data as minijinja sees it.
pub(crate) type JinjaData = BTreeMap<String, Value>;

impl JinjaViews {
    /// Parses every file. Every template is HTML-autoescaped whatever its
    /// extension (beego's end in `.tpl`, which minijinja would not escape).
    pub(crate) fn build(files: &[SourceFile]) -> Result<JinjaViews, TemplateError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for file in files {
            env.add_template_owned(file.name.clone(), file.source.clone())
                .map_err(|e| TemplateError::Parse(format!("{e:#}")))?;
        }
        Ok(JinjaViews { env })
    }

    /// Whether the file `name` was loaded.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    /// Renders the file `name` with `data`.
    pub(crate) fn render(&self, name: &str, data: &JinjaData) -> Result<String, TemplateError> {
        let template = self.env.get_template(name).map_err(|e| match e.kind() {
            minijinja::ErrorKind::TemplateNotFound => TemplateError::NotFound(name.to_owned()),
            _ => render_error(name, &e),
        })?;
        template.render(data).map_err(|e| render_error(name, &e))
    }
}

fn render_error(name: &str, err: &minijinja::Error) -> TemplateError {
    // The alternate form carries the cause and the line.
    TemplateError::Render {
        name: name.to_owned(),
        cause: format!("{err:#}"),
    }
}

/// The engine's data for a view.
pub(crate) fn data(
    values: &serde_json::Map<String, serde_json::Value>,
    trusted: &BTreeMap<String, String>,
) -> JinjaData {
    let mut data: JinjaData = values
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
        .collect();
    for (k, v) in trusted {
        data.insert(k.clone(), Value::from_safe_string(v.clone()));
    }
    data
}
