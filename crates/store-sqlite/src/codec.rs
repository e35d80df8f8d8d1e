//! Conversions between domain values and SQLite columns.
//!
//! Conventions (also in `migrations/README.md`): UUIDs are 16-byte BLOBs, dates are TEXT
//! `YYYY-MM-DD`, timestamps are UTC TEXT `YYYY-MM-DDTHH:MM:SS.ffffffZ` (fixed width, so text
//! order is time order), truncated to the microsecond like PostgreSQL's `timestamptz`.

use app::store::StoreError;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

const DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Reads a column; an unreadable value is `Corrupt`, naming the column but never the value.
pub(crate) fn col<'r, T>(row: &'r SqliteRow, name: &'static str) -> Result<T, StoreError>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(name).map_err(|_| corrupt(name))
}

pub(crate) fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(format!("column {column} does not hold a valid value"))
}

/// Parses a stored text with a domain parser; a refusal is `Corrupt`.
pub(crate) fn parsed<T, E>(
    row: &SqliteRow,
    name: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    let text: String = col(row, name)?;
    parse(&text).map_err(|_| corrupt(name))
}

pub(crate) fn opt_parsed<T, E>(
    row: &SqliteRow,
    name: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, StoreError> {
    let text: Option<String> = col(row, name)?;
    text.map(|t| parse(&t).map_err(|_| corrupt(name)))
        .transpose()
}

pub(crate) fn date_text(date: Date) -> Result<String, StoreError> {
    date.format(DATE)
        .map_err(|_| StoreError::Other("date out of the storable range".into()))
}

pub(crate) fn opt_date_text(date: Option<Date>) -> Result<Option<String>, StoreError> {
    date.map(date_text).transpose()
}

pub(crate) fn timestamp_text(at: OffsetDateTime) -> Result<String, StoreError> {
    let utc = at.to_offset(UtcOffset::UTC);
    utc.format(TIMESTAMP)
        .map_err(|_| StoreError::Other("timestamp out of the storable range".into()))
}

pub(crate) fn date_col(row: &SqliteRow, name: &'static str) -> Result<Date, StoreError> {
    parsed(row, name, |t| Date::parse(t, DATE))
}

pub(crate) fn opt_date_col(
    row: &SqliteRow,
    name: &'static str,
) -> Result<Option<Date>, StoreError> {
    opt_parsed(row, name, |t| Date::parse(t, DATE))
}

pub(crate) fn timestamp_col(
    row: &SqliteRow,
    name: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    parsed(row, name, |t| {
        PrimitiveDateTime::parse(t, TIMESTAMP).map(PrimitiveDateTime::assume_utc)
    })
}

pub(crate) fn u64_count(row: &SqliteRow, name: &'static str) -> Result<u64, StoreError> {
    let n: i64 = col(row, name)?;
    u64::try_from(n).map_err(|_| corrupt(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_written_in_utc_with_six_fraction_digits() {
        let at = datetime!(2026-03-01 10:00:00.123456789 +02:00);
        assert_eq!(timestamp_text(at).unwrap(), "2026-03-01T08:00:00.123456Z");
    }

    #[test]
    fn dates_are_written_as_iso_days() {
        assert_eq!(
            date_text(time::macros::date!(2026 - 01 - 05)).unwrap(),
            "2026-01-05"
        );
    }
}
