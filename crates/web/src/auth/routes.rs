//! `/api/v1/auth/*` (enrolment, sign-in, logout, step-up) and `/api/v1/me*` (who am I, my
//! passkeys).

use super::limit::CeremonyRate;
use super::{Authenticated, SameOrigin, access, clear_cookie, problem, session_cookie};
use crate::AppState;
use crate::error::{ApiError, Json};
use app::accounts::{
    Access, Assertion, Attestation, CreationOptions, NewSession, PasskeyInfo, RequestOptions,
};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::accounts::{OrganisationKind, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolStart {
    /// The invitation token from the enrolment link.
    pub invitation: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolFinish {
    pub invitation: String,
    /// The `PublicKeyCredential` returned by `navigator.credentials.create` (JSON form).
    #[schema(value_type = Object)]
    pub credential: Attestation,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreationOptionsBody {
    /// The ceremony to name when finishing (enrolment finds it from the invitation).
    pub ceremony: Option<Uuid>,
    /// `PublicKeyCredentialCreationOptions` for `navigator.credentials.create`.
    #[schema(value_type = Object)]
    pub options: CreationOptions,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginStart {}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOptionsBody {
    /// The ceremony id to send back with the assertion.
    pub ceremony: Uuid,
    /// `PublicKeyCredentialRequestOptions` for `navigator.credentials.get` (no allowed
    /// credentials: the authenticator offers its discoverable ones).
    #[schema(value_type = Object)]
    pub options: RequestOptions,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertionBody {
    pub ceremony: Uuid,
    /// The `PublicKeyCredential` returned by `navigator.credentials.get` (JSON form).
    #[schema(value_type = Object)]
    pub credential: Assertion,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddPasskeyFinish {
    pub ceremony: Uuid,
    #[schema(value_type = Object)]
    pub credential: Attestation,
    /// A name for the new passkey ("phone", "security key"); at most 100 characters.
    pub label: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationRef {
    pub id: Uuid,
    #[schema(value_type = String, example = "practice")]
    pub kind: OrganisationKind,
    pub name: String,
}

/// Who is signed in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The account, or for a machine the client certificate's id.
    pub account_id: Uuid,
    /// `person` (a passkey session) or `machine` (a client certificate).
    #[schema(example = "person")]
    pub kind: String,
    #[schema(value_type = String, example = "professional")]
    pub role: Role,
    pub display_name: String,
    pub organisation: OrganisationRef,
    /// The last user-verified assertion of this session (sign-in or step-up).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_uv_at: Option<OffsetDateTime>,
}

/// A new session; its id is only in the `Set-Cookie` header (HttpOnly).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    pub me: Me,
    /// The absolute end of the session.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    /// The session ends after this many seconds without a request.
    pub idle_timeout_seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepUpBody {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_uv_at: OffsetDateTime,
    /// Sensitive actions are allowed until then.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Passkey {
    pub id: Uuid,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
}

impl From<PasskeyInfo> for Passkey {
    fn from(p: PasskeyInfo) -> Self {
        Self {
            id: p.id,
            label: p.label,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyList {
    pub passkeys: Vec<Passkey>,
}

async fn session_response(access: &Access, new: NewSession) -> Result<Response, ApiError> {
    let org = access
        .ports()
        .store
        .get_organisation(new.account.organisation_id)
        .await
        .map_err(|e| problem(e.into()))?;
    let body = SessionBody {
        me: Me {
            account_id: new.account.id,
            kind: "person".into(),
            role: new.account.role,
            display_name: new.account.display_name.clone(),
            organisation: OrganisationRef {
                id: org.id,
                kind: org.kind,
                name: org.name,
            },
            last_uv_at: Some(new.session.last_uv_at),
        },
        expires_at: new.session.expires_at,
        idle_timeout_seconds: access.config().session_idle.whole_seconds(),
    };
    let cookie = session_cookie(access, &new.token)?;
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Enrolment, step 1: the passkey creation options for an invitation.
#[utoipa::path(post, path = "/api/v1/auth/enrol/start", tag = "access", request_body = EnrolStart,
    responses((status = 200, body = CreationOptionsBody), (status = 400, description = "Unknown, used or expired invitation", body = crate::Problem), (status = 429, description = "Too many ceremonies from this address (retry-after)", body = crate::Problem)))]
pub async fn enrol_start(
    State(state): State<AppState>,
    _: CeremonyRate,
    _: SameOrigin,
    Json(body): Json<EnrolStart>,
) -> Result<Json<CreationOptionsBody>, ApiError> {
    let access = access(&state)?;
    let options = access
        .enrol_start(&body.invitation)
        .await
        .map_err(problem)?;
    Ok(Json(CreationOptionsBody {
        ceremony: None,
        options,
    }))
}

/// Enrolment, step 2: verifies the new passkey, uses up the invitation, opens a session.
#[utoipa::path(post, path = "/api/v1/auth/enrol/finish", tag = "access", request_body = EnrolFinish,
    responses((status = 200, body = SessionBody, description = "Signed in; the session is in Set-Cookie"), (status = 400, body = crate::Problem)))]
pub async fn enrol_finish(
    State(state): State<AppState>,
    _: CeremonyRate,
    _: SameOrigin,
    Json(body): Json<EnrolFinish>,
) -> Result<Response, ApiError> {
    let access = access(&state)?;
    let new = access
        .enrol_finish(&body.invitation, &body.credential)
        .await
        .map_err(problem)?;
    session_response(access, new).await
}

/// Sign-in, step 1: request options for a discoverable passkey, and the ceremony id.
#[utoipa::path(post, path = "/api/v1/auth/login/start", tag = "access", request_body = LoginStart,
    responses((status = 200, body = RequestOptionsBody), (status = 429, description = "Too many ceremonies from this address (retry-after)", body = crate::Problem)))]
pub async fn login_start(
    State(state): State<AppState>,
    _: CeremonyRate,
    _: SameOrigin,
    Json(_): Json<LoginStart>,
) -> Result<Json<RequestOptionsBody>, ApiError> {
    let access = access(&state)?;
    let (ceremony, options) = access.login_start().await.map_err(problem)?;
    Ok(Json(RequestOptionsBody { ceremony, options }))
}

/// Sign-in, step 2: verifies the assertion (origin, challenge, user verification, counter) and
/// opens a new session.
#[utoipa::path(post, path = "/api/v1/auth/login/finish", tag = "access", request_body = AssertionBody,
    responses((status = 200, body = SessionBody, description = "Signed in; the session is in Set-Cookie"), (status = 400, body = crate::Problem)))]
pub async fn login_finish(
    State(state): State<AppState>,
    _: CeremonyRate,
    _: SameOrigin,
    Json(body): Json<AssertionBody>,
) -> Result<Response, ApiError> {
    let access = access(&state)?;
    let new = access
        .login_finish(body.ceremony, &body.credential)
        .await
        .map_err(problem)?;
    session_response(access, new).await
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "access",
    responses((status = 204, description = "Signed out"), (status = 401, body = crate::Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    let access = access(&state)?;
    access.logout(&actor).await.map_err(problem)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(access));
    Ok(response)
}

/// Step-up, step 1: request options for the caller's own passkeys.
#[utoipa::path(post, path = "/api/v1/auth/step-up/start", tag = "access",
    responses((status = 200, body = RequestOptionsBody), (status = 401, body = crate::Problem)))]
pub async fn step_up_start(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<RequestOptionsBody>, ApiError> {
    let access = access(&state)?;
    let (ceremony, options) = access.step_up_start(&actor).await.map_err(problem)?;
    Ok(Json(RequestOptionsBody { ceremony, options }))
}

/// Step-up, step 2: a fresh user-verified assertion; sensitive actions are allowed for 5 min.
#[utoipa::path(post, path = "/api/v1/auth/step-up/finish", tag = "access", request_body = AssertionBody,
    responses((status = 200, body = StepUpBody), (status = 400, body = crate::Problem), (status = 401, body = crate::Problem)))]
