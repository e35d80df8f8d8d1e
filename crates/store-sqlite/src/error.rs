//! sqlx errors to `StoreError`. Never copies SQL text, bound values or driver messages
//! into the result: only constraint names and SQLite result codes.

use app::store::StoreError;
use sqlx::error::ErrorKind;

/// The uniqueness rules, keyed by the column list SQLite reports
/// (`UNIQUE constraint failed: <table>.<column>, …`).
const UNIQUE_RULES: &[(&str, &str)] = &[
    ("organisations.id", "organisations_pkey"),
    // (id, kind) and (insurer_id, id) exist only as foreign-key targets: a duplicate there
    // is a duplicate id, whichever index SQLite checks first.
    ("organisations.id, organisations.kind", "organisations_pkey"),
    ("insurers.id", "insurers_pkey"),
    ("insurers.amc", "insurers_amc"),
    ("contracts.id", "contracts_pkey"),
    (
        "contracts.insurer_id, contracts.code, contracts.version",
        "contracts_version",
    ),
    ("contracts.insurer_id, contracts.id", "contracts_pkey"),
    ("beneficiaries.id", "beneficiaries_pkey"),
    ("cards.id", "cards_pkey"),
    ("practices.id", "practices_pkey"),
    ("practices.am_number", "practices_am_number"),
    ("professionals.id", "professionals_pkey"),
    (
        "professionals.national_id_kind, professionals.national_id",
        "professionals_national_id",
    ),
    ("accounts.id", "accounts_pkey"),
    ("invitations.id", "invitations_pkey"),
    ("invitations.token_hash", "invitations_token_hash"),
    ("credentials.id", "credentials_pkey"),
    ("credentials.credential_id", "credentials_credential_id"),
    ("ceremonies.id", "ceremonies_pkey"),
    ("sessions.id", "sessions_pkey"),
    ("sessions.token_hash", "sessions_token_hash"),
    ("client_certificates.id", "client_certificates_pkey"),
    (
        "client_certificates.fingerprint",
        "client_certificates_fingerprint",
    ),
    ("engagements.id", "engagements_pkey"),
    ("engagements.number", "engagements_number"),
    ("not_me_reports.id", "not_me_reports_pkey"),
    ("not_me_reports.entry", "not_me_reports_entry"),
    ("data_keys.key_id", "data_keys_pkey"),
    (
        "data_keys.scope, data_keys.purpose, data_keys.version",
        "data_keys_version",
    ),
    ("idempotency.id", "idempotency_pkey"),
    ("contract_documents.contract_id", "contract_documents_pkey"),
    ("approvals.id", "approvals_pkey"),
    ("approvals.number", "approvals_number"),
    ("invoices.id", "invoices_pkey"),
    (
        "invoice_lines.invoice_id, invoice_lines.line_no",
        "invoice_lines_pkey",
    ),
    ("claim_counters.id", "claim_counters_pkey"),
    (
        "idempotency.actor_id, idempotency.route, idempotency.idem_key",
        "idempotency_key",
    ),
];

/// The constraint name reported for every broken foreign key (SQLite does not say which).
pub(crate) const FOREIGN_KEY: &str = "foreign_key";

const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

pub(crate) fn db_err(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict {
                constraint: unique_rule(db.message()).to_string(),
            },
            ErrorKind::ForeignKeyViolation => StoreError::Conflict {
                constraint: FOREIGN_KEY.to_string(),
            },
            _ => {
                let code = db.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(-1);
                match code & 0xff {
                    SQLITE_BUSY | SQLITE_LOCKED => StoreError::Retryable,
                    _ => StoreError::Other(format!("database error (SQLite code {code})")),
                }
            }
        },
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the database pool is closed".into()),
        sqlx::Error::Io(_) => StoreError::Unavailable("database I/O error".into()),
        sqlx::Error::WorkerCrashed => StoreError::Unavailable("the SQLite worker stopped".into()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt("a stored value cannot be decoded".into())
        }
        _ => StoreError::Other("database error".into()),
    }
}

fn unique_rule(message: &str) -> &'static str {
    let columns = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or("");
    UNIQUE_RULES
        .iter()
        .find(|(cols, _)| *cols == columns)
        .map_or("unique", |(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reported_column_list_names_its_constraint() {
        assert_eq!(
            unique_rule("UNIQUE constraint failed: insurers.amc"),
            "insurers_amc"
        );
        assert_eq!(
            unique_rule(
                "UNIQUE constraint failed: contracts.insurer_id, contracts.code, contracts.version"
            ),
            "contracts_version"
        );
        assert_eq!(unique_rule("something else"), "unique");
    }
}
