//! The conformance cases. Each takes a fresh, empty, migrated store.
// A tests-only crate: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::store::{AccountStatus, BeneficiaryRecord, Store, StoreCounts, StoreError};
use domain::accounts::{OrganisationKind, Role};
use domain::ids::{AmNumber, AmcNumber};
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, UtcOffset};
use uuid::Uuid;

type S = Arc<dyn Store>;

pub use crate::access_cases::*;
pub use crate::guard_cases::*;
pub use crate::import_cases::*;
pub use crate::ledger_cases::*;
pub use crate::money_cases::*;
pub use crate::payments_cases::*;
pub use crate::rights_cases::*;

fn conflict(constraint: &str) -> StoreError {
    StoreError::Conflict {
        constraint: constraint.to_string(),
    }
}

// ---- ping, backend, counts

pub async fn ping_answers_on_a_fresh_store(store: S) {
    store.ping().await.unwrap();
}

pub async fn backend_names_itself(store: S) {
    assert!(["sqlite", "postgres"].contains(&store.backend()));
}

pub async fn counts_are_zero_on_a_fresh_store(store: S) {
    assert_eq!(store.counts().await.unwrap(), StoreCounts::default());
}

pub async fn counts_follow_every_insert(store: S) {
    let insurer = given_insurer(&*store, "11111111").await;
    given_insurer(&*store, "22222222").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    store
        .insert_beneficiaries(&[
            beneficiary(insurer.id, c.id, "M1", 1),
            beneficiary(insurer.id, c.id, "M1", 2),
            beneficiary(insurer.id, c.id, "M2", 1),
        ])
        .await
        .unwrap();
    store
        .insert_cards(&[card(insurer.id, "M1", "2026-01-01", "2026-12-31")])
        .await
        .unwrap();
    let p = given_practice(&*store, "750000001").await;
    store
        .insert_professional(&professional(p.id, rpps("1000000001"), at(0)))
        .await
        .unwrap();
    store
        .insert_account(&account(insurer.id, Role::InsurerStaff, None, at(0)))
        .await
        .unwrap();
    store
        .insert_account(&account(insurer.id, Role::InsurerStaff, None, at(1)))
        .await
        .unwrap();

    let expected = StoreCounts {
        insurers: 2,
        contracts: 1,
        beneficiaries: 3,
        cards: 1,
        practices: 1,
        professionals: 1,
        accounts: 2,
    };
    assert_eq!(store.counts().await.unwrap(), expected);
}

// ---- organisations

pub async fn organisation_round_trips_every_field(store: S) {
    for kind in [
        OrganisationKind::Operator,
        OrganisationKind::Insurer,
        OrganisationKind::Practice,
    ] {
        let org = organisation(kind, "Opérateur rempart", at(5));
        store.insert_organisation(&org).await.unwrap();
        assert_eq!(store.get_organisation(org.id).await.unwrap(), org);
    }
}

pub async fn missing_organisation_is_not_found(store: S) {
    assert_eq!(
        store.get_organisation(new_id()).await,
        Err(StoreError::NotFound)
    );
}

pub async fn duplicate_organisation_id_conflicts_on_organisations_pkey(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Operator, "A", at(0)).await;
    let again = organisation(OrganisationKind::Practice, "B", at(1));
    let again = app::store::OrganisationRecord {
        id: org.id,
        ..again
    };
    assert_eq!(
        store.insert_organisation(&again).await,
        Err(conflict("organisations_pkey"))
    );
    assert_eq!(store.get_organisation(org.id).await.unwrap(), org);
}

pub async fn list_organisations_returns_only_that_kind_oldest_first(store: S) {
    let late = given_organisation(&*store, OrganisationKind::Practice, "late", at(100)).await;
    let early = given_organisation(&*store, OrganisationKind::Practice, "early", at(1)).await;
    let same_time =
        given_organisation(&*store, OrganisationKind::Practice, "same time", at(100)).await;
    given_organisation(&*store, OrganisationKind::Operator, "operator", at(0)).await;
    given_insurer(&*store, "12345").await;

    let listed = store
        .list_organisations(OrganisationKind::Practice)
        .await
        .unwrap();
    assert_eq!(listed, vec![early, late, same_time]);
    assert_eq!(
        store
            .list_organisations(OrganisationKind::Operator)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_organisations(OrganisationKind::Insurer)
            .await
            .unwrap()
            .len(),
        1
    );
}

// ---- insurers

pub async fn insurer_round_trips_every_field(store: S) {
    let insurer = given_insurer_at(&*store, "0123456789", at(7)).await;
    assert_eq!(store.get_insurer(insurer.id).await.unwrap(), insurer);
}

pub async fn missing_insurer_is_not_found(store: S) {
    assert_eq!(store.get_insurer(new_id()).await, Err(StoreError::NotFound));
}

pub async fn insurer_is_found_by_its_amc_number(store: S) {
    let insurer = given_insurer(&*store, "444").await;
    given_insurer(&*store, "4444").await;
    assert_eq!(
        store
            .find_insurer_by_amc(&AmcNumber::parse("444").unwrap())
            .await
            .unwrap(),
        Some(insurer)
    );
    assert_eq!(
        store
            .find_insurer_by_amc(&AmcNumber::parse("44").unwrap())
            .await
            .unwrap(),
        None
    );
}

pub async fn duplicate_amc_number_conflicts_on_insurers_amc(store: S) {
    let first = given_insurer(&*store, "777").await;
    let org = given_organisation(&*store, OrganisationKind::Insurer, "other", at(0)).await;
    let second = app::store::InsurerRecord {
        id: org.id,
        amc: first.amc.clone(),
        name: "other".into(),
        created_at: at(0),
    };
    assert_eq!(
        store.insert_insurer(&second).await,
        Err(conflict("insurers_amc"))
    );
    assert_eq!(store.get_insurer(org.id).await, Err(StoreError::NotFound));
}

