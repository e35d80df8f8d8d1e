//! The `Store` port on SQLite, the embedded default: one database file in WAL mode, one
//! writer connection (SQLite serialises writers anyway; one connection avoids `SQLITE_BUSY`
//! between our own writers) and a small pool of readers.
//!
//! Queries are runtime `sqlx::query` with static SQL and `.bind` (see `migrations/README.md`).
//! Conventions: UUIDs are 16-byte BLOBs, dates TEXT `YYYY-MM-DD`, timestamps UTC TEXT
//! `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microsecond precision, truncated). Errors never carry SQL
//! text or bound values; a broken foreign key is `Conflict { constraint: "foreign_key" }`.

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
mod wal;

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
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Readers allowed at once (WAL lets them run beside the writer).
const READERS: u32 = 4;

/// What the writer connection is tuned for.
///
/// Its page cache (`cache_size`) is the trade-off. SQLite walks the whole page cache at the
/// end of every write transaction (`pager_end_transaction` → `pcache1TruncateUnsafe`), so a
/// large cache taxes every small commit (ledger group commits, engagements): with 128 MiB,
/// 18 % of the ledger's append time went there. A bulk import commits a few large
/// transactions instead, and each one touches most pages of the random-key lookup indexes
/// (member numbers, the NIR blind index): with a cache too small to hold them, SQLite spills
/// dirty pages into the WAL mid-transaction and reads them back. docs/benchmarks.md has the
/// runs of both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Workload {
    /// `rempart serve` and every other command: an 8 MiB writer cache.
    #[default]
    Serving,
    /// A bulk load on its own (`rempart import beneficiaries`): a 48 MiB writer cache, which
    /// holds most of a transaction's index pages (1M rows in 20,000-row transactions: 29,500 →
    /// 35,400 rows/s; 96 MiB with 100,000-row transactions: no faster, 60 MiB more RSS).
    Bulk,
}

impl Workload {
    /// The writer's `cache_size` pragma (KiB when negative).
    fn writer_cache(self) -> &'static str {
        match self {
            Self::Serving => "-8192",
            Self::Bulk => "-49152",
        }
    }
}

/// A SQLite database file: one writer connection, a pool of readers.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Background WAL checkpoints ([`wal`]); stops with the last clone of the store.
    _wal: Option<std::sync::Arc<wal::Checkpointer>>,
}

