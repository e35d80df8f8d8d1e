//! The payments part of the store (`PaymentsStore`): payment runs, the invoice lines they
//! claim (`invoice_lines.paid_run_id`, a column of the money path's table), the payees'
//! sealed IBANs as they stood at the claim, the transfers written, and the practices' IBAN
//! changes. Migration 0026.
//!
//! Exactly once: [`PaymentsStore::claim_payment_run`] records the run and sets
//! `paid_run_id` on every claimable line in ONE transaction, with `paid_run_id IS NULL` in
//! the update's condition, so two runs never claim the same line and a line is paid at most
//! once; the files are written after it, and a run left `claimed` (killed half-way) is
//! resumed — same id, same lines, same payees — by the next claim for the same cut-off date.

use crate::store::StoreError;
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Recorded and its lines claimed; files not (all) written yet.
    Claimed,
    /// Files written and transfers recorded.
    Written,
}

impl RunStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Written => "written",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Claimed, Self::Written]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

/// A payment run (`payment_runs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRunRecord {
    pub id: Uuid,
    /// Lines with a care date on or before this day are paid.
    pub cutoff_date: Date,
    pub execution_date: Date,
    pub status: RunStatus,
    /// The operator's account (None from the CLI).
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub written_at: Option<OffsetDateTime>,
    /// Set by the claim.
    pub line_count: u64,
    /// Set when written.
    pub transfer_count: u64,
    pub total_cents: i64,
}

/// A line claimed by a run, with what the run and the bills need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLineRecord {
    pub invoice_id: Uuid,
    pub line_no: u32,
    /// The payee (the practice that sent the invoice).
    pub practice_id: Uuid,
    /// The insurer's AMC number.
    pub insurer_amc: String,
    pub domain: String,
    pub contract_code: String,
    pub amc_cents: i64,
    pub care_date: Date,
}

/// A payee as it stood when the run claimed its lines: the IBAN sealed with
/// `FieldRef { table: "practices", column: "iban", row: practice_id }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPayeeRecord {
    pub practice_id: Uuid,
    pub name: String,
    pub iban_sealed: Vec<u8>,
}

/// One credit transfer of a written run (`payment_transfers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub run_id: Uuid,
    pub practice_id: Uuid,
    pub seq: u32,
    pub statement_id: String,
    pub execution_date: Date,
    pub amount_cents: i64,
    pub line_count: u64,
    /// The remittance statement (CSV), as written to the run directory.
    pub statement_csv: String,
}

/// A line paid on an insurer's behalf, for its bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledLineRecord {
    pub run_id: Uuid,
    pub execution_date: Date,
    pub statement_id: String,
    pub line: RunLineRecord,
}

/// Where an IBAN change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IbanChangeStatus {
    Requested,
    Confirmed,
    Applied,
    Cancelled,
}

impl IbanChangeStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Confirmed => "confirmed",
            Self::Applied => "applied",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Requested,
            Self::Confirmed,
            Self::Applied,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }
}

/// A practice's IBAN change (`iban_changes`); the new IBAN sealed with
/// `FieldRef { table: "iban_changes", column: "iban", row: id }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IbanChangeRecord {
    pub id: Uuid,
    pub practice_id: Uuid,
    pub iban_sealed: Vec<u8>,
    pub status: IbanChangeStatus,
    pub requested_by: Uuid,
    pub requested_at: OffsetDateTime,
    pub confirmed_by: Option<Uuid>,
    pub confirmed_at: Option<OffsetDateTime>,
    /// Confirmed time + the cooling-off delay.
    pub effective_at: Option<OffsetDateTime>,
    pub applied_at: Option<OffsetDateTime>,
    pub cancelled_by: Option<Uuid>,
    pub cancelled_at: Option<OffsetDateTime>,
}

/// Re-seals a due change's IBAN for its practice row (inside the store's transaction).
pub type Reseal<'a> =
    &'a (dyn for<'c> Fn(&'c IbanChangeRecord) -> Result<Vec<u8>, StoreError> + Send + Sync);

#[async_trait]
pub trait PaymentsStore: Send + Sync {
    /// In one transaction: if a run for `run.cutoff_date` is still `claimed`, returns it
    /// (resume; `run` is ignored). Otherwise records `run` (status `claimed`), sets
    /// `paid_run_id = run.id` on every line with `paid_run_id` NULL, no rejection, an AMC
    /// amount above zero, a care date on or before the cut-off, of an invoice that is not
    /// rejected, snapshots the payees of those lines and sets `line_count`; when no line
    /// is claimable nothing is written and the answer is `None`.
    async fn claim_payment_run(
        &self,
        run: &PaymentRunRecord,
    ) -> Result<Option<PaymentRunRecord>, StoreError>;
    /// The lines a run claimed, by invoice id and line number.
    async fn list_run_lines(&self, run_id: Uuid) -> Result<Vec<RunLineRecord>, StoreError>;
    /// The payees snapshotted by the claim, by practice id.
    async fn list_run_payees(&self, run_id: Uuid) -> Result<Vec<RunPayeeRecord>, StoreError>;
    /// Records the transfers (replacing any of this run) and marks the run `written`, in one
    /// transaction. `NotFound` for an unknown run.
    async fn complete_payment_run(
        &self,
        run_id: Uuid,
        transfers: &[TransferRecord],
        total_cents: i64,
        written_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn get_payment_run(&self, run_id: Uuid) -> Result<PaymentRunRecord, StoreError>;
    /// The newest runs first.
    async fn list_payment_runs(&self, limit: u32) -> Result<Vec<PaymentRunRecord>, StoreError>;
    /// A practice's transfers, newest execution date first (`statement_csv` left empty).
    async fn list_practice_transfers(
        &self,
        practice_id: Uuid,
        limit: u32,
    ) -> Result<Vec<TransferRecord>, StoreError>;
    /// A transfer of this practice with its statement.
    async fn find_practice_transfer(
        &self,
        practice_id: Uuid,
        statement_id: &str,
    ) -> Result<Option<TransferRecord>, StoreError>;
    /// Every line paid on behalf of insurer `insurer_id` by a WRITTEN run executed between
    /// `from` and `to` (inclusive), with its run and statement.
    async fn list_billed_lines(
        &self,
        insurer_id: Uuid,
        from: Date,
        to: Date,
    ) -> Result<Vec<BilledLineRecord>, StoreError>;

    /// `Conflict { iban_changes_open }` when the practice has a change in progress.
    async fn insert_iban_change(&self, change: &IbanChangeRecord) -> Result<(), StoreError>;
    async fn get_iban_change(&self, id: Uuid) -> Result<IbanChangeRecord, StoreError>;
    /// Changes in progress (requested or confirmed) of every practice, or every change of
    /// one practice; newest first.
    async fn list_iban_changes(
        &self,
        practice_id: Option<Uuid>,
    ) -> Result<Vec<IbanChangeRecord>, StoreError>;
    /// `requested` → `confirmed` when `by` is not the requester; `Conflict
    /// { iban_changes_state }` otherwise (wrong state or same person).
    async fn confirm_iban_change(
        &self,
        id: Uuid,
        by: Uuid,
        at: OffsetDateTime,
        effective_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// In one transaction: every `confirmed` change with `effective_at <= now` becomes
    /// `applied` and its practice's `iban_sealed` is replaced by `resealed(change)`;
    /// answers the changes applied.
    async fn apply_due_iban_changes(
        &self,
        now: OffsetDateTime,
        resealed: Reseal<'_>,
    ) -> Result<Vec<IbanChangeRecord>, StoreError>;
}
