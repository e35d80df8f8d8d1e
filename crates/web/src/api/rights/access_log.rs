//! `GET /api/v1/insurers/{amc}/members/{member}/access-log` and
//! `POST …/access-log/{entry}/not-me`: a member's access log for their insurer's own staff and
//! machines (`app::rights::access_log`). Another organisation, an unknown insurer or member,
//! an entry of someone else: `404`, the same answer.

use crate::AppState;
use crate::auth::{Authenticated, problem};
use crate::error::{ApiError, Json};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

pub const LOG_ROUTE: &str = "/api/v1/insurers/{amc}/members/{member}/access-log";
pub const NOT_ME_ROUTE: &str = "/api/v1/insurers/{amc}/members/{member}/access-log/{entry}/not-me";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(LOG_ROUTE, get(access_log))
        .route(NOT_ME_ROUTE, post(not_me))
}

/// One access to the member family's data.
#[derive(Serialize, ToSchema)]
pub struct AccessLogEntry {
    /// The ledger entry (quote it in a "not me" report).
    pub entry: u64,
    /// When (RFC 3339, UTC).
    #[schema(example = "2026-01-15T09:00:00Z")]
    pub at: String,
    /// Who: the practice's name (or the operator's or insurer's), never a person.
    #[schema(example = "Optique du Port")]
    pub organisation: String,
    /// The practice's profession; absent for the operator or an insurer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "optician")]
    pub profession: Option<String>,
    /// What was disclosed: `coverage`, `guarantees`, `engagement`, `approval`, `payment`,
    /// `identity`.
    pub categories: Vec<String>,
    /// Why: `rights_check`, `prior_approval`, `invoice`, `console_view`, …
    #[schema(example = "rights_check")]
    pub purpose: String,
    /// Whether the beneficiary already reported it ("not me").
    pub reported: bool,
}

/// A page of the access log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AccessLogPage {
    pub entries: Vec<AccessLogEntry>,
    /// Pass it as `before` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// The report of an access the beneficiary does not recognise.
#[derive(Serialize, ToSchema)]
pub struct NotMeReport {
    pub id: uuid::Uuid,
    pub entry: u64,
    /// When it was first reported (RFC 3339, UTC).
    pub reported_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Only entries older than this one (from `next_before`).
    pub before: Option<u64>,
    /// 1 to 200; 50 by default.
    pub limit: Option<u32>,
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The access log of a member family, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/insurers/{amc}/members/{member}/access-log",
    tag = "access-log",
    params(
        ("amc" = String, Path, description = "The insurer's AMC number."),
        ("member" = String, Path, description = "The member number."),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of the log, newest first.", body = AccessLogPage, content_type = "application/json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not this insurer's staff or machine, or no such insurer or member (the same answer).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_log(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((amc, member)): Path<(String, String)>,
    Query(page): Query<PageQuery>,
) -> Result<Json<AccessLogPage>, ApiError> {
    let log = app::rights::access_log::access_log(
        &state.ports,
        &actor,
        &amc,
        &member,
        page.before,
        page.limit,
    )
    .await
    .map_err(problem)?;
    Ok(Json(AccessLogPage {
        entries: log
            .entries
            .into_iter()
            .map(|e| AccessLogEntry {
                entry: e.entry,
                at: rfc3339(e.at),
                organisation: e.organisation,
                profession: e.profession.map(|p| p.code().to_string()),
                categories: e.categories.iter().map(|c| c.code().to_string()).collect(),
                purpose: e.purpose.map_or_else(String::new, |p| p.code().to_string()),
                reported: e.reported,
            })
            .collect(),
        next_before: log.next_before,
    }))
}

/// Reports an access the beneficiary does not recognise; raises an operator alert.
#[utoipa::path(
    post,
    path = "/api/v1/insurers/{amc}/members/{member}/access-log/{entry}/not-me",
    tag = "access-log",
    params(
        ("amc" = String, Path, description = "The insurer's AMC number."),
        ("member" = String, Path, description = "The member number."),
        ("entry" = u64, Path, description = "The entry of the log."),
    ),
    responses(
        (status = 201, description = "Reported; the operator is alerted.", body = NotMeReport, content_type = "application/json"),
        (status = 200, description = "Already reported: the first report.", body = NotMeReport, content_type = "application/json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not this insurer's staff or machine, or no such member or entry in this member's log (the same answer).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn not_me(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((amc, member, entry)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let entry: u64 = entry.parse().map_err(|_| ApiError::not_found())?;
    let reported = app::rights::access_log::report_not_me(
        &state.ports,
        &state.guard,
        &actor,
        &amc,
        &member,
        entry,
    )
    .await
    .map_err(problem)?;
    let status = if reported.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(NotMeReport {
            id: reported.report.id,
            entry: reported.report.entry,
            reported_at: rfc3339(reported.report.created_at),
        }),
    )
        .into_response())
}
