//! The `mysql` engine's DSN: go-sql-driver's form and `mysql://` URLs,
//! with the engine options and the TLS keys taken out before the driver
//! sees the rest.

use mysql::consts::CapabilityFlags;
use mysql::{Opts, OptsBuilder};

use super::name::{config_err, NAME};
use super::tls::{MyTls, KEYS as TLS_KEYS};
use crate::session::engines::shared::secrets::{url_password, Secrets};
use crate::session::engines::shared::{addr, options};
use crate::session::engines::sql::options::{join_query, parse_query, EngineOptions};
use crate::session::error::Result;

/// The port of an address that names none.
const DEFAULT_PORT: u16 = 3306;

/// `host`, `host:port`, `[v6]` or `[v6]:port`, read by the shared
/// [`addr`] reader; an IPv6 host goes to the driver in brackets, which
/// it reads as an IPv6 address rather than a host name.
fn host_port(address: &str) -> Result<(String, u16)> {
    let hp = addr::parse(address).map_err(|e| config_err(e.to_string()))?;
    Ok((hp.url_host(), hp.port_or(DEFAULT_PORT)))
}

/// Takes the TLS keys out of `params`.
fn take_tls(params: &mut Vec<(String, String)>, tls: &mut MyTls) -> Result<()> {
    let mut rest = Vec::with_capacity(params.len());
    for (key, value) in params.drain(..) {
        if TLS_KEYS.contains(&key.as_str()) {
            let value = options::percent_decode(&value)
                .ok_or_else(|| config_err(format!("{key}: bad percent-encoding")))?;
            tls.set(&key, &value)?;
        } else {
            rest.push((key, value));
        }
    }
    *params = rest;
    Ok(())
}

/// go-sql-driver's `[user[:password]@][net[(addr)]]/dbname[?params]`.
fn parse_go_dsn(
    dsn: &str,
    tls: &mut MyTls,
    secrets: &mut Secrets<'_>,
) -> Result<(OptsBuilder, EngineOptions)> {
    // The query starts at the first '?' after the address, so that its
    // values may hold '/' (file paths): go-sql-driver wants those
    // percent-encoded, which works too.
    let query_start = match dsn.rfind(')') {
        Some(close) => dsn[close..].find('?').map(|q| close + q),
        None => dsn.find('?'),
    };
    let slash = dsn[..query_start.unwrap_or(dsn.len())]
        .rfind('/')
        .ok_or_else(|| {
            config_err("the DSN must look like user:password@tcp(host:port)/dbname or mysql://...")
        })?;
    let (head, tail) = (&dsn[..slash], &dsn[slash + 1..]);
    let (db, query) = tail.split_once('?').unwrap_or((tail, ""));
    let (userinfo, net) = match head.rfind('@') {
        Some(at) => (Some(&head[..at]), &head[at + 1..]),
        None => (None, head),
    };
    let (user, pass) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        },
        None => ("", None),
    };
    secrets.add(pass.unwrap_or_default());
    let (protocol, address) = match net.split_once('(') {
        Some((protocol, rest)) => {
            let address = rest
                .strip_suffix(')')
                .ok_or_else(|| config_err("unclosed '(' after the protocol"))?;
            (protocol, Some(address))
        }
        None => (net, None),
    };

    let mut builder = OptsBuilder::new()
        .user((!user.is_empty()).then_some(user))
        .pass(pass.filter(|p| !p.is_empty()))
        .db_name((!db.is_empty()).then_some(db));
    match protocol {
        "" | "tcp" => {
            let (host, port) = host_port(address.unwrap_or("127.0.0.1:3306"))?;
            builder = builder.ip_or_hostname(Some(host)).tcp_port(port);
        }
        "unix" => {
            let path = address
                .filter(|a| !a.is_empty())
                .unwrap_or("/tmp/mysql.sock");
            builder = builder.socket(Some(path));
        }
        // `user@host:3306/db` reads `host:3306` as the protocol: say what was meant.
        other if other.contains([':', '.']) => {
            return Err(config_err(format!(
                "read as go-sql-driver's user:password@protocol(address)/dbname, whose \
                 protocol must be tcp or unix; {other:?} looks like an address: write \
                 user@tcp({other})/dbname or mysql://user@{other}/dbname"
            )))
        }
        _ => return Err(config_err("the protocol must be tcp or unix")),
    }

    let mut params = parse_query(query);
    let mut options = EngineOptions::take(NAME, &mut params)?;
    take_tls(&mut params, tls)?;
    let explicit_timeout = query.split('&').any(|p| p.starts_with("connect_timeout="));
    for (key, value) in &params {
        match key.as_str() {
            "timeout" if !explicit_timeout => {
                options.connect_timeout = options::timeout(NAME, key, value)?;
            }
            "readTimeout" => {
                builder = builder.read_timeout(Some(options::timeout(NAME, key, value)?));
            }
            "writeTimeout" => {
                builder = builder.write_timeout(Some(options::timeout(NAME, key, value)?));
            }
            _ => tracing::debug!(param = %key, "session: mysql DSN parameter ignored"),
        }
    }
    Ok((builder, options))
}

