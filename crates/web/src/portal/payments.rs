//! The professional's payments page (`/payments`): the transfers received (execution date,
//! amount, lines) with each remittance statement to download
//! (`/payments/statements/{statement id}`, CSV: which invoice line each euro pays), the
//! practice's IBAN (masked) and its changes in progress, and the form asking to change it
//! (a fresh passkey check; a second operator confirms, then the cooling-off delay runs,
//! until then the old IBAN is paid). Only the practice's own professionals see any of it.

use crate::AppState;
use crate::error::ApiError;
use crate::portal::{Visitor, form_visitor, require_visitor, show_time};
use app::payments::PaymentsError;
use app::payments::iban::IbanChangeView;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::money::Money;
use serde::Deserialize;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/payments", get(page))
        .route("/payments/statements/{id}", get(statement))
        .route("/payments/iban", post(request_iban_change))
}

/// The notice of a step-up that is missing, on every page that asks for one.
pub(crate) const STEP_UP_NOTICE: &str =
    "This needs a fresh passkey check: press \"Confirm with my passkey\", then submit again.";

/// The problem for what a page cannot say as a message.
pub(crate) fn problem(e: PaymentsError) -> ApiError {
    match e {
        PaymentsError::NotFound => ApiError::not_found(),
        PaymentsError::Forbidden => ApiError::forbidden(
            "forbidden",
            "Only operator administrators move money or confirm IBAN changes.",
        ),
        PaymentsError::Invalid { field, reason } => {
            ApiError::unprocessable(format!("{field}: {reason}"))
        }
        other => ApiError::internal(other),
    }
}

/// The message of a refused money action, or the error page for anything else.
pub(crate) fn refusal_text(e: PaymentsError) -> Result<String, ApiError> {
    match e {
        PaymentsError::StepUpRequired => Ok(STEP_UP_NOTICE.into()),
        PaymentsError::Invalid { field, reason } => Ok(format!("{field}: {reason}")),
        PaymentsError::Forbidden => {
            Ok("Only operator administrators move money or confirm IBAN changes.".into())
        }
        other => Err(problem(other)),
    }
}

/// An IBAN change as pages show it (masked).
pub(crate) struct ChangeView {
    pub id: String,
    pub practice_id: String,
    pub iban: String,
    pub status: &'static str,
    pub requested_at: String,
    pub requested_by: String,
    pub confirmed_at: String,
    pub effective_at: String,
}

impl ChangeView {
    pub(crate) fn of(c: &IbanChangeView) -> Self {
        let at = |t: Option<time::OffsetDateTime>| t.map(show_time).unwrap_or_default();
        Self {
            id: c.id.to_string(),
            practice_id: c.practice_id.to_string(),
            iban: c.iban_masked.clone(),
            status: c.status,
            requested_at: show_time(c.requested_at),
            requested_by: c.requested_by.to_string(),
            confirmed_at: at(c.confirmed_at),
            effective_at: at(c.effective_at.or(c.applied_at)),
        }
    }
}

struct TransferView {
    execution_date: String,
    statement_id: String,
    lines: u64,
    amount: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "payments.html")]
struct PaymentsPage {
    operator: bool,
    csrf: String,
    allowed: bool,
    notice: Option<String>,
    iban: String,
    changes: Vec<ChangeView>,
    transfers: Vec<TransferView>,
    total: String,
}

async fn render(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &visitor.actor;
    let allowed = app::accounts::policy::own_practice(actor).is_ok();
    let (iban, changes, transfers) = if allowed {
        (
            app::payments::iban::current_for(&state.ports, actor)
                .await
                .map_err(problem)?,
            app::payments::iban::list_for(&state.ports, actor)
                .await
                .map_err(problem)?,
            app::payments::received(&state.ports, actor, 100)
                .await
                .map_err(problem)?,
        )
    } else {
        (String::new(), Vec::new(), Vec::new())
    };
    let total: i64 = transfers.iter().map(|t| t.amount_cents).sum();
    Ok(PaymentsPage {
        operator: actor.is_operator(),
        allowed,
        notice,
        iban,
        changes: changes.iter().map(ChangeView::of).collect(),
        total: Money::from_cents(total).to_string(),
        transfers: transfers
            .iter()
            .map(|t| TransferView {
                execution_date: crate::api::rights::date_text(t.execution_date),
                statement_id: t.statement_id.clone(),
                lines: t.line_count,
                amount: Money::from_cents(t.amount_cents).to_string(),
            })
            .collect(),
        csrf: visitor.csrf,
    }
    .into_response())
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match require_visitor(&state, &headers).await? {
        Ok(v) => render(&state, v, None).await,
        Err(redirect) => Ok(redirect),
    }
}

/// One remittance statement of the visitor's practice, as the CSV the run wrote.
async fn statement(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let transfer = app::payments::statement_of(&state.ports, &visitor.actor, &id)
        .await
        .map_err(problem)?;
    Ok(crate::portal::attachment(
        transfer.statement_csv,
        "text/csv; charset=utf-8",
        &format!("statement-{}.csv", transfer.statement_id),
    ))
}

#[derive(Debug, Deserialize)]
struct IbanForm {
    csrf: String,
    iban: String,
}

/// Asks to change the practice's IBAN (never echoed back: the page shows it masked).
async fn request_iban_change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<IbanForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    let practice =
        app::accounts::policy::own_practice(&visitor.actor).map_err(crate::auth::problem)?;
    let notice = match app::payments::iban::request_as(
        &state.ports,
        &visitor.actor,
        crate::auth::step_up_window(&state),
        practice,
        &form.iban,
    )
    .await
    {
        Ok(c) => format!(
            "Change to {} recorded: an operator will confirm it, then it takes effect after the cooling-off delay. Until then payments go to the current IBAN.",
            c.iban_masked
        ),
        Err(e) => refusal_text(e)?,
    };
    render(&state, visitor, Some(notice)).await
}
