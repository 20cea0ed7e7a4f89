//! TLS for the `postgresql` engine, with lib/pq's `sslmode`, `sslrootcert`,
//! `sslcert` and `sslkey`, and the pool's connection manager, whose errors
//! say which host, which mode and what failed.

use std::fmt;

use postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::session::engines::shared::tls::{self, Verify};
use crate::session::error::{Error, Result};

const NAME: &str = "postgresql";

/// The connection-string keys this module takes out of the DSN.
pub(crate) const KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// lib/pq's `sslmode` values (plus `prefer`, which newer drivers take).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it; verified as `require`.
    Prefer,
    /// TLS; not verified, unless `sslrootcert` is set (then as `verify-ca`).
    Require,
    /// TLS; the chain must lead to `sslrootcert`.
    VerifyCa,
    /// TLS; chain and host name.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(Error::config(
                    NAME,
                    format!(
                        "unsupported sslmode {value:?}; only \"require\" (default), \
                         \"verify-full\", \"verify-ca\", \"disable\" and \"prefer\" are supported"
                    ),
                ))
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The TLS settings of a DSN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PgTls {
    /// `None`: unset, which is lib/pq's default, `require`.
    mode: Option<SslMode>,
    rootcert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
}

impl PgTls {
    /// Takes one of [`KEYS`] with its (unquoted, decoded) value.
    pub(crate) fn set(&mut self, key: &str, value: String) -> Result<()> {
        let value = Some(value).filter(|v| !v.is_empty());
        match key {
            "sslmode" => self.mode = value.as_deref().map(SslMode::parse).transpose()?,
            "sslrootcert" => self.rootcert = value,
            "sslcert" => self.cert = value,
            "sslkey" => self.key = value,
            _ => {}
        }
        Ok(())
    }

    fn mode(&self) -> SslMode {
        self.mode.unwrap_or(SslMode::Require)
    }

    /// `sslmode=..., sslrootcert=...`, for messages.
    pub(crate) fn describe(&self) -> String {
        let mut out = match self.mode {
            Some(mode) => format!("sslmode={}", mode.name()),
            None => "sslmode unset, so require as in lib/pq".to_owned(),
        };
        for (key, value) in [("sslrootcert", &self.rootcert), ("sslcert", &self.cert)] {
            if let Some(value) = value {
                out.push_str(&format!(", {key}={value}"));
            }
        }
        out
    }

    /// The driver's mode and the rustls connector, with every file read
    /// and checked now (a missing file fails start-up, naming it).
    pub(crate) fn connector(&self) -> Result<(DriverSslMode, MakeRustlsConnect)> {
        let mode = self.mode();
        let roots = self
            .rootcert
            .as_deref()
            .map(|path| tls::load_roots(NAME, "sslrootcert", path))
            .transpose()?;
        let verify = match (mode, roots) {
            (SslMode::VerifyFull, Some(roots)) => Verify::Full(roots),
            (SslMode::VerifyCa, Some(roots)) => Verify::Chain(roots),
            (SslMode::VerifyFull | SslMode::VerifyCa, None) => {
                return Err(Error::config(
                    NAME,
                    format!(
                        "sslmode={} needs sslrootcert (the CA file to check the server against)",
                        mode.name()
                    ),
                ))
            }
            // lib/pq: require (or prefer) with a root certificate is verify-ca.
            (_, Some(roots)) => Verify::Chain(roots),
            (_, None) => Verify::Nothing,
        };
        let identity = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Some(tls::load_identity(
                NAME,
                ("sslcert", cert),
                ("sslkey", key),
            )?),
            (None, None) => None,
            _ => {
                return Err(Error::config(
                    NAME,
                    "sslcert and sslkey go together: set both or neither",
                ))
            }
        };
        let config = tls::client_config(NAME, verify, identity)?;
        let driver_mode = match mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            _ => DriverSslMode::Require,
        };
        Ok((driver_mode, MakeRustlsConnect::new(config)))
    }
}