pub async fn duplicate_insurer_id_conflicts_on_insurers_pkey(store: S) {
    let first = given_insurer(&*store, "777").await;
    let again = app::store::InsurerRecord {
        amc: AmcNumber::parse("778").unwrap(),
        ..first.clone()
    };
    assert_eq!(
        store.insert_insurer(&again).await,
        Err(conflict("insurers_pkey"))
    );
    assert_eq!(store.get_insurer(first.id).await.unwrap(), first);
}

pub async fn insurer_needs_an_insurer_organisation_with_its_id(store: S) {
    let orphan = app::store::InsurerRecord {
        id: new_id(),
        amc: AmcNumber::parse("1").unwrap(),
        name: "orphan".into(),
        created_at: at(0),
    };
    assert_eq!(
        store.insert_insurer(&orphan).await,
        Err(conflict("foreign_key"))
    );

    let practice_org =
        given_organisation(&*store, OrganisationKind::Practice, "a practice", at(0)).await;
    let wrong_kind = app::store::InsurerRecord {
        id: practice_org.id,
        ..orphan
    };
    assert_eq!(
        store.insert_insurer(&wrong_kind).await,
        Err(conflict("foreign_key"))
    );
    assert!(store.list_insurers().await.unwrap().is_empty());
}

pub async fn list_insurers_returns_every_insurer_oldest_first(store: S) {
    let b = given_insurer_at(&*store, "2", at(20)).await;
    let a = given_insurer_at(&*store, "1", at(10)).await;
    let c = given_insurer_at(&*store, "3", at(30)).await;
    assert_eq!(store.list_insurers().await.unwrap(), vec![a, b, c]);
}

// ---- contracts

pub async fn contract_round_trips_every_field(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let closed = contract(insurer.id, "ESSENTIEL", 1, "2025-01-01", Some("2025-12-31"));
    let open = app::store::ContractRecord {
        responsible: false,
        version: u32::MAX,
        ..contract(insurer.id, "ESSENTIEL", 2, "2026-01-01", None)
    };
    for c in [&closed, &open] {
        store.insert_contract(c).await.unwrap();
        assert_eq!(&store.get_contract(insurer.id, c.id).await.unwrap(), c);
    }
}

pub async fn contract_of_another_insurer_is_not_found(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    assert_eq!(
        store.get_contract(other.id, c.id).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.get_contract(mine.id, new_id()).await,
        Err(StoreError::NotFound)
    );
}

pub async fn duplicate_contract_version_conflicts_on_contracts_version(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let same_version = contract(mine.id, "ESSENTIEL", 1, "2027-01-01", None);
    assert_eq!(
        store.insert_contract(&same_version).await,
        Err(conflict("contracts_version"))
    );
    // The same code and version elsewhere is no conflict.
    given_contract(&*store, mine.id, "ESSENTIEL", 2, "2027-01-01", None).await;
    given_contract(&*store, mine.id, "CONFORT", 1, "2026-01-01", None).await;
    given_contract(&*store, other.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    assert_eq!(store.list_contracts(mine.id).await.unwrap().len(), 3);
}

pub async fn duplicate_contract_id_conflicts_on_contracts_pkey(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let first = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let again = app::store::ContractRecord {
        version: 2,
        ..first.clone()
    };
    assert_eq!(
        store.insert_contract(&again).await,
        Err(conflict("contracts_pkey"))
    );
}

pub async fn no_contract_is_in_effect_before_its_first_period(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    assert_eq!(
        store
            .find_contract_in_effect(insurer.id, &code("ESSENTIEL"), day("2025-12-31"))
            .await
            .unwrap(),
        None
    );
}

pub async fn contract_in_effect_is_the_version_whose_period_contains_the_day(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let v1 = given_contract(
        &*store,
        insurer.id,
        "ESSENTIEL",
        1,
        "2025-01-01",
        Some("2025-12-31"),
    )
    .await;
    let v2 = given_contract(
        &*store,
        insurer.id,
        "ESSENTIEL",
        2,
        "2026-01-01",
        Some("2026-12-31"),
    )
    .await;
    let on = |d: &'static str| {
        let store = Arc::clone(&store);
        async move {
            store
                .find_contract_in_effect(insurer.id, &code("ESSENTIEL"), day(d))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        on("2025-01-01").await,
        Some(v1.clone()),
        "first day included"
    );
    assert_eq!(on("2025-06-15").await, Some(v1.clone()));
    assert_eq!(on("2025-12-31").await, Some(v1), "last day included");
    assert_eq!(on("2026-01-01").await, Some(v2.clone()));
    assert_eq!(on("2026-12-31").await, Some(v2));
}

pub async fn no_contract_is_in_effect_after_a_closed_period(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    given_contract(
        &*store,
        insurer.id,
        "ESSENTIEL",
        1,
        "2025-01-01",
        Some("2025-12-31"),
    )
    .await;
    assert_eq!(
        store
            .find_contract_in_effect(insurer.id, &code("ESSENTIEL"), day("2026-01-01"))
            .await
            .unwrap(),
        None
    );
}

pub async fn open_ended_contract_stays_in_effect(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let v1 = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2020-02-29", None).await;
    assert_eq!(
        store
            .find_contract_in_effect(insurer.id, &code("ESSENTIEL"), day("2020-02-29"))
            .await
            .unwrap(),
        Some(v1.clone())
    );
    assert_eq!(
        store
            .find_contract_in_effect(insurer.id, &code("ESSENTIEL"), day("2999-12-31"))
            .await
            .unwrap(),
        Some(v1)
    );
}

pub async fn highest_version_wins_where_periods_overlap(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let v1 = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2025-01-01", None).await;
    // Inserted out of order: the version number decides, not insertion.
    let v3 = given_contract(
        &*store,
        insurer.id,
        "ESSENTIEL",
        3,
        "2026-03-01",
        Some("2026-03-31"),
    )
    .await;
    let v2 = given_contract(
        &*store,
        insurer.id,
        "ESSENTIEL",
        2,
        "2026-01-01",
        Some("2026-06-30"),
    )
    .await;
    let on = |d: &'static str| {
        let store = Arc::clone(&store);
        async move {
            store
                .find_contract_in_effect(insurer.id, &code("ESSENTIEL"), day(d))
                .await
                .unwrap()
        }
    };
    assert_eq!(on("2025-12-31").await, Some(v1.clone()));
    assert_eq!(on("2026-02-01").await, Some(v2.clone()));
    assert_eq!(on("2026-03-15").await, Some(v3));
    assert_eq!(on("2026-04-01").await, Some(v2));
    assert_eq!(on("2026-07-01").await, Some(v1));
}

