//! Data keys (wrapped secrets only) and sealed-header statistics.

use crate::codec::{col, corrupt, parsed, timestamp_col, timestamp_text};
use crate::error::db_err;
use app::store::{DataKeyRow, KeyPurpose, SealedKeyCount, StoreError};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub(crate) async fn list(pool: &SqlitePool) -> Result<Vec<DataKeyRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT key_id, scope, purpose, version, kek_version, wrapped, created_at, retired_at \
         FROM data_keys ORDER BY key_id",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn insert(pool: &SqlitePool, k: &DataKeyRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO data_keys (key_id, scope, purpose, version, kek_version, wrapped, created_at, retired_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(i64::from(k.key_id))
    .bind(k.scope)
    .bind(k.purpose.code())
    .bind(i64::from(k.version))
    .bind(i64::from(k.kek_version))
    .bind(&k.wrapped)
    .bind(timestamp_text(k.created_at)?)
    .bind(k.retired_at.map(timestamp_text).transpose()?)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn rewrap(
    pool: &SqlitePool,
    key_id: u32,
    from: u32,
    to: u32,
    wrapped: &[u8],
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE data_keys SET kek_version = ?3, wrapped = ?4 WHERE key_id = ?1 AND kek_version = ?2",
    )
    .bind(i64::from(key_id))
    .bind(i64::from(from))
    .bind(i64::from(to))
    .bind(wrapped)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn retire(
    pool: &SqlitePool,
    key_id: u32,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let done =
        sqlx::query("UPDATE data_keys SET retired_at = COALESCE(retired_at, ?2) WHERE key_id = ?1")
            .bind(i64::from(key_id))
            .bind(timestamp_text(at)?)
            .execute(pool)
            .await
            .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn delete_scope(pool: &SqlitePool, scope: Uuid) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM data_keys WHERE scope = ?1")
        .bind(scope)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected())
}

pub(crate) async fn sealed_counts(pool: &SqlitePool) -> Result<Vec<SealedKeyCount>, StoreError> {
    let mut out = Vec::new();
    for (table, sql) in [
        (
            "beneficiaries",
            "SELECT substr(nir_sealed, 2, 4) AS k, COUNT(*) AS n FROM beneficiaries GROUP BY k ORDER BY k",
        ),
        (
            "practices",
            "SELECT substr(iban_sealed, 2, 4) AS k, COUNT(*) AS n FROM practices GROUP BY k ORDER BY k",
        ),
    ] {
        let rows = sqlx::query(sql).fetch_all(pool).await.map_err(db_err)?;
        for row in &rows {
            let k: Vec<u8> = col(row, "k")?;
            let n: i64 = col(row, "n")?;
            let key_id: [u8; 4] = k
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("sealed header"))?;
            out.push(SealedKeyCount {
                table,
                key_id: u32::from_be_bytes(key_id),
                rows: u64::try_from(n).map_err(|_| corrupt("count"))?,
            });
        }
    }
    Ok(out)
}

fn u32_col(row: &SqliteRow, name: &'static str) -> Result<u32, StoreError> {
    let v: i64 = col(row, name)?;
    u32::try_from(v).map_err(|_| corrupt(name))
}

fn from_row(row: &SqliteRow) -> Result<DataKeyRow, StoreError> {
    let retired: Option<String> = col(row, "retired_at")?;
    Ok(DataKeyRow {
        key_id: u32_col(row, "key_id")?,
        scope: col(row, "scope")?,
        purpose: parsed(row, "purpose", |s| KeyPurpose::parse(s).ok_or(()))?,
        version: u32_col(row, "version")?,
        kek_version: u32_col(row, "kek_version")?,
        wrapped: col(row, "wrapped")?,
        created_at: timestamp_col(row, "created_at")?,
        retired_at: retired
            .map(|t| OffsetDateTime::parse(&t, &Rfc3339).map_err(|_| corrupt("retired_at")))
            .transpose()?,
    })
}
