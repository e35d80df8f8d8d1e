//! The money part of the store (`MoneyStore`): contract documents, prior approvals, invoices
//! and their lines, the beneficiaries' counters. A claim is decided and written in one
//! transaction on the single writer connection, so claims never interleave.

use crate::SqliteStore;
use crate::codec::{
    col, corrupt, date_col, date_text, opt_date_col, opt_date_text, timestamp_col, timestamp_text,
};
use crate::error::db_err;
use app::invoices::store::{
    ApprovalRecord, ApprovalStatus, ClaimContext, ClaimScope, ClaimWrite, CounterRecord, Decide,
    InvoiceLineRecord, InvoiceRecord, MoneyStore,
};
use app::store::{ContractRecord, StoreError};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, Transaction};
use std::sync::LazyLock;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

const APPROVAL_COLUMNS: &str = "id, number, insurer_id, beneficiary_id, organisation_id, actor_id, engagement_id, contract_id, domain, status, care_date, valid_until, total_cents, lines, answer, created_at, closed_at";
const INVOICE_COLUMNS: &str = "id, insurer_id, organisation_id, actor_id, engagement_id, beneficiary_id, approval_id, contract_id, contract_code, domain, care_date, status, total_cents, fingerprint, created_at";
const LINE_COLUMNS: &str = "line_no, kind, class, complexity, ear, quantity, price_cents, br_cents, amo_cents, amc_cents, rejection, steps, paid_run_id";
const COUNTER_COLUMNS: &str = "id, insurer_id, beneficiary_id, counter, domain, ear, budget, amount_cents, counted_on, approval_id, invoice_id, expires_on";

fn approval(row: &SqliteRow) -> Result<ApprovalRecord, StoreError> {
    let status: String = col(row, "status")?;
    Ok(ApprovalRecord {
        id: col(row, "id")?,
        number: col(row, "number")?,
        insurer_id: col(row, "insurer_id")?,
        beneficiary_id: col(row, "beneficiary_id")?,
        organisation_id: col(row, "organisation_id")?,
        actor_id: col(row, "actor_id")?,
        engagement_id: col(row, "engagement_id")?,
        contract_id: col(row, "contract_id")?,
        domain: col(row, "domain")?,
        status: ApprovalStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        care_date: date_col(row, "care_date")?,
        valid_until: date_col(row, "valid_until")?,
        total_cents: col(row, "total_cents")?,
        lines: col(row, "lines")?,
        answer: col(row, "answer")?,
        created_at: timestamp_col(row, "created_at")?,
        closed_at: match col::<Option<String>>(row, "closed_at")? {
            None => None,
            Some(_) => Some(timestamp_col(row, "closed_at")?),
        },
    })
}

fn invoice(row: &SqliteRow) -> Result<InvoiceRecord, StoreError> {
    Ok(InvoiceRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        organisation_id: col(row, "organisation_id")?,
        actor_id: col(row, "actor_id")?,
        engagement_id: col(row, "engagement_id")?,
        beneficiary_id: col(row, "beneficiary_id")?,
        approval_id: col(row, "approval_id")?,
        contract_id: col(row, "contract_id")?,
        contract_code: col(row, "contract_code")?,
        domain: col(row, "domain")?,
        care_date: date_col(row, "care_date")?,
        status: col(row, "status")?,
        total_cents: col(row, "total_cents")?,
        fingerprint: col(row, "fingerprint")?,
        created_at: timestamp_col(row, "created_at")?,
        lines: Vec::new(),
    })
}

fn line(row: &SqliteRow) -> Result<InvoiceLineRecord, StoreError> {
    let line_no: i64 = col(row, "line_no")?;
    let quantity: i64 = col(row, "quantity")?;
    Ok(InvoiceLineRecord {
        line_no: u32::try_from(line_no).map_err(|_| corrupt("line_no"))?,
        kind: col(row, "kind")?,
        class: col(row, "class")?,
        complexity: col(row, "complexity")?,
        ear: col(row, "ear")?,
        quantity: u8::try_from(quantity).map_err(|_| corrupt("quantity"))?,
        price_cents: col(row, "price_cents")?,
        br_cents: col(row, "br_cents")?,
        amo_cents: col(row, "amo_cents")?,
        amc_cents: col(row, "amc_cents")?,
        rejection: col(row, "rejection")?,
        steps: col(row, "steps")?,
        paid_run_id: col(row, "paid_run_id")?,
    })
}

