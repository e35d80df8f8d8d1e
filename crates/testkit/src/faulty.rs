//! A store wrapper that can be switched off, to test how the server behaves when its database
//! is down.

use app::store::{
    AccountRecord, AccountStatus, BeneficiaryRecord, CardRecord, ContractRecord, InsurerRecord,
    OrganisationRecord, PracticeRecord, ProfessionalRecord, Store, StoreCounts, StoreError,
};
use async_trait::async_trait;
use domain::accounts::{OrganisationKind, ProfessionalId};
use domain::contracts::ContractCode;
use domain::ids::{AmNumber, AmcNumber, MemberNumber};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use time::Date;
use uuid::Uuid;

/// Delegates to the real store, or answers `Unavailable` to everything while down.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    down: AtomicBool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            down: AtomicBool::new(false),
        }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.is_down() {
            Err(StoreError::Unavailable(
                "the test switched the store off".into(),
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for FaultyStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.check()?;
        self.inner.ping().await
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.check()?;
        self.inner.counts().await
    }

    async fn insert_organisation(&self, org: &OrganisationRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_organisation(org).await
    }

    async fn get_organisation(&self, id: Uuid) -> Result<OrganisationRecord, StoreError> {
        self.check()?;
        self.inner.get_organisation(id).await
    }

    async fn list_organisations(
        &self,
        kind: OrganisationKind,
    ) -> Result<Vec<OrganisationRecord>, StoreError> {
        self.check()?;
        self.inner.list_organisations(kind).await
    }

    async fn insert_insurer(&self, insurer: &InsurerRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_insurer(insurer).await
    }

    async fn get_insurer(&self, id: Uuid) -> Result<InsurerRecord, StoreError> {
        self.check()?;
        self.inner.get_insurer(id).await
    }

    async fn find_insurer_by_amc(
        &self,
        amc: &AmcNumber,
    ) -> Result<Option<InsurerRecord>, StoreError> {
        self.check()?;
        self.inner.find_insurer_by_amc(amc).await
    }

    async fn list_insurers(&self) -> Result<Vec<InsurerRecord>, StoreError> {
        self.check()?;
        self.inner.list_insurers().await
    }

    async fn insert_contract(&self, contract: &ContractRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_contract(contract).await
    }

    async fn get_contract(&self, insurer_id: Uuid, id: Uuid) -> Result<ContractRecord, StoreError> {
        self.check()?;
        self.inner.get_contract(insurer_id, id).await
    }

    async fn find_contract_in_effect(
        &self,
        insurer_id: Uuid,
        code: &ContractCode,
        on: Date,
    ) -> Result<Option<ContractRecord>, StoreError> {
        self.check()?;
        self.inner
            .find_contract_in_effect(insurer_id, code, on)
            .await
    }

    async fn list_contracts(&self, insurer_id: Uuid) -> Result<Vec<ContractRecord>, StoreError> {
        self.check()?;
        self.inner.list_contracts(insurer_id).await
    }

    async fn insert_beneficiaries(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_beneficiaries(rows).await
    }

    async fn get_beneficiary(
        &self,
        insurer_id: Uuid,
        id: Uuid,
    ) -> Result<BeneficiaryRecord, StoreError> {
        self.check()?;
        self.inner.get_beneficiary(insurer_id, id).await
    }

    async fn find_member(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        self.check()?;
        self.inner.find_member(insurer_id, member).await
    }

    async fn insert_cards(&self, cards: &[CardRecord]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_cards(cards).await
    }

    async fn get_card(&self, id: Uuid) -> Result<CardRecord, StoreError> {
        self.check()?;
        self.inner.get_card(id).await
    }

    async fn find_member_cards(
        &self,
        insurer_id: Uuid,
        member: &MemberNumber,
    ) -> Result<Vec<CardRecord>, StoreError> {
        self.check()?;
        self.inner.find_member_cards(insurer_id, member).await
    }

    async fn list_insurer_cards(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<CardRecord>, StoreError> {
        self.check()?;
        self.inner.list_insurer_cards(insurer_id, after, limit).await
    }

    async fn update_card_codes(
        &self,
        insurer_id: Uuid,
        updates: &[app::store::CardCodeUpdate],
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.update_card_codes(insurer_id, updates).await
    }

    async fn insert_practice(&self, practice: &PracticeRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_practice(practice).await
    }

    async fn get_practice(&self, id: Uuid) -> Result<PracticeRecord, StoreError> {
        self.check()?;
        self.inner.get_practice(id).await
    }

    async fn find_practice_by_am_number(
        &self,
        am: &AmNumber,
    ) -> Result<Option<PracticeRecord>, StoreError> {
        self.check()?;
        self.inner.find_practice_by_am_number(am).await
    }

    async fn insert_professional(
        &self,
        professional: &ProfessionalRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_professional(professional).await
    }

    async fn find_professional_by_national_id(
        &self,
        id: &ProfessionalId,
    ) -> Result<Option<ProfessionalRecord>, StoreError> {
        self.check()?;
        self.inner.find_professional_by_national_id(id).await
    }

    async fn list_professionals(
        &self,
        practice_id: Uuid,
    ) -> Result<Vec<ProfessionalRecord>, StoreError> {
        self.check()?;
        self.inner.list_professionals(practice_id).await
    }

    async fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_account(account).await
    }

    async fn get_account(&self, id: Uuid) -> Result<AccountRecord, StoreError> {
        self.check()?;
        self.inner.get_account(id).await
    }

    async fn list_accounts(&self, organisation_id: Uuid) -> Result<Vec<AccountRecord>, StoreError> {
        self.check()?;
        self.inner.list_accounts(organisation_id).await
    }

    async fn set_account_status(&self, id: Uuid, status: AccountStatus) -> Result<(), StoreError> {
        self.check()?;
        self.inner.set_account_status(id, status).await
    }
}
