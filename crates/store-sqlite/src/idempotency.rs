//! `Idempotency-Key` records (`IdempotencyStore`).

use crate::SqliteStore;
use crate::codec::{col, corrupt, timestamp_col, timestamp_text};
use crate::error::db_err;
use app::idempotency::{IdempotencyRecord, IdempotencyStore};
use app::store::StoreError;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

fn record(row: &SqliteRow) -> Result<IdempotencyRecord, StoreError> {
    let status: Option<i64> = col(row, "status")?;
    Ok(IdempotencyRecord {
        id: col(row, "id")?,
        actor_id: col(row, "actor_id")?,
        organisation_id: col(row, "organisation_id")?,
        route: col(row, "route")?,
        key: col(row, "idem_key")?,
        request_hash: col(row, "request_hash")?,
        status: status
            .map(|s| u16::try_from(s).map_err(|_| corrupt("status")))
            .transpose()?,
        response: col(row, "response")?,
        created_at: timestamp_col(row, "created_at")?,
        expires_at: timestamp_col(row, "expires_at")?,
    })
}

/// Records the request hash and the answer of a running record; answers how many rows it
/// changed (0: no such record). Also used inside a claim's transaction.
pub(crate) async fn complete_in<'e, E>(
    exec: E,
    id: Uuid,
    request_hash: &[u8],
    status: u16,
    response: &[u8],
) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let done = sqlx::query(
        "UPDATE idempotency SET request_hash = ?2, status = ?3, response = ?4 WHERE id = ?1",
    )
    .bind(id)
    .bind(request_hash)
    .bind(i64::from(status))
    .bind(response)
    .execute(exec)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn insert_idempotency(&self, r: &IdempotencyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency (id, actor_id, organisation_id, route, idem_key, request_hash, status, response, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .bind(r.id)
        .bind(r.actor_id)
        .bind(r.organisation_id)
        .bind(&r.route)
        .bind(&r.key)
        .bind(&r.request_hash)
        .bind(r.status.map(i64::from))
        .bind(&r.response)
        .bind(timestamp_text(r.created_at)?)
        .bind(timestamp_text(r.expires_at)?)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn find_idempotency(
        &self,
        actor_id: Uuid,
        route: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, actor_id, organisation_id, route, idem_key, request_hash, status, response, created_at, expires_at \
             FROM idempotency WHERE actor_id = ?1 AND route = ?2 AND idem_key = ?3",
        )
            .bind(actor_id)
            .bind(route)
            .bind(key)
            .fetch_optional(&self.writer)
            .await
            .map_err(db_err)?;
        row.as_ref().map(record).transpose()
    }

    async fn complete_idempotency(
        &self,
        id: Uuid,
        request_hash: &[u8],
        status: u16,
        response: &[u8],
    ) -> Result<(), StoreError> {
        let done = complete_in(&self.writer, id, request_hash, status, response).await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_idempotency(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency WHERE id = ?1")
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_idempotency(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency WHERE expires_at <= ?1")
            .bind(timestamp_text(now)?)
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
