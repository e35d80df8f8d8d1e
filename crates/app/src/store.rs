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
    /// Blind index of the NIR (`vault.blind_index().nir(..)`, a truncated keyed hash): exact
    /// NIR lookups find candidates by it, then unseal to confirm.
    pub nir_index: u32,
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

/// What a data key is for (`data_keys.purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyPurpose {
    /// Field sealing for one scope (an insurer, or the platform).
    Seal,
    /// The blind-index key (platform scope).
    BlindIndex,
    /// A card-signing Ed25519 seed (platform scope), one per card key version.
    CardSigning,
    /// The key of the verification-code keyed hash (platform scope).
    CardCode,
    /// The ledger's beneficiary-pseudonym HMAC key (platform scope).
    Pseudonym,
    /// A ledger checkpoint-signing Ed25519 seed (platform scope), one per version.
    LedgerSigning,
    /// The key of the keyed hashes of invitation tokens and session ids (platform scope).
    AccessToken,
}

impl KeyPurpose {
    pub const ALL: [KeyPurpose; 7] = [
        KeyPurpose::Seal,
        KeyPurpose::BlindIndex,
        KeyPurpose::CardSigning,
        KeyPurpose::CardCode,
        KeyPurpose::Pseudonym,
        KeyPurpose::LedgerSigning,
        KeyPurpose::AccessToken,
    ];

    pub fn code(self) -> &'static str {
        match self {
            KeyPurpose::Seal => "seal",
            KeyPurpose::BlindIndex => "blind_index",
            KeyPurpose::CardSigning => "card_signing",
            KeyPurpose::CardCode => "card_code",
            KeyPurpose::Pseudonym => "pseudonym",
            KeyPurpose::LedgerSigning => "ledger_signing",
            KeyPurpose::AccessToken => "access_token",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == s)
    }
}

/// One stored secret, wrapped by the key provider's KEK (`data_keys`). `key_id` is unique in
/// the deployment and never reused (it is the key id in sealed headers); `(scope, purpose,
/// version)` is unique (`data_keys_version`). No plaintext key is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyRow {
    pub key_id: u32,
    pub scope: Uuid,
    pub purpose: KeyPurpose,
    pub version: u32,
    pub kek_version: u32,
    pub wrapped: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for DataKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyRow")
            .field("key_id", &self.key_id)
            .field("scope", &self.scope)
            .field("purpose", &self.purpose)
            .field("version", &self.version)
            .field("kek_version", &self.kek_version)
            .field("wrapped_len", &self.wrapped.len())
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// How many rows of a table are sealed under one key id (read from the sealed headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKeyCount {
    /// `"beneficiaries"` or `"practices"`.
    pub table: &'static str,
    pub key_id: u32,
    pub rows: u64,
}

/// How far an import run went (`imports.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    /// Started; a run killed meanwhile stays `running` (its batches are committed or absent).
    Running,
    Done,
    /// Stopped by an error that was reported (unreadable file, storage failure).
    Failed,
}

impl ImportState {
    pub fn code(self) -> &'static str {
        match self {
            ImportState::Running => "running",
            ImportState::Done => "done",
            ImportState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(ImportState::Running),
            "done" => Some(ImportState::Done),
            "failed" => Some(ImportState::Failed),
            _ => None,
        }
    }
}

/// One run of a beneficiary import (`imports`): its counts, never a row's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    pub id: Uuid,
    pub insurer_id: Uuid,
    /// SHA-256 of the file (hex) when known before reading it (a file on disk).
    pub digest: Option<String>,
    /// The `Idempotency-Key` sent with an API import.
    pub idempotency_key: Option<String>,
    pub full: bool,
    /// The file's date: the day missing beneficiaries are closed at by a full import.
    pub file_date: Date,
    pub state: ImportState,
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub closed: u64,
    pub rejected: u64,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// A stored beneficiary and the import that last saw it (`beneficiaries.last_import_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedBeneficiary {
    pub record: BeneficiaryRecord,
    pub last_import_id: Option<Uuid>,
}

/// What one import batch writes, all or nothing (`Store::apply_beneficiary_batch`). Every
/// inserted, updated and `seen` row gets `last_import_id = import_id`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BeneficiaryBatch {
    pub insurer_id: Uuid,
    pub import_id: Uuid,
    pub inserts: Vec<BeneficiaryRecord>,
    /// Rewrites every column but `id`, `insurer_id`, `member_number`, `birth_rank`,
    /// `nir_index` and `created_at`; a row that is not there fails the batch (`NotFound`).
    pub updates: Vec<BeneficiaryRecord>,
    /// Unchanged rows seen by a full import: only their `last_import_id` is set.
    pub seen: Vec<Uuid>,
    pub cards: Vec<CardRecord>,
}

