//! Engagements and "not me" reports (`RightsStore`).

use crate::PgStore;
use crate::codec::{col, corrupt, micros, parsed};
use crate::error::db_err;
use app::rights::{EngagementRecord, NotMeReportRecord, RightsStore};
use app::store::StoreError;
use async_trait::async_trait;
use domain::money::Rate;
use domain::rights::{CareDomain, Regime};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use uuid::Uuid;

fn rate_bp(regime: Regime) -> Result<Option<i32>, StoreError> {
    match regime {
        Regime::Rate(r) => i32::try_from(r.basis_points())
            .map(Some)
            .map_err(|_| StoreError::Other("rate out of the storable range".into())),
        Regime::PriorApproval => Ok(None),
    }
}

fn regime(row: &PgRow) -> Result<Regime, StoreError> {
    let bp: Option<i32> = col(row, "rate_bp")?;
    match bp {
        None => Ok(Regime::PriorApproval),
        Some(bp) => u32::try_from(bp)
            .map(|bp| Regime::Rate(Rate::from_basis_points(bp)))
            .map_err(|_| corrupt("rate_bp")),
    }
}

fn engagement(row: &PgRow) -> Result<EngagementRecord, StoreError> {
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
        care_date: col(row, "care_date")?,
        valid_until: col(row, "valid_until")?,
        request_id: col(row, "request_id")?,
        created_at: col(row, "created_at")?,
    })
}

fn report(row: &PgRow) -> Result<NotMeReportRecord, StoreError> {
    let entry: i64 = col(row, "entry")?;
    Ok(NotMeReportRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        entry: u64::try_from(entry).map_err(|_| corrupt("entry"))?,
        accessor_organisation_id: col(row, "accessor_organisation_id")?,
        reported_by: col(row, "reported_by")?,
        created_at: col(row, "created_at")?,
    })
}

/// Inserts `engagements` on `conn` in one statement (`UNNEST` of one array per column): a
/// pooled connection for one, or the ledger's group-commit transaction for the engagements its
/// entries grant.
pub(crate) async fn insert_engagements_in(
    conn: &mut PgConnection,
    engagements: &[EngagementRecord],
) -> Result<(), StoreError> {
    if engagements.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = engagements.iter().map(|e| e.id).collect();
    let numbers: Vec<&str> = engagements.iter().map(|e| e.number.as_str()).collect();
    let insurers: Vec<Uuid> = engagements.iter().map(|e| e.insurer_id).collect();
    let beneficiaries: Vec<Uuid> = engagements.iter().map(|e| e.beneficiary_id).collect();
    let cards: Vec<Uuid> = engagements.iter().map(|e| e.card_id).collect();
    let organisations: Vec<Uuid> = engagements.iter().map(|e| e.organisation_id).collect();
    let actors: Vec<Uuid> = engagements.iter().map(|e| e.actor_id).collect();
    let domains: Vec<&str> = engagements.iter().map(|e| e.domain.code()).collect();
    let rates = engagements
        .iter()
        .map(|e| rate_bp(e.regime))
        .collect::<Result<Vec<Option<i32>>, StoreError>>()?;
    let care_dates: Vec<time::Date> = engagements.iter().map(|e| e.care_date).collect();
    let valid_until: Vec<time::Date> = engagements.iter().map(|e| e.valid_until).collect();
    let requests: Vec<Uuid> = engagements.iter().map(|e| e.request_id).collect();
    let created: Vec<time::OffsetDateTime> =
        engagements.iter().map(|e| micros(e.created_at)).collect();
    sqlx::query(
        "INSERT INTO engagements (id, number, insurer_id, beneficiary_id, card_id, organisation_id, actor_id, domain, rate_bp, care_date, valid_until, request_id, created_at) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::uuid[], $8::text[], \
         $9::int4[], $10::date[], $11::date[], $12::uuid[], $13::timestamptz[])",
    )
    .bind(&ids)
    .bind(&numbers)
    .bind(&insurers)
    .bind(&beneficiaries)
    .bind(&cards)
    .bind(&organisations)
    .bind(&actors)
    .bind(&domains)
    .bind(&rates)
    .bind(&care_dates)
    .bind(&valid_until)
    .bind(&requests)
    .bind(&created)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn entry_value(entry: u64) -> Result<i64, StoreError> {
    i64::try_from(entry).map_err(|_| StoreError::Other("ledger entry index out of range".into()))
}

#[async_trait]
impl RightsStore for PgStore {
    async fn insert_engagement(&self, e: &EngagementRecord) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        insert_engagements_in(&mut conn, std::slice::from_ref(e)).await
    }

    async fn find_engagement(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<EngagementRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, number, insurer_id, beneficiary_id, card_id, organisation_id, actor_id, domain, rate_bp, care_date, valid_until, request_id, created_at \
             FROM engagements WHERE number = $1 AND organisation_id = $2",
        )
        .bind(number)
        .bind(organisation_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(engagement).transpose()
    }

    async fn insert_not_me_report(&self, r: &NotMeReportRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO not_me_reports (id, insurer_id, entry, accessor_organisation_id, reported_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.id)
        .bind(r.insurer_id)
        .bind(entry_value(r.entry)?)
        .bind(r.accessor_organisation_id)
        .bind(r.reported_by)
        .bind(micros(r.created_at))
        .execute(&self.pool)
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
             FROM not_me_reports WHERE entry = $1 AND insurer_id = $2",
        )
        .bind(entry_value(entry)?)
        .bind(insurer_id)
        .fetch_optional(&self.pool)
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
             FROM not_me_reports WHERE insurer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(insurer_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(report).collect()
    }
}
