//! Parsing of the couchbase engine's `sessionproviderconfig`.
//!
//! Messages never echo the config: it carries a password.

use std::time::Duration;

use serde::Deserialize;

use crate::session::engines::shared::addr;
use crate::session::engines::shared::kv::check_prefix;
use crate::session::engines::shared::options::{self, DEFAULT_KEY_PREFIX};
use crate::session::engines::shared::secrets::{json_members, json_str, Raw, Secrets};
use crate::session::error::{Error, Result};

/// The parsed config.
#[derive(Clone, PartialEq)]
pub(crate) struct CouchbaseConfig {
    /// A `couchbase://` or `couchbases://` connection string, without
    /// credentials or bucket.
    pub conn_str: String,
    pub username: String,
    pub password: String,
    pub bucket: String,
    pub scope: Option<String>,
    pub collection: Option<String>,
    pub prefix: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// The largest session stored (`max_session_bytes`).
    pub max_session_bytes: usize,
}

impl std::fmt::Debug for CouchbaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CouchbaseConfig")
            .field("conn_str", &self.conn_str)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn config_error(msg: impl Into<String>) -> Error {
    Error::config(NAME, msg)
}

const NAME: &str = "couchbase";

/// beego's JSON form, plus this engine's options.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonConfig {
    save_path: String,
    /// go-couchbase's pool; SDK 1.x has no pools, so it is ignored.
    #[serde(default)]
    #[allow(dead_code)]
    pool: Option<String>,
    #[serde(default)]
    bucket: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    collection: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    /// A duration: a number of seconds or a string such as `"2.5s"`.
    #[serde(default)]
    connect_timeout: Option<serde_json::Value>,
    #[serde(default)]
    timeout: Option<serde_json::Value>,
    #[serde(default)]
    max_session_bytes: Option<usize>,
}

/// The pieces of one URL-like string.
struct Parts<'a> {
    scheme: &'a str,
    user: Option<String>,
    password: Option<String>,
    hosts: &'a str,
    path: &'a str,
    query: &'a str,
}

fn percent_decode(raw: &str) -> Result<String> {
    options::percent_decode(raw)
        .ok_or_else(|| config_error("bad percent-encoding in the credentials"))
}

fn split_url<'a>(raw: &'a str, secrets: &mut Secrets<'_>) -> Result<Parts<'a>> {
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| config_error("expected http://, https://, couchbase:// or couchbases://"))?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, password, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            secrets.add(password);
            (
                Some(percent_decode(user)?),
                Some(percent_decode(password)?),
                hosts,
            )
        }
        None => (None, None, authority),
    };
    if hosts.is_empty()
        || !hosts
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:[],;".contains(&b))
    {
        return Err(config_error("the host list is empty or malformed"));
    }
    Ok(Parts {
        scheme,
        user,
        password,
        hosts,
        path,
        query,
    })
}

/// Builds the SDK connection string. The old HTTP forms point at the
/// management port (8091); SDK 1.x bootstraps over KV, so the port is
/// dropped when it is the default one and refused otherwise.
fn connection_string(parts: &Parts<'_>, options: &mut Options) -> Result<String> {
    let scheme = match parts.scheme {
        "couchbase" | "couchbases" => parts.scheme,
        "http" => "couchbase",
        "https" => "couchbases",
        _ => {
            return Err(config_error(
                "expected http://, https://, couchbase:// or couchbases://",
            ))
        }
    };
    // Every host is read as the other networked engines read theirs; the
    // old HTTP forms also lose their management port.
    let http = matches!(parts.scheme, "http" | "https");
    let default_port = if parts.scheme == "http" { 8091 } else { 18091 };
    let mut names = Vec::new();
    for host in options::split_hosts(parts.hosts) {
        let hp = addr::parse(host).map_err(|e| config_error(e.to_string()))?;
        if http && hp.port.is_some_and(|p| p != default_port) {
            return Err(config_error(format!(
                "an {}:// address may only use the management port {default_port}; give a couchbase:// connection string for other ports",
                parts.scheme
            )));
        }
        names.push(hp.url_host());
    }
    let hosts = if http {
        names.join(",")
    } else {
        parts.hosts.to_owned()
    };
    let mut passthrough = Vec::new();
    for pair in parts.query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !options.take(name, value)? {
            passthrough.push(pair);
        }
    }
    let mut conn_str = format!("{scheme}://{hosts}");
    if !passthrough.is_empty() {
        conn_str.push('?');
        conn_str.push_str(&passthrough.join("&"));
    }
    Ok(conn_str)
}

