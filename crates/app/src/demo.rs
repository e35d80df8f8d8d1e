//! Demo seeding: an operator, two insurers with an `ESSENTIEL` and a `CONFORT` contract each,
//! 10,000 synthetic beneficiaries in families (sealed like real ones), their cards, 30
//! professionals in 15 practices, and their accounts (docs/demo.md).
//!
//! Deterministic: the population and every identifier come from the seed; row ids and
//! timestamps from the ports. Idempotent: when the first demo insurer exists, nothing is
//! written and the summary of what is there is returned.

use crate::Ports;
use crate::cards::CardBeneficiary;
use crate::store::{
    AccountRecord, AccountStatus, BeneficiaryRecord, CardRecord, ContractRecord, InsurerRecord,
    OrganisationRecord, PracticeRecord, ProfessionalRecord, StoreCounts, StoreError,
};
use crate::synthetic;
use crypto::{FieldRef, SealError, Sealer};
use domain::IdError;
use domain::accounts::{OrganisationKind, Profession, ProfessionalId, Role};
use domain::ids::{Adeli, AmNumber, AmcNumber, Finess, Iban, Rpps, Siret};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashMap;
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

/// Beneficiaries loaded by the demo.
pub const BENEFICIARIES: usize = 10_000;
/// Rows per `insert_beneficiaries` / `insert_cards` call.
pub const BATCH: usize = 1_000;
/// The operator organisation's name.
pub const OPERATOR_NAME: &str = "Rempart — opérateur de démonstration";

/// The demo insurers: name, AMC number, routing criterion printed on their cards.
pub const INSURERS: [(&str, &str, &str); 2] = [
    ("Mutuelle des Tilleuls", "880000011", "MDT"),
    ("Solidarité Santé Atlantique", "880000029", "SSA"),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot seal demo data: {0}")]
    Seal(#[from] SealError),
    #[error("demo data is invalid: {0}")]
    Invalid(#[from] IdError),
    #[error("demo data is invalid: {0}")]
    Other(String),
    #[error(transparent)]
    Card(#[from] crate::cards::CardError),
    #[error("cannot set up the demo's keys: {0}")]
    Keys(#[from] crate::keys::VaultError),
}

/// An insurer of the demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoInsurer {
    pub id: Uuid,
    pub name: String,
    pub amc: String,
}

/// What the demo store holds (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    /// True when the store was already seeded and nothing was written.
    pub already_seeded: bool,
    pub insurers: Vec<DemoInsurer>,
    /// The operator administrator's account.
    pub operator_admin: Option<Uuid>,
    pub counts: DemoCounts,
    /// On first seeding only: one row per beneficiary with their family's current card, for
    /// `demo-cards.csv` (identifying: never logged nor serialised here).
    #[serde(skip)]
    pub cards: Vec<DemoCardRow>,
}

/// A synthetic patient and their family's card of this year, as handed over at a counter.
#[derive(Clone, PartialEq, Eq)]
pub struct DemoCardRow {
    pub member_number: String,
    pub first_name: String,
    pub birth_date: Date,
    pub birth_rank: u8,
    pub verification_code: String,
    pub token: String,
}

impl std::fmt::Debug for DemoCardRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DemoCardRow(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct DemoCounts {
    pub insurers: u64,
    pub contracts: u64,
    pub beneficiaries: u64,
    pub cards: u64,
    pub practices: u64,
    pub professionals: u64,
    pub accounts: u64,
}

impl From<StoreCounts> for DemoCounts {
    fn from(c: StoreCounts) -> Self {
        Self {
            insurers: c.insurers,
            contracts: c.contracts,
            beneficiaries: c.beneficiaries,
            cards: c.cards,
            practices: c.practices,
            professionals: c.professionals,
            accounts: c.accounts,
        }
    }
}

/// Seeds the demo data set into `ports.store` (first run only).
pub async fn seed(ports: &Ports, seed: u64) -> Result<DemoSummary, DemoError> {
    let first_amc = AmcNumber::parse(INSURERS[0].1)?;
    if ports.store.find_insurer_by_amc(&first_amc).await?.is_some() {
        return existing_summary(ports).await;
    }
    let now = ports.clock.now();
    let year = now.year();

    // The operator and its administrator.
    let operator_id = ports.new_id();
    let operator = OrganisationRecord {
        id: operator_id,
        kind: OrganisationKind::Operator,
        name: OPERATOR_NAME.into(),
        created_at: now,
    };
    ports.store.insert_organisation(&operator).await?;
    let admin_id = ports.new_id();
    ports
        .store
        .insert_account(&AccountRecord {
            id: admin_id,
            organisation_id: operator_id,
            role: Role::OperatorAdmin,
            display_name: "Administrateur de démonstration".into(),
            professional_id: None,
            status: AccountStatus::Active,
            created_at: now,
        })
        .await?;

    // Insurers and their contracts.
    let mut insurers = Vec::new();
    let issuer = crate::cards::CardIssuer::from_vault(&ports.vault);
    let mut printed = Vec::new();
    for (name, amc, _) in INSURERS {
        let id = ports.new_id();
        ports
            .store
            .insert_organisation(&OrganisationRecord {
                id,
                kind: OrganisationKind::Insurer,
                name: name.into(),
                created_at: now,
            })
            .await?;
        let record = InsurerRecord {
            id,
            amc: AmcNumber::parse(amc)?,
            name: name.into(),
            created_at: now,
        };
        ports.store.insert_insurer(&record).await?;
        ports.vault.ensure_scope(ports, id).await?;
        let mut contracts = HashMap::new();
        for plan in [Plan::Essentiel, Plan::Confort] {
            // The contract files of data/contracts, loaded as `rempart contracts load` does.
            let contract = crate::contracts::load(ports, id, plan.toml())
                .await
                .map_err(|e| DemoError::Other(format!("demo contract {}: {e}", plan.code())))?
                .contract;
            contracts.insert(plan.code(), contract);
        }
        insurers.push(SeededInsurer {
            id,
            record,
            contracts,
            beneficiaries: Vec::new(),
            cards: Vec::new(),
        });
    }

    // The population, family by family, alternating insurers.
    let config = synthetic::Config {
        seed,
        insurer: None,
        year,
    };
    let mut remaining = BENEFICIARIES;
    for (i, mut family) in synthetic::Population::new(&config).enumerate() {
        if remaining == 0 {
            break;
        }
        family.members.truncate(remaining);
        remaining -= family.members.len();
        let insurer = &mut insurers[i % INSURERS.len()];
        let plan = if family.contract_code == Plan::Confort.code() {
            Plan::Confort
        } else {
            Plan::Essentiel
        };
        let contract = insurer
            .contracts
            .get(plan.code())
            .ok_or_else(|| DemoError::Other("unknown contract".into()))?;
        let contract_id = contract.id;
        for b in &family.members {
            let record = crate::beneficiaries::new_record(
                &ports.vault,
                ports.new_id(),
                insurer.id,
                contract_id,
                b,
                now,
            )?;
            insurer.beneficiaries.push(record);
        }
        if let Some(holder) = family.members.first() {
            let faces: Vec<CardBeneficiary> = family
                .members
                .iter()
                .map(|b| CardBeneficiary {
                    first_name: b.identity.first_name.clone(),
                    birth_date: b.identity.birth_date,
                    birth_rank: b.identity.birth_rank,
                })
                .collect();
            for (from, to) in card_periods(holder.validity.from, holder.validity.to, year)? {
                let card = issuer.issue(
                    ports,
                    &insurer.record,
                    &family.member_number,
                    &faces,
                    contract,
                    (from, to),
                )?;
                if from.year() == year {
                    for b in &card.beneficiaries {
                        printed.push(DemoCardRow {
                            member_number: family.member_number.as_str().to_string(),
                            first_name: b.first_name.clone(),
                            birth_date: b.birth_date,
                            birth_rank: b.birth_rank.get(),
                            verification_code: card.code.as_str().to_string(),
                            token: card.token.clone(),
                        });
                    }
                }
                insurer.cards.push(card.record);
            }
        }
        flush(ports, insurer, BATCH).await?;
    }
    for insurer in &mut insurers {
        flush(ports, insurer, 1).await?;
    }

    seed_practices(ports, seed, now).await?;
    let mut summary = existing_summary(ports).await?;
    summary.already_seeded = false;
    summary.cards = printed;
    Ok(summary)
}

struct SeededInsurer {
    id: Uuid,
    record: InsurerRecord,
    contracts: HashMap<&'static str, ContractRecord>,
    beneficiaries: Vec<BeneficiaryRecord>,
    cards: Vec<CardRecord>,
}

/// Writes the buffered rows of `insurer` once `at_least` of them are waiting.
async fn flush(
    ports: &Ports,
    insurer: &mut SeededInsurer,
    at_least: usize,
) -> Result<(), DemoError> {
    if !insurer.beneficiaries.is_empty() && insurer.beneficiaries.len() >= at_least {
        ports
            .store
            .insert_beneficiaries(&insurer.beneficiaries)
            .await?;
        insurer.beneficiaries.clear();
    }
    if !insurer.cards.is_empty() && insurer.cards.len() >= at_least {
        ports.store.insert_cards(&insurer.cards).await?;
        insurer.cards.clear();
    }
    Ok(())
}

/// The summary of an already seeded store.
async fn existing_summary(ports: &Ports) -> Result<DemoSummary, DemoError> {
    let mut insurers = Vec::new();
    for (_, amc, _) in INSURERS {
        if let Some(i) = ports
            .store
            .find_insurer_by_amc(&AmcNumber::parse(amc)?)
            .await?
        {
            insurers.push(DemoInsurer {
                id: i.id,
                name: i.name,
                amc: i.amc.as_str().to_string(),
            });
        }
    }
    let mut operator_admin = None;
    for org in ports
        .store
        .list_organisations(OrganisationKind::Operator)
        .await?
    {
        if org.name != OPERATOR_NAME {
            continue;
        }
        operator_admin = ports
            .store
            .list_accounts(org.id)
            .await?
            .into_iter()
            .find(|a| a.role == Role::OperatorAdmin)
            .map(|a| a.id);
    }
    let counts = ports.store.counts().await?.into();
    Ok(DemoSummary {
        already_seeded: true,
        insurers,
        operator_admin,
        counts,
        cards: Vec::new(),
    })
}

fn date(year: i32, month: Month, day: u8) -> Result<Date, DemoError> {
    Date::from_calendar_date(year, month, day).map_err(|e| DemoError::Other(e.to_string()))
}

/// One card per calendar year of the family's validity, for last year and this year.
fn card_periods(from: Date, to: Option<Date>, year: i32) -> Result<Vec<(Date, Date)>, DemoError> {
    let first = from.year().max(year - 1);
    let last = to.map_or(year, |t| t.year().min(year));
    (first..=last)
        .map(|y| Ok((date(y, Month::January, 1)?, date(y, Month::December, 31)?)))
        .collect()
}

// --- contracts and cards ---

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Essentiel,
    Confort,
}

impl Plan {
    fn code(self) -> &'static str {
        match self {
            Plan::Essentiel => "ESSENTIEL",
            Plan::Confort => "CONFORT",
        }
    }

    /// The contract file (data/contracts), as an insurer would write it.
    fn toml(self) -> &'static str {
        match self {
            Plan::Essentiel => include_str!("../../../data/contracts/essentiel.toml"),
            Plan::Confort => include_str!("../../../data/contracts/confort.toml"),
        }
    }
}