/// The secrets of a DSN, as [`parse_dsn`] and the driver take them; a
/// config error when they refuse it.
pub(crate) fn secrets(config: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(config);
    parse_dsn_recording(config, &mut secrets)?;
    Ok(secrets)
}

/// Parses either DSN form into driver options, engine options and TLS
/// settings.
pub(super) fn parse_dsn(dsn: &str) -> Result<(OptsBuilder, EngineOptions, MyTls)> {
    parse_dsn_recording(dsn, &mut Secrets::new(dsn))
}

/// [`parse_dsn`], recording in `secrets` the text of the password taken.
fn parse_dsn_recording(
    dsn: &str,
    secrets: &mut Secrets<'_>,
) -> Result<(OptsBuilder, EngineOptions, MyTls)> {
    let dsn = dsn.trim();
    if dsn.is_empty() {
        return Err(config_err(
            "sessionproviderconfig must be a DSN such as root:@tcp(127.0.0.1:3306)/test",
        ));
    }
    let mut tls = MyTls::default();
    let (builder, options) = if dsn.starts_with("mysql://") {
        let (base, query) = dsn.split_once('?').unwrap_or((dsn, ""));
        let mut params = parse_query(query);
        let options = EngineOptions::take(NAME, &mut params)?;
        take_tls(&mut params, &mut tls)?;
        let opts = Opts::from_url(&join_query(base, &params))
            .map_err(|e| config_err(format!("invalid URL: {e}")))?;
        // The driver (the url crate) took the password: record its text,
        // or everything when the text found is not what the driver took.
        let raw = url_password(base);
        secrets.add(raw.unwrap_or_default());
        let decoded = raw.and_then(options::percent_decode);
        if opts
            .get_pass()
            .is_some_and(|p| decoded.as_deref() != Some(p))
        {
            secrets.mask_all();
        }
        (OptsBuilder::from_opts(opts), options)
    } else {
        parse_go_dsn(dsn, &mut tls, secrets)?
    };
    let builder = builder
        .tcp_connect_timeout(Some(options.connect_timeout))
        // Row counts then say "matched", not "changed", for touches that
        // happen to write the same expiry.
        .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
        // Only single-row locking reads run in transactions; READ COMMITTED
        // spares them InnoDB's gap locks, and the deadlocks those invite
        // between concurrent regenerations.
        .init(vec![
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        ]);
    Ok((builder, options, tls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::error::Error;
    use std::time::Duration;

    fn opts(dsn: &str) -> (Opts, EngineOptions) {
        let (b, o, _) = parse_dsn(dsn).unwrap();
        (b.into(), o)
    }

    #[test]
    fn go_sql_driver_dsns_parse() {
        let (o, e) = opts("root:@tcp(127.0.0.1:3306)/test?charset=utf8");
        assert_eq!(o.get_user(), Some("root"));
        assert_eq!(o.get_pass(), None);
        assert_eq!(o.get_ip_or_hostname(), "127.0.0.1");
        assert_eq!(o.get_tcp_port(), 3306);
        assert_eq!(o.get_db_name(), Some("test"));
        assert_eq!(e, EngineOptions::default());

        let (o, e) = opts("u:p@ss:w@rd@tcp([::1]:3307)/db?timeout=1500ms&table=t&readTimeout=2s");
        assert_eq!(o.get_user(), Some("u"));
        assert_eq!(o.get_pass(), Some("p@ss:w@rd"));
        assert_eq!(o.get_ip_or_hostname(), "[::1]");
        assert_eq!(o.get_tcp_port(), 3307);
        assert_eq!(e.table, "t");
        assert_eq!(e.connect_timeout, Duration::from_millis(1500));
        assert_eq!(o.get_read_timeout(), Some(&Duration::from_secs(2)));

        let (b, _, t) = parse_dsn("u:p@tcp(h:1)/db?tls=true&tls-ca=/etc/ca.pem&x=%2Fa").unwrap();
        let o: Opts = b.into();
        assert_eq!(o.get_db_name(), Some("db"));
        assert_ne!(t, MyTls::default());
        let (o, _) = opts("app@unix(/run/mysqld/mysqld.sock)/app");
        assert_eq!(o.get_socket(), Some("/run/mysqld/mysqld.sock"));
        let (o, _) = opts("/db");
        assert_eq!(o.get_ip_or_hostname(), "127.0.0.1");
        assert_eq!(o.get_db_name(), Some("db"));
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        let (o, _) = opts("u@tcp([::1])/db");
        assert_eq!(o.get_ip_or_hostname(), "[::1]");
        assert_eq!(o.get_tcp_port(), 3306);
        let (o, _) = opts("mysql://u@[::1]:3307/db");
        assert_eq!(o.get_ip_or_hostname(), "[::1]");
        assert_eq!(o.get_tcp_port(), 3307);
        let err = parse_dsn("u@tcp(::1:3307)/db").unwrap_err();
        assert!(err.to_string().contains("[::1]:port"), "{err}");
        for bad in ["u@tcp([::1:3307)/db", "u@tcp([::1]3307)/db", "u@tcp()/db"] {
            assert!(parse_dsn(bad).unwrap_err().is_config(), "{bad}");
        }
    }

    #[test]
    fn urls_parse_and_lose_the_engine_options() {
        let (o, e) = opts("mysql://a:b@h:1234/d?table=s2&pool_size=3&create_table=false");
        assert_eq!((o.get_user(), o.get_pass()), (Some("a"), Some("b")));
        assert_eq!(o.get_tcp_port(), 1234);
        assert_eq!(e.table, "s2");
        assert_eq!(e.pool_size, 3);
        assert!(!e.create_table);
    }

    #[test]
    fn bad_dsns_are_config_errors() {
        for dsn in [
            "",
            "nodb",
            "u@tcp(h:3306/db",
            "u@udp(h)/db",
            "u@tcp(h:port)/db",
            "u@tcp(h)/db?tls=custom",
            "u@tcp(h)/db?timeout=soon",
            "u@tcp(h)/db?table=x;drop",
            "mysql://h/db?nonsense=1",
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
        "root:@tcp(127.0.0.1:3305)/test?charset=utf8&table=s&max_session_bytes=5",
        "u:p%40ss@unix(/run/mysqld.sock)/db?tls=true&call_timeout=5s",
        "mysql://root@127.0.0.1:3305/test?pool_size=5&tls=skip-verify",
    ];

    /// Either DSN form: parsed or a config error, never a panic. Parsing
    /// connects nowhere.
    #[test]
    fn mysql_dsn_never_panics() {
        fuzz::parser(SEEDS, parse_dsn, |_| true);
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        "app:ZqA/b(c)@d?Zq@tcp(127.0.0.1:3305)/db?table=s",
        "mysql://app:ZqUrl%2FSecretZq@127.0.0.1:3305/db?pool_size=5",
        "u:ZqSecretZq@unix(/run/m.sock)/db",
    ];

    /// Whatever the text, the password the driver takes is not shown once
    /// the secrets are masked.
    #[test]
    fn no_password_taken_is_shown() {
        fuzz::passwords_hidden(SEEDS, parse_dsn_recording, |(builder, _, _)| {
            let opts: Opts = builder.clone().into();
            opts.get_pass().map(str::to_owned).into_iter().collect()
        });
    }
}
