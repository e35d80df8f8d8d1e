//! Conformance cases of the beneficiary-import methods (issue 3): import runs, families by
//! member number, the all-or-nothing batch, several batches in one transaction, and the rows
//! a full import did not see.
// A tests-only crate: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::store::{
    BeneficiaryBatch, BeneficiaryRecord, ImportRecord, ImportState, ImportedBeneficiary, Store,
    StoreError,
};
use std::sync::Arc;
use time::macros::date;
use uuid::Uuid;

type S = Arc<dyn Store>;

fn import_run(insurer_id: Uuid) -> ImportRecord {
    ImportRecord {
        id: new_id(),
        insurer_id,
        digest: Some("ab".repeat(32)),
        idempotency_key: Some("key-\u{e9}-1".to_string()),
        full: true,
        file_date: date!(2026 - 03 - 01),
        state: ImportState::Running,
        read: 0,
        inserted: 0,
        updated: 0,
        unchanged: 0,
        closed: 0,
        rejected: 0,
        started_at: at(100),
        finished_at: None,
    }
}

/// Inserts an import run for `insurer_id` and returns its id.
async fn given_import(store: &dyn Store, insurer_id: Uuid) -> Uuid {
    let run = import_run(insurer_id);
    store.insert_import(&run).await.unwrap();
    run.id
}

fn ids(rows: &[ImportedBeneficiary]) -> Vec<Uuid> {
    rows.iter().map(|r| r.record.id).collect()
}

pub async fn import_round_trips_and_updates_its_state_and_counts(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let run = import_run(insurer.id);
    store.insert_import(&run).await.unwrap();
    assert_eq!(store.get_import(insurer.id, run.id).await.unwrap(), run);

    let bare = ImportRecord {
        digest: None,
        idempotency_key: None,
        full: false,
        ..import_run(insurer.id)
    };
    store.insert_import(&bare).await.unwrap();
    assert_eq!(store.get_import(insurer.id, bare.id).await.unwrap(), bare);

    let done = ImportRecord {
        state: ImportState::Done,
        read: 4_000_000_001,
        inserted: 1,
        updated: 2,
        unchanged: 3,
        closed: 4,
        rejected: 5,
        finished_at: Some(at(200)),
        ..run.clone()
    };
    store.update_import(&done).await.unwrap();
    assert_eq!(store.get_import(insurer.id, run.id).await.unwrap(), done);
    let failed = ImportRecord {
        state: ImportState::Failed,
        ..done.clone()
    };
    store.update_import(&failed).await.unwrap();
    assert_eq!(
        store.get_import(insurer.id, run.id).await.unwrap().state,
        ImportState::Failed
    );
    // The other run is untouched.
    assert_eq!(store.get_import(insurer.id, bare.id).await.unwrap(), bare);
}

