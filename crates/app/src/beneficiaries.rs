//! Beneficiaries: sealing an insurer's beneficiary into its stored record and opening it
//! back. Every identifying field goes through the vault's sealer of the record's insurer
//! (`vault.sealer(insurer_id)`) here and nowhere else.

use crate::keys::Vault;
use crate::store::BeneficiaryRecord;
use crypto::{FieldRef, SealError, Sealer};
use domain::beneficiaries::{Identity, MaritalStatus};
use domain::ids::Nir;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub mod import;

pub const TABLE: &str = "beneficiaries";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("sealed {0} does not hold a valid value")]
    Invalid(&'static str),
    /// The insurer has no data key (never created, or shredded).
    #[error("no data key for this insurer")]
    NoKey,
}

/// The insurer's sealer; a missing key is a sealing failure (it names no value).
fn scoped(vault: &Vault, insurer_id: Uuid) -> Result<crypto::ScopedSealer, SealError> {
    vault.sealer(insurer_id).map_err(|_| SealError::Seal)
}

/// The sealed columns of one beneficiary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedIdentity {
    pub nir: Vec<u8>,
    pub last_name: Vec<u8>,
    pub first_name: Vec<u8>,
    pub birth_date: Vec<u8>,
    pub marital_status: Vec<u8>,
}

fn field(column: &'static str, row: Uuid) -> FieldRef {
    FieldRef::new(TABLE, column, row)
}

/// Seals the identifying fields of beneficiary `row` of `insurer_id`.
pub fn seal_identity(
    vault: &Vault,
    insurer_id: Uuid,
    row: Uuid,
    identity: &Identity,
) -> Result<SealedIdentity, SealError> {
    seal_identity_with(&scoped(vault, insurer_id)?, row, identity)
}

fn seal_identity_with(
    sealer: &dyn Sealer,
    row: Uuid,
    identity: &Identity,
) -> Result<SealedIdentity, SealError> {
    Ok(SealedIdentity {
        nir: sealer.seal(&field("nir", row), identity.nir.as_str().as_bytes())?,
        last_name: sealer.seal(&field("last_name", row), identity.last_name.as_bytes())?,
        first_name: sealer.seal(&field("first_name", row), identity.first_name.as_bytes())?,
        birth_date: sealer.seal(
            &field("birth_date", row),
            date_bytes(identity.birth_date).as_bytes(),
        )?,
        marital_status: sealer.seal(
            &field("marital_status", row),
            identity.marital_status.code().as_bytes(),
        )?,
    })
}

/// Opens the identity of a stored beneficiary (with its insurer's keys only).
pub fn open_identity(vault: &Vault, record: &BeneficiaryRecord) -> Result<Identity, OpenError> {
    let sealer = vault
        .sealer(record.insurer_id)
        .map_err(|_| OpenError::NoKey)?;
    open_identity_with(&sealer, record)
}

fn open_identity_with(
    sealer: &dyn Sealer,
    record: &BeneficiaryRecord,
) -> Result<Identity, OpenError> {
    let row = record.id;
    let nir = sealer.open_string(&field("nir", row), &record.nir_sealed)?;
    let nir = Nir::parse(&nir).map_err(|_| OpenError::Invalid("nir"))?;
    let last_name = sealer
        .open_string(&field("last_name", row), &record.last_name_sealed)?
        .to_string();
    let first_name = sealer
        .open_string(&field("first_name", row), &record.first_name_sealed)?
        .to_string();
    let birth_date = open_birth_date_with(sealer, record)?;
    let marital =
        sealer.open_string(&field("marital_status", row), &record.marital_status_sealed)?;
    let marital_status: MaritalStatus = marital
        .parse()
        .map_err(|_| OpenError::Invalid("marital_status"))?;
    Ok(Identity {
        nir,
        birth_rank: record.birth_rank,
        last_name,
        first_name,
        birth_date,
        marital_status,
    })
}

