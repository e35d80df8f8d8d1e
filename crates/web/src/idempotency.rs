//! `Idempotency-Key` on writes (the rules are `app::idempotency`'s):
//!
//! - the first request with a key runs; its successful answer is kept (sealed) 24 hours;
//! - the same key with the same request (method, path, query and body bytes) gets that answer
//!   again, with `idempotent-replayed: true`, and nothing runs;
//! - the same key with another request: 422 problem; while the first still runs: 409 problem
//!   with `retry-after`;
//! - a key belongs to the caller (account or machine certificate) and the route;
//! - a request that failed keeps nothing: a retry with its key runs again.
//!
//! JSON writes take [`IdempotentJson`] instead of `Json` and wrap their work in [`once`];
//! streamed writes (beneficiary imports) use [`begin`], [`complete`] and [`abandon`] with a hash
//! made while the body is read ([`RequestHasher`]).

use crate::AppState;
use crate::error::ApiError;
use app::accounts::Actor;
use app::idempotency::{self as rules, Begin};
use axum::body::Bytes;
use axum::extract::{FromRequest, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::future::Future;
use uuid::Uuid;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a replayed answer.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The largest answer kept for replays (JSON answers are small).
const MAX_KEPT: usize = 1024 * 1024;

/// The `Idempotency-Key` of a request: absent, or 1 to 255 visible ASCII characters (else 400).
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|k| rules::valid_key(k))
        .map(|k| Some(k.to_string()))
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        })
}

/// SHA-256 over the method, the path with its query, and the body, fed as it arrives.
pub struct RequestHasher(Sha256);

impl RequestHasher {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"rempart/idempotency/v1\0");
        h.update(method.as_bytes());
        h.update([0]);
        h.update(path_and_query.as_bytes());
        h.update([0]);
        Self(h)
    }

    pub fn update(&mut self, body: &[u8]) {
        self.0.update(body);
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

/// `"POST /api/v1/invitations"`: the method and the route template (the key's scope).
pub fn route_label(method: &str, template: &str) -> String {
    format!("{method} {template}")
}

/// A JSON body, plus what idempotency needs: the key, the route and the request's hash.
/// Malformed input is answered like [`crate::Json`] answers it.
pub struct IdempotentJson<T> {
    pub body: T,
    pub key: Option<String>,
    pub route: String,
    pub hash: Vec<u8>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for IdempotentJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let key = key(req.headers())?;
        let method = req.method().as_str().to_string();
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
        let template = req
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| {
                let t = t.trim();
                t.eq_ignore_ascii_case("application/json") || t.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::unsupported_media_type(
                "Send the body as application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large()
            } else {
                ApiError::bad_request("The request body could not be read.")
            }
        })?;
        let axum::Json(body) = axum::Json::<T>::from_bytes(&bytes)?;
        let mut hasher = RequestHasher::new(&method, &path);
        hasher.update(&bytes);
        Ok(Self {
            body,
            key,
            route: route_label(&method, &template),
            hash: hasher.finish(),
        })
    }
}

fn store_problem(e: rules::IdempotencyError) -> ApiError {
    match e {
        rules::IdempotencyError::Store(app::StoreError::Unavailable(cause)) => {
            ApiError::unavailable("The service cannot answer now; retry shortly.")
                .with_internal(cause)
        }
        rules::IdempotencyError::Store(app::StoreError::Retryable) => {
            ApiError::unavailable("The service is busy; retry shortly.")
        }
        other => ApiError::internal(other),
    }
}

/// 422: the key was used with another request.
pub fn mismatch() -> ApiError {
    ApiError::unprocessable(
        "This Idempotency-Key was already used with a different request; use a new key for a new request.",
    )
}

