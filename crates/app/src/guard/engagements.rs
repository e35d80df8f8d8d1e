//! Rights checks never followed by an approval or an invoice ("unused" checks).
//!
//! A genuine eligibility check is followed by a claim: a practice that checks many patients
//! and bills none of them is harvesting. **Used** means: an approval request or an invoice
//! referred to the check's engagement number within `unused_after_hours` (48 h) of the check.
//! A check younger than that is not yet due and does not count either way.
//!
//! The signal fires for an account with at least `unused_min_checks` due checks in the last
//! 7 days of which more than `unused_max_percent` were never used. The store counts them per
//! account (`GuardStore::count_engagement_uses`, over the engagements table joined with
//! approvals and invoices); [`flag`] is the pure decision; [`super::Guard::review_unused_checks`]
//! runs the review (`rempart serve` every 15 minutes) and raises the alerts, once per
//! account per day.

use super::alerts::{Action, NewAlert, Severity, raise};
use super::{Guard, GuardConfig};
use crate::store::StoreError;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// One rights check and when (if ever) it was used (the in-memory store's rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngagementUse {
    pub account_id: Uuid,
    pub organisation_id: Uuid,
    pub checked_at: OffsetDateTime,
    /// The first approval request or invoice naming its engagement number.
    pub used_at: Option<OffsetDateTime>,
}

/// An account's due checks, and how many were never used within the delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnusedChecks {
    pub account_id: Uuid,
    pub organisation_id: Uuid,
    /// Checks old enough to judge.
    pub due: u32,
    /// Of those, never used within the delay.
    pub unused: u32,
}

/// The window of checks judged at `now`: the last 7 days, less the delay (younger checks are
/// not yet due).
pub fn window(now: OffsetDateTime, config: &GuardConfig) -> (OffsetDateTime, OffsetDateTime) {
    let delay = Duration::hours(i64::from(config.unused_after_hours));
    (now - Duration::days(7), now - delay)
}

/// Counts [`EngagementUse`] rows as the store does (the in-memory store and the tests).
pub fn count(
    rows: &[EngagementUse],
    from: OffsetDateTime,
    to: OffsetDateTime,
    within_hours: u32,
) -> Vec<UnusedChecks> {
    let delay = Duration::hours(i64::from(within_hours));
    let mut per: std::collections::BTreeMap<(Uuid, Uuid), UnusedChecks> = Default::default();
    for r in rows
        .iter()
        .filter(|r| r.checked_at >= from && r.checked_at < to)
    {
        let e = per
            .entry((r.account_id, r.organisation_id))
            .or_insert(UnusedChecks {
                account_id: r.account_id,
                organisation_id: r.organisation_id,
                due: 0,
                unused: 0,
            });
        e.due += 1;
        let used = r
            .used_at
            .is_some_and(|u| u >= r.checked_at && u - r.checked_at <= delay);
        if !used {
            e.unused += 1;
        }
    }
    per.into_values().collect()
}

/// The accounts whose due checks are mostly unused.
pub fn flag(counts: &[UnusedChecks], config: &GuardConfig) -> Vec<UnusedChecks> {
    counts
        .iter()
        .filter(|u| {
            u.due >= config.unused_min_checks
                && u64::from(u.unused) * 100
                    > u64::from(u.due) * u64::from(config.unused_max_percent)
        })
        .copied()
        .collect()
}

impl Guard {
    /// The periodic review over engagements: a warning alert per flagged account, at most one
    /// per account per day (the review runs more often than that). Answers the accounts
    /// flagged by this run, alerted or not.
    pub async fn review_unused_checks(&self) -> Result<Vec<UnusedChecks>, StoreError> {
        let now = self.now();
        let (from, to) = window(now, self.config());
        let counts = self
            .store()
            .count_engagement_uses(from, to, self.config().unused_after_hours)
            .await?;
        let flagged = flag(&counts, self.config());
        for f in &flagged {
            let fresh = self
                .inner
                .accounts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(f.account_id)
                .or_default()
                .may_alert_every("unused_checks", now, Duration::hours(24));
            if !fresh {
                continue;
            }
            raise(
                self,
                NewAlert {
                    signal: "unused_checks",
                    severity: Severity::Warning,
                    account_id: Some(f.account_id),
                    organisation_id: Some(f.organisation_id),
                    action: Action::None,
                    detail: format!(
                        "{} of {} rights checks not followed by an approval or invoice within {} hours",
                        f.unused,
                        f.due,
                        self.config().unused_after_hours
                    ),
                },
            )
            .await;
        }
        Ok(flagged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn rows(account: u128, n: u32, used: u32, start: OffsetDateTime) -> Vec<EngagementUse> {
        (0..n)
            .map(|i| {
                let checked_at = start + Duration::minutes(i64::from(i) * 7);
                EngagementUse {
                    account_id: Uuid::from_u128(account),
                    organisation_id: Uuid::from_u128(account + 1000),
                    checked_at,
                    used_at: (i < used).then(|| checked_at + Duration::hours(3)),
                }
            })
            .collect()
    }

    fn evaluate(
        rows: &[EngagementUse],
        now: OffsetDateTime,
        config: &GuardConfig,
    ) -> Vec<UnusedChecks> {
        let (from, to) = window(now, config);
        flag(&count(rows, from, to, config.unused_after_hours), config)
    }

    #[test]
    fn a_harvester_is_flagged_and_an_honest_optician_is_not() {
        let start = datetime!(2026-01-12 09:00 UTC);
        let now = datetime!(2026-01-15 12:00 UTC);
        let config = GuardConfig::default();
        let mut all = rows(1, 25, 20, start); // optician: 20 of 25 billed
        all.extend(rows(2, 300, 250, start)); // pharmacy: most billed
        all.extend(rows(3, 60, 2, start)); // harvester
        let flagged = evaluate(&all, now, &config);
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].account_id, Uuid::from_u128(3));
        assert_eq!((flagged[0].due, flagged[0].unused), (60, 58));
    }

    #[test]
    fn checks_younger_than_the_delay_and_late_uses_are_judged_right() {
        let config = GuardConfig::default();
        let start = datetime!(2026-01-15 09:00 UTC);
        // Not yet due: nothing to say.
        assert!(evaluate(&rows(3, 60, 0, start), start + Duration::hours(47), &config).is_empty());
        // Used, but only after 3 days: counts as unused.
        let late: Vec<EngagementUse> = rows(4, 30, 0, start)
            .into_iter()
            .map(|mut r| {
                r.used_at = Some(r.checked_at + Duration::hours(72));
                r
            })
            .collect();
        let flagged = evaluate(&late, start + Duration::days(4), &config);
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].unused, 30);
    }
}
