//! The `postgresql` engine's DSN: a `postgres://` URL or a libpq
//! conninfo string, with the engine options and the TLS keys taken out
//! before the driver reads the rest.

use std::str::FromStr;

use super::name::{config_err, NAME};
use super::tls::{PgTls, KEYS as TLS_KEYS};
use crate::session::engines::shared::addr;
use crate::session::engines::shared::options::percent_decode;
use crate::session::engines::shared::secrets::Secrets;
use crate::session::engines::sql::options::{
    join_query, parse_query, redact_userinfo, EngineOptions,
};
use crate::session::error::Result;

type Pair<'a> = (&'a str, &'a str);

/// Splits a libpq conninfo string, keeping each value's raw text (quotes
/// and escapes included) so the rest can be passed on unchanged.
fn conninfo_pairs(s: &str) -> Result<Vec<Pair<'_>>> {
    let mut pairs = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            return Ok(pairs);
        };
        let mut key_end = key_start;
        while let Some((i, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key_end = i + c.len_utf8();
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(config_err(
                "read as libpq's conninfo (it is not a postgres:// URL), which must be \
                 key=value pairs such as host=127.0.0.1 port=5432 user=app dbname=app; \
                 for host:port write postgres://user@host:port/dbname",
            ));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value_start = chars.peek().map_or(s.len(), |&(i, _)| i);
        let mut value_end = value_start;
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        if quoted {
            value_end += 1;
        }
        let mut closed = !quoted;
        while let Some(&(i, c)) = chars.peek() {
            if !quoted && c.is_whitespace() {
                break;
            }
            chars.next();
            value_end = i + c.len_utf8();
            if c == '\\' {
                if let Some((j, escaped)) = chars.next() {
                    value_end = j + escaped.len_utf8();
                }
            } else if quoted && c == '\'' {
                closed = true;
                break;
            }
        }
        if !closed {
            return Err(config_err("unterminated quote in the conninfo string"));
        }
        pairs.push((&s[key_start..key_end], &s[value_start..value_end]));
    }
}