fn counter(row: &SqliteRow) -> Result<CounterRecord, StoreError> {
    Ok(CounterRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        beneficiary_id: col(row, "beneficiary_id")?,
        counter: col(row, "counter")?,
        domain: col(row, "domain")?,
        ear: col(row, "ear")?,
        budget: col(row, "budget")?,
        amount_cents: col(row, "amount_cents")?,
        on: date_col(row, "counted_on")?,
        approval_id: col(row, "approval_id")?,
        invoice_id: col(row, "invoice_id")?,
        expires_on: opt_date_col(row, "expires_on")?,
    })
}

async fn counters_in_force(
    conn: &mut SqliteConnection,
    insurer_id: Uuid,
    beneficiary_id: Uuid,
    today: Date,
) -> Result<Vec<CounterRecord>, StoreError> {
    let sql = format!(
        "SELECT {COUNTER_COLUMNS} FROM claim_counters \
         WHERE insurer_id = ?1 AND beneficiary_id = ?2 AND (expires_on IS NULL OR expires_on >= ?3) \
         ORDER BY counted_on, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(insurer_id)
        .bind(beneficiary_id)
        .bind(date_text(today)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    rows.iter().map(counter).collect()
}

/// What a claim decides on, read in one statement (one round trip to the writer, inside the
/// claim's transaction): the beneficiary's counters in force, and whether the practice already
/// has a non-rejected invoice with the claim's fingerprint. The one-row derived table carries
/// the duplicate flag; the counters are left-joined to it (no counter: one row of NULLs).
async fn claim_reads(
    conn: &mut SqliteConnection,
    scope: &ClaimScope,
) -> Result<(Vec<CounterRecord>, bool), StoreError> {
    // Built once: the statement is the same for every claim.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let columns = COUNTER_COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT d.duplicate AS duplicate, {columns} \
             FROM (SELECT EXISTS (SELECT 1 FROM invoices WHERE organisation_id = ?1 AND fingerprint = ?2 AND status <> 'rejected') AS duplicate) AS d \
             LEFT JOIN claim_counters AS c ON c.insurer_id = ?3 AND c.beneficiary_id = ?4 AND (c.expires_on IS NULL OR c.expires_on >= ?5) \
             ORDER BY c.counted_on, c.id"
        )
    });
    let rows = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(scope.organisation_id)
        .bind(scope.fingerprint.as_deref())
        .bind(scope.insurer_id)
        .bind(scope.beneficiary_id)
        .bind(date_text(scope.today)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut duplicate = false;
    let mut counters = Vec::with_capacity(rows.len());
    for row in &rows {
        duplicate = col::<bool>(row, "duplicate")?;
        if col::<Option<Uuid>>(row, "id")?.is_some() {
            counters.push(counter(row)?);
        }
    }
    Ok((counters, duplicate))
}