/// Where the batches of one transaction arrive (`Store::apply_beneficiary_batches`).
pub type BeneficiaryBatches = tokio::sync::mpsc::Receiver<BeneficiaryBatch>;

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
pub trait Store:
    AccessStore
    + crate::ledger::LedgerStore
    + crate::rights::RightsStore
    + crate::idempotency::IdempotencyStore
    + crate::guard::GuardStore
    + crate::invoices::store::MoneyStore
    + crate::payments::store::PaymentsStore
    + Send
    + Sync
{
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
    // imports (issue 3)
    async fn insert_import(&self, import: &ImportRecord) -> Result<(), StoreError>;
    async fn get_import(&self, insurer_id: Uuid, id: Uuid) -> Result<ImportRecord, StoreError>;
    /// Writes the state, counts and `finished_at` of an import (`NotFound` when absent).
    async fn update_import(&self, import: &ImportRecord) -> Result<(), StoreError>;
    /// Every beneficiary of these members of an insurer, with the import that last saw it.
    async fn find_beneficiaries_of_members(
        &self,
        insurer_id: Uuid,
        members: &[MemberNumber],
    ) -> Result<Vec<ImportedBeneficiary>, StoreError>;
    /// Applies one import batch in one transaction: all of it or nothing.
    async fn apply_beneficiary_batch(&self, batch: &BeneficiaryBatch) -> Result<(), StoreError>;
    /// Applies import batches, as they arrive on `batches`, in one transaction committed when
    /// the channel closes: every batch received or none (an error rolls back every batch
    /// already applied, and the batches are invisible to other readers until the commit).
    /// Returns the number of batches committed.
    async fn apply_beneficiary_batches(
        &self,
        batches: BeneficiaryBatches,
    ) -> Result<usize, StoreError>;
    /// Up to `limit` beneficiaries of an insurer, by id after `after`, that import `import_id`
    /// did not see and that are in effect on `on` or later (`valid_from <= on` and `valid_to`
    /// open or after `on`): what a full import closes.
    async fn find_unseen_beneficiaries(
        &self,
        insurer_id: Uuid,
        import_id: Uuid,
        on: Date,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError>;
    /// The beneficiaries of an insurer whose NIR blind index is `nir_index`, by id: candidates
    /// only; the caller unseals each NIR to confirm.
    async fn find_beneficiaries_by_nir_index(
        &self,
        insurer_id: Uuid,
        nir_index: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError>;
    /// Erasure: deletes one beneficiary (`NotFound` when absent).
    async fn delete_beneficiary(&self, insurer_id: Uuid, id: Uuid) -> Result<(), StoreError>;
    /// Up to `limit` beneficiaries of an insurer with an id greater than `after`, by id
    /// (key maintenance: re-sealing walks an insurer with it). Not for lookups.
    async fn list_beneficiaries_page(
        &self,
        insurer_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<BeneficiaryRecord>, StoreError>;
    /// Re-sealing: replaces the sealed columns and `nir_index` of existing rows (matched by
    /// insurer and id), all or nothing; `NotFound` if one row is missing.
    async fn update_beneficiary_seals(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError>;

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
    /// Up to `limit` practices with an id greater than `after`, by id (key maintenance).
    async fn list_practices_page(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<PracticeRecord>, StoreError>;
    /// Re-sealing: replaces a practice's sealed IBAN (`NotFound` when absent).
    async fn update_practice_iban(&self, id: Uuid, iban_sealed: &[u8]) -> Result<(), StoreError>;
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

    // data keys: wrapped secrets only (see `DataKeyRow`); `Conflict` on `data_keys_pkey`
    // (key id) or `data_keys_version` (scope, purpose, version).
    async fn list_data_keys(&self) -> Result<Vec<DataKeyRow>, StoreError>;
    async fn insert_data_key(&self, key: &DataKeyRow) -> Result<(), StoreError>;
    /// Compare-and-set re-wrap: replaces the wrapping of `key_id` only if it is still under
    /// `from_kek_version`; answers whether it did (`false`: already moved, or shredded).
    async fn rewrap_data_key(
        &self,
        key_id: u32,
        from_kek_version: u32,
        to_kek_version: u32,
        wrapped: &[u8],
    ) -> Result<bool, StoreError>;
    /// Marks a data key as no longer used for new values (it still opens old ones).
    async fn retire_data_key(&self, key_id: u32, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Crypto-shredding: deletes every data key of `scope`; answers how many.
    async fn delete_data_keys(&self, scope: Uuid) -> Result<u64, StoreError>;
    /// Rows per key id in the sealed headers of `beneficiaries.nir_sealed` and
    /// `practices.iban_sealed` (key status and re-sealing progress).
    async fn sealed_key_counts(&self) -> Result<Vec<SealedKeyCount>, StoreError>;
}

// ---- access: invitations, passkey credentials, ceremonies, sessions (app::accounts)

/// A one-time enrolment invitation. Only a keyed hash of its 256-bit token is kept; the token
/// itself appears only in the link given to the invitee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    pub id: Uuid,
    /// Keyed hash of the token (`invitations_token_hash` is unique).
    pub token_hash: Vec<u8>,
    pub role: Role,
    pub organisation_id: Uuid,
    pub display_name: Option<String>,
    /// For professionals: the RPPS/ADELI checked by the operator who invited.
    pub professional_id: Option<ProfessionalId>,
    /// Set when the invitation binds a passkey to an existing account (recovery, demo).
    pub account_id: Option<Uuid>,
    /// The account that made the invitation (`None`: the command line or the demo).
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// A passkey of an account: the serialized `webauthn_rs::prelude::Passkey` (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    /// The WebAuthn credential id (`credentials_credential_id` is unique).
    pub credential_id: Vec<u8>,
    /// `webauthn_rs::prelude::Passkey` as JSON (public key, counter): no secret.
    pub passkey: String,
    pub label: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// Server-side state of a WebAuthn ceremony in progress: short-lived, taken (deleted) on use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRecord {
    pub id: Uuid,
    /// `enrol`, `login`, `step_up`, `add_passkey`.
    pub kind: String,
    /// The webauthn-rs state, JSON.
    pub state: String,
    pub account_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A server-side session. Only a keyed hash of its 256-bit id (the cookie) is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    /// Keyed hash of the cookie value (`sessions_token_hash` is unique).
    pub token_hash: Vec<u8>,
    pub account_id: Uuid,
    /// The credential (`CredentialRecord::id`) that opened the session.
    pub credential_id: Uuid,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// The absolute end of the session.
    pub expires_at: OffsetDateTime,
    /// The last user-verified assertion (sign-in or step-up).
    pub last_uv_at: OffsetDateTime,
}

/// A machine's client certificate, issued by the platform CA (`rempart ca issue`): it maps to
/// exactly one organisation and role. The private key is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificateRecord {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
    pub display_name: String,
    /// The certificate's serial number, hex.
    pub serial: String,
    /// SHA-256 of the certificate (DER); `client_certificates_fingerprint` is unique.
    pub fingerprint: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// The access part of the store (invitations, passkeys, ceremonies, sessions).
#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn insert_invitation(&self, invitation: &InvitationRecord) -> Result<(), StoreError>;
    async fn find_invitation(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<InvitationRecord>, StoreError>;
    /// Marks an unused invitation used; `NotFound` if missing or already used (single use).
    async fn use_invitation(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    async fn insert_credential(&self, credential: &CredentialRecord) -> Result<(), StoreError>;
    /// An account's passkeys, oldest first.
    async fn list_credentials(&self, account_id: Uuid)
    -> Result<Vec<CredentialRecord>, StoreError>;
    async fn find_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// Stores the passkey after a sign-in (counter) and when it was used.
    async fn update_credential(
        &self,
        id: Uuid,
        passkey: &str,
        last_used_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes a passkey of that account; `NotFound` if the account has no such passkey.
    async fn delete_credential(&self, account_id: Uuid, id: Uuid) -> Result<(), StoreError>;

    async fn insert_ceremony(&self, ceremony: &CeremonyRecord) -> Result<(), StoreError>;
    /// Deletes and returns the ceremony (single use); `None` if missing or already taken.
    async fn take_ceremony(&self, id: Uuid) -> Result<Option<CeremonyRecord>, StoreError>;

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn find_session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError>;
    async fn touch_session(&self, id: Uuid, last_seen_at: OffsetDateTime)
    -> Result<(), StoreError>;
    async fn set_session_uv(&self, id: Uuid, last_uv_at: OffsetDateTime) -> Result<(), StoreError>;
    /// Deletes a session (logout); deleting a missing one is not an error.
    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError>;

    async fn insert_client_certificate(
        &self,
        certificate: &ClientCertificateRecord,
    ) -> Result<(), StoreError>;
    /// The certificate of that SHA-256 fingerprint, revoked or not.
    async fn find_client_certificate(
        &self,
        fingerprint: &[u8],
    ) -> Result<Option<ClientCertificateRecord>, StoreError>;
    /// Every client certificate, oldest first.
    async fn list_client_certificates(&self) -> Result<Vec<ClientCertificateRecord>, StoreError>;
    /// Marks a certificate revoked at `at` (an already revoked one keeps its first date);
    /// `NotFound` if there is no such certificate.
    async fn revoke_client_certificate(
        &self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Deletes what can no longer be used: ceremonies expired at `now`, sessions past their
    /// absolute end at `now` or last seen before `idle_before`, and unused invitations expired
    /// at `now` (used ones stay: they record who invited whom).
    async fn purge_access(
        &self,
        now: OffsetDateTime,
        idle_before: OffsetDateTime,
    ) -> Result<AccessPurge, StoreError>;
}

/// What [`AccessStore::purge_access`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessPurge {
    pub ceremonies: u64,
    pub sessions: u64,
    pub invitations: u64,
}
