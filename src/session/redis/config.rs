//! Parsing of the three Redis engines' `sessionproviderconfig` strings.
//!
//! Three shapes are accepted (see the [module docs](super)): beego's comma
//! list, beego's JSON object, and `redis://` URLs.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::session::engine_options::{self, go_duration};
use crate::session::error::{Error, Result};

/// Which engine a config string is for: the shapes differ slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Single,
    Cluster,
    Sentinel,
}

impl Kind {
    fn default_port(self) -> u16 {
        match self {
            Kind::Sentinel => 26379,
            _ => 6379,
        }
    }

    fn default_pool_size(self) -> usize {
        // beego's defaults (MaxPoolSize; the cluster's is 1000).
        match self {
            Kind::Cluster => 1000,
            _ => 100,
        }
    }
}

/// Default key prefix: every key the engines write starts with it.
pub(crate) const DEFAULT_PREFIX: &str = "actix-bee:session:";
const DEFAULT_MASTER: &str = "mymaster";
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
const DEFAULT_RETRIES: usize = 2;
const MAX_PREFIX: usize = 256;

/// A parsed configuration. `Debug` never shows the passwords.
#[derive(Clone)]
pub(crate) struct RedisConfig {
    /// Redis nodes (single, cluster seeds) or sentinels, as host and port.
    pub nodes: Vec<(String, u16)>,
    pub pool_size: usize,
    pub username: Option<String>,
    pub password: Option<String>,
    pub sentinel_password: Option<String>,
    pub db: i64,
    pub master_name: String,
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    /// beego's `idle_timeout`: accepted, unused (multiplexed connections
    /// are not idle-pooled).
    pub idle_timeout: Option<Duration>,
    pub max_retries: usize,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("nodes", &self.nodes)
            .field("pool_size", &self.pool_size)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "sentinel_password",
                &self.sentinel_password.as_ref().map(|_| "<redacted>"),
            )
            .field("db", &self.db)
            .field("master_name", &self.master_name)
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

