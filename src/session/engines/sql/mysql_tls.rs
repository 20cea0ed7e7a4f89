//! TLS for the `mysql` engine: go-sql-driver's `tls` parameter, the
//! `tls-ca`, `tls-cert` and `tls-key` files, and the pool's connection
//! manager, whose errors say which server, which mode and what failed.
//! `tls-ca` adds to the driver's public roots (see `CA_NOT_EXCLUSIVE`),
//! and start-up says so.

use std::fmt;
use std::path::PathBuf;

use mysql::{ClientIdentity, DriverError, Opts, OptsBuilder, SslOpts};

use crate::session::engines::shared::{options, tls};
use crate::session::error::{Error, Result};

const NAME: &str = "mysql";

/// The DSN keys this module takes out of the DSN.
pub(crate) const KEYS: [&str; 4] = ["tls", "tls-ca", "tls-cert", "tls-key"];

/// Why `tls-ca` does not pin the CA. The mysql crate's rustls set-up
/// always starts from the Mozilla roots of `webpki-roots` and adds the
/// `tls-ca` file to them; it has no option to leave them out and no hook
/// for a verifier of ours, so this engine cannot make `tls-ca` exclusive.
const CA_NOT_EXCLUSIVE: &str = "tls-ca is added to the public CAs compiled into the mysql \
     crate (webpki-roots), not used alone: a certificate any public CA issued for this host \
     name is accepted too (go-sql-driver's tls config and PostgreSQL's sslrootcert trust only \
     their CA). Connect by a name no public CA certifies (a private DNS name or address) or \
     through a tunnel that pins the CA";

/// go-sql-driver's `tls` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No TLS (go-sql-driver's default).
    False,
    /// TLS, certificate chain and host name verified.
    True,
    /// TLS without verification.
    SkipVerify,
    /// TLS (unverified) when the server offers it, else plain.
    Preferred,
}

impl Mode {
    fn parse(value: &str) -> Result<Self> {
        match value {
            "skip-verify" => Ok(Mode::SkipVerify),
            "preferred" => Ok(Mode::Preferred),
            _ => match options::boolean(NAME, "tls", value) {
                Ok(true) => Ok(Mode::True),
                Ok(false) => Ok(Mode::False),
                Err(_) => Err(Error::config(
                    NAME,
                    "tls must be true, false, skip-verify or preferred (named TLS configs \
                     are Go-only: use tls=true with tls-ca, tls-cert and tls-key)",
                )),
            },
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::False => "false",
            Mode::True => "true",
            Mode::SkipVerify => "skip-verify",
            Mode::Preferred => "preferred",
        }
    }
}

/// The TLS settings of a DSN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MyTls {
    /// `None`: unset, which is `false`, or `true` when `tls-ca` is given.
    mode: Option<Mode>,
    ca: Option<String>,
    cert: Option<String>,
    key: Option<String>,
}

impl MyTls {
    /// Takes one of [`KEYS`] with its (decoded) value.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let path = Some(value.to_owned()).filter(|v| !v.is_empty());
        match key {
            "tls" => self.mode = Some(Mode::parse(value)?),
            "tls-ca" => self.ca = path,
            "tls-cert" => self.cert = path,
            "tls-key" => self.key = path,
            _ => {}
        }
        Ok(())
    }

    fn mode(&self) -> Mode {
        let files = self.ca.is_some() || self.cert.is_some();
        self.mode
            .unwrap_or(if files { Mode::True } else { Mode::False })
    }

    /// `tls=..., tls-ca=...`, for messages.
    fn describe(&self) -> String {
        let mut out = format!("tls={}", self.mode().name());
        if let Some(ca) = &self.ca {
            out.push_str(&format!(", tls-ca={ca}"));
        }
        out
    }

    /// The driver's TLS options, with the files checked now (a missing
    /// file fails start-up, naming it).
    fn ssl_opts(&self) -> Result<Option<SslOpts>> {
        let mode = self.mode();
        let files = self.ca.is_some() || self.cert.is_some() || self.key.is_some();
        if mode == Mode::False {
            if files {
                return Err(Error::config(
                    NAME,
                    "tls=false with tls-ca, tls-cert or tls-key: set tls=true to use them",
                ));
            }
            return Ok(None);
        }
        let mut ssl = SslOpts::default();
        if mode != Mode::True {
            ssl = ssl.with_danger_accept_invalid_certs(true);
        }
        if let Some(ca) = &self.ca {
            tls::load_roots(NAME, "tls-ca", ca)?;
            ssl = ssl.with_root_cert_path(Some(PathBuf::from(ca)));
        }
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                tls::load_identity(NAME, ("tls-cert", cert), ("tls-key", key))?;
                ssl = ssl.with_client_identity(Some(ClientIdentity::new(
                    PathBuf::from(cert),
                    PathBuf::from(key),
                )));
            }
            (None, None) => {}
            _ => {
                return Err(Error::config(
                    NAME,
                    "tls-cert and tls-key go together: set both or neither",
                ))
            }
        }
        Ok(Some(ssl))
    }
}

