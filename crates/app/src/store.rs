//! The `Store` port: everything rempart keeps, behind one trait implemented by
//! `store-sqlite` and `store-postgres` and specified by `store-conformance`.
//!
//! Naming: `get_*` returns the item or `StoreError::NotFound`; `find_*` returns an `Option`
//! or a (possibly empty) `Vec`; `list_*` lists an owner's items; `insert_*` writes new rows
//! and answers `Conflict` on a duplicate key. Identifying columns arrive already sealed
//! (`*_sealed: Vec<u8>`): the store never sees a clear NIR, name, date of birth or IBAN.

use async_trait::async_trait;
use domain::accounts::{OrganisationKind, Profession, ProfessionalId, Role};
use domain::beneficiaries::Quality;
use domain::contracts::ContractCode;
use domain::ids::{AmNumber, AmcNumber, BirthRank, Finess, MemberNumber, Siret};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; `constraint` names the rule (e.g. `insurers_amc`).
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A transient failure (serialization, deadlock, busy): the caller may retry.
    #[error("transient storage failure, retry")]
    Retryable,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be read back as the domain type it must be.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage error: {0}")]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationRecord {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: String,
    pub created_at: OffsetDateTime,
}

/// An insurer (AMC). Its id is the id of its organisation; it is the `insurer_id`
/// distribution column of every table holding beneficiary data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsurerRecord {
    pub id: Uuid,
    pub amc: AmcNumber,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRecord {
    pub id: Uuid,
    pub insurer_id: Uuid,
    pub code: ContractCode,
    pub version: u32,
    pub label: String,
    pub responsible: bool,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
    /// The guarantee table, a JSON document (format in docs/formats.md).
    pub guarantees: String,
    pub created_at: OffsetDateTime,
}

/// A beneficiary at rest. Identifying fields are sealed by the `Sealer` with
/// `FieldRef { table: "beneficiaries", column: <name without _sealed>, row: id }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeneficiaryRecord {
    pub id: Uuid,
    pub insurer_id: Uuid,
    pub member_number: MemberNumber,
    pub birth_rank: BirthRank,
    pub nir_sealed: Vec<u8>,
    pub last_name_sealed: Vec<u8>,
    pub first_name_sealed: Vec<u8>,
    pub birth_date_sealed: Vec<u8>,
    pub marital_status_sealed: Vec<u8>,
    pub quality: Quality,
    pub contract_id: Uuid,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A tiers-payant card of a member family for one validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRecord {
    pub id: Uuid,
    pub insurer_id: Uuid,
    pub member_number: MemberNumber,
    pub convention_type: String,
    pub routing_criterion: String,
    pub valid_from: Date,
    pub valid_to: Date,
    /// Domain codes and regimes, a JSON document: `[{"domain":"PHAR","regime":"100%"},…]`.
    pub domains: String,
    /// The kid of the card-signing key of the card's latest token.
    pub signing_kid: u32,
    /// Keyed hash of the card's current verification code (`crypto::CodeHasher`, 32 bytes);
    /// the code itself is never stored. Empty for a card whose code was never issued.
    pub code_hash: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// A card's new token key and verification-code hash (`Store::update_card_codes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCodeUpdate {
    pub id: Uuid,
    pub signing_kid: u32,
    pub code_hash: Vec<u8>,
}

/// A practice (cabinet, shop, pharmacy, laboratory): an organisation that bills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeRecord {
    pub id: Uuid,
    pub name: String,
    pub profession: Profession,
    pub am_number: AmNumber,
    pub finess: Option<Finess>,
    pub siret: Option<Siret>,
    /// The practice's IBAN, sealed (`FieldRef { table: "practices", column: "iban", row: id }`).
    pub iban_sealed: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// A health professional (a person), attached to a practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfessionalRecord {
    pub id: Uuid,
    pub practice_id: Uuid,
    pub national_id: ProfessionalId,
    pub profession: Profession,
    pub display_name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Suspended,
}

impl AccountStatus {
    pub fn code(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AccountStatus::Active),
            "suspended" => Some(AccountStatus::Suspended),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
    pub display_name: String,
    /// For professional accounts, the professional person behind it.
    pub professional_id: Option<Uuid>,
    pub status: AccountStatus,
    pub created_at: OffsetDateTime,
}