fn config_err(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

impl RedisConfig {
    fn defaults(kind: Kind) -> Self {
        RedisConfig {
            nodes: Vec::new(),
            pool_size: kind.default_pool_size(),
            username: None,
            password: None,
            sentinel_password: None,
            db: 0,
            master_name: DEFAULT_MASTER.into(),
            key_prefix: DEFAULT_PREFIX.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            idle_timeout: None,
            max_retries: DEFAULT_RETRIES,
        }
    }

    /// Parses any of the three shapes.
    pub(crate) fn parse(kind: Kind, config: &str) -> Result<Self> {
        let trimmed = config.trim();
        let cfg = if trimmed.starts_with('{') {
            parse_json(kind, trimmed)?
        } else if is_url(trimmed) {
            let mut cfg = Self::defaults(kind);
            apply_url(&mut cfg, kind, trimmed)?;
            cfg
        } else {
            parse_old_style(kind, trimmed)?
        };
        cfg.validate(kind)?;
        Ok(cfg)
    }

    fn validate(&self, kind: Kind) -> Result<()> {
        if self.nodes.is_empty() {
            return Err(config_err("redis: no address given"));
        }
        if self.db < 0 {
            return Err(config_err("redis: db_num must not be negative"));
        }
        if kind == Kind::Cluster && self.db != 0 {
            return Err(config_err("redis_cluster: Redis Cluster only has db 0"));
        }
        if self.pool_size == 0 {
            return Err(config_err("redis: poolsize must be positive"));
        }
        if self.key_prefix.is_empty() || self.key_prefix.len() > MAX_PREFIX {
            return Err(config_err(format!(
                "redis: key_prefix must be 1 to {MAX_PREFIX} bytes"
            )));
        }
        if kind == Kind::Sentinel && self.master_name.is_empty() {
            return Err(config_err("redis_sentinel: master_name is empty"));
        }
        if self.connect_timeout.is_zero() || self.response_timeout.is_zero() {
            return Err(config_err("redis: timeouts must be positive"));
        }
        Ok(())
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("redis://") || s.starts_with("rediss://")
}

/// beego's `addr,poolsize,password,dbnum,idle_timeout,idle_check_frequency,max_retries`;
/// sentinel has the master name as field 5, and the tail follows it
/// (beego reads the tail one field too early).
fn parse_old_style(kind: Kind, s: &str) -> Result<RedisConfig> {
    let mut cfg = RedisConfig::defaults(kind);
    let fields: Vec<&str> = s.split(',').map(str::trim).collect();
    let field = |i: usize| fields.get(i).copied().filter(|f| !f.is_empty());
    cfg.nodes = parse_addrs(kind, field(0).unwrap_or(""))?;
    if let Some(p) = field(1) {
        cfg.pool_size = parse_num("poolsize", p)?;
    }
    cfg.password = field(2).map(str::to_owned);
    if let Some(d) = field(3) {
        cfg.db = parse_num("dbnum", d)?;
    }
    let tail = if kind == Kind::Sentinel {
        if let Some(m) = field(4) {
            cfg.master_name = m.to_owned();
        }
        5
    } else {
        4
    };
    if let Some(t) = field(tail) {
        cfg.idle_timeout = Some(parse_duration("idle_timeout", t)?);
    }
    if let Some(t) = field(tail + 1) {
        // idle_check_frequency: beego parses it and never uses it.
        parse_duration("idle_check_frequency", t)?;
    }
    if let Some(r) = field(tail + 2) {
        cfg.max_retries = parse_num("max_retries", r)?;
    }
    if fields.len() > tail + 3 {
        return Err(config_err(format!(
            "redis: too many comma-separated fields (at most {}); use JSON for passwords containing ','",
            tail + 3
        )));
    }
    Ok(cfg)
}

fn parse_json(kind: Kind, s: &str) -> Result<RedisConfig> {
    let map: Map<String, Value> = serde_json::from_str(s).map_err(|e| {
        config_err(format!(
            "redis: invalid JSON config (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let mut cfg = RedisConfig::defaults(kind);
    for (key, value) in &map {
        match key.as_str() {
            "save_path" => {
                let path = json_str(key, value)?;
                if is_url(path.trim()) {
                    apply_url(&mut cfg, kind, path.trim())?;
                } else {
                    cfg.nodes = parse_addrs(kind, &path)?;
                }
            }
            "poolsize" | "pool_size" => cfg.pool_size = json_num(key, value)?,
            "password" => cfg.password = Some(json_str(key, value)?).filter(|p| !p.is_empty()),
            "username" => cfg.username = Some(json_str(key, value)?).filter(|p| !p.is_empty()),
            "sentinel_password" => {
                cfg.sentinel_password = Some(json_str(key, value)?).filter(|p| !p.is_empty())
            }
            "db_num" | "db" => cfg.db = json_num(key, value)?,
            "master_name" => cfg.master_name = json_str(key, value)?,
            "key_prefix" => cfg.key_prefix = json_str(key, value)?,
            "idle_timeout" => cfg.idle_timeout = json_duration(key, value)?,
            "idle_check_frequency" => {
                json_duration(key, value)?;
            }
            "connect_timeout" => {
                if let Some(d) = json_duration(key, value)? {
                    cfg.connect_timeout = d;
                }
            }
            "response_timeout" => {
                if let Some(d) = json_duration(key, value)? {
                    cfg.response_timeout = d;
                }
            }
            "max_retries" => cfg.max_retries = json_num(key, value)?,
            other => return Err(config_err(format!("redis: unknown JSON key {other:?}"))),
        }
    }
    Ok(cfg)
}

fn json_str(key: &str, v: &Value) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| config_err(format!("redis: {key} must be a string")))
}

fn json_num<T: std::str::FromStr>(key: &str, v: &Value) -> Result<T> {
    match v {
        Value::Number(n) => parse_num(key, &n.to_string()),
        Value::String(s) => parse_num(key, s.trim()),
        _ => Err(config_err(format!("redis: {key} must be a number"))),
    }
}

/// Durations are optional (beego requires both, a bug); a number is seconds,
/// a string is Go's `time.ParseDuration` syntax.
fn json_duration(key: &str, v: &Value) -> Result<Option<Duration>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_duration(key, s).map(Some),
        Value::Number(n) => parse_duration(key, &n.to_string()).map(Some),
        _ => Err(config_err(format!("redis: {key} must be a duration"))),
    }
}

fn parse_num<T: std::str::FromStr>(name: &str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| config_err(format!("redis: {name} must be a non-negative integer")))
}

/// Go duration syntax (`300ms`, `1m30s`, `2h`) or plain seconds (`30`).
pub(crate) fn parse_duration(name: &str, s: &str) -> Result<Duration> {
    let s = s.trim();
    let bad = || config_err(format!("redis: {name} is not a duration (e.g. 30s, 500ms)"));
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    go_duration(s).ok_or_else(bad)
}

/// `host:port`, `[v6]:port` or `host`, separated by `;` (beego) or `,`.
fn parse_addrs(kind: Kind, s: &str) -> Result<Vec<(String, u16)>> {
    s.split([';', ','])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| parse_addr(kind, a))
        .collect()
}

