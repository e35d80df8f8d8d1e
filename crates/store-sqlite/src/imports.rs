//! Beneficiary imports: the `imports` runs, the batch written in one transaction, and the
//! lookups an import needs (families by member number, rows a full import did not see).
//!
//! Batches use multi-row statements (up to [`INSERT_CHUNK`] rows per statement) to keep the
//! per-row cost of the driver low; every statement of a batch runs in the same transaction.
//!
//! # No statement journal
//!
//! A statement that writes several b-trees (a row and its indexes) and may stop half-way keeps,
//! in SQLite, a copy of every page it touches, so that it can undo itself alone: with random-key
//! indexes, a page copy per row. A batch never undoes one statement (any error fails the whole
//! transaction, which is rolled back), so nothing here needs that journal, and nothing asks for
//! it: the statements stop in place on a constraint (`OR FAIL`), and the foreign keys of
//! `beneficiaries` and `cards` are checked at `COMMIT` (`DEFERRABLE INITIALLY DEFERRED`,
//! migration 0033); a broken key still fails the batch, whole. Together: ~15 % faster imports
//! (docs/benchmarks.md).

use crate::beneficiaries::from_row;
use crate::codec::{
    col, corrupt, date_col, date_text, opt_date_text, parsed, timestamp_col, timestamp_text,
};
use crate::error::db_err;
use app::store::{
    BeneficiaryBatch, BeneficiaryRecord, ImportRecord, ImportState, ImportedBeneficiary, StoreError,
};
use domain::ids::MemberNumber;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use time::Date;
use uuid::Uuid;

/// Rows per multi-row INSERT (17 parameters each: 8,704, under SQLite's limit of 32,766).
/// Every statement is a round trip to the connection's worker thread, which waits meanwhile:
/// 512 rows a trip instead of 64 make a 1M-row import ~15 % faster (docs/benchmarks.md).
pub(crate) const INSERT_CHUNK: usize = 512;
/// Ids per `IN (…)` list.
const ID_CHUNK: usize = 500;

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn read_count(row: &SqliteRow, name: &'static str) -> Result<u64, StoreError> {
    let n: i64 = col(row, name)?;
    u64::try_from(n).map_err(|_| corrupt(name))
}

pub(crate) async fn insert(pool: &SqlitePool, i: &ImportRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO imports (id, insurer_id, digest, idempotency_key, full_file, file_date, state, read_rows, inserted, updated, \
         unchanged, closed, rejected, started_at, finished_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )
    .bind(i.id)
    .bind(i.insurer_id)
    .bind(&i.digest)
    .bind(&i.idempotency_key)
    .bind(i.full)
    .bind(date_text(i.file_date)?)
    .bind(i.state.code())
    .bind(count(i.read))
    .bind(count(i.inserted))
    .bind(count(i.updated))
    .bind(count(i.unchanged))
    .bind(count(i.closed))
    .bind(count(i.rejected))
    .bind(timestamp_text(i.started_at)?)
    .bind(i.finished_at.map(timestamp_text).transpose()?)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn update(pool: &SqlitePool, i: &ImportRecord) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE imports SET state = ?3, read_rows = ?4, inserted = ?5, updated = ?6, unchanged = ?7, closed = ?8, \
         rejected = ?9, finished_at = ?10 WHERE insurer_id = ?1 AND id = ?2",
    )
    .bind(i.insurer_id)
    .bind(i.id)
    .bind(i.state.code())
    .bind(count(i.read))
    .bind(count(i.inserted))
    .bind(count(i.updated))
    .bind(count(i.unchanged))
    .bind(count(i.closed))
    .bind(count(i.rejected))
    .bind(i.finished_at.map(timestamp_text).transpose()?)
    .execute(pool)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn get(
    pool: &SqlitePool,
    insurer_id: Uuid,
    id: Uuid,
) -> Result<ImportRecord, StoreError> {
    let row = sqlx::query("SELECT * FROM imports WHERE insurer_id = ?1 AND id = ?2")
        .bind(insurer_id)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    let finished: Option<String> = col(&row, "finished_at")?;
    Ok(ImportRecord {
        id: col(&row, "id")?,
        insurer_id: col(&row, "insurer_id")?,
        digest: col(&row, "digest")?,
        idempotency_key: col(&row, "idempotency_key")?,
        full: col(&row, "full_file")?,
        file_date: date_col(&row, "file_date")?,
        state: parsed(&row, "state", |s| ImportState::parse(s).ok_or(()))?,
        read: read_count(&row, "read_rows")?,
        inserted: read_count(&row, "inserted")?,
        updated: read_count(&row, "updated")?,
        unchanged: read_count(&row, "unchanged")?,
        closed: read_count(&row, "closed")?,
        rejected: read_count(&row, "rejected")?,
        started_at: timestamp_col(&row, "started_at")?,
        finished_at: match finished {
            None => None,
            Some(_) => Some(timestamp_col(&row, "finished_at")?),
        },
    })
}

