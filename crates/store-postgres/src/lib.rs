//! The `Store` port on PostgreSQL (production). The schema is kept portable to
//! Postgres-compatible distributed engines (Citus first): application-made UUIDv7 keys, no
//! sequences, triggers or extensions, `insurer_id` on every table holding beneficiary data.
//!
//! Queries are runtime `sqlx::query` with static SQL and `.bind` (see
//! `crates/store-sqlite/migrations/README.md`). SQLSTATE 40001/40P01 is `Retryable`, 23505 is
//! `Conflict` with the constraint name, a broken foreign key (23503) is
//! `Conflict { constraint: "foreign_key" }`, connection failures are `Unavailable`. Errors
//! never carry SQL text or bound values. Timestamps are truncated to the microsecond.

mod access;
mod accounts;
mod beneficiaries;
mod cards;
mod codec;
mod contracts;
mod error;
mod guard;
mod idempotency;
mod imports;
mod insurers;
mod invoices;
mod keys;
mod ledger;
mod payments;
mod rights;

use crate::codec::u64_count;
use crate::error::db_err;
use app::store::{
    AccountRecord, AccountStatus, BeneficiaryRecord, CardRecord, ContractRecord, DataKeyRow,
    InsurerRecord, OrganisationRecord, PracticeRecord, ProfessionalRecord, SealedKeyCount, Store,
    StoreCounts, StoreError,
};
use async_trait::async_trait;
use domain::accounts::{OrganisationKind, ProfessionalId};
use domain::contracts::ContractCode;
use domain::ids::{AmNumber, AmcNumber, MemberNumber};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Connections per store.
const MAX_CONNECTIONS: u32 = 8;

