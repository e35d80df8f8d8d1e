//! Conformance cases of the payments rows (`PaymentsStore`): a run claims each payable line
//! once, in one transaction, and is resumed while left `claimed`; two concurrent runs never
//! claim the same line; bills read the written runs; IBAN changes need a second person and
//! apply only once due.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::invoices::store::{
    ClaimContext, ClaimScope, ClaimWrite, InvoiceLineRecord, InvoiceRecord,
};
use app::payments::store::{
    IbanChangeRecord, IbanChangeStatus, PaymentRunRecord, RunStatus, TransferRecord,
};
use app::store::{Store, StoreError};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

type S = Arc<dyn Store>;

/// Stores an invoice of `practice` through the money path's claim (as an invoice POST does).
async fn seed_invoice(
    store: &dyn Store,
    insurer: Uuid,
    practice: Uuid,
    status: &str,
    care: &str,
    amounts: &[i64],
) -> InvoiceRecord {
    let inv = InvoiceRecord {
        id: new_id(),
        insurer_id: insurer,
        organisation_id: practice,
        actor_id: new_id(),
        engagement_id: new_id(),
        beneficiary_id: new_id(),
        approval_id: None,
        contract_id: None,
        contract_code: "ESSENTIEL".into(),
        domain: "OPTI".into(),
        care_date: day(care),
        status: status.into(),
        total_cents: amounts.iter().sum(),
        fingerprint: new_id().to_string(),
        created_at: at(40),
        lines: amounts
            .iter()
            .enumerate()
            .map(|(i, a)| InvoiceLineRecord {
                line_no: i as u32 + 1,
                kind: "frame".into(),
                class: Some("B".into()),
                complexity: None,
                ear: None,
                quantity: 1,
                price_cents: 20_000,
                br_cents: 5,
                amo_cents: 3,
                amc_cents: *a,
                rejection: (*a == 0).then(|| "ceiling_reached".to_string()),
                steps: "[]".into(),
                paid_run_id: None,
            })
            .collect(),
    };
    let scope = ClaimScope {
        insurer_id: insurer,
        beneficiary_id: inv.beneficiary_id,
        organisation_id: practice,
        today: day(care),
        approval_number: None,
        fingerprint: None,
    };
    let i2 = inv.clone();
    store
        .record_claim(&scope, &move |_: &ClaimContext| {
            Ok(ClaimWrite::Invoice {
                invoice: i2.clone(),
                counters: Vec::new(),
                consume_approval: None,
                kept: None,
            })
        })
        .await
        .unwrap();
    inv
}

/// A practice whose organisation exists with the same id (invoices name the organisation).
async fn given_payee(store: &dyn Store, am: &str) -> app::store::PracticeRecord {
    let p = practice(am);
    store
        .insert_organisation(&app::store::OrganisationRecord {
            id: p.id,
            kind: domain::accounts::OrganisationKind::Practice,
            name: p.name.clone(),
            created_at: at(0),
        })
        .await
        .unwrap();
    store.insert_practice(&p).await.unwrap();
    p
}

fn new_run(cutoff: &str, seconds: i64) -> PaymentRunRecord {
    PaymentRunRecord {
        id: new_id(),
        cutoff_date: day(cutoff),
        execution_date: day(cutoff),
        status: RunStatus::Claimed,
        created_by: Some(new_id()),
        created_at: at(seconds),
        written_at: None,
        line_count: 0,
        transfer_count: 0,
        total_cents: 0,
    }
}

fn keys(lines: &[app::payments::store::RunLineRecord]) -> HashSet<(Uuid, u32)> {
    lines.iter().map(|l| (l.invoice_id, l.line_no)).collect()
}