/// A conninfo value without its quotes and escapes.
fn unquote(raw: &str) -> String {
    let inner = raw
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// The DSN with passwords replaced by `***`, for `Debug`.
pub(super) fn redact(dsn: &str) -> String {
    if dsn.contains("://") {
        let (base, query) = match dsn.split_once('?') {
            Some((b, q)) => (b, q),
            None => (dsn, ""),
        };
        let params: Vec<(String, String)> = parse_query(query)
            .into_iter()
            .map(|(k, v)| {
                if k == "password" {
                    (k, "***".into())
                } else {
                    (k, v)
                }
            })
            .collect();
        return join_query(&redact_userinfo(base), &params);
    }
    match conninfo_pairs(dsn) {
        Ok(pairs) => pairs
            .into_iter()
            .map(|(k, v)| {
                let v = if k == "password" { "***" } else { v };
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => "(unparsable conninfo)".into(),
    }
}

/// The secrets of a URL or conninfo string, as [`parse_dsn`] and the
/// driver take them; a config error when they refuse it.
pub(crate) fn secrets(config: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(config);
    parse_dsn_recording(config, &mut secrets)?;
    Ok(secrets)
}

/// The raw texts a `postgres://` URL may hold a password in, as the
/// driver's URL parser delimits them: the user info runs from the scheme
/// to the first '@' and the password follows its first ':'; a `password`
/// query parameter sets it too.
fn url_passwords<'a>(base: &'a str, query: &'a str) -> Vec<&'a str> {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let userinfo = rest.split_once('@').map(|(info, _)| info);
    let mut found: Vec<&str> = userinfo
        .and_then(|info| info.split_once(':'))
        .map(|(_, pass)| pass)
        .into_iter()
        .collect();
    found.extend(
        query
            .split('&')
            .filter_map(|pair| pair.strip_prefix("password=")),
    );
    found
}

/// Reads each `host:port` of a URL's host list with the shared [`addr`]
/// reader, so that an address the driver would take apart differently
/// (an IPv6 address without brackets) is refused with the same words as
/// in every networked engine. The driver then reads the URL itself; an
/// empty host (a unix socket from the query) is left to it.
fn check_url_hosts(base: &str) -> Result<()> {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    let hosts = authority
        .rsplit_once('@')
        .map_or(authority, |(_, hosts)| hosts);
    for host in hosts.split(',').filter(|h| !h.is_empty()) {
        addr::parse(host).map_err(|e| config_err(e.to_string()))?;
    }
    Ok(())
}

/// Parses a URL or conninfo string into the driver's config, the engine
/// options and the TLS settings.
pub(super) fn parse_dsn(dsn: &str) -> Result<(postgres::Config, EngineOptions, PgTls)> {
    parse_dsn_recording(dsn, &mut Secrets::new(dsn))
}

/// [`parse_dsn`], recording in `secrets` the text of every password given.
/// What the driver took must be one of them, or everything is masked.
fn parse_dsn_recording(
    dsn: &str,
    secrets: &mut Secrets<'_>,
) -> Result<(postgres::Config, EngineOptions, PgTls)> {
    let dsn = dsn.trim();
    if dsn.is_empty() {
        return Err(config_err(
            "sessionproviderconfig must be a postgres:// URL or a key=value conninfo string",
        ));
    }
    let mut tls = PgTls::default();
    // Each password text given, with its value as the driver reads it.
    let mut given: Vec<(&str, Option<String>)> = Vec::new();
    let (driver_dsn, options) = if dsn.contains("://") {
        let (base, query) = dsn.split_once('?').unwrap_or((dsn, ""));
        check_url_hosts(base)?;
        given.extend(
            url_passwords(base, query)
                .into_iter()
                .map(|raw| (raw, percent_decode(raw))),
        );
        let mut params = parse_query(query);
        let options = EngineOptions::take(NAME, &mut params)?;
        let mut rest = Vec::with_capacity(params.len());
        for (key, value) in params {
            if TLS_KEYS.contains(&key.as_str()) {
                let value = percent_decode(&value)
                    .ok_or_else(|| config_err(format!("{key}: bad percent-encoding in the URL")))?;
                tls.set(&key, value)?;
            } else {
                rest.push((key, value));
            }
        }
        (join_query(base, &rest), options)
    } else {
        let pairs = conninfo_pairs(dsn)?;
        let mut ours: Vec<(String, String)> = Vec::new();
        let mut rest = Vec::new();
        for (key, raw) in pairs {
            match key {
                "table" | "pool_size" | "connect_timeout" | "create_table" => {
                    ours.push((key.to_owned(), unquote(raw)));
                }
                k if TLS_KEYS.contains(&k) => tls.set(k, unquote(raw))?,
                _ => {
                    if key == "password" {
                        given.push((raw, Some(unquote(raw))));
                    }
                    rest.push(format!("{key}={raw}"));
                }
            }
        }
        (rest.join(" "), EngineOptions::take(NAME, &mut ours)?)
    };
    let mut config = postgres::Config::from_str(&driver_dsn)
        .map_err(|e| config_err(format!("invalid connection string: {e}")))?;
    for (raw, _) in &given {
        secrets.add(raw);
    }
    if let Some(taken) = config.get_password() {
        let found = given
            .iter()
            .any(|(_, value)| value.as_deref().map(str::as_bytes) == Some(taken));
        if !found {
            secrets.mask_all();
        }
    }
    config.connect_timeout(options.connect_timeout);
    Ok((config, options, tls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::error::Error;
    use std::time::Duration;

    #[test]
    fn urls_lose_the_engine_options() {
        let (c, o, _) =
            parse_dsn("postgres://u:p@h:5433/d?table=t1&connect_timeout=2&application_name=x")
                .unwrap();
        assert_eq!(c.get_user(), Some("u"));
        assert_eq!(c.get_ports(), [5433]);
        assert_eq!(c.get_application_name(), Some("x"));
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(2)));
        assert_eq!(o.table, "t1");
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        use postgres::config::Host;
        let (c, _, _) = parse_dsn("postgres://u@[::1]:5433,h2/d").unwrap();
        assert_eq!(
            c.get_hosts(),
            [Host::Tcp("::1".into()), Host::Tcp("h2".into())]
        );
        assert_eq!(c.get_ports(), [5433, 5432]);
        let (c, _, _) = parse_dsn("host=::1 port=5433 user=u dbname=d").unwrap();
        assert_eq!(c.get_hosts(), [Host::Tcp("::1".into())]);
        let err = parse_dsn("postgres://u@::1:5433/d").unwrap_err();
        assert!(err.to_string().contains("[::1]:port"), "{err}");
        assert!(parse_dsn("postgres://u@[::1/d").unwrap_err().is_config());
        let (c, _, _) = parse_dsn("postgres:///d?host=%2Frun%2Fpg").unwrap();
        assert_eq!(c.get_hosts().len(), 1);
    }

    #[test]
    fn conninfo_parsing() {
        let pairs = conninfo_pairs("host=h  user = 'a b' password='x\\'y' dbname=d").unwrap();
        assert_eq!(
            pairs,
            [
                ("host", "h"),
                ("user", "'a b'"),
                ("password", "'x\\'y'"),
                ("dbname", "d"),
            ]
        );
        assert_eq!(unquote("'x\\'y'"), "x'y");
        let (c, o, _) =
            parse_dsn("host=127.0.0.1 user='a b' dbname=d table=t2 pool_size=3 create_table=0")
                .unwrap();
        assert_eq!(c.get_user(), Some("a b"));
        assert_eq!(c.get_dbname(), Some("d"));
        assert_eq!(
            (o.table.as_str(), o.pool_size, o.create_table),
            ("t2", 3, false)
        );
        assert!(conninfo_pairs("host='unterminated").is_err());
        assert!(conninfo_pairs("hostonly").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:pw@h/d?password=pw2&table=t"),
            "postgres://u:***@h/d?password=***&table=t"
        );
        assert_eq!(
            redact("host=h password='p w' user=u"),
            "host=h password=*** user=u"
        );
    }

    #[test]
    fn bad_dsns_are_config_errors() {
        for dsn in [
            "",
            "host=h table='x; DROP TABLE y'",
            "postgres://h/d?table=a.b",
            "host=h nonsense=1",
            "postgres://h/d?pool_size=0",
        ] {
            assert!(
                matches!(parse_dsn(dsn), Err(Error::Config { .. })),
                "{dsn} accepted"
            );
        }
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "postgres://u:p%40w@127.0.0.1:5435/test?sslmode=disable&table=s&max_session_bytes=5",
        "host=127.0.0.1 port=5435 user=u dbname=test sslmode=verify-full",
        "postgresql://h1:5,h2:5/db?connect_timeout=5&call_timeout=0.5",
    ];

    /// Either DSN form: parsed or a config error, never a panic. Parsing
    /// connects nowhere.
    #[test]
    fn postgresql_dsn_never_panics() {
        fuzz::parser(SEEDS, parse_dsn, |_| true);
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "postgres://u:ZqUrl%40SecretZq@127.0.0.1:5435/test?table=s",
        "host=127.0.0.1 user=u password='Zq a\\' b Zq' dbname=d",
        "postgresql://u@h:5/d?password=ZqQuery@/Zq&application_name=x",
    ];

    /// Whatever the text, the password the driver takes is not shown once
    /// the secrets are masked.
    #[test]
    fn no_password_taken_is_shown() {
        fuzz::passwords_hidden(SEEDS, parse_dsn_recording, |(config, _, _)| {
            let pass = config.get_password();
            pass.map(|p| String::from_utf8_lossy(p).into_owned())
                .into_iter()
                .collect()
        });
    }
}
