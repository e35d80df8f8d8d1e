//! The operator console (server-rendered): organisations and their accounts, and for operator
//! administrators the invitation form (POST with the synchronizer token, after a step-up; the
//! resulting link is shown once, in that response only).
//!
//! Only operators see it: anyone else gets the same 404 as a missing page.

use crate::AppState;
use crate::auth::accounts::parse_professional_id;
use crate::auth::{access, problem};
use crate::error::ApiError;
use crate::portal::{Visitor, form_visitor, require_visitor};
use app::accounts::{AccessError, InviteRequest};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::accounts::Role;
use serde::Deserialize;
use uuid::Uuid;

/// The console routes (merged into the application by `crate::router`).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console", get(console))
        .route("/console/invitations", post(invite))
}

const ROLES: [&str; 5] = [
    "professional",
    "insurer_staff",
    "operator_admin",
    "operator_analyst",
    "auditor",
];

struct AccountView {
    display_name: String,
    role: String,
    status: String,
}

struct OrganisationView {
    id: Uuid,
    name: String,
    kind: String,
    accounts: Vec<AccountView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console.html")]
struct ConsolePage {
    operator: bool,
    csrf: String,
    notice: Option<String>,
    new_link: Option<String>,
    may_invite: bool,
    roles: [&'static str; 5],
    organisations: Vec<OrganisationView>,
}

async fn console_page(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
    new_link: Option<String>,
) -> Result<ConsolePage, ApiError> {
    let access = access(state)?;
    let actor = &visitor.actor;
    let orgs = access.list_organisations(actor).await.map_err(problem)?;
    let mut organisations = Vec::with_capacity(orgs.len());
    for org in orgs {
        let accounts = access.list_accounts(actor, org.id).await.map_err(problem)?;
        organisations.push(OrganisationView {
            id: org.id,
            name: org.name,
            kind: org.kind.to_string(),
            accounts: accounts
                .into_iter()
                .map(|a| AccountView {
                    display_name: a.display_name,
                    role: a.role.code().to_string(),
                    status: a.status.code().to_string(),
                })
                .collect(),
        });
    }
    Ok(ConsolePage {
        operator: true,
        csrf: visitor.csrf,
        notice,
        new_link,
        may_invite: actor.role == Role::OperatorAdmin,
        roles: ROLES,
        organisations,
    })
}

/// Operators only: a visitor without a session goes to `/login`, a non-operator gets 404.
async fn operator(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<Visitor, Response>, ApiError> {
    Ok(match require_visitor(state, headers).await? {
        Ok(v) if v.actor.is_operator() => Ok(v),
        Ok(_) => return Err(ApiError::not_found()),
        Err(redirect) => Err(redirect),
    })
}

async fn console(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let visitor = match operator(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    Ok(console_page(&state, visitor, None, None)
        .await?
        .into_response())
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    csrf: String,
    role: String,
    organisation_id: String,
    display_name: Option<String>,
    professional_id: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Makes an invitation (operator administrators, after a step-up) and shows its link once.
async fn invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    if !visitor.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let access = access(&state)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| ApiError::unprocessable("unknown role"))?;
    let organisation_id: Uuid = form
        .organisation_id
        .trim()
        .parse()
        .map_err(|_| ApiError::unprocessable("unknown organisation"))?;
    let professional_id = non_empty(form.professional_id)
        .as_deref()
        .map(parse_professional_id)
        .transpose()?;
    let request = InviteRequest {
        role,
        organisation_id,
        display_name: non_empty(form.display_name),
        professional_id,
    };
    let (notice, link) = match access.invite(Some(&visitor.actor), request).await {
        Ok(new) => (
            Some(format!(
                "Invitation made for {} in {}.",
                new.role.code(),
                new.organisation_name
            )),
            Some(new.link),
        ),
        Err(AccessError::StepUpRequired) => (
            Some(
                "Inviting needs a fresh passkey check: press \"Confirm with my passkey\", then submit again."
                    .to_string(),
            ),
            None,
        ),
        Err(AccessError::Invalid(detail)) => (Some(format!("Not made: {detail}")), None),
        Err(e) => return Err(problem(e)),
    };
    Ok(console_page(&state, visitor, notice, link)
        .await?
        .into_response())
}