pub async fn contract_in_effect_keeps_to_its_code_and_insurer(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let essentiel = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    given_contract(&*store, mine.id, "CONFORT", 9, "2026-01-01", None).await;
    given_contract(&*store, other.id, "ESSENTIEL", 9, "2026-01-01", None).await;
    assert_eq!(
        store
            .find_contract_in_effect(mine.id, &code("ESSENTIEL"), day("2026-05-01"))
            .await
            .unwrap(),
        Some(essentiel)
    );
    assert_eq!(
        store
            .find_contract_in_effect(mine.id, &code("PREMIUM"), day("2026-05-01"))
            .await
            .unwrap(),
        None
    );
}

pub async fn list_contracts_orders_by_code_then_version_within_the_insurer(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    // Bytewise: '-' < '1' < 'B' < '_' (a locale collation would order these differently).
    let a_b_2 = given_contract(&*store, mine.id, "A_B", 2, "2026-01-01", None).await;
    let ab = given_contract(&*store, mine.id, "AB", 1, "2026-01-01", None).await;
    let a_b_1 = given_contract(&*store, mine.id, "A_B", 1, "2026-01-01", None).await;
    let a1 = given_contract(&*store, mine.id, "A1", 1, "2026-01-01", None).await;
    let a_dash_b_10 = given_contract(&*store, mine.id, "A-B", 10, "2026-01-01", None).await;
    let a_dash_b_9 = given_contract(&*store, mine.id, "A-B", 9, "2026-01-01", None).await;
    given_contract(&*store, other.id, "AA", 1, "2026-01-01", None).await;

    let listed = store.list_contracts(mine.id).await.unwrap();
    assert_eq!(listed, vec![a_dash_b_9, a_dash_b_10, a1, ab, a_b_1, a_b_2]);
    assert!(store.list_contracts(new_id()).await.unwrap().is_empty());
}

// ---- beneficiaries

