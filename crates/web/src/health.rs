//! Operations endpoints: liveness, readiness, metrics and the OpenAPI document.

use crate::error::{ApiError, Json, Problem};
use crate::{AppState, openapi};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// How long `/readyz` waits for the database.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The answer of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok` (alive) or `ready` (able to serve).
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers. Touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is alive.", body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready to serve.", body = Status),
    (status = 503, description = "The database does not answer.", body = Problem, content_type = "application/problem+json"),
))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    match tokio::time::timeout(PING_TIMEOUT, state.ports.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Status { status: "ready" })),
        Ok(Err(e)) => Err(ApiError::unavailable("The database does not answer.").with_internal(e)),
        Err(_) => {
            Err(ApiError::unavailable("The database does not answer.")
                .with_internal("ping timed out"))
        }
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text exposition format 0.0.4.", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    text.push_str(&state.guard.render_metrics());
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, description = "The OpenAPI document of this API.", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    let body = openapi::document_json();
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
