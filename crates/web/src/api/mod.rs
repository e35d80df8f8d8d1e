//! The JSON API under `/api/v1`, one module per capability.

pub mod cards;

use crate::AppState;
use axum::Router;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new().merge(cards::router())
}

/// The OpenAPI paths of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    cards::CardsApiDoc::openapi()
}
