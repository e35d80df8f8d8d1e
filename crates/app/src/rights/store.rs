//! The rights part of the store (`RightsStore`, a supertrait of `Store`): engagements and the
//! beneficiaries' "not me" reports.

use crate::store::StoreError;
use async_trait::async_trait;
use domain::rights::{CareDomain, Regime};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A payment guarantee given by a rights check (`engagements`). Its `number` is what the
/// practice quotes on a prior-approval request or an invoice; it is random and unguessable
/// (`E` + 20 Crockford base32 characters, 100 bits) and unique (`engagements_number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementRecord {
    pub id: Uuid,
    pub number: String,
    pub insurer_id: Uuid,
    pub beneficiary_id: Uuid,
    pub card_id: Uuid,
    /// The practice that obtained it: only that organisation can use it.
    pub organisation_id: Uuid,
    /// The account, or the client certificate, that asked.
    pub actor_id: Uuid,
    pub domain: CareDomain,
    pub regime: Regime,
    pub care_date: Date,
    /// The last day the engagement can be quoted (included).
    pub valid_until: Date,
    /// The request that obtained it (as in the ledger entry).
    pub request_id: Uuid,
    pub created_at: OffsetDateTime,
}

/// A beneficiary's report that they do not recognise an access of their log
/// (`not_me_reports`): one per ledger entry (`not_me_reports_entry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMeReportRecord {
    pub id: Uuid,
    /// The insurer whose member reported (the distribution column).
    pub insurer_id: Uuid,
    /// The ledger entry reported (its index in the ledger).
    pub entry: u64,
    /// The organisation that did the reported access.
    pub accessor_organisation_id: Uuid,
    /// The insurer staff account, or the insurer's machine certificate, that filed it.
    pub reported_by: Uuid,
    pub created_at: OffsetDateTime,
}

#[async_trait]
pub trait RightsStore: Send + Sync {
    /// `Conflict { constraint: "engagements_number" }` on a number already given, and
    /// `"engagements_pkey"` on a duplicate id.
    async fn insert_engagement(&self, engagement: &EngagementRecord) -> Result<(), StoreError>;
    /// The engagement of that number obtained by `organisation_id`; `None` when there is
    /// none, or it belongs to another organisation (the same answer).
    async fn find_engagement(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<EngagementRecord>, StoreError>;

    /// `Conflict { constraint: "not_me_reports_entry" }` when the entry was already reported.
    async fn insert_not_me_report(&self, report: &NotMeReportRecord) -> Result<(), StoreError>;
    /// The report of that ledger entry, if it was reported by a member of `insurer_id`.
    async fn find_not_me_report(
        &self,
        insurer_id: Uuid,
        entry: u64,
    ) -> Result<Option<NotMeReportRecord>, StoreError>;
    /// The reports of an insurer's members, newest first, at most `limit`.
    async fn list_not_me_reports(
        &self,
        insurer_id: Uuid,
        limit: u32,
    ) -> Result<Vec<NotMeReportRecord>, StoreError>;
}
