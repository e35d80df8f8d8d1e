//! The operator console's payment desk:
//! - `/console/payments`: the latest payment runs (cut-off, execution date, status, lines,
//!   transfers, total, who started it) and, when the server has a `[payments]` debtor account
//!   and directory, the form that runs the payments due up to a date
//!   (`app::payments::run_as`: operator administrators with a fresh passkey check; the same
//!   exactly-once run as `rempart payments run`);
//! - `/console/iban`: the IBAN changes awaiting a confirmation or their cooling-off (masked),
//!   each confirmed by a second administrator with a fresh passkey check
//!   (`app::payments::iban::confirm_as`), and the form asking a change for a practice.
//!
//! Other operators see both pages without their buttons' power; anyone else gets 404.

use crate::AppState;
use crate::error::ApiError;
use crate::portal::payments::{ChangeView, problem, refusal_text};
use crate::portal::{Visitor, form_visitor, require_visitor, show_time};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::accounts::Role;
use domain::money::Money;
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/payments", get(runs_page).post(run_payments))
        .route("/console/iban", get(iban_page).post(request_change))
        .route("/console/iban/{id}/confirm", post(confirm_change))
}

/// The visitor of an operator page, or the answer for anyone else (404, or `/login`).
async fn operator(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<Visitor, Response>, ApiError> {
    match require_visitor(state, headers).await? {
        Ok(v) if app::accounts::policy::may_see_payment_desk(&v.actor).is_ok() => Ok(Ok(v)),
        Ok(_) => Err(ApiError::not_found()),
        Err(redirect) => Ok(Err(redirect)),
    }
}

/// The same for a form.
async fn operator_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Visitor, ApiError> {
    let visitor = form_visitor(state, headers, csrf).await?;
    app::accounts::policy::may_see_payment_desk(&visitor.actor).map_err(crate::auth::problem)?;
    Ok(visitor)
}

struct RunView {
    id: String,
    cutoff_date: String,
    execution_date: String,
    status: &'static str,
    lines: u64,
    transfers: u64,
    total: String,
    created_at: String,
    created_by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_payments.html")]
struct RunsPage {
    operator: bool,
    csrf: String,
    may_run: bool,
    configured: bool,
    today: String,
    notice: Option<String>,
    runs: Vec<RunView>,
}

async fn render_runs(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let runs = app::payments::runs_for(&state.ports, &visitor.actor, 50)
        .await
        .map_err(problem)?;
    let desk = &state.payments;
    Ok(RunsPage {
        operator: true,
        may_run: visitor.actor.role == Role::OperatorAdmin,
        configured: desk.debtor.is_some() && desk.out_dir.is_some(),
        csrf: visitor.csrf,
        today: crate::api::rights::date_text(state.ports.clock.today()),
        notice,
        runs: runs
            .iter()
            .map(|r| RunView {
                id: r.id.to_string(),
                cutoff_date: crate::api::rights::date_text(r.cutoff_date),
                execution_date: crate::api::rights::date_text(r.execution_date),
                status: r.status.code(),
                lines: r.line_count,
                transfers: r.transfer_count,
                total: Money::from_cents(r.total_cents).to_string(),
                created_at: show_time(r.created_at),
                created_by: r
                    .created_by
                    .map_or_else(|| "command line".to_string(), |id| id.to_string()),
            })
            .collect(),
    }
    .into_response())
}

async fn runs_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match operator(&state, &headers).await? {
        Ok(v) => render_runs(&state, v, None).await,
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Debug, Deserialize)]
struct RunForm {
    csrf: String,
    date: String,
}

/// Runs the payments due up to the date (or finishes the run of that date left half-way).
async fn run_payments(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RunForm>,
) -> Result<Response, ApiError> {
    let visitor = operator_form(&state, &headers, &form.csrf).await?;
    let desk = state.payments.clone();
    let (Some(debtor), Some(out)) = (desk.debtor.as_ref(), desk.out_dir.as_ref()) else {
        let notice = "This server has no [payments] debtor account and directory: run payments with `rempart payments run`.";
        return render_runs(&state, visitor, Some(notice.into())).await;
    };
    let Some(date) = crate::api::rights::parse_date(form.date.trim()) else {
        return render_runs(&state, visitor, Some("Date: a date, YYYY-MM-DD.".into())).await;
    };
    let notice = match app::payments::run_as(
        &state.ports,
        &visitor.actor,
        crate::auth::step_up_window(&state),
        debtor,
        date,
        out,
    )
    .await
    {
        Ok(None) => format!(
            "Nothing to pay on or before {}.",
            crate::api::rights::date_text(date)
        ),
        Ok(Some(o)) => o.summary(),
        Err(e) => refusal_text(e)?,
    };
    render_runs(&state, visitor, Some(notice)).await
}

#[derive(Template, WebTemplate)]
#[template(path = "console_iban.html")]
struct IbanPage {
    operator: bool,
    csrf: String,
    may_confirm: bool,
    cooling_off_hours: i64,
    notice: Option<String>,
    changes: Vec<ChangeView>,
}

async fn render_iban(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let changes = app::payments::iban::list_for(&state.ports, &visitor.actor)
        .await
        .map_err(problem)?;
    Ok(IbanPage {
        operator: true,
        may_confirm: visitor.actor.role == Role::OperatorAdmin,
        cooling_off_hours: state.payments.iban_cooling_off.whole_hours(),
        csrf: visitor.csrf,
        notice,
        changes: changes.iter().map(ChangeView::of).collect(),
    }
    .into_response())
}

async fn iban_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match operator(&state, &headers).await? {
        Ok(v) => render_iban(&state, v, None).await,
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Debug, Deserialize)]
struct ConfirmForm {
    csrf: String,
}

/// A second administrator confirms a change: it takes effect after the cooling-off delay.
async fn confirm_change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, ApiError> {
    let visitor = operator_form(&state, &headers, &form.csrf).await?;
    let notice = match app::payments::iban::confirm_as(
        &state.ports,
        &visitor.actor,
        crate::auth::step_up_window(&state),
        id,
        state.payments.iban_cooling_off,
    )
    .await
    {
        Ok(c) => format!(
            "Change to {} confirmed: in effect from {}.",
            c.iban_masked,
            c.effective_at.map(show_time).unwrap_or_default()
        ),
        Err(e) => refusal_text(e)?,
    };
    render_iban(&state, visitor, Some(notice)).await
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    csrf: String,
    practice_id: String,
    iban: String,
}

/// An administrator asks a change for a practice (a second administrator confirms it).
async fn request_change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Result<Response, ApiError> {
    let visitor = operator_form(&state, &headers, &form.csrf).await?;
    let Ok(practice_id) = form.practice_id.trim().parse::<Uuid>() else {
        return render_iban(&state, visitor, Some("Practice: its id (a UUID).".into())).await;
    };
    let notice = match app::payments::iban::request_as(
        &state.ports,
        &visitor.actor,
        crate::auth::step_up_window(&state),
        practice_id,
        &form.iban,
    )
    .await
    {
        Ok(c) => format!(
            "Change to {} recorded for practice {}: another administrator must confirm it.",
            c.iban_masked, c.practice_id
        ),
        Err(app::payments::PaymentsError::NotFound) => "Practice: no such practice.".into(),
        Err(e) => refusal_text(e)?,
    };
    render_iban(&state, visitor, Some(notice)).await
}
