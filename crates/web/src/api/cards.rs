//! `GET /api/v1/card-keys`: the published card-verification keys (public, no authentication).
//!
//! Every version of the platform's card-signing key, as the JSON list of
//! `crypto::CardVerifyingKeys::to_json`: `[{"kid": 1, "public_key": "<base64url, 32 bytes>"}]`.
//! Practice software saves it and verifies card tokens offline (docs/formats.md, "Card token").

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::{OpenApi, ToSchema};

/// One published card-verification key.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PublishedCardKey {
    /// The key id, as in the token's `kid` field.
    kid: u32,
    /// The Ed25519 public key: 32 bytes, base64url without padding.
    public_key: String,
}

#[derive(OpenApi)]
#[openapi(
    paths(card_keys),
    components(schemas(PublishedCardKey)),
    tags((name = "cards", description = "Tiers-payant cards: the public keys that verify their datamatrix tokens."))
)]
pub struct CardsApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/card-keys", get(card_keys))
}

/// Every card-signing key version's public key. Public: these keys only verify.
#[utoipa::path(
    get,
    path = "/api/v1/card-keys",
    tag = "cards",
    responses(
        (status = 200, description = "The published card-verification keys, every version.", body = [PublishedCardKey], content_type = "application/json"),
        (status = 500, description = "The keys cannot be listed.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn card_keys(State(state): State<AppState>) -> Result<Response, ApiError> {
    let json = state
        .ports
        .vault
        .card_keys()
        .to_json()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut response = json.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
