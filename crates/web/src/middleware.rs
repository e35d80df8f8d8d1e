//! The layers every response goes through: security headers (outermost), then the request
//! context (request id, span, access log, metrics, timeout, problem rendering).

use crate::AppState;
use crate::error::{ApiError, ApiErrorParts, PROBLEM_JSON, PendingProblem, render};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

/// The response (and log) header carrying the request id.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (UUIDv7), in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(pub Uuid);

/// The route label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-create=(self), publickey-credentials-get=(self), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()";
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

/// Sets the security headers on every response, whatever produced it.
pub(crate) async fn security_headers(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    apply_security_headers(response.headers_mut(), state.config.hsts);
    response
}

pub(crate) fn apply_security_headers(headers: &mut HeaderMap, hsts: bool) {
    let fixed: [(HeaderName, &'static str); 7] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Data is never cached; a future static-asset route may set its own policy.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy
/// (`trusted_proxies`), the last address of its `X-Forwarded-For`. Rate limits key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Who is on the other end: sets [`ClientAddr`], and takes the client certificate a trusted
/// TLS-terminating proxy forwarded in `X-Client-Cert` (verified against the platform CA, see
/// [`crate::tls::verify_forwarded`]) as the request's [`crate::tls::PeerCertificate`]. From any
/// other peer, and on the mutual-TLS listener (which has the real one), the header is dropped
/// unread. A forwarded certificate that does not verify answers 401.
pub(crate) async fn client_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = peer.is_some_and(|p| state.config.trusted_proxies.contains(&p));
    let forwarded_for = trusted
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back()
        })
        .flatten();
    if let Some(client) = forwarded_for.or(peer) {
        req.extensions_mut().insert(ClientAddr(client));
    }
    let header = req.headers_mut().remove(crate::tls::X_CLIENT_CERT);
    let on_tls = req
        .extensions()
        .get::<crate::tls::PeerCertificate>()
        .is_some();
    if let (Some(value), false, true, Some(verifier)) =
        (header, on_tls, trusted, state.client_verifier.as_ref())
    {
        let now = state.ports.clock.now();
        let verified = value
            .to_str()
            .map_err(|_| crate::tls::ForwardedError::Malformed)
            .and_then(|v| crate::tls::verify_forwarded(verifier, v, now));
        match verified {
            Ok(peer) => {
                req.extensions_mut().insert(peer);
            }
            Err(e) => {
                return ApiError::unauthorized().with_internal(e).into_response();
            }
        }
    }
    next.run(req).await
}

/// Gives the request its id (any id sent by the client is dropped), runs it inside a span under
/// the configured timeout, renders problems with the request id, logs and counts the answer.
pub(crate) async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    req.headers_mut().remove(X_REQUEST_ID);
    let id = state.ports.new_id();
    req.extensions_mut().insert(RequestId(id));
    let request_id = id.to_string();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_string(), |p| p.as_str().to_string());
    let span = tracing::info_span!("request", request_id = %request_id, method, route = %route);

    let timeout = if route == crate::api::beneficiaries::IMPORT_ROUTE {
        state.config.import_timeout
    } else {
        state.config.request_timeout
    };
    let outcome = tokio::time::timeout(timeout, next.run(req))
        .instrument(span.clone())
        .await;
    let response = match outcome {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    };

    span.in_scope(move || {
        let mut response = finish_problem(response, &request_id);
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(X_REQUEST_ID, value);
        }
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        tracing::info!(status, latency_ms, "answered");
        state
            .metrics
            .record_request(method, &route, status, elapsed);
        response
    })
}

/// Renders the pending problem (or makes one for a bare error status) with the request id, and
/// logs an internal cause once.
fn finish_problem(response: Response, request_id: &str) -> Response {
    let status = response.status();
    let pending = response.extensions().get::<PendingProblem>().cloned();
    let parts = match pending {
        Some(PendingProblem(parts)) => parts,
        None if status.is_client_error() || status.is_server_error() => {
            // A problem already, or an HTML page made for people (the pages' 404).
            if is_problem(response.headers()) || is_html(response.headers()) {
                return response;
            }
            std::sync::Arc::new(ApiError::from_status(status).into_parts())
        }
        None => return response,
    };
    log_internal(&parts);
    let mut rendered = render(&parts, Some(request_id));
    // Keep the headers the original answer set (e.g. `allow` on a 405), but not its body's.
    let (old_parts, _) = response.into_parts();
    for (name, value) in &old_parts.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !rendered.headers().contains_key(name)
        {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    rendered
}

fn log_internal(parts: &ApiErrorParts) {
    if let Some(cause) = &parts.internal {
        if parts.status.is_server_error() {
            tracing::error!(status = parts.status.as_u16(), kind = parts.kind, cause = %cause, "request failed");
        } else {
            tracing::warn!(status = parts.status.as_u16(), kind = parts.kind, cause = %cause, "request refused");
        }
    }
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}