/// This engine's own options, read from the connection string's query.
#[derive(Default)]
struct Options {
    prefix: Option<String>,
    scope: Option<String>,
    collection: Option<String>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    max_session_bytes: Option<usize>,
}

/// A JSON timeout: a number of seconds or a duration string.
fn json_timeout(name: &str, value: &serde_json::Value) -> Result<Duration> {
    match value {
        serde_json::Value::Number(n) => options::timeout(NAME, name, &n.to_string()),
        serde_json::Value::String(s) => options::timeout(NAME, name, s),
        _ => Err(config_error(format!("{name} must be a duration"))),
    }
}

impl Options {
    fn take(&mut self, name: &str, value: &str) -> Result<bool> {
        let secs = |name: &str| options::timeout(NAME, name, value);
        match name {
            "prefix" => self.prefix = Some(percent_decode(value)?),
            "scope" => self.scope = Some(value.to_owned()),
            "collection" => self.collection = Some(value.to_owned()),
            "connect_timeout" => self.connect_timeout = Some(secs(name)?),
            "timeout" => self.timeout = Some(secs(name)?),
            "max_session_bytes" => {
                self.max_session_bytes = Some(options::positive(NAME, name, value)?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.%".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(config_error(format!(
            "{what} must be 1 to 100 of A-Z a-z 0-9 - _ . %"
        )))
    }
}

/// Parses every accepted form; see the module docs of the engine.
pub(crate) fn parse(config: &str) -> Result<CouchbaseConfig> {
    parse_recording(config, &mut Secrets::new(config))
}

/// The passwords of a config, as [`parse`] takes them; a config error when
/// it refuses the text.
pub(crate) fn secrets(config: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(config);
    parse_recording(config, &mut secrets)?;
    Ok(secrets)
}

