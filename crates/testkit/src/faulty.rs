//! A store wrapper that can be switched off, to test how the server behaves when its database
//! is down.

use app::store::{
    AccountRecord, AccountStatus, BeneficiaryRecord, CardRecord, ContractRecord, DataKeyRow,
    InsurerRecord, OrganisationRecord, PracticeRecord, ProfessionalRecord, SealedKeyCount, Store,
    StoreCounts, StoreError,
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
    ledger_down: AtomicBool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            down: AtomicBool::new(false),
            ledger_down: AtomicBool::new(false),
        }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Fails only the ledger appends (`Unavailable`), everything else keeps working.
    pub fn set_ledger_down(&self, down: bool) {
        self.ledger_down.store(down, Ordering::SeqCst);
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

    async fn insert_import(&self, import: &app::store::ImportRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_import(import).await
    }

    async fn get_import(
        &self,
        insurer_id: Uuid,
        id: Uuid,
    ) -> Result<app::store::ImportRecord, StoreError> {
        self.check()?;
        self.inner.get_import(insurer_id, id).await
    }

    async fn update_import(&self, import: &app::store::ImportRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.update_import(import).await
    }

    async fn find_beneficiaries_of_members(
        &self,
        insurer_id: Uuid,
        members: &[MemberNumber],
    ) -> Result<Vec<app::store::ImportedBeneficiary>, StoreError> {
        self.check()?;
        self.inner
            .find_beneficiaries_of_members(insurer_id, members)
            .await
    }

    async fn apply_beneficiary_batch(
        &self,
        batch: &app::store::BeneficiaryBatch,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.apply_beneficiary_batch(batch).await
    }

    async fn apply_beneficiary_batches(
        &self,
        batches: app::store::BeneficiaryBatches,
    ) -> Result<usize, StoreError> {
        self.check()?;
        self.inner.apply_beneficiary_batches(batches).await
    }

    async fn find_unseen_beneficiaries(
        &self,
        insurer_id: Uuid,
        import_id: Uuid,
        on: time::Date,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        self.check()?;
        self.inner
            .find_unseen_beneficiaries(insurer_id, import_id, on, after, limit)
            .await
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
        self.inner
            .list_insurer_cards(insurer_id, after, limit)
            .await
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

    async fn find_beneficiaries_by_nir_index(
        &self,
        insurer_id: Uuid,
        nir_index: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        self.check()?;
        self.inner
            .find_beneficiaries_by_nir_index(insurer_id, nir_index)
            .await
    }

    async fn delete_beneficiary(&self, insurer_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete_beneficiary(insurer_id, id).await
    }

    async fn list_beneficiaries_page(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
        self.check()?;
        self.inner
            .list_beneficiaries_page(insurer_id, after, limit)
            .await
    }

    async fn update_beneficiary_seals(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.update_beneficiary_seals(rows).await
    }

    async fn list_practices_page(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<PracticeRecord>, StoreError> {
        self.check()?;
        self.inner.list_practices_page(after, limit).await
    }

    async fn update_practice_iban(&self, id: Uuid, iban_sealed: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.update_practice_iban(id, iban_sealed).await
    }

    async fn list_data_keys(&self) -> Result<Vec<DataKeyRow>, StoreError> {
        self.check()?;
        self.inner.list_data_keys().await
    }

    async fn insert_data_key(&self, key: &DataKeyRow) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_data_key(key).await
    }

    async fn rewrap_data_key(
        &self,
        key_id: u32,
        from_kek_version: u32,
        to_kek_version: u32,
        wrapped: &[u8],
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner
            .rewrap_data_key(key_id, from_kek_version, to_kek_version, wrapped)
            .await
    }

    async fn retire_data_key(
        &self,
        key_id: u32,
        at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.retire_data_key(key_id, at).await
    }

    async fn delete_data_keys(&self, scope: Uuid) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.delete_data_keys(scope).await
    }

    async fn sealed_key_counts(&self) -> Result<Vec<SealedKeyCount>, StoreError> {
        self.check()?;
        self.inner.sealed_key_counts().await
    }
}

#[async_trait]
impl app::store::AccessStore for FaultyStore {
    async fn insert_invitation(
        &self,
        invitation: &app::store::InvitationRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_invitation(invitation).await
    }

