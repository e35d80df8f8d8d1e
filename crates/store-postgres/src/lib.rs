//! The `Store` port on PostgreSQL.

use app::store::{
    AccountRecord, AccountStatus, BeneficiaryRecord, CardRecord, ContractRecord, InsurerRecord,
    OrganisationRecord, PracticeRecord, ProfessionalRecord, Store, StoreCounts, StoreError,
};
use async_trait::async_trait;
use domain::accounts::{OrganisationKind, ProfessionalId};
use domain::contracts::ContractCode;
use domain::ids::{AmNumber, AmcNumber, MemberNumber};
use time::Date;
use uuid::Uuid;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// A PostgreSQL connection pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url`; runs no migration.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await
            .map_err(|_| StoreError::Unavailable("cannot connect to PostgreSQL".into()))?;
        Ok(Self { pool })
    }

    /// Applies the pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|_| StoreError::Other("migration failed".into()))
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        Err(pending())
    }
    async fn insert_organisation(&self, _org: &OrganisationRecord) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get_organisation(&self, _id: Uuid) -> Result<OrganisationRecord, StoreError> {
        Err(pending())
    }
    async fn list_organisations(
        &self,
        _kind: OrganisationKind,
    ) -> Result<Vec<OrganisationRecord>, StoreError> {
        Err(pending())
    }
    async fn insert_insurer(&self, _insurer: &InsurerRecord) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get_insurer(&self, _id: Uuid) -> Result<InsurerRecord, StoreError> {
        Err(pending())
    }
    async fn find_insurer_by_amc(
        &self,
        _amc: &AmcNumber,
    ) -> Result<Option<InsurerRecord>, StoreError> {
        Err(pending())
    }
    async fn list_insurers(&self) -> Result<Vec<InsurerRecord>, StoreError> {
        Err(pending())
    }
    async fn insert_contract(&self, _contract: &ContractRecord) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get_contract(
        &self,
        _insurer_id: Uuid,
        _id: Uuid,
    ) -> Result<ContractRecord, StoreError> {
        Err(pending())
    }
    async fn find_contract_in_effect(
        &self,
        _insurer_id: Uuid,
        _code: &ContractCode,
        _on: Date,
    ) -> Result<Option<ContractRecord>, StoreError> {
        Err(pending())
    }
    async fn list_contracts(&self, _insurer_id: Uuid) -> Result<Vec<ContractRecord>, StoreError> {
        Err(pending())
    }
    async fn insert_beneficiaries(&self, _rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get_beneficiary(
        &self,
        _insurer_id: Uuid,
        _id: Uuid,
    ) -> Result<BeneficiaryRecord, StoreError> {
        Err(pending())
    }
    async fn find_member(
        &self,
        _insurer_id: Uuid,
        _member: &MemberNumber,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        Err(pending())
    }
    async fn insert_cards(&self, _cards: &[CardRecord]) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get_card(&self, _id: Uuid) -> Result<CardRecord, StoreError> {
        Err(pending())
    }
    async fn find_member_cards(
        &self,
        _insurer_id: Uuid,
        _member: &MemberNumber,
    ) -> Result<Vec<CardRecord>, StoreError> {
        Err(pending())
    }
    async fn insert_practice(&self, _practice: &PracticeRecord) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get_practice(&self, _id: Uuid) -> Result<PracticeRecord, StoreError> {
        Err(pending())
    }
    async fn find_practice_by_am_number(
        &self,
        _am: &AmNumber,
    ) -> Result<Option<PracticeRecord>, StoreError> {
        Err(pending())
    }
    async fn insert_professional(
        &self,
        _professional: &ProfessionalRecord,
    ) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn find_professional_by_national_id(
        &self,
        _id: &ProfessionalId,
    ) -> Result<Option<ProfessionalRecord>, StoreError> {
        Err(pending())
    }
    async fn list_professionals(
        &self,
        _practice_id: Uuid,
    ) -> Result<Vec<ProfessionalRecord>, StoreError> {
        Err(pending())
    }
    async fn insert_account(&self, _account: &AccountRecord) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get_account(&self, _id: Uuid) -> Result<AccountRecord, StoreError> {
        Err(pending())
    }
    async fn list_accounts(
        &self,
        _organisation_id: Uuid,
    ) -> Result<Vec<AccountRecord>, StoreError> {
        Err(pending())
    }
    async fn set_account_status(
        &self,
        _id: Uuid,
        _status: AccountStatus,
    ) -> Result<(), StoreError> {
        Err(pending())
    }
}

fn pending() -> StoreError {
    StoreError::Other("not implemented yet".into())
}