pub(crate) async fn find_of_members(
    pool: &SqlitePool,
    insurer_id: Uuid,
    members: &[MemberNumber],
) -> Result<Vec<ImportedBeneficiary>, StoreError> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    // Member numbers are ASCII letters and digits only: nothing to escape in a JSON string.
    let json = format!(
        "[{}]",
        members
            .iter()
            .map(|m| format!("\"{}\"", m.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    );
    let rows = sqlx::query(
        "SELECT * FROM beneficiaries WHERE insurer_id = ?1 AND member_number IN (SELECT value FROM json_each(?2)) \
         ORDER BY member_number, birth_rank, id",
    )
    .bind(insurer_id)
    .bind(json)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|row| {
            Ok(ImportedBeneficiary {
                record: from_row(row)?,
                last_import_id: col(row, "last_import_id")?,
            })
        })
        .collect()
}

pub(crate) async fn find_unseen(
    pool: &SqlitePool,
    insurer_id: Uuid,
    import_id: Uuid,
    on: Date,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM beneficiaries WHERE +insurer_id = ?1 AND id > ?2 \
         AND (last_import_id IS NULL OR last_import_id <> ?3) AND valid_from <= ?4 AND (valid_to IS NULL OR valid_to > ?5) \
         ORDER BY id LIMIT ?6",
    )
    .bind(insurer_id)
    .bind(after.unwrap_or(Uuid::nil()))
    .bind(import_id)
    .bind(date_text(on)?)
    .bind(date_text(on)?)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn apply_batch(
    pool: &SqlitePool,
    batch: &BeneficiaryBatch,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    apply_in(&mut tx, batch).await?;
    tx.commit().await.map_err(db_err)
}

