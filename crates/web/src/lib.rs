//! The HTTP face of rempart (axum 0.8): the only crate that knows axum.
//!
//! [`router`] builds the whole application from an [`AppState`]. Every response, including
//! 404s, 405s, 413s, timeouts and errors, goes through the same layers: security headers, a
//! request id (generated here, never taken from the client) in `x-request-id` and in the
//! tracing span, an access log line (method, route template, status, latency: never the query
//! string or the body), Prometheus metrics labelled by route template, a body limit and a
//! timeout. Errors are RFC 9457 problem documents ([`ApiError`]).

pub mod api;
pub mod auth;
pub mod console;
pub mod error;
pub mod guard;
pub mod health;
pub mod idempotency;
pub mod incidents;
pub mod insurer;
pub mod ledger;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod payments;
pub mod portal;
pub mod tls;

pub use error::{ApiError, Json, PROBLEM_JSON, Problem};
pub use metrics::Metrics;
pub use middleware::{RequestId, X_REQUEST_ID};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;

/// HTTP settings, from the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Largest request body accepted; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// A request still running after this is abandoned and answered 503.
    pub request_timeout: Duration,
    /// Send `strict-transport-security` (when served over TLS, directly or behind a proxy).
    pub hsts: bool,
    /// Largest beneficiary file accepted by `POST /api/v1/insurers/{amc}/beneficiary-imports`
    /// (streamed; the global `max_body_bytes` does not apply to it). Default 2 GiB.
    pub import_max_bytes: u64,
    /// The timeout of a beneficiary import request instead of `request_timeout`. Default 6 h.
    pub import_timeout: Duration,
    /// Addresses of TLS-terminating proxies: only their `X-Client-Cert` (a forwarded client
    /// certificate) and `X-Forwarded-For` are read. Default none.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Sign-in and enrolment ceremonies (`/api/v1/auth/login/*`, `/api/v1/auth/enrol/*`)
    /// allowed per client address and minute (then 429 with `retry-after`); `0` turns the
    /// limit off. Default here 0 (off: in-process tests sign in many times from one address);
    /// the server's configuration defaults to 30.
    pub auth_rate_per_minute: u32,
    /// How many of them may come at once before the per-minute rate applies. Default 10.
    pub auth_rate_burst: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            hsts: false,
            import_max_bytes: 2 * 1024 * 1024 * 1024,
            import_timeout: Duration::from_secs(6 * 3600),
            trusted_proxies: Vec::new(),
            auth_rate_per_minute: 0,
            auth_rate_burst: 10,
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub ports: app::Ports,
    pub metrics: Metrics,
    pub config: Arc<WebConfig>,
    /// People's access (passkeys, sessions); `None`: the access routes answer 503.
    pub access: Option<app::accounts::Access>,
    /// The platform CA's client-certificate verifier, for certificates forwarded by trusted
    /// proxies (`None`: `X-Client-Cert` is never read).
    pub client_verifier: Option<tls::ClientVerifier>,
    /// The rate limit of the sign-in and enrolment ceremonies, per client address.
    pub auth_limiter: Option<Arc<auth::limit::AuthLimiter>>,
    /// The platform CA, to issue client certificates from the console (`None`: no CA key on
    /// this server).
    pub ca: Option<Arc<dyn app::machines::CertificateAuthority>>,
    /// The access ledger: every disclosure is recorded through it before the answer leaves.
    /// Built with the default origin; `serve`/`demo` replace it with the configured one.
    pub ledger: app::ledger::Ledger,
    /// Containment: kill switches, suspensions, rate limits and signals (`app::guard`),
    /// consulted on every request that can disclose personal data.
    pub guard: app::guard::Guard,
    /// The operator console's payment desk (`[payments]` of the configuration).
    pub payments: Arc<PaymentDesk>,
}

/// What the operator console needs to run payments and confirm IBAN changes.
#[derive(Debug, Clone)]
pub struct PaymentDesk {
    /// The platform's settlement account; `None`: runs are made with `rempart payments run`
    /// only (the console lists them).
    pub debtor: Option<domain::payments::Debtor>,
    /// Where the console's runs write their files (`<dir>/<run id>/…`).
    pub out_dir: Option<std::path::PathBuf>,
    /// How long after its confirmation an IBAN change takes effect.
    pub iban_cooling_off: time::Duration,
}

