//! TLS for the `postgresql` engine: lib/pq's `sslmode`, `sslrootcert`,
//! `sslcert` and `sslkey`, turned into the driver's mode and a rustls
//! connector.

use postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::name::NAME;
use crate::session::engines::shared::tls::{self, Verify};
use crate::session::error::{Error, Result};

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

    /// Whether `sslmode` was given, rather than lib/pq's default taken.
    pub(super) fn mode_given(&self) -> bool {
        self.mode.is_some()
    }

    pub(super) fn mode(&self) -> SslMode {
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
