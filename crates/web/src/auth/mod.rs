//! People's access over HTTP: passkey ceremonies (JSON, any WebAuthn client can drive them),
//! the session cookie, CSRF checks, and the [`Authenticated`] extractor that turns a request
//! into an [`Actor`] (or a 401 problem). Decisions about who may do what live in
//! `app::accounts`; this module only carries them.
//!
//! - Cookie `__Host-rempart` (`Secure; HttpOnly; SameSite=Strict; Path=/`); when `rp_origin`
//!   is plain-HTTP (the demo on `http://localhost:PORT`), `rempart` without `Secure`.
//! - CSRF: every state-changing request that relies on the cookie (and the sign-in
//!   ceremonies) must carry `Origin: <rp_origin>` or `Sec-Fetch-Site: same-origin`; HTML
//!   forms add the synchronizer token of [`form_token`] (hidden field `csrf`).
//! - Machines (mutual TLS, [`crate::tls`]) produce the same [`Actor`] from their client
//!   certificate in [`Authenticated`] (`app::machines`), with no session and no step-up.

pub mod accounts;
pub mod limit;
pub mod routes;

use crate::AppState;
use crate::error::ApiError;
use app::accounts::{Access, AccessError, Actor};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};

/// The cookie name over HTTPS (the `__Host-` prefix pins it to this host, path `/`, Secure).
pub const COOKIE_SECURE: &str = "__Host-rempart";
/// The cookie name on plain-HTTP localhost (the demo): browsers refuse `__Host-` without TLS.
pub const COOKIE_PLAIN: &str = "rempart";

/// The access use cases, or 503 when this server was started without them.
pub(crate) fn access(state: &AppState) -> Result<&Access, ApiError> {
    state
        .access
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("Sign-in is not configured on this server."))
}

/// The session cookie's name for this configuration.
pub fn cookie_name(access: &Access) -> &'static str {
    if access.config().is_https() {
        COOKIE_SECURE
    } else {
        COOKIE_PLAIN
    }
}

/// `Set-Cookie` for a new session.
pub(crate) fn session_cookie(access: &Access, token: &str) -> Result<HeaderValue, ApiError> {
    let secure = if access.config().is_https() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict{secure}",
        cookie_name(access)
    ))
    .map_err(ApiError::internal)
}

/// `Set-Cookie` that removes the session cookie.
pub(crate) fn clear_cookie(access: &Access) -> HeaderValue {
    let value = if access.config().is_https() {
        "__Host-rempart=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0"
    } else {
        "rempart=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    };
    HeaderValue::from_static(value)
}

/// The session cookie's value in the request, if any.
pub fn session_token(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF check: a state-changing request must come from our own origin (`Origin` equal to
/// `rp_origin`, or, without `Origin`, `Sec-Fetch-Site: same-origin`). Safe methods pass.
pub fn check_same_origin(
    method: &Method,
    headers: &HeaderMap,
    rp_origin: &str,
) -> Result<(), ApiError> {
    if is_safe(method) {
        return Ok(());
    }
    let refused = || {
        ApiError::forbidden(
            "csrf",
            "This request did not come from rempart's own pages (Origin check).",
        )
    };
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        Some(Ok(origin)) if origin.trim_end_matches('/') == rp_origin => Ok(()),
        Some(_) => Err(refused()),
        None => match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            Some("same-origin") => Ok(()),
            _ => Err(refused()),
        },
    }
}

/// The synchronizer token for HTML forms of the request's session (`None` without one).
pub fn form_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let access = state.access.as_ref()?;
    let token = session_token(headers, cookie_name(access))?;
    Some(access.form_token(&token))
}

/// Checks a form's synchronizer token against the request's session.
pub fn check_form_token(
    state: &AppState,
    headers: &HeaderMap,
    presented: &str,
) -> Result<(), ApiError> {
    let ok = state.access.as_ref().is_some_and(|access| {
        session_token(headers, cookie_name(access))
            .is_some_and(|t| access.check_form_token(&t, presented))
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "csrf",
            "The form is stale or did not come from rempart's own pages; reload it.",
        ))
    }
}

/// The signed-in caller: a valid session cookie (and, for state-changing requests, the
/// same-origin check). Without one: 401 problem.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A machine on the mutual-TLS listener: its verified certificate, never a cookie.
        if let Some(peer) = parts
            .extensions
            .get::<crate::tls::PeerCertificate>()
            .copied()
        {
            let actor = app::machines::authenticate(
                state.ports.store.as_ref(),
                state.ports.clock.now(),
                &peer.fingerprint,
            )
            .await
            .map_err(problem)?;
            // A browser holding a client certificate would send it to any site's request:
            // a state-changing request that says it comes from a browser must be same-origin.
            let from_browser = parts.headers.contains_key(header::ORIGIN)
                || parts.headers.contains_key("sec-fetch-site");
            if let (true, Some(access)) = (from_browser, state.access.as_ref()) {
                check_same_origin(&parts.method, &parts.headers, &access.config().rp_origin)?;
            }
            suspended(state, &actor).await?;
            return Ok(Authenticated(actor));
        }
        let access = access(state)?;
        let token = session_token(&parts.headers, cookie_name(access))
            .ok_or_else(ApiError::unauthorized)?;
        let actor = access.authenticate(&token).await.map_err(problem)?;
        check_same_origin(&parts.method, &parts.headers, &access.config().rp_origin)?;
        suspended(state, &actor).await?;
        Ok(Authenticated(actor))
    }
}

