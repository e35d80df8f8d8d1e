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
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
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
        .route(
            "/console/certificates",
            get(certificates).post(issue_certificate),
        )
        .route(
            "/console/certificates/{id}/revoke",
            post(revoke_certificate),
        )
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

/// The HTML "not found" page (404), the same for a missing page and a page the visitor may not
/// see.
#[derive(Template, WebTemplate)]
#[template(path = "not_found.html")]
struct NotFoundPage;

/// 404 as an HTML page.
pub(crate) fn not_found_page() -> Response {
    (StatusCode::NOT_FOUND, NotFoundPage).into_response()
}

/// Operators only: a visitor without a session goes to `/login`, a non-operator gets the HTML
/// 404 page (`Err` holds the response to send instead).
async fn operator(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<Visitor, Response>, ApiError> {
    Ok(match require_visitor(state, headers).await? {
        Ok(v) if v.actor.is_operator() => Ok(v),
        Ok(_) => Err(not_found_page()),
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
        return Ok(not_found_page());
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

// ---- client certificates (machines)

struct CertificateView {
    id: Uuid,
    organisation: String,
    name: String,
    role: String,
    serial: String,
    expires: String,
    status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_certificates.html")]
struct CertificatesPage {
    operator: bool,
    csrf: String,
    notice: Option<String>,
    may_manage: bool,
    can_issue: bool,
    roles: [&'static str; 5],
    organisations: Vec<OrganisationView>,
    certificates: Vec<CertificateView>,
}

async fn certificates_page(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
) -> Result<CertificatesPage, ApiError> {
    let access = access(state)?;
    let actor = &visitor.actor;
    let orgs = access.list_organisations(actor).await.map_err(problem)?;
    let names: std::collections::HashMap<Uuid, String> =
        orgs.iter().map(|o| (o.id, o.name.clone())).collect();
    let now = state.ports.clock.now();
    let certificates = app::machines::list(state.ports.store.as_ref(), actor)
        .await
        .map_err(problem)?
        .into_iter()
        .map(|c| CertificateView {
            id: c.id,
            organisation: names
                .get(&c.organisation_id)
                .cloned()
                .unwrap_or_else(|| c.organisation_id.to_string()),
            name: c.display_name,
            role: c.role.code().to_string(),
            serial: c.serial,
            expires: crate::portal::show_time(c.not_after),
            status: if c.revoked_at.is_some() {
                "revoked"
            } else if now >= c.not_after {
                "expired"
            } else {
                "active"
            },
        })
        .collect();
    Ok(CertificatesPage {
        operator: true,
        csrf: visitor.csrf,
        notice,
        may_manage: actor.role == Role::OperatorAdmin,
        can_issue: state.ca.is_some(),
        roles: ROLES,
        organisations: orgs
            .into_iter()
            .map(|o| OrganisationView {
                id: o.id,
                name: o.name,
                kind: o.kind.to_string(),
                accounts: Vec::new(),
            })
            .collect(),
        certificates,
    })
}

/// The client certificates (operators): organisation, name, serial, expiry, status.
async fn certificates(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let visitor = match operator(&state, &headers).await? {
        Ok(v) => v,
        Err(other) => return Ok(other),
    };
    Ok(certificates_page(&state, visitor, None)
        .await?
        .into_response())
}

#[derive(Debug, Deserialize)]
struct IssueForm {
    csrf: String,
    organisation_id: String,
    role: Option<String>,
    name: String,
    days: Option<String>,
}

const STEP_UP_NOTICE: &str =
    "This needs a fresh passkey check: press \"Confirm with my passkey\", then submit again.";

/// Issues a client certificate (operator administrators, after a step-up) and answers the
/// bundle once, as a download: certificate, private key, CA certificate (PEM).
async fn issue_certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<IssueForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    if !visitor.actor.is_operator() {
        return Ok(not_found_page());
    }
    let access = access(&state)?;
    let Some(ca) = state.ca.as_ref() else {
        let notice = "This server has no platform CA key: run `rempart ca init`.".to_string();
        return Ok(certificates_page(&state, visitor, Some(notice))
            .await?
            .into_response());
    };
    let organisation_id: Uuid = form
        .organisation_id
        .trim()
        .parse()
        .map_err(|_| ApiError::unprocessable("unknown organisation"))?;
    let role = match non_empty(form.role) {
        Some(r) => Some(
            r.parse::<Role>()
                .map_err(|_| ApiError::unprocessable("unknown role"))?,
        ),
        None => None,
    };
    let days = match non_empty(form.days) {
        Some(d) => d
            .parse::<u32>()
            .map_err(|_| ApiError::unprocessable("days must be a number of days"))?,
        None => 365,
    };
    let request = app::machines::IssueRequest {
        organisation_id,
        role,
        display_name: form.name,
        days,
    };
    let window = access.config().step_up_window;
    let notice = match app::machines::issue(
        &state.ports,
        ca.as_ref(),
        Some(&visitor.actor),
        window,
        &request,
    )
    .await
    {
        Ok(issued) => return Ok(bundle(&issued)),
        Err(AccessError::StepUpRequired) => STEP_UP_NOTICE.to_string(),
        Err(AccessError::Forbidden) => "Only operator administrators issue certificates.".into(),
        Err(AccessError::Invalid(detail)) => format!("Not issued: {detail}"),
        Err(e) => return Err(problem(e)),
    };
    Ok(certificates_page(&state, visitor, Some(notice))
        .await?
        .into_response())
}

/// The one-time download: certificate, private key and CA certificate, PEM.
fn bundle(issued: &app::machines::Issued) -> Response {
    let s = &issued.signed;
    let text = format!(
        "# rempart client certificate {id} ({name}); keep the private key secret.\n{cert}{key}{ca}",
        id = issued.record.id,
        name = issued.record.display_name,
        cert = s.cert_pem,
        key = s.key_pem,
        ca = s.ca_pem,
    );
    crate::portal::attachment(
        text,
        "application/x-pem-file",
        &format!("rempart-client-{}.pem", issued.record.id),
    )
}

/// Revokes a client certificate (operator administrators, after a step-up).
async fn revoke_certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<crate::portal::CsrfForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, form.csrf()).await?;
    if !visitor.actor.is_operator() {
        return Ok(not_found_page());
    }
    let access = access(&state)?;
    let window = access.config().step_up_window;
    let notice = match app::machines::revoke(&state.ports, &visitor.actor, window, id).await {
        Ok(()) => "The certificate was revoked: refused from its next request.".to_string(),
        Err(AccessError::StepUpRequired) => STEP_UP_NOTICE.to_string(),
        Err(AccessError::Forbidden) => "Only operator administrators revoke certificates.".into(),
        Err(AccessError::NotFound) => "No such certificate.".into(),
        Err(e) => return Err(problem(e)),
    };
    Ok(certificates_page(&state, visitor, Some(notice))
        .await?
        .into_response())
}