// --- practices and professionals ---

/// The demo practices: name, profession, department (for AM numbers), professionals.
const PRACTICES: [(&str, Profession, &str, &[&str]); 15] = [
    (
        "Optique du Marché",
        Profession::Optician,
        "44",
        &["Camille Lefort", "Hugo Garnier"],
    ),
    (
        "Les Lunettes de la Loire",
        Profession::Optician,
        "49",
        &["Inès Marchand", "Romain Caillaud"],
    ),
    (
        "Vision Atlantique",
        Profession::Optician,
        "85",
        &["Sophie Brunet", "Julien Ménard"],
    ),
    (
        "Optique des Halles",
        Profession::Optician,
        "75",
        &["Claire Dupuis", "Antoine Legrand"],
    ),
    (
        "Audition Confluence",
        Profession::AudioProsthetist,
        "69",
        &["Marion Roche", "Thomas Vidal"],
    ),
    (
        "Écoute & Vous",
        Profession::AudioProsthetist,
        "33",
        &["Élodie Fabre", "Nicolas Perrot"],
    ),
    (
        "Centre Auditif du Port",
        Profession::AudioProsthetist,
        "13",
        &["Laura Giraud", "Maxime Rey"],
    ),
    (
        "Pharmacie de la Place",
        Profession::Pharmacist,
        "44",
        &["Hélène Morel", "Pierre Aubert"],
    ),
    (
        "Pharmacie du Canal",
        Profession::Pharmacist,
        "31",
        &["Nathalie Roussel", "Olivier Blanc"],
    ),
    (
        "Grande Pharmacie des Quais",
        Profession::Pharmacist,
        "33",
        &["Isabelle Faure", "Sébastien Lucas"],
    ),
    (
        "Pharmacie des Tilleuls",
        Profession::Pharmacist,
        "67",
        &["Aurélie Meyer", "François Weber"],
    ),
    (
        "Cabinet dentaire Saint-Pierre",
        Profession::Dentist,
        "35",
        &["Dr Émilie Le Goff", "Dr Mathieu Hamon"],
    ),
    (
        "Centre dentaire des Arcades",
        Profession::Dentist,
        "59",
        &["Dr Julie Carlier", "Dr Damien Leclercq"],
    ),
    (
        "Cabinet du Dr Bertin",
        Profession::Dentist,
        "21",
        &["Dr Cédric Bertin"],
    ),
    (
        "Laboratoire Bio-Analyses Ouest",
        Profession::Laboratory,
        "44",
        &["Anne Pichon", "Guillaume Tessier", "Pauline Renaud"],
    ),
];

async fn seed_practices(ports: &Ports, seed: u64, now: OffsetDateTime) -> Result<(), DemoError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5052_4143_5449_4345); // "PRACTICE"
    for (index, (name, profession, dept, people)) in PRACTICES.iter().enumerate() {
        let id = ports.new_id();
        ports
            .store
            .insert_organisation(&OrganisationRecord {
                id,
                kind: OrganisationKind::Practice,
                name: (*name).into(),
                created_at: now,
            })
            .await?;
        // Numéro AM: department, profession category, then a serial.
        let category = match profession {
            Profession::Optician => 7,
            Profession::AudioProsthetist => 6,
            Profession::Pharmacist => 2,
            Profession::Dentist => 1,
            _ => 9,
        };
        let am_number = AmNumber::parse(&format!(
            "{dept}{category}{:06}",
            100_000 + index * 7_919 + digits(&mut rng, 3) as usize
        ))?;
        let (finess, siret) = match profession {
            Profession::Pharmacist | Profession::Laboratory => (
                Some(Finess::parse(&luhn_complete(&format!(
                    "{dept}{:06}",
                    digits(&mut rng, 6)
                )))?),
                None,
            ),
            _ => (None, Some(siret(&mut rng)?)),
        };
        let iban = french_iban(&mut rng)?;
        let iban_sealed = ports.vault.sealer(crypto::envelope::PLATFORM_SCOPE)?.seal(
            &FieldRef::new("practices", "iban", id),
            iban.as_str().as_bytes(),
        )?;
        ports
            .store
            .insert_practice(&PracticeRecord {
                id,
                name: (*name).into(),
                profession: *profession,
                am_number,
                finess,
                siret,
                iban_sealed,
                created_at: now,
            })
            .await?;
        for person in people.iter() {
            let national_id = match profession {
                Profession::Optician | Profession::AudioProsthetist => {
                    // ADELI: department, profession (28 opticien-lunetier, 26 audioprothésiste), serial.
                    let code = if *profession == Profession::Optician {
                        28
                    } else {
                        26
                    };
                    ProfessionalId::Adeli(Adeli::parse(&format!(
                        "{dept}{code}{:05}",
                        digits(&mut rng, 5)
                    ))?)
                }
                _ => ProfessionalId::Rpps(Rpps::parse(&luhn_complete(&format!(
                    "10{:08}",
                    digits(&mut rng, 8)
                )))?),
            };
            let professional_id = ports.new_id();
            ports
                .store
                .insert_professional(&ProfessionalRecord {
                    id: professional_id,
                    practice_id: id,
                    national_id,
                    profession: *profession,
                    display_name: (*person).into(),
                    created_at: now,
                })
                .await?;
            ports
                .store
                .insert_account(&AccountRecord {
                    id: ports.new_id(),
                    organisation_id: id,
                    role: Role::Professional,
                    display_name: (*person).into(),
                    professional_id: Some(professional_id),
                    status: AccountStatus::Active,
                    created_at: now,
                })
                .await?;
        }
    }
    Ok(())
}