/// A PostgreSQL connection pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (checking one connection now). Runs nothing else: call
    /// [`PgStore::migrate`] to create the schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Unavailable("the PostgreSQL URL is not valid".into()))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| match db_err(e) {
                StoreError::Unavailable(m) => StoreError::Unavailable(m),
                _ => StoreError::Unavailable("cannot connect to PostgreSQL".into()),
            })?;
        Ok(Self { pool })
    }

    /// Applies the pending migrations of `migrations/`.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| match e {
                sqlx::migrate::MigrateError::Execute(inner) => db_err(inner),
                _ => StoreError::Other("the migrations could not be applied".into()),
            })
    }

    /// Closes every connection of the pool (tests close before dropping their database).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM insurers) AS insurers, (SELECT COUNT(*) FROM contracts) AS contracts, \
             (SELECT COUNT(*) FROM beneficiaries) AS beneficiaries, (SELECT COUNT(*) FROM cards) AS cards, \
             (SELECT COUNT(*) FROM practices) AS practices, (SELECT COUNT(*) FROM professionals) AS professionals, \
             (SELECT COUNT(*) FROM accounts) AS accounts",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(StoreCounts {
            insurers: u64_count(&row, "insurers")?,
            contracts: u64_count(&row, "contracts")?,
            beneficiaries: u64_count(&row, "beneficiaries")?,
            cards: u64_count(&row, "cards")?,
            practices: u64_count(&row, "practices")?,
            professionals: u64_count(&row, "professionals")?,
            accounts: u64_count(&row, "accounts")?,
        })
    }

    async fn insert_organisation(&self, org: &OrganisationRecord) -> Result<(), StoreError> {
        accounts::insert_organisation(&self.pool, org).await
    }

    async fn get_organisation(&self, id: Uuid) -> Result<OrganisationRecord, StoreError> {
        accounts::get_organisation(&self.pool, id).await
    }

    async fn list_organisations(
        &self,
        kind: OrganisationKind,
    ) -> Result<Vec<OrganisationRecord>, StoreError> {
        accounts::list_organisations(&self.pool, kind).await
    }

    async fn insert_insurer(&self, insurer: &InsurerRecord) -> Result<(), StoreError> {
        insurers::insert(&self.pool, insurer).await
    }

    async fn get_insurer(&self, id: Uuid) -> Result<InsurerRecord, StoreError> {
        insurers::get(&self.pool, id).await
    }

    async fn find_insurer_by_amc(
        &self,
        amc: &AmcNumber,
    ) -> Result<Option<InsurerRecord>, StoreError> {
        insurers::find_by_amc(&self.pool, amc).await
    }

    async fn list_insurers(&self) -> Result<Vec<InsurerRecord>, StoreError> {
        insurers::list(&self.pool).await
    }

    async fn insert_contract(&self, contract: &ContractRecord) -> Result<(), StoreError> {
        contracts::insert(&self.pool, contract).await
    }

    async fn get_contract(&self, insurer_id: Uuid, id: Uuid) -> Result<ContractRecord, StoreError> {
        contracts::get(&self.pool, insurer_id, id).await
    }

    async fn find_contract_in_effect(
        &self,
        insurer_id: Uuid,
        code: &ContractCode,
        on: Date,
    ) -> Result<Option<ContractRecord>, StoreError> {
        contracts::find_in_effect(&self.pool, insurer_id, code, on).await
    }

    async fn list_contracts(&self, insurer_id: Uuid) -> Result<Vec<ContractRecord>, StoreError> {
        contracts::list(&self.pool, insurer_id).await
    }

    async fn insert_beneficiaries(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
        beneficiaries::insert_all(&self.pool, rows).await
    }

    async fn get_beneficiary(
        &self,
        insurer_id: Uuid,
        id: Uuid,
    ) -> Result<BeneficiaryRecord, StoreError> {
        beneficiaries::get(&self.pool, insurer_id, id).await
    }

    async fn find_member(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        beneficiaries::find_member(&self.pool, insurer_id, member).await
    }

    async fn insert_import(&self, import: &app::store::ImportRecord) -> Result<(), StoreError> {
        imports::insert(&self.pool, import).await
    }

    async fn get_import(
        &self,
        insurer_id: Uuid,
        id: Uuid,
    ) -> Result<app::store::ImportRecord, StoreError> {
        imports::get(&self.pool, insurer_id, id).await
    }

    async fn update_import(&self, import: &app::store::ImportRecord) -> Result<(), StoreError> {
        imports::update(&self.pool, import).await
    }

    async fn find_beneficiaries_of_members(
        &self,
        insurer_id: Uuid,
        members: &[MemberNumber],
    ) -> Result<Vec<app::store::ImportedBeneficiary>, StoreError> {
        imports::find_of_members(&self.pool, insurer_id, members).await
    }

    async fn apply_beneficiary_batch(
        &self,
        batch: &app::store::BeneficiaryBatch,
    ) -> Result<(), StoreError> {
        imports::apply_batch(&self.pool, batch).await
    }

    async fn apply_beneficiary_batches(
        &self,
        batches: app::store::BeneficiaryBatches,
    ) -> Result<usize, StoreError> {
        imports::apply_batches(&self.pool, batches).await
    }

    async fn find_unseen_beneficiaries(
        &self,
        insurer_id: Uuid,
        import_id: Uuid,
        on: Date,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        imports::find_unseen(&self.pool, insurer_id, import_id, on, after, limit).await
    }

    async fn find_beneficiaries_by_nir_index(
        &self,
        insurer_id: Uuid,
        nir_index: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        beneficiaries::find_by_nir_index(&self.pool, insurer_id, nir_index).await
    }

    async fn delete_beneficiary(&self, insurer_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        beneficiaries::delete(&self.pool, insurer_id, id).await
    }

    async fn list_beneficiaries_page(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        beneficiaries::page(&self.pool, insurer_id, after, limit).await
    }

    async fn update_beneficiary_seals(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
        beneficiaries::update_seals(&self.pool, rows).await
    }

    async fn insert_cards(&self, cards: &[CardRecord]) -> Result<(), StoreError> {
        cards::insert_all(&self.pool, cards).await
    }

    async fn get_card(&self, id: Uuid) -> Result<CardRecord, StoreError> {
        cards::get(&self.pool, id).await
    }

    async fn find_member_cards(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<CardRecord>, StoreError> {
        cards::find_member(&self.pool, insurer_id, member).await
    }

    async fn list_insurer_cards(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<CardRecord>, StoreError> {
        cards::list_page(&self.pool, insurer_id, after, limit).await
    }

    async fn update_card_codes(
        &self,
        insurer_id: Uuid,
        updates: &[app::store::CardCodeUpdate],
    ) -> Result<(), StoreError> {
        cards::update_codes(&self.pool, insurer_id, updates).await
    }

    async fn insert_practice(&self, practice: &PracticeRecord) -> Result<(), StoreError> {
        accounts::insert_practice(&self.pool, practice).await
    }

    async fn get_practice(&self, id: Uuid) -> Result<PracticeRecord, StoreError> {
        accounts::get_practice(&self.pool, id).await
    }

    async fn find_practice_by_am_number(
        &self,
        am: &AmNumber,
    ) -> Result<Option<PracticeRecord>, StoreError> {
        accounts::find_practice_by_am_number(&self.pool, am).await
    }

    async fn list_practices_page(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<PracticeRecord>, StoreError> {
        accounts::list_practices_page(&self.pool, after, limit).await
    }

    async fn update_practice_iban(&self, id: Uuid, iban_sealed: &[u8]) -> Result<(), StoreError> {
        accounts::update_practice_iban(&self.pool, id, iban_sealed).await
    }

    async fn insert_professional(
        &self,
        professional: &ProfessionalRecord,
    ) -> Result<(), StoreError> {
        accounts::insert_professional(&self.pool, professional).await
    }

    async fn find_professional_by_national_id(
        &self,
        id: &ProfessionalId,
    ) -> Result<Option<ProfessionalRecord>, StoreError> {
        accounts::find_professional_by_national_id(&self.pool, id).await
    }

    async fn list_professionals(
        &self,
        practice_id: Uuid,
    ) -> Result<Vec<ProfessionalRecord>, StoreError> {
        accounts::list_professionals(&self.pool, practice_id).await
    }

    async fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        accounts::insert_account(&self.pool, account).await
    }

    async fn get_account(&self, id: Uuid) -> Result<AccountRecord, StoreError> {
        accounts::get_account(&self.pool, id).await
    }

    async fn list_accounts(&self, organisation_id: Uuid) -> Result<Vec<AccountRecord>, StoreError> {
        accounts::list_accounts(&self.pool, organisation_id).await
    }

    async fn set_account_status(&self, id: Uuid, status: AccountStatus) -> Result<(), StoreError> {
        accounts::set_account_status(&self.pool, id, status).await
    }

    async fn list_data_keys(&self) -> Result<Vec<DataKeyRow>, StoreError> {
        keys::list(&self.pool).await
    }

    async fn insert_data_key(&self, key: &DataKeyRow) -> Result<(), StoreError> {
        keys::insert(&self.pool, key).await
    }

    async fn rewrap_data_key(
        &self,
        key_id: u32,
        from_kek_version: u32,
        to_kek_version: u32,
        wrapped: &[u8],
    ) -> Result<bool, StoreError> {
        keys::rewrap(
            &self.pool,
            key_id,
            from_kek_version,
            to_kek_version,
            wrapped,
        )
        .await
    }

    async fn retire_data_key(&self, key_id: u32, at: OffsetDateTime) -> Result<(), StoreError> {
        keys::retire(&self.pool, key_id, at).await
    }

    async fn delete_data_keys(&self, scope: Uuid) -> Result<u64, StoreError> {
        keys::delete_scope(&self.pool, scope).await
    }

    async fn sealed_key_counts(&self) -> Result<Vec<SealedKeyCount>, StoreError> {
        keys::sealed_counts(&self.pool).await
    }
}