/// A connection failure, in words: server, TLS settings and cause.
#[derive(Debug)]
pub(crate) struct ConnectError(String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// r2d2 for `mysql::Conn` (r2d2_mysql would bring zlib's C code along).
#[derive(Debug, Clone)]
pub(crate) struct ConnManager {
    opts: Opts,
    /// `tls=preferred`: the same options without TLS, for servers that
    /// do not offer it.
    plain: Option<Opts>,
    tls: MyTls,
}

impl ConnManager {
    /// A manager for `builder` with `tls`. TCP stays TCP: the driver's
    /// `prefer_socket` (which would move a loopback connection to the
    /// server's unix socket, around TLS) is off.
    pub(crate) fn new(builder: OptsBuilder, tls: MyTls) -> Result<Self> {
        if tls.mode() != Mode::False {
            tls::install_default_provider();
        }
        if let (Mode::True, Some(ca)) = (tls.mode(), &tls.ca) {
            tracing::warn!("session: {NAME}: {CA_NOT_EXCLUSIVE} (tls-ca={ca})");
        }
        let builder = builder.prefer_socket(false);
        let plain = (tls.mode() == Mode::Preferred).then(|| builder.clone().ssl_opts(None).into());
        let opts = builder.ssl_opts(tls.ssl_opts()?).into();
        Ok(ConnManager { opts, plain, tls })
    }

    /// `user@host:port` or `user@socket`.
    fn target(&self) -> String {
        let user = self.opts.get_user().unwrap_or("");
        match self.opts.get_socket() {
            Some(socket) => format!("{user}@{socket}"),
            None => format!(
                "{user}@{}:{}",
                self.opts.get_ip_or_hostname(),
                self.opts.get_tcp_port()
            ),
        }
    }

    fn describe(&self, err: &mysql::Error) -> ConnectError {
        let text = tls::chain(err);
        let (target, settings) = (self.target(), self.tls.describe());
        let message = if let Some(why) = tls::explain(&text) {
            format!("TLS handshake with {target} failed ({settings}): {why} ({text})")
        } else if matches!(err, mysql::Error::DriverError(DriverError::TlsNotSupported)) {
            format!(
                "{target} does not offer TLS ({settings}); use tls=preferred to fall back to plain"
            )
        } else if matches!(err, mysql::Error::MySqlError(e) if matches!(e.code, 1045 | 3159))
            && self.tls.mode() == Mode::False
        {
            format!(
                "access denied for {target} (tls=false: if the server requires TLS \
                 (require_secure_transport, REQUIRE SSL/X509), set tls=true): {text}"
            )
        } else {
            format!("cannot connect to {target} ({settings}): {text}")
        };
        ConnectError(format!("{NAME}: {message}"))
    }
}

impl r2d2::ManageConnection for ConnManager {
    type Connection = mysql::Conn;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<mysql::Conn, ConnectError> {
        match (mysql::Conn::new(self.opts.clone()), &self.plain) {
            (Err(mysql::Error::DriverError(DriverError::TlsNotSupported)), Some(plain)) => {
                mysql::Conn::new(plain.clone()).map_err(|e| self.describe(&e))
            }
            (result, _) => result.map_err(|e| self.describe(&e)),
        }
    }

    fn is_valid(&self, conn: &mut mysql::Conn) -> std::result::Result<(), ConnectError> {
        conn.ping().map_err(|e| ConnectError(tls::chain(&e)))
    }

    fn has_broken(&self, _conn: &mut mysql::Conn) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(pairs: &[(&str, &str)]) -> Result<MyTls> {
        let mut t = MyTls::default();
        for (k, v) in pairs {
            t.set(k, v)?;
        }
        Ok(t)
    }

    #[test]
    fn modes_follow_go_sql_driver() {
        assert_eq!(tls(&[]).unwrap().mode(), Mode::False);
        assert!(tls(&[]).unwrap().ssl_opts().unwrap().is_none());
        assert_eq!(
            tls(&[("tls", "skip-verify")]).unwrap().mode(),
            Mode::SkipVerify
        );
        assert_eq!(tls(&[("tls", "1")]).unwrap().mode(), Mode::True);
        assert!(tls(&[("tls", "custom")]).unwrap_err().is_config());
        let err = tls(&[("tls", "false"), ("tls-ca", "/ca.pem")])
            .unwrap()
            .ssl_opts()
            .unwrap_err();
        assert!(err.to_string().contains("tls=false"), "{err}");
        let err = tls(&[("tls-ca", "/nonexistent/ca.pem")])
            .unwrap()
            .ssl_opts()
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