pub async fn step_up_finish(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<AssertionBody>,
) -> Result<Json<StepUpBody>, ApiError> {
    let access = access(&state)?;
    let at = access
        .step_up_finish(&actor, body.ceremony, &body.credential)
        .await
        .map_err(problem)?;
    Ok(Json(StepUpBody {
        last_uv_at: at,
        valid_until: at + access.config().step_up_window,
    }))
}

/// Who is signed in: role, organisation, display name; for a machine, its client certificate.
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    responses((status = 200, body = Me), (status = 401, body = crate::Problem)))]
pub async fn me(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Me>, ApiError> {
    // A machine (client certificate) has no account and no session: it is what its
    // certificate says.
    if actor.session_id.is_none() {
        let org = state
            .ports
            .store
            .get_organisation(actor.organisation_id)
            .await
            .map_err(|e| problem(e.into()))?;
        return Ok(Json(Me {
            account_id: actor.account_id,
            kind: "machine".into(),
            role: actor.role,
            display_name: actor.display_name,
            organisation: OrganisationRef {
                id: org.id,
                kind: org.kind,
                name: org.name,
            },
            last_uv_at: None,
        }));
    }
    let access = access(&state)?;
    let (account, org) = access.me(&actor).await.map_err(problem)?;
    Ok(Json(Me {
        account_id: account.id,
        kind: "person".into(),
        role: account.role,
        display_name: account.display_name,
        organisation: OrganisationRef {
            id: org.id,
            kind: org.kind,
            name: org.name,
        },
        last_uv_at: actor.last_uv_at,
    }))
}

/// The caller's passkeys.
#[utoipa::path(get, path = "/api/v1/me/passkeys", tag = "access",
    responses((status = 200, body = PasskeyList), (status = 401, body = crate::Problem)))]