/// A number of `n` random digits (as an integer below 10^n).
fn digits(rng: &mut ChaCha8Rng, n: u32) -> u64 {
    rng.next_u64() % 10u64.pow(n)
}

/// Appends the Luhn check digit to `body`.
fn luhn_complete(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A SIRET: a SIREN (8 digits and a Luhn key), a site number (4 digits and a key making the
/// whole 14 digits pass Luhn).
fn siret(rng: &mut ChaCha8Rng) -> Result<Siret, DemoError> {
    let siren = luhn_complete(&format!("{:08}", 10_000_000 + digits(rng, 7) * 8));
    Ok(Siret::parse(&luhn_complete(&format!(
        "{siren}{:04}",
        digits(rng, 3) + 1
    )))?)
}

/// A French IBAN: bank (5 digits), branch (5), account (11) and the RIB key, then the IBAN
/// check digits.
fn french_iban(rng: &mut ChaCha8Rng) -> Result<Iban, DemoError> {
    let bank = 10_000 + digits(rng, 4) * 3;
    let branch = digits(rng, 5);
    let account = digits(rng, 11);
    // RIB key: 97 − ((89 × bank + 15 × branch + 3 × account) mod 97).
    let key = 97 - (89 * bank + 15 * branch + 3 * (account % 97)) % 97;
    Iban::from_bban("FR", &format!("{bank:05}{branch:05}{account:011}{key:02}"))
        .map_err(DemoError::from)
}

#[cfg(test)]
pub(crate) mod tests {
    //! The demo against a small in-memory store (the SQLite run is in the server's API tests).
    use super::*;
    use crate::store::Store;
    use crate::{ManualClock, Sealer, SecureRandom};
    use async_trait::async_trait;
    use crypto::SeededRandom;
    use domain::contracts::ContractCode;
    use domain::ids::MemberNumber;
    use domain::rights::CareDomain;
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Mem {
        orgs: Vec<OrganisationRecord>,
        insurers: Vec<InsurerRecord>,
        contracts: Vec<ContractRecord>,
        beneficiaries: Vec<BeneficiaryRecord>,
        cards: Vec<CardRecord>,
        practices: Vec<PracticeRecord>,
        professionals: Vec<ProfessionalRecord>,
        accounts: Vec<AccountRecord>,
        batches: Vec<usize>,
        data_keys: Vec<crate::store::DataKeyRow>,
        imports: Vec<crate::store::ImportRecord>,
        /// beneficiary id -> the import that last saw it
        last_import: std::collections::HashMap<Uuid, Uuid>,
        /// contract id -> its TOML document
        contract_docs: std::collections::HashMap<Uuid, String>,
    }

    #[derive(Default)]
    pub(crate) struct MemStore(
        Mutex<Mem>,
        crate::accounts::memory::MemAccess,
        crate::rights::memory::MemRights,
        crate::ledger::memory::MemLedger,
        crate::guard::memory::MemGuard,
    );

    impl MemStore {
        fn with<T>(&self, f: impl FnOnce(&mut Mem) -> T) -> T {
            f(&mut self.0.lock().unwrap())
        }
    }

    fn apply_batch(m: &mut Mem, batch: &crate::store::BeneficiaryBatch) -> Result<(), StoreError> {
        let present = |m: &Mem, id: Uuid| m.beneficiaries.iter().any(|b| b.id == id);
        if batch.inserts.iter().any(|b| present(m, b.id))
            || batch.updates.iter().any(|b| !present(m, b.id))
        {
            return Err(StoreError::NotFound);
        }
        m.beneficiaries.extend(batch.inserts.iter().cloned());
        for u in &batch.updates {
            if let Some(b) = m.beneficiaries.iter_mut().find(|b| b.id == u.id) {
                let (created_at, nir_index) = (b.created_at, b.nir_index);
                *b = u.clone();
                b.created_at = created_at;
                b.nir_index = nir_index;
            }
        }
        let marked = batch.inserts.iter().chain(&batch.updates).map(|b| b.id);
        for id in marked.chain(batch.seen.iter().copied()).collect::<Vec<_>>() {
            m.last_import.insert(id, batch.import_id);
        }
        m.cards.extend(batch.cards.iter().cloned());
        Ok(())
    }

    fn conflict(c: &str) -> StoreError {
        StoreError::Conflict {
            constraint: c.into(),
        }
    }

    #[async_trait]
    impl Store for MemStore {
        fn backend(&self) -> &'static str {
            "memory"
        }
        async fn ping(&self) -> Result<(), StoreError> {
            Ok(())
        }
        async fn counts(&self) -> Result<StoreCounts, StoreError> {
            Ok(self.with(|m| StoreCounts {
                insurers: m.insurers.len() as u64,
                contracts: m.contracts.len() as u64,
                beneficiaries: m.beneficiaries.len() as u64,
                cards: m.cards.len() as u64,
                practices: m.practices.len() as u64,
                professionals: m.professionals.len() as u64,
                accounts: m.accounts.len() as u64,
            }))
        }
        async fn insert_organisation(&self, org: &OrganisationRecord) -> Result<(), StoreError> {
            self.with(|m| m.orgs.push(org.clone()));
            Ok(())
        }
        async fn get_organisation(&self, id: Uuid) -> Result<OrganisationRecord, StoreError> {
            self.with(|m| m.orgs.iter().find(|o| o.id == id).cloned())
                .ok_or(StoreError::NotFound)
        }
        async fn list_organisations(
            &self,
            kind: OrganisationKind,
        ) -> Result<Vec<OrganisationRecord>, StoreError> {
            Ok(self.with(|m| m.orgs.iter().filter(|o| o.kind == kind).cloned().collect()))
        }
        async fn insert_insurer(&self, insurer: &InsurerRecord) -> Result<(), StoreError> {
            self.with(|m| {
                if !m
                    .orgs
                    .iter()
                    .any(|o| o.id == insurer.id && o.kind == OrganisationKind::Insurer)
                {
                    return Err(conflict("insurers_organisation_fkey"));
                }
                if m.insurers.iter().any(|i| i.amc == insurer.amc) {
                    return Err(conflict("insurers_amc"));
                }
                m.insurers.push(insurer.clone());
                Ok(())
            })
        }
        async fn get_insurer(&self, id: Uuid) -> Result<InsurerRecord, StoreError> {
            self.with(|m| m.insurers.iter().find(|i| i.id == id).cloned())
                .ok_or(StoreError::NotFound)
        }
        async fn find_insurer_by_amc(
            &self,
            amc: &AmcNumber,
        ) -> Result<Option<InsurerRecord>, StoreError> {
            Ok(self.with(|m| m.insurers.iter().find(|i| &i.amc == amc).cloned()))
        }
        async fn list_insurers(&self) -> Result<Vec<InsurerRecord>, StoreError> {
            Ok(self.with(|m| m.insurers.clone()))
        }
        async fn insert_contract(&self, contract: &ContractRecord) -> Result<(), StoreError> {
            self.with(|m| m.contracts.push(contract.clone()));
            Ok(())
        }
        async fn get_contract(
            &self,
            insurer_id: Uuid,
            id: Uuid,
        ) -> Result<ContractRecord, StoreError> {
            self.with(|m| {
                m.contracts
                    .iter()
                    .find(|c| c.id == id && c.insurer_id == insurer_id)
                    .cloned()
            })
            .ok_or(StoreError::NotFound)
        }
        async fn find_contract_in_effect(
            &self,
            insurer_id: Uuid,
            code: &ContractCode,
            on: Date,
        ) -> Result<Option<ContractRecord>, StoreError> {
            Ok(self.with(|m| {
                m.contracts
                    .iter()
                    .filter(|c| {
                        c.insurer_id == insurer_id
                            && &c.code == code
                            && c.effective_from <= on
                            && c.effective_to.is_none_or(|t| on <= t)
                    })
                    .max_by_key(|c| c.version)
                    .cloned()
            }))
        }
        async fn list_contracts(
            &self,
            insurer_id: Uuid,
        ) -> Result<Vec<ContractRecord>, StoreError> {
            Ok(self.with(|m| {
                m.contracts
                    .iter()
                    .filter(|c| c.insurer_id == insurer_id)
                    .cloned()
                    .collect()
            }))
        }
        async fn insert_beneficiaries(&self, rows: &[BeneficiaryRecord]) -> Result<(), StoreError> {
            self.with(|m| {
                m.batches.push(rows.len());
                m.beneficiaries.extend_from_slice(rows)
            });
            Ok(())
        }
        async fn get_beneficiary(
            &self,
            insurer_id: Uuid,
            id: Uuid,
        ) -> Result<BeneficiaryRecord, StoreError> {
            self.with(|m| {
                m.beneficiaries
                    .iter()
                    .find(|b| b.id == id && b.insurer_id == insurer_id)
                    .cloned()
            })
            .ok_or(StoreError::NotFound)
        }
        async fn find_member(
            &self,
            insurer_id: Uuid,
            member: &MemberNumber,
        ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
            Ok(self.with(|m| {
                m.beneficiaries
                    .iter()
                    .filter(|b| b.insurer_id == insurer_id && &b.member_number == member)
                    .cloned()
                    .collect()
            }))
        }
        async fn insert_import(
            &self,
            import: &crate::store::ImportRecord,
        ) -> Result<(), StoreError> {
            self.with(|m| m.imports.push(import.clone()));
            Ok(())
        }
        async fn get_import(
            &self,
            insurer_id: Uuid,
            id: Uuid,
        ) -> Result<crate::store::ImportRecord, StoreError> {
            self.with(|m| {
                m.imports
                    .iter()
                    .find(|i| i.insurer_id == insurer_id && i.id == id)
                    .cloned()
            })
            .ok_or(StoreError::NotFound)
        }
        async fn update_import(
            &self,
            import: &crate::store::ImportRecord,
        ) -> Result<(), StoreError> {
            self.with(|m| {
                let i = m
                    .imports
                    .iter_mut()
                    .find(|i| i.insurer_id == import.insurer_id && i.id == import.id)
                    .ok_or(StoreError::NotFound)?;
                *i = import.clone();
                Ok(())
            })
        }
        async fn find_beneficiaries_of_members(
            &self,
            insurer_id: Uuid,
            members: &[MemberNumber],
        ) -> Result<Vec<crate::store::ImportedBeneficiary>, StoreError> {
            Ok(self.with(|m| {
                m.beneficiaries
                    .iter()
                    .filter(|b| b.insurer_id == insurer_id && members.contains(&b.member_number))
                    .map(|b| crate::store::ImportedBeneficiary {
                        record: b.clone(),
                        last_import_id: m.last_import.get(&b.id).copied(),
                    })
                    .collect()
            }))
        }
        async fn apply_beneficiary_batch(
            &self,
            batch: &crate::store::BeneficiaryBatch,
        ) -> Result<(), StoreError> {
            self.with(|m| apply_batch(m, batch))
        }
        async fn apply_beneficiary_batches(
            &self,
            mut batches: crate::store::BeneficiaryBatches,
        ) -> Result<usize, StoreError> {
            let mut all = Vec::new();
            while let Some(batch) = batches.recv().await {
                all.push(batch);
            }
            self.with(|m| {
                let saved = (
                    m.beneficiaries.clone(),
                    m.last_import.clone(),
                    m.cards.clone(),
                );
                for batch in &all {
                    if let Err(e) = apply_batch(m, batch) {
                        (m.beneficiaries, m.last_import, m.cards) = saved;
                        return Err(e);
                    }
                }
                Ok(all.len())
            })
        }
        async fn find_unseen_beneficiaries(
            &self,
            insurer_id: Uuid,
            import_id: Uuid,
            on: time::Date,
            after: Option<Uuid>,
            limit: u32,
        ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
            Ok(self.with(|m| {
                let mut rows: Vec<BeneficiaryRecord> = m
                    .beneficiaries
                    .iter()
                    .filter(|b| {
                        b.insurer_id == insurer_id
                            && after.is_none_or(|a| b.id > a)
                            && m.last_import.get(&b.id) != Some(&import_id)
                            && b.valid_from <= on
                            && b.valid_to.is_none_or(|t| t > on)
                    })
                    .cloned()
                    .collect();
                rows.sort_by_key(|b| b.id);
                rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                rows
            }))
        }
        async fn insert_cards(&self, cards: &[CardRecord]) -> Result<(), StoreError> {
            self.with(|m| m.cards.extend_from_slice(cards));
            Ok(())
        }
        async fn get_card(&self, id: Uuid) -> Result<CardRecord, StoreError> {
            self.with(|m| m.cards.iter().find(|c| c.id == id).cloned())
                .ok_or(StoreError::NotFound)
        }
        async fn find_member_cards(
            &self,
            insurer_id: Uuid,
            member: &MemberNumber,
        ) -> Result<Vec<CardRecord>, StoreError> {
            Ok(self.with(|m| {
                m.cards
                    .iter()
                    .filter(|c| c.insurer_id == insurer_id && &c.member_number == member)
                    .cloned()
                    .collect()
            }))
        }
        async fn list_insurer_cards(
            &self,
            insurer_id: Uuid,
            after: Option<Uuid>,
            limit: u32,
        ) -> Result<Vec<CardRecord>, StoreError> {
            Ok(self.with(|m| {
                let mut cards: Vec<CardRecord> = m
                    .cards
                    .iter()
                    .filter(|c| c.insurer_id == insurer_id && after.is_none_or(|a| c.id > a))
                    .cloned()
                    .collect();
                cards.sort_by_key(|c| c.id);
                cards.truncate(limit as usize);
                cards
            }))
        }
        async fn update_card_codes(
            &self,
            insurer_id: Uuid,
            updates: &[crate::store::CardCodeUpdate],
        ) -> Result<(), StoreError> {
            self.with(|m| {
                let ok = updates.iter().all(|u| {
                    m.cards
                        .iter()
                        .any(|c| c.id == u.id && c.insurer_id == insurer_id)
                });
                if !ok {
                    return Err(StoreError::NotFound);
                }
                for u in updates {
                    if let Some(c) = m.cards.iter_mut().find(|c| c.id == u.id) {
                        c.signing_kid = u.signing_kid;
                        c.code_hash = u.code_hash.clone();
                    }
                }
                Ok(())
            })
        }
        async fn insert_practice(&self, practice: &PracticeRecord) -> Result<(), StoreError> {
            self.with(|m| {
                if m.practices
                    .iter()
                    .any(|p| p.am_number == practice.am_number)
                {
                    return Err(conflict("practices_am_number"));
                }
                m.practices.push(practice.clone());
                Ok(())
            })
        }
        async fn get_practice(&self, id: Uuid) -> Result<PracticeRecord, StoreError> {
            self.with(|m| m.practices.iter().find(|p| p.id == id).cloned())
                .ok_or(StoreError::NotFound)
        }
        async fn find_practice_by_am_number(
            &self,
            am: &AmNumber,
        ) -> Result<Option<PracticeRecord>, StoreError> {
            Ok(self.with(|m| m.practices.iter().find(|p| &p.am_number == am).cloned()))
        }
        async fn insert_professional(
            &self,
            professional: &ProfessionalRecord,
        ) -> Result<(), StoreError> {
            self.with(|m| {
                if m.professionals
                    .iter()
                    .any(|p| p.national_id == professional.national_id)
                {
                    return Err(conflict("professionals_national_id"));
                }
                m.professionals.push(professional.clone());
                Ok(())
            })
        }
        async fn find_professional_by_national_id(
            &self,
            id: &ProfessionalId,
        ) -> Result<Option<ProfessionalRecord>, StoreError> {
            Ok(self.with(|m| {
                m.professionals
                    .iter()
                    .find(|p| &p.national_id == id)
                    .cloned()
            }))
        }
        async fn list_professionals(
            &self,
            practice_id: Uuid,
        ) -> Result<Vec<ProfessionalRecord>, StoreError> {
            Ok(self.with(|m| {
                m.professionals
                    .iter()
                    .filter(|p| p.practice_id == practice_id)
                    .cloned()
                    .collect()
            }))
        }
        async fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
            self.with(|m| {
                if !m.orgs.iter().any(|o| o.id == account.organisation_id) {
                    return Err(conflict("accounts_organisation_fkey"));
                }
                m.accounts.push(account.clone());
                Ok(())
            })
        }
        async fn get_account(&self, id: Uuid) -> Result<AccountRecord, StoreError> {
            self.with(|m| m.accounts.iter().find(|a| a.id == id).cloned())
                .ok_or(StoreError::NotFound)
        }
        async fn list_accounts(
            &self,
            organisation_id: Uuid,
        ) -> Result<Vec<AccountRecord>, StoreError> {
            Ok(self.with(|m| {
                m.accounts
                    .iter()
                    .filter(|a| a.organisation_id == organisation_id)
                    .cloned()
                    .collect()
            }))
        }
        async fn set_account_status(
            &self,
            id: Uuid,
            status: AccountStatus,
        ) -> Result<(), StoreError> {
            self.with(|m| {
                m.accounts
                    .iter_mut()
                    .find(|a| a.id == id)
                    .map(|a| a.status = status)
            })
            .ok_or(StoreError::NotFound)
        }

        async fn find_beneficiaries_by_nir_index(
            &self,
            insurer_id: Uuid,
            nir_index: u32,
        ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
            Ok(self.with(|m| {
                m.beneficiaries
                    .iter()
                    .filter(|b| b.insurer_id == insurer_id && b.nir_index == nir_index)
                    .cloned()
                    .collect()
            }))
        }
        async fn delete_beneficiary(&self, insurer_id: Uuid, id: Uuid) -> Result<(), StoreError> {
            self.with(|m| {
                let before = m.beneficiaries.len();
                m.beneficiaries
                    .retain(|b| !(b.insurer_id == insurer_id && b.id == id));
                if m.beneficiaries.len() == before {
                    Err(StoreError::NotFound)
                } else {
                    Ok(())
                }
            })
        }
        async fn list_beneficiaries_page(
            &self,
            insurer_id: Uuid,
            after: Option<Uuid>,
            limit: u32,
        ) -> Result<Vec<BeneficiaryRecord>, StoreError> {
            Ok(self.with(|m| {
                let mut v: Vec<_> = m
                    .beneficiaries
                    .iter()
                    .filter(|b| b.insurer_id == insurer_id && after.is_none_or(|a| b.id > a))
                    .cloned()
                    .collect();
                v.sort_by_key(|b| b.id);
                v.truncate(limit as usize);
                v
            }))
        }
        async fn update_beneficiary_seals(
            &self,
            rows: &[BeneficiaryRecord],
        ) -> Result<(), StoreError> {
            self.with(|m| {
                for r in rows {
                    let b = m
                        .beneficiaries
                        .iter_mut()
                        .find(|b| b.id == r.id && b.insurer_id == r.insurer_id)
                        .ok_or(StoreError::NotFound)?;
                    b.nir_sealed.clone_from(&r.nir_sealed);
                    b.last_name_sealed.clone_from(&r.last_name_sealed);
                    b.first_name_sealed.clone_from(&r.first_name_sealed);
                    b.birth_date_sealed.clone_from(&r.birth_date_sealed);
                    b.marital_status_sealed.clone_from(&r.marital_status_sealed);
                    b.nir_index = r.nir_index;
                }
                Ok(())
            })
        }
        async fn list_practices_page(
            &self,
            after: Option<Uuid>,
            limit: u32,
        ) -> Result<Vec<PracticeRecord>, StoreError> {
            Ok(self.with(|m| {
                let mut v: Vec<_> = m
                    .practices
                    .iter()
                    .filter(|p| after.is_none_or(|a| p.id > a))
                    .cloned()
                    .collect();
                v.sort_by_key(|p| p.id);
                v.truncate(limit as usize);
                v
            }))
        }
        async fn update_practice_iban(
            &self,
            id: Uuid,
            iban_sealed: &[u8],
        ) -> Result<(), StoreError> {
            self.with(|m| {
                let p = m
                    .practices
                    .iter_mut()
                    .find(|p| p.id == id)
                    .ok_or(StoreError::NotFound)?;
                p.iban_sealed = iban_sealed.to_vec();
                Ok(())
            })
        }
        async fn list_data_keys(&self) -> Result<Vec<crate::store::DataKeyRow>, StoreError> {
            Ok(self.with(|m| m.data_keys.clone()))
        }
        async fn insert_data_key(&self, key: &crate::store::DataKeyRow) -> Result<(), StoreError> {
            self.with(|m| {
                if m.data_keys.iter().any(|k| k.key_id == key.key_id) {
                    return Err(conflict("data_keys_pkey"));
                }
                if m.data_keys.iter().any(|k| {
                    k.scope == key.scope && k.purpose == key.purpose && k.version == key.version
                }) {
                    return Err(conflict("data_keys_version"));
                }
                m.data_keys.push(key.clone());
                Ok(())
            })
        }
        async fn rewrap_data_key(
            &self,
            key_id: u32,
            from_kek_version: u32,
            to_kek_version: u32,
            wrapped: &[u8],
        ) -> Result<bool, StoreError> {
            Ok(self.with(|m| {
                match m
                    .data_keys
                    .iter_mut()
                    .find(|k| k.key_id == key_id && k.kek_version == from_kek_version)
                {
                    Some(k) => {
                        k.kek_version = to_kek_version;
                        k.wrapped = wrapped.to_vec();
                        true
                    }
                    None => false,
                }
            }))
        }
        async fn retire_data_key(&self, key_id: u32, at: OffsetDateTime) -> Result<(), StoreError> {
            self.with(|m| {
                let k = m
                    .data_keys
                    .iter_mut()
                    .find(|k| k.key_id == key_id)
                    .ok_or(StoreError::NotFound)?;
                k.retired_at.get_or_insert(at);
                Ok(())
            })
        }
        async fn delete_data_keys(&self, scope: Uuid) -> Result<u64, StoreError> {
            Ok(self.with(|m| {
                let before = m.data_keys.len();
                m.data_keys.retain(|k| k.scope != scope);
                (before - m.data_keys.len()) as u64
            }))
        }
        async fn sealed_key_counts(&self) -> Result<Vec<crate::store::SealedKeyCount>, StoreError> {
            Ok(Vec::new())
        }
    }

    /// The guard's rows: delegated to `MemGuard`.
    #[async_trait]
    impl crate::guard::GuardStore for MemStore {
        async fn insert_kill_switch(
            &self,
            s: &crate::guard::KillSwitchRecord,
        ) -> Result<(), StoreError> {
            self.4.insert_kill_switch(s).await
        }
        async fn release_kill_switch(
            &self,
            scope: &crate::guard::Scope,
            by: Option<Uuid>,
            at: OffsetDateTime,
        ) -> Result<crate::guard::KillSwitchRecord, StoreError> {
            self.4.release_kill_switch(scope, by, at).await
        }
        async fn list_active_kill_switches(
            &self,
        ) -> Result<Vec<crate::guard::KillSwitchRecord>, StoreError> {
            self.4.list_active_kill_switches().await
        }
        async fn find_kill_switches_at(
            &self,
            at: OffsetDateTime,
        ) -> Result<Vec<crate::guard::KillSwitchRecord>, StoreError> {
            self.4.find_kill_switches_at(at).await
        }
        async fn find_kill_switches_overlapping(
            &self,
            from: OffsetDateTime,
            to: OffsetDateTime,
        ) -> Result<Vec<crate::guard::KillSwitchRecord>, StoreError> {
            self.4.find_kill_switches_overlapping(from, to).await
        }
        async fn insert_suspension(
            &self,
            s: &crate::guard::SuspensionRecord,
        ) -> Result<(), StoreError> {
            self.4.insert_suspension(s).await
        }
        async fn lift_suspension(
            &self,
            subject: crate::guard::Subject,
            id: Uuid,
            by: Option<Uuid>,
            at: OffsetDateTime,
        ) -> Result<crate::guard::SuspensionRecord, StoreError> {
            self.4.lift_suspension(subject, id, by, at).await
        }
        async fn list_active_suspensions(
            &self,
        ) -> Result<Vec<crate::guard::SuspensionRecord>, StoreError> {
            self.4.list_active_suspensions().await
        }
        async fn count_account_suspensions_since(
            &self,
            organisation_id: Uuid,
            since: OffsetDateTime,
        ) -> Result<u64, StoreError> {
            self.4
                .count_account_suspensions_since(organisation_id, since)
                .await
        }
        async fn insert_alert(&self, a: &crate::guard::AlertRecord) -> Result<(), StoreError> {
            self.4.insert_alert(a).await
        }
        async fn list_alerts(
            &self,
            limit: u32,
        ) -> Result<Vec<crate::guard::AlertRecord>, StoreError> {
            self.4.list_alerts(limit).await
        }
        async fn insert_decoy_cards(
            &self,
            d: &[crate::guard::DecoyCardRecord],
        ) -> Result<(), StoreError> {
            self.4.insert_decoy_cards(d).await
        }
        async fn list_decoy_cards(&self) -> Result<Vec<crate::guard::DecoyCardRecord>, StoreError> {
            self.4.list_decoy_cards().await
        }
        async fn set_practice_opening_hours(
            &self,
            practice_id: Uuid,
            hours: Option<&str>,
        ) -> Result<(), StoreError> {
            self.4.set_practice_opening_hours(practice_id, hours).await
        }
        async fn find_practice_profile(
            &self,
            practice_id: Uuid,
        ) -> Result<Option<crate::guard::PracticeProfile>, StoreError> {
            self.4.find_practice_profile(practice_id).await
        }
        async fn count_engagement_uses(
            &self,
            from: time::OffsetDateTime,
            to: time::OffsetDateTime,
            within_hours: u32,
        ) -> Result<Vec<crate::guard::engagements::UnusedChecks>, StoreError> {
            self.4.count_engagement_uses(from, to, within_hours).await
        }
    }

    /// Engagements and reports: delegated to `MemRights`.
    #[async_trait]
    impl crate::rights::RightsStore for MemStore {
        async fn insert_engagement(
            &self,
            e: &crate::rights::EngagementRecord,
        ) -> Result<(), StoreError> {
            self.2.insert_engagement(e).await
        }
        async fn find_engagement(
            &self,
            organisation_id: Uuid,
            number: &str,
        ) -> Result<Option<crate::rights::EngagementRecord>, StoreError> {
            self.2.find_engagement(organisation_id, number).await
        }
        async fn insert_not_me_report(
            &self,
            r: &crate::rights::NotMeReportRecord,
        ) -> Result<(), StoreError> {
            self.2.insert_not_me_report(r).await
        }
        async fn find_not_me_report(
            &self,
            insurer_id: Uuid,
            entry: u64,
        ) -> Result<Option<crate::rights::NotMeReportRecord>, StoreError> {
            self.2.find_not_me_report(insurer_id, entry).await
        }
        async fn list_not_me_reports(
            &self,
            insurer_id: Uuid,
            limit: u32,
        ) -> Result<Vec<crate::rights::NotMeReportRecord>, StoreError> {
            self.2.list_not_me_reports(insurer_id, limit).await
        }
    }

    /// Access rows (invitations, passkeys, ceremonies, sessions): delegated to `MemAccess`.
    #[async_trait]
    impl crate::store::AccessStore for MemStore {
        async fn insert_invitation(
            &self,
            i: &crate::store::InvitationRecord,
        ) -> Result<(), StoreError> {
            self.1.insert_invitation(i).await
        }
        async fn find_invitation(
            &self,
            h: &[u8],
        ) -> Result<Option<crate::store::InvitationRecord>, StoreError> {
            self.1.find_invitation(h).await
        }
        async fn use_invitation(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
            self.1.use_invitation(id, at).await
        }
        async fn insert_credential(
            &self,
            c: &crate::store::CredentialRecord,
        ) -> Result<(), StoreError> {
            self.1.insert_credential(c).await
        }
        async fn list_credentials(
            &self,
            a: Uuid,
        ) -> Result<Vec<crate::store::CredentialRecord>, StoreError> {
            self.1.list_credentials(a).await
        }
        async fn find_credential(
            &self,
            c: &[u8],
        ) -> Result<Option<crate::store::CredentialRecord>, StoreError> {
            self.1.find_credential(c).await
        }
        async fn update_credential(
            &self,
            id: Uuid,
            p: &str,
            at: OffsetDateTime,
        ) -> Result<(), StoreError> {
            self.1.update_credential(id, p, at).await
        }
        async fn delete_credential(&self, a: Uuid, id: Uuid) -> Result<(), StoreError> {
            self.1.delete_credential(a, id).await
        }
        async fn insert_ceremony(
            &self,
            c: &crate::store::CeremonyRecord,
        ) -> Result<(), StoreError> {
            self.1.insert_ceremony(c).await
        }
        async fn take_ceremony(
            &self,
            id: Uuid,
        ) -> Result<Option<crate::store::CeremonyRecord>, StoreError> {
            self.1.take_ceremony(id).await
        }
        async fn insert_session(&self, s: &crate::store::SessionRecord) -> Result<(), StoreError> {
            self.1.insert_session(s).await
        }
        async fn find_session(
            &self,
            h: &[u8],
        ) -> Result<Option<crate::store::SessionRecord>, StoreError> {
            self.1.find_session(h).await
        }
        async fn touch_session(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
            self.1.touch_session(id, at).await
        }
        async fn set_session_uv(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
            self.1.set_session_uv(id, at).await
        }
        async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
            self.1.delete_session(id).await
        }
        async fn insert_client_certificate(
            &self,
            c: &crate::store::ClientCertificateRecord,
        ) -> Result<(), StoreError> {
            self.1.insert_client_certificate(c).await
        }
        async fn find_client_certificate(
            &self,
            fingerprint: &[u8],
        ) -> Result<Option<crate::store::ClientCertificateRecord>, StoreError> {
            self.1.find_client_certificate(fingerprint).await
        }
        async fn list_client_certificates(
            &self,
        ) -> Result<Vec<crate::store::ClientCertificateRecord>, StoreError> {
            self.1.list_client_certificates().await
        }
        async fn revoke_client_certificate(
            &self,
            id: Uuid,
            at: OffsetDateTime,
        ) -> Result<(), StoreError> {
            self.1.revoke_client_certificate(id, at).await
        }
        async fn purge_access(
            &self,
            now: OffsetDateTime,
            idle_before: OffsetDateTime,
        ) -> Result<crate::store::AccessPurge, StoreError> {
            self.1.purge_access(now, idle_before).await
        }
    }

    /// The ledger: delegated to `MemLedger`.
    #[async_trait]
    impl crate::ledger::LedgerStore for MemStore {
        async fn ledger_size(&self) -> Result<u64, StoreError> {
            self.3.ledger_size().await
        }
        /// Grants to `MemRights` first (not atomic with the entries: a test double).
        async fn append_ledger_entries(
            &self,
            e: &[crate::ledger::LedgerEntryRecord],
            grants: &[crate::rights::EngagementRecord],
        ) -> Result<(), StoreError> {
            for g in grants {
                crate::rights::RightsStore::insert_engagement(&self.2, g).await?;
            }
            self.3.append_ledger_entries(e, &[]).await
        }
        async fn list_ledger_entries(
            &self,
            from: u64,
            limit: u32,
        ) -> Result<Vec<crate::ledger::LedgerEntryRecord>, StoreError> {
            self.3.list_ledger_entries(from, limit).await
        }
        async fn ledger_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
            self.3.ledger_leaf_hashes(from, to).await
        }
        async fn insert_ledger_tiles(
            &self,
            t: &[crate::ledger::LedgerTileRecord],
        ) -> Result<(), StoreError> {
            self.3.insert_ledger_tiles(t).await
        }
        async fn ledger_tiles(
            &self,
            from: u64,
            to: u64,
        ) -> Result<Vec<crate::ledger::LedgerTileRecord>, StoreError> {
            self.3.ledger_tiles(from, to).await
        }
        async fn ledger_tiles_end(&self) -> Result<u64, StoreError> {
            self.3.ledger_tiles_end().await
        }
        async fn find_ledger_entries_by_pseudonym(
            &self,
            insurer_id: Uuid,
            pseudonym: &[u8],
            before: Option<u64>,
            limit: u32,
        ) -> Result<Vec<crate::ledger::LedgerEntryRecord>, StoreError> {
            self.3
                .find_ledger_entries_by_pseudonym(insurer_id, pseudonym, before, limit)
                .await
        }
        async fn find_ledger_entries(
            &self,
            f: &crate::ledger::LedgerFilter,
        ) -> Result<Vec<crate::ledger::LedgerEntryRecord>, StoreError> {
            self.3.find_ledger_entries(f).await
        }
        async fn insert_ledger_checkpoint(
            &self,
            c: &crate::ledger::LedgerCheckpointRecord,
        ) -> Result<(), StoreError> {
            self.3.insert_ledger_checkpoint(c).await
        }
        async fn latest_ledger_checkpoint(
            &self,
        ) -> Result<Option<crate::ledger::LedgerCheckpointRecord>, StoreError> {
            self.3.latest_ledger_checkpoint().await
        }
        async fn list_ledger_checkpoints(
            &self,
            before: Option<u64>,
            limit: u32,
        ) -> Result<Vec<crate::ledger::LedgerCheckpointRecord>, StoreError> {
            self.3.list_ledger_checkpoints(before, limit).await
        }
        async fn insert_ledger_verification(
            &self,
            v: &crate::ledger::LedgerVerificationRecord,
        ) -> Result<(), StoreError> {
            self.3.insert_ledger_verification(v).await
        }
        async fn latest_ledger_verification(
            &self,
        ) -> Result<Option<crate::ledger::LedgerVerificationRecord>, StoreError> {
            self.3.latest_ledger_verification().await
        }
    }

    /// Payments are not part of the demo seeding: every call says so.
    #[async_trait]
    impl crate::payments::store::PaymentsStore for MemStore {
        async fn claim_payment_run(
            &self,
            _: &crate::payments::store::PaymentRunRecord,
        ) -> Result<Option<crate::payments::store::PaymentRunRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn list_run_lines(
            &self,
            _: Uuid,
        ) -> Result<Vec<crate::payments::store::RunLineRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn list_run_payees(
            &self,
            _: Uuid,
        ) -> Result<Vec<crate::payments::store::RunPayeeRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn complete_payment_run(
            &self,
            _: Uuid,
            _: &[crate::payments::store::TransferRecord],
            _: i64,
            _: time::OffsetDateTime,
        ) -> Result<(), StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn get_payment_run(
            &self,
            _: Uuid,
        ) -> Result<crate::payments::store::PaymentRunRecord, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn list_payment_runs(
            &self,
            _: u32,
        ) -> Result<Vec<crate::payments::store::PaymentRunRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn list_practice_transfers(
            &self,
            _: Uuid,
            _: u32,
        ) -> Result<Vec<crate::payments::store::TransferRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn find_practice_transfer(
            &self,
            _: Uuid,
            _: &str,
        ) -> Result<Option<crate::payments::store::TransferRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn list_billed_lines(
            &self,
            _: Uuid,
            _: time::Date,
            _: time::Date,
        ) -> Result<Vec<crate::payments::store::BilledLineRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn insert_iban_change(
            &self,
            _: &crate::payments::store::IbanChangeRecord,
        ) -> Result<(), StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn get_iban_change(
            &self,
            _: Uuid,
        ) -> Result<crate::payments::store::IbanChangeRecord, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn list_iban_changes(
            &self,
            _: Option<Uuid>,
        ) -> Result<Vec<crate::payments::store::IbanChangeRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn confirm_iban_change(
            &self,
            _: Uuid,
            _: Uuid,
            _: time::OffsetDateTime,
            _: time::OffsetDateTime,
        ) -> Result<(), StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
        async fn apply_due_iban_changes(
            &self,
            _: time::OffsetDateTime,
            _: crate::payments::store::Reseal<'_>,
        ) -> Result<Vec<crate::payments::store::IbanChangeRecord>, StoreError> {
            Err(StoreError::Other("no payments in this double".into()))
        }
    }

    /// Contract documents (what the demo loads); claims are not part of the demo seeding.
    #[async_trait]
    impl crate::invoices::store::MoneyStore for MemStore {
        async fn insert_contract_document(
            &self,
            contract: &ContractRecord,
            toml: &str,
        ) -> Result<(), StoreError> {
            self.with(|m| {
                if m.contracts.iter().any(|c| {
                    c.insurer_id == contract.insurer_id
                        && c.code == contract.code
                        && c.version == contract.version
                }) {
                    return Err(conflict("contracts_version"));
                }
                m.contracts.push(contract.clone());
                m.contract_docs.insert(contract.id, toml.to_string());
                Ok(())
            })
        }
        async fn find_contract_document(
            &self,
            insurer_id: Uuid,
            contract_id: Uuid,
        ) -> Result<Option<String>, StoreError> {
            Ok(self.with(|m| {
                m.contracts
                    .iter()
                    .any(|c| c.insurer_id == insurer_id && c.id == contract_id)
                    .then(|| m.contract_docs.get(&contract_id).cloned())
                    .flatten()
            }))
        }
        async fn record_claim(
            &self,
            _: &crate::invoices::store::ClaimScope,
            _: crate::invoices::store::Decide<'_>,
        ) -> Result<crate::invoices::store::ClaimWrite, StoreError> {
            Err(StoreError::Unavailable(
                "claims are not in the demo test store".into(),
            ))
        }
        async fn find_approval(
            &self,
            _: Uuid,
            _: &str,
        ) -> Result<Option<crate::invoices::store::ApprovalRecord>, StoreError> {
            Ok(None)
        }
        async fn cancel_approval(
            &self,
            _: Uuid,
            _: &str,
            _: OffsetDateTime,
        ) -> Result<crate::invoices::store::ApprovalRecord, StoreError> {
            Err(StoreError::NotFound)
        }
        async fn get_invoice(
            &self,
            _: Uuid,
            _: Uuid,
        ) -> Result<crate::invoices::store::InvoiceRecord, StoreError> {
            Err(StoreError::NotFound)
        }
        async fn list_invoices(
            &self,
            _: Uuid,
            _: u32,
        ) -> Result<Vec<crate::invoices::store::InvoiceRecord>, StoreError> {
            Ok(Vec::new())
        }
        async fn list_counters(
            &self,
            _: Uuid,
            _: Uuid,
            _: time::Date,
        ) -> Result<Vec<crate::invoices::store::CounterRecord>, StoreError> {
            Ok(Vec::new())
        }
    }

    /// Idempotency records: delegated to `MemAccess`.
    #[async_trait]
    impl crate::idempotency::IdempotencyStore for MemStore {
        async fn insert_idempotency(
            &self,
            r: &crate::idempotency::IdempotencyRecord,
        ) -> Result<(), StoreError> {
            crate::idempotency::IdempotencyStore::insert_idempotency(&self.1, r).await
        }
        async fn find_idempotency(
            &self,
            actor_id: Uuid,
            route: &str,
            key: &str,
        ) -> Result<Option<crate::idempotency::IdempotencyRecord>, StoreError> {
            crate::idempotency::IdempotencyStore::find_idempotency(&self.1, actor_id, route, key)
                .await
        }
        async fn complete_idempotency(
            &self,
            id: Uuid,
            request_hash: &[u8],
            status: u16,
            response: &[u8],
        ) -> Result<(), StoreError> {
            crate::idempotency::IdempotencyStore::complete_idempotency(
                &self.1,
                id,
                request_hash,
                status,
                response,
            )
            .await
        }
        async fn delete_idempotency(&self, id: Uuid) -> Result<(), StoreError> {
            crate::idempotency::IdempotencyStore::delete_idempotency(&self.1, id).await
        }
        async fn purge_idempotency(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
            crate::idempotency::IdempotencyStore::purge_idempotency(&self.1, now).await
        }
    }

    pub(crate) fn ports(store: Arc<MemStore>) -> Ports {
        let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(11));
        let vault = Arc::new(crate::keys::Vault::ephemeral(rng.clone()));
        let start = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(); // 2026
        Ports {
            store,
            clock: Arc::new(ManualClock::new(start)),
            rng,
            vault,
        }
    }

    #[tokio::test]
    async fn seeds_once_with_valid_identifiers() {
        let store = Arc::new(MemStore::default());
        let ports = ports(store.clone());
        let first = seed(&ports, 1).await.unwrap();
        assert!(!first.already_seeded);
        let c = first.counts;
        assert_eq!(
            (
                c.insurers,
                c.contracts,
                c.beneficiaries,
                c.practices,
                c.professionals
            ),
            (2, 4, 10_000, 15, 30)
        );
        assert_eq!(c.accounts, 31);
        assert!(c.cards > 3_000);
        assert!(first.operator_admin.is_some());
        assert_eq!(first.insurers.len(), 2);

        let second = seed(&ports, 1).await.unwrap();
        assert!(second.already_seeded);
        assert_eq!(second.counts, first.counts);
        assert_eq!(second.insurers, first.insurers);
        assert_eq!(second.operator_admin, first.operator_admin);

        store.with(|m| {
            assert!(m.batches.iter().all(|&n| n < BATCH + 10), "batches of about {BATCH}");
            let am: HashSet<_> = m.practices.iter().map(|p| p.am_number.clone()).collect();
            assert_eq!(am.len(), 15);
            for p in &m.practices {
                assert_eq!(p.finess.is_some(), matches!(p.profession, Profession::Pharmacist | Profession::Laboratory));
                assert_eq!(p.siret.is_some(), p.finess.is_none());
                let iban = ports.vault.sealer(crypto::envelope::PLATFORM_SCOPE).unwrap().open_string(&FieldRef::new("practices", "iban", p.id), &p.iban_sealed).unwrap();
                let iban = Iban::parse(&iban).unwrap();
                assert!(iban.as_str().starts_with("FR"));
                let bban = &iban.as_str()[4..];
                let n = |s: &str| s.parse::<u64>().unwrap();
                let rib = (89 * n(&bban[..5]) + 15 * n(&bban[5..10]) + 3 * n(&bban[10..21]) + n(&bban[21..])) % 97;
                assert_eq!(rib, 0, "RIB key");
            }
            for p in &m.professionals {
                let adeli = matches!(p.profession, Profession::Optician | Profession::AudioProsthetist);
                assert_eq!(p.national_id.kind(), if adeli { "adeli" } else { "rpps" });
            }
            let professional_accounts = m.accounts.iter().filter(|a| a.role == Role::Professional && a.professional_id.is_some()).count();
            assert_eq!(professional_accounts, 30);
            for c in &m.contracts {
                assert!(c.responsible);
                // Loaded from its TOML file: the document is stored with the version.
                let text = m.contract_docs.get(&c.id).unwrap();
                let contract = domain::contracts::Contract::from_toml(text).unwrap();
                let i = contract
                    .guarantee_for(CareDomain::Dent, domain::contracts::LineKind::Prosthesis, None, 40)
                    .unwrap();
                let expected = if c.code.as_str() == "ESSENTIEL" { "300% BR" } else { "400% BR" };
                assert_eq!(contract.guarantees[i].formula.to_string(), expected);
                // What cards print comes from the same document.
                let printed = crate::cards::domains_from_guarantees(&c.guarantees).unwrap();
                assert_eq!(printed, contract.card_regimes());
            }
            for card in &m.cards {
                let d = crate::cards::parse_domains(&card.domains).unwrap();
                assert_eq!(d.len(), CareDomain::ALL.len());
                assert_eq!(card.convention_type, "TP");
                assert_eq!(card.signing_kid, ports.vault.card_signer().kid());
                assert_eq!(card.code_hash.len(), 32);
            }
            // The printed cards: one row per beneficiary with a card this year; each token
            // verifies with the published keys and names a stored card whose hash matches.
            assert!(first.cards.len() > 9_000 && first.cards.len() <= 10_000);
            assert!(second.cards.is_empty());
            let keys = ports.vault.card_keys();
            for row in first.cards.iter().step_by(89) {
                let claims = crypto::cards::verify(&row.token, &keys).unwrap();
                assert_eq!(claims.member_number, row.member_number);
                let card = m.cards.iter().find(|c| c.id == claims.card_id).unwrap();
                assert!(crate::cards::code_matches(ports.vault.code_hasher(), card, &row.verification_code));
                assert!(m.beneficiaries.iter().any(|b| b.member_number.as_str() == row.member_number && b.birth_rank.get() == row.birth_rank));
            }
            // Every beneficiary opens back, and belongs to a family with a card.
            for b in m.beneficiaries.iter().step_by(97) {
                crate::beneficiaries::open_identity(&ports.vault, b).unwrap();
                assert!(m.cards.iter().any(|c| c.member_number == b.member_number && c.insurer_id == b.insurer_id));
            }
        });
    }

    #[tokio::test]
    async fn same_seed_same_data() {
        let a = Arc::new(MemStore::default());
        let b = Arc::new(MemStore::default());
        seed(&ports(a.clone()), 5).await.unwrap();
        seed(&ports(b.clone()), 5).await.unwrap();
        let ids = |s: &MemStore| {
            s.with(|m| {
                (
                    m.beneficiaries
                        .iter()
                        .map(|b| (b.id, b.member_number.clone(), b.nir_sealed.clone()))
                        .collect::<Vec<_>>(),
                    m.practices
                        .iter()
                        .map(|p| p.am_number.clone())
                        .collect::<Vec<_>>(),
                )
            })
        };
        assert_eq!(ids(&a), ids(&b));
    }
}
