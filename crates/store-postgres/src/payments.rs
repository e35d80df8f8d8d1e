//! `PaymentsStore` on PostgreSQL (migration 0026). The claim is one transaction: the run
//! row, the `paid_run_id` update (`WHERE paid_run_id IS NULL`: a concurrent claim waits on
//! the row locks and then skips the lines already claimed) and the payee snapshot commit
//! together or not at all. Two claims for the same cut-off are serialised by an advisory
//! transaction lock so that the second resumes the first instead of racing it.

use crate::PgStore;
use crate::codec::{col, corrupt, micros, u64_count};
use crate::error::db_err;
use app::payments::store::{
    BilledLineRecord, IbanChangeRecord, IbanChangeStatus, PaymentRunRecord, PaymentsStore,
    RunLineRecord, RunPayeeRecord, RunStatus, TransferRecord,
};
use app::store::StoreError;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

const RUN_COLUMNS: &str = "id, cutoff_date, execution_date, status, created_by, created_at, written_at, line_count, transfer_count, total_cents";
const LINE_SELECT: &str = "SELECT l.invoice_id, l.line_no, l.organisation_id AS practice_id, i.amc AS insurer_amc, l.domain, l.contract_code, l.amc_cents, l.care_date FROM invoice_lines l JOIN insurers i ON i.id = l.insurer_id";
const CHANGE_COLUMNS: &str = "id, practice_id, iban_sealed, status, requested_by, requested_at, confirmed_by, confirmed_at, effective_at, applied_at, cancelled_by, cancelled_at";

fn run(row: &PgRow) -> Result<PaymentRunRecord, StoreError> {
    let status: String = col(row, "status")?;
    Ok(PaymentRunRecord {
        id: col(row, "id")?,
        cutoff_date: col(row, "cutoff_date")?,
        execution_date: col(row, "execution_date")?,
        status: RunStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        written_at: col(row, "written_at")?,
        line_count: u64_count(row, "line_count")?,
        transfer_count: u64_count(row, "transfer_count")?,
        total_cents: col(row, "total_cents")?,
    })
}

fn line(row: &PgRow) -> Result<RunLineRecord, StoreError> {
    let line_no: i64 = col(row, "line_no")?;
    Ok(RunLineRecord {
        invoice_id: col(row, "invoice_id")?,
        line_no: u32::try_from(line_no).map_err(|_| corrupt("line_no"))?,
        practice_id: col(row, "practice_id")?,
        insurer_amc: col(row, "insurer_amc")?,
        domain: col(row, "domain")?,
        contract_code: col(row, "contract_code")?,
        amc_cents: col(row, "amc_cents")?,
        care_date: col(row, "care_date")?,
    })
}

fn transfer(row: &PgRow) -> Result<TransferRecord, StoreError> {
    let seq: i64 = col(row, "seq")?;
    Ok(TransferRecord {
        run_id: col(row, "run_id")?,
        practice_id: col(row, "practice_id")?,
        seq: u32::try_from(seq).map_err(|_| corrupt("seq"))?,
        statement_id: col(row, "statement_id")?,
        execution_date: col(row, "execution_date")?,
        amount_cents: col(row, "amount_cents")?,
        line_count: u64_count(row, "line_count")?,
        statement_csv: col(row, "statement_csv")?,
    })
}

fn change(row: &PgRow) -> Result<IbanChangeRecord, StoreError> {
    let status: String = col(row, "status")?;
    Ok(IbanChangeRecord {
        id: col(row, "id")?,
        practice_id: col(row, "practice_id")?,
        iban_sealed: col(row, "iban_sealed")?,
        status: IbanChangeStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        requested_by: col(row, "requested_by")?,
        requested_at: col(row, "requested_at")?,
        confirmed_by: col(row, "confirmed_by")?,
        confirmed_at: col(row, "confirmed_at")?,
        effective_at: col(row, "effective_at")?,
        applied_at: col(row, "applied_at")?,
        cancelled_by: col(row, "cancelled_by")?,
        cancelled_at: col(row, "cancelled_at")?,
    })
}

fn count(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Other("count out of range".into()))
}