/// Counts of what is stored, for the demo banner and `/readyz` details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreCounts {
    pub insurers: u64,
    pub contracts: u64,
    pub beneficiaries: u64,
    pub cards: u64,
    pub practices: u64,
    pub professionals: u64,
    pub accounts: u64,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Answers when the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    async fn counts(&self) -> Result<StoreCounts, StoreError>;

    // organisations
    async fn insert_organisation(&self, org: &OrganisationRecord) -> Result<(), StoreError>;
    async fn get_organisation(&self, id: Uuid) -> Result<OrganisationRecord, StoreError>;
    async fn list_organisations(
        &self,
        kind: OrganisationKind,
    ) -> Result<Vec<OrganisationRecord>, StoreError>;

    // insurers: the organisation row must exist (kind insurer) with the same id.
    async fn insert_insurer(&self, insurer: &InsurerRecord) -> Result<(), StoreError>;
    async fn get_insurer(&self, id: Uuid) -> Result<InsurerRecord, StoreError>;
    async fn find_insurer_by_amc(
        &self,
        amc: &AmcNumber,
    ) -> Result<Option<InsurerRecord>, StoreError>;
    async fn list_insurers(&self) -> Result<Vec<InsurerRecord>, StoreError>;

    // contracts: (insurer_id, code, version) is unique (`contracts_version`).
    async fn insert_contract(&self, contract: &ContractRecord) -> Result<(), StoreError>;
    async fn get_contract(&self, insurer_id: Uuid, id: Uuid) -> Result<ContractRecord, StoreError>;
    /// The version of `code` in effect on `on` (the highest version whose period contains it).
    async fn find_contract_in_effect(
        &self,
        insurer_id: Uuid,
        code: &ContractCode,
        on: Date,
    ) -> Result<Option<ContractRecord>, StoreError>;
    /// All versions of all contracts of an insurer, by code then version.
    async fn list_contracts(&self, insurer_id: Uuid) -> Result<Vec<ContractRecord>, StoreError>;

    // beneficiaries: inserted all-or-nothing; the id is unique (`beneficiaries_pkey`).
    async fn insert_beneficiaries(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError>;
    async fn get_beneficiary(
        &self,
        insurer_id: Uuid,
        id: Uuid,
    ) -> Result<BeneficiaryRecord, StoreError>;
    /// Every beneficiary of a member (the family), by birth rank then id.
    async fn find_member(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError>;

    // cards: inserted all-or-nothing.
    async fn insert_cards(&self, cards: &[CardRecord]) -> Result<(), StoreError>;
    async fn get_card(&self, id: Uuid) -> Result<CardRecord, StoreError>;
    /// The cards of a member, newest validity first.
    async fn find_member_cards(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<CardRecord>, StoreError>;
    /// A page of an insurer's cards by id, after `after` (exclusive), at most `limit`.
    async fn list_insurer_cards(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<CardRecord>, StoreError>;
    /// Sets the signing kid and code hash of cards of `insurer_id`, all or nothing:
    /// `NotFound` (and nothing changed) if one card is not the insurer's.
    async fn update_card_codes(
        &self,
        insurer_id: Uuid,
        updates: &[CardCodeUpdate],
    ) -> Result<(), StoreError>;

    // practices and professionals: am_number unique (`practices_am_number`); a
    // professional's (kind, national id) unique (`professionals_national_id`).
    async fn insert_practice(&self, practice: &PracticeRecord) -> Result<(), StoreError>;
    async fn get_practice(&self, id: Uuid) -> Result<PracticeRecord, StoreError>;
    async fn find_practice_by_am_number(
        &self,
        am: &AmNumber,
    ) -> Result<Option<PracticeRecord>, StoreError>;
    async fn insert_professional(
        &self,
        professional: &ProfessionalRecord,
    ) -> Result<(), StoreError>;
    async fn find_professional_by_national_id(
        &self,
        id: &ProfessionalId,
    ) -> Result<Option<ProfessionalRecord>, StoreError>;
    async fn list_professionals(
        &self,
        practice_id: Uuid,
    ) -> Result<Vec<ProfessionalRecord>, StoreError>;

    // accounts
    async fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError>;
    async fn get_account(&self, id: Uuid) -> Result<AccountRecord, StoreError>;
    async fn list_accounts(&self, organisation_id: Uuid) -> Result<Vec<AccountRecord>, StoreError>;
    async fn set_account_status(&self, id: Uuid, status: AccountStatus) -> Result<(), StoreError>;
}
