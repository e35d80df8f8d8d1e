//! Beneficiary imports: the `imports` runs, the batch written in one transaction (array
//! parameters and `UNNEST`, one statement per kind of write), and the lookups an import needs.

use crate::beneficiaries::from_row;
use crate::codec::{col, corrupt, micros, parsed};
use crate::error::db_err;
use app::store::{
    BeneficiaryBatch, BeneficiaryRecord, ImportRecord, ImportState, ImportedBeneficiary, StoreError,
};
use domain::ids::MemberNumber;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn read_count(row: &PgRow, name: &'static str) -> Result<u64, StoreError> {
    let n: i64 = col(row, name)?;
    u64::try_from(n).map_err(|_| corrupt(name))
}

pub(crate) async fn insert(pool: &PgPool, i: &ImportRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO imports (id, insurer_id, digest, idempotency_key, full_file, file_date, state, read_rows, inserted, updated, \
         unchanged, closed, rejected, started_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(i.id)
    .bind(i.insurer_id)
    .bind(&i.digest)
    .bind(&i.idempotency_key)
    .bind(i.full)
    .bind(i.file_date)
    .bind(i.state.code())
    .bind(count(i.read))
    .bind(count(i.inserted))
    .bind(count(i.updated))
    .bind(count(i.unchanged))
    .bind(count(i.closed))
    .bind(count(i.rejected))
    .bind(micros(i.started_at))
    .bind(i.finished_at.map(micros))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn update(pool: &PgPool, i: &ImportRecord) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE imports SET state = $3, read_rows = $4, inserted = $5, updated = $6, unchanged = $7, closed = $8, \
         rejected = $9, finished_at = $10 WHERE insurer_id = $1 AND id = $2",
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
    .bind(i.finished_at.map(micros))
    .execute(pool)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn get(
    pool: &PgPool,
    insurer_id: Uuid,
    id: Uuid,
) -> Result<ImportRecord, StoreError> {
    let row = sqlx::query("SELECT * FROM imports WHERE insurer_id = $1 AND id = $2")
        .bind(insurer_id)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    Ok(ImportRecord {
        id: col(&row, "id")?,
        insurer_id: col(&row, "insurer_id")?,
        digest: col(&row, "digest")?,
        idempotency_key: col(&row, "idempotency_key")?,
        full: col(&row, "full_file")?,
        file_date: col(&row, "file_date")?,
        state: parsed(&row, "state", |s| ImportState::parse(s).ok_or(()))?,
        read: read_count(&row, "read_rows")?,
        inserted: read_count(&row, "inserted")?,
        updated: read_count(&row, "updated")?,
        unchanged: read_count(&row, "unchanged")?,
        closed: read_count(&row, "closed")?,
        rejected: read_count(&row, "rejected")?,
        started_at: col::<OffsetDateTime>(&row, "started_at")?,
        finished_at: col::<Option<OffsetDateTime>>(&row, "finished_at")?,
    })
}

pub(crate) async fn find_of_members(
    pool: &PgPool,
    insurer_id: Uuid,
    members: &[MemberNumber],
) -> Result<Vec<ImportedBeneficiary>, StoreError> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<&str> = members.iter().map(MemberNumber::as_str).collect();
    let rows = sqlx::query(
        "SELECT * FROM beneficiaries WHERE insurer_id = $1 AND member_number = ANY($2) \
         ORDER BY member_number, birth_rank, id",
    )
    .bind(insurer_id)
    .bind(&list)
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
    pool: &PgPool,
    insurer_id: Uuid,
    import_id: Uuid,
    on: Date,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<BeneficiaryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM beneficiaries WHERE insurer_id = $1 AND ($2::uuid IS NULL OR id > $2) \
         AND (last_import_id IS NULL OR last_import_id <> $3) AND valid_from <= $4 AND (valid_to IS NULL OR valid_to > $4) \
         ORDER BY id LIMIT $5",
    )
    .bind(insurer_id)
    .bind(after)
    .bind(import_id)
    .bind(on)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(from_row).collect()
}

/// The columns of `rows` as arrays, for `UNNEST` (also `beneficiaries::update_seals`).
#[derive(Default)]
pub(crate) struct Columns {
    pub(crate) insurer_id: Vec<Uuid>,
    pub(crate) id: Vec<Uuid>,
    member_number: Vec<String>,
    birth_rank: Vec<i16>,
    pub(crate) nir: Vec<Vec<u8>>,
    pub(crate) last_name: Vec<Vec<u8>>,
    pub(crate) first_name: Vec<Vec<u8>>,
    pub(crate) birth_date: Vec<Vec<u8>>,
    pub(crate) marital_status: Vec<Vec<u8>>,
    quality: Vec<String>,
    contract_id: Vec<Uuid>,
    valid_from: Vec<Date>,
    valid_to: Vec<Option<Date>>,
    created_at: Vec<OffsetDateTime>,
    updated_at: Vec<OffsetDateTime>,
    pub(crate) nir_index: Vec<i64>,
}