/// 409 with `retry-after`: the first request with this key is still running.
pub fn in_progress() -> Response {
    let mut response = ApiError::conflict(
        "A request with this Idempotency-Key is still running; retry once it has answered.",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The kept answer, sent again.
pub fn replay(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// What to do with a keyed request (see `app::idempotency::begin`).
pub async fn begin(
    state: &AppState,
    actor: &Actor,
    route: &str,
    key: &str,
    hash: Option<&[u8]>,
    stale_after: std::time::Duration,
) -> Result<Begin, ApiError> {
    let stale_after = time::Duration::try_from(stale_after).unwrap_or(time::Duration::hours(24));
    rules::begin(
        &state.ports,
        actor.account_id,
        actor.organisation_id,
        route,
        key,
        hash,
        stale_after,
    )
    .await
    .map_err(store_problem)
}

/// Keeps a successful answer (sealed) for replays.
pub async fn complete(
    state: &AppState,
    id: Uuid,
    hash: &[u8],
    status: StatusCode,
    body: &[u8],
) -> Result<(), ApiError> {
    rules::complete(&state.ports, id, hash, status.as_u16(), body)
        .await
        .map_err(store_problem)
}

/// Drops the record of a request that failed (a retry runs again). A failure to drop it is
/// logged: the record then expires as stale.
pub async fn abandon(state: &AppState, id: Uuid) {
    if let Err(e) = rules::abandon(&state.ports, id).await {
        tracing::warn!(error = %e, "cannot drop an idempotency record");
    }
}

/// Runs `work` once per key: without a key it just runs; with one, see the module
/// documentation. A successful answer's body is kept; anything else drops the record.
///
/// `work` gets the running record ([`rules::Keep`]) when there is a key: work that keeps its
/// answer itself, in its own transaction (invoices), marks its response with
/// [`KeptWithTheWork`] and `once` stores nothing more; other work ignores it.
pub async fn once<Fut>(
    state: &AppState,
    actor: &Actor,
    request: &IdempotentJsonMeta<'_>,
    work: impl FnOnce(Option<rules::Keep>) -> Fut,
) -> Result<Response, ApiError>
where
    Fut: Future<Output = Result<Response, ApiError>>,
{
    let Some(key) = request.key else {
        return work(None).await;
    };
    let id = match begin(
        state,
        actor,
        request.route,
        key,
        Some(request.hash),
        state.config.request_timeout,
    )
    .await?
    {
        Begin::Run(id) => id,
        Begin::Replay { status, body } => return Ok(replay(status, body)),
        Begin::Mismatch => return Err(mismatch()),
        Begin::InProgress => return Ok(in_progress()),
    };
    let keep = rules::Keep {
        id,
        request_hash: request.hash.to_vec(),
    };
    let response = match work(Some(keep)).await {
        Ok(r) if r.status().is_success() => r,
        other => {
            abandon(state, id).await;
            return other;
        }
    };
    if response.extensions().get::<KeptWithTheWork>().is_some() {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_KEPT).await {
        Ok(b) => b,
        Err(e) => {
            abandon(state, id).await;
            return Err(ApiError::internal(format!(
                "cannot keep the answer for Idempotency-Key: {e}"
            )));
        }
    };
    if let Err(e) = complete(state, id, request.hash, parts.status, &bytes).await {
        // The work is done: answer it; a retry with this key will run again.
        tracing::warn!(error = ?e, "cannot keep an answer for its Idempotency-Key");
        abandon(state, id).await;
    }
    Ok(Response::from_parts(parts, axum::body::Body::from(bytes)))
}

/// Marks a response whose answer the work already kept for its key (see [`once`]).
#[derive(Debug, Clone, Copy)]
pub struct KeptWithTheWork;

/// The idempotency facts of a request, borrowed from an [`IdempotentJson`].
pub struct IdempotentJsonMeta<'a> {
    pub key: Option<&'a str>,
    pub route: &'a str,
    pub hash: &'a [u8],
}

impl<T> IdempotentJson<T> {
    /// Splits the body from the facts [`once`] needs.
    pub fn split(self) -> (T, IdempotentJsonParts) {
        (
            self.body,
            IdempotentJsonParts {
                key: self.key,
                route: self.route,
                hash: self.hash,
            },
        )
    }
}

/// Owned idempotency facts of a request.
pub struct IdempotentJsonParts {
    pub key: Option<String>,
    pub route: String,
    pub hash: Vec<u8>,
}

impl IdempotentJsonParts {
    pub fn meta(&self) -> IdempotentJsonMeta<'_> {
        IdempotentJsonMeta {
            key: self.key.as_deref(),
            route: &self.route,
            hash: &self.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_hash_covers_method_path_and_body() {
        let h = |m: &str, p: &str, b: &[u8]| {
            let mut x = RequestHasher::new(m, p);
            x.update(b);
            x.finish()
        };
        let base = h("POST", "/a?x=1", b"{}");
        assert_eq!(base, h("POST", "/a?x=1", b"{}"));
        assert_ne!(base, h("PUT", "/a?x=1", b"{}"));
        assert_ne!(base, h("POST", "/a?x=2", b"{}"));
        assert_ne!(base, h("POST", "/a?x=1", b"{ }"));
        // Fed in pieces, the same as at once.
        let mut x = RequestHasher::new("POST", "/a?x=1");
        x.update(b"{");
        x.update(b"}");
        assert_eq!(base, x.finish());
    }

    #[test]
    fn keys_are_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(key(&h).unwrap(), None);
        h.insert(IDEMPOTENCY_KEY, HeaderValue::from_static("abc-1"));
        assert_eq!(key(&h).unwrap().as_deref(), Some("abc-1"));
        h.insert(IDEMPOTENCY_KEY, HeaderValue::from_static("a b"));
        assert!(key(&h).is_err());
    }
}
