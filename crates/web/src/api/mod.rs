//! The JSON API under `/api/v1`, one module per capability.

pub mod approvals;
pub mod beneficiaries;
pub mod cards;
pub mod contracts;
pub mod invoices;
pub mod ledger;
pub mod payments;
pub mod rights;

use crate::AppState;
use axum::Router;

/// Every `/api/v1` route but the beneficiary imports (see [`beneficiaries::router`]: their own
/// body limit, mounted by `crate::router` outside the global one).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(cards::router())
        .merge(contracts::router())
        .merge(approvals::router())
        .merge(invoices::router())
        .merge(rights::router())
        .merge(ledger::router())
        .merge(payments::router())
}

/// The OpenAPI paths of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut doc = cards::CardsApiDoc::openapi();
    doc.merge(beneficiaries::BeneficiariesApiDoc::openapi());
    doc.merge(contracts::ContractsApiDoc::openapi());
    doc.merge(approvals::ApprovalsApiDoc::openapi());
    doc.merge(invoices::InvoicesApiDoc::openapi());
    doc.merge(rights::RightsApiDoc::openapi());
    doc.merge(ledger::LedgerApiDoc::openapi());
    doc.merge(payments::PaymentsApiDoc::openapi());
    doc
}