/// A connection failure, in words: host, TLS settings and cause.
#[derive(Debug)]
pub(crate) struct ConnectError(String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// r2d2 for `postgres::Client` over rustls.
#[derive(Clone)]
pub(crate) struct PgManager {
    config: postgres::Config,
    connector: MakeRustlsConnect,
    tls: PgTls,
}

impl fmt::Debug for PgManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgManager")
            .field("tls", &self.tls.describe())
            .finish_non_exhaustive()
    }
}

impl PgManager {
    /// A manager for `config` (its `ssl_mode` is set here) and `tls`.
    pub(crate) fn new(mut config: postgres::Config, tls: PgTls) -> Result<Self> {
        let (mode, connector) = tls.connector()?;
        config.ssl_mode(mode);
        Ok(PgManager {
            config,
            connector,
            tls,
        })
    }

    /// `host:port, ...` of the config.
    fn hosts(&self) -> String {
        let ports = self.config.get_ports();
        self.config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let host = match host {
                    postgres::config::Host::Tcp(h) => h.clone(),
                    postgres::config::Host::Unix(p) => p.display().to_string(),
                };
                let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                format!("{host}:{port}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What `err` means, with the host and the TLS settings.
    fn describe(&self, err: &postgres::Error) -> ConnectError {
        let text = tls::chain(err);
        let (hosts, settings) = (self.hosts(), self.tls.describe());
        let message = if let Some(why) = tls::explain(&text) {
            format!("TLS handshake with {hosts} failed ({settings}): {why} ({text})")
        } else if text.contains("server does not support TLS") {
            if self.tls.mode.is_none() {
                format!(
                    "the server at {hosts} does not support TLS; sslmode defaults to require \
                     as in lib/pq: add sslmode=disable to connect without TLS"
                )
            } else {
                format!("the server at {hosts} does not support TLS ({settings})")
            }
        } else if self.tls.mode() == SslMode::Disable && text.contains("no encryption") {
            format!(
                "the server at {hosts} refused a connection without TLS (sslmode=disable): {text}"
            )
        } else {
            format!("cannot connect to {hosts} ({settings}): {text}")
        };
        ConnectError(format!("{NAME}: {message}"))
    }

    /// Connects now, outside any pool.
    pub(crate) fn connect_now(&self) -> std::result::Result<postgres::Client, ConnectError> {
        self.config
            .connect(self.connector.clone())
            .map_err(|e| self.describe(&e))
    }
}

impl r2d2::ManageConnection for PgManager {
    type Connection = postgres::Client;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<postgres::Client, ConnectError> {
        self.connect_now()
    }

    fn is_valid(&self, client: &mut postgres::Client) -> std::result::Result<(), ConnectError> {
        client
            .simple_query("")
            .map(drop)
            .map_err(|e| ConnectError(tls::chain(&e)))
    }

    fn has_broken(&self, client: &mut postgres::Client) -> bool {
        client.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(pairs: &[(&str, &str)]) -> Result<PgTls> {
        let mut t = PgTls::default();
        for (k, v) in pairs {
            t.set(k, (*v).to_owned())?;
        }
        Ok(t)
    }

    #[test]
    fn modes_follow_lib_pq() {
        let unset = tls(&[]).unwrap();
        assert_eq!(unset.mode(), SslMode::Require);
        assert_eq!(unset.connector().unwrap().0, DriverSslMode::Require);
        let off = tls(&[("sslmode", "disable")]).unwrap();
        assert_eq!(off.connector().unwrap().0, DriverSslMode::Disable);
        assert!(tls(&[("sslmode", "bogus")]).unwrap_err().is_config());
        assert!(tls(&[("sslmode", "allow")]).is_err());
        for mode in ["verify-ca", "verify-full"] {
            let err = tls(&[("sslmode", mode)])
                .unwrap()
                .connector()
                .map(|(m, _)| m)
                .unwrap_err();
            assert!(err.to_string().contains("needs sslrootcert"), "{err}");
        }
        let err = tls(&[("sslcert", "/x.pem")])
            .unwrap()
            .connector()
            .map(|(m, _)| m)
            .unwrap_err();
        assert!(err.to_string().contains("go together"), "{err}");
        let err = tls(&[
            ("sslmode", "verify-full"),
            ("sslrootcert", "/nonexistent/ca.pem"),
        ])
        .unwrap()
        .connector()
        .map(|(m, _)| m)
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
