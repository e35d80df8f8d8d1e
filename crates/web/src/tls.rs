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
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
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