    async fn find_invitation(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<app::store::InvitationRecord>, StoreError> {
        self.check()?;
        self.inner.find_invitation(token_hash).await
    }

    async fn use_invitation(&self, id: Uuid, at: time::OffsetDateTime) -> Result<(), StoreError> {
        self.check()?;
        self.inner.use_invitation(id, at).await
    }

    async fn insert_credential(
        &self,
        credential: &app::store::CredentialRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_credential(credential).await
    }

    async fn list_credentials(
        &self,
        account_id: Uuid,
    ) -> Result<Vec<app::store::CredentialRecord>, StoreError> {
        self.check()?;
        self.inner.list_credentials(account_id).await
    }

    async fn find_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<app::store::CredentialRecord>, StoreError> {
        self.check()?;
        self.inner.find_credential(credential_id).await
    }

    async fn update_credential(
        &self,
        id: Uuid,
        passkey: &str,
        last_used_at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner
            .update_credential(id, passkey, last_used_at)
            .await
    }

    async fn delete_credential(&self, account_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete_credential(account_id, id).await
    }

    async fn insert_ceremony(
        &self,
        ceremony: &app::store::CeremonyRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_ceremony(ceremony).await
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
    ) -> Result<Option<app::store::CeremonyRecord>, StoreError> {
        self.check()?;
        self.inner.take_ceremony(id).await
    }

    async fn insert_session(&self, session: &app::store::SessionRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_session(session).await
    }

    async fn find_session(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<app::store::SessionRecord>, StoreError> {
        self.check()?;
        self.inner.find_session(token_hash).await
    }

    async fn touch_session(
        &self,
        id: Uuid,
        last_seen_at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch_session(id, last_seen_at).await
    }

    async fn set_session_uv(
        &self,
        id: Uuid,
        last_uv_at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.set_session_uv(id, last_uv_at).await
    }

    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete_session(id).await
    }

    async fn insert_client_certificate(
        &self,
        certificate: &app::store::ClientCertificateRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_client_certificate(certificate).await
    }

    async fn find_client_certificate(
        &self,
        fingerprint: &[u8],
    ) -> Result<Option<app::store::ClientCertificateRecord>, StoreError> {
        self.check()?;
        self.inner.find_client_certificate(fingerprint).await
    }

    async fn list_client_certificates(
        &self,
    ) -> Result<Vec<app::store::ClientCertificateRecord>, StoreError> {
        self.check()?;
        self.inner.list_client_certificates().await
    }

    async fn revoke_client_certificate(
        &self,
        id: Uuid,
        at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.revoke_client_certificate(id, at).await
    }

    async fn purge_access(
        &self,
        now: time::OffsetDateTime,
        idle_before: time::OffsetDateTime,
    ) -> Result<app::store::AccessPurge, StoreError> {
        self.check()?;
        self.inner.purge_access(now, idle_before).await
    }
}

#[async_trait]
impl app::rights::RightsStore for FaultyStore {
    async fn insert_engagement(
        &self,
        engagement: &app::rights::EngagementRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_engagement(engagement).await
    }

    async fn find_engagement(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<app::rights::EngagementRecord>, StoreError> {
        self.check()?;
        self.inner.find_engagement(organisation_id, number).await
    }

    async fn insert_not_me_report(
        &self,
        report: &app::rights::NotMeReportRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_not_me_report(report).await
    }

    async fn find_not_me_report(
        &self,
        insurer_id: Uuid,
        entry: u64,
    ) -> Result<Option<app::rights::NotMeReportRecord>, StoreError> {
        self.check()?;
        self.inner.find_not_me_report(insurer_id, entry).await
    }

    async fn list_not_me_reports(
        &self,
        insurer_id: Uuid,
        limit: u32,
    ) -> Result<Vec<app::rights::NotMeReportRecord>, StoreError> {
        self.check()?;
        self.inner.list_not_me_reports(insurer_id, limit).await
    }
}

#[async_trait]
impl app::idempotency::IdempotencyStore for FaultyStore {
    async fn insert_idempotency(
        &self,
        record: &app::idempotency::IdempotencyRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_idempotency(record).await
    }