/// [`parse`], recording in `secrets` the text of every password taken.
fn parse_recording(config: &str, secrets: &mut Secrets<'_>) -> Result<CouchbaseConfig> {
    let config = config.trim();
    let mut options = Options::default();
    // Where the URL-like part sits in the config, for its password.
    let mut url_raw = Raw::Text(config);
    let (parts_src, mut bucket, mut username, mut password) = if config.starts_with('{') {
        // serde's messages can quote a value (a password): give the
        // position only.
        let json: JsonConfig = serde_json::from_str(config).map_err(|e| {
            config_error(format!(
                "bad JSON config ({:?} error at line {}, column {}; keys: save_path, pool, bucket, username, password, scope, collection, prefix, connect_timeout, timeout, max_session_bytes)",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        options.prefix = json.prefix;
        options.scope = json.scope;
        options.collection = json.collection;
        options.connect_timeout = json
            .connect_timeout
            .map(|v| json_timeout("connect_timeout", &v))
            .transpose()?;
        options.max_session_bytes = json
            .max_session_bytes
            .map(|n| options::positive(NAME, "max_session_bytes", &n.to_string()))
            .transpose()?;
        options.timeout = json
            .timeout
            .map(|v| json_timeout("timeout", &v))
            .transpose()?;
        // The members' raw text: the password's, and the save_path's as a
        // slice of the config when it holds no escapes.
        let mut save_path: std::borrow::Cow<'_, str> = json.save_path.into();
        for (key, raw) in json_members(config).unwrap_or_default() {
            match key.as_str() {
                "password" => secrets.add_json(raw),
                "save_path" => {
                    url_raw = Raw::Json(raw);
                    save_path = json_str(raw).unwrap_or(save_path);
                }
                _ => {}
            }
        }
        (save_path, json.bucket, json.username, json.password)
    } else if config.starts_with("couchbase://") || config.starts_with("couchbases://") {
        // Hosts in a connection string are comma separated: no splitting.
        (config.into(), None, None, None)
    } else {
        // beego's old form: url[,pool[,bucket]].
        let mut fields = config.split(',');
        let url = fields.next().unwrap_or_default();
        let _pool = fields.next();
        let bucket = fields.next().map(|b| b.trim().to_owned());
        if fields.next().is_some() {
            return Err(config_error("expected url,pool,bucket"));
        }
        (url.into(), bucket, None, None)
    };
    let mut inner = Secrets::new(&parts_src);
    let parts = split_url(parts_src.trim(), &mut inner)?;
    secrets.nest(inner, url_raw);
    let conn_str = connection_string(&parts, &mut options)?;
    if bucket.is_none() && !parts.path.is_empty() {
        bucket = Some(parts.path.trim_end_matches('/').to_owned());
    }
    username = username.or(parts.user);
    password = password.or(parts.password);
    // beego's documented `http://bucketname:bucketpass@host:8091`: the
    // user is the bucket (pre-RBAC bucket credentials).
    let bucket = bucket
        .filter(|b| !b.is_empty())
        .or_else(|| username.clone())
        .ok_or_else(|| {
            config_error("no bucket: give url,pool,bucket or http://bucket:password@host:8091")
        })?;
    check_name("bucket", &bucket)?;
    for (what, name) in [
        ("scope", &options.scope),
        ("collection", &options.collection),
    ] {
        if let Some(name) = name {
            check_name(what, name)?;
        }
    }
    if options.scope.is_some() != options.collection.is_some() {
        return Err(config_error("scope and collection go together"));
    }
    let prefix = options
        .prefix
        .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned());
    check_prefix(
        "couchbase",
        &prefix,
        |b| b.is_ascii_graphic(),
        "printable ASCII without spaces",
    )?;
    let username = username.unwrap_or_else(|| bucket.clone());
    Ok(CouchbaseConfig {
        conn_str,
        username,
        password: password.unwrap_or_default(),
        bucket,
        scope: options.scope,
        collection: options.collection,
        prefix,
        connect_timeout: options.connect_timeout.unwrap_or(Duration::from_secs(10)),
        timeout: options.timeout.unwrap_or(Duration::from_millis(2500)),
        max_session_bytes: options
            .max_session_bytes
            .unwrap_or(options::DEFAULT_MAX_SESSION_BYTES),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beego_documented_form() {
        let c = parse("http://sessions:s3cr%40t@db.example:8091").unwrap();
        assert_eq!(c.conn_str, "couchbase://db.example");
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("sessions", "s3cr@t")
        );
        assert_eq!(c.bucket, "sessions");
        assert_eq!(c.prefix, "actix-bee:session:");
        let c = parse("https://b:p@h1").unwrap();
        assert_eq!(c.conn_str, "couchbases://h1");
    }

    #[test]
    fn beego_old_and_json_forms() {
        let c = parse("http://127.0.0.1:8091/,default,mybucket").unwrap();
        assert_eq!(c.conn_str, "couchbase://127.0.0.1");
        assert_eq!(c.bucket, "mybucket");
        assert_eq!(c.username, "mybucket");
        assert_eq!(c.password, "");
        let c = parse(
            r#"{"save_path":"http://u:pw@h:8091","pool":"default","bucket":"sess","prefix":"app:","timeout":1.5,"scope":"s","collection":"c"}"#,
        )
        .unwrap();
        assert_eq!((c.username.as_str(), c.bucket.as_str()), ("u", "sess"));
        assert_eq!(c.prefix, "app:");
        assert_eq!(c.timeout, Duration::from_millis(1500));
        assert_eq!(c.collection.as_deref(), Some("c"));
        let c =
            parse(r#"{"save_path":"couchbase://h","bucket":"b","username":"u","password":"p"}"#)
                .unwrap();
        assert_eq!(c.password, "p");
    }

    #[test]
    fn connection_strings() {
        let c = parse(
            "couchbase://u:p@h1,h2:11210/sess?prefix=x:&timeout=2&kv_timeout=2500ms&connect_timeout=0.5",
        )
        .unwrap();
        assert_eq!(c.conn_str, "couchbase://h1,h2:11210?kv_timeout=2500ms");
        assert_eq!(c.bucket, "sess");
        assert_eq!(c.prefix, "x:");
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.connect_timeout, Duration::from_millis(500));
        let c = parse("couchbases://[::1]/b").unwrap();
        assert_eq!(c.conn_str, "couchbases://[::1]");
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        let c = parse("couchbase://u:p@[::1]:11210,h2/b").unwrap();
        assert_eq!(c.conn_str, "couchbase://[::1]:11210,h2");
        let c = parse("http://b:p@[::1]:8091").unwrap();
        assert_eq!(c.conn_str, "couchbase://[::1]");
        for bad in [
            "couchbase://::1:11210/b",
            "couchbase://[::1/b",
            "http://b:p@[::1]:9000",
        ] {
            assert!(parse(bad).unwrap_err().is_config(), "{bad}");
        }
        let err = parse("couchbase://u:p@::1/b").unwrap_err().to_string();
        assert!(err.contains("[::1]:port"), "{err}");
    }

    #[test]
    fn bad_forms_are_config_errors_without_secrets() {
        for bad in [
            "",
            "myserver:8091",
            "redis://u:secretpw@h/b",
            "http://u:secretpw@h:9000",
            "http://u:secretpw@/b",
            "http://h:8091",
            "http://h:8091/,pool,",
            "http://u:secretpw@h:8091,pool,bucket,extra",
            "http://u:secretpw@h:8091,p,bad bucket",
            "couchbase://u:secretpw@h/b?timeout=0",
            "couchbase://u:secretpw@h/b?timeout=x",
            "couchbase://u:secretpw@h/b?scope=s",
            "couchbase://u:secr%ZZpw@h/b",
            r#"{"save_path":"http://u:secretpw@h:8091","bogus":1}"#,
            r#"{"save_path":"http://u:secretpw@h:8091","timeout":-1}"#,
            r#"{"save_path":"#,
            r#"{"pool":"secretpw"}"#,
        ] {
            match parse(bad) {
                Err(e @ Error::Config { .. }) => {
                    let msg = e.to_string();
                    assert!(!msg.contains("secretpw"), "{bad}: {msg}");
                    assert!(
                        matches!(
                            e,
                            Error::Config {
                                engine: "couchbase",
                                ..
                            }
                        ),
                        "{msg}"
                    );
                }
                other => panic!("{bad:?} gave {:?}", other.map(|_| ())),
            }
        }
        let long = format!("couchbase://h/b?prefix={}", "p".repeat(123));
        assert!(parse(&long).unwrap_err().is_config());
    }

    #[test]
    fn debug_hides_credentials() {
        let c = parse("http://sessions:secretpw@h:8091").unwrap();
        assert!(!format!("{c:?}").contains("secretpw"));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "http://sessions:pass@127.0.0.1:8091",
        "http://127.0.0.1:8091/,default,mybucket",
        r#"{"save_path":"http://u:pw@h:8091","bucket":"sess","prefix":"app:","timeout":1.5,"scope":"s","collection":"c","max_session_bytes":5}"#,
        "couchbase://u:p@h1,h2:11215/sess?prefix=x:&timeout=5&connect_timeout=0.5&max_session_bytes=5",
    ];

    /// A config or a config error, never a panic.
    #[test]
    fn couchbase_config_never_panics() {
        fuzz::parser(SEEDS, parse, |c| {
            !c.bucket.is_empty() && c.max_session_bytes > 0
        });
    }

    #[test]
    fn max_session_bytes_option() {
        let c = parse("couchbase://h/b?max_session_bytes=4096").unwrap();
        assert_eq!(c.max_session_bytes, 4096);
        let c = parse(r#"{"save_path":"couchbase://h","bucket":"b","max_session_bytes":4096}"#)
            .unwrap();
        assert_eq!(c.max_session_bytes, 4096);
        assert!(
            parse(r#"{"save_path":"couchbase://h","bucket":"b","max_session_bytes":0}"#).is_err()
        );
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "http://sessions:ZqPass@wordZq@127.0.0.1:8091",
        "http://u:ZqOldFormZq@127.0.0.1:8091/,default,mybucket",
        r#"{"save_path":"http://u:ZqNestedZq@h:8091","bucket":"sess","password":"ZqJsonZq"}"#,
        "couchbase://u:ZqConnZq@h1,h2:11215/sess?prefix=x:",
    ];

    /// Whatever the text, the password the parser takes is not shown once
    /// the secrets are masked.
    #[test]
    fn no_password_taken_is_shown() {
        fuzz::passwords_hidden(SEEDS, parse_recording, |cfg| vec![cfg.password.clone()]);
    }
}
