//! beego's template functions (`server/web/template.go`'s `init`) for the
//! Go engine, written to behave as beego's do on the values a serde data
//! map holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncMap, SafeKind, TemplateError, Value, ValueFunc};

use super::gotime::GoTime;
use super::text::{go_float, go_space, html2str, html_unescape, htmlquote, path_escape, substr};

type FnResult = Result<Value, TemplateError>;

fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

fn arg<'a>(args: &'a [Value], i: usize, name: &str) -> Result<&'a Value, TemplateError> {
    args.get(i).ok_or_else(|| TemplateError::ArgCount {
        name: name.to_owned(),
        expected: i + 1,
        got: args.len(),
    })
}

/// The text of a string value (trusted HTML is a string to Go too).
fn text(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) | Value::Safe { s, .. } => Some(s),
        _ => None,
    }
}

fn string_arg<'a>(args: &'a [Value], i: usize, name: &str) -> Result<&'a str, TemplateError> {
    text(arg(args, i, name)?).ok_or_else(|| err(format!("{name}: argument {i} is not a string")))
}

fn int_arg(args: &[Value], i: usize, name: &str) -> Result<i64, TemplateError> {
    match arg(args, i, name)? {
        Value::Int(n) => Ok(*n),
        Value::Uint(n) => i64::try_from(*n).map_err(|_| err(format!("{name}: {n} overflows int"))),
        _ => Err(err(format!("{name}: argument {i} is not an integer"))),
    }
}