#[async_trait]
impl PaymentsStore for PgStore {
    async fn claim_payment_run(
        &self,
        new: &PaymentRunRecord,
    ) -> Result<Option<PaymentRunRecord>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('rempart.payment_runs.claim'))")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let cutoff = new.cutoff_date;
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM payment_runs WHERE status = 'claimed' AND cutoff_date = $1 ORDER BY created_at, id LIMIT 1"
        );
        if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cutoff)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
        {
            let existing = run(&row)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(existing));
        }
        sqlx::query(
            "INSERT INTO payment_runs (id, cutoff_date, execution_date, status, created_by, created_at, written_at, line_count, transfer_count, total_cents) \
             VALUES ($1, $2, $3, 'claimed', $4, $5, NULL, 0, 0, 0)",
        )
        .bind(new.id)
        .bind(cutoff)
        .bind(new.execution_date)
        .bind(new.created_by)
        .bind(micros(new.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let claimed = sqlx::query(
            "UPDATE invoice_lines SET paid_run_id = $1 \
             WHERE paid_run_id IS NULL AND rejection IS NULL AND amc_cents > 0 AND care_date <= $2 \
             AND invoice_id IN (SELECT id FROM invoices WHERE status <> 'rejected')",
        )
        .bind(new.id)
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if claimed == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO payment_run_payees (run_id, practice_id, name, iban_sealed) \
             SELECT $1, p.id, p.name, p.iban_sealed FROM practices p \
             WHERE p.id IN (SELECT DISTINCT organisation_id FROM invoice_lines WHERE paid_run_id = $1)",
        )
        .bind(new.id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE payment_runs SET line_count = $2 WHERE id = $1")
            .bind(new.id)
            .bind(count(claimed)?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let mut stored = new.clone();
        stored.status = RunStatus::Claimed;
        stored.written_at = None;
        stored.line_count = claimed;
        stored.transfer_count = 0;
        stored.total_cents = 0;
        Ok(Some(stored))
    }

    async fn list_run_lines(&self, run_id: Uuid) -> Result<Vec<RunLineRecord>, StoreError> {
        let sql =
            format!("{LINE_SELECT} WHERE l.paid_run_id = $1 ORDER BY l.invoice_id, l.line_no");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(run_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(line).collect()
    }

    async fn list_run_payees(&self, run_id: Uuid) -> Result<Vec<RunPayeeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT practice_id, name, iban_sealed FROM payment_run_payees WHERE run_id = $1 ORDER BY practice_id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(RunPayeeRecord {
                    practice_id: col(r, "practice_id")?,
                    name: col(r, "name")?,
                    iban_sealed: col(r, "iban_sealed")?,
                })
            })
            .collect()
    }

    async fn complete_payment_run(
        &self,
        run_id: Uuid,
        transfers: &[TransferRecord],
        total_cents: i64,
        written_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let updated = sqlx::query(
            "UPDATE payment_runs SET status = 'written', written_at = $2, transfer_count = $3, total_cents = $4 WHERE id = $1",
        )
        .bind(run_id)
        .bind(micros(written_at))
        .bind(count(transfers.len() as u64)?)
        .bind(total_cents)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM payment_transfers WHERE run_id = $1")
            .bind(run_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for t in transfers {
            sqlx::query(
                "INSERT INTO payment_transfers (run_id, practice_id, seq, statement_id, execution_date, amount_cents, line_count, statement_csv) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(run_id)
            .bind(t.practice_id)
            .bind(i64::from(t.seq))
            .bind(&t.statement_id)
            .bind(t.execution_date)
            .bind(t.amount_cents)
            .bind(count(t.line_count)?)
            .bind(&t.statement_csv)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_payment_run(&self, run_id: Uuid) -> Result<PaymentRunRecord, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM payment_runs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        run(&row)
    }

    async fn list_payment_runs(&self, limit: u32) -> Result<Vec<PaymentRunRecord>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM payment_runs ORDER BY created_at DESC, id DESC LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(run).collect()
    }

    async fn list_practice_transfers(
        &self,
        practice_id: Uuid,
        limit: u32,
    ) -> Result<Vec<TransferRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, practice_id, seq, statement_id, execution_date, amount_cents, line_count, '' AS statement_csv \
             FROM payment_transfers WHERE practice_id = $1 ORDER BY execution_date DESC, statement_id DESC LIMIT $2",
        )
        .bind(practice_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(transfer).collect()
    }

    async fn find_practice_transfer(
        &self,
        practice_id: Uuid,
        statement_id: &str,
    ) -> Result<Option<TransferRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT run_id, practice_id, seq, statement_id, execution_date, amount_cents, line_count, statement_csv \
             FROM payment_transfers WHERE practice_id = $1 AND statement_id = $2",
        )
        .bind(practice_id)
        .bind(statement_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(transfer).transpose()
    }

    async fn list_billed_lines(
        &self,
        insurer_id: Uuid,
        from: Date,
        to: Date,
    ) -> Result<Vec<BilledLineRecord>, StoreError> {
        let sql = "SELECT l.invoice_id, l.line_no, l.organisation_id AS practice_id, i.amc AS insurer_amc, l.domain, l.contract_code, l.amc_cents, l.care_date, \
                   r.id AS run_id, r.execution_date AS run_execution_date, t.statement_id \
                   FROM payment_runs r \
                   JOIN invoice_lines l ON l.paid_run_id = r.id \
                   JOIN insurers i ON i.id = l.insurer_id \
                   JOIN payment_transfers t ON t.run_id = r.id AND t.practice_id = l.organisation_id \
                   WHERE r.status = 'written' AND r.execution_date >= $2 AND r.execution_date <= $3 AND l.insurer_id = $1 \
                   ORDER BY r.execution_date, r.id, l.invoice_id, l.line_no";
        let rows = sqlx::query(sql)
            .bind(insurer_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(BilledLineRecord {
                    run_id: col(r, "run_id")?,
                    execution_date: col(r, "run_execution_date")?,
                    statement_id: col(r, "statement_id")?,
                    line: line(r)?,
                })
            })
            .collect()
    }

    async fn insert_iban_change(&self, c: &IbanChangeRecord) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO iban_changes ({CHANGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(c.id)
            .bind(c.practice_id)
            .bind(&c.iban_sealed)
            .bind(c.status.code())
            .bind(c.requested_by)
            .bind(micros(c.requested_at))
            .bind(c.confirmed_by)
            .bind(c.confirmed_at.map(micros))
            .bind(c.effective_at.map(micros))
            .bind(c.applied_at.map(micros))
            .bind(c.cancelled_by)
            .bind(c.cancelled_at.map(micros))
            .execute(&self.pool)
            .await
            .map_err(|e| match db_err(e) {
                StoreError::Conflict { constraint } if constraint != "foreign_key" => {
                    StoreError::Conflict {
                        constraint: "iban_changes_open".into(),
                    }
                }
                other => other,
            })?;
        Ok(())
    }

    async fn get_iban_change(&self, id: Uuid) -> Result<IbanChangeRecord, StoreError> {
        let sql = format!("SELECT {CHANGE_COLUMNS} FROM iban_changes WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        change(&row)
    }

    async fn list_iban_changes(
        &self,
        practice_id: Option<Uuid>,
    ) -> Result<Vec<IbanChangeRecord>, StoreError> {
        let rows = match practice_id {
            Some(p) => {
                let sql = format!(
                    "SELECT {CHANGE_COLUMNS} FROM iban_changes WHERE practice_id = $1 ORDER BY requested_at DESC, id DESC"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(p).fetch_all(&self.pool).await
            }
            None => {
                let sql = format!(
                    "SELECT {CHANGE_COLUMNS} FROM iban_changes WHERE status IN ('requested', 'confirmed') ORDER BY requested_at DESC, id DESC"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await
            }
        }
        .map_err(db_err)?;
        rows.iter().map(change).collect()
    }

    async fn confirm_iban_change(
        &self,
        id: Uuid,
        by: Uuid,
        at: OffsetDateTime,
        effective_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE iban_changes SET status = 'confirmed', confirmed_by = $2, confirmed_at = $3, effective_at = $4 \
             WHERE id = $1 AND status = 'requested' AND requested_by <> $2",
        )
        .bind(id)
        .bind(by)
        .bind(micros(at))
        .bind(micros(effective_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        if updated == 1 {
            return Ok(());
        }
        self.get_iban_change(id).await?;
        Err(StoreError::Conflict {
            constraint: "iban_changes_state".into(),
        })
    }

    async fn apply_due_iban_changes(
        &self,
        now: OffsetDateTime,
        resealed: app::payments::store::Reseal<'_>,
    ) -> Result<Vec<IbanChangeRecord>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM iban_changes WHERE status = 'confirmed' AND effective_at <= $1 ORDER BY effective_at, id"
        );
        let now_text = micros(now);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_text)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut applied = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut c = change(row)?;
            let sealed = resealed(&c)?;
            sqlx::query("UPDATE practices SET iban_sealed = $2 WHERE id = $1")
                .bind(c.practice_id)
                .bind(&sealed)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query(
                "UPDATE iban_changes SET status = 'applied', applied_at = $2 WHERE id = $1",
            )
            .bind(c.id)
            .bind(now_text)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            c.status = IbanChangeStatus::Applied;
            c.applied_at = Some(now);
            applied.push(c);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(applied)
    }
}