impl SqliteStore {
    /// Opens the database file, creating it if missing (WAL, `busy_timeout` 5 s, foreign
    /// keys on), tuned for serving. Runs nothing else: call [`SqliteStore::migrate`] to create
    /// the schema.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_for(path, Workload::Serving).await
    }

    /// [`SqliteStore::open`], with the writer tuned for `workload`.
    pub async fn open_for(path: &Path, workload: Workload) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        // The writer: its page cache (see Workload), temporary data in memory, and its
        // own WAL checkpoint only as a backstop: a background task checkpoints (`wal`).
        let writer_options = options
            .clone()
            .pragma("cache_size", workload.writer_cache())
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", wal::BACKSTOP_PAGES);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(writer_options)
            .await
            .map_err(|_| StoreError::Unavailable("cannot open the SQLite database".into()))?;
        let wal = wal::Checkpointer::start(&options)
            .await
            .map(std::sync::Arc::new);
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.create_if_missing(false))
            .await
            .map_err(|_| StoreError::Unavailable("cannot open the SQLite database".into()))?;
        Ok(Self {
            writer,
            reader,
            _wal: wal,
        })
    }

    /// Applies the pending migrations of `migrations/` through the writer connection.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.writer)
            .await
            .map_err(|e| match e {
                sqlx::migrate::MigrateError::Execute(inner) => db_err(inner),
                _ => StoreError::Other("the migrations could not be applied".into()),
            })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
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
        .fetch_one(&self.reader)
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
        accounts::insert_organisation(&self.writer, org).await
    }

    async fn get_organisation(&self, id: Uuid) -> Result<OrganisationRecord, StoreError> {
        accounts::get_organisation(&self.reader, id).await
    }

    async fn list_organisations(
        &self,
        kind: OrganisationKind,
    ) -> Result<Vec<OrganisationRecord>, StoreError> {
        accounts::list_organisations(&self.reader, kind).await
    }

    async fn insert_insurer(&self, insurer: &InsurerRecord) -> Result<(), StoreError> {
        insurers::insert(&self.writer, insurer).await
    }

    async fn get_insurer(&self, id: Uuid) -> Result<InsurerRecord, StoreError> {
        insurers::get(&self.reader, id).await
    }

    async fn find_insurer_by_amc(
        &self,
        amc: &AmcNumber,
    ) -> Result<Option<InsurerRecord>, StoreError> {
        insurers::find_by_amc(&self.reader, amc).await
    }

    async fn list_insurers(&self) -> Result<Vec<InsurerRecord>, StoreError> {
        insurers::list(&self.reader).await
    }

    async fn insert_contract(&self, contract: &ContractRecord) -> Result<(), StoreError> {
        contracts::insert(&self.writer, contract).await
    }

    async fn get_contract(&self, insurer_id: Uuid, id: Uuid) -> Result<ContractRecord, StoreError> {
        contracts::get(&self.reader, insurer_id, id).await
    }

    async fn find_contract_in_effect(
        &self,
        insurer_id: Uuid,
        code: &ContractCode,
        on: Date,
    ) -> Result<Option<ContractRecord>, StoreError> {
        contracts::find_in_effect(&self.reader, insurer_id, code, on).await
    }

    async fn list_contracts(&self, insurer_id: Uuid) -> Result<Vec<ContractRecord>, StoreError> {
        contracts::list(&self.reader, insurer_id).await
    }

    async fn insert_beneficiaries(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
        beneficiaries::insert_all(&self.writer, rows).await
    }

    async fn get_beneficiary(
        &self,
        insurer_id: Uuid,
        id: Uuid,
    ) -> Result<BeneficiaryRecord, StoreError> {
        beneficiaries::get(&self.reader, insurer_id, id).await
    }

    async fn find_member(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        beneficiaries::find_member(&self.reader, insurer_id, member).await
    }

    async fn insert_import(&self, import: &app::store::ImportRecord) -> Result<(), StoreError> {
        imports::insert(&self.writer, import).await
    }

    async fn get_import(
        &self,
        insurer_id: Uuid,
        id: Uuid,
    ) -> Result<app::store::ImportRecord, StoreError> {
        imports::get(&self.writer, insurer_id, id).await
    }

    async fn update_import(&self, import: &app::store::ImportRecord) -> Result<(), StoreError> {
        imports::update(&self.writer, import).await
    }

    async fn find_beneficiaries_of_members(
        &self,
        insurer_id: Uuid,
        members: &[MemberNumber],
    ) -> Result<Vec<app::store::ImportedBeneficiary>, StoreError> {
        imports::find_of_members(&self.reader, insurer_id, members).await
    }

    async fn apply_beneficiary_batch(
        &self,
        batch: &app::store::BeneficiaryBatch,
    ) -> Result<(), StoreError> {
        imports::apply_batch(&self.writer, batch).await
    }

    async fn apply_beneficiary_batches(
        &self,
        batches: app::store::BeneficiaryBatches,
    ) -> Result<usize, StoreError> {
        imports::apply_batches(&self.writer, batches).await
    }

    async fn find_unseen_beneficiaries(
        &self,
        insurer_id: Uuid,
        import_id: Uuid,
        on: Date,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        imports::find_unseen(&self.reader, insurer_id, import_id, on, after, limit).await
    }

    async fn find_beneficiaries_by_nir_index(
        &self,
        insurer_id: Uuid,
        nir_index: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        beneficiaries::find_by_nir_index(&self.reader, insurer_id, nir_index).await
    }

    async fn delete_beneficiary(&self, insurer_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        beneficiaries::delete(&self.writer, insurer_id, id).await
    }

    async fn list_beneficiaries_page(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        beneficiaries::page(&self.reader, insurer_id, after, limit).await
    }

    async fn update_beneficiary_seals(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
        beneficiaries::update_seals(&self.writer, rows).await
    }

    async fn insert_cards(&self, cards: &[CardRecord]) -> Result<(), StoreError> {
        cards::insert_all(&self.writer, cards).await
    }

    async fn get_card(&self, id: Uuid) -> Result<CardRecord, StoreError> {
        cards::get(&self.reader, id).await
    }

    async fn find_member_cards(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<CardRecord>, StoreError> {
        cards::find_member(&self.reader, insurer_id, member).await
    }

    async fn list_insurer_cards(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<CardRecord>, StoreError> {
        cards::list_page(&self.reader, insurer_id, after, limit).await
    }

    async fn update_card_codes(
        &self,
        insurer_id: Uuid,
        updates: &[app::store::CardCodeUpdate],
    ) -> Result<(), StoreError> {
        cards::update_codes(&self.writer, insurer_id, updates).await
    }

    async fn insert_practice(&self, practice: &PracticeRecord) -> Result<(), StoreError> {
        accounts::insert_practice(&self.writer, practice).await
    }

    async fn get_practice(&self, id: Uuid) -> Result<PracticeRecord, StoreError> {
        accounts::get_practice(&self.reader, id).await
    }

    async fn find_practice_by_am_number(
        &self,
        am: &AmNumber,
    ) -> Result<Option<PracticeRecord>, StoreError> {
        accounts::find_practice_by_am_number(&self.reader, am).await
    }

    async fn list_practices_page(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<PracticeRecord>, StoreError> {
        accounts::list_practices_page(&self.reader, after, limit).await
    }

    async fn update_practice_iban(&self, id: Uuid, iban_sealed: &[u8]) -> Result<(), StoreError> {
        accounts::update_practice_iban(&self.writer, id, iban_sealed).await
    }

    async fn insert_professional(
        &self,
        professional: &ProfessionalRecord,
    ) -> Result<(), StoreError> {
        accounts::insert_professional(&self.writer, professional).await
    }

    async fn find_professional_by_national_id(
        &self,
        id: &ProfessionalId,
    ) -> Result<Option<ProfessionalRecord>, StoreError> {
        accounts::find_professional_by_national_id(&self.reader, id).await
    }

    async fn list_professionals(
        &self,
        practice_id: Uuid,
    ) -> Result<Vec<ProfessionalRecord>, StoreError> {
        accounts::list_professionals(&self.reader, practice_id).await
    }

    async fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        accounts::insert_account(&self.writer, account).await
    }

    async fn get_account(&self, id: Uuid) -> Result<AccountRecord, StoreError> {
        accounts::get_account(&self.reader, id).await
    }

    async fn list_accounts(&self, organisation_id: Uuid) -> Result<Vec<AccountRecord>, StoreError> {
        accounts::list_accounts(&self.reader, organisation_id).await
    }

    async fn set_account_status(&self, id: Uuid, status: AccountStatus) -> Result<(), StoreError> {
        accounts::set_account_status(&self.writer, id, status).await
    }

    async fn list_data_keys(&self) -> Result<Vec<DataKeyRow>, StoreError> {
        keys::list(&self.writer).await
    }

    async fn insert_data_key(&self, key: &DataKeyRow) -> Result<(), StoreError> {
        keys::insert(&self.writer, key).await
    }

    async fn rewrap_data_key(
        &self,
        key_id: u32,
        from_kek_version: u32,
        to_kek_version: u32,
        wrapped: &[u8],
    ) -> Result<bool, StoreError> {
        keys::rewrap(
            &self.writer,
            key_id,
            from_kek_version,
            to_kek_version,
            wrapped,
        )
        .await
    }

    async fn retire_data_key(&self, key_id: u32, at: OffsetDateTime) -> Result<(), StoreError> {
        keys::retire(&self.writer, key_id, at).await
    }

    async fn delete_data_keys(&self, scope: Uuid) -> Result<u64, StoreError> {
        keys::delete_scope(&self.writer, scope).await
    }

    async fn sealed_key_counts(&self) -> Result<Vec<SealedKeyCount>, StoreError> {
        keys::sealed_counts(&self.reader).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn writer_cache(store: &SqliteStore) -> i64 {
        sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&store.writer)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_writer_cache_follows_the_workload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tuning.sqlite3");
        let serving = SqliteStore::open(&path).await.unwrap();
        assert_eq!(writer_cache(&serving).await, -8192);
        drop(serving);
        let bulk = SqliteStore::open_for(&path, Workload::Bulk).await.unwrap();
        assert_eq!(writer_cache(&bulk).await, -49152);
        // The readers keep SQLite's default cache whatever the writer's.
        let reader: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&bulk.reader)
            .await
            .unwrap();
        assert_eq!(reader, -2000);
    }
}
