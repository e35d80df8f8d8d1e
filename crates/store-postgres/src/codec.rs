//! Conversions between domain values and PostgreSQL columns (`uuid`, `date`,
//! `timestamptz`, `bytea`, `text`).

use app::store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};
use time::OffsetDateTime;

/// Reads a column; an unreadable value is `Corrupt`, naming the column but never the value.
pub(crate) fn col<'r, T>(row: &'r PgRow, name: &'static str) -> Result<T, StoreError>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(name).map_err(|_| corrupt(name))
}

pub(crate) fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(format!("column {column} does not hold a valid value"))
}

/// Parses a stored text with a domain parser; a refusal is `Corrupt`.
pub(crate) fn parsed<T, E>(
    row: &PgRow,
    name: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    let text: String = col(row, name)?;
    parse(&text).map_err(|_| corrupt(name))
}

pub(crate) fn opt_parsed<T, E>(
    row: &PgRow,
    name: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, StoreError> {
    let text: Option<String> = col(row, name)?;
    text.map(|t| parse(&t).map_err(|_| corrupt(name)))
        .transpose()
}

/// Truncates to the microsecond, the precision of `timestamptz` (and of the SQLite store).
pub(crate) fn micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

pub(crate) fn u64_count(row: &PgRow, name: &'static str) -> Result<u64, StoreError> {
    let n: i64 = col(row, name)?;
    u64::try_from(n).map_err(|_| corrupt(name))
}