/// Applies the batches received on `batches` in one transaction, committed when the channel
/// closes (`Store::apply_beneficiary_batches`). The transaction begins with the first batch,
/// so the writer connection is not held while the import prepares it.
pub(crate) async fn apply_batches(
    pool: &SqlitePool,
    mut batches: app::store::BeneficiaryBatches,
) -> Result<usize, StoreError> {
    let Some(first) = batches.recv().await else {
        return Ok(0);
    };
    let mut tx = pool.begin().await.map_err(db_err)?;
    apply_in(&mut tx, &first).await?;
    drop(first);
    let mut applied = 1;
    while let Some(batch) = batches.recv().await {
        apply_in(&mut tx, &batch).await?;
        applied += 1;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(applied)
}

/// Writes one batch on `conn`, inside the caller's transaction.
async fn apply_in(conn: &mut SqliteConnection, batch: &BeneficiaryBatch) -> Result<(), StoreError> {
    insert_in(conn, Some(batch.import_id), &batch.inserts).await?;
    // Up to 512 rows per statement, like the inserts (not one round trip per row).
    let updated = execute_chunks(conn, &batch.updates, |chunk| {
        let sql = format!(
            "UPDATE OR FAIL beneficiaries SET nir_sealed = v.column3, last_name_sealed = v.column4, \
             first_name_sealed = v.column5, birth_date_sealed = v.column6, marital_status_sealed = v.column7, \
             quality = v.column8, contract_id = v.column9, valid_from = v.column10, valid_to = v.column11, \
             updated_at = v.column12, last_import_id = v.column13 FROM (VALUES {}) AS v \
             WHERE beneficiaries.insurer_id = v.column1 AND beneficiaries.id = v.column2",
            values_rows(13, chunk.len())
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
                .bind(b.quality.code())
                .bind(b.contract_id)
                .bind(date_text(b.valid_from)?)
                .bind(opt_date_text(b.valid_to)?)
                .bind(timestamp_text(b.updated_at)?)
                .bind(batch.import_id);
        }
        Ok(q)
    })
    .await?;
    if updated != u64::try_from(batch.updates.len()).unwrap_or(u64::MAX) {
        return Err(StoreError::NotFound);
    }
    for chunk in batch.seen.chunks(ID_CHUNK) {
        let sql = format!(
            "UPDATE OR FAIL beneficiaries SET last_import_id = ?1 WHERE insurer_id = ?2 AND id IN ({})",
            (3..chunk.len() + 3)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(batch.import_id)
            .bind(batch.insurer_id);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await.map_err(db_err)?;
    }
    crate::cards::insert_in(conn, &batch.cards).await
}

/// Inserts `rows` on `conn` (inside the caller's transaction), up to [`INSERT_CHUNK`] per
/// statement, marked with `import_id` when an import writes them. The statements stop in
/// place on an error (`OR FAIL`, "No statement journal" above): the caller rolls its
/// transaction back.
pub(crate) async fn insert_in(
    conn: &mut SqliteConnection,
    import_id: Option<Uuid>,
    rows: &[BeneficiaryRecord],
) -> Result<(), StoreError> {
    execute_chunks(conn, rows, |chunk| insert_chunk(import_id, chunk))
        .await
        .map(|_| ())
}

/// Runs one statement per [`INSERT_CHUNK`] rows of `rows` on `conn`, in order, stopping at the
/// first error, and returns the rows they affected. The next statement is built (its values
/// bound) on this task while the connection's worker thread runs the current one, so the
/// writer does not wait for it.
pub(crate) async fn execute_chunks<'r, T, F>(
    conn: &mut SqliteConnection,
    rows: &'r [T],
    build: F,
) -> Result<u64, StoreError>
where
    F: Fn(&'r [T]) -> Result<Query<'r, Sqlite, SqliteArguments>, StoreError>,
{
    // Only full chunks are kept prepared: the last chunk has any size, and the connection's
    // statement cache would otherwise fill with big statements used once.
    let prepare = |chunk: &'r [T]| {
        build(chunk).map(|statement| statement.persistent(chunk.len() == INSERT_CHUNK))
    };
    let mut chunks = rows.chunks(INSERT_CHUNK);
    let mut next = chunks.next().map(prepare).transpose()?;
    let mut affected = 0;
    while let Some(statement) = next.take() {
        // `biased`: the statement is sent to the worker first, then the next one is built.
        let (done, built) = tokio::join!(
            biased;
            statement.execute(&mut *conn),
            async { chunks.next().map(prepare).transpose() },
        );
        affected += done.map_err(db_err)?.rows_affected();
        next = built?;
    }
    Ok(affected)
}

/// The `VALUES` rows of a multi-row statement: `rows` groups of `columns` placeholders,
/// `(?, ?), (?, ?)`.
pub(crate) fn values_rows(columns: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns].join(", "));
    vec![one; rows].join(", ")
}

fn insert_chunk(
    import_id: Option<Uuid>,
    rows: &[BeneficiaryRecord],
) -> Result<Query<'_, Sqlite, SqliteArguments>, StoreError> {
    let sql = format!(
        "INSERT OR FAIL INTO beneficiaries (id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, \
         birth_date_sealed, marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index, \
         last_import_id) VALUES {}",
        values_rows(17, rows.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in rows {
        q = q
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
            .bind(i64::from(b.nir_index))
            .bind(import_id);
    }
    Ok(q)
}