fn parse_addr(kind: Kind, a: &str) -> Result<(String, u16)> {
    let bad = || config_err(format!("redis: invalid address {a:?} (want host:port)"));
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err(bad()),
        }
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return Err(bad()),
            None => (a, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(bad());
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad())?,
        None => kind.default_port(),
    };
    Ok((host.to_owned(), port))
}

/// `redis://[user[:password]@]host[:port][,host[:port]...][/db][?key=value&...]`.
/// Query keys: `key_prefix`, `pool_size`, `connect_timeout`,
/// `response_timeout`, `master_name`, `sentinel_password`, `max_retries`.
/// Error messages never echo the URL, which may hold a password.
fn apply_url(cfg: &mut RedisConfig, kind: Kind, url: &str) -> Result<()> {
    if url.starts_with("rediss://") {
        return Err(config_err(
            "redis: rediss:// (TLS) is not supported by this build",
        ));
    }
    // A comma list of full URLs (`redis://a:1,redis://b:2`) is one URL
    // with several hosts.
    let url = url.replace(",redis://", ",");
    let rest = url.strip_prefix("redis://").unwrap_or(&url);
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, pass) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            let user = percent_decode(user)?;
            cfg.username = Some(user).filter(|u| !u.is_empty());
            if let Some(p) = pass {
                cfg.password = Some(percent_decode(p)?).filter(|p| !p.is_empty());
            }
            hosts
        }
        None => authority,
    };
    cfg.nodes = parse_addrs(kind, hosts)?;
    let path = path.trim_matches('/');
    if !path.is_empty() {
        cfg.db = parse_num("the URL's db", path)?;
    }
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v)?;
        match k {
            "key_prefix" => cfg.key_prefix = v,
            "pool_size" | "poolsize" => cfg.pool_size = parse_num(k, &v)?,
            "db" | "db_num" => cfg.db = parse_num(k, &v)?,
            "master_name" => cfg.master_name = v,
            "sentinel_password" => cfg.sentinel_password = Some(v).filter(|p| !p.is_empty()),
            "connect_timeout" => cfg.connect_timeout = parse_duration(k, &v)?,
            "response_timeout" => cfg.response_timeout = parse_duration(k, &v)?,
            "idle_timeout" => cfg.idle_timeout = Some(parse_duration(k, &v)?),
            "max_retries" => cfg.max_retries = parse_num(k, &v)?,
            "protocol" if v == "resp2" || v == "2" => {}
            other => {
                return Err(config_err(format!(
                    "redis: unknown URL parameter {other:?}"
                )))
            }
        }
    }
    Ok(())
}

