//! The Go engine: beego's view layer on `gotmpl`'s port of `html/template`.
//!
//! As beego's `BuildTemplate` does, every file under the views path is
//! parsed at start, and each file gets its own template set holding the
//! file and, recursively, the files it names in `{{template "x.tpl"}}`
//! (or the file that `{{define}}`s a name that is not a file).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gotmpl::{FuncMap, SafeKind, Value};

use super::{SourceFile, TemplateError, TemplateOptions};

/// One file's template set, and the length of its last page (the next
/// page's buffer is sized from it, sparing the reallocations of a growing
/// string; a relaxed atomic, so workers share it without a lock).
struct Set {
    template: gotmpl::html::Template,
    last_len: AtomicUsize,
}

/// Every file's template set, compiled once. A `BTreeMap`: for the few
/// dozen names of a views folder, comparing names is cheaper than hashing.
pub(crate) struct GoViews {
    sets: BTreeMap<String, Set>,
}

/// Template data as the Go engine sees it: a `Value::Map`.
pub(crate) type GoData = Value;

/// Sets `key` in `data` (a map; the map is copied only when shared).
pub(crate) fn insert(data: &mut GoData, key: &str, value: Value) {
    if let Value::Map(map) = data {
        Arc::make_mut(map).insert(Arc::from(key), value);
    }
}

fn parse_error(err: gotmpl::TemplateError) -> TemplateError {
    TemplateError::Parse(err.to_string())
}

/// The names a source refers to with `{{template "name"`, as beego's
/// regular expression finds them (`{{-` trimming included).
fn references<'a>(src: &'a str, left: &str) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find(left) {
        rest = &rest[i + left.len()..];
        let after = rest
            .strip_prefix('-')
            .unwrap_or(rest)
            .trim_start_matches(' ');
        let Some(after) = after.strip_prefix("template") else {
            continue;
        };
        let trimmed = after.trim_start_matches(' ');
        if trimmed.len() == after.len() {
            continue;
        }
        let Some(quoted) = trimmed.strip_prefix('"') else {
            continue;
        };
        if let Some(end) = quoted.find('"') {
            if end > 0 {
                names.push(&quoted[..end]);
            }
        }
    }
    names
}

/// The block structure of `src`, checked as Go's parser checks it: gotmpl
/// 0.6 accepts a file that ends inside `{{if}}`/`{{range}}`/`{{with}}`/
/// `{{define}}`/`{{block}}` and stops parsing at a stray `{{end}}`
/// (dropping the rest of the file), where Go reports `unexpected EOF` and
/// `unexpected {{end}}`.
fn check_blocks(name: &str, src: &str, left: &str, right: &str) -> Result<(), TemplateError> {
    let line_at = |offset: usize| src[..offset].matches('\n').count() + 1;
    let fail = |line: usize, what: String| {
        Err(TemplateError::Parse(format!(
            "template: {name}:{line}: {what}"
        )))
    };
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut at = 0;
    while let Some(i) = src[at..].find(left) {
        let start = at + i;
        let body_start = start + left.len();
        let Some(end) = action_end(&src[body_start..], right) else {
            // An unclosed action: gotmpl's own parser reports it.
            return Ok(());
        };
        let body = &src[body_start..body_start + end];
        at = body_start + end + right.len();
        let body = match body.strip_prefix('-') {
            Some(rest) if rest.starts_with([' ', '\t', '\r', '\n']) => rest,
            _ => body,
        };
        let body = body.trim_start();
        let word_len = body
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(body.len());
        let word = &body[..word_len];
        match word {
            "if" | "range" | "with" | "define" | "block" => open.push((word, line_at(start))),
            "end" if open.pop().is_none() => {
                return fail(line_at(start), "unexpected {{end}}".into());
            }
            "else" if open.is_empty() => {
                return fail(line_at(start), "unexpected {{else}}".into());
            }
            _ => {}
        }
    }
    match open.last() {
        Some((word, line)) => fail(
            line_at(src.len()),
            format!("unexpected EOF: the {{{{{word}}}}} of line {line} is not closed"),
        ),
        None => Ok(()),
    }
}

