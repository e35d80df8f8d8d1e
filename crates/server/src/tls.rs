//! The mutual-TLS listener's rustls configuration (aws-lc-rs, the one crypto provider of the
//! workspace): the server certificate (`tls_cert`, `tls_key`; default the ones `rempart ca
//! init` made) and a client-certificate verifier that requires a certificate chaining to the
//! platform CA (`tls_client_ca`, default `<data_dir>/ca/ca.pem`). A client without one, or
//! with one from another CA, is refused during the handshake.

use crate::config::Config;
use anyhow::{Context, bail};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not a PEM certificate file", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", path.display());
    }
    Ok(certs)
}

/// `(tls_cert, tls_key, tls_client_ca)` with their defaults.
pub fn paths(config: &Config) -> (PathBuf, PathBuf, PathBuf) {
    let ca = crate::commands::ca::ca_dir(config);
    (
        config
            .tls_cert
            .clone()
            .unwrap_or_else(|| ca.join(crate::commands::ca::SERVER_CERT)),
        config
            .tls_key
            .clone()
            .unwrap_or_else(|| ca.join(crate::commands::ca::SERVER_KEY)),
        config
            .tls_client_ca
            .clone()
            .unwrap_or_else(|| ca.join(crate::commands::ca::CA_CERT)),
    )
}

/// The verifier of client certificates: they must chain to `tls_client_ca` (the platform CA).
pub fn client_verifier(config: &Config) -> anyhow::Result<web::tls::ClientVerifier> {
    let (_, _, client_ca) = paths(config);
    let mut roots = RootCertStore::empty();
    for ca in certs(&client_ca).context("tls_client_ca")? {
        roots
            .add(ca)
            .context("tls_client_ca: not a usable CA certificate")?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .context("cannot build the client-certificate verifier")
}

/// The server configuration of the mutual-TLS listener.
pub fn server_config(config: &Config) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let (cert, key, _) = paths(config);
    let chain = certs(&cert).context("tls_cert")?;
    let key = PrivateKeyDer::from_pem_file(&key).with_context(|| {
        format!(
            "tls_key: cannot read a PEM private key from {}",
            key.display()
        )
    })?;
    let verifier = client_verifier(config)?;
    let mut server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("tls_cert and tls_key do not make a usable server certificate")?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(server))
}
