//! Masks passwords and keys in printed values, so that `actix-bee config`
//! output can be pasted into a ticket.
//!
//! Covered: `sessionhashkey`; in provider configs and `sessionconfig`, URL
//! and DSN passwords (`user:secret@`), `password=` style options, JSON keys
//! that hold secrets, and the password field of beego's redis comma form.

use serde_json::Value;

/// What a masked secret prints as.
const MASK: &str = "<redacted>";

/// Option and JSON key names whose values are secrets (compared lower-cased).
const SECRET_NAMES: &[&str] = &[
    "password",
    "pass",
    "pwd",
    "sentinel_password",
    "sslpassword",
    "securitykey",
    "blockkey",
    "sessionidhashkey",
];

/// `value` of app.conf `key` as it may be printed; `provider` is the engine.
pub(crate) fn redact(key: &str, value: &str, provider: &str) -> String {
    match key {
        "sessionhashkey" if !value.is_empty() => MASK.to_owned(),
        "sessionproviderconfig" => provider_config(value, provider),
        "sessionconfig" => json(value, provider).unwrap_or_else(|| value.to_owned()),
        _ => value.to_owned(),
    }
}

/// A provider config in any engine's form.
fn provider_config(value: &str, provider: &str) -> String {
    if let Some(masked) = json(value, provider) {
        return masked;
    }
    let mut out = userinfo(value);
    out = options(&out);
    if provider.starts_with("redis") && !out.contains("://") {
        out = redis_comma_password(&out);
    }
    out
}

/// A JSON object, with secret keys masked and nested configs redacted.
fn json(value: &str, provider: &str) -> Option<String> {
    let mut map: serde_json::Map<String, Value> = serde_json::from_str(value.trim()).ok()?;
    for (k, v) in map.iter_mut() {
        let lower = k.to_lowercase();
        if SECRET_NAMES.contains(&lower.as_str()) {
            *v = Value::from(MASK);
        } else if let Value::String(s) = v {
            if lower == "providerconfig" || lower == "save_path" || lower == "conn" {
                *s = provider_config(s, provider);
            }
        }
    }
    serde_json::to_string(&map).ok()
}

/// `scheme://user:secret@host` and go-sql-driver's `user:secret@tcp(...)`:
/// the password between the first `:` of the user info and its last `@`.
fn userinfo(value: &str) -> String {
    let (head, rest) = match value.find("://") {
        Some(i) => value.split_at(i + 3),
        None => ("", value),
    };
    // The user info ends at the last '@' before the path (URL) or the
    // protocol's '(' (DSN); a password may itself hold '@'.
    let end = rest.find(['/', '?', '(']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return value.to_owned();
    };
    let Some(colon) = rest[..at].find(':') else {
        return value.to_owned();
    };
    if colon + 1 == at {
        return value.to_owned(); // an empty password: nothing to hide
    }
    format!("{head}{}{MASK}{}", &rest[..=colon], &rest[at..])
}

/// `name=value` options (conninfo, URL queries, comma lists) whose name is a secret.
fn options(value: &str) -> String {
    const SEPARATORS: &[char] = &[' ', '&', ',', '?', ';'];
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while !rest.is_empty() {
        let cut = rest.find(SEPARATORS).map_or(rest.len(), |i| i + 1);
        let (token, tail) = rest.split_at(cut);
        let masked = token.split_once('=').filter(|(name, _)| {
            let name = name.rsplit(SEPARATORS).next().unwrap_or(name);
            SECRET_NAMES.contains(&name.trim().to_lowercase().as_str())
        });
        match masked {
            Some((name, v)) => {
                let sep = v.chars().last().filter(|c| SEPARATORS.contains(c));
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
                out.extend(sep);
            }
            None => out.push_str(token),
        }
        rest = tail;
    }
    out
}

/// beego's `addr,poolsize,password,...`: field 3 is the password.
fn redis_comma_password(value: &str) -> String {
    let mut fields: Vec<&str> = value.split(',').collect();
    if let Some(pw) = fields.get_mut(2) {
        if !pw.is_empty() && !pw.contains('=') {
            *pw = MASK;
        }
    }
    fields.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_hides_the_password() {
        for (provider, value) in [
            ("redis", "127.0.0.1:6379,100,hunter2,0"),
            ("redis", "redis://u:hunter2@h:1/0"),
            ("redis", r#"{"save_path":"h:1","password":"hunter2"}"#),
            ("redis", r#"{"save_path":"redis://:hunter2@h:1"}"#),
            ("redis_sentinel", "h:1,10,,0,m,sentinel_password=hunter2"),
            ("mysql", "app:hunter2@tcp(127.0.0.1:3306)/app"),
            ("mysql", "app:hun@ter2@tcp(127.0.0.1:3306)/app"),
            ("postgresql", "host=h user=u password=hunter2 dbname=d"),
            ("postgresql", "postgres://u@h/d?password=hunter2&table=t"),
            ("memcache", "memcache://u:hunter2@h:11211"),
            ("cookie", r#"{"securityKey":"hunter2","cookieName":"x"}"#),
        ] {
            let out = redact("sessionproviderconfig", value, provider);
            assert!(!out.contains("hunter2") && !out.contains("ter2"), "{out}");
            assert!(out.contains(MASK), "{out}");
        }
        assert_eq!(redact("sessionhashkey", "k", ""), MASK);
        let cfg = r#"{"providerConfig":"redis://:hunter2@h:1","sessionIDHashKey":"k"}"#;
        let out = redact("sessionconfig", cfg, "redis");
        assert!(!out.contains("hunter2") && !out.contains(r#""k""#), "{out}");
    }

    #[test]
    fn values_without_secrets_are_unchanged() {
        for (provider, value) in [
            ("redis_cluster", "127.0.0.1:7001;127.0.0.1:7002,100,,0"),
            ("mysql", "root:@tcp(127.0.0.1:3306)/test?table=session"),
            ("postgresql", "postgres://postgres@127.0.0.1/test"),
            ("file", "./tmp/sessions"),
            ("memory", "max_sessions=10"),
        ] {
            assert_eq!(redact("sessionproviderconfig", value, provider), value);
        }
    }
}