    async fn find_idempotency(
        &self,
        actor_id: Uuid,
        route: &str,
        key: &str,
    ) -> Result<Option<app::idempotency::IdempotencyRecord>, StoreError> {
        self.check()?;
        self.inner.find_idempotency(actor_id, route, key).await
    }

    async fn complete_idempotency(
        &self,
        id: Uuid,
        request_hash: &[u8],
        status: u16,
        response: &[u8],
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner
            .complete_idempotency(id, request_hash, status, response)
            .await
    }

    async fn delete_idempotency(&self, id: Uuid) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete_idempotency(id).await
    }

    async fn purge_idempotency(&self, now: time::OffsetDateTime) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.purge_idempotency(now).await
    }
}

#[async_trait]
impl app::guard::GuardStore for FaultyStore {
    async fn insert_kill_switch(
        &self,
        switch: &app::guard::KillSwitchRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_kill_switch(switch).await
    }

    async fn release_kill_switch(
        &self,
        scope: &app::guard::Scope,
        by: Option<Uuid>,
        at: time::OffsetDateTime,
    ) -> Result<app::guard::KillSwitchRecord, StoreError> {
        self.check()?;
        self.inner.release_kill_switch(scope, by, at).await
    }

    async fn list_active_kill_switches(
        &self,
    ) -> Result<Vec<app::guard::KillSwitchRecord>, StoreError> {
        self.check()?;
        self.inner.list_active_kill_switches().await
    }

    async fn find_kill_switches_at(
        &self,
        at: time::OffsetDateTime,
    ) -> Result<Vec<app::guard::KillSwitchRecord>, StoreError> {
        self.check()?;
        self.inner.find_kill_switches_at(at).await
    }

    async fn find_kill_switches_overlapping(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> Result<Vec<app::guard::KillSwitchRecord>, StoreError> {
        self.check()?;
        self.inner.find_kill_switches_overlapping(from, to).await
    }

    async fn insert_suspension(
        &self,
        suspension: &app::guard::SuspensionRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_suspension(suspension).await
    }

    async fn lift_suspension(
        &self,
        subject: app::guard::Subject,
        subject_id: Uuid,
        by: Option<Uuid>,
        at: time::OffsetDateTime,
    ) -> Result<app::guard::SuspensionRecord, StoreError> {
        self.check()?;
        self.inner
            .lift_suspension(subject, subject_id, by, at)
            .await
    }

    async fn list_active_suspensions(
        &self,
    ) -> Result<Vec<app::guard::SuspensionRecord>, StoreError> {
        self.check()?;
        self.inner.list_active_suspensions().await
    }

    async fn count_account_suspensions_since(
        &self,
        organisation_id: Uuid,
        since: time::OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner
            .count_account_suspensions_since(organisation_id, since)
            .await
    }

    async fn insert_alert(&self, alert: &app::guard::AlertRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_alert(alert).await
    }

    async fn list_alerts(&self, limit: u32) -> Result<Vec<app::guard::AlertRecord>, StoreError> {
        self.check()?;
        self.inner.list_alerts(limit).await
    }

    async fn insert_decoy_cards(
        &self,
        decoys: &[app::guard::DecoyCardRecord],
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_decoy_cards(decoys).await
    }

    async fn list_decoy_cards(&self) -> Result<Vec<app::guard::DecoyCardRecord>, StoreError> {
        self.check()?;
        self.inner.list_decoy_cards().await
    }

    async fn set_practice_opening_hours(
        &self,
        practice_id: Uuid,
        hours: Option<&str>,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner
            .set_practice_opening_hours(practice_id, hours)
            .await
    }

    async fn find_practice_profile(
        &self,
        practice_id: Uuid,
    ) -> Result<Option<app::guard::PracticeProfile>, StoreError> {
        self.check()?;
        self.inner.find_practice_profile(practice_id).await
    }

    async fn count_engagement_uses(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
        within_hours: u32,
    ) -> Result<Vec<app::guard::engagements::UnusedChecks>, StoreError> {
        self.check()?;
        self.inner
            .count_engagement_uses(from, to, within_hours)
            .await
    }
}

#[async_trait]
impl app::ledger::LedgerStore for FaultyStore {
    async fn ledger_size(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.ledger_size().await
    }

