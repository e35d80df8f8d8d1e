//! Pure types and rules of rempart: identifiers, money, beneficiaries, cards, contracts,
//! rights, organisations and accounts. No I/O, no async, no clock: time comes in as a
//! parameter.

pub mod accounts;
pub mod approvals;
pub mod beneficiaries;
pub mod cards;
pub mod contracts;
pub mod ids;
pub mod invoices;
pub mod money;
pub mod payments;
pub mod rights;

pub use ids::IdError;
pub use money::Money;
