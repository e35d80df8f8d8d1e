//! Prior approvals (`app::approvals`): `POST /api/v1/prior-approvals`,
//! `GET /api/v1/prior-approvals/{number}` and `POST /api/v1/prior-approvals/{number}/cancel`,
//! for the practice that holds the engagement (anyone else: 404).

use crate::AppState;
use crate::api::invoices::{AdjudicatedLine, ClaimLine, claim_problem, info};
use crate::auth::Authenticated;
use crate::error::{ApiError, Json};
use crate::idempotency::{self, IdempotentJson};
use crate::middleware::{ClientAddr, RequestId};
use app::approvals::{ApprovalAnswer, ApprovalRequest};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use utoipa::{OpenApi, ToSchema};

/// A prior-approval request.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewPriorApproval {
    /// The engagement number of the rights check (OPTI, AUDI or DENT).
    engagement: String,
    /// The quote lines.
    lines: Vec<ClaimLine>,
    /// 1 to 12 months; default 3.
    validity_months: Option<u8>,
}

/// A prior approval.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PriorApproval {
    /// `P` + 20 characters: quote it on the invoice.
    number: String,
    /// `active`, `cancelled`, `invoiced` or `expired`.
    status: String,
    /// `accepted`, `partial` or `rejected`.
    decision: String,
    domain: String,
    care_date: String,
    /// The last day it can be invoiced (included).
    valid_until: String,
    total_cents: i64,
    lines: Vec<AdjudicatedLine>,
}

#[derive(OpenApi)]
#[openapi(
    paths(request_approval, get_approval, cancel_approval),
    components(schemas(NewPriorApproval, PriorApproval)),
    tags((name = "prior-approvals", description = "Prior approval (DPEC → PEC) for optics, hearing aids and dental prostheses: practices only."))
)]
pub struct ApprovalsApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/prior-approvals", post(request_approval))
        .route("/api/v1/prior-approvals/{number}", get(get_approval))
        .route(
            "/api/v1/prior-approvals/{number}/cancel",
            post(cancel_approval),
        )
}

/// Asks a prior approval: the AMC amount per line with its steps; reserves the counters.
#[utoipa::path(
    post,
    path = "/api/v1/prior-approvals",
    tag = "prior-approvals",
    params(("Idempotency-Key" = Option<String>, Header, description = "Optional: a retry with the same key and body answers the first answer again.")),
    request_body = NewPriorApproval,
    responses(
        (status = 201, description = "The approval (lines may be rejected: see `decision`).", body = PriorApproval),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a practice, or suspended.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The practice holds no such engagement.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed line, an engagement outside OPTI/AUDI/DENT or expired.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The ledger or the database cannot answer; nothing was disclosed.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_approval(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    axum::Extension(request_id): axum::Extension<RequestId>,
    client: Option<axum::Extension<ClientAddr>>,
    body: IdempotentJson<ApprovalRequest>,
) -> Result<Response, ApiError> {
    let (request, parts) = body.split();
    let info = info(&request_id, client.as_ref().map(|c| &c.0));
    let meta = parts.meta();
    idempotency::once(&state, &actor, &meta, |_| async {
        let answer = app::approvals::request(&state.ports, &state.ledger, &actor, info, &request)
            .await
            .map_err(claim_problem)?;
        Ok((StatusCode::CREATED, Json(answer)).into_response())
    })
    .await
}

/// A prior approval of the caller's practice.
#[utoipa::path(
    get,
    path = "/api/v1/prior-approvals/{number}",
    tag = "prior-approvals",
    params(("number" = String, Path, description = "The approval number.")),
    responses(
        (status = 200, description = "The approval.", body = PriorApproval),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such approval of the caller's practice.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_approval(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(number): Path<String>,
) -> Result<Json<ApprovalAnswer>, ApiError> {
    app::approvals::get(&state.ports, &actor, &number)
        .await
        .map(Json)
        .map_err(claim_problem)
}

/// Cancels an active approval: its counters' reservation is released.
#[utoipa::path(
    post,
    path = "/api/v1/prior-approvals/{number}/cancel",
    tag = "prior-approvals",
    params(("number" = String, Path, description = "The approval number.")),
    responses(
        (status = 200, description = "Cancelled.", body = PriorApproval),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such approval of the caller's practice.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled or invoiced.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_approval(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(number): Path<String>,
) -> Result<Json<ApprovalAnswer>, ApiError> {
    app::approvals::cancel(&state.ports, &actor, &number)
        .await
        .map(Json)
        .map_err(claim_problem)
}
