//! The operator console's API for access: invitations, organisations, accounts.

use super::{Authenticated, access, problem};
use crate::AppState;
use crate::error::{ApiError, Json};
use crate::idempotency::{self, IdempotentJson};
use app::accounts::InviteRequest;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use domain::accounts::{OrganisationKind, ProfessionalId, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitationBody {
    #[schema(value_type = String, example = "professional")]
    pub role: Role,
    pub organisation_id: Uuid,
    pub display_name: Option<String>,
    /// For professionals: the RPPS or ADELI number checked by the operator, `rpps:NNNNNNNNNNN`
    /// or `adeli:NNNNNNNNN`.
    #[schema(example = "adeli:752812345")]
    pub professional_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationBody {
    /// The one-time token (also in `link`); it is a secret: give it to the invitee only.
    pub invitation: String,
    /// `<public_url>/enrol?invitation=…`
    pub link: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    #[schema(value_type = String, example = "insurer")]
    pub kind: OrganisationKind,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationList {
    pub organisations: Vec<Organisation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    pub organisation_id: Uuid,
    #[schema(value_type = String, example = "insurer_staff")]
    pub role: Role,
    pub display_name: String,
    #[schema(example = "active")]
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub accounts: Vec<Account>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccountsQuery {
    /// The organisation (default: the caller's own).
    pub organisation: Option<Uuid>,
}

/// Parses `rpps:NNN` / `adeli:NNN`.
pub fn parse_professional_id(text: &str) -> Result<ProfessionalId, ApiError> {
    let (kind, value) = text.split_once(':').ok_or_else(|| {
        ApiError::unprocessable("professional_id must be rpps:NUMBER or adeli:NUMBER")
    })?;
    ProfessionalId::parse(kind.trim(), value.trim())
        .map_err(|_| ApiError::unprocessable("professional_id is not a valid RPPS or ADELI number"))
}

/// Makes a one-time enrolment invitation (operator administrators, after a step-up). With an
/// `Idempotency-Key`, a retry answers the same invitation instead of making another.
#[utoipa::path(post, path = "/api/v1/invitations", tag = "access", request_body = NewInvitationBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters: a retry with the same key and body answers the first invitation again; another body, 422; while the first runs, 409.")),
    responses((status = 200, body = InvitationBody), (status = 401, body = crate::Problem), (status = 409, description = "A request with this Idempotency-Key is still running", body = crate::Problem),
        (status = 403, description = "Not an operator administrator, or step-up-required", body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn create_invitation(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    request: IdempotentJson<NewInvitationBody>,
) -> Result<Response, ApiError> {
    let (body, request) = request.split();
    let (state, actor) = (&state, &actor);
    idempotency::once(state, actor, &request.meta(), |_| async move {
        let access = access(state)?;
        let professional_id = body
            .professional_id
            .as_deref()
            .map(parse_professional_id)
            .transpose()?;
        let new = access
            .invite(
                Some(actor),
                InviteRequest {
                    role: body.role,
                    organisation_id: body.organisation_id,
                    display_name: body.display_name,
                    professional_id,
                },
            )
            .await
            .map_err(problem)?;
        Ok(Json(InvitationBody {
            invitation: new.token,
            link: new.link,
            expires_at: new.expires_at,
        })
        .into_response())
    })
    .await
}

/// Organisations: every one for operators, only one's own for everyone else.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "access",
    responses((status = 200, body = OrganisationList), (status = 401, body = crate::Problem)))]
pub async fn list_organisations(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<OrganisationList>, ApiError> {
    let access = access(&state)?;
    let orgs = access.list_organisations(&actor).await.map_err(problem)?;
    Ok(Json(OrganisationList {
        organisations: orgs
            .into_iter()
            .map(|o| Organisation {
                id: o.id,
                kind: o.kind,
                name: o.name,
            })
            .collect(),
    }))
}

/// The accounts of an organisation (operators: any; others: their own, else 404).
#[utoipa::path(get, path = "/api/v1/accounts", tag = "access", params(AccountsQuery),
    responses((status = 200, body = AccountList), (status = 401, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<AccountsQuery>,
) -> Result<Json<AccountList>, ApiError> {
    let access = access(&state)?;
    let org = query.organisation.unwrap_or(actor.organisation_id);
    let accounts = access.list_accounts(&actor, org).await.map_err(problem)?;
    Ok(Json(AccountList {
        accounts: accounts
            .into_iter()
            .map(|a| Account {
                id: a.id,
                organisation_id: a.organisation_id,
                role: a.role,
                display_name: a.display_name,
                status: a.status.code().to_string(),
            })
            .collect(),
    }))
}
