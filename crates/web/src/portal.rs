//! Web pages for people (server-rendered with askama, no JS framework): home, sign-in,
//! enrolment from an invitation link, "my account" (passkeys: list, add after a step-up,
//! revoke), sign-out; and the two static assets, `/static/webauthn.js` (the only script: it
//! drives the JSON passkey ceremonies of `crate::auth`) and `/static/rempart.css`.
//!
//! No inline script or style anywhere (the CSP has no `unsafe-inline`). Pages that show data
//! need the session cookie, and send a visitor without one to `/login`. HTML forms that change
//! state carry the session's synchronizer token (hidden field `csrf`) and pass the Origin check.

pub mod claims;
pub mod payments;
pub mod rights;

use crate::AppState;
use crate::auth::{
    access, check_form_token, check_same_origin, clear_cookie, cookie_name, problem, session_token,
};
use crate::error::ApiError;
use app::accounts::{AccessError, Actor};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// The passkey script (served as `/static/webauthn.js`).
pub const WEBAUTHN_JS: &str = include_str!("../static/webauthn.js");
/// The stylesheet (served as `/static/rempart.css`).
pub const REMPART_CSS: &str = include_str!("../static/rempart.css");

/// The page routes (merged into the application by `crate::router`).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/enrol", get(enrol))
        .route("/me", get(me))
        .route("/me/passkeys/{id}/revoke", post(revoke_passkey))
        .route("/logout", post(logout))
        .merge(rights::router())
        .merge(claims::router())
        .merge(payments::router())
        .route("/static/webauthn.js", get(webauthn_js))
        .route("/static/rempart.css", get(rempart_css))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn webauthn_js() -> Response {
    asset("text/javascript; charset=utf-8", WEBAUTHN_JS)
}

async fn rempart_css() -> Response {
    asset("text/css; charset=utf-8", REMPART_CSS)
}

