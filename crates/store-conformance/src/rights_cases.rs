//! Conformance cases of the rights rows (`RightsStore`): engagements and "not me" reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::rights::{EngagementRecord, NotMeReportRecord};
use app::store::{Store, StoreError};
use domain::money::Rate;
use domain::rights::{CareDomain, Regime};
use std::sync::Arc;
use uuid::Uuid;

type S = Arc<dyn Store>;

pub(crate) fn engagement(
    insurer_id: Uuid,
    organisation_id: Uuid,
    number: &str,
    regime: Regime,
) -> EngagementRecord {
    EngagementRecord {
        id: new_id(),
        number: number.to_string(),
        insurer_id,
        beneficiary_id: new_id(),
        card_id: new_id(),
        organisation_id,
        actor_id: new_id(),
        domain: CareDomain::Opti,
        regime,
        care_date: day("2026-03-02"),
        valid_until: day("2026-05-31"),
        request_id: new_id(),
        created_at: at(5),
    }
}

fn report(insurer_id: Uuid, entry: u64, seconds: i64) -> NotMeReportRecord {
    NotMeReportRecord {
        id: new_id(),
        insurer_id,
        entry,
        accessor_organisation_id: new_id(),
        reported_by: new_id(),
        created_at: at(seconds),
    }
}

pub async fn engagement_round_trips_and_is_found_only_by_its_organisation(store: S) {
    let insurer = given_insurer(store.as_ref(), "880000011").await;
    let practice = given_practice(store.as_ref(), "751234567").await;
    let other = given_practice(store.as_ref(), "751234568").await;
    let pec = engagement(
        insurer.id,
        practice.id,
        "E0123456789ABCDEFGHJK",
        Regime::PriorApproval,
    );
    let mut rate = engagement(
        insurer.id,
        practice.id,
        "EZZZZZZZZZZZZZZZZZZZZ",
        Regime::Rate(Rate::from_basis_points(12_550)),
    );
    rate.domain = CareDomain::Phar;
    store.insert_engagement(&pec).await.unwrap();
    store.insert_engagement(&rate).await.unwrap();
    assert_eq!(
        store
            .find_engagement(practice.id, &pec.number)
            .await
            .unwrap(),
        Some(pec.clone())
    );
    assert_eq!(
        store
            .find_engagement(practice.id, &rate.number)
            .await
            .unwrap(),
        Some(rate)
    );
    // Another organisation, an unknown number: the same nothing.
    assert_eq!(
        store.find_engagement(other.id, &pec.number).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .find_engagement(practice.id, "E0000000000000000000")
            .await
            .unwrap(),
        None
    );
}

pub async fn duplicate_engagement_number_conflicts_on_engagements_number(store: S) {
    let insurer = given_insurer(store.as_ref(), "880000011").await;
    let practice = given_practice(store.as_ref(), "751234567").await;
    let first = engagement(
        insurer.id,
        practice.id,
        "E0123456789ABCDEFGHJK",
        Regime::PriorApproval,
    );
    store.insert_engagement(&first).await.unwrap();
    let again = engagement(
        insurer.id,
        practice.id,
        "E0123456789ABCDEFGHJK",
        Regime::PriorApproval,
    );
    assert_eq!(
        store.insert_engagement(&again).await,
        Err(StoreError::Conflict {
            constraint: "engagements_number".into()
        })
    );
    let mut same_id = engagement(
        insurer.id,
        practice.id,
        "E1111111111111111111",
        Regime::PriorApproval,
    );
    same_id.id = first.id;
    assert_eq!(
        store.insert_engagement(&same_id).await,
        Err(StoreError::Conflict {
            constraint: "engagements_pkey".into()
        })
    );
}

pub async fn engagement_needs_its_insurer_and_organisation(store: S) {
    let insurer = given_insurer(store.as_ref(), "880000011").await;
    let practice = given_practice(store.as_ref(), "751234567").await;
    let orphan = engagement(
        insurer.id,
        new_id(),
        "E0123456789ABCDEFGHJK",
        Regime::PriorApproval,
    );
    assert_eq!(
        store.insert_engagement(&orphan).await,
        Err(StoreError::Conflict {
            constraint: "foreign_key".into()
        })
    );
    let orphan = engagement(
        new_id(),
        practice.id,
        "E0123456789ABCDEFGHJK",
        Regime::PriorApproval,
    );
    assert_eq!(
        store.insert_engagement(&orphan).await,
        Err(StoreError::Conflict {
            constraint: "foreign_key".into()
        })
    );
}

pub async fn not_me_reports_are_one_per_entry_and_keep_to_the_insurer(store: S) {
    let insurer = given_insurer(store.as_ref(), "880000011").await;
    let other = given_insurer(store.as_ref(), "880000029").await;
    let first = report(insurer.id, 7, 1);
    let second = report(insurer.id, 1 << 40, 2);
    let elsewhere = report(other.id, 9, 3);
    store.insert_not_me_report(&first).await.unwrap();
    store.insert_not_me_report(&second).await.unwrap();
    store.insert_not_me_report(&elsewhere).await.unwrap();
    assert_eq!(
        store.find_not_me_report(insurer.id, 7).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.find_not_me_report(other.id, 7).await.unwrap(), None);
    assert_eq!(store.find_not_me_report(insurer.id, 8).await.unwrap(), None);
    assert_eq!(
        store.insert_not_me_report(&report(insurer.id, 7, 4)).await,
        Err(StoreError::Conflict {
            constraint: "not_me_reports_entry".into()
        })
    );
    assert_eq!(
        store.list_not_me_reports(insurer.id, 10).await.unwrap(),
        vec![second.clone(), first]
    );
    assert_eq!(
        store.list_not_me_reports(insurer.id, 1).await.unwrap(),
        vec![second]
    );
    assert_eq!(
        store.list_not_me_reports(other.id, 10).await.unwrap(),
        vec![elsewhere]
    );
}
