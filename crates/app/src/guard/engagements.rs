//! Rights checks never followed by an approval or an invoice ("unused" checks).
//!
//! A genuine eligibility check is followed by a claim: a practice that checks many patients
//! and bills none of them is harvesting. **Used** means: an approval request or an invoice
//! referred to the check's engagement number within `unused_after_hours` (48 h) of the check.
//! A check younger than that is not yet due and does not count either way.
//!
//! The signal fires for an account with at least `unused_min_checks` due checks in the last
//! 7 days of which more than `unused_max_percent` were never used. [`evaluate`] is pure over
//! [`EngagementUse`] rows (the engagements table of the rights check, joined with approvals
//! and invoices once those exist); [`super::Guard::review_engagements`] raises the alerts.

use super::alerts::{Action, NewAlert, Severity, raise};
use super::{Guard, GuardConfig};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// One rights check and when (if ever) it was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngagementUse {
    pub account_id: Uuid,
    pub organisation_id: Uuid,
    pub checked_at: OffsetDateTime,
    /// The first approval request or invoice naming its engagement number.
    pub used_at: Option<OffsetDateTime>,
}

/// An account whose checks are mostly unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnusedChecks {
    pub account_id: Uuid,
    pub organisation_id: Uuid,
    /// Checks old enough to judge.
    pub due: u32,
    /// Of those, never used within the delay.
    pub unused: u32,
}

/// The accounts whose due checks of the last 7 days are mostly unused at `now`.
pub fn evaluate(
    rows: &[EngagementUse],
    now: OffsetDateTime,
    config: &GuardConfig,
) -> Vec<UnusedChecks> {
    let delay = Duration::hours(i64::from(config.unused_after_hours));
    let horizon = now - Duration::days(7);
    let mut per: BTreeMap<Uuid, UnusedChecks> = BTreeMap::new();
    for r in rows {
        if r.checked_at < horizon || now - r.checked_at < delay {
            continue;
        }
        let e = per.entry(r.account_id).or_insert(UnusedChecks {
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
    per.into_values()
        .filter(|u| {
            u.due >= config.unused_min_checks
                && u64::from(u.unused) * 100
                    > u64::from(u.due) * u64::from(config.unused_max_percent)
        })
        .collect()
}

impl Guard {
    /// Raises a warning alert per flagged account (the periodic review over engagements).
    pub async fn review_engagements(&self, rows: &[EngagementUse]) -> Vec<UnusedChecks> {
        let flagged = evaluate(rows, self.now(), self.config());
        for f in &flagged {
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
        flagged
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