impl Default for PaymentDesk {
    fn default() -> Self {
        Self {
            debtor: None,
            out_dir: None,
            iban_cooling_off: app::payments::iban::DEFAULT_COOLING_OFF,
        }
    }
}

impl AppState {
    pub fn new(ports: app::Ports, config: WebConfig, metrics: Metrics) -> Self {
        let guard = app::guard::Guard::from_ports(&ports, app::guard::GuardConfig::default());
        let ledger = app::ledger::Ledger::new(ports.clone(), app::ledger::LedgerConfig::default());
        let auth_limiter =
            auth::limit::AuthLimiter::new(&config, ports.clock.clone()).map(Arc::new);
        Self {
            ports,
            metrics,
            config: Arc::new(config),
            access: None,
            client_verifier: None,
            auth_limiter,
            ca: None,
            ledger,
            guard,
            payments: Arc::new(PaymentDesk::default()),
        }
    }

    /// The console's payment desk (debtor account, output directory, IBAN cooling-off).
    pub fn with_payments(mut self, desk: PaymentDesk) -> Self {
        self.payments = Arc::new(desk);
        self
    }

    /// The guard with these thresholds (the server's `[guard]` section).
    pub fn with_guard(mut self, config: app::guard::GuardConfig) -> Self {
        self.guard = app::guard::Guard::from_ports(&self.ports, config);
        self
    }

    /// With people's access (passkeys, sessions, invitations).
    pub fn with_access(mut self, access: app::accounts::Access) -> Self {
        self.access = Some(access);
        self
    }

    /// Issuing client certificates from the console with `ca`.
    pub fn with_ca(mut self, ca: Arc<dyn app::machines::CertificateAuthority>) -> Self {
        self.ca = Some(ca);
        self
    }

    /// Accepting client certificates forwarded by the trusted proxies
    /// ([`WebConfig::trusted_proxies`]), verified by `verifier` (the platform CA's).
    pub fn with_client_verifier(mut self, verifier: tls::ClientVerifier) -> Self {
        self.client_verifier = Some(verifier);
        self
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    with_layers(routes(), state)
}

fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/openapi.json", get(health::openapi_json))
        .merge(auth::router())
        .merge(portal::router())
        .merge(console::router())
        .merge(guard::router())
        .merge(ledger::router())
        .merge(incidents::router())
        .merge(payments::router())
        .merge(insurer::router())
        .merge(api::router())
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Adds the fallback and the layers every response goes through (the last added runs first).
fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let limited = routes
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(DefaultBodyLimit::max(max_body));
    // Beneficiary imports stream large bodies under their own limit (not the global one).
    limited
        .merge(api::beneficiaries::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::client_context,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting connections and
/// waits for the open requests (the caller bounds that wait with its grace period).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address goes with every request (rate limits, trusted proxies).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// For tests only: the application plus routes that exercise the error paths
/// (`POST /__test/echo` takes and returns JSON, `GET /__test/internal` fails internally,
/// `GET /__test/slow` never answers before the timeout), behind the very same layers.
#[doc(hidden)]
pub mod testing {
    use super::*;
    use axum::routing::post;

    pub fn router(state: AppState) -> Router {
        with_layers(routes().merge(test_routes()), state)
    }

    fn test_routes() -> Router<AppState> {
        Router::new()
            .route("/__test/echo", post(echo))
            .route("/__test/internal", get(internal))
            .route("/__test/slow", get(slow))
    }

    async fn echo(Json(body): Json<serde_json::Value>) -> Json<serde_json::Value> {
        Json(body)
    }

    async fn internal() -> Result<Json<()>, ApiError> {
        Err(ApiError::internal(
            "database password=hunter2 at /var/lib/secret failed: SELECT nir FROM beneficiaries",
        ))
    }

    async fn slow() -> Json<()> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Json(())
    }
}
