//! An in-memory `GuardStore` for unit tests and test doubles (the behaviour the conformance
//! suite pins down for the real stores).

use super::store::{
    AlertRecord, DecoyCardRecord, GuardStore, KillSwitchRecord, PracticeProfile, Scope, Subject,
    SuspensionRecord,
};
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Default)]
struct Rows {
    switches: Vec<KillSwitchRecord>,
    suspensions: Vec<SuspensionRecord>,
    alerts: Vec<AlertRecord>,
    decoys: Vec<DecoyCardRecord>,
    practices: HashMap<Uuid, PracticeProfile>,
    engagement_uses: Vec<super::engagements::EngagementUse>,
}

/// The guard's rows in memory.
#[derive(Debug, Default)]
pub struct MemGuard(Mutex<Rows>);

impl MemGuard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a practice (its profile as the store would give it).
    pub fn add_practice(&self, id: Uuid, profile: PracticeProfile) {
        self.rows().practices.insert(id, profile);
    }

    /// Declares a rights check and its use (the engagements, approvals and invoices tables
    /// of a real store).
    pub fn add_engagement_use(&self, row: super::engagements::EngagementUse) {
        self.rows().engagement_uses.push(row);
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, Rows> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn conflict(name: &str) -> StoreError {
    StoreError::Conflict {
        constraint: name.to_string(),
    }
}

#[async_trait]
impl GuardStore for MemGuard {
    async fn insert_kill_switch(&self, switch: &KillSwitchRecord) -> Result<(), StoreError> {
        let mut rows = self.rows();
        if rows.switches.iter().any(|s| s.id == switch.id) {
            return Err(conflict("kill_switches_pkey"));
        }
        if switch.released_at.is_none()
            && rows
                .switches
                .iter()
                .any(|s| s.scope == switch.scope && s.released_at.is_none())
        {
            return Err(conflict("kill_switches_active"));
        }
        rows.switches.push(switch.clone());
        Ok(())
    }

    async fn release_kill_switch(
        &self,
        scope: &Scope,
        by: Option<Uuid>,
        at: OffsetDateTime,
    ) -> Result<KillSwitchRecord, StoreError> {
        let mut rows = self.rows();
        let s = rows
            .switches
            .iter_mut()
            .find(|s| &s.scope == scope && s.released_at.is_none())
            .ok_or(StoreError::NotFound)?;
        s.released_at = Some(at);
        s.released_by = by;
        Ok(s.clone())
    }

    async fn list_active_kill_switches(&self) -> Result<Vec<KillSwitchRecord>, StoreError> {
        Ok(self
            .rows()
            .switches
            .iter()
            .filter(|s| s.released_at.is_none())
            .cloned()
            .collect())
    }

    async fn find_kill_switches_at(
        &self,
        at: OffsetDateTime,
    ) -> Result<Vec<KillSwitchRecord>, StoreError> {
        Ok(self
            .rows()
            .switches
            .iter()
            .filter(|s| s.engaged_at <= at && s.released_at.is_none_or(|r| r > at))
            .cloned()
            .collect())
    }

    async fn find_kill_switches_overlapping(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<KillSwitchRecord>, StoreError> {
        let mut found: Vec<KillSwitchRecord> = self
            .rows()
            .switches
            .iter()
            .filter(|s| s.engaged_at < to && s.released_at.is_none_or(|r| r > from))
            .cloned()
            .collect();
        found.sort_by_key(|s| (s.engaged_at, s.id));
        Ok(found)
    }

    async fn insert_suspension(&self, suspension: &SuspensionRecord) -> Result<(), StoreError> {
        let mut rows = self.rows();
        if rows.suspensions.iter().any(|s| s.id == suspension.id) {
            return Err(conflict("suspensions_pkey"));
        }
        if suspension.lifted_at.is_none()
            && rows.suspensions.iter().any(|s| {
                s.subject == suspension.subject
                    && s.subject_id == suspension.subject_id
                    && s.lifted_at.is_none()
            })
        {
            return Err(conflict("suspensions_active"));
        }
        rows.suspensions.push(suspension.clone());
        Ok(())
    }

    async fn lift_suspension(
        &self,
        subject: Subject,
        subject_id: Uuid,
        by: Option<Uuid>,
        at: OffsetDateTime,
    ) -> Result<SuspensionRecord, StoreError> {
        let mut rows = self.rows();
        let s = rows
            .suspensions
            .iter_mut()
            .find(|s| s.subject == subject && s.subject_id == subject_id && s.lifted_at.is_none())
            .ok_or(StoreError::NotFound)?;
        s.lifted_at = Some(at);
        s.lifted_by = by;
        Ok(s.clone())
    }

    async fn list_active_suspensions(&self) -> Result<Vec<SuspensionRecord>, StoreError> {
        Ok(self
            .rows()
            .suspensions
            .iter()
            .filter(|s| s.lifted_at.is_none())
            .cloned()
            .collect())
    }

    async fn count_account_suspensions_since(
        &self,
        organisation_id: Uuid,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        Ok(self
            .rows()
            .suspensions
            .iter()
            .filter(|s| {
                s.subject == Subject::Account
                    && s.organisation_id == organisation_id
                    && s.suspended_at >= since
            })
            .count() as u64)
    }

    async fn insert_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        self.rows().alerts.push(alert.clone());
        Ok(())
    }

    async fn list_alerts(&self, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        let mut alerts = self.rows().alerts.clone();
        alerts.sort_by_key(|a| std::cmp::Reverse((a.raised_at, a.id)));
        alerts.truncate(limit as usize);
        Ok(alerts)
    }

    async fn insert_decoy_cards(&self, decoys: &[DecoyCardRecord]) -> Result<(), StoreError> {
        let mut rows = self.rows();
        if decoys
            .iter()
            .any(|d| rows.decoys.iter().any(|e| e.id == d.id))
        {
            return Err(conflict("decoy_cards_pkey"));
        }
        rows.decoys.extend(decoys.iter().cloned());
        Ok(())
    }

    async fn list_decoy_cards(&self) -> Result<Vec<DecoyCardRecord>, StoreError> {
        Ok(self.rows().decoys.clone())
    }

    async fn set_practice_opening_hours(
        &self,
        practice_id: Uuid,
        hours: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut rows = self.rows();
        let p = rows
            .practices
            .get_mut(&practice_id)
            .ok_or(StoreError::NotFound)?;
        p.opening_hours = hours.map(str::to_string);
        Ok(())
    }

    async fn find_practice_profile(
        &self,
        practice_id: Uuid,
    ) -> Result<Option<PracticeProfile>, StoreError> {
        Ok(self.rows().practices.get(&practice_id).cloned())
    }

    async fn count_engagement_uses(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        within_hours: u32,
    ) -> Result<Vec<super::engagements::UnusedChecks>, StoreError> {
        Ok(super::engagements::count(
            &self.rows().engagement_uses,
            from,
            to,
            within_hours,
        ))
    }
}
