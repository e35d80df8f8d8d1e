//! One error type for every HTTP answer that is not a success: [`ApiError`], rendered as an
//! RFC 9457 `application/problem+json` document carrying the request id and no internals.
//!
//! Handlers return `Result<_, ApiError>`. `into_response` only records the problem in the
//! response's extensions; the request middleware (see `middleware.rs`), which knows the request
//! id, renders the body and logs internal causes once, inside the request's span. Responses that
//! leave the stack with an error status but no problem (a 404 fallback, a 405 from the method
//! router, a 413 from the body limit, a timeout) are turned into problems there too.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document, as sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:rempart:problem:<kind>`).
    #[serde(rename = "type")]
    #[schema(example = "urn:rempart:problem:not-found")]
    pub type_: String,
    /// A short summary of the kind of problem.
    #[schema(example = "Not Found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong, for a person; never contains internals or personal data.
    pub detail: String,
    /// This occurrence: `urn:uuid:<request id>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id, as in the `x-request-id` response header; quote it to the operator.
    #[schema(example = "01890a5d-ac96-774b-bcce-b302099a8057")]
    pub request_id: String,
}

/// An error answer. Build it with the constructors; the cause of an internal error is logged
/// (once, with the request id) and never sent.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    internal: Option<String>,
}

/// What the middleware finds in a response's extensions to render the problem body.
#[derive(Debug, Clone)]
pub(crate) struct PendingProblem(pub(crate) Arc<ApiErrorParts>);

#[derive(Debug)]
pub(crate) struct ApiErrorParts {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) detail: String,
    pub(crate) internal: Option<String>,
}

impl ApiError {
    /// The detail shown to the caller (for a page that shows it in place).
    pub fn detail_text(&self) -> String {
        self.detail.clone()
    }

    fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            detail: detail.into(),
            internal: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "There is nothing at this address.",
        )
    }

    /// No valid session (or client certificate): sign in first.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in with a passkey to use this address.",
        )
    }

    /// Refused for this caller; `kind` names why (`forbidden`, `step-up-required`, `csrf`).
    pub fn forbidden(kind: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, kind, detail)
    }

    /// The request conflicts with the current state; `detail` must be safe to show.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// A bad request of a named kind (`invalid-invitation`, `ceremony-failed`).
    pub fn bad_request_kind(kind: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, detail)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "This address does not accept this method.",
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is larger than this server accepts.",
        )
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    }

    /// Too many requests from this client (rate limits); add `retry-after`.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", detail)
    }

    pub fn timeout() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long and was abandoned; it may be retried.",
        )
    }

    /// The service (or one of its dependencies) cannot answer now; `detail` must be safe to show.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// An unexpected failure. `cause` is logged with the request id, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Quote the request id to the operator.",
        );
        e.internal = Some(cause.to_string());
        e
    }

    /// The same answer under another problem kind (`lookups-suspended`).
    pub fn with_kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    /// The same answer with another detail (safe to show).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Attach a cause to log (never sent) to any error.
    pub fn with_internal(mut self, cause: impl std::fmt::Display) -> Self {
        self.internal = Some(cause.to_string());
        self
    }

    /// The problem for a bare error status produced outside a handler (fallbacks, layers).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::not_found(),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(),
            StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(),
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => Self::timeout(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Self::unsupported_media_type("This media type is not accepted here.")
            }
            StatusCode::INTERNAL_SERVER_ERROR => Self::internal("error response without a problem"),
            s => {
                let detail = s.canonical_reason().unwrap_or("Error").to_string();
                let kind = if s.is_server_error() {
                    "server-error"
                } else {
                    "client-error"
                };
                Self {
                    status: s,
                    kind,
                    detail,
                    internal: None,
                }
            }
        }
    }

    pub(crate) fn into_parts(self) -> ApiErrorParts {
        ApiErrorParts {
            status: self.status,
            kind: self.kind,
            detail: self.detail,
            internal: self.internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.kind)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parts = self.into_parts();
        // Rendered without a request id here; the request middleware renders it again with one.
        let mut response = render(&parts, None);
        response
            .extensions_mut()
            .insert(PendingProblem(Arc::new(parts)));
        response
    }
}

pub(crate) fn title(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_string()
}

/// Renders a problem document for `parts`, with the request id when known.
pub(crate) fn render(parts: &ApiErrorParts, request_id: Option<&str>) -> Response {
    let problem = Problem {
        type_: format!("urn:rempart:problem:{}", parts.kind),
        title: title(parts.status),
        status: parts.status.as_u16(),
        detail: parts.detail.clone(),
        instance: request_id.map(|id| format!("urn:uuid:{id}")),
        request_id: request_id.unwrap_or_default().to_string(),
    };
    let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (parts.status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(_) => {
                Self::unprocessable("The JSON body does not have the expected fields or values.")
            }
            JsonRejection::JsonSyntaxError(_) => Self::bad_request("The body is not valid JSON."),
            JsonRejection::MissingJsonContentType(_) => {
                Self::unsupported_media_type("Send the body as application/json.")
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(),
            other => Self::from_status(other.status()),
        }
    }
}

/// `axum::Json`, but malformed input is answered with a problem document.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Json(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
