//! Parsing of the three Redis engines' `sessionproviderconfig` strings.
//!
//! Three shapes are accepted (see the [module docs](super)): beego's comma
//! list, beego's JSON object, and `redis://` URLs. All three go through one
//! key table ([`apply`]), so a key means the same in every shape.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::session::engines::shared::addr;
use crate::session::engines::shared::options::{
    self, split_hosts, Secret, DEFAULT_KEY_PREFIX, DEFAULT_MAX_SESSION_BYTES,
};
use crate::session::engines::shared::secrets::{json_members, json_str, Raw, Secrets};
use crate::session::error::{Error, Result};

/// Which engine a config string is for: the shapes differ slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Single,
    Cluster,
    Sentinel,
}

impl Shape {
    fn engine(self) -> &'static str {
        match self {
            Shape::Single => "redis",
            Shape::Cluster => "redis_cluster",
            Shape::Sentinel => "redis_sentinel",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Shape::Sentinel => 26379,
            _ => 6379,
        }
    }

    fn default_pool_size(self) -> usize {
        // beego's defaults (MaxPoolSize; the cluster's is 1000).
        match self {
            Shape::Cluster => 1000,
            _ => 100,
        }
    }
}

const DEFAULT_MASTER: &str = "mymaster";
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
const DEFAULT_RETRIES: usize = 2;
const MAX_PREFIX: usize = 256;
/// The keys of [`apply`], for error messages.
const KEYS: &str = "save_path, poolsize, password, username, sentinel_password, db_num, \
     master_name, key_prefix, idle_timeout, idle_check_frequency, connect_timeout, \
     response_timeout, max_retries, protocol, tls, tls_ca_file, tls_cert_file, tls_key_file, \
     tls_skip_verify, max_session_bytes";

/// A parsed configuration. `Debug` never shows the passwords.
#[derive(Debug, Clone)]
pub(crate) struct RedisConfig {
    /// Redis nodes (single, cluster seeds) or sentinels, as host and port.
    pub nodes: Vec<(String, u16)>,
    pub pool_size: usize,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub sentinel_password: Option<Secret>,
    pub db: i64,
    pub master_name: String,
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    /// beego's `idle_timeout`: accepted, unused (multiplexed connections
    /// are not idle-pooled).
    pub idle_timeout: Option<Duration>,
    pub max_retries: usize,
    /// TLS to every node (and, for the sentinel engine, to the sentinels
    /// and the master): `rediss://` or `"tls": true`.
    pub tls: bool,
    /// The CA file (PEM) the servers' certificates must chain to; the
    /// system's roots when unset.
    pub tls_ca_file: Option<String>,
    /// A client certificate (PEM), for servers with `tls-auth-clients yes`.
    pub tls_cert_file: Option<String>,
    /// The client certificate's key (PEM).
    pub tls_key_file: Option<String>,
    /// No verification of the servers' certificates (go-redis's
    /// `InsecureSkipVerify`): encryption without authentication.
    pub tls_skip_verify: bool,
    /// The largest session stored (`max_session_bytes`).
    pub max_session_bytes: usize,
}

impl RedisConfig {
    fn defaults(shape: Shape) -> Self {
        RedisConfig {
            nodes: Vec::new(),
            pool_size: shape.default_pool_size(),
            username: None,
            password: None,
            sentinel_password: None,
            db: 0,
            master_name: DEFAULT_MASTER.into(),
            key_prefix: DEFAULT_KEY_PREFIX.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            idle_timeout: None,
            max_retries: DEFAULT_RETRIES,
            tls: false,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_skip_verify: false,
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
        }
    }

    /// Parses any of the three shapes.
    pub(crate) fn parse(shape: Shape, config: &str) -> Result<Self> {
        Self::parse_recording(shape, config, &mut Secrets::new(config))
    }

    /// Parses any of the three shapes, recording in `secrets` the text of
    /// every password taken.
    fn parse_recording(shape: Shape, config: &str, secrets: &mut Secrets<'_>) -> Result<Self> {
        let trimmed = config.trim();
        let mut cfg = Self::defaults(shape);
        if trimmed.starts_with('{') {
            apply_json(&mut cfg, shape, trimmed, secrets)?;
        } else if is_url(trimmed) {
            apply_url(&mut cfg, shape, trimmed, secrets)?;
        } else {
            apply_old_style(&mut cfg, shape, trimmed, secrets)?;
        }
        cfg.validate(shape)?;
        Ok(cfg)
    }

