//! Insurer billing (`app::payments::bill_for`): `GET /api/v1/insurers/{amc}/billing?from=&to=`
//! answers what rempart paid professionals on the insurer's behalf in the payment runs executed
//! in the period: JSON by default, the CSV statement with `format=csv` (docs/formats.md,
//! "Insurer bill"). The insurer's own staff and machines, and the operator; anyone else gets
//! the 404 of an unknown insurer.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use app::payments::PaymentsError;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

#[derive(OpenApi)]
#[openapi(
    paths(billing),
    tags((name = "billing", description = "Insurer billing: what was paid on the insurer's behalf over a period."))
)]
pub struct PaymentsApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/insurers/{amc}/billing", get(billing))
}

/// The period (inclusive) and the format.
#[derive(Debug, Deserialize, IntoParams)]
pub struct BillingQuery {
    /// First execution date, YYYY-MM-DD.
    from: String,
    /// Last execution date, YYYY-MM-DD (inclusive).
    to: String,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

fn problem(e: PaymentsError) -> ApiError {
    match e {
        PaymentsError::NotFound => ApiError::not_found(),
        PaymentsError::Invalid { field, reason } => {
            ApiError::unprocessable(format!("{field}: {reason}"))
        }
        other => ApiError::internal(other),
    }
}

/// An insurer's bill over a period.
#[utoipa::path(
    get,
    path = "/api/v1/insurers/{amc}/billing",
    tag = "billing",
    params(("amc" = String, Path, description = "The insurer's AMC number."), BillingQuery),
    responses(
        (status = 200, description = "The bill: JSON, or the CSV statement with format=csv.", content_type = "application/json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such insurer for this caller.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad date or period (named in `detail`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn billing(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(amc): Path<String>,
    Query(q): Query<BillingQuery>,
) -> Result<Response, ApiError> {
    let from = crate::api::rights::parse_date(&q.from)
        .ok_or_else(|| ApiError::unprocessable("from: must be a date, YYYY-MM-DD"))?;
    let to = crate::api::rights::parse_date(&q.to)
        .ok_or_else(|| ApiError::unprocessable("to: must be a date, YYYY-MM-DD"))?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::unprocessable("format: json or csv")),
    };
    let bill = app::payments::bill_for(&state.ports, &actor, &amc, from, to)
        .await
        .map_err(problem)?;
    let bytes = app::payments::bill_bytes(&bill, !csv).map_err(problem)?;
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if csv {
            "text/csv; charset=utf-8"
        } else {
            "application/json"
        }),
    );
    Ok(response)
}
