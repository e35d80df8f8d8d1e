//! The OpenAPI document, generated from the code: every route is listed in [`ApiDoc`].

use crate::error::Problem;
use crate::health;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "rempart", description = "Third-party payment (tiers payant) for complementary health insurers. Errors are RFC 9457 problem documents (application/problem+json) carrying the request id."),
    paths(health::healthz, health::readyz, health::metrics, health::openapi_json),
    components(schemas(Problem, health::Status)),
    tags((name = "operations", description = "Liveness, readiness, metrics and this document."))
)]
pub struct ApiDoc;

/// The document as a value.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::auth::AuthApiDoc::openapi());
    doc.merge(crate::api::openapi());
    doc
}

/// The document as JSON text.
pub fn document_json() -> String {
    document()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_string())
}
