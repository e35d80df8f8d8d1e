//! The guard over HTTP: its refusals as RFC 9457 problems, and the operator console page of
//! containment (`/console/guard`: alerts, kill switches, suspensions; switching and lifting
//! need an operator administrator with a fresh passkey check).
//!
//! | refusal | status | problem type |
//! |---|---|---|
//! | lookups switched off | 503 | `lookups-suspended` (points to the degraded mode) |
//! | account suspended | 403 | `account-suspended` (says whom to contact) |
//! | organisation suspended | 403 | `organisation-suspended` |
//! | fresh passkey check demanded | 403 | `step-up-required` |
//! | rate limit | 429 | `rate-limited`, with `retry-after` (seconds) |

use crate::AppState;
use crate::error::ApiError;
use crate::portal::{Visitor, form_visitor, require_visitor, show_time};
use app::guard::{GuardError, Refusal, Scope, Subject};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

/// The detail of the 503 while lookups are switched off.
pub const DEGRADED_MODE: &str = "Online lookups are suspended by the operator for this scope. Use the degraded mode: verify the card's datamatrix offline (rempart card verify, or your software with the keys published at /api/v1/card-keys) and send the invoice later; invoices made under a valid card meanwhile are honoured up to the card's printed rates. See docs/degraded-mode.md.";

/// A guard refusal as a response (a problem; `retry-after` on a 429).
#[derive(Debug)]
pub struct GuardRefusal(pub Refusal);

impl From<Refusal> for GuardRefusal {
    fn from(r: Refusal) -> Self {
        Self(r)
    }
}

/// The problem for a refusal (without the `retry-after` header: see [`GuardRefusal`]).
pub fn problem(refusal: &Refusal) -> ApiError {
    match refusal {
        Refusal::SwitchedOff { scope } => {
            let (kind, _) = scope.parts();
            ApiError::unavailable(format!("{DEGRADED_MODE} (scope: {kind})"))
                .with_kind("lookups-suspended")
        }
        Refusal::Suspended { subject, contact } => {
            let (kind, who) = match subject {
                Subject::Account => ("account-suspended", "This account"),
                Subject::Organisation => ("organisation-suspended", "Your organisation"),
            };
            ApiError::forbidden(
                kind,
                format!(
                    "{who} is suspended after unusual activity; nothing is disclosed meanwhile. Contact {contact} and quote the request id."
                ),
            )
        }
        Refusal::StepUpRequired => ApiError::forbidden(
            "step-up-required",
            "Unusual activity: confirm it is you with your passkey (POST /api/v1/auth/step-up/start, then finish), then retry.",
        ),
        Refusal::Throttled { .. } => {
            ApiError::from_status(axum::http::StatusCode::TOO_MANY_REQUESTS)
                .with_kind("rate-limited")
                .with_detail(
                    "Too many lookups from this account or organisation; wait, then try again.",
                )
        }
        Refusal::Unavailable(e) => {
            ApiError::unavailable("The service cannot answer now; retry shortly.").with_internal(e)
        }
    }
}