fn percent_decode(s: &str) -> Result<String> {
    engine_options::percent_decode(s)
        .ok_or_else(|| config_err("redis: bad percent-encoding in the URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_style_single() {
        let c = RedisConfig::parse(Kind::Single, "127.0.0.1:6379,100,secret,2,30").unwrap();
        assert_eq!(c.nodes, [("127.0.0.1".to_owned(), 6379)]);
        assert_eq!((c.pool_size, c.db), (100, 2));
        assert_eq!(c.password.as_deref(), Some("secret"));
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.key_prefix, DEFAULT_PREFIX);
        let c = RedisConfig::parse(Kind::Single, "127.0.0.1:6379").unwrap();
        assert_eq!(c.password, None);
        let c = RedisConfig::parse(Kind::Single, "localhost,,,,").unwrap();
        assert_eq!(c.nodes, [("localhost".to_owned(), 6379)]);
    }

    #[test]
    fn old_style_sentinel_master_is_field_5_and_tail_follows() {
        let c = RedisConfig::parse(
            Kind::Sentinel,
            "127.0.0.1:26390;127.0.0.1:26391,50,pw,1,othermaster,45s,60s,4",
        )
        .unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.master_name, "othermaster");
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(45)));
        assert_eq!((c.max_retries, c.db, c.pool_size), (4, 1, 50));
        let c = RedisConfig::parse(Kind::Sentinel, "127.0.0.1").unwrap();
        assert_eq!(c.nodes, [("127.0.0.1".to_owned(), 26379)]);
        assert_eq!(c.master_name, "mymaster");
    }

    #[test]
    fn old_style_cluster() {
        let c = RedisConfig::parse(Kind::Cluster, "127.0.0.1:7001;127.0.0.1:7002,,,0").unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.pool_size, 1000);
        assert!(RedisConfig::parse(Kind::Cluster, "127.0.0.1:7001,,,3").is_err());
    }

    #[test]
    fn json_with_optional_durations() {
        let c = RedisConfig::parse(
            Kind::Sentinel,
            r#"{"save_path":"127.0.0.1:26390;127.0.0.1:26391","poolsize":10,"password":"p,w","db_num":"3","master_name":"m","key_prefix":"app:s:","connect_timeout":"1.5s","response_timeout":2}"#,
        )
        .unwrap();
        assert_eq!(c.password.as_deref(), Some("p,w"));
        assert_eq!((c.db, c.pool_size), (3, 10));
        assert_eq!(c.master_name, "m");
        assert_eq!(c.key_prefix, "app:s:");
        assert_eq!(c.connect_timeout, Duration::from_millis(1500));
        assert_eq!(c.response_timeout, Duration::from_secs(2));
        assert_eq!(c.idle_timeout, None);
        let c = RedisConfig::parse(
            Kind::Single,
            r#"{"save_path":"h:1","idle_timeout":"1m30s","idle_check_frequency":""}"#,
        )
        .unwrap();
        assert_eq!(c.idle_timeout, Some(Duration::from_secs(90)));
        assert!(RedisConfig::parse(Kind::Single, r#"{"save_path":"h:1","bogus":1}"#).is_err());
        assert!(
            RedisConfig::parse(Kind::Single, r#"{"save_path":"h:1","key_prefix":""}"#).is_err()
        );
        assert!(RedisConfig::parse(Kind::Single, r#"{"save_path":"#).is_err());
    }

    #[test]
    fn urls() {
        let c = RedisConfig::parse(
            Kind::Single,
            "redis://user:p%40ss@127.0.0.1:6399/4?key_prefix=x%3A&pool_size=8&response_timeout=250ms",
        )
        .unwrap();
        assert_eq!(c.nodes, [("127.0.0.1".to_owned(), 6399)]);
        assert_eq!(c.username.as_deref(), Some("user"));
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert_eq!((c.db, c.pool_size), (4, 8));
        assert_eq!(c.key_prefix, "x:");
        assert_eq!(c.response_timeout, Duration::from_millis(250));
        let c = RedisConfig::parse(
            Kind::Sentinel,
            "redis://:pw@127.0.0.1:26390,127.0.0.1:26391,[::1]:26392/?master_name=mm",
        )
        .unwrap();
        assert_eq!(c.nodes.len(), 3);
        assert_eq!(c.nodes[2], ("::1".to_owned(), 26392));
        assert_eq!(c.master_name, "mm");
        let c = RedisConfig::parse(Kind::Cluster, "redis://a:7001,redis://b:7002").unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert!(RedisConfig::parse(Kind::Single, "redis://h:1/?nope=1").is_err());
        assert!(RedisConfig::parse(Kind::Single, "rediss://h:1").is_err());
    }

    #[test]
    fn errors_and_debug_never_show_the_password() {
        for bad in [
            "redis://u:hunter2@h:notaport",
            "h:1,x,hunter2",
            "h:1,1,hunter2,zz",
            r#"{"save_path":"h:1","password":"hunter2","db_num":"x"}"#,
        ] {
            let err = RedisConfig::parse(Kind::Single, bad).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let c = RedisConfig::parse(Kind::Single, "h:1,1,hunter2").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("d", "30").unwrap(), Duration::from_secs(30));
        assert_eq!(
            parse_duration("d", "1h2m").unwrap(),
            Duration::from_secs(3720)
        );
        assert_eq!(
            parse_duration("d", "750ms").unwrap(),
            Duration::from_millis(750)
        );
        assert!(parse_duration("d", "").is_err());
        assert!(parse_duration("d", "5x").is_err());
        assert!(parse_duration("d", "-1s").is_err());
    }
}
