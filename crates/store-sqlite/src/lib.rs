//! The `Store` port on SQLite (embedded default).

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

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use std::path::Path;
use std::time::Duration;

/// A SQLite database file: one writer connection, a pool of readers.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file; runs no migration.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|_| StoreError::Unavailable("cannot open the SQLite database".into()))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(|_| StoreError::Unavailable("cannot open the SQLite database".into()))?;
        Ok(Self { writer, reader })
    }

    /// Applies the pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let _ = &self.reader;
        sqlx::migrate!("./migrations")
            .run(&self.writer)
            .await
            .map_err(|_| StoreError::Other("migration failed".into()))
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
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
