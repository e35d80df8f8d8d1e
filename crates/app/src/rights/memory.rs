//! An in-memory `RightsStore`, for test doubles of the `Store` (e.g. the demo's tests).

use super::store::{EngagementRecord, NotMeReportRecord, RightsStore};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::Mutex;
use uuid::Uuid;

#[derive(Debug, Default)]
struct Rows {
    engagements: Vec<EngagementRecord>,
    reports: Vec<NotMeReportRecord>,
}

/// Engagements and reports kept in memory, with the store's rules (unique ids, numbers and
/// reported entries; lookups scoped to their owner).
#[derive(Debug, Default)]
pub struct MemRights(Mutex<Rows>);

impl MemRights {
    fn with<T>(&self, f: impl FnOnce(&mut Rows) -> T) -> T {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

fn conflict(c: &str) -> StoreError {
    StoreError::Conflict {
        constraint: c.into(),
    }
}

#[async_trait]
impl RightsStore for MemRights {
    async fn insert_engagement(&self, e: &EngagementRecord) -> Result<(), StoreError> {
        self.with(|r| {
            if r.engagements.iter().any(|x| x.id == e.id) {
                return Err(conflict("engagements_pkey"));
            }
            if r.engagements.iter().any(|x| x.number == e.number) {
                return Err(conflict("engagements_number"));
            }
            r.engagements.push(e.clone());
            Ok(())
        })
    }

    async fn find_engagement(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<EngagementRecord>, StoreError> {
        Ok(self.with(|r| {
            r.engagements
                .iter()
                .find(|e| e.number == number && e.organisation_id == organisation_id)
                .cloned()
        }))
    }

    async fn insert_not_me_report(&self, report: &NotMeReportRecord) -> Result<(), StoreError> {
        self.with(|r| {
            if r.reports.iter().any(|x| x.id == report.id) {
                return Err(conflict("not_me_reports_pkey"));
            }
            if r.reports.iter().any(|x| x.entry == report.entry) {
                return Err(conflict("not_me_reports_entry"));
            }
            r.reports.push(report.clone());
            Ok(())
        })
    }

    async fn find_not_me_report(
        &self,
        insurer_id: Uuid,
        entry: u64,
    ) -> Result<Option<NotMeReportRecord>, StoreError> {
        Ok(self.with(|r| {
            r.reports
                .iter()
                .find(|x| x.entry == entry && x.insurer_id == insurer_id)
                .cloned()
        }))
    }

    async fn list_not_me_reports(
        &self,
        insurer_id: Uuid,
        limit: u32,
    ) -> Result<Vec<NotMeReportRecord>, StoreError> {
        Ok(self.with(|r| {
            let mut out: Vec<NotMeReportRecord> = r
                .reports
                .iter()
                .filter(|x| x.insurer_id == insurer_id)
                .cloned()
                .collect();
            out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
            out.truncate(limit as usize);
            out
        }))
    }
}