    fn validate(&self, shape: Shape) -> Result<()> {
        let bad = |reason: &str| Err(Error::config(shape.engine(), reason));
        if self.nodes.is_empty() {
            return bad("no address given");
        }
        if self.db < 0 {
            return bad("db_num must not be negative");
        }
        if shape == Shape::Cluster && self.db != 0 {
            return bad("Redis Cluster only has db 0");
        }
        if self.key_prefix.is_empty() || self.key_prefix.len() > MAX_PREFIX {
            return Err(Error::config(
                shape.engine(),
                format!("key_prefix must be 1 to {MAX_PREFIX} bytes"),
            ));
        }
        if shape == Shape::Sentinel && self.master_name.is_empty() {
            return bad("master_name is empty");
        }
        let tls_options = self.tls_ca_file.is_some()
            || self.tls_cert_file.is_some()
            || self.tls_key_file.is_some()
            || self.tls_skip_verify;
        if tls_options && !self.tls {
            return bad("tls_ca_file, tls_cert_file, tls_key_file and tls_skip_verify need TLS: use rediss:// or tls=true");
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return bad("tls_cert_file and tls_key_file go together: set both or neither");
        }
        Ok(())
    }
}

/// The secrets found in `config`, a config of the `shape` engine, as its
/// parser takes them; a config error when the parser refuses `config`.
pub(crate) fn secrets(shape: Shape, config: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(config);
    RedisConfig::parse_recording(shape, config, &mut secrets)?;
    Ok(secrets)
}

