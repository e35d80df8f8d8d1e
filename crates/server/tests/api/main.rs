//! API tests: one binary, one module per capability, against the real application served on
//! 127.0.0.1:0 by `testkit::spawn_app` (SQLite always, PostgreSQL when available and always in
//! CI), plus the command-line tests that run the built `rempart` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod authz;
mod cards;
mod cli;
mod demo;
mod drill;
mod errors;
mod generate;
mod guard;
mod health;
mod helpers;
mod idempotency;
mod imports;
mod incidents;
mod invoices;
mod keys;
mod ledger;
mod money_pages;
mod mtls;
mod pages;
mod payments;
mod rights;
mod security_headers;
