//! TLS for the `mysql` engine: go-sql-driver's `tls` parameter and the
//! `tls-ca`, `tls-cert` and `tls-key` files, turned into the driver's
//! options. `tls-ca` adds to the driver's public roots (see
//! `CA_NOT_EXCLUSIVE`), and start-up says so.

use std::path::PathBuf;

use mysql::{ClientIdentity, SslOpts};

use super::name::NAME;
use crate::session::engines::shared::{options, tls};
use crate::session::error::{Error, Result};

/// The DSN keys this module takes out of the DSN.
pub(crate) const KEYS: [&str; 4] = ["tls", "tls-ca", "tls-cert", "tls-key"];

/// Why `tls-ca` does not pin the CA. The mysql crate's rustls set-up
/// always starts from the Mozilla roots of `webpki-roots` and adds the
/// `tls-ca` file to them; it has no option to leave them out and no hook
/// for a verifier of ours, so this engine cannot make `tls-ca` exclusive.
pub(super) const CA_NOT_EXCLUSIVE: &str =
    "tls-ca is added to the public CAs compiled into the mysql \
     crate (webpki-roots), not used alone: a certificate any public CA issued for this host \
     name is accepted too (go-sql-driver's tls config and PostgreSQL's sslrootcert trust only \
     their CA). Connect by a name no public CA certifies (a private DNS name or address) or \
     through a tunnel that pins the CA";

/// go-sql-driver's `tls` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
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

    /// The `tls-ca` path, when given.
    pub(super) fn ca(&self) -> Option<&str> {
        self.ca.as_deref()
    }

    pub(super) fn mode(&self) -> Mode {
        let files = self.ca.is_some() || self.cert.is_some();
        self.mode
            .unwrap_or(if files { Mode::True } else { Mode::False })
    }

    /// `tls=..., tls-ca=...`, for messages.
    pub(super) fn describe(&self) -> String {
        let mut out = format!("tls={}", self.mode().name());
        if let Some(ca) = &self.ca {
            out.push_str(&format!(", tls-ca={ca}"));
        }
        out
    }

    /// The driver's TLS options, with the files checked now (a missing
    /// file fails start-up, naming it).
    pub(super) fn ssl_opts(&self) -> Result<Option<SslOpts>> {
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
