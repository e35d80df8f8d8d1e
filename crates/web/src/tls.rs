//! Serving over TLS with client certificates (mutual TLS), for machines.
//!
//! The accept loop follows axum's `examples/low-level-rustls`: rustls (aws-lc-rs) completes the
//! handshake — the `ServerConfig` given here decides which client certificates are accepted
//! (the server requires one from the platform CA) — then the SHA-256 fingerprint of the
//! verified peer certificate goes into the request's extensions as [`PeerCertificate`] and the
//! request enters the very same router and layers as on the plain listener. The
//! [`crate::auth::Authenticated`] extractor turns it into an `Actor` through the store, on every
//! request (a revoked certificate is refused on its next request).

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// A handshake not finished by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The verified client certificate of the connection a request came on (set only by
/// [`serve_tls`], never from anything the client sends in the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCertificate {
    /// SHA-256 of the certificate (DER).
    pub fingerprint: [u8; 32],
}

/// SHA-256 of a certificate (DER): the key of `client_certificates`.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Serves `app` over TLS on `listener` until `shutdown` completes (then stops accepting; open
/// connections finish on their own).
pub async fn serve_tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer_addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a TLS connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::info!("TLS handshake timed out");
                    return;
                }
            };
            let peer = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|cert| PeerCertificate {
                    fingerprint: fingerprint(cert.as_ref()),
                });
            let service = app.map_request(move |mut req: Request<Incoming>| {
                // Never trust one from anywhere else: replace whatever is there.
                req.extensions_mut().remove::<PeerCertificate>();
                if let Some(peer) = peer {
                    req.extensions_mut().insert(peer);
                }
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer_addr));
                req
            });
            let result = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await;
            if let Err(e) = result {
                tracing::debug!(error = %e, "TLS connection ended with an error");
            }
        });
    }
}

/// The header a TLS-terminating proxy forwards the client certificate in: URL-encoded PEM, as
/// nginx's `$ssl_client_escaped_cert`.
pub const X_CLIENT_CERT: &str = "x-client-cert";

/// Why a forwarded certificate was refused (never shown: the answer is a plain 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardedError {
    #[error("the forwarded certificate is not URL-encoded PEM")]
    Malformed,
    #[error("the forwarded certificate does not verify: {0}")]
    Refused(String),
}

/// The client-certificate verifier of the platform CA (the same rustls verifier the
/// mutual-TLS listener's handshake uses), for certificates forwarded by trusted proxies.
pub type ClientVerifier = Arc<dyn rustls::server::danger::ClientCertVerifier>;

/// A certificate forwarded by a trusted TLS-terminating proxy (`X-Client-Cert`, URL-encoded
/// PEM, leaf first then any intermediates): the chain must verify against the platform CA at
/// `now`, exactly as at the mutual-TLS handshake; answers the leaf's fingerprint (the store
/// lookup that follows checks revocation and the organisation, as for a direct certificate).
pub fn verify_forwarded(
    verifier: &ClientVerifier,
    header: &str,
    now: time::OffsetDateTime,
) -> Result<PeerCertificate, ForwardedError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, UnixTime};
    let pem = percent_encoding::percent_decode_str(header)
        .decode_utf8()
        .map_err(|_| ForwardedError::Malformed)?;
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ForwardedError::Malformed)?;
    let (leaf, intermediates) = chain.split_first().ok_or(ForwardedError::Malformed)?;
    let seconds = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let at = UnixTime::since_unix_epoch(Duration::from_secs(seconds));
    verifier
        .verify_client_cert(leaf, intermediates, at)
        .map_err(|e| ForwardedError::Refused(e.to_string()))?;
    Ok(PeerCertificate {
        fingerprint: fingerprint(leaf.as_ref()),
    })
}