pub async fn beneficiary_round_trips_every_field(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let dated = BeneficiaryRecord {
        quality: domain::beneficiaries::Quality::Assure,
        ..beneficiary(insurer.id, c.id, "AB12CD", 9)
    };
    let open = BeneficiaryRecord {
        valid_to: None,
        ..beneficiary(insurer.id, c.id, "AB12CD", 1)
    };
    store
        .insert_beneficiaries(&[dated.clone(), open.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.get_beneficiary(insurer.id, dated.id).await.unwrap(),
        dated
    );
    assert_eq!(
        store.get_beneficiary(insurer.id, open.id).await.unwrap(),
        open
    );
}

pub async fn beneficiary_of_another_insurer_is_not_found(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let b = beneficiary(mine.id, c.id, "M1", 1);
    store
        .insert_beneficiaries(std::slice::from_ref(&b))
        .await
        .unwrap();
    assert_eq!(
        store.get_beneficiary(other.id, b.id).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.get_beneficiary(mine.id, new_id()).await,
        Err(StoreError::NotFound)
    );
}

pub async fn sealed_fields_are_stored_byte_exactly(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let every_byte: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let b = BeneficiaryRecord {
        nir_sealed: every_byte.clone(),
        last_name_sealed: vec![0; 64],
        first_name_sealed: vec![0xFF; 3],
        birth_date_sealed: Vec::new(),
        marital_status_sealed: (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
        ..beneficiary(insurer.id, c.id, "M1", 1)
    };
    store
        .insert_beneficiaries(std::slice::from_ref(&b))
        .await
        .unwrap();
    assert_eq!(store.get_beneficiary(insurer.id, b.id).await.unwrap(), b);

    let p = app::store::PracticeRecord {
        iban_sealed: every_byte,
        ..practice("750000001")
    };
    store.insert_practice(&p).await.unwrap();
    assert_eq!(
        store.get_practice(p.id).await.unwrap().iban_sealed,
        p.iban_sealed
    );
}

pub async fn beneficiary_batch_with_a_duplicate_id_inserts_nothing(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let existing = beneficiary(insurer.id, c.id, "M1", 1);
    store
        .insert_beneficiaries(std::slice::from_ref(&existing))
        .await
        .unwrap();

    let fresh = beneficiary(insurer.id, c.id, "M2", 1);
    let duplicate = BeneficiaryRecord {
        member_number: member("M3"),
        ..existing.clone()
    };
    let after = beneficiary(insurer.id, c.id, "M4", 1);
    let result = store
        .insert_beneficiaries(&[fresh.clone(), duplicate, after.clone()])
        .await;

    assert_eq!(result, Err(conflict("beneficiaries_pkey")));
    assert_eq!(
        store.get_beneficiary(insurer.id, fresh.id).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.get_beneficiary(insurer.id, after.id).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(store.counts().await.unwrap().beneficiaries, 1);
    assert_eq!(
        store
            .get_beneficiary(insurer.id, existing.id)
            .await
            .unwrap(),
        existing
    );
}

pub async fn beneficiary_batch_repeating_an_id_inserts_nothing(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let b = beneficiary(insurer.id, c.id, "M1", 1);
    let result = store
        .insert_beneficiaries(&[b.clone(), beneficiary(insurer.id, c.id, "M1", 2), b])
        .await;
    assert_eq!(result, Err(conflict("beneficiaries_pkey")));
    assert_eq!(store.counts().await.unwrap().beneficiaries, 0);
}

pub async fn empty_batches_are_accepted(store: S) {
    store.insert_beneficiaries(&[]).await.unwrap();
    store.insert_cards(&[]).await.unwrap();
    assert_eq!(store.counts().await.unwrap(), StoreCounts::default());
}

pub async fn beneficiary_needs_a_contract_of_its_insurer(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let theirs = given_contract(&*store, other.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let with_foreign_contract = beneficiary(mine.id, theirs.id, "M1", 1);
    assert_eq!(
        store.insert_beneficiaries(&[with_foreign_contract]).await,
        Err(conflict("foreign_key"))
    );
    let with_no_contract = beneficiary(mine.id, new_id(), "M1", 1);
    assert_eq!(
        store.insert_beneficiaries(&[with_no_contract]).await,
        Err(conflict("foreign_key"))
    );
    assert_eq!(store.counts().await.unwrap().beneficiaries, 0);
}

pub async fn find_member_returns_the_family_by_birth_rank_then_id(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let theirs = given_contract(&*store, other.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let twin_b = BeneficiaryRecord {
        id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0f02),
        ..beneficiary(mine.id, c.id, "FAM1", 2)
    };
    let twin_a = BeneficiaryRecord {
        id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0f01),
        ..beneficiary(mine.id, c.id, "FAM1", 2)
    };
    let parent = beneficiary(mine.id, c.id, "FAM1", 1);
    let youngest = beneficiary(mine.id, c.id, "FAM1", 3);
    let neighbour = beneficiary(mine.id, c.id, "FAM2", 1);
    let same_number_elsewhere = beneficiary(other.id, theirs.id, "FAM1", 1);
    store
        .insert_beneficiaries(&[
            youngest.clone(),
            twin_b.clone(),
            neighbour,
            parent.clone(),
            twin_a.clone(),
            same_number_elsewhere,
        ])
        .await
        .unwrap();

    let family = store.find_member(mine.id, &member("FAM1")).await.unwrap();
    assert_eq!(family, vec![parent, twin_a, twin_b, youngest]);
}

pub async fn find_member_of_an_unknown_member_is_empty(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    assert!(
        store
            .find_member(insurer.id, &member("NOBODY"))
            .await
            .unwrap()
            .is_empty()
    );
}

// ---- cards

pub async fn card_round_trips_every_field(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = card(insurer.id, "M1", "2026-01-01", "2026-12-31");
    store.insert_cards(std::slice::from_ref(&c)).await.unwrap();
    assert_eq!(store.get_card(c.id).await.unwrap(), c);
}

pub async fn missing_card_is_not_found(store: S) {
    assert_eq!(store.get_card(new_id()).await, Err(StoreError::NotFound));
}

pub async fn card_batch_with_a_duplicate_id_inserts_nothing(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let existing = card(insurer.id, "M1", "2026-01-01", "2026-12-31");
    store
        .insert_cards(std::slice::from_ref(&existing))
        .await
        .unwrap();
    let fresh = card(insurer.id, "M2", "2026-01-01", "2026-12-31");
    let duplicate = app::store::CardRecord {
        member_number: member("M3"),
        ..existing.clone()
    };
    assert_eq!(
        store.insert_cards(&[fresh.clone(), duplicate]).await,
        Err(conflict("cards_pkey"))
    );
    assert_eq!(store.get_card(fresh.id).await, Err(StoreError::NotFound));
    assert_eq!(store.counts().await.unwrap().cards, 1);
}

pub async fn find_member_cards_returns_newest_validity_first_for_that_member_only(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let y2025 = card(mine.id, "M1", "2025-01-01", "2025-12-31");
    let y2027 = card(mine.id, "M1", "2027-01-01", "2027-12-31");
    let y2026_half = card(mine.id, "M1", "2026-01-01", "2026-06-30");
    let y2026 = card(mine.id, "M1", "2026-01-01", "2026-12-31");
    store
        .insert_cards(&[
            y2025.clone(),
            y2026_half.clone(),
            card(mine.id, "M2", "2028-01-01", "2028-12-31"),
            y2027.clone(),
            card(other.id, "M1", "2029-01-01", "2029-12-31"),
            y2026.clone(),
        ])
        .await
        .unwrap();
    let cards = store
        .find_member_cards(mine.id, &member("M1"))
        .await
        .unwrap();
    assert_eq!(cards, vec![y2027, y2026, y2026_half, y2025]);
    assert!(
        store
            .find_member_cards(mine.id, &member("M9"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn card_kid_and_code_hash_round_trip_byte_exactly(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let mut never = card(insurer.id, "M1", "2025-01-01", "2025-12-31");
    never.signing_kid = 0;
    never.code_hash = Vec::new();
    let full = card(insurer.id, "M1", "2026-01-01", "2026-12-31");
    store
        .insert_cards(&[never.clone(), full.clone()])
        .await
        .unwrap();
    assert_eq!(store.get_card(never.id).await.unwrap(), never);
    let back = store.get_card(full.id).await.unwrap();
    assert_eq!(back.signing_kid, 4_000_000_007);
    assert_eq!(back.code_hash, full.code_hash);
}

pub async fn list_insurer_cards_pages_by_id_within_the_insurer(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let mut cards: Vec<_> = (0..5)
        .map(|i| card(mine.id, &format!("M{i}"), "2026-01-01", "2026-12-31"))
        .collect();
    store.insert_cards(&cards).await.unwrap();
    store
        .insert_cards(&[card(other.id, "M1", "2026-01-01", "2026-12-31")])
        .await
        .unwrap();
    cards.sort_by_key(|c| c.id);
    let first = store.list_insurer_cards(mine.id, None, 2).await.unwrap();
    assert_eq!(first, cards[..2].to_vec());
    let next = store
        .list_insurer_cards(mine.id, Some(first[1].id), 10)
        .await
        .unwrap();
    assert_eq!(next, cards[2..].to_vec());
    assert!(
        store
            .list_insurer_cards(mine.id, Some(cards[4].id), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn update_card_codes_sets_kid_and_hash_all_or_nothing(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let a = card(mine.id, "M1", "2026-01-01", "2026-12-31");
    let b = card(mine.id, "M2", "2026-01-01", "2026-12-31");
    let foreign = card(other.id, "M3", "2026-01-01", "2026-12-31");
    store
        .insert_cards(&[a.clone(), b.clone(), foreign.clone()])
        .await
        .unwrap();
    let update = |id, kid, byte| app::store::CardCodeUpdate {
        id,
        signing_kid: kid,
        code_hash: vec![byte; 32],
    };
    // A card of another insurer in the batch: nothing changes.
    assert_eq!(
        store
            .update_card_codes(mine.id, &[update(a.id, 2, 1), update(foreign.id, 2, 2)])
            .await,
        Err(StoreError::NotFound)
    );
    assert_eq!(store.get_card(a.id).await.unwrap(), a);
    assert_eq!(store.get_card(foreign.id).await.unwrap(), foreign);
    // A missing card: nothing changes.
    assert_eq!(
        store
            .update_card_codes(mine.id, &[update(a.id, 2, 1), update(new_id(), 2, 2)])
            .await,
        Err(StoreError::NotFound)
    );
    assert_eq!(store.get_card(a.id).await.unwrap(), a);
    store
        .update_card_codes(mine.id, &[update(a.id, 2, 1), update(b.id, 3, 4)])
        .await
        .unwrap();
    let a2 = store.get_card(a.id).await.unwrap();
    assert_eq!((a2.signing_kid, a2.code_hash.clone()), (2, vec![1; 32]));
    assert_eq!(
        a2,
        app::store::CardRecord {
            signing_kid: 2,
            code_hash: vec![1; 32],
            ..a
        }
    );
    let b2 = store.get_card(b.id).await.unwrap();
    assert_eq!((b2.signing_kid, b2.code_hash), (3, vec![4; 32]));
    store.update_card_codes(mine.id, &[]).await.unwrap();
}

// ---- practices and professionals

pub async fn practice_round_trips_every_field(store: S) {
    let full = practice("750000001");
    let bare = app::store::PracticeRecord {
        finess: None,
        siret: None,
        ..practice("750000002")
    };
    for p in [&full, &bare] {
        store.insert_practice(p).await.unwrap();
        assert_eq!(&store.get_practice(p.id).await.unwrap(), p);
    }
}

pub async fn missing_practice_is_not_found(store: S) {
    assert_eq!(
        store.get_practice(new_id()).await,
        Err(StoreError::NotFound)
    );
}

pub async fn practice_is_found_by_its_am_number(store: S) {
    let p = given_practice(&*store, "750000001").await;
    given_practice(&*store, "750000002").await;
    assert_eq!(
        store
            .find_practice_by_am_number(&p.am_number)
            .await
            .unwrap(),
        Some(p)
    );
    assert_eq!(
        store
            .find_practice_by_am_number(&AmNumber::parse("750000003").unwrap())
            .await
            .unwrap(),
        None
    );
}

pub async fn duplicate_am_number_conflicts_on_practices_am_number(store: S) {
    let p = given_practice(&*store, "750000001").await;
    let again = practice("750000001");
    assert_eq!(
        store.insert_practice(&again).await,
        Err(conflict("practices_am_number"))
    );
    assert_eq!(
        store
            .find_practice_by_am_number(&p.am_number)
            .await
            .unwrap(),
        Some(p)
    );
}

pub async fn duplicate_practice_id_conflicts_on_practices_pkey(store: S) {
    let p = given_practice(&*store, "750000001").await;
    let again = app::store::PracticeRecord {
        id: p.id,
        ..practice("750000002")
    };
    assert_eq!(
        store.insert_practice(&again).await,
        Err(conflict("practices_pkey"))
    );
}

pub async fn professional_is_found_by_national_id(store: S) {
    let p = given_practice(&*store, "750000001").await;
    let by_rpps = professional(p.id, rpps("1000000001"), at(0));
    let by_adeli = professional(p.id, adeli("750012345"), at(1));
    store.insert_professional(&by_rpps).await.unwrap();
    store.insert_professional(&by_adeli).await.unwrap();
    assert_eq!(
        store
            .find_professional_by_national_id(&by_rpps.national_id)
            .await
            .unwrap(),
        Some(by_rpps)
    );
    assert_eq!(
        store
            .find_professional_by_national_id(&by_adeli.national_id)
            .await
            .unwrap(),
        Some(by_adeli)
    );
    assert_eq!(
        store
            .find_professional_by_national_id(&rpps("1000000002"))
            .await
            .unwrap(),
        None
    );
}

pub async fn duplicate_national_id_conflicts_on_professionals_national_id(store: S) {
    let p = given_practice(&*store, "750000001").await;
    let q = given_practice(&*store, "750000002").await;
    store
        .insert_professional(&professional(p.id, rpps("1000000001"), at(0)))
        .await
        .unwrap();
    let elsewhere = professional(q.id, rpps("1000000001"), at(1));
    assert_eq!(
        store.insert_professional(&elsewhere).await,
        Err(conflict("professionals_national_id"))
    );
    assert!(store.list_professionals(q.id).await.unwrap().is_empty());
}

pub async fn duplicate_professional_id_conflicts_on_professionals_pkey(store: S) {
    let p = given_practice(&*store, "750000001").await;
    let first = professional(p.id, rpps("1000000001"), at(0));
    store.insert_professional(&first).await.unwrap();
    let again = app::store::ProfessionalRecord {
        national_id: rpps("1000000002"),
        ..first
    };
    assert_eq!(
        store.insert_professional(&again).await,
        Err(conflict("professionals_pkey"))
    );
}

pub async fn list_professionals_keeps_to_the_practice_oldest_first(store: S) {
    let p = given_practice(&*store, "750000001").await;
    let q = given_practice(&*store, "750000002").await;
    let late = professional(p.id, rpps("1000000001"), at(50));
    let early = professional(p.id, adeli("750000001"), at(5));
    let elsewhere = professional(q.id, rpps("1000000003"), at(1));
    for pro in [&late, &early, &elsewhere] {
        store.insert_professional(pro).await.unwrap();
    }
    assert_eq!(
        store.list_professionals(p.id).await.unwrap(),
        vec![early, late]
    );
    assert_eq!(
        store.list_professionals(q.id).await.unwrap(),
        vec![elsewhere]
    );
    assert!(store.list_professionals(new_id()).await.unwrap().is_empty());
}

// ---- accounts

pub async fn account_round_trips_every_field(store: S) {
    let practice_org =
        given_organisation(&*store, OrganisationKind::Practice, "Optique", at(0)).await;
    let p = given_practice(&*store, "750000001").await;
    let pro = professional(p.id, rpps("1000000001"), at(0));
    store.insert_professional(&pro).await.unwrap();
    let with_person = account(practice_org.id, Role::Professional, Some(pro.id), at(3));
    let operator = given_organisation(&*store, OrganisationKind::Operator, "rempart", at(0)).await;
    let without = app::store::AccountRecord {
        status: AccountStatus::Suspended,
        ..account(operator.id, Role::Auditor, None, at(4))
    };
    for a in [&with_person, &without] {
        store.insert_account(a).await.unwrap();
        assert_eq!(&store.get_account(a.id).await.unwrap(), a);
    }
}

pub async fn missing_account_is_not_found(store: S) {
    assert_eq!(store.get_account(new_id()).await, Err(StoreError::NotFound));
}

pub async fn duplicate_account_id_conflicts_on_accounts_pkey(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Operator, "rempart", at(0)).await;
    let first = account(org.id, Role::OperatorAdmin, None, at(0));
    store.insert_account(&first).await.unwrap();
    let again = app::store::AccountRecord {
        role: Role::Auditor,
        ..first.clone()
    };
    assert_eq!(
        store.insert_account(&again).await,
        Err(conflict("accounts_pkey"))
    );
    assert_eq!(store.get_account(first.id).await.unwrap(), first);
}

pub async fn account_needs_its_organisation(store: S) {
    let orphan = account(new_id(), Role::OperatorAdmin, None, at(0));
    assert_eq!(
        store.insert_account(&orphan).await,
        Err(conflict("foreign_key"))
    );
    let org = given_organisation(&*store, OrganisationKind::Practice, "Optique", at(0)).await;
    let ghost_person = account(org.id, Role::Professional, Some(new_id()), at(0));
    assert_eq!(
        store.insert_account(&ghost_person).await,
        Err(conflict("foreign_key"))
    );
    assert_eq!(store.counts().await.unwrap().accounts, 0);
}

pub async fn list_accounts_keeps_to_the_organisation_oldest_first(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Operator, "rempart", at(0)).await;
    let other = given_organisation(&*store, OrganisationKind::Operator, "other", at(0)).await;
    let second = account(org.id, Role::OperatorAnalyst, None, at(20));
    let first = account(org.id, Role::OperatorAdmin, None, at(10));
    let foreign = account(other.id, Role::OperatorAdmin, None, at(0));
    for a in [&second, &first, &foreign] {
        store.insert_account(a).await.unwrap();
    }
    assert_eq!(
        store.list_accounts(org.id).await.unwrap(),
        vec![first, second]
    );
    assert_eq!(store.list_accounts(other.id).await.unwrap(), vec![foreign]);
}

pub async fn set_account_status_suspends_and_reactivates(store: S) {
    let org = given_organisation(&*store, OrganisationKind::Operator, "rempart", at(0)).await;
    let a = account(org.id, Role::OperatorAdmin, None, at(0));
    let bystander = account(org.id, Role::OperatorAdmin, None, at(1));
    store.insert_account(&a).await.unwrap();
    store.insert_account(&bystander).await.unwrap();

    store
        .set_account_status(a.id, AccountStatus::Suspended)
        .await
        .unwrap();
    let suspended = store.get_account(a.id).await.unwrap();
    assert_eq!(
        suspended,
        app::store::AccountRecord {
            status: AccountStatus::Suspended,
            ..a.clone()
        }
    );
    assert_eq!(
        store.get_account(bystander.id).await.unwrap().status,
        AccountStatus::Active
    );

    store
        .set_account_status(a.id, AccountStatus::Suspended)
        .await
        .unwrap();
    store
        .set_account_status(a.id, AccountStatus::Active)
        .await
        .unwrap();
    assert_eq!(store.get_account(a.id).await.unwrap(), a);
}

pub async fn set_account_status_of_a_missing_account_is_not_found(store: S) {
    assert_eq!(
        store
            .set_account_status(new_id(), AccountStatus::Suspended)
            .await,
        Err(StoreError::NotFound)
    );
}

// ---- values

pub async fn timestamps_come_back_as_the_same_instant_in_utc(store: S) {
    let paris = datetime!(2026-07-14 12:00:00.654321 +02:00);
    let org = app::store::OrganisationRecord {
        created_at: paris,
        ..organisation(OrganisationKind::Operator, "rempart", at(0))
    };
    store.insert_organisation(&org).await.unwrap();
    let back = store.get_organisation(org.id).await.unwrap().created_at;
    assert_eq!(back, paris);
    assert_eq!(back.offset(), UtcOffset::UTC);
    assert_eq!(back, datetime!(2026-07-14 10:00:00.654321 UTC));
}

pub async fn timestamps_are_truncated_to_the_microsecond(store: S) {
    let precise = datetime!(2026-07-14 10:00:00.123456789 UTC);
    let org = app::store::OrganisationRecord {
        created_at: precise,
        ..organisation(OrganisationKind::Operator, "rempart", at(0))
    };
    store.insert_organisation(&org).await.unwrap();
    let back = store.get_organisation(org.id).await.unwrap().created_at;
    assert_eq!(back, datetime!(2026-07-14 10:00:00.123456 UTC));
    assert_eq!(precise - back, Duration::nanoseconds(789));
}

pub async fn text_keeps_quotes_and_unicode(store: S) {
    let name = "Pharmacie de l'Étoile \"☆\" ; DROP TABLE organisations; -- \u{1F489}";
    let org = organisation(OrganisationKind::Practice, name, at(0));
    store.insert_organisation(&org).await.unwrap();
    assert_eq!(store.get_organisation(org.id).await.unwrap().name, name);
    assert_eq!(store.counts().await.unwrap(), StoreCounts::default());
}

// ---- key management: data keys (wrapped only), NIR blind index, erasure, re-sealing

fn data_key(
    key_id: u32,
    scope: Uuid,
    purpose: app::store::KeyPurpose,
    version: u32,
) -> app::store::DataKeyRow {
    app::store::DataKeyRow {
        key_id,
        scope,
        purpose,
        version,
        kek_version: 1,
        wrapped: (0..73u8).map(|b| b.wrapping_mul(7)).collect(),
        created_at: at(30),
        retired_at: None,
    }
}

pub async fn data_keys_round_trip_and_conflict_on_id_and_version(store: S) {
    use app::store::KeyPurpose;
    let scope = new_id();
    let a = data_key(u32::MAX, scope, KeyPurpose::Seal, 1);
    let b = app::store::DataKeyRow {
        retired_at: Some(at(40)),
        ..data_key(7, Uuid::nil(), KeyPurpose::CardSigning, 3)
    };
    store.insert_data_key(&a).await.unwrap();
    store.insert_data_key(&b).await.unwrap();
    let mut listed = store.list_data_keys().await.unwrap();
    listed.sort_by_key(|k| k.key_id);
    assert_eq!(listed, vec![b.clone(), a.clone()]);
    assert_eq!(
        store
            .insert_data_key(&data_key(u32::MAX, new_id(), KeyPurpose::Seal, 1))
            .await,
        Err(conflict("data_keys_pkey"))
    );
    assert_eq!(
        store
            .insert_data_key(&data_key(8, scope, KeyPurpose::Seal, 1))
            .await,
        Err(conflict("data_keys_version"))
    );
    // Same version, other purpose: fine.
    store
        .insert_data_key(&data_key(9, scope, KeyPurpose::BlindIndex, 1))
        .await
        .unwrap();
    // Every purpose is storable (the schema's CHECK knows them all) and reads back as itself.
    let platform = new_id();
    for (i, purpose) in KeyPurpose::ALL.into_iter().enumerate() {
        store
            .insert_data_key(&data_key(100 + i as u32, platform, purpose, 1))
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", purpose.code()));
    }
    let mut purposes: Vec<_> = store
        .list_data_keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.scope == platform)
        .map(|k| k.purpose)
        .collect();
    purposes.sort_by_key(|p| p.code());
    let mut all = KeyPurpose::ALL.to_vec();
    all.sort_by_key(|p| p.code());
    assert_eq!(purposes, all);
}

pub async fn rewrap_data_key_is_compare_and_set(store: S) {
    use app::store::KeyPurpose;
    let k = data_key(5, new_id(), KeyPurpose::Seal, 1);
    store.insert_data_key(&k).await.unwrap();
    assert!(!store.rewrap_data_key(5, 2, 3, &[1; 40]).await.unwrap());
    assert!(store.rewrap_data_key(5, 1, 2, &[2; 40]).await.unwrap());
    assert!(!store.rewrap_data_key(5, 1, 2, &[3; 40]).await.unwrap());
    assert!(!store.rewrap_data_key(6, 1, 2, &[3; 40]).await.unwrap());
    let got = store.list_data_keys().await.unwrap();
    assert_eq!(got[0].kek_version, 2);
    assert_eq!(got[0].wrapped, vec![2; 40]);
}

pub async fn retire_and_delete_data_keys(store: S) {
    use app::store::KeyPurpose;
    let scope = new_id();
    let other = new_id();
    store
        .insert_data_key(&data_key(1, scope, KeyPurpose::Seal, 1))
        .await
        .unwrap();
    store
        .insert_data_key(&data_key(2, scope, KeyPurpose::Seal, 2))
        .await
        .unwrap();
    store
        .insert_data_key(&data_key(3, other, KeyPurpose::Seal, 1))
        .await
        .unwrap();
    store.retire_data_key(1, at(50)).await.unwrap();
    // Retiring again keeps the first date.
    store.retire_data_key(1, at(60)).await.unwrap();
    assert_eq!(
        store.retire_data_key(99, at(60)).await,
        Err(StoreError::NotFound)
    );
    let keys = store.list_data_keys().await.unwrap();
    let one = keys.iter().find(|k| k.key_id == 1).unwrap();
    assert_eq!(one.retired_at, Some(at(50)));
    assert_eq!(store.delete_data_keys(scope).await.unwrap(), 2);
    assert_eq!(store.delete_data_keys(scope).await.unwrap(), 0);
    let left: Vec<u32> = store
        .list_data_keys()
        .await
        .unwrap()
        .iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(left, vec![3]);
}

pub async fn beneficiaries_are_found_by_nir_index_within_the_insurer(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let c2 = given_contract(&*store, other.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let a = BeneficiaryRecord {
        nir_index: 1_048_575,
        ..beneficiary(mine.id, c.id, "M1", 1)
    };
    let b = BeneficiaryRecord {
        nir_index: 1_048_575,
        ..beneficiary(mine.id, c.id, "M2", 1)
    };
    let x = BeneficiaryRecord {
        nir_index: 7,
        ..beneficiary(mine.id, c.id, "M3", 1)
    };
    let y = BeneficiaryRecord {
        nir_index: 1_048_575,
        ..beneficiary(other.id, c2.id, "M1", 1)
    };
    store
        .insert_beneficiaries(&[a.clone(), b.clone(), x.clone(), y.clone()])
        .await
        .unwrap();
    let mut want = vec![a, b];
    want.sort_by_key(|r| r.id);
    assert_eq!(
        store
            .find_beneficiaries_by_nir_index(mine.id, 1_048_575)
            .await
            .unwrap(),
        want
    );
    assert_eq!(
        store
            .find_beneficiaries_by_nir_index(mine.id, 7)
            .await
            .unwrap(),
        vec![x]
    );
    assert!(
        store
            .find_beneficiaries_by_nir_index(mine.id, 8)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn delete_beneficiary_erases_one_row_of_its_insurer(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let a = beneficiary(mine.id, c.id, "M1", 1);
    let b = beneficiary(mine.id, c.id, "M1", 2);
    store
        .insert_beneficiaries(&[a.clone(), b.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.delete_beneficiary(other.id, a.id).await,
        Err(StoreError::NotFound)
    );
    store.delete_beneficiary(mine.id, a.id).await.unwrap();
    assert_eq!(
        store.get_beneficiary(mine.id, a.id).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.delete_beneficiary(mine.id, a.id).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.find_member(mine.id, &member("M1")).await.unwrap(),
        vec![b]
    );
}

pub async fn beneficiary_pages_walk_an_insurer_by_id_and_seals_update(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let c2 = given_contract(&*store, other.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let mut rows: Vec<_> = (0..5)
        .map(|i| beneficiary(mine.id, c.id, &format!("M{i}"), 1))
        .collect();
    store.insert_beneficiaries(&rows).await.unwrap();
    store
        .insert_beneficiaries(&[beneficiary(other.id, c2.id, "M9", 1)])
        .await
        .unwrap();
    rows.sort_by_key(|r| r.id);
    let first = store
        .list_beneficiaries_page(mine.id, None, 2)
        .await
        .unwrap();
    assert_eq!(first, rows[..2].to_vec());
    let rest = store
        .list_beneficiaries_page(mine.id, Some(rows[1].id), 10)
        .await
        .unwrap();
    assert_eq!(rest, rows[2..].to_vec());
    assert!(
        store
            .list_beneficiaries_page(mine.id, Some(rows[4].id), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let changed = BeneficiaryRecord {
        nir_sealed: sealed("nir2"),
        last_name_sealed: sealed("ln2"),
        first_name_sealed: sealed("fn2"),
        birth_date_sealed: sealed("bd2"),
        marital_status_sealed: sealed("ms2"),
        nir_index: 3,
        ..rows[0].clone()
    };
    store
        .update_beneficiary_seals(std::slice::from_ref(&changed))
        .await
        .unwrap();
    assert_eq!(
        store.get_beneficiary(mine.id, changed.id).await.unwrap(),
        changed
    );
    // All or nothing: a missing row refuses the batch.
    let missing = BeneficiaryRecord {
        id: new_id(),
        ..rows[1].clone()
    };
    let touched = BeneficiaryRecord {
        nir_sealed: sealed("nir3"),
        ..rows[1].clone()
    };
    assert_eq!(
        store.update_beneficiary_seals(&[touched, missing]).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.get_beneficiary(mine.id, rows[1].id).await.unwrap(),
        rows[1]
    );
}

/// Re-sealing more rows than one statement carries (a backend may split them): every row or
/// none, whichever statement meets the missing row.
pub async fn update_beneficiary_seals_of_many_rows_is_all_or_nothing(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let rows: Vec<BeneficiaryRecord> = (0..1_100)
        .map(|i| beneficiary(insurer.id, c.id, &format!("M{i}"), 1))
        .collect();
    store.insert_beneficiaries(&rows).await.unwrap();
    let resealed: Vec<BeneficiaryRecord> = rows
        .iter()
        .map(|r| BeneficiaryRecord {
            nir_sealed: sealed("nir-new"),
            last_name_sealed: sealed("ln-new"),
            first_name_sealed: sealed("fn-new"),
            birth_date_sealed: sealed("bd-new"),
            marital_status_sealed: sealed("ms-new"),
            nir_index: 7,
            ..r.clone()
        })
        .collect();
    let mut with_missing = resealed.clone();
    with_missing.push(beneficiary(insurer.id, c.id, "MABSENT", 1));
    assert_eq!(
        store.update_beneficiary_seals(&with_missing).await,
        Err(StoreError::NotFound)
    );
    for r in [&rows[0], &rows[600], &rows[1_099]] {
        assert_eq!(store.get_beneficiary(insurer.id, r.id).await.unwrap(), *r);
    }
    store.update_beneficiary_seals(&resealed).await.unwrap();
    for r in [&resealed[0], &resealed[600], &resealed[1_099]] {
        assert_eq!(store.get_beneficiary(insurer.id, r.id).await.unwrap(), *r);
    }
    assert_eq!(
        store
            .find_beneficiaries_by_nir_index(insurer.id, 7)
            .await
            .unwrap()
            .len(),
        1_100
    );
}

pub async fn practice_pages_and_iban_update(store: S) {
    let mut ps = [
        given_practice(&*store, "750000011").await,
        given_practice(&*store, "750000012").await,
        given_practice(&*store, "750000013").await,
    ];
    ps.sort_by_key(|p| p.id);
    assert_eq!(
        store.list_practices_page(None, 2).await.unwrap(),
        ps[..2].to_vec()
    );
    assert_eq!(
        store.list_practices_page(Some(ps[1].id), 2).await.unwrap(),
        ps[2..].to_vec()
    );
    store
        .update_practice_iban(ps[0].id, &[9, 9, 9])
        .await
        .unwrap();
    assert_eq!(
        store.get_practice(ps[0].id).await.unwrap().iban_sealed,
        vec![9, 9, 9]
    );
    assert_eq!(
        store.update_practice_iban(new_id(), &[1]).await,
        Err(StoreError::NotFound)
    );
}

pub async fn sealed_key_counts_read_the_key_id_of_sealed_headers(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let header = |key: u32| {
        let mut v = vec![1u8];
        v.extend_from_slice(&key.to_be_bytes());
        v.extend_from_slice(&[0xAB; 40]);
        v
    };
    let rows: Vec<_> = [7u32, 7, 0xFFFF_FFFE]
        .iter()
        .enumerate()
        .map(|(i, k)| BeneficiaryRecord {
            nir_sealed: header(*k),
            ..beneficiary(insurer.id, c.id, &format!("M{i}"), 1)
        })
        .collect();
    store.insert_beneficiaries(&rows).await.unwrap();
    let p = given_practice(&*store, "750000011").await;
    store.update_practice_iban(p.id, &header(5)).await.unwrap();
    let mut counts = store.sealed_key_counts().await.unwrap();
    counts.sort_by_key(|c| (c.table, c.key_id));
    let got: Vec<_> = counts.iter().map(|c| (c.table, c.key_id, c.rows)).collect();
    assert_eq!(
        got,
        vec![
            ("beneficiaries", 7, 2),
            ("beneficiaries", 0xFFFF_FFFE, 1),
            ("practices", 5, 1)
        ]
    );
}