pub async fn missing_import_is_not_found_and_keeps_to_its_insurer(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let run = import_run(mine.id);
    store.insert_import(&run).await.unwrap();
    assert_eq!(
        store.get_import(mine.id, new_id()).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.get_import(other.id, run.id).await,
        Err(StoreError::NotFound)
    );
    let absent = import_run(mine.id);
    assert_eq!(
        store.update_import(&absent).await,
        Err(StoreError::NotFound)
    );
    let foreign = ImportRecord {
        insurer_id: other.id,
        state: ImportState::Done,
        ..run.clone()
    };
    assert_eq!(
        store.update_import(&foreign).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(store.get_import(mine.id, run.id).await.unwrap(), run);
    assert!(matches!(
        store.insert_import(&run).await,
        Err(StoreError::Conflict { .. })
    ));
}

pub async fn find_beneficiaries_of_members_returns_exactly_those_families(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let c2 = given_contract(&*store, other.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let a2 = beneficiary(mine.id, c.id, "A1", 2);
    let a1 = beneficiary(mine.id, c.id, "A1", 1);
    let b1 = beneficiary(mine.id, c.id, "B1", 1);
    let not_asked = beneficiary(mine.id, c.id, "C1", 1);
    let theirs = beneficiary(other.id, c2.id, "A1", 1);
    store
        .insert_beneficiaries(&[a2.clone(), a1.clone(), b1.clone(), not_asked])
        .await
        .unwrap();
    store.insert_beneficiaries(&[theirs]).await.unwrap();

    let found = store
        .find_beneficiaries_of_members(mine.id, &[member("B1"), member("A1"), member("Z9")])
        .await
        .unwrap();
    let mut got = ids(&found);
    got.sort();
    let mut want = vec![a1.id, a2.id, b1.id];
    want.sort();
    assert_eq!(got, want);
    for f in &found {
        assert_eq!(f.last_import_id, None);
        let expected = [&a1, &a2, &b1]
            .into_iter()
            .find(|b| b.id == f.record.id)
            .unwrap();
        assert_eq!(&f.record, expected);
    }
    assert!(
        store
            .find_beneficiaries_of_members(mine.id, &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .find_beneficiaries_of_members(mine.id, &[member("Z9")])
            .await
            .unwrap()
            .is_empty()
    );
    let theirs_found = store
        .find_beneficiaries_of_members(other.id, &[member("A1"), member("B1")])
        .await
        .unwrap();
    assert_eq!(theirs_found.len(), 1);
    assert_eq!(theirs_found[0].record.insurer_id, other.id);
}

pub async fn apply_beneficiary_batch_inserts_updates_marks_and_issues_cards(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let c2 = given_contract(&*store, insurer.id, "CONFORT", 1, "2026-01-01", None).await;
    let kept = beneficiary(insurer.id, c.id, "M1", 1);
    let changed = beneficiary(insurer.id, c.id, "M1", 2);
    let untouched = beneficiary(insurer.id, c.id, "M2", 1);
    store
        .insert_beneficiaries(&[kept.clone(), changed.clone(), untouched.clone()])
        .await
        .unwrap();
    let import_id = given_import(&*store, insurer.id).await;

    let new = beneficiary(insurer.id, c.id, "M1", 3);
    let update = BeneficiaryRecord {
        nir_sealed: sealed("nir-new"),
        last_name_sealed: sealed("ln-new"),
        first_name_sealed: sealed("fn-new"),
        birth_date_sealed: sealed("bd-new"),
        marital_status_sealed: sealed("ms-new"),
        quality: domain::beneficiaries::Quality::Conjoint,
        contract_id: c2.id,
        valid_from: date!(2026 - 02 - 01),
        valid_to: None,
        updated_at: at(500),
        ..changed.clone()
    };
    let card = card(insurer.id, "M1", "2026-01-01", "2026-12-31");
    let batch = BeneficiaryBatch {
        insurer_id: insurer.id,
        import_id,
        inserts: vec![new.clone()],
        updates: vec![update.clone()],
        seen: vec![kept.id],
        cards: vec![card.clone()],
    };
    store.apply_beneficiary_batch(&batch).await.unwrap();

    assert_eq!(
        store.get_beneficiary(insurer.id, new.id).await.unwrap(),
        new
    );
    assert_eq!(
        store.get_beneficiary(insurer.id, changed.id).await.unwrap(),
        update
    );
    assert_eq!(
        store.get_beneficiary(insurer.id, kept.id).await.unwrap(),
        kept
    );
    assert_eq!(store.get_card(card.id).await.unwrap(), card);
    let family = store
        .find_beneficiaries_of_members(insurer.id, &[member("M1"), member("M2")])
        .await
        .unwrap();
    assert_eq!(family.len(), 4);
    for f in family {
        let want = if f.record.id == untouched.id {
            None
        } else {
            Some(import_id)
        };
        assert_eq!(f.last_import_id, want, "marker of a row");
    }
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.beneficiaries, counts.cards), (4, 1));
}

pub async fn apply_beneficiary_batch_update_keeps_identity_columns(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let stored = beneficiary(insurer.id, c.id, "M1", 1);
    store
        .insert_beneficiaries(std::slice::from_ref(&stored))
        .await
        .unwrap();
    let import_id = given_import(&*store, insurer.id).await;
    // An update naming other immutable columns rewrites only the mutable ones.
    let update = BeneficiaryRecord {
        member_number: member("OTHER"),
        birth_rank: rank(7),
        nir_index: 42,
        created_at: at(999),
        valid_to: Some(date!(2026 - 03 - 01)),
        updated_at: at(600),
        ..stored.clone()
    };
    store
        .apply_beneficiary_batch(&BeneficiaryBatch {
            insurer_id: insurer.id,
            import_id,
            updates: vec![update],
            ..BeneficiaryBatch::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.get_beneficiary(insurer.id, stored.id).await.unwrap(),
        BeneficiaryRecord {
            valid_to: Some(date!(2026 - 03 - 01)),
            updated_at: at(600),
            ..stored
        }
    );
}

/// The state that a refused batch must leave alone.
async fn assert_untouched(
    store: &dyn Store,
    insurer_id: Uuid,
    stored: &[BeneficiaryRecord],
    cards: u64,
) {
    for b in stored {
        assert_eq!(store.get_beneficiary(insurer_id, b.id).await.unwrap(), *b);
    }
    let members: Vec<_> = stored.iter().map(|b| b.member_number.clone()).collect();
    for f in store
        .find_beneficiaries_of_members(insurer_id, &members)
        .await
        .unwrap()
    {
        assert_eq!(f.last_import_id, None, "no marker written");
    }
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.beneficiaries, stored.len() as u64);
    assert_eq!(counts.cards, cards);
}

pub async fn apply_beneficiary_batch_is_all_or_nothing(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let a = beneficiary(insurer.id, c.id, "M1", 1);
    let b = beneficiary(insurer.id, c.id, "M2", 1);
    store
        .insert_beneficiaries(&[a.clone(), b.clone()])
        .await
        .unwrap();
    let existing_card = card(insurer.id, "M1", "2025-01-01", "2025-12-31");
    store
        .insert_cards(std::slice::from_ref(&existing_card))
        .await
        .unwrap();
    let import_id = given_import(&*store, insurer.id).await;
    let stored = [a.clone(), b.clone()];
    let update_a = BeneficiaryRecord {
        first_name_sealed: sealed("changed"),
        updated_at: at(700),
        ..a.clone()
    };
    let good = |cards| BeneficiaryBatch {
        insurer_id: insurer.id,
        import_id,
        inserts: vec![beneficiary(insurer.id, c.id, "M3", 1)],
        updates: vec![update_a.clone()],
        seen: vec![b.id],
        cards,
    };

    // An insert repeating a stored id.
    let mut dup_stored = good(vec![card(insurer.id, "M3", "2026-01-01", "2026-12-31")]);
    dup_stored.inserts.push(BeneficiaryRecord {
        member_number: member("M4"),
        ..b.clone()
    });
    assert!(matches!(
        store.apply_beneficiary_batch(&dup_stored).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_untouched(&*store, insurer.id, &stored, 1).await;

    // Two inserts with the same id.
    let mut dup_in_batch = good(Vec::new());
    let twin = beneficiary(insurer.id, c.id, "M5", 1);
    dup_in_batch.inserts.push(twin.clone());
    dup_in_batch.inserts.push(twin);
    assert!(matches!(
        store.apply_beneficiary_batch(&dup_in_batch).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_untouched(&*store, insurer.id, &stored, 1).await;

    // A card that cannot be written (its id is taken), after everything else.
    let failing_card = good(vec![
        card(insurer.id, "M3", "2026-01-01", "2026-12-31"),
        existing_card.clone(),
    ]);
    assert!(matches!(
        store.apply_beneficiary_batch(&failing_card).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_untouched(&*store, insurer.id, &stored, 1).await;

    // An update of a row that is not there.
    let mut missing = good(Vec::new());
    missing.updates.push(beneficiary(insurer.id, c.id, "M6", 1));
    assert_eq!(
        store.apply_beneficiary_batch(&missing).await,
        Err(StoreError::NotFound)
    );
    assert_untouched(&*store, insurer.id, &stored, 1).await;

    // The same batch, valid, goes through whole.
    let ok = good(vec![card(insurer.id, "M3", "2026-01-01", "2026-12-31")]);
    store.apply_beneficiary_batch(&ok).await.unwrap();
    assert_eq!(
        store.get_beneficiary(insurer.id, a.id).await.unwrap(),
        update_a
    );
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.beneficiaries, counts.cards), (3, 2));
}

/// A batch updating more rows than one statement carries (a backend may split them): every
/// row or none, whichever statement meets the missing row.
pub async fn apply_beneficiary_batch_of_many_updates_is_all_or_nothing(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let rows: Vec<BeneficiaryRecord> = (0..1_100)
        .map(|i| beneficiary(insurer.id, c.id, &format!("M{i}"), 1))
        .collect();
    store.insert_beneficiaries(&rows).await.unwrap();
    let import_id = given_import(&*store, insurer.id).await;
    let updates: Vec<BeneficiaryRecord> = rows
        .iter()
        .map(|r| BeneficiaryRecord {
            first_name_sealed: sealed("fn-new"),
            valid_to: Some(date!(2026 - 06 - 30)),
            updated_at: at(800),
            ..r.clone()
        })
        .collect();
    let batch = |updates: Vec<BeneficiaryRecord>| BeneficiaryBatch {
        insurer_id: insurer.id,
        import_id,
        updates,
        ..BeneficiaryBatch::default()
    };
    let mut with_missing = updates.clone();
    with_missing.push(beneficiary(insurer.id, c.id, "MABSENT", 1));
    assert_eq!(
        store.apply_beneficiary_batch(&batch(with_missing)).await,
        Err(StoreError::NotFound)
    );
    for r in [&rows[0], &rows[600], &rows[1_099]] {
        assert_eq!(store.get_beneficiary(insurer.id, r.id).await.unwrap(), *r);
    }
    store
        .apply_beneficiary_batch(&batch(updates.clone()))
        .await
        .unwrap();
    for r in [&updates[0], &updates[600], &updates[1_099]] {
        assert_eq!(store.get_beneficiary(insurer.id, r.id).await.unwrap(), *r);
    }
    let members: Vec<_> = rows.iter().map(|r| r.member_number.clone()).collect();
    let marked = store
        .find_beneficiaries_of_members(insurer.id, &members)
        .await
        .unwrap();
    assert_eq!(marked.len(), 1_100);
    assert!(marked.iter().all(|f| f.last_import_id == Some(import_id)));
}

/// Runs `Store::apply_beneficiary_batches` on its own task, fed through the returned sender.
fn batches_writer(
    store: &S,
) -> (
    tokio::sync::mpsc::Sender<BeneficiaryBatch>,
    tokio::task::JoinHandle<Result<usize, StoreError>>,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    let store = Arc::clone(store);
    let write = tokio::spawn(async move { store.apply_beneficiary_batches(receiver).await });
    (sender, write)
}

pub async fn apply_beneficiary_batches_commits_every_batch_together_when_the_channel_closes(
    store: S,
) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let kept = beneficiary(insurer.id, c.id, "M9", 1);
    store
        .insert_beneficiaries(std::slice::from_ref(&kept))
        .await
        .unwrap();
    let import_id = given_import(&*store, insurer.id).await;
    let batch = |inserts: Vec<BeneficiaryRecord>, updates, seen, cards| BeneficiaryBatch {
        insurer_id: insurer.id,
        import_id,
        inserts,
        updates,
        seen,
        cards,
    };
    let first = beneficiary(insurer.id, c.id, "M1", 1);
    let second = beneficiary(insurer.id, c.id, "M2", 1);
    let first_card = card(insurer.id, "M1", "2026-01-01", "2026-12-31");
    // The second batch updates a row the first inserted: the batches see each other.
    let first_changed = BeneficiaryRecord {
        first_name_sealed: sealed("changed"),
        updated_at: at(900),
        ..first.clone()
    };

    let (sender, write) = batches_writer(&store);
    let sends = [
        batch(
            vec![first.clone()],
            Vec::new(),
            Vec::new(),
            vec![first_card.clone()],
        ),
        batch(
            vec![second.clone()],
            vec![first_changed.clone()],
            Vec::new(),
            Vec::new(),
        ),
        batch(Vec::new(), Vec::new(), vec![kept.id], Vec::new()),
    ];
    for b in sends {
        sender.send(b).await.unwrap();
    }
    // The third batch was taken only after the first was applied: applied, not committed.
    let members = [member("M1"), member("M2"), member("M9")];
    let seen = store
        .find_beneficiaries_of_members(insurer.id, &members)
        .await
        .unwrap();
    assert_eq!(
        ids(&seen),
        vec![kept.id],
        "nothing visible before the commit"
    );
    assert_eq!(seen[0].last_import_id, None);
    assert_eq!(store.counts().await.unwrap().cards, 0);

    drop(sender);
    assert_eq!(write.await.unwrap(), Ok(3));
    assert_eq!(
        store.get_beneficiary(insurer.id, first.id).await.unwrap(),
        first_changed
    );
    assert_eq!(
        store.get_beneficiary(insurer.id, second.id).await.unwrap(),
        second
    );
    assert_eq!(store.get_card(first_card.id).await.unwrap(), first_card);
    let all = store
        .find_beneficiaries_of_members(insurer.id, &members)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(
        all.iter().all(|f| f.last_import_id == Some(import_id)),
        "every row marked"
    );

    // No batch at all: nothing to do.
    let (sender, write) = batches_writer(&store);
    drop(sender);
    assert_eq!(write.await.unwrap(), Ok(0));
    assert_eq!(store.counts().await.unwrap().beneficiaries, 3);
}

pub async fn apply_beneficiary_batches_is_all_or_nothing(store: S) {
    let insurer = given_insurer(&*store, "1").await;
    let c = given_contract(&*store, insurer.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let a = beneficiary(insurer.id, c.id, "M1", 1);
    store
        .insert_beneficiaries(std::slice::from_ref(&a))
        .await
        .unwrap();
    let import_id = given_import(&*store, insurer.id).await;
    let stored = [a.clone()];
    let good = |m: &str| BeneficiaryBatch {
        insurer_id: insurer.id,
        import_id,
        inserts: vec![beneficiary(insurer.id, c.id, m, 1)],
        updates: Vec::new(),
        seen: vec![a.id],
        cards: vec![card(insurer.id, m, "2026-01-01", "2026-12-31")],
    };

    // A later batch updates a row that is not there: the earlier batches go too.
    let mut missing = good("M3");
    missing.updates.push(beneficiary(insurer.id, c.id, "M4", 1));
    let (sender, write) = batches_writer(&store);
    sender.send(good("M2")).await.unwrap();
    sender.send(missing).await.unwrap();
    drop(sender);
    assert_eq!(write.await.unwrap(), Err(StoreError::NotFound));
    assert_untouched(&*store, insurer.id, &stored, 0).await;
    assert_eq!(store.counts().await.unwrap().beneficiaries, 1);

    // A later batch inserts an id an earlier batch of the transaction inserted.
    let earlier = good("M2");
    let mut repeat = good("M5");
    repeat.inserts.push(BeneficiaryRecord {
        member_number: member("M6"),
        ..earlier.inserts[0].clone()
    });
    let (sender, write) = batches_writer(&store);
    sender.send(earlier).await.unwrap();
    sender.send(repeat).await.unwrap();
    drop(sender);
    assert!(matches!(
        write.await.unwrap(),
        Err(StoreError::Conflict { .. })
    ));
    assert_untouched(&*store, insurer.id, &stored, 0).await;
    assert_eq!(store.counts().await.unwrap().beneficiaries, 1);

    // The same two batches, valid, go through whole.
    let (sender, write) = batches_writer(&store);
    sender.send(good("M2")).await.unwrap();
    sender.send(good("M3")).await.unwrap();
    drop(sender);
    assert_eq!(write.await.unwrap(), Ok(2));
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.beneficiaries, counts.cards), (3, 2));
}

pub async fn find_unseen_beneficiaries_pages_rows_in_effect_not_seen(store: S) {
    let mine = given_insurer(&*store, "1").await;
    let other = given_insurer(&*store, "2").await;
    let c = given_contract(&*store, mine.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let c2 = given_contract(&*store, other.id, "ESSENTIEL", 1, "2026-01-01", None).await;
    let on = date!(2026 - 06 - 15);
    let in_effect = |m: &str, to| BeneficiaryRecord {
        valid_from: date!(2026 - 01 - 01),
        valid_to: to,
        ..beneficiary(mine.id, c.id, m, 1)
    };
    // Unseen and in effect on `on` or later: what a full import closes.
    let mut expected = vec![
        in_effect("U1", None),
        in_effect("U2", Some(date!(2026 - 12 - 31))),
        in_effect("U3", Some(date!(2026 - 06 - 16))),
        in_effect("U4", None),
        in_effect("U5", None),
        BeneficiaryRecord {
            valid_from: on,
            ..in_effect("U6", None)
        },
    ];
    // Seen by an earlier import only: unseen by this one.
    let seen_by_other_import = in_effect("S2", None);
    expected.push(seen_by_other_import.clone());
    // Not returned: seen by the import, already closed, not yet in effect, another insurer.
    let seen = in_effect("S1", None);
    let closed_on = in_effect("X1", Some(on));
    let closed_before = in_effect("X2", Some(date!(2026 - 03 - 01)));
    let future = BeneficiaryRecord {
        valid_from: date!(2026 - 06 - 16),
        ..in_effect("X3", None)
    };
    let theirs = BeneficiaryRecord {
        valid_to: None,
        ..beneficiary(other.id, c2.id, "T1", 1)
    };
    let mut rows = expected.clone();
    rows.extend([seen.clone(), closed_on, closed_before, future]);
    store.insert_beneficiaries(&rows).await.unwrap();
    store.insert_beneficiaries(&[theirs]).await.unwrap();

    let earlier = given_import(&*store, mine.id).await;
    let import_id = given_import(&*store, mine.id).await;
    let mark = |import_id, id| BeneficiaryBatch {
        insurer_id: mine.id,
        import_id,
        seen: vec![id],
        ..BeneficiaryBatch::default()
    };
    store
        .apply_beneficiary_batch(&mark(earlier, seen_by_other_import.id))
        .await
        .unwrap();
    store
        .apply_beneficiary_batch(&mark(import_id, seen.id))
        .await
        .unwrap();

    expected.sort_by_key(|r| r.id);
    let mut got = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .find_unseen_beneficiaries(mine.id, import_id, on, after, 4)
            .await
            .unwrap();
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        got.extend(page);
        pages += 1;
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 2);
    assert_eq!(got, expected);
    // Past the last row: nothing.
    assert!(
        store
            .find_unseen_beneficiaries(mine.id, import_id, on, expected.last().map(|r| r.id), 4)
            .await
            .unwrap()
            .is_empty()
    );
    // The earlier import did not see `seen`: it is among its unseen rows.
    let for_earlier = store
        .find_unseen_beneficiaries(mine.id, earlier, on, None, 100)
        .await
        .unwrap();
    assert!(for_earlier.iter().any(|r| r.id == seen.id));
    assert!(!for_earlier.iter().any(|r| r.id == seen_by_other_import.id));
    assert_eq!(for_earlier.len(), 7);
}
