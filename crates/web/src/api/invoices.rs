//! Invoices (`app::invoices`): `POST /api/v1/invoices` (an `Idempotency-Key` is required),
//! `GET /api/v1/invoices` (the practice's latest) and `GET /api/v1/invoices/{id}` (the
//! practice that made it; anyone else gets 404).
//!
//! The caller is a practice: its people (passkey session) or its software (client
//! certificate). A suspended account or organisation is refused by `Authenticated` (403).

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, Json};
use crate::idempotency::{self, IdempotentJson};
use crate::middleware::{ClientAddr, RequestId};
use app::invoices::{ClaimContextInfo, ClaimFailure, InvoiceRequest};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

/// A quote or invoice line (amounts in integer cents).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ClaimLine {
    /// `frame`, `lens`, `hearing_aid`, `prosthesis` or `other`.
    #[schema(example = "lens")]
    kind: String,
    /// `A`/`B` (optics), `I`/`II` (hearing aids).
    class: Option<String>,
    /// Lenses: `simple`, `complex`, `very_complex`.
    complexity: Option<String>,
    /// Hearing aids: `left`, `right`.
    ear: Option<String>,
    /// Default 1.
    quantity: Option<u8>,
    #[schema(example = 12000)]
    price_cents: i64,
    #[schema(example = 5)]
    br_cents: i64,
    /// The AMO amount actually paid.
    #[schema(example = 3)]
    amo_cents: i64,
}

/// One step of a line's computation.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AdjudicationStep {
    /// `formula`, `on_top`, `per_line`, `per_ear`, `per_equipment`, `per_period`,
    /// `price_limit`, `frame_limit`, `class_b_ceiling`, `class_b_floor`, `class_a_in_full`,
    /// `class_i_in_full`, `class_ii_cap`, `approval_limit`, `rejected`.
    rule: String,
    /// The AMC amount before the step, in cents.
    before: i64,
    after: i64,
    #[schema(example = "100% BR − AMO = 400.00 − 240.00 = 160.00 €")]
    text: String,
}

/// One line of an answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AdjudicatedLine {
    amc_cents: i64,
    /// A rejection code (docs/api.md, "Rejection codes"), when rejected.
    rejection: Option<String>,
    steps: Vec<AdjudicationStep>,
}

/// The card of a degraded-mode invoice.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DegradedCard {
    /// The datamatrix token, as scanned.
    token: String,
}

/// The patient of a degraded-mode invoice (as in a rights check).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DegradedPatient {
    /// YYYY-MM-DD.
    birth_date: String,
    birth_rank: u8,
}

/// An invoice as sent: `engagement`, or in degraded mode (lookups switched off for the
/// practice on the care date; docs/degraded-mode.md) `card`, `patient` and `domain` instead.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewInvoice {
    /// The engagement number of the rights check.
    engagement: Option<String>,
    /// Degraded mode: the card's datamatrix token (instead of `engagement`).
    card: Option<DegradedCard>,
    /// Degraded mode: the patient.
    patient: Option<DegradedPatient>,
    /// Degraded mode: the care domain (one of the practice's profession).
    domain: Option<String>,
    /// The prior approval's number (OPTI, AUDI, DENT prostheses).
    approval: Option<String>,
    /// YYYY-MM-DD.
    care_date: String,
    lines: Vec<ClaimLine>,
}

/// The answer to an invoice.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Invoice {
    id: Uuid,
    /// `accepted`, `partial` or `rejected`.
    status: String,
    domain: String,
    contract: String,
    care_date: String,
    total_cents: i64,
    lines: Vec<AdjudicatedLine>,
    created_at: String,
}

#[derive(OpenApi)]
#[openapi(
    paths(submit_invoice, get_invoice, list_invoices),
    components(schemas(ClaimLine, AdjudicationStep, AdjudicatedLine, DegradedCard, DegradedPatient, NewInvoice, Invoice)),
    tags((name = "invoices", description = "Invoices adjudicated line by line: practices only (passkey session or client certificate)."))
)]
pub struct InvoicesApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/invoices", post(submit_invoice).get(list_invoices))
        .route("/api/v1/invoices/{id}", get(get_invoice))
}