async fn find_approval_in(
    conn: &mut SqliteConnection,
    organisation_id: Uuid,
    number: &str,
) -> Result<Option<ApprovalRecord>, StoreError> {
    let sql = format!(
        "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE organisation_id = ?1 AND number = ?2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(organisation_id)
        .bind(number)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    row.as_ref().map(approval).transpose()
}

/// Inserts the counter rows of a claim in one statement (one round trip).
async fn insert_counters(
    tx: &mut Transaction<'_, Sqlite>,
    counters: &[CounterRecord],
) -> Result<(), StoreError> {
    if counters.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(counters.len());
    for c in counters {
        rows.push((c, date_text(c.on)?, opt_date_text(c.expires_on)?));
    }
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO claim_counters (id, insurer_id, beneficiary_id, counter, domain, ear, budget, amount_cents, counted_on, approval_id, invoice_id, expires_on) ",
    );
    insert.push_values(rows, |mut row, (c, on, expires)| {
        row.push_bind(c.id)
            .push_bind(c.insurer_id)
            .push_bind(c.beneficiary_id)
            .push_bind(c.counter.clone())
            .push_bind(c.domain.clone())
            .push_bind(c.ear.clone())
            .push_bind(c.budget.clone())
            .push_bind(c.amount_cents)
            .push_bind(on)
            .push_bind(c.approval_id)
            .push_bind(c.invoice_id)
            .push_bind(expires);
    });
    insert.build().execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

async fn insert_approval(
    tx: &mut Transaction<'_, Sqlite>,
    a: &ApprovalRecord,
) -> Result<(), StoreError> {
    let closed = a.closed_at.map(timestamp_text).transpose()?;
    sqlx::query(
        "INSERT INTO approvals (id, number, insurer_id, beneficiary_id, organisation_id, actor_id, engagement_id, contract_id, domain, status, care_date, valid_until, total_cents, lines, answer, created_at, closed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )
    .bind(a.id)
    .bind(&a.number)
    .bind(a.insurer_id)
    .bind(a.beneficiary_id)
    .bind(a.organisation_id)
    .bind(a.actor_id)
    .bind(a.engagement_id)
    .bind(a.contract_id)
    .bind(&a.domain)
    .bind(a.status.code())
    .bind(date_text(a.care_date)?)
    .bind(date_text(a.valid_until)?)
    .bind(a.total_cents)
    .bind(&a.lines)
    .bind(&a.answer)
    .bind(timestamp_text(a.created_at)?)
    .bind(closed)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_invoice(
    tx: &mut Transaction<'_, Sqlite>,
    i: &InvoiceRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO invoices (id, insurer_id, organisation_id, actor_id, engagement_id, beneficiary_id, approval_id, contract_id, contract_code, domain, care_date, status, total_cents, fingerprint, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )
    .bind(i.id)
    .bind(i.insurer_id)
    .bind(i.organisation_id)
    .bind(i.actor_id)
    .bind(i.engagement_id)
    .bind(i.beneficiary_id)
    .bind(i.approval_id)
    .bind(i.contract_id)
    .bind(&i.contract_code)
    .bind(&i.domain)
    .bind(date_text(i.care_date)?)
    .bind(&i.status)
    .bind(i.total_cents)
    .bind(&i.fingerprint)
    .bind(timestamp_text(i.created_at)?)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    if i.lines.is_empty() {
        return Ok(());
    }
    // Every line in one statement (one round trip).
    let care_date = date_text(i.care_date)?;
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO invoice_lines (invoice_id, line_no, insurer_id, organisation_id, domain, contract_code, care_date, kind, class, complexity, ear, quantity, price_cents, br_cents, amo_cents, amc_cents, rejection, steps, paid_run_id) ",
    );
    insert.push_values(&i.lines, |mut row, l| {
        row.push_bind(i.id)
            .push_bind(i64::from(l.line_no))
            .push_bind(i.insurer_id)
            .push_bind(i.organisation_id)
            .push_bind(i.domain.clone())
            .push_bind(i.contract_code.clone())
            .push_bind(care_date.clone())
            .push_bind(l.kind.clone())
            .push_bind(l.class.clone())
            .push_bind(l.complexity.clone())
            .push_bind(l.ear.clone())
            .push_bind(i64::from(l.quantity))
            .push_bind(l.price_cents)
            .push_bind(l.br_cents)
            .push_bind(l.amo_cents)
            .push_bind(l.amc_cents)
            .push_bind(l.rejection.clone())
            .push_bind(l.steps.clone())
            .push_bind(l.paid_run_id);
    });
    insert.build().execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

async fn with_lines(
    conn: &mut SqliteConnection,
    mut inv: InvoiceRecord,
) -> Result<InvoiceRecord, StoreError> {
    let sql =
        format!("SELECT {LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = ?1 ORDER BY line_no");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(inv.id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    inv.lines = rows.iter().map(line).collect::<Result<_, _>>()?;
    Ok(inv)
}

#[async_trait]
impl MoneyStore for SqliteStore {
    async fn insert_contract_document(
        &self,
        contract: &ContractRecord,
        toml: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        crate::contracts::insert_in(&mut tx, contract).await?;
        sqlx::query(
            "INSERT INTO contract_documents (contract_id, insurer_id, toml) VALUES (?1, ?2, ?3)",
        )
        .bind(contract.id)
        .bind(contract.insurer_id)
        .bind(toml)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_contract_document(
        &self,
        insurer_id: Uuid,
        contract_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT toml FROM contract_documents WHERE insurer_id = ?1 AND contract_id = ?2",
        )
        .bind(insurer_id)
        .bind(contract_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        row.as_ref().map(|r| col(r, "toml")).transpose()
    }

    async fn record_claim(
        &self,
        scope: &ClaimScope,
        decide: Decide<'_>,
    ) -> Result<ClaimWrite, StoreError> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let approval = match &scope.approval_number {
            Some(n) => find_approval_in(&mut tx, scope.organisation_id, n).await?,
            None => None,
        };
        let (mut counters, duplicate) = claim_reads(&mut tx, scope).await?;
        if let Some(a) = &approval {
            counters.retain(|c| c.approval_id != Some(a.id));
        }
        let context = ClaimContext {
            counters,
            approval,
            duplicate,
        };
        let write = decide(&context).map_err(StoreError::Other)?;
        match &write {
            ClaimWrite::Approval { approval, counters } => {
                insert_approval(&mut tx, approval).await?;
                insert_counters(&mut tx, counters).await?;
            }
            ClaimWrite::Invoice {
                invoice,
                counters,
                consume_approval,
                kept,
            } => {
                insert_invoice(&mut tx, invoice).await?;
                if let Some(k) = kept {
                    let done = crate::idempotency::complete_in(
                        &mut *tx,
                        k.id,
                        &k.request_hash,
                        k.status,
                        &k.sealed,
                    )
                    .await?;
                    if done == 0 {
                        return Err(StoreError::Conflict {
                            constraint: "idempotency_running".into(),
                        });
                    }
                }
                if let Some(id) = consume_approval {
                    sqlx::query("DELETE FROM claim_counters WHERE approval_id = ?1")
                        .bind(*id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    sqlx::query(
                        "UPDATE approvals SET status = 'invoiced', closed_at = ?2 WHERE id = ?1 AND status = 'active'",
                    )
                    .bind(*id)
                    .bind(timestamp_text(invoice.created_at)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                insert_counters(&mut tx, counters).await?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(write)
    }

    async fn find_approval(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<ApprovalRecord>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        find_approval_in(&mut conn, organisation_id, number).await
    }

    async fn cancel_approval(
        &self,
        organisation_id: Uuid,
        number: &str,
        at: OffsetDateTime,
    ) -> Result<ApprovalRecord, StoreError> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let mut a = find_approval_in(&mut tx, organisation_id, number)
            .await?
            .ok_or(StoreError::NotFound)?;
        if a.status != ApprovalStatus::Active {
            return Err(StoreError::Conflict {
                constraint: "approvals_status".into(),
            });
        }
        sqlx::query("UPDATE approvals SET status = 'cancelled', closed_at = ?2 WHERE id = ?1")
            .bind(a.id)
            .bind(timestamp_text(at)?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM claim_counters WHERE approval_id = ?1")
            .bind(a.id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        a.status = ApprovalStatus::Cancelled;
        a.closed_at = Some(at);
        Ok(a)
    }

    async fn get_invoice(
        &self,
        organisation_id: Uuid,
        id: Uuid,
    ) -> Result<InvoiceRecord, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let sql = format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices WHERE organisation_id = ?1 AND id = ?2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(organisation_id)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        with_lines(&mut conn, invoice(&row)?).await
    }

    async fn list_invoices(
        &self,
        organisation_id: Uuid,
        limit: u32,
    ) -> Result<Vec<InvoiceRecord>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        let sql = format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices WHERE organisation_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(organisation_id)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(with_lines(&mut conn, invoice(r)?).await?);
        }
        Ok(out)
    }

    async fn list_counters(
        &self,
        insurer_id: Uuid,
        beneficiary_id: Uuid,
        today: Date,
    ) -> Result<Vec<CounterRecord>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_err)?;
        counters_in_force(&mut conn, insurer_id, beneficiary_id, today).await
    }
}
