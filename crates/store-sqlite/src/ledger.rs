//! The access ledger (`LedgerStore`): entries, checkpoints, verifications.
//!
//! Appends run on the writer connection with `PRAGMA synchronous = FULL` for the duration of
//! the transaction (the WAL is fsynced at commit: a committed entry survives a power cut),
//! then back to the store's `NORMAL`. Group commit in `app::ledger` makes that one fsync per
//! batch of entries.

use crate::SqliteStore;
use crate::codec::{col, corrupt, timestamp_col, timestamp_text};
use crate::error::db_err;
use app::ledger::store::{CHECKPOINT_CONSTRAINT, INDEX_CONSTRAINT};
use app::ledger::{
    LedgerCheckpointRecord, LedgerEntryRecord, LedgerFilter, LedgerStore, LedgerTileRecord,
    LedgerVerificationRecord,
};
use app::rights::EngagementRecord;
use app::store::StoreError;
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, SqliteConnection};
use uuid::Uuid;

/// Rows per multi-row INSERT (13 parameters each).
const INSERT_CHUNK: usize = 64;

const ENTRY_COLUMNS: &str = "leaf_index, id, at, account_id, organisation_id, credential, insurer_id, pseudonym, categories, purpose, request_id, client_addr, leaf_hash";

/// Tiles per multi-row INSERT (2 parameters each).
const TILE_CHUNK: usize = 512;

fn index_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Other("ledger index out of range".into()))
}

fn read_u64(row: &SqliteRow, name: &'static str) -> Result<u64, StoreError> {
    let n: i64 = col(row, name)?;
    u64::try_from(n).map_err(|_| corrupt(name))
}

fn entry(row: &SqliteRow) -> Result<LedgerEntryRecord, StoreError> {
    Ok(LedgerEntryRecord {
        index: read_u64(row, "leaf_index")?,
        id: col(row, "id")?,
        at: timestamp_col(row, "at")?,
        account_id: col(row, "account_id")?,
        organisation_id: col(row, "organisation_id")?,
        credential: col(row, "credential")?,
        insurer_id: col(row, "insurer_id")?,
        pseudonym: col(row, "pseudonym")?,
        categories: col(row, "categories")?,
        purpose: col(row, "purpose")?,
        request_id: col(row, "request_id")?,
        client_addr: col(row, "client_addr")?,
        leaf_hash: col(row, "leaf_hash")?,
    })
}

fn checkpoint(row: &SqliteRow) -> Result<LedgerCheckpointRecord, StoreError> {
    Ok(LedgerCheckpointRecord {
        tree_size: read_u64(row, "tree_size")?,
        root: col(row, "root")?,
        at: timestamp_col(row, "at")?,
        note: col(row, "note")?,
    })
}

fn index_conflict() -> StoreError {
    StoreError::Conflict {
        constraint: INDEX_CONSTRAINT.to_string(),
    }
}

async fn size_in(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT COALESCE(MAX(leaf_index) + 1, 0) AS size FROM ledger_entries")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    read_u64(&row, "size")
}

