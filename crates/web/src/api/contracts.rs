//! An insurer's contracts (`app::contracts`): `GET /api/v1/insurers/{amc}/contracts` (every
//! version) and `POST /api/v1/insurers/{amc}/contracts` (load a version from its TOML text,
//! docs/formats.md "Contract (TOML)"). That insurer's staff (passkey session) or machine
//! (client certificate) only; anyone else, operators included, gets the 404 of an unknown AMC.

use crate::AppState;
use crate::auth::{Authenticated, problem};
use crate::error::{ApiError, Json};
use app::contracts::ContractLoadError;
use app::store::{ContractRecord, InsurerRecord};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::ids::AmcNumber;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// A contract version as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractVersion {
    #[schema(example = "CONFORT")]
    pub code: String,
    pub version: u32,
    pub label: String,
    pub responsible: bool,
    /// YYYY-MM-DD.
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub loaded_at: String,
}

impl ContractVersion {
    pub fn of(c: &ContractRecord) -> Self {
        Self {
            code: c.code.as_str().to_string(),
            version: c.version,
            label: c.label.clone(),
            responsible: c.responsible,
            effective_from: c.effective_from.to_string(),
            effective_to: c.effective_to.map(|d| d.to_string()),
            loaded_at: c
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }
}

/// A contract version to load.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    /// The contract's TOML text (docs/formats.md, "Contract (TOML)").
    pub toml: String,
}

/// What a load did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractLoaded {
    /// `false`: that version was already loaded with the same content (nothing changed).
    pub created: bool,
    pub contract: ContractVersion,
}

#[derive(OpenApi)]
#[openapi(
    paths(list_contracts, load_contract),
    components(schemas(ContractVersion, NewContract, ContractLoaded)),
    tags((name = "contracts", description = "An insurer's contracts as data: its staff or machine only."))
)]
pub struct ContractsApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/insurers/{amc}/contracts",
        get(list_contracts).post(load_contract),
    )
}

async fn insurer_of(
    state: &AppState,
    actor: &app::accounts::Actor,
    amc: &str,
) -> Result<InsurerRecord, ApiError> {
    let amc = AmcNumber::parse(amc).map_err(|_| ApiError::not_found())?;
    let insurer = state
        .ports
        .store
        .find_insurer_by_amc(&amc)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;
    app::accounts::policy::may_import_beneficiaries(actor, insurer.id).map_err(problem)?;
    Ok(insurer)
}

/// Every contract version of the insurer, by code then version.
#[utoipa::path(
    get,
    path = "/api/v1/insurers/{amc}/contracts",
    tag = "contracts",
    params(("amc" = String, Path, description = "The insurer's AMC number.")),
    responses(
        (status = 200, description = "The versions.", body = [ContractVersion]),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No insurer has this AMC number, or the caller does not belong to it.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_contracts(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(amc): Path<String>,
) -> Result<Json<Vec<ContractVersion>>, ApiError> {
    let insurer = insurer_of(&state, &actor, &amc).await?;
    let list = app::contracts::list(&state.ports, insurer.id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(list.iter().map(ContractVersion::of).collect()))
}

/// Loads a contract version from its TOML text; the same version again is a no-op.
#[utoipa::path(
    post,
    path = "/api/v1/insurers/{amc}/contracts",
    tag = "contracts",
    params(("amc" = String, Path, description = "The insurer's AMC number.")),
    request_body = NewContract,
    responses(
        (status = 201, description = "Loaded.", body = ContractLoaded),
        (status = 200, description = "That version was already loaded with the same content.", body = ContractLoaded),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No insurer has this AMC number, or the caller does not belong to it.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "That version is loaded with other content (the field is named).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid contract: the field path and the reason.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn load_contract(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(amc): Path<String>,
    Json(body): Json<NewContract>,
) -> Result<Response, ApiError> {
    let insurer = insurer_of(&state, &actor, &amc).await?;
    match app::contracts::load(&state.ports, insurer.id, &body.toml).await {
        Ok(loaded) => {
            let status = if loaded.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((
                status,
                Json(ContractLoaded {
                    created: loaded.created,
                    contract: ContractVersion::of(&loaded.contract),
                }),
            )
                .into_response())
        }
        Err(e @ ContractLoadError::Invalid { .. }) => Err(ApiError::unprocessable(e.to_string())),
        Err(e @ ContractLoadError::Changed { .. }) => Err(ApiError::conflict(e.to_string())),
        Err(ContractLoadError::Store(e)) => Err(ApiError::internal(e)),
    }
}
