//! Conformance cases of the access ledger (`LedgerStore`): dense appends, reads by index,
//! pseudonym and filters, checkpoints, verifications.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::ledger::store::{CHECKPOINT_CONSTRAINT, INDEX_CONSTRAINT};
use app::ledger::{
    LedgerCheckpointRecord, LedgerEntryRecord, LedgerFilter, LedgerVerificationRecord,
};
use app::store::{Store, StoreError};
use domain::rights::Regime;
use std::sync::Arc;
use time::Duration;
use uuid::Uuid;

type S = Arc<dyn Store>;

fn entry(index: u64, seconds: i64) -> LedgerEntryRecord {
    LedgerEntryRecord {
        index,
        id: new_id(),
        at: at(seconds) + Duration::nanoseconds(123_456_789),
        account_id: Some(Uuid::from_u128(1)),
        organisation_id: Uuid::from_u128(2),
        credential: "passkey:0190f0e0-0000-7000-8000-000000000001".into(),
        insurer_id: Uuid::from_u128(3),
        pseudonym: vec![index as u8; 32],
        categories: "coverage,guarantees,engagement".into(),
        purpose: "rights_check".into(),
        request_id: format!("req-{index}-«é»"),
        client_addr: Some("2001:db8::1".into()),
        leaf_hash: vec![0xA0 ^ index as u8; 32],
    }
}

fn truncated(mut e: LedgerEntryRecord) -> LedgerEntryRecord {
    e.at =
        e.at.replace_nanosecond(e.at.nanosecond() / 1_000 * 1_000)
            .unwrap();
    e
}

fn batch(from: u64, n: u64) -> Vec<LedgerEntryRecord> {
    (from..from + n).map(|i| entry(i, i as i64)).collect()
}

fn is_index_conflict(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict { constraint }) if constraint == INDEX_CONSTRAINT)
}

pub async fn ledger_appends_are_dense_and_round_trip_every_field(store: S) {
    assert_eq!(store.ledger_size().await.unwrap(), 0);
    store.append_ledger_entries(&[], &[]).await.unwrap();
    let first = batch(0, 3);
    store.append_ledger_entries(&first, &[]).await.unwrap();
    let mut second = batch(3, 2);
    second[0].account_id = None;
    second[0].client_addr = None;
    store.append_ledger_entries(&second, &[]).await.unwrap();
    assert_eq!(store.ledger_size().await.unwrap(), 5);
    let all = store.list_ledger_entries(0, 100).await.unwrap();
    let expected: Vec<_> = first.into_iter().chain(second).map(truncated).collect();
    assert_eq!(all, expected);
}

/// The engagements a batch grants (rights checks' answers) commit with its entries, or not
/// at all: never an engagement without its disclosure, never the reverse.
pub async fn ledger_appends_store_the_engagements_they_grant_in_the_same_transaction(store: S) {
    let insurer = given_insurer(store.as_ref(), "880000011").await;
    let practice = given_practice(store.as_ref(), "751234567").await;
    let grant = |number: &str| {
        crate::rights_cases::engagement(insurer.id, practice.id, number, Regime::PriorApproval)
    };
    let stored = async |g: &app::rights::EngagementRecord| {
        store.find_engagement(practice.id, &g.number).await.unwrap()
    };
    let (g1, g2) = (
        grant("E0000000000000000000A"),
        grant("E0000000000000000000B"),
    );
    store
        .append_ledger_entries(&batch(0, 2), &[g1.clone(), g2.clone()])
        .await
        .unwrap();
    assert_eq!(store.ledger_size().await.unwrap(), 2);
    for g in [&g1, &g2] {
        assert_eq!(stored(g).await.as_ref(), Some(g));
    }
    // The entries conflict on their index: the grant is not stored either.
    let g3 = grant("E0000000000000000000C");
    assert!(is_index_conflict(
        store
            .append_ledger_entries(&batch(5, 1), std::slice::from_ref(&g3))
            .await
    ));
    assert_eq!(stored(&g3).await, None);
    // The grant cannot be stored (its number is taken): the entries are not stored either,
    // and the conflict is the grant's, not the ledger index's.
    let mut taken = grant("E0000000000000000000D");
    taken.number = g1.number.clone();
    let g4 = grant("E0000000000000000000E");
    let r = store
        .append_ledger_entries(&batch(2, 2), &[g4.clone(), taken])
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    assert!(!is_index_conflict(r));
    assert_eq!(store.ledger_size().await.unwrap(), 2);
    assert_eq!(stored(&g4).await, None);
    // The same entries then go through with a fresh grant.
    store
        .append_ledger_entries(&batch(2, 2), std::slice::from_ref(&g4))
        .await
        .unwrap();
    assert_eq!(store.ledger_size().await.unwrap(), 4);
    assert_eq!(stored(&g4).await, Some(g4));
}

