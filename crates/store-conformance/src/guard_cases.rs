//! Conformance cases of the guard's rows (`GuardStore`): kill switches, suspensions, alerts,
//! decoy cards, practices' opening hours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::guard::{
    AlertRecord, Channel, DecoyCardRecord, KillSwitchRecord, Scope, Subject, SuspensionRecord,
};
use app::store::{Store, StoreError};
use std::sync::Arc;
use time::Duration;
use uuid::Uuid;

type S = Arc<dyn Store>;

fn switch(scope: Scope, engaged: i64) -> KillSwitchRecord {
    KillSwitchRecord {
        id: new_id(),
        scope,
        reason: Some("«scraping» d'un compte".into()),
        engaged_by: Some(new_id()),
        engaged_at: at(engaged),
        released_by: None,
        released_at: None,
    }
}

fn suspension(subject: Subject, id: Uuid, org: Uuid, when: i64) -> SuspensionRecord {
    SuspensionRecord {
        id: new_id(),
        subject,
        subject_id: id,
        organisation_id: org,
        signal: "non_match".into(),
        reason: "11 non-matching lookups within an hour".into(),
        suspended_at: at(when),
        lifted_at: None,
        lifted_by: None,
    }
}

pub async fn kill_switches_engage_once_per_scope_release_and_answer_at_a_time(store: S) {
    let org = new_id();
    let scopes = [
        Scope::Global,
        Scope::Insurer("123456789".into()),
        Scope::Domain("OPTI".into()),
        Scope::Channel(Channel::Machine),
        Scope::Profession("optician".into()),
        Scope::Organisation(org),
        Scope::Account(new_id()),
    ];
    let mut engaged = Vec::new();
    for (i, scope) in scopes.iter().enumerate() {
        let s = switch(scope.clone(), i as i64);
        store.insert_kill_switch(&s).await.unwrap();
        engaged.push(s);
    }
    assert_eq!(store.list_active_kill_switches().await.unwrap(), engaged);
    // A second engagement of an open scope conflicts; another scope does not.
    assert_eq!(
        store
            .insert_kill_switch(&switch(Scope::Domain("OPTI".into()), 20))
            .await
            .unwrap_err(),
        StoreError::Conflict {
            constraint: "kill_switches_active".into()
        }
    );
    // Release the domain switch at t=100.
    let by = new_id();
    let released = store
        .release_kill_switch(&Scope::Domain("OPTI".into()), Some(by), at(100))
        .await
        .unwrap();
    assert_eq!(released.id, engaged[2].id);
    assert_eq!(released.released_at, Some(at(100)));
    assert_eq!(released.released_by, Some(by));
    assert_eq!(
        store
            .release_kill_switch(&Scope::Domain("OPTI".into()), None, at(101))
            .await
            .unwrap_err(),
        StoreError::NotFound
    );
    let active = store.list_active_kill_switches().await.unwrap();
    assert_eq!(active.len(), scopes.len() - 1);
    assert!(
        !active
            .iter()
            .any(|s| s.scope == Scope::Domain("OPTI".into()))
    );
    // It can be engaged again after release.
    let again = switch(Scope::Domain("OPTI".into()), 200);
    store.insert_kill_switch(&again).await.unwrap();
    // In force at a time: engaged at or before, not released by then.
    let at_50: Vec<Scope> = store
        .find_kill_switches_at(at(50))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.scope)
        .collect();
    assert!(at_50.contains(&Scope::Domain("OPTI".into())));
    let at_150: Vec<Scope> = store
        .find_kill_switches_at(at(150))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.scope)
        .collect();
    assert!(!at_150.contains(&Scope::Domain("OPTI".into())));
    assert!(at_150.contains(&Scope::Organisation(org)));
    let before: Vec<KillSwitchRecord> = store.find_kill_switches_at(at(-1)).await.unwrap();
    assert!(before.is_empty());
    // Released exactly at 100: not in force at 100.
    let at_100 = store.find_kill_switches_at(at(100)).await.unwrap();
    assert!(!at_100.iter().any(|s| s.id == engaged[2].id));
    // Over a span: in force at some time of [from, to).
    let ids = |v: Vec<KillSwitchRecord>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let span = ids(store
        .find_kill_switches_overlapping(at(90), at(150))
        .await
        .unwrap());
    assert!(
        span.contains(&engaged[2].id),
        "released at 100, in force at 90"
    );
    assert!(span.contains(&engaged[0].id), "never released");
    assert!(!span.contains(&again.id), "engaged at 200, after the span");
    let later = ids(store
        .find_kill_switches_overlapping(at(150), at(250))
        .await
        .unwrap());
    assert!(later.contains(&again.id));
    assert!(!later.contains(&engaged[2].id));
    // The bounds: engaged exactly at `to` is out; released exactly at `from` is out.
    let until_200 = ids(store
        .find_kill_switches_overlapping(at(120), at(200))
        .await
        .unwrap());
    assert!(!until_200.contains(&again.id));
    let from_100 = ids(store
        .find_kill_switches_overlapping(at(100), at(110))
        .await
        .unwrap());
    assert!(!from_100.contains(&engaged[2].id));
}

