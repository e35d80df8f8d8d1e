//! Tiers-payant cards.

use crate::codec::{col, date_col, date_text, parsed, timestamp_col, timestamp_text};
use crate::error::db_err;
use app::store::{CardRecord, StoreError};
use domain::ids::MemberNumber;
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

/// Inserts every card or none.
pub(crate) async fn insert_all(pool: &SqlitePool, cards: &[CardRecord]) -> Result<(), StoreError> {
    if cards.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    for c in cards {
        sqlx::query(
            "INSERT INTO cards (id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(c.id)
        .bind(c.insurer_id)
        .bind(c.member_number.as_str())
        .bind(&c.convention_type)
        .bind(&c.routing_criterion)
        .bind(date_text(c.valid_from)?)
        .bind(date_text(c.valid_to)?)
        .bind(&c.domains)
        .bind(timestamp_text(c.created_at)?)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn get(pool: &SqlitePool, id: Uuid) -> Result<CardRecord, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, created_at \
         FROM cards WHERE id = ?1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Newest validity first: by start, then end, descending; ties by id descending.
pub(crate) async fn find_member(
    pool: &SqlitePool,
    insurer_id: Uuid,
    member: &MemberNumber,
) -> Result<Vec<CardRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, created_at \
         FROM cards WHERE insurer_id = ?1 AND member_number = ?2 ORDER BY valid_from DESC, valid_to DESC, id DESC",
    )
    .bind(insurer_id)
    .bind(member.as_str())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &SqliteRow) -> Result<CardRecord, StoreError> {
    Ok(CardRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        member_number: parsed(row, "member_number", MemberNumber::parse)?,
        convention_type: col(row, "convention_type")?,
        routing_criterion: col(row, "routing_criterion")?,
        valid_from: date_col(row, "valid_from")?,
        valid_to: date_col(row, "valid_to")?,
        domains: col(row, "domains")?,
        created_at: timestamp_col(row, "created_at")?,
    })
}
