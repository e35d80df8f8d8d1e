//! Insurers (AMC).

use crate::codec::{col, micros, parsed};
use crate::error::db_err;
use app::store::{InsurerRecord, StoreError};
use domain::ids::AmcNumber;
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use uuid::Uuid;

pub(crate) async fn insert(pool: &PgPool, insurer: &InsurerRecord) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO insurers (id, amc, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(insurer.id)
        .bind(insurer.amc.as_str())
        .bind(&insurer.name)
        .bind(micros(insurer.created_at))
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get(pool: &PgPool, id: Uuid) -> Result<InsurerRecord, StoreError> {
    let row = sqlx::query("SELECT id, amc, name, created_at FROM insurers WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

pub(crate) async fn find_by_amc(
    pool: &PgPool,
    amc: &AmcNumber,
) -> Result<Option<InsurerRecord>, StoreError> {
    let row = sqlx::query("SELECT id, amc, name, created_at FROM insurers WHERE amc = $1")
        .bind(amc.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<InsurerRecord>, StoreError> {
    let rows =
        sqlx::query("SELECT id, amc, name, created_at FROM insurers ORDER BY created_at, id")
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &PgRow) -> Result<InsurerRecord, StoreError> {
    Ok(InsurerRecord {
        id: col(row, "id")?,
        amc: parsed(row, "amc", AmcNumber::parse)?,
        name: col(row, "name")?,
        created_at: col(row, "created_at")?,
    })
}