/// A file to download: `body` as `content_type`, saved as `filename` (no-store: the pages'
/// downloads are someone's data).
pub(crate) fn attachment(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    filename: &str,
) -> Response {
    let mut response = Response::new(body.into());
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A date for people (UTC, to the minute).
pub(crate) fn show_time(at: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.format(&f).unwrap_or_default()
}

/// The signed-in visitor of a page: the actor and the form token of their session.
pub(crate) struct Visitor {
    pub actor: Actor,
    pub csrf: String,
}

/// The page's visitor, `None` without a valid session.
pub(crate) async fn visitor(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Visitor>, ApiError> {
    let access = access(state)?;
    let Some(token) = session_token(headers, cookie_name(access)) else {
        return Ok(None);
    };
    match access.authenticate(&token).await {
        Ok(actor) => Ok(Some(Visitor {
            actor,
            csrf: access.form_token(&token),
        })),
        Err(AccessError::Unauthenticated) => Ok(None),
        Err(e) => Err(problem(e)),
    }
}

/// The visitor of a data page, or a redirection to `/login`. A suspended account (or
/// organisation) gets the guard's 403 saying whom to contact, as on the API.
pub(crate) async fn require_visitor(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<Visitor, Response>, ApiError> {
    Ok(match visitor(state, headers).await? {
        Some(v) => {
            not_suspended(state, &v).await?;
            Ok(v)
        }
        None => Err(Redirect::to("/login").into_response()),
    })
}

async fn not_suspended(state: &AppState, visitor: &Visitor) -> Result<(), ApiError> {
    state
        .guard
        .check_suspended(&visitor.actor)
        .await
        .map_err(|r| crate::guard::problem(&r))
}

/// The origin check for HTML forms. Our pages send `Referrer-Policy: no-referrer`, so a
/// browser submits their forms with `Origin: null`; then `Sec-Fetch-Site: same-origin` (which
/// no page script can set) is required instead. Any other `Origin` must be `rp_origin`.
fn check_form_origin(headers: &HeaderMap, rp_origin: &str) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin.is_some_and(|o| o.trim() == "null") {
        let mut without = headers.clone();
        without.remove(header::ORIGIN);
        return check_same_origin(&Method::POST, &without, rp_origin);
    }
    check_same_origin(&Method::POST, headers, rp_origin)
}

/// A state-changing form: the Origin check, a session, the form's synchronizer token, and
/// an account that is not suspended.
pub(crate) async fn form_visitor(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Visitor, ApiError> {
    let visitor = signed_in_form(state, headers, csrf).await?;
    not_suspended(state, &visitor).await?;
    Ok(visitor)
}

/// The same checks but the suspension: signing out is always allowed.
async fn signed_in_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Visitor, ApiError> {
    let access = access(state)?;
    check_form_origin(headers, &access.config().rp_origin)?;
    let visitor = visitor(state, headers)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    check_form_token(state, headers, csrf)?;
    Ok(visitor)
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage;

async fn home() -> HomePage {
    HomePage
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage;

async fn login() -> LoginPage {
    LoginPage
}

struct InvitationView {
    token: String,
    role: String,
    organisation: String,
    organisation_kind: String,
    display_name: Option<String>,
    expires_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "enrol.html")]
struct EnrolPage {
    invitation: Option<InvitationView>,
}

#[derive(Debug, Deserialize)]
struct EnrolQuery {
    invitation: Option<String>,
}

/// The enrolment page: what the invitation is for, then the button that creates the passkey.
/// An unknown, used or expired invitation shows a message (and nothing about any invitation).
async fn enrol(
    State(state): State<AppState>,
    Query(query): Query<EnrolQuery>,
) -> Result<EnrolPage, ApiError> {
    let access = access(&state)?;
    let token = query.invitation.unwrap_or_default();
    let invitation = match access.invitation_preview(&token).await {
        Ok((inv, org)) => Some(InvitationView {
            token,
            role: inv.role.code().to_string(),
            organisation: org.name,
            organisation_kind: org.kind.to_string(),
            display_name: inv.display_name,
            expires_at: show_time(inv.expires_at),
        }),
        Err(AccessError::InvalidInvitation) => None,
        Err(e) => return Err(problem(e)),
    };
    Ok(EnrolPage { invitation })
}

struct PasskeyView {
    id: Uuid,
    label: String,
    created_at: String,
    last_used_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "me.html")]
struct MePage {
    operator: bool,
    csrf: String,
    notice: Option<String>,
    display_name: String,
    role: String,
    organisation: String,
    organisation_kind: String,
    passkeys: Vec<PasskeyView>,
    work: Vec<(&'static str, &'static str)>,
}

/// The pages of a role's daily work (path, title), linked from "my account".
fn work_of(role: domain::accounts::Role) -> Vec<(&'static str, &'static str)> {
    use domain::accounts::Role;
    match role {
        Role::Professional => vec![
            ("/rights", "Rights check"),
            ("/approvals", "Prior approval"),
            ("/invoices", "Invoices"),
            ("/payments", "Payments received"),
        ],
        Role::InsurerStaff => vec![
            ("/insurer/contracts", "Contracts"),
            ("/insurer/billing", "Billing statements"),
        ],
        Role::OperatorAdmin | Role::OperatorAnalyst => vec![
            ("/console", "Console"),
            ("/console/payments", "Payment runs"),
            ("/console/iban", "IBAN changes"),
            ("/insurer/billing", "Insurers' billing statements"),
        ],
        Role::Auditor => vec![("/console/ledger", "Access ledger")],
    }
}

async fn me_page(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
) -> Result<MePage, ApiError> {
    let access = access(state)?;
    let actor = &visitor.actor;
    let (account, org) = access.me(actor).await.map_err(problem)?;
    let passkeys = access.list_passkeys(actor).await.map_err(problem)?;
    Ok(MePage {
        operator: actor.is_operator(),
        csrf: visitor.csrf,
        notice,
        display_name: account.display_name,
        role: account.role.code().to_string(),
        organisation: org.name,
        organisation_kind: org.kind.to_string(),
        passkeys: passkeys
            .into_iter()
            .map(|p| PasskeyView {
                id: p.id,
                label: p.label,
                created_at: show_time(p.created_at),
                last_used_at: p.last_used_at.map(show_time).unwrap_or_default(),
            })
            .collect(),
        work: work_of(actor.role),
    })
}

/// Who am I, my passkeys.
async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    Ok(me_page(&state, visitor, None).await?.into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

impl CsrfForm {
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Revokes one of the visitor's passkeys (never the last one).
async fn revoke_passkey(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    let access = access(&state)?;
    let notice = match access.delete_passkey(&visitor.actor, id).await {
        Ok(()) => "The passkey was revoked.".to_string(),
        Err(AccessError::LastPasskey) => {
            "This is your last passkey: add another one before revoking it.".to_string()
        }
        Err(e) => return Err(problem(e)),
    };
    Ok(me_page(&state, visitor, Some(notice))
        .await?
        .into_response())
}

/// Ends the session, clears the cookie and goes home.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let visitor = signed_in_form(&state, &headers, &form.csrf).await?;
    let access = access(&state)?;
    access.logout(&visitor.actor).await.map_err(problem)?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(access));
    Ok(response)
}