/// A suspended account (or organisation) gets the guard's 403 problem on every route that
/// takes [`Authenticated`], saying whom to contact; nothing else is answered.
async fn suspended(state: &AppState, actor: &Actor) -> Result<(), ApiError> {
    state
        .guard
        .check_suspended(actor)
        .await
        .map_err(|r| crate::guard::problem(&r))
}

/// The same-origin check alone, for the sign-in ceremonies (no session yet).
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = access(state)?;
        check_same_origin(&parts.method, &parts.headers, &access.config().rp_origin)?;
        Ok(SameOrigin)
    }
}

/// 403 `step-up-required` unless the actor's session holds a user-verified assertion at most
/// `window` old (5 minutes by default; see `Access::require_step_up`).
pub fn require_step_up(
    actor: &Actor,
    now: time::OffsetDateTime,
    window: time::Duration,
) -> Result<(), ApiError> {
    app::accounts::require_step_up(actor, now, window).map_err(problem)
}

/// How old a passkey check may be for a sensitive action (the configuration's; 5 minutes
/// when people's access is not configured).
pub fn step_up_window(state: &AppState) -> time::Duration {
    state
        .access
        .as_ref()
        .map_or(time::Duration::minutes(5), |a| a.config().step_up_window)
}

/// The problem for an access refusal.
pub fn problem(e: AccessError) -> ApiError {
    match e {
        AccessError::Unauthenticated => ApiError::unauthorized(),
        AccessError::Forbidden => {
            ApiError::forbidden("forbidden", "Your role does not allow this.")
        }
        AccessError::StepUpRequired => ApiError::forbidden(
            "step-up-required",
            "This action needs a fresh passkey check: POST /api/v1/auth/step-up/start, then finish, then retry.",
        ),
        AccessError::NotFound => ApiError::not_found(),
        AccessError::InvalidInvitation => ApiError::bad_request_kind(
            "invalid-invitation",
            "This invitation is unknown, already used or expired; ask the operator for a new one.",
        ),
        AccessError::CeremonyFailed => ApiError::bad_request_kind(
            "ceremony-failed",
            "The passkey check failed or its challenge is unknown, used or expired; start again.",
        ),
        AccessError::Invalid(detail) => ApiError::unprocessable(detail),
        AccessError::LastPasskey => ApiError::conflict(
            "The last passkey of an account cannot be removed; add another first.",
        ),
        AccessError::Store(app::StoreError::Unavailable(cause)) => {
            ApiError::unavailable("The service cannot answer now; retry shortly.")
                .with_internal(cause)
        }
        AccessError::Store(app::StoreError::Retryable) => {
            ApiError::unavailable("The service is busy; retry shortly.")
        }
        AccessError::Store(other) => ApiError::internal(other),
        AccessError::Internal(cause) => ApiError::internal(cause),
    }
}

/// The access routes (merged into the application by `crate::router`).
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route("/api/v1/auth/enrol/start", post(routes::enrol_start))
        .route("/api/v1/auth/enrol/finish", post(routes::enrol_finish))
        .route("/api/v1/auth/login/start", post(routes::login_start))
        .route("/api/v1/auth/login/finish", post(routes::login_finish))
        .route("/api/v1/auth/logout", post(routes::logout))
        .route("/api/v1/auth/step-up/start", post(routes::step_up_start))
        .route("/api/v1/auth/step-up/finish", post(routes::step_up_finish))
        .route("/api/v1/me", get(routes::me))
        .route("/api/v1/me/passkeys", get(routes::list_passkeys))
        .route("/api/v1/me/passkeys/{id}", delete(routes::delete_passkey))
        .route("/api/v1/me/passkeys/start", post(routes::add_passkey_start))
        .route(
            "/api/v1/me/passkeys/finish",
            post(routes::add_passkey_finish),
        )
        .route("/api/v1/invitations", post(accounts::create_invitation))
        .route("/api/v1/organisations", get(accounts::list_organisations))
        .route("/api/v1/accounts", get(accounts::list_accounts))
}

/// The access part of the OpenAPI document (merged by `crate::openapi::document`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        routes::enrol_start, routes::enrol_finish, routes::login_start, routes::login_finish,
        routes::logout, routes::step_up_start, routes::step_up_finish, routes::me,
        routes::list_passkeys, routes::delete_passkey, routes::add_passkey_start,
        routes::add_passkey_finish, accounts::create_invitation, accounts::list_organisations,
        accounts::list_accounts,
    ),
    components(schemas(
        routes::EnrolStart, routes::EnrolFinish, routes::CreationOptionsBody, routes::LoginStart,
        routes::RequestOptionsBody, routes::AssertionBody, routes::AddPasskeyFinish,
        routes::OrganisationRef, routes::Me, routes::SessionBody, routes::StepUpBody,
        routes::Passkey, routes::PasskeyList, accounts::NewInvitationBody,
        accounts::InvitationBody, accounts::Organisation, accounts::OrganisationList,
        accounts::Account, accounts::AccountList,
    )),
    tags((name = "access", description = "Passkeys (WebAuthn, user verification required), sessions, step-up, invitations. No passwords: there is no password field anywhere in this API. A session is the HttpOnly cookie `__Host-rempart` (`rempart` on plain-HTTP localhost); state-changing requests must carry `Origin` equal to the configured origin (or `Sec-Fetch-Site: same-origin`)."))
)]
pub struct AuthApiDoc;
