//! The money part of the store (`MoneyStore`, a supertrait of `Store`): contract documents
//! (the TOML text of each contract version), prior approvals, invoices with their lines, and
//! the counters (renewal deliveries and budget draws) of each beneficiary.
//!
//! Counters change in the same transaction as the approval or invoice that changes them:
//! [`MoneyStore::record_claim`] opens a write transaction, serialises the claims of one
//! beneficiary (SQLite: the single writer connection; PostgreSQL: `SELECT … FOR UPDATE` on the
//! beneficiary's row), reads the counters, the named approval and the duplicate marker, hands
//! them to the caller's decision (the pure engine), writes what it answers and commits. Two
//! invoices racing for one beneficiary are adjudicated one after the other.

use crate::store::{ContractRecord, StoreError};
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// One counter entry of a beneficiary (`claim_counters`): an equipment delivered (renewal) or
/// an amount drawn from a per-period budget. A reservation of a prior approval carries
/// `approval_id` and `expires_on` (the approval's last day): it stops counting after that day,
/// and is deleted when the approval is cancelled or invoiced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterRecord {
    pub id: Uuid,
    pub insurer_id: Uuid,
    pub beneficiary_id: Uuid,
    /// `equipment` or `budget`.
    pub counter: String,
    /// The care domain code (`OPTI`, `AUDI`…).
    pub domain: String,
    /// `left`/`right` for a hearing aid.
    pub ear: Option<String>,
    /// The budget's name (a guarantee id) for a budget draw.
    pub budget: Option<String>,
    /// The amount drawn (0 for an equipment).
    pub amount_cents: i64,
    /// The care date it counts on.
    pub on: Date,
    pub approval_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub expires_on: Option<Date>,
}

/// The life of a prior approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStatus {
    /// Issued; reserves its counters until `valid_until`.
    Active,
    /// Cancelled by the practice; its reservation is released.
    Cancelled,
    /// An invoice used it; the invoice's own counters replaced the reservation.
    Invoiced,
}

impl ApprovalStatus {
    pub fn code(self) -> &'static str {
        match self {
            ApprovalStatus::Active => "active",
            ApprovalStatus::Cancelled => "cancelled",
            ApprovalStatus::Invoiced => "invoiced",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Cancelled, Self::Invoiced]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

/// A prior approval (`approvals`). `number` (`P` + 20 Crockford base32 characters) is quoted
/// by the practice that obtained it, and only by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub id: Uuid,
    pub number: String,
    pub insurer_id: Uuid,
    pub beneficiary_id: Uuid,
    pub organisation_id: Uuid,
    pub actor_id: Uuid,
    pub engagement_id: Uuid,
    pub contract_id: Uuid,
    pub domain: String,
    pub status: ApprovalStatus,
    /// The expected care date (the engagement's).
    pub care_date: Date,
    pub valid_until: Date,
    pub total_cents: i64,
    /// The quote lines as sent (JSON array).
    pub lines: String,
    /// The engine's answer, every step of every line (JSON, `domain::contracts::Adjudication`).
    pub answer: String,
    pub created_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
}

/// One line of an invoice (`invoice_lines`), with what the payment runs need: the AMC amount,
/// the payee practice, the insurer, the domain, the contract code, the care date, and
/// `paid_run_id` (NULL until a payment run pays it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLineRecord {
    pub line_no: u32,
    pub kind: String,
    pub class: Option<String>,
    pub complexity: Option<String>,
    pub ear: Option<String>,
    pub quantity: u8,
    pub price_cents: i64,
    pub br_cents: i64,
    pub amo_cents: i64,
    pub amc_cents: i64,
    /// The rejection code, when rejected.
    pub rejection: Option<String>,
    /// Every step (JSON array of `domain::contracts::Step`).
    pub steps: String,
    pub paid_run_id: Option<Uuid>,
}

/// An adjudicated invoice (`invoices` and its `invoice_lines`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRecord {
    pub id: Uuid,
    pub insurer_id: Uuid,
    /// The practice that sent it and is paid.
    pub organisation_id: Uuid,
    pub actor_id: Uuid,
    pub engagement_id: Uuid,
    pub beneficiary_id: Uuid,
    pub approval_id: Option<Uuid>,
    /// The contract version applied (`None` when rejected before one was chosen).
    pub contract_id: Option<Uuid>,
    pub contract_code: String,
    pub domain: String,
    pub care_date: Date,
    /// `accepted`, `partial` or `rejected`.
    pub status: String,
    pub total_cents: i64,
    /// SHA-256 (hex) of the engagement, care date and lines: the duplicate marker.
    pub fingerprint: String,
    pub created_at: OffsetDateTime,
    pub lines: Vec<InvoiceLineRecord>,
}