/// Opens only the date of birth (what a rights check compares).
pub fn open_birth_date(vault: &Vault, record: &BeneficiaryRecord) -> Result<Date, OpenError> {
    let sealer = vault
        .sealer(record.insurer_id)
        .map_err(|_| OpenError::NoKey)?;
    open_birth_date_with(&sealer, record)
}

fn open_birth_date_with(
    sealer: &dyn Sealer,
    record: &BeneficiaryRecord,
) -> Result<Date, OpenError> {
    let s = sealer.open_string(&field("birth_date", record.id), &record.birth_date_sealed)?;
    parse_date_bytes(&s).ok_or(OpenError::Invalid("birth_date"))
}

fn date_bytes(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_date_bytes(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).ok()
}

/// Builds the stored record of a new beneficiary (sealing its identity with the insurer's
/// data key and computing its NIR blind index).
#[allow(clippy::too_many_arguments)]
pub fn new_record(
    vault: &Vault,
    id: Uuid,
    insurer_id: Uuid,
    contract_id: Uuid,
    beneficiary: &domain::beneficiaries::Beneficiary,
    now: OffsetDateTime,
) -> Result<BeneficiaryRecord, SealError> {
    let sealed = seal_identity(vault, insurer_id, id, &beneficiary.identity)?;
    Ok(BeneficiaryRecord {
        id,
        insurer_id,
        member_number: beneficiary.member_number.clone(),
        birth_rank: beneficiary.identity.birth_rank,
        nir_sealed: sealed.nir,
        last_name_sealed: sealed.last_name,
        first_name_sealed: sealed.first_name,
        birth_date_sealed: sealed.birth_date,
        marital_status_sealed: sealed.marital_status,
        nir_index: vault.blind_index().nir(&beneficiary.identity.nir),
        quality: beneficiary.quality,
        contract_id,
        valid_from: beneficiary.validity.from,
        valid_to: beneficiary.validity.to,
        created_at: now,
        updated_at: now,
    })
}

/// Re-seals a stored record with its insurer's newest data key (`sealer` is
/// `vault.sealer(record.insurer_id)`), recomputing the NIR blind index: key maintenance.
pub fn reseal_record(
    vault: &Vault,
    sealer: &dyn Sealer,
    record: &BeneficiaryRecord,
) -> Result<BeneficiaryRecord, OpenError> {
    let identity = open_identity_with(sealer, record)?;
    let sealed = seal_identity_with(sealer, record.id, &identity)?;
    Ok(BeneficiaryRecord {
        nir_sealed: sealed.nir,
        last_name_sealed: sealed.last_name,
        first_name_sealed: sealed.first_name,
        birth_date_sealed: sealed.birth_date,
        marital_status_sealed: sealed.marital_status,
        nir_index: vault.blind_index().nir(&identity.nir),
        ..record.clone()
    })
}

/// The beneficiaries of `insurer_id` whose NIR is `nir`: blind-index candidates, unsealed and
/// compared (exact NIR lookup, e.g. during imports).
pub async fn find_by_nir(
    ports: &crate::Ports,
    insurer_id: Uuid,
    nir: &Nir,
) -> Result<Vec<BeneficiaryRecord>, FindError> {
    let index = ports.vault.blind_index().nir(nir);
    let candidates = ports
        .store
        .find_beneficiaries_by_nir_index(insurer_id, index)
        .await?;
    let sealer = ports
        .vault
        .sealer(insurer_id)
        .map_err(|_| FindError::Open(OpenError::NoKey))?;
    let mut found = Vec::new();
    for c in candidates {
        let clear = sealer
            .open_string(&field("nir", c.id), &c.nir_sealed)
            .map_err(|e| FindError::Open(e.into()))?;
        if clear.as_str() == nir.as_str() {
            found.push(c);
        }
    }
    Ok(found)
}

#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Open(OpenError),
}