pub async fn list_passkeys(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<PasskeyList>, ApiError> {
    let access = access(&state)?;
    let passkeys = access.list_passkeys(&actor).await.map_err(problem)?;
    Ok(Json(PasskeyList {
        passkeys: passkeys.into_iter().map(Passkey::from).collect(),
    }))
}

/// Removes one of the caller's passkeys (never the last one).
#[utoipa::path(delete, path = "/api/v1/me/passkeys/{id}", tag = "access",
    params(("id" = Uuid, Path, description = "The passkey")),
    responses((status = 204, description = "Removed"), (status = 401, body = crate::Problem), (status = 404, body = crate::Problem), (status = 409, description = "The last passkey", body = crate::Problem)))]
pub async fn delete_passkey(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let access = access(&state)?;
    access.delete_passkey(&actor, id).await.map_err(problem)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adding a passkey, step 1 (needs a step-up less than 5 minutes old).
#[utoipa::path(post, path = "/api/v1/me/passkeys/start", tag = "access",
    responses((status = 200, body = CreationOptionsBody), (status = 401, body = crate::Problem), (status = 403, description = "step-up-required", body = crate::Problem)))]
pub async fn add_passkey_start(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<CreationOptionsBody>, ApiError> {
    let access = access(&state)?;
    let (ceremony, options) = access.add_passkey_start(&actor).await.map_err(problem)?;
    Ok(Json(CreationOptionsBody {
        ceremony: Some(ceremony),
        options,
    }))
}

/// Adding a passkey, step 2.
#[utoipa::path(post, path = "/api/v1/me/passkeys/finish", tag = "access", request_body = AddPasskeyFinish,
    responses((status = 200, body = Passkey), (status = 400, body = crate::Problem), (status = 401, body = crate::Problem), (status = 403, body = crate::Problem)))]
pub async fn add_passkey_finish(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<AddPasskeyFinish>,
) -> Result<Json<Passkey>, ApiError> {
    let access = access(&state)?;
    let info = access
        .add_passkey_finish(
            &actor,
            body.ceremony,
            &body.credential,
            body.label.as_deref(),
        )
        .await
        .map_err(problem)?;
    Ok(Json(info.into()))
}