pub async fn a_payment_run_claims_each_payable_line_once_and_is_resumed_while_claimed(store: S) {
    let s = store.as_ref();
    let insurer = given_insurer(s, "880000011").await;
    let p1 = given_payee(s, "751234567").await;
    let p2 = given_payee(s, "751234568").await;
    let a = seed_invoice(
        s,
        insurer.id,
        p1.id,
        "partial",
        "2026-03-01",
        &[1000, 0, 2500],
    )
    .await;
    let b = seed_invoice(s, insurer.id, p2.id, "accepted", "2026-03-10", &[700]).await;
    seed_invoice(s, insurer.id, p1.id, "rejected", "2026-03-01", &[500]).await;

    let r1 = new_run("2026-03-05", 100);
    let claimed = s.claim_payment_run(&r1).await.unwrap().unwrap();
    assert_eq!(claimed.id, r1.id);
    assert_eq!(claimed.status, RunStatus::Claimed);
    assert_eq!(claimed.line_count, 2);
    assert_eq!(s.get_payment_run(r1.id).await.unwrap(), claimed);
    let lines = s.list_run_lines(r1.id).await.unwrap();
    assert_eq!(keys(&lines), HashSet::from([(a.id, 1), (a.id, 3)]));
    let l = lines.iter().find(|l| l.line_no == 3).unwrap();
    assert_eq!(
        (
            l.practice_id,
            l.insurer_amc.as_str(),
            l.domain.as_str(),
            l.contract_code.as_str(),
            l.amc_cents,
            l.care_date
        ),
        (
            p1.id,
            insurer.amc.as_str(),
            "OPTI",
            "ESSENTIEL",
            2500,
            day("2026-03-01")
        )
    );
    let payees = s.list_run_payees(r1.id).await.unwrap();
    assert_eq!(payees.len(), 1);
    assert_eq!(
        (
            payees[0].practice_id,
            &payees[0].name,
            &payees[0].iban_sealed
        ),
        (p1.id, &p1.name, &p1.iban_sealed)
    );
    // The invoice shows its lines paid by the run.
    let stored = s.get_invoice(p1.id, a.id).await.unwrap();
    let paid: Vec<Option<Uuid>> = stored.lines.iter().map(|l| l.paid_run_id).collect();
    assert_eq!(paid, vec![Some(r1.id), None, Some(r1.id)]);

    // Killed before writing: the next claim for that cut-off resumes the same run.
    let again = s
        .claim_payment_run(&new_run("2026-03-05", 200))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, claimed);
    assert_eq!(s.list_payment_runs(10).await.unwrap().len(), 1);

    let t = TransferRecord {
        run_id: r1.id,
        practice_id: p1.id,
        seq: 1,
        statement_id: "RUNREF-1".into(),
        execution_date: day("2026-03-05"),
        amount_cents: 3500,
        line_count: 2,
        statement_csv: "record,run_id\nline,x\n".into(),
    };
    s.complete_payment_run(r1.id, std::slice::from_ref(&t), 3500, at(300))
        .await
        .unwrap();
    // Completing twice replaces the transfers (a rewrite), never duplicates them.
    s.complete_payment_run(r1.id, std::slice::from_ref(&t), 3500, at(300))
        .await
        .unwrap();
    assert_eq!(
        s.complete_payment_run(new_id(), &[], 0, at(300)).await,
        Err(StoreError::NotFound)
    );
    let written = s.get_payment_run(r1.id).await.unwrap();
    assert_eq!(
        (
            written.status,
            written.written_at,
            written.transfer_count,
            written.total_cents
        ),
        (RunStatus::Written, Some(at(300)), 1, 3500)
    );

    // A rerun for the same date pays nothing twice: nothing claimable is left.
    assert_eq!(
        s.claim_payment_run(&new_run("2026-03-05", 400))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.list_payment_runs(10).await.unwrap().len(), 1);
    // A later cut-off claims only what is left.
    let r2 = new_run("2026-03-31", 500);
    s.claim_payment_run(&r2).await.unwrap().unwrap();
    assert_eq!(
        keys(&s.list_run_lines(r2.id).await.unwrap()),
        HashSet::from([(b.id, 1)])
    );
    let runs = s.list_payment_runs(10).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r2.id, r1.id]
    );

    // Bills read written runs only, within the period, of that insurer.
    let billed = s
        .list_billed_lines(insurer.id, day("2026-03-01"), day("2026-03-31"))
        .await
        .unwrap();
    assert_eq!(billed.len(), 2);
    assert!(
        billed
            .iter()
            .all(|b| b.run_id == r1.id && b.statement_id == "RUNREF-1")
    );
    assert_eq!(billed.iter().map(|b| b.line.amc_cents).sum::<i64>(), 3500);
    assert!(
        s.list_billed_lines(insurer.id, day("2026-03-06"), day("2026-03-31"))
            .await
            .unwrap()
            .is_empty()
    );
    let other = given_insurer(s, "880000029").await;
    assert!(
        s.list_billed_lines(other.id, day("2026-01-01"), day("2026-12-31"))
            .await
            .unwrap()
            .is_empty()
    );

    // Transfers and statements keep to their practice.
    let mine = s.list_practice_transfers(p1.id, 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (
            mine[0].statement_id.as_str(),
            mine[0].amount_cents,
            mine[0].statement_csv.as_str()
        ),
        ("RUNREF-1", 3500, "")
    );
    assert_eq!(
        s.find_practice_transfer(p1.id, "RUNREF-1").await.unwrap(),
        Some(t)
    );
    assert_eq!(
        s.find_practice_transfer(p2.id, "RUNREF-1").await.unwrap(),
        None
    );
    assert!(
        s.list_practice_transfers(p2.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_payment_runs_never_claim_the_same_line(store: S) {
    let s = store.as_ref();
    let insurer = given_insurer(s, "880000011").await;
    let p = given_payee(s, "751234567").await;
    let mut all = HashSet::new();
    for i in 0..20u32 {
        let care = if i % 2 == 0 {
            "2026-03-01"
        } else {
            "2026-03-20"
        };
        let inv = seed_invoice(
            s,
            insurer.id,
            p.id,
            "accepted",
            care,
            &[100 + i64::from(i), 50],
        )
        .await;
        all.insert((inv.id, 1));
        all.insert((inv.id, 2));
    }
    let (a, b) = (new_run("2026-03-31", 100), new_run("2026-03-15", 100));
    let (sa, sb) = (store.clone(), store.clone());
    let (ra, rb) = (a.clone(), b.clone());
    let ta = tokio::spawn(async move { sa.claim_payment_run(&ra).await });
    let tb = tokio::spawn(async move { sb.claim_payment_run(&rb).await });
    let (ca, cb) = (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap());
    let la = match ca {
        Some(r) => keys(&s.list_run_lines(r.id).await.unwrap()),
        None => HashSet::new(),
    };
    let lb = match cb {
        Some(r) => keys(&s.list_run_lines(r.id).await.unwrap()),
        None => HashSet::new(),
    };
    assert!(la.is_disjoint(&lb), "a line was claimed by two runs");
    let union: HashSet<_> = la.union(&lb).copied().collect();
    assert_eq!(
        union, all,
        "every payable line is claimed by one of the runs"
    );
    assert!(
        lb.len() <= 20,
        "the earlier cut-off claims only care dates up to it"
    );
}

fn change(practice: Uuid, by: Uuid, seconds: i64) -> IbanChangeRecord {
    IbanChangeRecord {
        id: new_id(),
        practice_id: practice,
        iban_sealed: sealed("new-iban"),
        status: IbanChangeStatus::Requested,
        requested_by: by,
        requested_at: at(seconds),
        confirmed_by: None,
        confirmed_at: None,
        effective_at: None,
        applied_at: None,
        cancelled_by: None,
        cancelled_at: None,
    }
}

pub async fn iban_changes_need_a_second_person_and_apply_once_due(store: S) {
    let s = store.as_ref();
    let p = given_payee(s, "751234567").await;
    let (alice, bob) = (new_id(), new_id());
    let c = change(p.id, alice, 10);
    s.insert_iban_change(&c).await.unwrap();
    assert_eq!(s.get_iban_change(c.id).await.unwrap(), c);
    assert_eq!(
        s.insert_iban_change(&change(p.id, bob, 11)).await,
        Err(StoreError::Conflict {
            constraint: "iban_changes_open".into()
        })
    );
    assert_eq!(
        s.confirm_iban_change(c.id, alice, at(20), at(1000)).await,
        Err(StoreError::Conflict {
            constraint: "iban_changes_state".into()
        })
    );
    assert_eq!(
        s.confirm_iban_change(new_id(), bob, at(20), at(1000)).await,
        Err(StoreError::NotFound)
    );
    s.confirm_iban_change(c.id, bob, at(20), at(1000))
        .await
        .unwrap();
    assert_eq!(
        s.confirm_iban_change(c.id, bob, at(21), at(1001)).await,
        Err(StoreError::Conflict {
            constraint: "iban_changes_state".into()
        })
    );
    let open = s.list_iban_changes(None).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (
            open[0].status,
            open[0].confirmed_by,
            open[0].confirmed_at,
            open[0].effective_at
        ),
        (
            IbanChangeStatus::Confirmed,
            Some(bob),
            Some(at(20)),
            Some(at(1000))
        )
    );

    let reseal = |c: &IbanChangeRecord| -> Result<Vec<u8>, StoreError> {
        let mut v = c.iban_sealed.clone();
        v.extend_from_slice(b"/resealed");
        Ok(v)
    };
    // Not due yet: the old IBAN stays.
    assert!(
        s.apply_due_iban_changes(at(999), &reseal)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.get_practice(p.id).await.unwrap().iban_sealed,
        p.iban_sealed
    );
    let applied = s.apply_due_iban_changes(at(1000), &reseal).await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        (applied[0].id, applied[0].status, applied[0].applied_at),
        (c.id, IbanChangeStatus::Applied, Some(at(1000)))
    );
    let mut expected = c.iban_sealed.clone();
    expected.extend_from_slice(b"/resealed");
    assert_eq!(s.get_practice(p.id).await.unwrap().iban_sealed, expected);
    assert!(
        s.apply_due_iban_changes(at(2000), &reseal)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.list_iban_changes(None).await.unwrap().is_empty());
    let history = s.list_iban_changes(Some(p.id)).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.status).collect::<Vec<_>>(),
        vec![IbanChangeStatus::Applied]
    );
    // Once applied, a new change may be requested.
    s.insert_iban_change(&change(p.id, bob, 3000))
        .await
        .unwrap();
}