pub async fn suspensions_are_open_once_lifted_and_counted_per_organisation(store: S) {
    let org = new_id();
    let other_org = new_id();
    let (a, b, c) = (new_id(), new_id(), new_id());
    let sa = suspension(Subject::Account, a, org, 0);
    store.insert_suspension(&sa).await.unwrap();
    assert_eq!(
        store
            .insert_suspension(&suspension(Subject::Account, a, org, 5))
            .await
            .unwrap_err(),
        StoreError::Conflict {
            constraint: "suspensions_active".into()
        }
    );
    store
        .insert_suspension(&suspension(Subject::Account, b, org, 3600))
        .await
        .unwrap();
    store
        .insert_suspension(&suspension(Subject::Account, c, other_org, 3600))
        .await
        .unwrap();
    let so = suspension(Subject::Organisation, org, org, 4000);
    store.insert_suspension(&so).await.unwrap();
    assert_eq!(store.list_active_suspensions().await.unwrap().len(), 4);
    assert_eq!(
        store
            .count_account_suspensions_since(org, at(0))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_account_suspensions_since(org, at(1))
            .await
            .unwrap(),
        1
    );
    // Lift: closes the open one, and lifted ones still count.
    let by = new_id();
    let lifted = store
        .lift_suspension(Subject::Account, a, Some(by), at(7200))
        .await
        .unwrap();
    assert_eq!(lifted.id, sa.id);
    assert_eq!(lifted.lifted_at, Some(at(7200)));
    assert_eq!(lifted.lifted_by, Some(by));
    assert_eq!(lifted.reason, sa.reason);
    assert_eq!(
        store
            .lift_suspension(Subject::Account, a, None, at(7201))
            .await
            .unwrap_err(),
        StoreError::NotFound
    );
    assert_eq!(
        store
            .count_account_suspensions_since(org, at(0))
            .await
            .unwrap(),
        2
    );
    let active = store.list_active_suspensions().await.unwrap();
    assert_eq!(active.len(), 3);
    assert!(active.iter().any(|s| s == &so));
    // Suspended again after lifting.
    store
        .insert_suspension(&suspension(Subject::Account, a, org, 8000))
        .await
        .unwrap();
}

pub async fn alerts_round_trip_newest_first_within_the_limit(store: S) {
    let mut all = Vec::new();
    for i in 0..5 {
        let a = AlertRecord {
            id: new_id(),
            signal: "distinct_10min".into(),
            severity: if i == 4 { "critical" } else { "warning" }.into(),
            account_id: (i % 2 == 0).then(new_id),
            organisation_id: Some(new_id()),
            action: "step_up_required".into(),
            detail: format!(
                "{} distinct beneficiaries in 10 minutes (threshold 10)",
                11 + i
            ),
            raised_at: at(i * 60) + Duration::microseconds(1),
        };
        store.insert_alert(&a).await.unwrap();
        all.push(a);
    }
    let listed = store.list_alerts(3).await.unwrap();
    all.reverse();
    assert_eq!(listed, all[..3].to_vec());
    assert_eq!(store.list_alerts(100).await.unwrap().len(), 5);
}

pub async fn decoy_cards_round_trip_all_or_nothing_and_need_their_insurer(store: S) {
    let insurer = given_insurer(store.as_ref(), "11111111").await;
    let decoy = |m: &str| DecoyCardRecord {
        id: new_id(),
        insurer_id: insurer.id,
        amc: insurer.amc.as_str().to_string(),
        member_number: m.into(),
        code_hash: vec![7; 32],
        signing_kid: 4_000_000_001,
        valid_from: day("2026-01-15"),
        valid_to: day("2027-01-15"),
        created_at: at(0),
    };
    let d1 = decoy("9000000001");
    let d2 = decoy("9000000002");
    store
        .insert_decoy_cards(&[d1.clone(), d2.clone()])
        .await
        .unwrap();
    // A batch repeating an id inserts nothing.
    let d3 = decoy("9000000003");
    assert!(matches!(
        store.insert_decoy_cards(&[d3.clone(), d1.clone()]).await,
        Err(StoreError::Conflict { .. })
    ));
    let listed = store.list_decoy_cards().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&d1) && listed.contains(&d2));
    let mut orphan = decoy("9000000004");
    orphan.insurer_id = new_id();
    assert_eq!(
        store.insert_decoy_cards(&[orphan]).await.unwrap_err(),
        StoreError::Conflict {
            constraint: "foreign_key".into()
        }
    );
}

pub async fn practice_profile_carries_profession_and_opening_hours(store: S) {
    let practice = given_practice(store.as_ref(), "750000001").await;
    let profile = store
        .find_practice_profile(practice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.profession, practice.profession.code());
    assert_eq!(profile.opening_hours, None);
    store
        .set_practice_opening_hours(practice.id, Some("mon-fri 08:30-19:00; sat 09:00-12:00"))
        .await
        .unwrap();
    assert_eq!(
        store
            .find_practice_profile(practice.id)
            .await
            .unwrap()
            .unwrap()
            .opening_hours
            .as_deref(),
        Some("mon-fri 08:30-19:00; sat 09:00-12:00")
    );
    store
        .set_practice_opening_hours(practice.id, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .find_practice_profile(practice.id)
            .await
            .unwrap()
            .unwrap()
            .opening_hours,
        None
    );
    assert_eq!(store.find_practice_profile(new_id()).await.unwrap(), None);
    assert_eq!(
        store
            .set_practice_opening_hours(new_id(), Some("mon 08:00-09:00"))
            .await
            .unwrap_err(),
        StoreError::NotFound
    );
}
