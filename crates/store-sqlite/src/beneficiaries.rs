//! Beneficiaries: identifying fields arrive and leave sealed.

use crate::codec::{col, corrupt, date_col, opt_date_col, parsed, timestamp_col};
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
    crate::imports::insert_in(&mut tx, None, rows).await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn get(
    pool: &SqlitePool,
    insurer_id: Uuid,
    id: Uuid,
) -> Result<BeneficiaryRecord, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, birth_date_sealed, \
         marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index \
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
         marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index \
         FROM beneficiaries WHERE insurer_id = ?1 AND member_number = ?2 ORDER BY birth_rank, id",
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
    pool: &SqlitePool,
    insurer_id: Uuid,
    nir_index: u32,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM beneficiaries WHERE insurer_id = ?1 AND nir_index = ?2 ORDER BY id"
    ))
    .bind(insurer_id)
    .bind(i64::from(nir_index))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn delete(
    pool: &SqlitePool,
    insurer_id: Uuid,
    id: Uuid,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM beneficiaries WHERE insurer_id = ?1 AND id = ?2")
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
    pool: &SqlitePool,
    insurer_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        // `+insurer_id`: walk the primary key from `after` (an index on insurer_id would sort
        // every row of the insurer for each page: quadratic over a full scan).
        " FROM beneficiaries WHERE +insurer_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
    ))
    .bind(insurer_id)
    .bind(after.unwrap_or(Uuid::nil()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn update_seals(
    pool: &SqlitePool,
    rows: &[BeneficiaryRecord],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    // Up to 512 rows per statement (one round trip to the connection's worker thread each,
    // not one per row); `OR FAIL`: a failure fails the transaction, which is rolled back.
    let updated = crate::imports::execute_chunks(&mut tx, rows, |chunk| {
        let sql = format!(
            "UPDATE OR FAIL beneficiaries SET nir_sealed = v.column3, last_name_sealed = v.column4, \
             first_name_sealed = v.column5, birth_date_sealed = v.column6, marital_status_sealed = v.column7, \
             nir_index = v.column8 FROM (VALUES {}) AS v \
             WHERE beneficiaries.insurer_id = v.column1 AND beneficiaries.id = v.column2",
            crate::imports::values_rows(8, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in chunk {
            q = q
                .bind(b.insurer_id)
                .bind(b.id)
                .bind(&b.nir_sealed)
                .bind(&b.last_name_sealed)
                .bind(&b.first_name_sealed)
                .bind(&b.birth_date_sealed)
                .bind(&b.marital_status_sealed)
                .bind(i64::from(b.nir_index));
        }
        Ok(q)
    })
    .await?;
    if updated != u64::try_from(rows.len()).unwrap_or(u64::MAX) {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) fn from_row(row: &SqliteRow) -> Result<BeneficiaryRecord, StoreError> {
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
        nir_index: u32::try_from(col::<i64>(row, "nir_index")?)
            .map_err(|_| corrupt("nir_index"))?,
        quality: parsed(row, "quality", str::parse::<Quality>)?,
        contract_id: col(row, "contract_id")?,
        valid_from: date_col(row, "valid_from")?,
        valid_to: opt_date_col(row, "valid_to")?,
        created_at: timestamp_col(row, "created_at")?,
        updated_at: timestamp_col(row, "updated_at")?,
    })
}