/// The problem of a claim failure.
pub fn claim_problem(e: ClaimFailure) -> ApiError {
    match e {
        ClaimFailure::Forbidden => ApiError::forbidden(
            "forbidden",
            "Only practices send prior-approval requests and invoices.",
        ),
        ClaimFailure::NotFound => ApiError::not_found(),
        ClaimFailure::Invalid { path, reason } => {
            ApiError::unprocessable(format!("{path}: {reason}"))
        }
        ClaimFailure::NotActive(what) => {
            ApiError::conflict(format!("The prior approval is {what}."))
        }
        ClaimFailure::Ledger(cause) => ApiError::unavailable(
            "The access ledger cannot record the answer now; nothing was disclosed. Retry shortly.",
        )
        .with_internal(cause),
        ClaimFailure::Store(app::StoreError::Unavailable(cause)) => {
            ApiError::unavailable("The service cannot answer now; retry shortly.")
                .with_internal(cause)
        }
        ClaimFailure::Store(app::StoreError::Retryable) => {
            ApiError::unavailable("The service is busy; retry shortly.")
        }
        ClaimFailure::Store(other) => ApiError::internal(other),
        ClaimFailure::Internal(cause) => ApiError::internal(cause),
    }
}

pub(crate) fn info(request_id: &RequestId, client: Option<&ClientAddr>) -> ClaimContextInfo {
    ClaimContextInfo {
        request_id: request_id.0,
        client_addr: client.map(|c| c.0),
    }
}

/// Adjudicates an invoice.
#[utoipa::path(
    post,
    path = "/api/v1/invoices",
    tag = "invoices",
    params(("Idempotency-Key" = String, Header, description = "Required. 1 to 255 visible ASCII characters; a retry with the same key and body answers the first answer again (`idempotent-replayed: true`) and counts nothing twice; another body with the key: 422; while the first runs: 409.")),
    request_body = NewInvoice,
    responses(
        (status = 201, description = "Adjudicated: `accepted`, `partial` or `rejected`, per line the AMC amount and every step.", body = Invoice),
        (status = 400, description = "No or a malformed Idempotency-Key, or a malformed body.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a practice, or suspended.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The practice holds no such engagement.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this key is still running.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed line (the field path and the reason), or the key was used with another body.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The ledger or the database cannot answer; nothing was disclosed.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_invoice(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    axum::Extension(request_id): axum::Extension<RequestId>,
    client: Option<axum::Extension<ClientAddr>>,
    body: IdempotentJson<InvoiceRequest>,
) -> Result<Response, ApiError> {
    let (request, parts) = body.split();
    if parts.key.is_none() {
        return Err(ApiError::bad_request(
            "An Idempotency-Key header is required to send an invoice.",
        ));
    }
    let info = info(&request_id, client.as_ref().map(|c| &c.0));
    let meta = parts.meta();
    let (state_ref, actor_ref, request_ref) = (&state, &actor, &request);
    idempotency::once(&state, &actor, &meta, |keep| async move {
        let (state, actor, request) = (state_ref, actor_ref, request_ref);
        // The answer is kept with the invoice, in its transaction: the exact bytes sent.
        let answer = app::invoices::submit(
            &state.ports,
            &state.ledger,
            &state.guard,
            actor,
            info,
            request,
            keep.as_ref(),
        )
        .await
        .map_err(claim_problem)?;
        let body = app::invoices::answer_body(&answer).map_err(claim_problem)?;
        let status = StatusCode::from_u16(app::invoices::KEPT_STATUS)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut response = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if keep.is_some() {
            response
                .extensions_mut()
                .insert(idempotency::KeptWithTheWork);
        }
        Ok(response)
    })
    .await
}

/// One invoice of the caller's practice.
#[utoipa::path(
    get,
    path = "/api/v1/invoices/{id}",
    tag = "invoices",
    params(("id" = Uuid, Path, description = "The invoice id.")),
    responses(
        (status = 200, description = "The invoice as answered.", body = Invoice),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice of the caller's practice.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_invoice(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<app::invoices::InvoiceAnswer>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found())?;
    app::invoices::get(&state.ports, &actor, id)
        .await
        .map(Json)
        .map_err(claim_problem)
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<u32>,
}

/// The caller's practice's latest invoices, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/invoices",
    tag = "invoices",
    params(("limit" = Option<u32>, Query, description = "At most this many (default 50, at most 200).")),
    responses(
        (status = 200, description = "The practice's invoices.", body = [Invoice]),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a practice.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_invoices(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<app::invoices::InvoiceAnswer>>, ApiError> {
    app::invoices::list(&state.ports, &actor, q.limit.unwrap_or(50))
        .await
        .map(Json)
        .map_err(claim_problem)
}
