//! The guard's rows (`GuardStore`): kill switches, suspensions, alerts, decoy cards and
//! practices' opening hours.

use crate::PgStore;
use crate::codec::{col, corrupt, micros, u64_count};
use crate::error::db_err;
use app::guard::{
    AlertRecord, DecoyCardRecord, GuardStore, KillSwitchRecord, PracticeProfile, Scope, Subject,
    SuspensionRecord,
};
use app::store::StoreError;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

fn opt_ts(at: Option<OffsetDateTime>) -> Result<Option<OffsetDateTime>, StoreError> {
    Ok(at.map(micros))
}

fn timestamp_text(at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
    Ok(micros(at))
}

/// PostgreSQL names the violated index itself (`kill_switches_active`, `<table>_pkey`).
fn unique_as(e: sqlx::Error, _table: &str, _other: &str) -> StoreError {
    db_err(e)
}

fn switch(row: &PgRow) -> Result<KillSwitchRecord, StoreError> {
    let kind: String = col(row, "scope_kind")?;
    let value: String = col(row, "scope_value")?;
    Ok(KillSwitchRecord {
        id: col(row, "id")?,
        scope: Scope::from_parts(&kind, &value).ok_or_else(|| corrupt("scope_kind"))?,
        reason: col(row, "reason")?,
        engaged_by: col(row, "engaged_by")?,
        engaged_at: col(row, "engaged_at")?,
        released_by: col(row, "released_by")?,
        released_at: col(row, "released_at")?,
    })
}

fn suspension(row: &PgRow) -> Result<SuspensionRecord, StoreError> {
    let subject: String = col(row, "subject")?;
    Ok(SuspensionRecord {
        id: col(row, "id")?,
        subject: Subject::parse(&subject).ok_or_else(|| corrupt("subject"))?,
        subject_id: col(row, "subject_id")?,
        organisation_id: col(row, "organisation_id")?,
        signal: col(row, "signal")?,
        reason: col(row, "reason")?,
        suspended_at: col(row, "suspended_at")?,
        lifted_at: col(row, "lifted_at")?,
        lifted_by: col(row, "lifted_by")?,
    })
}

fn alert(row: &PgRow) -> Result<AlertRecord, StoreError> {
    Ok(AlertRecord {
        id: col(row, "id")?,
        signal: col(row, "signal")?,
        severity: col(row, "severity")?,
        account_id: col(row, "account_id")?,
        organisation_id: col(row, "organisation_id")?,
        action: col(row, "action")?,
        detail: col(row, "detail")?,
        raised_at: col(row, "raised_at")?,
    })
}

fn decoy(row: &PgRow) -> Result<DecoyCardRecord, StoreError> {
    let kid: i64 = col(row, "signing_kid")?;
    Ok(DecoyCardRecord {
        id: col(row, "id")?,
        insurer_id: col(row, "insurer_id")?,
        amc: col(row, "amc")?,
        member_number: col(row, "member_number")?,
        code_hash: col(row, "code_hash")?,
        signing_kid: u32::try_from(kid).map_err(|_| corrupt("signing_kid"))?,
        valid_from: col(row, "valid_from")?,
        valid_to: col(row, "valid_to")?,
        created_at: col(row, "created_at")?,
    })
}

#[async_trait]
impl GuardStore for PgStore {
    async fn insert_kill_switch(&self, s: &KillSwitchRecord) -> Result<(), StoreError> {
        let (kind, value) = s.scope.parts();
        sqlx::query(
            "INSERT INTO kill_switches (id, scope_kind, scope_value, reason, engaged_by, engaged_at, released_by, released_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.id)
        .bind(kind)
        .bind(value)
        .bind(&s.reason)
        .bind(s.engaged_by)
        .bind(timestamp_text(s.engaged_at)?)
        .bind(s.released_by)
        .bind(opt_ts(s.released_at)?)
        .execute(&self.pool)
        .await
        .map_err(|e| unique_as(e, "kill_switches", "kill_switches_active"))?;
        Ok(())
    }

    async fn release_kill_switch(
        &self,
        scope: &Scope,
        by: Option<Uuid>,
        at: OffsetDateTime,
    ) -> Result<KillSwitchRecord, StoreError> {
        let (kind, value) = scope.parts();
        let row = sqlx::query(
            "UPDATE kill_switches SET released_by = $1, released_at = $2 \
             WHERE scope_kind = $3 AND scope_value = $4 AND released_at IS NULL \
             RETURNING id, scope_kind, scope_value, reason, engaged_by, engaged_at, released_by, released_at",
        )
        .bind(by)
        .bind(timestamp_text(at)?)
        .bind(kind)
        .bind(value)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref()
            .map(switch)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn list_active_kill_switches(&self) -> Result<Vec<KillSwitchRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, scope_kind, scope_value, reason, engaged_by, engaged_at, released_by, released_at FROM kill_switches WHERE released_at IS NULL ORDER BY engaged_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(switch).collect()
    }

    async fn find_kill_switches_at(
        &self,
        at: OffsetDateTime,
    ) -> Result<Vec<KillSwitchRecord>, StoreError> {
        let at = timestamp_text(at)?;
        let rows = sqlx::query(
            "SELECT id, scope_kind, scope_value, reason, engaged_by, engaged_at, released_by, released_at FROM kill_switches \
             WHERE engaged_at <= $1 AND (released_at IS NULL OR released_at > $1) ORDER BY engaged_at, id",
        )
        .bind(at)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(switch).collect()
    }

    async fn find_kill_switches_overlapping(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<KillSwitchRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, scope_kind, scope_value, reason, engaged_by, engaged_at, released_by, released_at FROM kill_switches \
             WHERE engaged_at < $2 AND (released_at IS NULL OR released_at > $1) ORDER BY engaged_at, id",
        )
        .bind(timestamp_text(from)?)
        .bind(timestamp_text(to)?)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(switch).collect()
    }