impl Columns {
    pub(crate) fn of(rows: &[BeneficiaryRecord]) -> Self {
        let mut c = Columns::default();
        for b in rows {
            c.insurer_id.push(b.insurer_id);
            c.id.push(b.id);
            c.member_number.push(b.member_number.as_str().to_string());
            c.birth_rank.push(i16::from(b.birth_rank.get()));
            c.nir.push(b.nir_sealed.clone());
            c.last_name.push(b.last_name_sealed.clone());
            c.first_name.push(b.first_name_sealed.clone());
            c.birth_date.push(b.birth_date_sealed.clone());
            c.marital_status.push(b.marital_status_sealed.clone());
            c.quality.push(b.quality.code().to_string());
            c.contract_id.push(b.contract_id);
            c.valid_from.push(b.valid_from);
            c.valid_to.push(b.valid_to);
            c.created_at.push(micros(b.created_at));
            c.updated_at.push(micros(b.updated_at));
            c.nir_index.push(i64::from(b.nir_index));
        }
        c
    }
}

pub(crate) async fn apply_batch(pool: &PgPool, batch: &BeneficiaryBatch) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    apply_in(&mut tx, batch).await?;
    tx.commit().await.map_err(db_err)
}

/// Applies the batches received on `batches` in one transaction, committed when the channel
/// closes (`Store::apply_beneficiary_batches`). The transaction begins with the first batch.
pub(crate) async fn apply_batches(
    pool: &PgPool,
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
async fn apply_in(conn: &mut PgConnection, batch: &BeneficiaryBatch) -> Result<(), StoreError> {
    if !batch.inserts.is_empty() {
        let c = Columns::of(&batch.inserts);
        sqlx::query(
            "INSERT INTO beneficiaries (id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, first_name_sealed, \
             birth_date_sealed, marital_status_sealed, quality, contract_id, valid_from, valid_to, created_at, updated_at, nir_index, \
             last_import_id) \
             SELECT t.id, $1, t.member_number, t.birth_rank, t.nir, t.last_name, t.first_name, t.birth_date, t.marital_status, \
             t.quality, t.contract_id, t.valid_from, t.valid_to, t.created_at, t.updated_at, t.nir_index, $2 \
             FROM UNNEST($3::uuid[], $4::text[], $5::int2[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[], \
             $11::text[], $12::uuid[], $13::date[], $14::date[], $15::timestamptz[], $16::timestamptz[], $17::int8[]) \
             AS t(id, member_number, birth_rank, nir, last_name, first_name, birth_date, marital_status, quality, contract_id, \
             valid_from, valid_to, created_at, updated_at, nir_index)",
        )
        .bind(batch.insurer_id)
        .bind(batch.import_id)
        .bind(&c.id)
        .bind(&c.member_number)
        .bind(&c.birth_rank)
        .bind(&c.nir)
        .bind(&c.last_name)
        .bind(&c.first_name)
        .bind(&c.birth_date)
        .bind(&c.marital_status)
        .bind(&c.quality)
        .bind(&c.contract_id)
        .bind(&c.valid_from)
        .bind(&c.valid_to)
        .bind(&c.created_at)
        .bind(&c.updated_at)
        .bind(&c.nir_index)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    if !batch.updates.is_empty() {
        let c = Columns::of(&batch.updates);
        let done = sqlx::query(
            "UPDATE beneficiaries AS b SET nir_sealed = t.nir, last_name_sealed = t.last_name, first_name_sealed = t.first_name, \
             birth_date_sealed = t.birth_date, marital_status_sealed = t.marital_status, quality = t.quality, \
             contract_id = t.contract_id, valid_from = t.valid_from, valid_to = t.valid_to, updated_at = t.updated_at, \
             last_import_id = $2 \
             FROM UNNEST($3::uuid[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bytea[], $9::text[], $10::uuid[], \
             $11::date[], $12::date[], $13::timestamptz[]) \
             AS t(id, nir, last_name, first_name, birth_date, marital_status, quality, contract_id, valid_from, valid_to, updated_at) \
             WHERE b.insurer_id = $1 AND b.id = t.id",
        )
        .bind(batch.insurer_id)
        .bind(batch.import_id)
        .bind(&c.id)
        .bind(&c.nir)
        .bind(&c.last_name)
        .bind(&c.first_name)
        .bind(&c.birth_date)
        .bind(&c.marital_status)
        .bind(&c.quality)
        .bind(&c.contract_id)
        .bind(&c.valid_from)
        .bind(&c.valid_to)
        .bind(&c.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        if done.rows_affected() != u64::try_from(batch.updates.len()).unwrap_or(u64::MAX) {
            return Err(StoreError::NotFound);
        }
    }
    if !batch.seen.is_empty() {
        sqlx::query(
            "UPDATE beneficiaries SET last_import_id = $2 WHERE insurer_id = $1 AND id = ANY($3)",
        )
        .bind(batch.insurer_id)
        .bind(batch.import_id)
        .bind(&batch.seen)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    crate::cards::insert_in(conn, &batch.cards).await
}
