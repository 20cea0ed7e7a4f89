//! A throw-away public-key infrastructure for the TLS tests, made once per
//! test process with `rcgen` (EC P-256: instant to make, and every client
//! and server here takes it):
//!
//! - the test CA, and a server certificate it signed for `localhost` and
//!   `127.0.0.1` only (so `127.0.0.2` reaches the server under a name the
//!   certificate does not cover);
//! - a rogue CA that no test trusts, and a server certificate it signed
//!   for the same names;
//! - a client certificate signed by the test CA, CN `pqcert` (the
//!   PostgreSQL role that logs in by certificate).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use super::launch::{set_mode, shared_dir};

/// The CN of the client certificate, a PostgreSQL role of the TLS server.
pub const CLIENT_CN: &str = "pqcert";

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key (mode 0600: libpq refuses a readable one).
    pub key: PathBuf,
}

/// Which server certificate a server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// Signed by the test CA.
    TestCa,
    /// Signed by the rogue CA, which no test trusts.
    Rogue,
}

/// The files of the test PKI.
#[derive(Debug)]
pub struct Pki {
    /// The test CA's certificate.
    pub ca: PathBuf,
    /// The rogue CA's certificate.
    pub rogue_ca: PathBuf,
    /// `localhost`/`127.0.0.1`, signed by the test CA.
    pub server: Pair,
    /// The same names, signed by the rogue CA.
    pub rogue_server: Pair,
    /// CN `pqcert`, signed by the test CA.
    pub client: Pair,
}

fn ca(cn: &str) -> (Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("CA key");
    (params.self_signed(&key).expect("CA certificate"), key)
}

fn leaf(
    dir: &Path,
    name: &str,
    cn: &str,
    sans: &[&str],
    usages: Vec<ExtendedKeyUsagePurpose>,
    issuer: &(Certificate, KeyPair),
) -> Pair {
    let sans: Vec<String> = sans.iter().map(|s| (*s).to_owned()).collect();
    let mut params = CertificateParams::new(sans).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = usages;
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("leaf key");
    let cert = params
        .signed_by(&key, &issuer.0, &issuer.1)
        .expect("leaf certificate");
    let pair = Pair {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&pair.cert, cert.pem()).expect("write a certificate");
    std::fs::write(&pair.key, key.serialize_pem()).expect("write a key");
    set_mode(&pair.key, 0o600);
    pair
}

/// The test PKI of this process, made on first use.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = shared_dir("pki");
        let test_ca = ca("actix-bee test CA");
        let rogue = ca("actix-bee ROGUE CA (trusted by no test)");
        // clientAuth too: a Redis cluster node presents its server
        // certificate as a client on the TLS cluster bus.
        let server_usages = || {
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ]
        };
        let names = ["localhost", "127.0.0.1"];
        let write_ca = |name: &str, c: &(Certificate, KeyPair)| {
            let path = dir.join(format!("{name}.pem"));
            std::fs::write(&path, c.0.pem()).expect("write a CA");
            path
        };
        Pki {
            ca: write_ca("ca", &test_ca),
            rogue_ca: write_ca("rogue-ca", &rogue),
            server: leaf(
                &dir,
                "server",
                "localhost",
                &names,
                server_usages(),
                &test_ca,
            ),
            rogue_server: leaf(
                &dir,
                "rogue-server",
                "localhost",
                &names,
                server_usages(),
                &rogue,
            ),
            client: leaf(
                &dir,
                "client",
                CLIENT_CN,
                &[],
                vec![ExtendedKeyUsagePurpose::ClientAuth],
                &test_ca,
            ),
        }
    })
}

impl Pki {
    /// The server certificate `signer` signed, and the CA that checks it.
    pub fn server(&self, signer: Signer) -> (&Pair, &Path) {
        match signer {
            Signer::TestCa => (&self.server, &self.ca),
            Signer::Rogue => (&self.rogue_server, &self.rogue_ca),
        }
    }

    /// Copies `signer`'s server certificate and key and the test CA (the
    /// one client certificates are checked against) into `dir` as
    /// `server.pem`, `server.key` and `ca.pem`, owned by `owner` when given:
    /// PostgreSQL insists on a private key file of its own.
    pub fn install(&self, dir: &Path, signer: Signer, owner: Option<(u32, u32)>) -> Pair {
        let (pair, _) = self.server(signer);
        let installed = Pair {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        };
        let ca = dir.join("ca.pem");
        std::fs::copy(&pair.cert, &installed.cert).expect("copy a certificate");
        std::fs::copy(&pair.key, &installed.key).expect("copy a key");
        std::fs::copy(&self.ca, &ca).expect("copy the CA");
        set_mode(&installed.key, 0o600);
        if let Some((uid, gid)) = owner {
            for f in [&installed.cert, &installed.key, &ca] {
                std::os::unix::fs::chown(f, Some(uid), Some(gid)).expect("chown");
            }
        }
        installed
    }
}