pub async fn ledger_append_not_at_the_size_conflicts_and_writes_nothing(store: S) {
    store
        .append_ledger_entries(&batch(0, 2), &[])
        .await
        .unwrap();
    // Starting at an index already taken, past the end, or with a gap inside the batch.
    assert!(is_index_conflict(
        store.append_ledger_entries(&batch(1, 2), &[]).await
    ));
    assert!(is_index_conflict(
        store.append_ledger_entries(&batch(3, 1), &[]).await
    ));
    let mut gap = batch(2, 3);
    gap[2].index = 5;
    assert!(is_index_conflict(
        store.append_ledger_entries(&gap, &[]).await
    ));
    assert_eq!(store.ledger_size().await.unwrap(), 2);
    assert_eq!(store.list_ledger_entries(0, 100).await.unwrap().len(), 2);
}

pub async fn concurrent_ledger_appends_at_the_same_index_let_one_win(store: S) {
    let a = batch(0, 50);
    let b = batch(0, 30);
    let (ra, rb) = tokio::join!(
        store.append_ledger_entries(&a, &[]),
        store.append_ledger_entries(&b, &[])
    );
    assert!(ra.is_ok() != rb.is_ok(), "exactly one append wins");
    let loser = if ra.is_ok() { rb } else { ra };
    assert!(is_index_conflict(loser));
    let size = store.ledger_size().await.unwrap();
    assert!(size == 50 || size == 30);
    let all = store.list_ledger_entries(0, 100).await.unwrap();
    assert_eq!(all.len() as u64, size);
    assert!(all.iter().enumerate().all(|(i, e)| e.index == i as u64));
}

pub async fn ledger_entries_page_by_index_and_leaf_hashes_by_range(store: S) {
    store
        .append_ledger_entries(&batch(0, 10), &[])
        .await
        .unwrap();
    let page = store.list_ledger_entries(4, 3).await.unwrap();
    assert_eq!(page.iter().map(|e| e.index).collect::<Vec<_>>(), [4, 5, 6]);
    assert!(store.list_ledger_entries(10, 3).await.unwrap().is_empty());
    let hashes = store.ledger_leaf_hashes(2, 5).await.unwrap();
    assert_eq!(
        hashes,
        (2u64..5)
            .map(|i| vec![0xA0 ^ i as u8; 32])
            .collect::<Vec<_>>()
    );
    assert_eq!(store.ledger_leaf_hashes(8, 20).await.unwrap().len(), 2);
}

/// Proof tiles: stored once (a second insert of a tile leaves the first), read by range in
/// order with the gaps left out, and the end is the highest tile plus one.
pub async fn ledger_tiles_are_stored_once_and_read_by_range(store: S) {
    use app::ledger::LedgerTileRecord;
    assert_eq!(store.ledger_tiles_end().await.unwrap(), 0);
    assert!(store.ledger_tiles(0, 10).await.unwrap().is_empty());
    let tile = |tile: u64, byte: u8| LedgerTileRecord {
        tile,
        hash: vec![byte; 32],
    };
    store
        .insert_ledger_tiles(&[tile(0, 1), tile(1, 2), tile(3, 4)])
        .await
        .unwrap();
    // Tile 1 again with another hash, and a new tile 2, in one call: 1 keeps its hash.
    store
        .insert_ledger_tiles(&[tile(1, 9), tile(2, 3)])
        .await
        .unwrap();
    store.insert_ledger_tiles(&[]).await.unwrap();
    assert_eq!(store.ledger_tiles_end().await.unwrap(), 4);
    assert_eq!(
        store.ledger_tiles(1, 3).await.unwrap(),
        vec![tile(1, 2), tile(2, 3)]
    );
    assert_eq!(
        store.ledger_tiles(0, 100).await.unwrap(),
        vec![tile(0, 1), tile(1, 2), tile(2, 3), tile(3, 4)]
    );
    assert!(store.ledger_tiles(4, 100).await.unwrap().is_empty());
    // Many at once (several multi-row statements).
    let many: Vec<_> = (10..1_300u64).map(|t| tile(t, (t % 251) as u8)).collect();
    store.insert_ledger_tiles(&many).await.unwrap();
    assert_eq!(store.ledger_tiles_end().await.unwrap(), 1_300);
    assert_eq!(store.ledger_tiles(10, 1_300).await.unwrap(), many);
    // A gap is left out of a range.
    assert_eq!(
        store.ledger_tiles(3, 11).await.unwrap(),
        vec![tile(3, 4), tile(10, 10)]
    );
}

pub async fn ledger_entries_by_pseudonym_are_newest_first_within_the_insurer(store: S) {
    let mut rows = batch(0, 6);
    let other_insurer = Uuid::from_u128(99);
    for (i, e) in rows.iter_mut().enumerate() {
        e.pseudonym = if i % 2 == 0 { vec![7; 32] } else { vec![8; 32] };
    }
    rows[4].insurer_id = other_insurer;
    store.append_ledger_entries(&rows, &[]).await.unwrap();
    let insurer = Uuid::from_u128(3);
    let found = store
        .find_ledger_entries_by_pseudonym(insurer, &[7; 32], None, 10)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|e| e.index).collect::<Vec<_>>(), [2, 0]);
    let paged = store
        .find_ledger_entries_by_pseudonym(insurer, &[8; 32], Some(5), 1)
        .await
        .unwrap();
    assert_eq!(paged.iter().map(|e| e.index).collect::<Vec<_>>(), [3]);
    let other = store
        .find_ledger_entries_by_pseudonym(other_insurer, &[7; 32], None, 10)
        .await
        .unwrap();
    assert_eq!(other.iter().map(|e| e.index).collect::<Vec<_>>(), [4]);
}