/// The key table: one key and its value as text, whatever the shape, and
/// `raw`, the value as the config holds it (recorded in `secrets` for the
/// passwords). An empty value leaves an optional setting unset. Messages
/// never echo a value, which may be a password.
fn apply(
    cfg: &mut RedisConfig,
    shape: Shape,
    (key, value, raw): (&str, &str, Raw<'_>),
    secrets: &mut Secrets<'_>,
) -> Result<()> {
    let engine = shape.engine();
    let value = value.trim();
    match key {
        "save_path" if is_url(value) => {
            let mut inner = Secrets::new(value);
            apply_url(cfg, shape, value, &mut inner)?;
            secrets.nest(inner, raw);
        }
        "save_path" => cfg.nodes = parse_addrs(shape, value)?,
        "poolsize" | "pool_size" => {
            cfg.pool_size = usize::try_from(options::pool_size(engine, "poolsize", value)?)
                .unwrap_or(usize::MAX);
        }
        "password" => {
            secrets.add_raw(raw);
            cfg.password = Secret::new(value);
        }
        "username" => cfg.username = Some(value.to_owned()).filter(|u| !u.is_empty()),
        "sentinel_password" => {
            secrets.add_raw(raw);
            cfg.sentinel_password = Secret::new(value);
        }
        "db_num" | "db" => cfg.db = options::number(engine, "db_num", value)?,
        "master_name" => cfg.master_name = value.to_owned(),
        "key_prefix" => cfg.key_prefix = value.to_owned(),
        "idle_timeout" if value.is_empty() => cfg.idle_timeout = None,
        "idle_timeout" => cfg.idle_timeout = Some(options::duration(engine, key, value)?),
        // beego parses it and never uses it.
        "idle_check_frequency" if value.is_empty() => {}
        "idle_check_frequency" => {
            options::duration(engine, key, value)?;
        }
        "connect_timeout" | "response_timeout" if value.is_empty() => {}
        "connect_timeout" => cfg.connect_timeout = options::timeout(engine, key, value)?,
        "response_timeout" => cfg.response_timeout = options::timeout(engine, key, value)?,
        "max_retries" => cfg.max_retries = options::number(engine, key, value)?,
        "protocol" if matches!(value, "resp2" | "2") => {}
        "protocol" => return Err(Error::config(engine, "protocol must be resp2")),
        "tls" => cfg.tls = value.is_empty() || options::boolean(engine, key, value)?,
        "tls_ca_file" => cfg.tls_ca_file = Some(value.to_owned()).filter(|v| !v.is_empty()),
        "tls_cert_file" => cfg.tls_cert_file = Some(value.to_owned()).filter(|v| !v.is_empty()),
        "tls_key_file" => cfg.tls_key_file = Some(value.to_owned()).filter(|v| !v.is_empty()),
        "tls_skip_verify" | "skip_verify" => {
            cfg.tls_skip_verify = options::boolean(engine, key, value)?;
        }
        "max_session_bytes" => cfg.max_session_bytes = options::positive(engine, key, value)?,
        other => {
            return Err(Error::config(
                engine,
                format!("unknown key {other:?} (known: {KEYS})"),
            ))
        }
    }
    Ok(())
}

fn is_url(s: &str) -> bool {
    s.starts_with("redis://") || s.starts_with("rediss://")
}

/// beego's `addr,poolsize,password,dbnum,idle_timeout,idle_check_frequency,max_retries`;
/// sentinel has the master name as field 5, and the tail follows it
/// (beego reads the tail one field too early). After the password, a
/// field holding `=` is a `key=value` option (`tls=true`,
/// `tls_ca_file=/etc/ca.pem`): no positional field ever holds one.
fn apply_old_style(
    cfg: &mut RedisConfig,
    shape: Shape,
    s: &str,
    secrets: &mut Secrets<'_>,
) -> Result<()> {
    const FIELDS: &[&str] = &["save_path", "poolsize", "password", "db_num"];
    const TAIL: &[&str] = &["idle_timeout", "idle_check_frequency", "max_retries"];
    let names: Vec<&str> = match shape {
        Shape::Sentinel => FIELDS
            .iter()
            .chain(&["master_name"])
            .chain(TAIL)
            .copied()
            .collect(),
        _ => FIELDS.iter().chain(TAIL).copied().collect(),
    };
    let mut fields: Vec<&str> = Vec::new();
    for (i, field) in s.split(',').map(str::trim).enumerate() {
        match field.split_once('=') {
            Some((key, value)) if i > 2 => {
                apply(cfg, shape, (key.trim(), value, Raw::Text(value)), secrets)?
            }
            _ => fields.push(field),
        }
    }
    if fields.len() > names.len() {
        return Err(Error::config(
            shape.engine(),
            format!(
                "too many comma-separated fields (at most {}); use JSON for passwords containing ','",
                names.len()
            ),
        ));
    }
    if let Some(hint) = addresses_misread(shape, &fields) {
        return Err(Error::config(shape.engine(), hint));
    }
    for (i, (name, value)) in names.iter().zip(&fields).enumerate() {
        if i == 0 || !value.is_empty() {
            apply(cfg, shape, (name, value, Raw::Text(value)), secrets)
                .map_err(|e| in_old_style(e, shape, i, name))?;
        }
    }
    Ok(())
}

/// The comma form's fields, as the messages name them.
fn old_style_form(shape: Shape) -> &'static str {
    match shape {
        Shape::Sentinel => "sentinels,poolsize,password,db_num,master_name,idle_timeout,...",
        Shape::Cluster => "addr;addr;...,poolsize,password,db_num,idle_timeout,...",
        Shape::Single => "addr,poolsize,password,db_num,idle_timeout,...",
    }
}

/// Says which form and field an error of the comma form came from: the
/// value reads as an option list, which the user may not have meant.
fn in_old_style(e: Error, shape: Shape, index: usize, name: &str) -> Error {
    match e {
        Error::Config { engine, reason } => Error::Config {
            engine,
            reason: format!(
                "{reason} (read as beego's comma form `{}`: field {} is {name})",
                old_style_form(shape),
                index + 1
            ),
        },
        other => other,
    }
}

/// `a:1,b:2,c:3` is read as `addr,poolsize,password` and would fail on a
/// pool size of `b:2`: when the second field is an address, say what was
/// meant. Only the address fields are echoed (never the password's place).
fn addresses_misread(shape: Shape, fields: &[&str]) -> Option<String> {
    let second = fields.get(1)?;
    let is_address = |f: &str| f.contains(':') && parse_addr(shape, f).is_ok();
    if !is_address(second) {
        return None;
    }
    let addrs: Vec<&str> = fields
        .iter()
        .copied()
        .take_while(|f| is_address(f))
        .collect();
    Some(format!(
        "{second:?} is an address, but beego's comma form is `{form}`, so it was read as the pool size; \
         separate addresses with ';' ({joined}) or write a URL (redis://{urls})",
        form = old_style_form(shape),
        joined = addrs.join(";"),
        urls = addrs.join(","),
    ))
}

