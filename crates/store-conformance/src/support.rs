//! Builders of valid records with fixed, microsecond-truncated times and deterministic ids.
// A tests-only crate: a failed setup step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::store::{
    AccountRecord, AccountStatus, BeneficiaryRecord, CardRecord, ContractRecord, InsurerRecord,
    OrganisationRecord, PracticeRecord, ProfessionalRecord, Store,
};
use domain::accounts::{OrganisationKind, Profession, ProfessionalId, Role};
use domain::beneficiaries::Quality;
use domain::contracts::ContractCode;
use domain::ids::{AmNumber, AmcNumber, BirthRank, Finess, MemberNumber, Siret};
use std::sync::atomic::{AtomicU64, Ordering};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// A fresh id, unique within the test process (UUIDv7-shaped, deterministic order).
pub fn new_id() -> Uuid {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    Uuid::from_u64_pair(
        0x0193_0000_0000_7000,
        0x8000_0000_0000_0000 | NEXT.fetch_add(1, Ordering::Relaxed),
    )
}

/// The time everything happens at, microsecond-truncated; `at(n)` is `n` seconds later.
pub fn at(seconds: i64) -> OffsetDateTime {
    datetime!(2026-03-01 09:30:00.123456 UTC) + Duration::seconds(seconds)
}

pub fn day(s: &str) -> Date {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
}

/// Completes `body` with its Luhn check digit (RPPS, FINESS, SIRET).
pub fn with_luhn(body: &str) -> String {
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|candidate| luhn_valid(candidate))
        .unwrap()
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

pub fn member(s: &str) -> MemberNumber {
    MemberNumber::parse(s).unwrap()
}

pub fn code(s: &str) -> ContractCode {
    ContractCode::parse(s).unwrap()
}

pub fn rank(n: u8) -> BirthRank {
    BirthRank::new(n).unwrap()
}

pub fn rpps(body10: &str) -> ProfessionalId {
    ProfessionalId::parse("rpps", &with_luhn(body10)).unwrap()
}

pub fn adeli(nine: &str) -> ProfessionalId {
    ProfessionalId::parse("adeli", nine).unwrap()
}

pub fn organisation(
    kind: OrganisationKind,
    name: &str,
    created_at: OffsetDateTime,
) -> OrganisationRecord {
    OrganisationRecord {
        id: new_id(),
        kind,
        name: name.to_string(),
        created_at,
    }
}

pub async fn given_organisation(
    store: &dyn Store,
    kind: OrganisationKind,
    name: &str,
    created_at: OffsetDateTime,
) -> OrganisationRecord {
    let org = organisation(kind, name, created_at);
    store.insert_organisation(&org).await.unwrap();
    org
}

/// An insurer record whose organisation exists already.
pub async fn given_insurer(store: &dyn Store, amc: &str) -> InsurerRecord {
    given_insurer_at(store, amc, at(0)).await
}

pub async fn given_insurer_at(
    store: &dyn Store,
    amc: &str,
    created_at: OffsetDateTime,
) -> InsurerRecord {
    let org = given_organisation(
        store,
        OrganisationKind::Insurer,
        &format!("Mutuelle {amc}"),
        created_at,
    )
    .await;
    let insurer = InsurerRecord {
        id: org.id,
        amc: AmcNumber::parse(amc).unwrap(),
        name: org.name.clone(),
        created_at,
    };
    store.insert_insurer(&insurer).await.unwrap();
    insurer
}

pub fn contract(
    insurer_id: Uuid,
    code_: &str,
    version: u32,
    from: &str,
    to: Option<&str>,
) -> ContractRecord {
    ContractRecord {
        id: new_id(),
        insurer_id,
        code: code(code_),
        version,
        label: format!("{code_} v{version}"),
        responsible: true,
        effective_from: day(from),
        effective_to: to.map(day),
        guarantees: r#"{"OPTI":{"formula":"100% BR + 150 EUR"}}"#.to_string(),
        created_at: at(i64::from(version)),
    }
}