async fn insert_chunk(
    conn: &mut SqliteConnection,
    rows: &[LedgerEntryRecord],
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO ledger_entries ({ENTRY_COLUMNS}) VALUES {}",
        crate::imports::values_rows(13, rows.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for e in rows {
        q = q
            .bind(index_i64(e.index)?)
            .bind(e.id)
            .bind(timestamp_text(e.at)?)
            .bind(e.account_id)
            .bind(e.organisation_id)
            .bind(&e.credential)
            .bind(e.insurer_id)
            .bind(&e.pseudonym)
            .bind(&e.categories)
            .bind(&e.purpose)
            .bind(&e.request_id)
            .bind(&e.client_addr)
            .bind(&e.leaf_hash);
    }
    q.execute(&mut *conn).await.map_err(|e| match db_err(e) {
        StoreError::Conflict { constraint } if constraint == "unique" => index_conflict(),
        other => other,
    })?;
    Ok(())
}

async fn append_in(
    conn: &mut SqliteConnection,
    entries: &[LedgerEntryRecord],
    grants: &[EngagementRecord],
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    let size = size_in(&mut tx).await?;
    for (i, e) in entries.iter().enumerate() {
        if e.index != size + i as u64 {
            return Err(index_conflict());
        }
    }
    for chunk in entries.chunks(INSERT_CHUNK) {
        insert_chunk(&mut tx, chunk).await?;
    }
    for g in grants {
        crate::rights::insert_engagement_in(&mut tx, g).await?;
    }
    tx.commit().await.map_err(db_err)
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn ledger_size(&self) -> Result<u64, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        size_in(&mut conn).await
    }

    async fn append_ledger_entries(
        &self,
        entries: &[LedgerEntryRecord],
        grants: &[EngagementRecord],
    ) -> Result<(), StoreError> {
        if entries.is_empty() && grants.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer.acquire().await.map_err(db_err)?;
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        let result = append_in(&mut conn, entries, grants).await;
        let reset = sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await
            .map_err(db_err);
        result?;
        reset.map(|_| ())
    }

    async fn list_ledger_entries(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT leaf_index, id, at, account_id, organisation_id, credential, insurer_id, pseudonym, categories, purpose, \
             request_id, client_addr, leaf_hash FROM ledger_entries WHERE leaf_index >= ?1 ORDER BY leaf_index LIMIT ?2",
        )
        .bind(index_i64(from)?)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(entry).collect()
    }

    async fn ledger_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows = sqlx::query(
            "SELECT leaf_hash FROM ledger_entries WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index",
        )
        .bind(index_i64(from)?)
        .bind(index_i64(to)?)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| col(r, "leaf_hash")).collect()
    }

    async fn insert_ledger_tiles(&self, tiles: &[LedgerTileRecord]) -> Result<(), StoreError> {
        if tiles.is_empty() {
            return Ok(());
        }
        let rows = tiles
            .iter()
            .map(|t| Ok((index_i64(t.tile)?, t.hash.as_slice())))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        for chunk in rows.chunks(TILE_CHUNK) {
            let mut q = sqlx::QueryBuilder::new("INSERT OR IGNORE INTO ledger_tiles (tile, hash) ");
            q.push_values(chunk, |mut row, &(tile, hash)| {
                row.push_bind(tile).push_bind(hash);
            });
            q.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn ledger_tiles(&self, from: u64, to: u64) -> Result<Vec<LedgerTileRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT tile, hash FROM ledger_tiles WHERE tile >= ?1 AND tile < ?2 ORDER BY tile",
        )
        .bind(index_i64(from)?)
        .bind(index_i64(to)?)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(LedgerTileRecord {
                    tile: read_u64(r, "tile")?,
                    hash: col(r, "hash")?,
                })
            })
            .collect()
    }

    async fn ledger_tiles_end(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(tile) + 1, 0) AS tiles_end FROM ledger_tiles")
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)?;
        read_u64(&row, "tiles_end")
    }

    async fn find_ledger_entries_by_pseudonym(
        &self,
        insurer_id: Uuid,
        pseudonym: &[u8],
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError> {
        let before = before.map(index_i64).transpose()?.unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT leaf_index, id, at, account_id, organisation_id, credential, insurer_id, pseudonym, categories, purpose, \
             request_id, client_addr, leaf_hash FROM ledger_entries \
             WHERE insurer_id = ?1 AND pseudonym = ?2 AND leaf_index < ?3 ORDER BY leaf_index DESC LIMIT ?4",
        )
        .bind(insurer_id)
        .bind(pseudonym)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(entry).collect()
    }

    async fn find_ledger_entries(
        &self,
        filter: &LedgerFilter,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError> {
        let mut conditions = vec!["leaf_index < ?1".to_string()];
        let mut n = 1;
        let mut next = |c: &str| {
            n += 1;
            conditions.push(format!("{c} ?{n}"));
        };
        if filter.account_id.is_some() {
            next("account_id =");
        }
        if filter.organisation_id.is_some() {
            next("organisation_id =");
        }
        if filter.insurer_id.is_some() {
            next("insurer_id =");
        }
        if filter.from.is_some() {
            next("at >=");
        }
        if filter.to.is_some() {
            next("at <");
        }
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE {} ORDER BY leaf_index DESC LIMIT {}",
            conditions.join(" AND "),
            filter.limit
        );
        let before = filter
            .before
            .map(index_i64)
            .transpose()?
            .unwrap_or(i64::MAX);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(before);
        if let Some(a) = filter.account_id {
            q = q.bind(a);
        }
        if let Some(o) = filter.organisation_id {
            q = q.bind(o);
        }
        if let Some(i) = filter.insurer_id {
            q = q.bind(i);
        }
        if let Some(f) = filter.from {
            q = q.bind(timestamp_text(f)?);
        }
        if let Some(t) = filter.to {
            q = q.bind(timestamp_text(t)?);
        }
        let rows = q.fetch_all(&self.reader).await.map_err(db_err)?;
        rows.iter().map(entry).collect()
    }

    async fn insert_ledger_checkpoint(
        &self,
        cp: &LedgerCheckpointRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledger_checkpoints (tree_size, root, at, note) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(index_i64(cp.tree_size)?)
        .bind(&cp.root)
        .bind(timestamp_text(cp.at)?)
        .bind(&cp.note)
        .execute(&self.writer)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict { .. } => StoreError::Conflict {
                constraint: CHECKPOINT_CONSTRAINT.to_string(),
            },
            other => other,
        })?;
        Ok(())
    }

    async fn latest_ledger_checkpoint(&self) -> Result<Option<LedgerCheckpointRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT tree_size, root, at, note FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        row.as_ref().map(checkpoint).transpose()
    }

    async fn list_ledger_checkpoints(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<LedgerCheckpointRecord>, StoreError> {
        let before = before.map(index_i64).transpose()?.unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT tree_size, root, at, note FROM ledger_checkpoints WHERE tree_size < ?1 ORDER BY tree_size DESC LIMIT ?2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(checkpoint).collect()
    }

    async fn insert_ledger_verification(
        &self,
        v: &LedgerVerificationRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledger_verifications (id, at, ok, entries, checkpoints, first_bad_index, summary) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(v.id)
        .bind(timestamp_text(v.at)?)
        .bind(v.ok)
        .bind(index_i64(v.entries)?)
        .bind(index_i64(v.checkpoints)?)
        .bind(v.first_bad_index.map(index_i64).transpose()?)
        .bind(&v.summary)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn latest_ledger_verification(
        &self,
    ) -> Result<Option<LedgerVerificationRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, at, ok, entries, checkpoints, first_bad_index, summary FROM ledger_verifications \
             ORDER BY at DESC, id DESC LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let first: Option<i64> = col(&row, "first_bad_index")?;
        Ok(Some(LedgerVerificationRecord {
            id: col(&row, "id")?,
            at: timestamp_col(&row, "at")?,
            ok: col(&row, "ok")?,
            entries: read_u64(&row, "entries")?,
            checkpoints: read_u64(&row, "checkpoints")?,
            first_bad_index: first
                .map(|n| u64::try_from(n).map_err(|_| corrupt("first_bad_index")))
                .transpose()?,
            summary: col(&row, "summary")?,
        }))
    }
}