fn apply_json(
    cfg: &mut RedisConfig,
    shape: Shape,
    s: &str,
    secrets: &mut Secrets<'_>,
) -> Result<()> {
    let engine = shape.engine();
    let invalid = |e: serde_json::Error| {
        Error::config(
            engine,
            format!(
                "invalid JSON config (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    };
    // The members with their raw text, so that a password is recorded
    // where the config holds it.
    let Some(members) = json_members(s) else {
        return Err(serde_json::from_str::<Map<String, Value>>(s)
            .err()
            .map_or_else(|| Error::config(engine, "invalid JSON config"), invalid));
    };
    for (key, raw) in &members {
        let value: Value = serde_json::from_str(raw).map_err(invalid)?;
        let text: std::borrow::Cow<'_, str> = match value {
            Value::Null => continue,
            Value::String(s) => json_str(raw).map_or(s.into(), |c| c),
            Value::Number(n) => n.to_string().into(),
            // `"tls": true`, `"tls_skip_verify": false`.
            Value::Bool(b) => b.to_string().into(),
            _ => {
                return Err(Error::config(
                    engine,
                    format!("{key} must be a string, a number or a boolean"),
                ))
            }
        };
        apply(cfg, shape, (key, &text, Raw::Json(raw)), secrets)?;
    }
    Ok(())
}

/// `host:port`, `[v6]:port` or `host`, separated by `;` (beego) or `,`.
fn parse_addrs(shape: Shape, s: &str) -> Result<Vec<(String, u16)>> {
    split_hosts(s).map(|a| parse_addr(shape, a)).collect()
}

fn parse_addr(shape: Shape, a: &str) -> Result<(String, u16)> {
    let hp = addr::parse(a).map_err(|e| Error::config(shape.engine(), e.to_string()))?;
    Ok((hp.host.to_owned(), hp.port_or(shape.default_port())))
}

/// `redis://[user[:password]@]host[:port][,host[:port]...][/db][?key=value&...]`;
/// the query takes the keys of [`apply`]. Error messages never echo the
/// URL, which may hold a password.
fn apply_url(
    cfg: &mut RedisConfig,
    shape: Shape,
    url: &str,
    secrets: &mut Secrets<'_>,
) -> Result<()> {
    let engine = shape.engine();
    let tls = url.starts_with("rediss://");
    cfg.tls |= tls;
    if url.contains('#') {
        return Err(Error::config(
            engine,
            "a URL fragment (such as #insecure) is not supported: use tls_skip_verify=true",
        ));
    }
    let decode = |s: &str| {
        options::percent_decode(s)
            .ok_or_else(|| Error::config(engine, "bad percent-encoding in the URL"))
    };
    let rest = url
        .strip_prefix("redis://")
        .or_else(|| url.strip_prefix("rediss://"))
        .unwrap_or(url);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let end = authority_end(rest);
    let (authority, path) = (&rest[..end], rest[end..].strip_prefix('/').unwrap_or(""));
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, pass) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            apply(
                cfg,
                shape,
                ("username", &decode(user)?, Raw::Text(user)),
                secrets,
            )?;
            if let Some(p) = pass {
                apply(cfg, shape, ("password", &decode(p)?, Raw::Text(p)), secrets)?;
            }
            hosts
        }
        None => authority,
    };
    // A comma list of full URLs (`redis://a:1,redis://b:2`) is one URL
    // with several hosts.
    let hosts = hosts.replace(",redis://", ",").replace(",rediss://", ",");
    cfg.nodes = parse_addrs(shape, &hosts)?;
    let path = path.trim_matches('/');
    if !path.is_empty() {
        cfg.db = options::number(engine, "the URL's db", path)?;
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        apply(cfg, shape, (k, &decode(v)?, Raw::Text(v)), secrets)?;
    }
    Ok(())
}