pub async fn given_contract(
    store: &dyn Store,
    insurer_id: Uuid,
    code_: &str,
    version: u32,
    from: &str,
    to: Option<&str>,
) -> ContractRecord {
    let c = contract(insurer_id, code_, version, from, to);
    store.insert_contract(&c).await.unwrap();
    c
}

pub fn sealed(label: &str) -> Vec<u8> {
    let mut bytes = vec![0u8, 0xFF, 0x00, 0x7F, 0x80];
    bytes.extend_from_slice(label.as_bytes());
    bytes.push(0);
    bytes
}

pub fn beneficiary(
    insurer_id: Uuid,
    contract_id: Uuid,
    member_: &str,
    rank_: u8,
) -> BeneficiaryRecord {
    BeneficiaryRecord {
        id: new_id(),
        insurer_id,
        member_number: member(member_),
        birth_rank: rank(rank_),
        nir_sealed: sealed("nir"),
        last_name_sealed: sealed("last_name"),
        first_name_sealed: sealed("first_name"),
        birth_date_sealed: sealed("birth_date"),
        marital_status_sealed: sealed("marital_status"),
        nir_index: 0x5_A5A5,
        quality: Quality::Enfant,
        contract_id,
        valid_from: date!(2026 - 01 - 01),
        valid_to: Some(date!(2026 - 12 - 31)),
        created_at: at(10),
        updated_at: at(20),
    }
}

pub fn card(insurer_id: Uuid, member_: &str, from: &str, to: &str) -> CardRecord {
    CardRecord {
        id: new_id(),
        insurer_id,
        member_number: member(member_),
        convention_type: "TP".to_string(),
        routing_criterion: "AMC".to_string(),
        valid_from: day(from),
        valid_to: day(to),
        domains: r#"[{"domain":"PHAR","regime":"100%"},{"domain":"OPTI","regime":"SP"}]"#
            .to_string(),
        signing_kid: 4_000_000_007,
        code_hash: (0u8..32).map(|b| b.wrapping_mul(37) ^ 0xA5).collect(),
        created_at: at(30),
    }
}

pub fn practice(am: &str) -> PracticeRecord {
    PracticeRecord {
        id: new_id(),
        name: format!("Optique {am}"),
        profession: Profession::Optician,
        am_number: AmNumber::parse(am).unwrap(),
        finess: Some(Finess::parse(&with_luhn("75000001")).unwrap()),
        siret: Some(Siret::parse(&with_luhn(&format!("{}0000", with_luhn("12345678")))).unwrap()),
        iban_sealed: sealed("iban"),
        created_at: at(40),
    }
}

/// A stored practice, with the organisation row of the same id that engagements, approvals
/// and invoices refer to.
pub async fn given_practice(store: &dyn Store, am: &str) -> PracticeRecord {
    let p = practice(am);
    store.insert_practice(&p).await.unwrap();
    let org = app::store::OrganisationRecord {
        id: p.id,
        kind: domain::accounts::OrganisationKind::Practice,
        name: p.name.clone(),
        created_at: p.created_at,
    };
    let stored = store.insert_organisation(&org).await;
    assert!(
        matches!(
            stored,
            Ok(()) | Err(app::store::StoreError::Conflict { .. })
        ),
        "organisation of the practice: {stored:?}"
    );
    p
}

pub fn professional(
    practice_id: Uuid,
    national_id: ProfessionalId,
    created_at: OffsetDateTime,
) -> ProfessionalRecord {
    ProfessionalRecord {
        id: new_id(),
        practice_id,
        national_id,
        profession: Profession::Optician,
        display_name: "Camille Martin".to_string(),
        created_at,
    }
}

pub fn account(
    organisation_id: Uuid,
    role: Role,
    professional_id: Option<Uuid>,
    created_at: OffsetDateTime,
) -> AccountRecord {
    AccountRecord {
        id: new_id(),
        organisation_id,
        role,
        display_name: "Dominique Petit".to_string(),
        professional_id,
        status: AccountStatus::Active,
        created_at,
    }
}
