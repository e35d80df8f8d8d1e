//! Tiers-payant cards.

use crate::codec::{col, corrupt, micros, parsed};
use crate::error::db_err;
use app::store::{CardCodeUpdate, CardRecord, StoreError};
use domain::ids::MemberNumber;
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// Inserts every card or none.
pub(crate) async fn insert_all(pool: &PgPool, cards: &[CardRecord]) -> Result<(), StoreError> {
    if cards.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    insert_in(&mut tx, cards).await?;
    tx.commit().await.map_err(db_err)
}

/// Inserts `cards` on `conn` (inside the caller's transaction): one statement, array
/// parameters and `UNNEST`.
pub(crate) async fn insert_in(
    conn: &mut sqlx::PgConnection,
    cards: &[CardRecord],
) -> Result<(), StoreError> {
    if cards.is_empty() {
        return Ok(());
    }
    let n = cards.len();
    let mut id = Vec::with_capacity(n);
    let mut insurer_id = Vec::with_capacity(n);
    let mut member_number = Vec::with_capacity(n);
    let mut convention_type = Vec::with_capacity(n);
    let mut routing_criterion = Vec::with_capacity(n);
    let mut valid_from = Vec::with_capacity(n);
    let mut valid_to = Vec::with_capacity(n);
    let mut domains = Vec::with_capacity(n);
    let mut signing_kid = Vec::with_capacity(n);
    let mut code_hash = Vec::with_capacity(n);
    let mut created_at = Vec::with_capacity(n);
    for c in cards {
        id.push(c.id);
        insurer_id.push(c.insurer_id);
        member_number.push(c.member_number.as_str());
        convention_type.push(c.convention_type.as_str());
        routing_criterion.push(c.routing_criterion.as_str());
        valid_from.push(c.valid_from);
        valid_to.push(c.valid_to);
        domains.push(c.domains.as_str());
        signing_kid.push(i64::from(c.signing_kid));
        code_hash.push(c.code_hash.as_slice());
        created_at.push(micros(c.created_at));
    }
    sqlx::query(
        "INSERT INTO cards (id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, \
         signing_kid, code_hash, created_at) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[], $7::date[], $8::text[], \
         $9::int8[], $10::bytea[], $11::timestamptz[])",
    )
    .bind(&id)
    .bind(&insurer_id)
    .bind(&member_number)
    .bind(&convention_type)
    .bind(&routing_criterion)
    .bind(&valid_from)
    .bind(&valid_to)
    .bind(&domains)
    .bind(&signing_kid)
    .bind(&code_hash)
    .bind(&created_at)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get(pool: &PgPool, id: Uuid) -> Result<CardRecord, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, signing_kid, code_hash, created_at \
         FROM cards WHERE id = $1",
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
    pool: &PgPool,
    insurer_id: Uuid,
    member: &MemberNumber,
) -> Result<Vec<CardRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, signing_kid, code_hash, created_at \
         FROM cards WHERE insurer_id = $1 AND member_number = $2 ORDER BY valid_from DESC, valid_to DESC, id DESC",
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
    pool: &PgPool,
    insurer_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<CardRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, domains, signing_kid, code_hash, created_at \
         FROM cards WHERE insurer_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
    )
    .bind(insurer_id)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

/// Sets the kid and code hash of every card in `updates`, or of none.
pub(crate) async fn update_codes(
    pool: &PgPool,
    insurer_id: Uuid,
    updates: &[CardCodeUpdate],
) -> Result<(), StoreError> {
    if updates.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    for u in updates {
        let done = sqlx::query(
            "UPDATE cards SET signing_kid = $1, code_hash = $2 WHERE insurer_id = $3 AND id = $4",
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

fn from_row(row: &PgRow) -> Result<CardRecord, StoreError> {
    Ok(CardRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        member_number: parsed(row, "member_number", MemberNumber::parse)?,
        convention_type: col(row, "convention_type")?,
        routing_criterion: col(row, "routing_criterion")?,
        valid_from: col(row, "valid_from")?,
        valid_to: col(row, "valid_to")?,
        domains: col(row, "domains")?,
        signing_kid: u32::try_from(col::<i64>(row, "signing_kid")?)
            .map_err(|_| corrupt("signing_kid"))?,
        code_hash: col(row, "code_hash")?,
        created_at: col(row, "created_at")?,
    })
}