/// Where the action body starting at `body` ends (the offset of `right`),
/// skipping quoted strings, raw strings, character literals and comments.
fn action_end(body: &str, right: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if body[i..].starts_with(right) {
            return Some(i);
        }
        match bytes[i] {
            b'"' | b'\'' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'/' if body[i..].starts_with("/*") => {
                i = body[i..].find("*/").map(|j| i + j + 1)?;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

impl GoViews {
    /// Parses every file; a file that does not parse fails with its name,
    /// line and cause.
    pub(crate) fn build(
        files: &[SourceFile],
        opts: &TemplateOptions,
        funcs: &FuncMap,
    ) -> Result<GoViews, TemplateError> {
        let (left, right) = (opts.left.as_str(), opts.right.as_str());
        // Each file alone, for its trees and its {{define}}s.
        let mut texts = BTreeMap::new();
        let mut definer: HashMap<String, &str> = HashMap::new();
        for file in files {
            check_blocks(&file.name, &file.source, left, right)?;
            let t = gotmpl::Template::new(&file.name)
                .delims(left, right)
                .funcs(funcs.clone())
                .parse(&file.source)
                .map_err(parse_error)?;
            for name in t.templates() {
                if name != file.name {
                    definer.entry(name.to_owned()).or_insert(&file.name);
                }
            }
            texts.insert(file.name.as_str(), (t, file.source.as_str()));
        }
        let mut sets = BTreeMap::new();
        for file in files {
            let mut set = gotmpl::html::Template::new(&file.name)
                .delims(left, right)
                .funcs(funcs.clone())
                .parse(&file.source)
                .map_err(parse_error)?;
            // The files this one reaches through {{template}}, depth first.
            let mut pending = references(&file.source, left);
            let mut seen = vec![file.name.as_str()];
            while let Some(name) = pending.pop() {
                let owner = match texts.get(name) {
                    Some(_) => name,
                    None => match definer.get(name) {
                        Some(owner) => owner,
                        None => continue,
                    },
                };
                if seen.contains(&owner) {
                    continue;
                }
                seen.push(owner);
                let Some((text, src)) = texts.get(owner) else {
                    continue;
                };
                for tree_name in text.templates() {
                    if set.lookup(tree_name).is_some() {
                        continue;
                    }
                    if let Some(tree) = text.lookup(tree_name) {
                        set = set
                            .add_parse_tree(tree_name, tree.clone())
                            .map_err(parse_error)?;
                    }
                }
                pending.extend(references(src, left));
            }
            let set = Set {
                template: set,
                last_len: AtomicUsize::new(0),
            };
            sets.insert(file.name.clone(), set);
        }
        Ok(GoViews { sets })
    }

    /// Whether the file `name` was loaded.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.sets.contains_key(name)
    }

    /// Renders the file `name` with `data`.
    pub(crate) fn render(&self, name: &str, data: &GoData) -> Result<String, TemplateError> {
        let set = self
            .sets
            .get(name)
            .ok_or_else(|| TemplateError::NotFound(name.to_owned()))?;
        let mut page = String::with_capacity(set.last_len.load(Ordering::Relaxed) + 64);
        set.template
            .execute_fmt(&mut page, data)
            .map_err(|e| TemplateError::Render {
                name: name.to_owned(),
                cause: e.to_string(),
            })?;
        set.last_len.store(page.len(), Ordering::Relaxed);
        Ok(page)
    }
}

/// A JSON object as a `Value::Map`, inserted entry by entry (`collect`
/// would first gather and sort the entries in a vector).
fn from_object(map: &serde_json::Map<String, serde_json::Value>) -> BTreeMap<Arc<str>, Value> {
    let mut out = BTreeMap::new();
    for (k, v) in map {
        out.insert(Arc::from(k.as_str()), from_json(v));
    }
    out
}

/// A JSON value as Go's `html/template` sees the same data decoded into
/// `map[string]interface{}`: integers stay integers.
pub(crate) fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (None, Some(u), _) => Value::Uint(u),
            (_, _, f) => Value::Float(f.unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Map(Arc::new(from_object(map))),
    }
}

/// The Go engine's data for a view: the controller's data and its trusted
/// HTML values (Go's `template.HTML`).
pub(crate) fn data(
    values: &serde_json::Map<String, serde_json::Value>,
    trusted: &BTreeMap<String, String>,
) -> GoData {
    let mut map = from_object(values);
    for (k, v) in trusted {
        map.insert(Arc::from(k.as_str()), html(v));
    }
    Value::Map(Arc::new(map))
}

/// A trusted HTML value.
pub(crate) fn html(s: &str) -> Value {
    Value::Safe {
        kind: SafeKind::Html,
        s: s.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_structure_is_checked_as_go_does() {
        let check = |src: &str| check_blocks("t", src, "{{", "}}").map_err(|e| e.to_string());
        assert!(check("{{if .x}}a{{else if .y}}b{{else}}c{{end}}{{range .}}{{end}}").is_ok());
        assert!(check(r#"{{"{{if" | print}}{{/* {{if */}}{{`}}`}}{{'"'}}"#).is_ok());
        assert!(check("{{- with .x -}}{{- end -}}{{define \"a\"}}{{end}}").is_ok());
        assert_eq!(
            check("a\n{{if .x}}\nb\n").unwrap_err(),
            "template: t:4: unexpected EOF: the {{if}} of line 2 is not closed"
        );
        assert_eq!(
            check("a\n\n{{end}}x").unwrap_err(),
            "template: t:3: unexpected {{end}}"
        );
        assert_eq!(
            check("{{else}}").unwrap_err(),
            "template: t:1: unexpected {{else}}"
        );
        // Words that merely start like a keyword are not keywords.
        assert!(check("{{iffy .x}}{{endless}}").is_ok());
    }
}
