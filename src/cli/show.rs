//! `actix-bee config`: the resolved configuration, as text or JSON.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use super::redact::redact;
use super::{CliError, KeyOrigins, Loaded};
use crate::config::Origin;

/// Prints every session key with its origin, then the other keys that
/// something set (the rest are beego's defaults).
pub(super) fn print(
    loaded: &Loaded,
    as_json: bool,
    show_secrets: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let provider = loaded.provider().to_owned();
    let shown = |key: &str, value: Value| match value {
        Value::String(s) if !show_secrets => Value::from(redact(key, &s, &provider)),
        other => other,
    };
    let keys: Vec<(&str, Value, &Origin)> = loaded
        .explained
        .keys()
        .map(|(key, value, origin)| (key, shown(key, value), origin))
        .collect();
    let is_session = |key: &str| key.starts_with("session");
    if as_json {
        let section = |session: bool| {
            keys.iter()
                .filter(|(k, _, o)| {
                    is_session(k) == session && (session || (*k != "runmode" && !is_default(o)))
                })
                .map(|(k, v, o)| {
                    let entry = json!({ "value": v, "origin": origin_json(o, &loaded.file) });
                    ((*k).to_owned(), entry)
                })
                .collect::<serde_json::Map<_, _>>()
        };
        let doc = json!({
            "file": loaded.file.display().to_string(),
            "runmode": {
                "value": loaded.explained.config.run_mode,
                "origin": origin_json(loaded.explained.origin("runmode"), &loaded.file),
            },
            "session": section(true),
            "other": section(false),
        });
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }

    writeln!(
        out,
        "{}: run mode {} ({})",
        loaded.file.display(),
        loaded.explained.config.run_mode,
        loaded.describe("runmode")
    )?;
    let width = keys.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
    writeln!(out, "\nsession keys:")?;
    let line = |out: &mut dyn Write, (key, value, origin): &(&str, Value, &Origin)| {
        let text = text_of(value);
        let from = origin_text(origin, &loaded.file);
        writeln!(out, "  {key:<width$} = {text:<24} {from}")
    };
    for entry in keys.iter().filter(|(k, _, _)| is_session(k)) {
        line(out, entry)?;
    }
    if !loaded
        .explained
        .config
        .web_config
        .session
        .session_config
        .is_empty()
    {
        writeln!(
            out,
            "  (sessionconfig is set: its JSON replaces the session keys it names)"
        )?;
    }
    writeln!(out, "\nother keys set (the rest are beego's defaults):")?;
    for entry in keys
        .iter()
        .filter(|(k, _, o)| !is_session(k) && *k != "runmode" && !is_default(o))
    {
        line(out, entry)?;
    }
    Ok(())
}

fn is_default(origin: &Origin) -> bool {
    matches!(origin, Origin::Default)
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An origin in words: `default`, `conf/app.conf:7 [dev]`,
/// `conf/db.conf:2 (included)`, `environment BEEGO_SESSIONON`,
/// `conf/app.conf:3, ${REDIS_ADDR} (set)`.
pub(super) fn origin_text(origin: &Origin, top: &Path) -> String {
    match origin {
        Origin::Default => "default".to_owned(),
        Origin::Env { var } => format!("environment {var}"),
        Origin::Code => "code".to_owned(),
        Origin::File {
            path,
            line,
            section,
            from_env,
        } => {
            let mut text = format!("{}:{line}", path.display());
            if section != crate::config::DEFAULT_SECTION {
                text.push_str(&format!(" [{section}]"));
            }
            if path != top {
                text.push_str(" (included)");
            }
            if let Some(env) = from_env {
                let state = if env.default_used {
                    "unset: its default"
                } else {
                    "set"
                };
                text.push_str(&format!(", ${{{}}} ({state})", env.var));
            }
            text
        }
    }
}

fn origin_json(origin: &Origin, top: &Path) -> Value {
    match origin {
        Origin::Default => json!({ "kind": "default" }),
        Origin::Env { var } => json!({ "kind": "env", "var": var }),
        Origin::Code => json!({ "kind": "code" }),
        Origin::File {
            path,
            line,
            section,
            from_env,
        } => json!({
            "kind": "file",
            "file": path.display().to_string(),
            "line": line,
            "section": section,
            "included": path != top,
            "env_var": from_env.as_ref().map(|e| e.var.clone()),
            "env_default_used": from_env.as_ref().map(|e| e.default_used),
        }),
    }
}
