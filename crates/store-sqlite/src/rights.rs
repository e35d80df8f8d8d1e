//! Engagements and "not me" reports (`RightsStore`).

use crate::SqliteStore;
use crate::codec::{col, corrupt, date_col, date_text, parsed, timestamp_col, timestamp_text};
use crate::error::db_err;
use app::rights::{EngagementRecord, NotMeReportRecord, RightsStore};
use app::store::StoreError;
use async_trait::async_trait;
use domain::money::Rate;
use domain::rights::{CareDomain, Regime};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

fn rate_bp(regime: Regime) -> Option<i64> {
    match regime {
        Regime::Rate(r) => Some(i64::from(r.basis_points())),
        Regime::PriorApproval => None,
    }
}

fn regime(row: &SqliteRow) -> Result<Regime, StoreError> {
    let bp: Option<i64> = col(row, "rate_bp")?;
    match bp {
        None => Ok(Regime::PriorApproval),
        Some(bp) => u32::try_from(bp)
            .map(|bp| Regime::Rate(Rate::from_basis_points(bp)))
            .map_err(|_| corrupt("rate_bp")),
    }
}

fn engagement(row: &SqliteRow) -> Result<EngagementRecord, StoreError> {
    Ok(EngagementRecord {
        id: col(row, "id")?,
        number: col(row, "number")?,
        insurer_id: col(row, "insurer_id")?,
        beneficiary_id: col(row, "beneficiary_id")?,
        card_id: col(row, "card_id")?,
        organisation_id: col(row, "organisation_id")?,
        actor_id: col(row, "actor_id")?,
        domain: parsed(row, "domain", str::parse::<CareDomain>)?,
        regime: regime(row)?,
        care_date: date_col(row, "care_date")?,
        valid_until: date_col(row, "valid_until")?,
        request_id: col(row, "request_id")?,
        created_at: timestamp_col(row, "created_at")?,
    })
}

fn report(row: &SqliteRow) -> Result<NotMeReportRecord, StoreError> {
    let entry: i64 = col(row, "entry")?;
    Ok(NotMeReportRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        entry: u64::try_from(entry).map_err(|_| corrupt("entry"))?,
        accessor_organisation_id: col(row, "accessor_organisation_id")?,
        reported_by: col(row, "reported_by")?,
        created_at: timestamp_col(row, "created_at")?,
    })
}

/// Inserts one engagement on `conn` (the writer, or its transaction: the ledger stores the
/// engagements its entries grant in the same transaction).
pub(crate) async fn insert_engagement_in(
    conn: &mut SqliteConnection,
    e: &EngagementRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO engagements (id, number, insurer_id, beneficiary_id, card_id, organisation_id, actor_id, domain, rate_bp, care_date, valid_until, request_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .bind(e.id)
    .bind(&e.number)
    .bind(e.insurer_id)
    .bind(e.beneficiary_id)
    .bind(e.card_id)
    .bind(e.organisation_id)
    .bind(e.actor_id)
    .bind(e.domain.code())
    .bind(rate_bp(e.regime))
    .bind(date_text(e.care_date)?)
    .bind(date_text(e.valid_until)?)
    .bind(e.request_id)
    .bind(timestamp_text(e.created_at)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn entry_value(entry: u64) -> Result<i64, StoreError> {
    i64::try_from(entry).map_err(|_| StoreError::Other("ledger entry index out of range".into()))
}

#[async_trait]
impl RightsStore for SqliteStore {
    async fn insert_engagement(&self, e: &EngagementRecord) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await.map_err(db_err)?;
        insert_engagement_in(&mut conn, e).await
    }

    async fn find_engagement(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<EngagementRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, number, insurer_id, beneficiary_id, card_id, organisation_id, actor_id, domain, rate_bp, care_date, valid_until, request_id, created_at \
             FROM engagements WHERE number = ?1 AND organisation_id = ?2",
        )
        .bind(number)
        .bind(organisation_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        row.as_ref().map(engagement).transpose()
    }

    async fn insert_not_me_report(&self, r: &NotMeReportRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO not_me_reports (id, insurer_id, entry, accessor_organisation_id, reported_by, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(r.id)
        .bind(r.insurer_id)
        .bind(entry_value(r.entry)?)
        .bind(r.accessor_organisation_id)
        .bind(r.reported_by)
        .bind(timestamp_text(r.created_at)?)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn find_not_me_report(
        &self,
        insurer_id: Uuid,
        entry: u64,
    ) -> Result<Option<NotMeReportRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, insurer_id, entry, accessor_organisation_id, reported_by, created_at \
             FROM not_me_reports WHERE entry = ?1 AND insurer_id = ?2",
        )
        .bind(entry_value(entry)?)
        .bind(insurer_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        row.as_ref().map(report).transpose()
    }

    async fn list_not_me_reports(
        &self,
        insurer_id: Uuid,
        limit: u32,
    ) -> Result<Vec<NotMeReportRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, insurer_id, entry, accessor_organisation_id, reported_by, created_at \
             FROM not_me_reports WHERE insurer_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
        )
        .bind(insurer_id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(report).collect()
    }
}