impl IntoResponse for GuardRefusal {
    fn into_response(self) -> Response {
        let mut response = problem(&self.0).into_response();
        if let Refusal::Throttled { retry_after } = self.0 {
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

fn guard_error(e: GuardError) -> ApiError {
    match e {
        GuardError::Forbidden => {
            ApiError::forbidden("forbidden", "Only an operator administrator may do this.")
        }
        GuardError::StepUpRequired => ApiError::forbidden(
            "step-up-required",
            "This action needs a fresh passkey check: confirm with your passkey, then submit again.",
        ),
        GuardError::NotFound => ApiError::not_found(),
        GuardError::Invalid(detail) => ApiError::unprocessable(detail),
        GuardError::Store(e) => ApiError::internal(e),
        GuardError::Ledger(cause) => ApiError::unavailable(
            "The access ledger cannot record this now, so nothing was done; retry shortly.",
        )
        .with_internal(cause),
    }
}

// ---- the console page

/// The console routes of containment (merged by `crate::console::router`'s caller).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/guard", get(page))
        .route("/console/guard/switches", post(set_switch))
        .route("/console/guard/lift", post(lift))
}

struct AlertView {
    raised_at: String,
    signal: String,
    severity: String,
    account: String,
    organisation: String,
    action: String,
    detail: String,
}

struct SwitchView {
    scope: String,
    reason: String,
    since: String,
}

struct SuspensionView {
    subject: String,
    id: Uuid,
    organisation: Uuid,
    signal: String,
    reason: String,
    since: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_guard.html")]
struct GuardPage {
    operator: bool,
    csrf: String,
    notice: Option<String>,
    may_act: bool,
    alerts: Vec<AlertView>,
    switches: Vec<SwitchView>,
    suspensions: Vec<SuspensionView>,
}

fn id_text(id: Option<Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_else(|| "—".into())
}

async fn render(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let store = state.ports.store.as_ref();
    let alerts = store
        .list_alerts(200)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|a| AlertView {
            raised_at: show_time(a.raised_at),
            signal: a.signal,
            severity: a.severity,
            account: id_text(a.account_id),
            organisation: id_text(a.organisation_id),
            action: a.action,
            detail: a.detail,
        })
        .collect();
    let switches = store
        .list_active_kill_switches()
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|s| SwitchView {
            scope: s.scope.to_string(),
            reason: s.reason.unwrap_or_default(),
            since: show_time(s.engaged_at),
        })
        .collect();
    let suspensions = store
        .list_active_suspensions()
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|s| SuspensionView {
            subject: s.subject.code().to_string(),
            id: s.subject_id,
            organisation: s.organisation_id,
            signal: s.signal,
            reason: s.reason,
            since: show_time(s.suspended_at),
        })
        .collect();
    Ok(GuardPage {
        operator: true,
        csrf: visitor.csrf,
        notice,
        may_act: visitor.actor.role == domain::accounts::Role::OperatorAdmin,
        alerts,
        switches,
        suspensions,
    }
    .into_response())
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match require_visitor(&state, &headers).await? {
        Ok(v) if v.actor.is_operator() => render(&state, v, None).await,
        Ok(_) => Err(ApiError::not_found()),
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Debug, Deserialize)]
struct SwitchForm {
    csrf: String,
    /// `off` (switch lookups off) or `on` (back on).
    action: String,
    scope: String,
    reason: Option<String>,
}

async fn set_switch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SwitchForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    if !visitor.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let scope = match Scope::parse(&form.scope) {
        Ok(s) => s,
        Err(e) => return render(&state, visitor, Some(format!("Not done: {e}"))).await,
    };
    let result = match form.action.as_str() {
        "off" => state
            .guard
            .switch_off(Some(&visitor.actor), scope.clone(), form.reason)
            .await
            .map(|_| format!("Lookups switched off for {scope}.")),
        "on" => state
            .guard
            .switch_on(Some(&visitor.actor), scope.clone())
            .await
            .map(|_| format!("Lookups switched back on for {scope}.")),
        _ => Err(GuardError::Invalid("action: off or on".into())),
    };
    let notice = match result {
        Ok(n) => n,
        Err(GuardError::NotFound) => format!("Not done: lookups were not off for {scope}."),
        Err(GuardError::Invalid(d)) => format!("Not done: {d}"),
        Err(GuardError::StepUpRequired) => "This needs a fresh passkey check: press \"Confirm with my passkey\", then submit again.".into(),
        Err(e) => return Err(guard_error(e)),
    };
    render(&state, visitor, Some(notice)).await
}

#[derive(Debug, Deserialize)]
struct LiftForm {
    csrf: String,
    subject: String,
    id: String,
}

async fn lift(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LiftForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    if !visitor.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let subject = Subject::parse(form.subject.trim())
        .ok_or_else(|| ApiError::unprocessable("subject: account or organisation"))?;
    let id: Uuid = form
        .id
        .trim()
        .parse()
        .map_err(|_| ApiError::unprocessable("id: not an id"))?;
    let notice = match state
        .guard
        .lift_ledgered(&state.ledger, Some(&visitor.actor), "", subject, id)
        .await
    {
        Ok(_) => format!("Suspension of {} {id} lifted.", subject.code()),
        Err(GuardError::NotFound) => "Not done: no open suspension for it.".into(),
        Err(GuardError::StepUpRequired) => "Lifting needs a fresh passkey check: press \"Confirm with my passkey\", then submit again.".into(),
        Err(e) => return Err(guard_error(e)),
    };
    render(&state, visitor, Some(notice)).await
}
