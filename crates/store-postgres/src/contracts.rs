//! Contracts: versioned, effective-dated guarantee tables.

use crate::codec::{col, corrupt, micros, parsed};
use crate::error::db_err;
use app::store::{ContractRecord, StoreError};
use domain::contracts::ContractCode;
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use time::Date;
use uuid::Uuid;

pub(crate) async fn insert(pool: &PgPool, c: &ContractRecord) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    insert_in(&mut conn, c).await
}

/// Inserts a contract version on a connection (inside a caller's transaction).
pub(crate) async fn insert_in(
    conn: &mut sqlx::PgConnection,
    c: &ContractRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO contracts (id, insurer_id, code, version, label, responsible, effective_from, effective_to, guarantees, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(c.id)
    .bind(c.insurer_id)
    .bind(c.code.as_str())
    .bind(i64::from(c.version))
    .bind(&c.label)
    .bind(c.responsible)
    .bind(c.effective_from)
    .bind(c.effective_to)
    .bind(&c.guarantees)
    .bind(micros(c.created_at))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn get(
    pool: &PgPool,
    insurer_id: Uuid,
    id: Uuid,
) -> Result<ContractRecord, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, code, version, label, responsible, effective_from, effective_to, guarantees, created_at \
         FROM contracts WHERE insurer_id = $1 AND id = $2",
    )
    .bind(insurer_id)
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

pub(crate) async fn find_in_effect(
    pool: &PgPool,
    insurer_id: Uuid,
    code: &ContractCode,
    on: Date,
) -> Result<Option<ContractRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id, insurer_id, code, version, label, responsible, effective_from, effective_to, guarantees, created_at \
         FROM contracts \
         WHERE insurer_id = $1 AND code = $2 AND effective_from <= $3 AND (effective_to IS NULL OR effective_to >= $3) \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(insurer_id)
    .bind(code.as_str())
    .bind(on)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) async fn list(
    pool: &PgPool,
    insurer_id: Uuid,
) -> Result<Vec<ContractRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, insurer_id, code, version, label, responsible, effective_from, effective_to, guarantees, created_at \
         FROM contracts WHERE insurer_id = $1 ORDER BY code, version",
    )
    .bind(insurer_id)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &PgRow) -> Result<ContractRecord, StoreError> {
    let version: i64 = col(row, "version")?;
    Ok(ContractRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        code: parsed(row, "code", ContractCode::parse)?,
        version: u32::try_from(version).map_err(|_| corrupt("version"))?,
        label: col(row, "label")?,
        responsible: col(row, "responsible")?,
        effective_from: col(row, "effective_from")?,
        effective_to: col(row, "effective_to")?,
        guarantees: col(row, "guarantees")?,
        created_at: col(row, "created_at")?,
    })
}