/// Where the authority of a URL (after its scheme) ends: at the first '/'
/// that is not part of a further host's `redis://` or `rediss://`.
fn authority_end(rest: &str) -> usize {
    let mut from = 0;
    while let Some(i) = rest.get(from..).and_then(|r| r.find('/')) {
        let at = from + i;
        let before = &rest[..at];
        let scheme = before.ends_with(",redis:") || before.ends_with(",rediss:");
        if scheme && rest[at..].starts_with("//") {
            from = at + 2;
        } else {
            return at;
        }
    }
    rest.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_style_single() {
        let c = RedisConfig::parse(Shape::Single, "127.0.0.1:6379,100,secret,2,30").unwrap();
        assert_eq!(c.nodes, [("127.0.0.1".to_owned(), 6379)]);
        assert_eq!((c.pool_size, c.db), (100, 2));
        assert_eq!(c.password.as_ref().map(Secret::expose), Some("secret"));
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.key_prefix, "actix-bee:session:");
        let c = RedisConfig::parse(Shape::Single, "127.0.0.1:6379").unwrap();
        assert_eq!(c.password, None);
        let c = RedisConfig::parse(Shape::Single, "localhost,,,,").unwrap();
        assert_eq!(c.nodes, [("localhost".to_owned(), 6379)]);
    }

    #[test]
    fn old_style_sentinel_master_is_field_5_and_tail_follows() {
        let c = RedisConfig::parse(
            Shape::Sentinel,
            "127.0.0.1:26390;127.0.0.1:26391,50,pw,1,othermaster,45s,60s,4",
        )
        .unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.master_name, "othermaster");
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(45)));
        assert_eq!((c.max_retries, c.db, c.pool_size), (4, 1, 50));
        let c = RedisConfig::parse(Shape::Sentinel, "127.0.0.1").unwrap();
        assert_eq!(c.nodes, [("127.0.0.1".to_owned(), 26379)]);
        assert_eq!(c.master_name, "mymaster");
    }

    #[test]
    fn comma_separated_addresses_say_what_was_meant() {
        let err = RedisConfig::parse(
            Shape::Cluster,
            "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("read as the pool size"), "{err}");
        assert!(
            err.contains("127.0.0.1:7001;127.0.0.1:7002;127.0.0.1:7003"),
            "{err}"
        );
        let err = RedisConfig::parse(Shape::Single, "h:1,lots")
            .unwrap_err()
            .to_string();
        assert!(err.contains("field 2 is poolsize"), "{err}");
        assert!(err.contains("addr,poolsize,password"), "{err}");
    }

    #[test]
    fn old_style_cluster() {
        let c = RedisConfig::parse(Shape::Cluster, "127.0.0.1:7001;127.0.0.1:7002,,,0").unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.pool_size, 1000);
        assert!(RedisConfig::parse(Shape::Cluster, "127.0.0.1:7001,,,3").is_err());
    }

    #[test]
    fn json_with_optional_durations() {
        let c = RedisConfig::parse(
            Shape::Sentinel,
            r#"{"save_path":"127.0.0.1:26390;127.0.0.1:26391","poolsize":10,"password":"p,w","db_num":"3","master_name":"m","key_prefix":"app:s:","connect_timeout":"1.5s","response_timeout":2}"#,
        )
        .unwrap();
        assert_eq!(c.password.as_ref().map(Secret::expose), Some("p,w"));
        assert_eq!((c.db, c.pool_size), (3, 10));
        assert_eq!(c.master_name, "m");
        assert_eq!(c.key_prefix, "app:s:");
        assert_eq!(c.connect_timeout, Duration::from_millis(1500));
        assert_eq!(c.response_timeout, Duration::from_secs(2));
        assert_eq!(c.idle_timeout, None);
        let c = RedisConfig::parse(
            Shape::Single,
            r#"{"save_path":"h:1","idle_timeout":"1m30s","idle_check_frequency":""}"#,
        )
        .unwrap();
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(90)));
        assert!(RedisConfig::parse(Shape::Single, r#"{"save_path":"h:1","bogus":1}"#).is_err());
        assert!(
            RedisConfig::parse(Shape::Single, r#"{"save_path":"h:1","key_prefix":""}"#).is_err()
        );
        assert!(RedisConfig::parse(Shape::Single, r#"{"save_path":"#).is_err());
    }

    #[test]
    fn ipv6_addresses_are_bracketed_in_every_shape() {
        let v6 = |port| ("::1".to_owned(), port);
        for (shape, raw, want) in [
            (Shape::Single, "[::1]:6390", v6(6390)),
            (Shape::Single, "[::1]", v6(6379)),
            (Shape::Single, r#"{"save_path":"[::1]:6391"}"#, v6(6391)),
            (Shape::Single, "redis://[::1]:6392/0", v6(6392)),
            (Shape::Cluster, "127.0.0.1:7001;[::1]:7002", v6(7002)),
            (Shape::Sentinel, "[::1],10,,0,mm", v6(26379)),
        ] {
            let c = RedisConfig::parse(shape, raw).unwrap();
            assert_eq!(c.nodes.last(), Some(&want), "{raw}");
        }
        for bad in ["::1:6379", "[::1:6379", "[::1]6379", "redis://::1:6379/0"] {
            let err = RedisConfig::parse(Shape::Single, bad).unwrap_err();
            assert!(err.is_config(), "{bad}: {err}");
        }
        let err = RedisConfig::parse(Shape::Single, "::1:6379").unwrap_err();
        assert!(err.to_string().contains("[::1]:port"), "{err}");
    }

    #[test]
    fn urls() {
        let c = RedisConfig::parse(
            Shape::Single,
            "redis://user:p%40ss@127.0.0.1:6399/4?key_prefix=x%3A&pool_size=8&response_timeout=250ms",
        )
        .unwrap();
        assert_eq!(c.nodes, [("127.0.0.1".to_owned(), 6399)]);
        assert_eq!(c.username.as_deref(), Some("user"));
        assert_eq!(c.password.as_ref().map(Secret::expose), Some("p@ss"));
        assert_eq!((c.db, c.pool_size), (4, 8));
        assert_eq!(c.key_prefix, "x:");
        assert_eq!(c.response_timeout, Duration::from_millis(250));
        let c = RedisConfig::parse(
            Shape::Sentinel,
            "redis://:pw@127.0.0.1:26390,127.0.0.1:26391,[::1]:26392/?master_name=mm",
        )
        .unwrap();
        assert_eq!(c.nodes.len(), 3);
        assert_eq!(c.nodes[2], ("::1".to_owned(), 26392));
        assert_eq!(c.master_name, "mm");
        let c = RedisConfig::parse(Shape::Cluster, "redis://a:7001,redis://b:7002").unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert!(RedisConfig::parse(Shape::Single, "redis://h:1/?nope=1").is_err());
    }

    #[test]
    fn tls_in_every_shape() {
        let c = RedisConfig::parse(
            Shape::Single,
            "rediss://h:6479/?tls_ca_file=%2Fetc%2Fca.pem&tls_cert_file=/c.pem&tls_key_file=/k.pem",
        )
        .unwrap();
        assert!(c.tls && !c.tls_skip_verify);
        assert_eq!(c.tls_ca_file.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(c.tls_key_file.as_deref(), Some("/k.pem"));
        let c = RedisConfig::parse(Shape::Cluster, "rediss://a:1,rediss://b:2").unwrap();
        assert!(c.tls && c.nodes.len() == 2);
        let c = RedisConfig::parse(
            Shape::Single,
            r#"{"save_path":"h:1","tls":true,"tls_ca_file":"/ca.pem"}"#,
        )
        .unwrap();
        assert!(c.tls && c.tls_ca_file.is_some());
        let c = RedisConfig::parse(
            Shape::Single,
            r#"{"save_path":"rediss://h:1","tls_skip_verify":"true"}"#,
        )
        .unwrap();
        assert!(c.tls && c.tls_skip_verify);
        let c = RedisConfig::parse(
            Shape::Single,
            "h:1,100,p=w,0,tls=true,tls_ca_file=/ca.pem,30s",
        )
        .unwrap();
        assert!(c.tls);
        assert_eq!(c.password.as_ref().map(Secret::expose), Some("p=w"));
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(30)));
        let c = RedisConfig::parse(Shape::Sentinel, "h:1,10,,0,mm,tls=true").unwrap();
        assert!(c.tls && c.master_name == "mm");
        for bad in [
            "redis://h:1/?tls_ca_file=/ca.pem",
            "rediss://h:1/#insecure",
            "rediss://h:1/?tls_cert_file=/c.pem",
            "h:1,1,,0,tls=maybe",
        ] {
            assert!(
                RedisConfig::parse(Shape::Single, bad)
                    .unwrap_err()
                    .is_config(),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_and_debug_never_show_the_password() {
        for bad in [
            "redis://u:hunter2@h:notaport",
            "h:1,x,hunter2",
            "h:1,1,hunter2,zz",
            r#"{"save_path":"h:1","password":"hunter2","db_num":"x"}"#,
        ] {
            let err = RedisConfig::parse(Shape::Single, bad).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let c = RedisConfig::parse(Shape::Single, "h:1,1,hunter2").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn durations_follow_the_one_grammar() {
        let parse = |d: &str| {
            RedisConfig::parse(
                Shape::Single,
                &format!(r#"{{"save_path":"h:1","response_timeout":"{d}","idle_timeout":"{d}"}}"#),
            )
        };
        assert_eq!(
            parse("750ms").unwrap().response_timeout,
            Duration::from_millis(750)
        );
        assert_eq!(
            parse("0.5").unwrap().idle_timeout,
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse("1h").unwrap().idle_timeout,
            Some(Duration::from_secs(3600))
        );
        for bad in ["5x", "-1s", "1e20", "18446744073709551615", "2h"] {
            assert!(parse(bad).unwrap_err().is_config(), "{bad}");
        }
        assert!(RedisConfig::parse(Shape::Single, "h:1,2000")
            .unwrap_err()
            .is_config());
        let c = RedisConfig::parse(Shape::Single, "redis://h:1/?protocol=2&db_num=3").unwrap();
        assert_eq!(c.db, 3);
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "127.0.0.1:6375,100,secret,5,30,5s,5",
        "127.0.0.1:26390;127.0.0.1:26391,50,pw,1,mymaster,45s,60s,5",
        "127.0.0.1:7001;[::1]:7005,,,0,tls=true,tls_skip_verify=true",
        r#"{"save_path":"127.0.0.1:6375","poolsize":5,"db_num":"5","key_prefix":"a:","tls":true,"max_session_bytes":5}"#,
        "redis://u:p%40w@127.0.0.1:6375,127.0.0.1:5/5?key_prefix=x&connect_timeout=0.5&max_session_bytes=5",
        "rediss://127.0.0.1:5?tls_ca_file=/ca.pem&response_timeout=5ms",
    ];

    /// Every shape of every Redis engine: a config or a config error, never
    /// a panic. Parsing connects nowhere.
    #[test]
    fn redis_config_never_panics() {
        for shape in [Shape::Single, Shape::Cluster, Shape::Sentinel] {
            fuzz::parser(
                SEEDS,
                |raw| RedisConfig::parse(shape, raw),
                |c| !c.nodes.is_empty() && c.max_session_bytes > 0,
            );
        }
    }

    #[test]
    fn max_session_bytes_in_every_shape() {
        for raw in [
            "127.0.0.1:6379,10,,0,max_session_bytes=4096",
            r#"{"save_path":"127.0.0.1:6379","max_session_bytes":4096}"#,
            "redis://127.0.0.1:6379?max_session_bytes=4096",
        ] {
            let c = RedisConfig::parse(Shape::Single, raw).unwrap();
            assert_eq!(c.max_session_bytes, 4096, "{raw}");
        }
        let c = RedisConfig::parse(Shape::Single, "127.0.0.1").unwrap();
        assert_eq!(c.max_session_bytes, DEFAULT_MAX_SESSION_BYTES);
        assert!(RedisConfig::parse(Shape::Single, "redis://h?max_session_bytes=0").is_err());
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    /// Passwords holding the delimiters of each form, in every form.
    const SEEDS: &[&str] = &[
        "127.0.0.1:6375,5,ZqSe/cr@t(Zq,5",
        "127.0.0.1:26390,5,ZqSecretZq,5,m,sentinel_password=ZqSentinelZq",
        r#"{"save_path":"127.0.0.1:6375","password":"ZqJson secretZq","sentinel_password":"ZqSent\"inelZq"}"#,
        r#"{"save_path":"redis://:ZqNest@edZq@127.0.0.1:6375"}"#,
        "redis://u:ZqUrl%2FpwZq@127.0.0.1:6375/5?sentinel_password=ZqQueryZq",
    ];

    /// Whatever the text, no password the parser took is shown once its
    /// secrets are masked.
    #[test]
    fn no_password_taken_is_shown() {
        for shape in [Shape::Single, Shape::Cluster, Shape::Sentinel] {
            let parse = |raw: &str, secrets: &mut Secrets<'_>| {
                RedisConfig::parse_recording(shape, raw, secrets)
            };
            fuzz::passwords_hidden(SEEDS, parse, |cfg| {
                [&cfg.password, &cfg.sentinel_password]
                    .into_iter()
                    .flatten()
                    .map(|p| p.expose().to_owned())
                    .collect()
            });
        }
    }
}