pub async fn ledger_entries_filter_by_account_organisation_insurer_and_time(store: S) {
    let mut rows = batch(0, 8);
    let (acc_a, acc_b) = (Uuid::from_u128(11), Uuid::from_u128(12));
    let (org_a, org_b) = (Uuid::from_u128(21), Uuid::from_u128(22));
    for (i, e) in rows.iter_mut().enumerate() {
        e.at = at(100 * i as i64);
        e.account_id = Some(if i < 4 { acc_a } else { acc_b });
        e.organisation_id = if i % 2 == 0 { org_a } else { org_b };
    }
    rows[7].account_id = None;
    store.append_ledger_entries(&rows, &[]).await.unwrap();
    let idx = |v: Vec<LedgerEntryRecord>| v.iter().map(|e| e.index).collect::<Vec<_>>();
    let f = |mut f: LedgerFilter| {
        f.limit = 100;
        f
    };
    let by_account = store
        .find_ledger_entries(&f(LedgerFilter {
            account_id: Some(acc_b),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(idx(by_account), [6, 5, 4]);
    let by_org = store
        .find_ledger_entries(&f(LedgerFilter {
            organisation_id: Some(org_a),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(idx(by_org), [6, 4, 2, 0]);
    let window = store
        .find_ledger_entries(&f(LedgerFilter {
            from: Some(at(200)),
            to: Some(at(500)),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(idx(window), [4, 3, 2]);
    let combined = store
        .find_ledger_entries(&f(LedgerFilter {
            account_id: Some(acc_a),
            organisation_id: Some(org_b),
            insurer_id: Some(Uuid::from_u128(3)),
            before: Some(3),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(idx(combined), [1]);
    let none = store
        .find_ledger_entries(&f(LedgerFilter {
            insurer_id: Some(Uuid::from_u128(4)),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert!(none.is_empty());
    let limited = store
        .find_ledger_entries(&LedgerFilter {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(idx(limited), [7, 6]);
}

fn checkpoint(size: u64, seconds: i64) -> LedgerCheckpointRecord {
    LedgerCheckpointRecord {
        tree_size: size,
        root: vec![size as u8; 32],
        at: at(seconds),
        note: format!(
            "rempart.localhost/ledger\n{size}\nAAAA\n\n\u{2014} rempart.localhost/ledger sig\n"
        ),
    }
}

pub async fn ledger_checkpoints_are_one_per_size_and_listed_largest_first(store: S) {
    assert!(store.latest_ledger_checkpoint().await.unwrap().is_none());
    for (size, t) in [(0, 0), (10, 60), (25, 120), (40, 180)] {
        store
            .insert_ledger_checkpoint(&checkpoint(size, t))
            .await
            .unwrap();
    }
    let dup = store.insert_ledger_checkpoint(&checkpoint(25, 999)).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { constraint }) if constraint == CHECKPOINT_CONSTRAINT)
    );
    assert_eq!(
        store.latest_ledger_checkpoint().await.unwrap(),
        Some(checkpoint(40, 180))
    );
    let sizes = |v: Vec<LedgerCheckpointRecord>| v.iter().map(|c| c.tree_size).collect::<Vec<_>>();
    assert_eq!(
        sizes(store.list_ledger_checkpoints(None, 10).await.unwrap()),
        [40, 25, 10, 0]
    );
    assert_eq!(
        sizes(store.list_ledger_checkpoints(Some(25), 1).await.unwrap()),
        [10]
    );
    assert_eq!(
        store.list_ledger_checkpoints(Some(10), 10).await.unwrap(),
        vec![checkpoint(0, 0)]
    );
}

pub async fn ledger_verifications_answer_the_most_recent(store: S) {
    assert!(store.latest_ledger_verification().await.unwrap().is_none());
    let v = |seconds: i64, ok: bool, bad: Option<u64>| LedgerVerificationRecord {
        id: new_id(),
        at: at(seconds),
        ok,
        entries: 1234,
        checkpoints: 5,
        first_bad_index: bad,
        summary: format!("summary at {seconds}"),
    };
    let old = v(10, true, None);
    let newest = v(30, false, Some(17));
    let middle = v(20, true, None);
    for r in [&old, &newest, &middle] {
        store.insert_ledger_verification(r).await.unwrap();
    }
    assert_eq!(
        store.latest_ledger_verification().await.unwrap(),
        Some(newest)
    );
}
