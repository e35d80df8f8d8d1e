//! sqlx errors to `StoreError`. Never copies SQL text, bound values or server messages
//! (they can hold personal data) into the result: only SQLSTATEs and constraint names.

use app::store::StoreError;

/// The constraint name reported for every broken foreign key (as the SQLite store does).
pub(crate) const FOREIGN_KEY: &str = "foreign_key";

pub(crate) fn db_err(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            match code.as_str() {
                // serialization_failure, deadlock_detected
                "40001" | "40P01" => StoreError::Retryable,
                "23505" => StoreError::Conflict {
                    constraint: rule_name(db.constraint().unwrap_or("unique")).to_string(),
                },
                "23503" => StoreError::Conflict {
                    constraint: FOREIGN_KEY.to_string(),
                },
                // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
                "57P01" | "57P02" | "57P03" | "53300" => {
                    StoreError::Unavailable(format!("PostgreSQL refused service (SQLSTATE {code})"))
                }
                c if c.starts_with("08") => StoreError::Unavailable(format!(
                    "PostgreSQL connection failure (SQLSTATE {code})"
                )),
                _ => StoreError::Other(format!("database error (SQLSTATE {code})")),
            }
        }
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the database pool is closed".into()),
        sqlx::Error::Io(_) => StoreError::Unavailable("database I/O error".into()),
        sqlx::Error::Tls(_) => StoreError::Unavailable("database TLS error".into()),
        sqlx::Error::Protocol(_) => StoreError::Unavailable("database protocol error".into()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt("a stored value cannot be decoded".into())
        }
        _ => StoreError::Other("database error".into()),
    }
}

/// Unique constraints that only exist as foreign-key targets contain the primary key: a
/// duplicate there is a duplicate id, whichever index PostgreSQL checks first.
fn rule_name(constraint: &str) -> &str {
    match constraint {
        "organisations_id_kind" => "organisations_pkey",
        "contracts_insurer_id_id" => "contracts_pkey",
        other => other,
    }
}