    async fn append_ledger_entries(
        &self,
        entries: &[app::ledger::LedgerEntryRecord],
        grants: &[app::rights::EngagementRecord],
    ) -> Result<(), StoreError> {
        self.check()?;
        if self.ledger_down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "the test switched the ledger off".into(),
            ));
        }
        self.inner.append_ledger_entries(entries, grants).await
    }

    async fn list_ledger_entries(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<app::ledger::LedgerEntryRecord>, StoreError> {
        self.check()?;
        self.inner.list_ledger_entries(from, limit).await
    }

    async fn ledger_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.check()?;
        self.inner.ledger_leaf_hashes(from, to).await
    }

    async fn insert_ledger_tiles(
        &self,
        tiles: &[app::ledger::LedgerTileRecord],
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_ledger_tiles(tiles).await
    }

    async fn ledger_tiles(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<app::ledger::LedgerTileRecord>, StoreError> {
        self.check()?;
        self.inner.ledger_tiles(from, to).await
    }

    async fn ledger_tiles_end(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.ledger_tiles_end().await
    }

    async fn find_ledger_entries_by_pseudonym(
        &self,
        insurer_id: Uuid,
        pseudonym: &[u8],
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<app::ledger::LedgerEntryRecord>, StoreError> {
        self.check()?;
        self.inner
            .find_ledger_entries_by_pseudonym(insurer_id, pseudonym, before, limit)
            .await
    }

    async fn find_ledger_entries(
        &self,
        filter: &app::ledger::LedgerFilter,
    ) -> Result<Vec<app::ledger::LedgerEntryRecord>, StoreError> {
        self.check()?;
        self.inner.find_ledger_entries(filter).await
    }

    async fn insert_ledger_checkpoint(
        &self,
        checkpoint: &app::ledger::LedgerCheckpointRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_ledger_checkpoint(checkpoint).await
    }

    async fn latest_ledger_checkpoint(
        &self,
    ) -> Result<Option<app::ledger::LedgerCheckpointRecord>, StoreError> {
        self.check()?;
        self.inner.latest_ledger_checkpoint().await
    }

    async fn list_ledger_checkpoints(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<app::ledger::LedgerCheckpointRecord>, StoreError> {
        self.check()?;
        self.inner.list_ledger_checkpoints(before, limit).await
    }

    async fn insert_ledger_verification(
        &self,
        verification: &app::ledger::LedgerVerificationRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_ledger_verification(verification).await
    }

    async fn latest_ledger_verification(
        &self,
    ) -> Result<Option<app::ledger::LedgerVerificationRecord>, StoreError> {
        self.check()?;
        self.inner.latest_ledger_verification().await
    }
}

#[async_trait]
impl app::invoices::store::MoneyStore for FaultyStore {
    async fn insert_contract_document(
        &self,
        contract: &app::store::ContractRecord,
        toml: &str,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_contract_document(contract, toml).await
    }

    async fn find_contract_document(
        &self,
        insurer_id: Uuid,
        contract_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        self.check()?;
        self.inner
            .find_contract_document(insurer_id, contract_id)
            .await
    }

    async fn record_claim(
        &self,
        scope: &app::invoices::store::ClaimScope,
        decide: app::invoices::store::Decide<'_>,
    ) -> Result<app::invoices::store::ClaimWrite, StoreError> {
        self.check()?;
        self.inner.record_claim(scope, decide).await
    }

    async fn find_approval(
        &self,
        organisation_id: Uuid,
        number: &str,
    ) -> Result<Option<app::invoices::store::ApprovalRecord>, StoreError> {
        self.check()?;
        self.inner.find_approval(organisation_id, number).await
    }

    async fn cancel_approval(
        &self,
        organisation_id: Uuid,
        number: &str,
        at: time::OffsetDateTime,
    ) -> Result<app::invoices::store::ApprovalRecord, StoreError> {
        self.check()?;
        self.inner
            .cancel_approval(organisation_id, number, at)
            .await
    }

    async fn get_invoice(
        &self,
        organisation_id: Uuid,
        id: Uuid,
    ) -> Result<app::invoices::store::InvoiceRecord, StoreError> {
        self.check()?;
        self.inner.get_invoice(organisation_id, id).await
    }

    async fn list_invoices(
        &self,
        organisation_id: Uuid,
        limit: u32,
    ) -> Result<Vec<app::invoices::store::InvoiceRecord>, StoreError> {
        self.check()?;
        self.inner.list_invoices(organisation_id, limit).await
    }

    async fn list_counters(
        &self,
        insurer_id: Uuid,
        beneficiary_id: Uuid,
        today: time::Date,
    ) -> Result<Vec<app::invoices::store::CounterRecord>, StoreError> {
        self.check()?;
        self.inner
            .list_counters(insurer_id, beneficiary_id, today)
            .await
    }
}

#[async_trait]
impl app::payments::store::PaymentsStore for FaultyStore {
    async fn claim_payment_run(
        &self,
        run: &app::payments::store::PaymentRunRecord,
    ) -> Result<Option<app::payments::store::PaymentRunRecord>, StoreError> {
        self.check()?;
        self.inner.claim_payment_run(run).await
    }

    async fn list_run_lines(
        &self,
        run_id: Uuid,
    ) -> Result<Vec<app::payments::store::RunLineRecord>, StoreError> {
        self.check()?;
        self.inner.list_run_lines(run_id).await
    }

    async fn list_run_payees(
        &self,
        run_id: Uuid,
    ) -> Result<Vec<app::payments::store::RunPayeeRecord>, StoreError> {
        self.check()?;
        self.inner.list_run_payees(run_id).await
    }

    async fn complete_payment_run(
        &self,
        run_id: Uuid,
        transfers: &[app::payments::store::TransferRecord],
        total_cents: i64,
        written_at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner
            .complete_payment_run(run_id, transfers, total_cents, written_at)
            .await
    }

    async fn get_payment_run(
        &self,
        run_id: Uuid,
    ) -> Result<app::payments::store::PaymentRunRecord, StoreError> {
        self.check()?;
        self.inner.get_payment_run(run_id).await
    }

    async fn list_payment_runs(
        &self,
        limit: u32,
    ) -> Result<Vec<app::payments::store::PaymentRunRecord>, StoreError> {
        self.check()?;
        self.inner.list_payment_runs(limit).await
    }

    async fn list_practice_transfers(
        &self,
        practice_id: Uuid,
        limit: u32,
    ) -> Result<Vec<app::payments::store::TransferRecord>, StoreError> {
        self.check()?;
        self.inner.list_practice_transfers(practice_id, limit).await
    }

    async fn find_practice_transfer(
        &self,
        practice_id: Uuid,
        statement_id: &str,
    ) -> Result<Option<app::payments::store::TransferRecord>, StoreError> {
        self.check()?;
        self.inner
            .find_practice_transfer(practice_id, statement_id)
            .await
    }

    async fn list_billed_lines(
        &self,
        insurer_id: Uuid,
        from: Date,
        to: Date,
    ) -> Result<Vec<app::payments::store::BilledLineRecord>, StoreError> {
        self.check()?;
        self.inner.list_billed_lines(insurer_id, from, to).await
    }

    async fn insert_iban_change(
        &self,
        change: &app::payments::store::IbanChangeRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_iban_change(change).await
    }

    async fn get_iban_change(
        &self,
        id: Uuid,
    ) -> Result<app::payments::store::IbanChangeRecord, StoreError> {
        self.check()?;
        self.inner.get_iban_change(id).await
    }

    async fn list_iban_changes(
        &self,
        practice_id: Option<Uuid>,
    ) -> Result<Vec<app::payments::store::IbanChangeRecord>, StoreError> {
        self.check()?;
        self.inner.list_iban_changes(practice_id).await
    }

    async fn confirm_iban_change(
        &self,
        id: Uuid,
        by: Uuid,
        at: time::OffsetDateTime,
        effective_at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner
            .confirm_iban_change(id, by, at, effective_at)
            .await
    }

    async fn apply_due_iban_changes(
        &self,
        now: time::OffsetDateTime,
        resealed: app::payments::store::Reseal<'_>,
    ) -> Result<Vec<app::payments::store::IbanChangeRecord>, StoreError> {
        self.check()?;
        self.inner.apply_due_iban_changes(now, resealed).await
    }
}