/// Whose claim is decided, and what to read under the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimScope {
    pub insurer_id: Uuid,
    pub beneficiary_id: Uuid,
    /// The practice (approvals and duplicates are read within it).
    pub organisation_id: Uuid,
    /// Counters expired before this day are not read.
    pub today: Date,
    /// The approval the claim names (read by number within the practice).
    pub approval_number: Option<String>,
    /// An invoice's duplicate marker: a non-rejected invoice of the practice with this
    /// fingerprint makes [`ClaimContext::duplicate`] true.
    pub fingerprint: Option<String>,
}

/// What the decision sees, read under the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimContext {
    /// The beneficiary's counters in force (the named approval's own reservation excluded).
    pub counters: Vec<CounterRecord>,
    pub approval: Option<ApprovalRecord>,
    pub duplicate: bool,
}

/// What the decision writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimWrite {
    Approval {
        approval: ApprovalRecord,
        counters: Vec<CounterRecord>,
    },
    Invoice {
        invoice: InvoiceRecord,
        counters: Vec<CounterRecord>,
        /// The approval the invoice used: marked invoiced, its reservation deleted.
        consume_approval: Option<Uuid>,
        /// The request's `Idempotency-Key` record, completed with this answer in the same
        /// transaction (the record must still be running: else nothing is written,
        /// `Conflict { constraint: "idempotency_running" }`).
        kept: Option<crate::idempotency::KeptAnswer>,
    },
}

/// The caller's decision inside [`MoneyStore::record_claim`]; an `Err` rolls back and is
/// answered as `StoreError::Other`.
pub type Decide<'a> = &'a (dyn Fn(&ClaimContext) -> Result<ClaimWrite, String> + Send + Sync);

#[async_trait]
pub trait MoneyStore: Send + Sync {
    /// Inserts a contract version and its TOML text in one transaction
    /// (`Conflict { constraint: "contracts_version" }` when that version exists).
    async fn insert_contract_document(
        &self,
        contract: &ContractRecord,
        toml: &str,
    ) -> Result<(), StoreError>;
    /// The TOML text of a contract version of `insurer_id`; `None` for a version loaded
    /// without one (the JSON guarantee tables of older data).
    async fn find_contract_document(
        &self,
        insurer_id: Uuid,
        contract_id: Uuid,
    ) -> Result<Option<String>, StoreError>;

    /// Reads the context of a claim under a write transaction that serialises the claims of
    /// one beneficiary, calls `decide`, writes its answer and commits (see the module
    /// documentation). Answers what was written.
    async fn record_claim(
        &self,
        scope: &ClaimScope,
        decide: Decide<'_>,
    ) -> Result<ClaimWrite, StoreError>;

    /// The approval of that number obtained by `organisation_id` (`None` otherwise).
    async fn find_approval(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<ApprovalRecord>, StoreError>;
    /// Cancels an active approval of the practice and deletes its reservation; `NotFound` when
    /// the practice has no such approval, `Conflict { constraint: "approvals_status" }` when
    /// it is not active.
    async fn cancel_approval(
        &self,
        organisation_id: Uuid,
        number: &str,
        at: OffsetDateTime,
    ) -> Result<ApprovalRecord, StoreError>;

    /// An invoice of the practice, with its lines; `NotFound` for another practice's.
    async fn get_invoice(
        &self,
        organisation_id: Uuid,
        id: Uuid,
    ) -> Result<InvoiceRecord, StoreError>;
    /// The practice's invoices, newest first, at most `limit`, with their lines.
    async fn list_invoices(
        &self,
        organisation_id: Uuid,
        limit: u32,
    ) -> Result<Vec<InvoiceRecord>, StoreError>;
    /// A beneficiary's counters in force on `today` (reservations past their last day left
    /// out), oldest first.
    async fn list_counters(
        &self,
        insurer_id: Uuid,
        beneficiary_id: Uuid,
        today: Date,
    ) -> Result<Vec<CounterRecord>, StoreError>;
}
