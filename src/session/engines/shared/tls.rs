//! TLS for the networked engines: one stack (rustls with ring), the
//! certificate files read and checked at start-up, the verifiers of
//! lib/pq's `sslmode`s and error messages that say what went wrong.

// Each helper serves some engines; a build with few engines uses few.
#![cfg_attr(
    not(all(feature = "mysql", feature = "postgresql", feature = "redis")),
    allow(dead_code)
)]

use std::error::Error as StdError;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore};

use crate::session::error::{Error, Result};

/// Makes ring the process-wide rustls provider, unless one is installed.
///
/// The mysql and redis clients build their configs with
/// `ClientConfig::builder()`, which panics when an application's
/// dependency tree compiles in a second provider (aws-lc-rs, through
/// reqwest for instance) and none was chosen. Called at every engine
/// init; an application's own choice wins.
pub(crate) fn install_default_provider() {
    // Err means a provider is installed already: keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads a PEM file, naming `option` and `path` on failure.
fn read_pem(engine: &'static str, option: &str, path: &str) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::config(engine, format!("{option}: cannot read {path}: {e}")))?;
    if bytes.is_empty() {
        return Err(Error::config(engine, format!("{option}: {path} is empty")));
    }
    Ok(bytes)
}

/// The certificates of a PEM file (a CA file or a client chain), at least one.
pub(crate) fn load_certs(
    engine: &'static str,
    option: &str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read_pem(engine, option, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::config(engine, format!("{option}: {path} is not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::config(
            engine,
            format!("{option}: {path} holds no certificate"),
        ));
    }
    Ok(certs)
}

/// The trust anchors of a CA file.
pub(crate) fn load_roots(engine: &'static str, option: &str, path: &str) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(engine, option, path)? {
        roots.add(cert).map_err(|e| {
            Error::config(
                engine,
                format!("{option}: {path} holds a certificate that is not a usable CA: {e}"),
            )
        })?;
    }
    Ok(roots)
}

/// A client certificate chain and its private key.
pub(crate) type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Reads a client certificate and its key (`cert_option`, `key_option`
/// name them in errors).
pub(crate) fn load_identity(
    engine: &'static str,
    (cert_option, cert_path): (&str, &str),
    (key_option, key_path): (&str, &str),
) -> Result<Identity> {
    let chain = load_certs(engine, cert_option, cert_path)?;
    let pem = read_pem(engine, key_option, key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        Error::config(
            engine,
            format!("{key_option}: {key_path} holds no usable private key: {e}"),
        )
    })?;
    Ok((chain, key))
}

/// Checks that a PEM file holds a private key (for clients that read the
/// file themselves).
pub(crate) fn check_key(engine: &'static str, option: &str, path: &str) -> Result<Vec<u8>> {
    let pem = read_pem(engine, option, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        Error::config(
            engine,
            format!("{option}: {path} holds no usable private key: {e}"),
        )
    })?;
    Ok(pem)
}

/// Checks that a PEM file holds certificates and returns its bytes (for
/// clients that parse the file themselves).
pub(crate) fn check_certs(engine: &'static str, option: &str, path: &str) -> Result<Vec<u8>> {
    load_certs(engine, option, path)?;
    read_pem(engine, option, path)
}

/// How much of the server's certificate is checked.
#[derive(Debug)]
pub(crate) enum Verify {
    /// Chain to the roots and host name (`verify-full`).
    Full(RootCertStore),
    /// Chain to the roots, any name (`verify-ca`).
    Chain(RootCertStore),
    /// Nothing: encryption without authentication (lib/pq's `require`
    /// without a root certificate).
    Nothing,
}

fn ring() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client config with ring named explicitly, whatever the
/// process default is.
pub(crate) fn client_config(
    engine: &'static str,
    verify: Verify,
    identity: Option<Identity>,
) -> Result<ClientConfig> {
    let provider = ring();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(engine, format!("TLS set-up: {e}")))?;
    let builder = match verify {
        Verify::Full(roots) => builder.with_webpki_verifier(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| Error::config(engine, format!("TLS set-up: {e}")))?,
        ),
        Verify::Chain(roots) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Nameless {
                roots: Some(Arc::new(roots)),
                provider,
            })),
        Verify::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Nameless {
                roots: None,
                provider,
            })),
    };
    match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            Error::config(
                engine,
                format!("the client certificate and key do not match: {e}"),
            )
        }),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The verifiers that do not check the host name: `verify-ca` (the chain
/// must lead to `roots`) and lib/pq's `require` without a root certificate
/// (`roots` is `None`: any certificate). Handshake signatures are checked
/// either way (the server holds the key it presents).
#[derive(Debug)]
struct Nameless {
    roots: Option<Arc<RootCertStore>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Nameless {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The error and its sources, `: `-joined (clients' `Display` often shows
/// only the top line, "error performing TLS handshake").
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

/// What a TLS failure means, in words, from the error text of any client.
pub(crate) fn explain(text: &str) -> Option<&'static str> {
    let has = |s: &str| text.contains(s);
    if has("UnknownIssuer") || has("BadSignature") {
        Some("the server's certificate is not signed by a trusted CA")
    } else if has("not valid for name") || has("NotValidForName") {
        Some("the server's certificate is not valid for the host name connected to")
    } else if has("Expired") {
        Some("the server's certificate has expired")
    } else if has("CertificateRequired") {
        Some("the server requires a client certificate")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError;

    #[test]
    fn failures_are_explained() {
        let unknown =
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer).to_string();
        assert!(explain(&unknown).unwrap().contains("not signed"));
        let name = "invalid peer certificate: certificate not valid for name \"127.0.0.2\"";
        assert!(explain(name).unwrap().contains("host name"));
        assert_eq!(explain("connection refused"), None);
    }

    #[test]
    fn missing_and_empty_files_are_named() {
        let err = load_roots("x", "tls_ca_file", "/nonexistent/ca.pem").unwrap_err();
        assert!(err.is_config());
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert!(err.to_string().contains("tls_ca_file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let err = load_certs("x", "ca", empty.to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let err = load_certs("x", "ca", junk.to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("holds no certificate"), "{err}");
    }
}