    async fn insert_suspension(&self, s: &SuspensionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO suspensions (id, subject, subject_id, organisation_id, signal, reason, suspended_at, lifted_at, lifted_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.id)
        .bind(s.subject.code())
        .bind(s.subject_id)
        .bind(s.organisation_id)
        .bind(&s.signal)
        .bind(&s.reason)
        .bind(timestamp_text(s.suspended_at)?)
        .bind(opt_ts(s.lifted_at)?)
        .bind(s.lifted_by)
        .execute(&self.pool)
        .await
        .map_err(|e| unique_as(e, "suspensions", "suspensions_active"))?;
        Ok(())
    }

    async fn lift_suspension(
        &self,
        subject: Subject,
        subject_id: Uuid,
        by: Option<Uuid>,
        at: OffsetDateTime,
    ) -> Result<SuspensionRecord, StoreError> {
        let row = sqlx::query(
            "UPDATE suspensions SET lifted_at = $1, lifted_by = $2 \
             WHERE subject = $3 AND subject_id = $4 AND lifted_at IS NULL \
             RETURNING id, subject, subject_id, organisation_id, signal, reason, suspended_at, lifted_at, lifted_by",
        )
        .bind(timestamp_text(at)?)
        .bind(by)
        .bind(subject.code())
        .bind(subject_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref()
            .map(suspension)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn list_active_suspensions(&self) -> Result<Vec<SuspensionRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, subject, subject_id, organisation_id, signal, reason, suspended_at, lifted_at, lifted_by FROM suspensions WHERE lifted_at IS NULL ORDER BY suspended_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(suspension).collect()
    }

    async fn count_account_suspensions_since(
        &self,
        organisation_id: Uuid,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*)::BIGINT AS n FROM suspensions \
             WHERE organisation_id = $1 AND subject = 'account' AND suspended_at >= $2",
        )
        .bind(organisation_id)
        .bind(timestamp_text(since)?)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        u64_count(&row, "n")
    }

    async fn insert_alert(&self, a: &AlertRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alerts (id, signal, severity, account_id, organisation_id, action, detail, raised_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(a.id)
        .bind(&a.signal)
        .bind(&a.severity)
        .bind(a.account_id)
        .bind(a.organisation_id)
        .bind(&a.action)
        .bind(&a.detail)
        .bind(timestamp_text(a.raised_at)?)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_alerts(&self, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, signal, severity, account_id, organisation_id, action, detail, raised_at \
             FROM alerts ORDER BY raised_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(alert).collect()
    }

    async fn insert_decoy_cards(&self, decoys: &[DecoyCardRecord]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for d in decoys {
            sqlx::query(
                "INSERT INTO decoy_cards (id, insurer_id, amc, member_number, code_hash, signing_kid, valid_from, valid_to, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(d.id)
            .bind(d.insurer_id)
            .bind(&d.amc)
            .bind(&d.member_number)
            .bind(&d.code_hash)
            .bind(i64::from(d.signing_kid))
            .bind(d.valid_from)
            .bind(d.valid_to)
            .bind(timestamp_text(d.created_at)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, "decoy_cards", "unique"))?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn list_decoy_cards(&self) -> Result<Vec<DecoyCardRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, insurer_id, amc, member_number, code_hash, signing_kid, valid_from, valid_to, created_at \
             FROM decoy_cards ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(decoy).collect()
    }

    async fn set_practice_opening_hours(
        &self,
        practice_id: Uuid,
        hours: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE practices SET opening_hours = $1 WHERE id = $2")
            .bind(hours)
            .bind(practice_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find_practice_profile(
        &self,
        practice_id: Uuid,
    ) -> Result<Option<PracticeProfile>, StoreError> {
        let row = sqlx::query("SELECT profession, opening_hours FROM practices WHERE id = $1")
            .bind(practice_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(PracticeProfile {
                profession: col(&row, "profession")?,
                opening_hours: col(&row, "opening_hours")?,
            })),
        }
    }

    async fn count_engagement_uses(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        within_hours: u32,
    ) -> Result<Vec<app::guard::engagements::UnusedChecks>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.actor_id AS account_id, e.organisation_id AS organisation_id, COUNT(*) AS due, \
             SUM(CASE WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.engagement_id = e.id AND i.created_at <= e.created_at + make_interval(hours => $3)) \
                   OR EXISTS (SELECT 1 FROM approvals a WHERE a.engagement_id = e.id AND a.created_at <= e.created_at + make_interval(hours => $3)) THEN 0 ELSE 1 END) AS unused \
             FROM engagements e WHERE e.created_at >= $1 AND e.created_at < $2 \
             GROUP BY e.actor_id, e.organisation_id ORDER BY e.actor_id, e.organisation_id",
        )
        .bind(micros(from))
        .bind(micros(to))
        .bind(i32::try_from(within_hours).unwrap_or(i32::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let count = |row: &_, name: &'static str| -> Result<u32, StoreError> {
            u32::try_from(u64_count(row, name)?).map_err(|_| corrupt(name))
        };
        rows.iter()
            .map(|row| {
                Ok(app::guard::engagements::UnusedChecks {
                    account_id: col(row, "account_id")?,
                    organisation_id: col(row, "organisation_id")?,
                    due: count(row, "due")?,
                    unused: count(row, "unused")?,
                })
            })
            .collect()
    }
}
