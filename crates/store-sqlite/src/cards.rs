//! Tiers-payant cards.

use crate::codec::{col, corrupt, date_col, date_text, parsed, timestamp_col, timestamp_text};
use crate::error::db_err;
use app::store::{CardCodeUpdate, CardRecord, StoreError};
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
    insert_in(&mut tx, cards).await?;
    tx.commit().await.map_err(db_err)
}

/// Inserts `cards` on `conn` (inside the caller's transaction), up to
/// `imports::INSERT_CHUNK` per statement (11 parameters each: 5,632, under SQLite's limit of
/// 32,766).
/// The statements stop in place on an error (`OR FAIL`, see `imports`, "No statement
/// journal"): the caller rolls its transaction back.
pub(crate) async fn insert_in(
    conn: &mut sqlx::SqliteConnection,
    cards: &[CardRecord],
) -> Result<(), StoreError> {
    crate::imports::execute_chunks(conn, cards, |chunk| {
        let sql = format!(
            "INSERT OR FAIL INTO cards (id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, \
             signing_kid, code_hash, created_at) VALUES {}",
            crate::imports::values_rows(11, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(c.id)
                .bind(c.insurer_id)
                .bind(c.member_number.as_str())
                .bind(&c.convention_type)
                .bind(&c.routing_criterion)
                .bind(date_text(c.valid_from)?)
                .bind(date_text(c.valid_to)?)
                .bind(&c.domains)
                .bind(i64::from(c.signing_kid))
                .bind(&c.code_hash)
                .bind(timestamp_text(c.created_at)?);
        }
        Ok(q)
    })
    .await
    .map(|_| ())
}

pub(crate) async fn get(pool: &SqlitePool, id: Uuid) -> Result<CardRecord, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, signing_kid, code_hash, created_at \
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
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, signing_kid, code_hash, created_at \
         FROM cards WHERE insurer_id = ?1 AND member_number = ?2 ORDER BY valid_from DESC, valid_to DESC, id DESC",
    )
    .bind(insurer_id)
    .bind(member.as_str())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

/// A page of an insurer's cards by id.
pub(crate) async fn list_page(
    pool: &SqlitePool,
    insurer_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<CardRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, signing_kid, code_hash, created_at \
         FROM cards WHERE +insurer_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    )
    .bind(insurer_id)
    .bind(after.unwrap_or(Uuid::nil()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

/// Sets the kid and code hash of every card in `updates`, or of none.
pub(crate) async fn update_codes(
    pool: &SqlitePool,
    insurer_id: Uuid,
    updates: &[CardCodeUpdate],
) -> Result<(), StoreError> {
    if updates.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    for u in updates {
        let done = sqlx::query(
            "UPDATE cards SET signing_kid = ?1, code_hash = ?2 WHERE insurer_id = ?3 AND id = ?4",
        )
        .bind(i64::from(u.signing_kid))
        .bind(&u.code_hash)
        .bind(insurer_id)
        .bind(u.id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(db_err)?;
            return Err(StoreError::NotFound);
        }
    }
    tx.commit().await.map_err(db_err)
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
        signing_kid: u32::try_from(col::<i64>(row, "signing_kid")?)
            .map_err(|_| corrupt("signing_kid"))?,
        code_hash: col(row, "code_hash")?,
        created_at: timestamp_col(row, "created_at")?,
    })
}