/// Go's `fmt.Sprintf("%v", v)` for the values template data holds.
pub(crate) fn go_sprint(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Float(f) => go_float(*f),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(go_sprint).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_sprint(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

fn time_arg(args: &[Value], name: &str) -> Result<GoTime, TemplateError> {
    match arg(args, 0, name)? {
        Value::String(s) => GoTime::parse_rfc3339(s)
            .ok_or_else(|| err(format!("{name}: {s:?} is not an RFC 3339 time"))),
        Value::Int(n) => Ok(GoTime::from_unix(*n)),
        _ => Err(err(format!(
            "{name}: the time must be an RFC 3339 string or Unix seconds"
        ))),
    }
}

/// PHP date letters and the Go layout each stands for (beego's `date`).
fn php_to_go(format: &str) -> String {
    let mut out = String::with_capacity(format.len() * 2);
    for c in format.chars() {
        out.push_str(match c {
            'Y' => "2006",
            'y' => "06",
            'm' => "01",
            'n' => "1",
            'M' => "Jan",
            'F' => "January",
            'd' => "02",
            'j' => "2",
            'D' => "Mon",
            'l' => "Monday",
            'g' => "3",
            'G' | 'H' => "15",
            'h' => "03",
            'a' => "pm",
            'A' => "PM",
            'i' => "04",
            's' => "05",
            'T' => "MST",
            'P' => "-07:00",
            'O' => "-0700",
            'r' => "Mon, 02 Jan 2006 15:04:05 -0700",
            other => {
                out.push(other);
                continue;
            }
        });
    }
    out
}

fn compare(a: &Value, b: &Value) -> bool {
    go_sprint(a).trim() == go_sprint(b).trim()
}

fn map_get(args: &[Value]) -> FnResult {
    let mut cur = arg(args, 0, "map_get")?.clone();
    for key in &args[1..] {
        let Value::Map(m) = &cur else {
            return Ok(Value::Nil);
        };
        match m.get(go_sprint(key).as_str()) {
            Some(v) => cur = v.clone(),
            None => return Ok(Value::Nil),
        }
    }
    if args.len() < 2 {
        return Ok(Value::Nil);
    }
    Ok(cur)
}

/// The comparison kinds of beego's (and Go's) `eq`/`lt`.
#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
    Str,
}

fn kind(v: &Value) -> Result<Kind, TemplateError> {
    Ok(match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Uint(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::String(_) | Value::Safe { .. } => Kind::Str,
        _ => return Err(err("invalid type for comparison")),
    })
}

fn eq2(a: &Value, b: &Value) -> Result<bool, TemplateError> {
    let (ka, kb) = (kind(a)?, kind(b)?);
    Ok(match (a, b) {
        (Value::Int(x), Value::Uint(y)) | (Value::Uint(y), Value::Int(x)) => {
            *x >= 0 && *x as u64 == *y
        }
        _ if ka != kb => return Err(err("incompatible types for comparison")),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Uint(x), Value::Uint(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        _ => text(a) == text(b),
    })
}

fn eq(args: &[Value]) -> FnResult {
    let a = arg(args, 0, "eq")?;
    kind(a)?;
    if args.len() < 2 {
        return Err(err("missing argument for comparison"));
    }
    for b in &args[1..] {
        if eq2(a, b)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn lt(a: &Value, b: &Value) -> Result<bool, TemplateError> {
    let (ka, kb) = (kind(a)?, kind(b)?);
    Ok(match (a, b) {
        (Value::Int(x), Value::Uint(y)) => *x < 0 || (*x as u64) < *y,
        (Value::Uint(x), Value::Int(y)) => *y >= 0 && *x < *y as u64,
        _ if ka != kb => return Err(err("incompatible types for comparison")),
        (Value::Int(x), Value::Int(y)) => x < y,
        (Value::Uint(x), Value::Uint(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        _ if ka == Kind::Str => text(a) < text(b),
        _ => return Err(err("invalid type for comparison")),
    })
}

fn two<'a>(args: &'a [Value], name: &str) -> Result<(&'a Value, &'a Value), TemplateError> {
    if args.len() != 2 {
        return Err(TemplateError::ArgCount {
            name: name.to_owned(),
            expected: 2,
            got: args.len(),
        });
    }
    Ok((&args[0], &args[1]))
}

fn config(settings: &BTreeMap<String, String>, args: &[Value]) -> FnResult {
    let kind = string_arg(args, 0, "config")?;
    let key = string_arg(args, 1, "config")?;
    let default = arg(args, 2, "config")?;
    let value = settings.get(key).and_then(|raw| match kind {
        "String" | "DIY" => Some(Value::String(raw.as_str().into())),
        "Bool" => crate::config::parse_bool(raw).map(Value::Bool),
        "Int" | "Int64" => raw.trim().parse().ok().map(Value::Int),
        "Float" => raw.trim().parse().ok().map(Value::Float),
        _ => None,
    });
    match value {
        None if !matches!(default, Value::String(_)) => {
            Err(err("defaultVal type does not match returnType"))
        }
        None => Ok(default.clone()),
        Some(Value::String(s)) if s.is_empty() => Ok(default.clone()),
        Some(v) => Ok(v),
    }
}

fn urlfor(routes: &[(String, String)], args: &[Value]) -> FnResult {
    let endpoint = string_arg(args, 0, "urlfor")?;
    // `Controller.*` stands for every method of the controller.
    let controller = endpoint.split('.').next().unwrap_or(endpoint);
    let found = routes
        .iter()
        .find(|(name, _)| name == endpoint || name.strip_suffix(".*") == Some(controller));
    let Some((_, path)) = found else {
        return Ok(Value::String("".into()));
    };
    let mut path = path.clone();
    let mut query = Vec::new();
    for pair in args[1..].chunks_exact(2) {
        let (k, v) = (go_sprint(&pair[0]), go_sprint(&pair[1]));
        let slot = k.strip_prefix(':').map(|name| format!("{{{name}}}"));
        match slot {
            Some(slot) if path.contains(&slot) => {
                path = path.replacen(&slot, &path_escape(&v), 1);
            }
            _ => query.push((k, v)),
        }
    }
    if query.is_empty() {
        return Ok(Value::String(path.into()));
    }
    query.sort_by(|a, b| a.0.cmp(&b.0));
    let encoded = serde_urlencoded::to_string(&query).unwrap_or_default();
    Ok(Value::String(format!("{path}?{encoded}").into()))
}

fn f(func: impl Fn(&[Value]) -> FnResult + Send + Sync + 'static) -> ValueFunc {
    Arc::new(func)
}

fn string_fn(name: &'static str, op: fn(&str) -> String) -> ValueFunc {
    f(move |a| Ok(Value::String(op(string_arg(a, 0, name)?).into())))
}

/// beego's functions, with `config` reading `settings` and `urlfor`
/// resolving `Controller.Method` names through `routes`.
pub(crate) fn beego_funcs(
    settings: Arc<BTreeMap<String, String>>,
    routes: Arc<Vec<(String, String)>>,
) -> FuncMap {
    let mut m = FuncMap::new();
    m.insert(
        "dateformat".into(),
        f(|a| {
            let layout = string_arg(a, 1, "dateformat")?;
            Ok(Value::String(
                time_arg(a, "dateformat")?.format(layout).into(),
            ))
        }),
    );
    m.insert(
        "date".into(),
        f(|a| {
            let layout = php_to_go(string_arg(a, 1, "date")?);
            Ok(Value::String(time_arg(a, "date")?.format(&layout).into()))
        }),
    );
    m.insert(
        "compare".into(),
        f(|a| {
            let (x, y) = two(a, "compare")?;
            Ok(Value::Bool(compare(x, y)))
        }),
    );
    m.insert(
        "compare_not".into(),
        f(|a| {
            let (x, y) = two(a, "compare_not")?;
            Ok(Value::Bool(!compare(x, y)))
        }),
    );
    for name in ["not_nil", "not_null"] {
        m.insert(
            name.into(),
            f(move |a| Ok(Value::Bool(!compare(arg(a, 0, name)?, &Value::Nil)))),
        );
    }
    m.insert(
        "substr".into(),
        f(|a| {
            let s = string_arg(a, 0, "substr")?;
            let (start, len) = (int_arg(a, 1, "substr")?, int_arg(a, 2, "substr")?);
            Ok(Value::String(substr(s, start, len).into()))
        }),
    );
    m.insert("html2str".into(), string_fn("html2str", html2str));
    m.insert(
        "str2html".into(),
        f(|a| {
            Ok(Value::Safe {
                kind: SafeKind::Html,
                s: string_arg(a, 0, "str2html")?.into(),
            })
        }),
    );
    m.insert("htmlquote".into(), string_fn("htmlquote", htmlquote));
    m.insert(
        "htmlunquote".into(),
        string_fn("htmlunquote", |s| {
            html_unescape(s).trim_matches(go_space).to_owned()
        }),
    );
    m.insert("map_get".into(), f(map_get));
    m.insert("config".into(), f(move |a| config(&settings, a)));
    m.insert("urlfor".into(), f(move |a| urlfor(&routes, a)));
    m.insert("eq".into(), f(eq));
    m.insert(
        "ne".into(),
        f(|a| {
            let (x, y) = two(a, "ne")?;
            Ok(Value::Bool(!eq2(x, y)?))
        }),
    );
    m.insert(
        "lt".into(),
        f(|a| {
            let (x, y) = two(a, "lt")?;
            Ok(Value::Bool(lt(x, y)?))
        }),
    );
    m.insert(
        "le".into(),
        f(|a| {
            let (x, y) = two(a, "le")?;
            Ok(Value::Bool(lt(x, y)? || eq2(x, y)?))
        }),
    );
    m.insert(
        "gt".into(),
        f(|a| {
            let (x, y) = two(a, "gt")?;
            Ok(Value::Bool(!(lt(x, y)? || eq2(x, y)?)))
        }),
    );
    m.insert(
        "ge".into(),
        f(|a| {
            let (x, y) = two(a, "ge")?;
            Ok(Value::Bool(!lt(x, y)?))
        }),
    );
    m
}
