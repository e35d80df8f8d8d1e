//! Beneficiaries: identifying fields arrive and leave sealed.

use crate::codec::{col, corrupt, micros, parsed};
use crate::error::db_err;
use app::store::{BeneficiaryRecord, StoreError};
use domain::beneficiaries::Quality;
use domain::ids::{BirthRank, MemberNumber};
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// Inserts every row or none.
pub(crate) async fn insert_all(
    pool: &PgPool,
    rows: &[BeneficiaryRecord],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    for b in rows {
        sqlx::query(
            "INSERT INTO beneficiaries (id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, \
             birth_date_sealed, marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(b.id)
        .bind(b.insurer_id)
        .bind(b.member_number.as_str())
        .bind(i16::from(b.birth_rank.get()))
        .bind(&b.nir_sealed)
        .bind(&b.last_name_sealed)
        .bind(&b.first_name_sealed)
        .bind(&b.birth_date_sealed)
        .bind(&b.marital_status_sealed)
        .bind(b.quality.code())
        .bind(b.contract_id)
        .bind(b.valid_from)
        .bind(b.valid_to)
        .bind(micros(b.created_at))
        .bind(micros(b.updated_at))
        .bind(i64::from(b.nir_index))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn get(
    pool: &PgPool,
    insurer_id: Uuid,
    id: Uuid,
) -> Result<BeneficiaryRecord, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, birth_date_sealed, \
         marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index \
         FROM beneficiaries WHERE insurer_id = $1 AND id = $2",
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
    pool: &PgPool,
    insurer_id: Uuid,
    member: &MemberNumber,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, birth_date_sealed, \
         marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index \
         FROM beneficiaries WHERE insurer_id = $1 AND member_number = $2 ORDER BY birth_rank, id",
    )
    .bind(insurer_id)
    .bind(member.as_str())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

macro_rules! columns {
    () => {
        "id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, birth_date_sealed, \
     marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index"
    };
}

pub(crate) async fn find_by_nir_index(
    pool: &PgPool,
    insurer_id: Uuid,
    nir_index: u32,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM beneficiaries WHERE insurer_id = $1 AND nir_index = $2 ORDER BY id"
    ))
    .bind(insurer_id)
    .bind(i64::from(nir_index))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn delete(pool: &PgPool, insurer_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM beneficiaries WHERE insurer_id = $1 AND id = $2")
        .bind(insurer_id)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn page(
    pool: &PgPool,
    insurer_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM beneficiaries WHERE insurer_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
    ))
        .bind(insurer_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn update_seals(
    pool: &PgPool,
    rows: &[BeneficiaryRecord],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // One statement for all the rows (arrays through `UNNEST`), not one round trip per row.
    let c = crate::imports::Columns::of(rows);
    let mut tx = pool.begin().await.map_err(db_err)?;
    let done = sqlx::query(
        "UPDATE beneficiaries AS b SET nir_sealed = t.nir, last_name_sealed = t.last_name, first_name_sealed = t.first_name, \
         birth_date_sealed = t.birth_date, marital_status_sealed = t.marital_status, nir_index = t.nir_index \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[], $8::int8[]) \
         AS t(insurer_id, id, nir, last_name, first_name, birth_date, marital_status, nir_index) \
         WHERE b.insurer_id = t.insurer_id AND b.id = t.id",
    )
    .bind(&c.insurer_id)
    .bind(&c.id)
    .bind(&c.nir)
    .bind(&c.last_name)
    .bind(&c.first_name)
    .bind(&c.birth_date)
    .bind(&c.marital_status)
    .bind(&c.nir_index)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if done.rows_affected() != u64::try_from(rows.len()).unwrap_or(u64::MAX) {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) fn from_row(row: &PgRow) -> Result<BeneficiaryRecord, StoreError> {
    let rank: i16 = col(row, "birth_rank")?;
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
        nir_index: u32::try_from(col::<i64>(row, "nir_index")?)
            .map_err(|_| corrupt("nir_index"))?,
        quality: parsed(row, "quality", str::parse::<Quality>)?,
        contract_id: col(row, "contract_id")?,
        valid_from: col(row, "valid_from")?,
        valid_to: col(row, "valid_to")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}
