//! Beneficiaries: identifying fields arrive and leave sealed.

use crate::codec::{
    col, corrupt, date_col, date_text, opt_date_col, opt_date_text, parsed, timestamp_col,
    timestamp_text,
};
use crate::error::db_err;
use app::store::{BeneficiaryRecord, StoreError};
use domain::beneficiaries::Quality;
use domain::ids::{BirthRank, MemberNumber};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

/// Inserts every row or none.
pub(crate) async fn insert_all(
    pool: &SqlitePool,
    rows: &[BeneficiaryRecord],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    for b in rows {
        sqlx::query(
            "INSERT INTO beneficiaries (id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, \
             birth_date_sealed, marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .bind(b.id)
        .bind(b.insurer_id)
        .bind(b.member_number.as_str())
        .bind(i64::from(b.birth_rank.get()))
        .bind(&b.nir_sealed)
        .bind(&b.last_name_sealed)
        .bind(&b.first_name_sealed)
        .bind(&b.birth_date_sealed)
        .bind(&b.marital_status_sealed)
        .bind(b.quality.code())
        .bind(b.contract_id)
        .bind(date_text(b.valid_from)?)
        .bind(opt_date_text(b.valid_to)?)
        .bind(timestamp_text(b.created_at)?)
        .bind(timestamp_text(b.updated_at)?)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn get(
    pool: &SqlitePool,
    insurer_id: Uuid,
    id: Uuid,
) -> Result<BeneficiaryRecord, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, birth_date_sealed, \
         marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at \
         FROM beneficiaries WHERE insurer_id = ?1 AND id = ?2",
    )
    .bind(insurer_id)
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

pub(crate) async fn find_member(
    pool: &SqlitePool,
    insurer_id: Uuid,
    member: &MemberNumber,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, birth_date_sealed, \
         marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at \
         FROM beneficiaries WHERE insurer_id = ?1 AND member_number = ?2 ORDER BY birth_rank, id",
    )
    .bind(insurer_id)
    .bind(member.as_str())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &SqliteRow) -> Result<BeneficiaryRecord, StoreError> {
    let rank: i64 = col(row, "birth_rank")?;
    let birth_rank = u8::try_from(rank)
        .ok()
        .and_then(|r| BirthRank::new(r).ok())
        .ok_or_else(|| corrupt("birth_rank"))?;
    Ok(BeneficiaryRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        member_number: parsed(row, "member_number", MemberNumber::parse)?,
        birth_rank,
        nir_sealed: col(row, "nir_sealed")?,
        last_name_sealed: col(row, "last_name_sealed")?,
        first_name_sealed: col(row, "first_name_sealed")?,
        birth_date_sealed: col(row, "birth_date_sealed")?,
        marital_status_sealed: col(row, "marital_status_sealed")?,
        quality: parsed(row, "quality", str::parse::<Quality>)?,
        contract_id: col(row, "contract_id")?,
        valid_from: date_col(row, "valid_from")?,
        valid_to: opt_date_col(row, "valid_to")?,
        created_at: timestamp_col(row, "created_at")?,
        updated_at: timestamp_col(row, "updated_at")?,
    })
}
