//! Conformance cases of the money rows (`MoneyStore`): contract documents, approvals and
//! their reservations, invoices with their lines, counters, and the race that must never pay
//! more than a ceiling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::*;
use app::idempotency::{IdempotencyRecord, KeptAnswer};
use app::invoices::store::{
    ApprovalRecord, ApprovalStatus, ClaimContext, ClaimScope, ClaimWrite, CounterRecord,
    InvoiceLineRecord, InvoiceRecord,
};
use app::store::{BeneficiaryRecord, Store, StoreError};
use domain::accounts::OrganisationKind;
use std::sync::Arc;
use uuid::Uuid;

type S = Arc<dyn Store>;

struct World {
    insurer: Uuid,
    practice: Uuid,
    other: Uuid,
    contract: Uuid,
    beneficiary: BeneficiaryRecord,
}

async fn world(store: &dyn Store) -> World {
    let insurer = given_insurer(store, "880000011").await;
    let practice =
        given_organisation(store, OrganisationKind::Practice, "Optique du Port", at(0)).await;
    let other = given_organisation(
        store,
        OrganisationKind::Practice,
        "Optique du Marché",
        at(0),
    )
    .await;
    let mut c = contract(insurer.id, "ESSENTIEL", 1, "2026-01-01", None);
    c.guarantees = r#"{"format":1,"contract":"ESSENTIEL","lines":[]}"#.into();
    store
        .insert_contract_document(&c, "code = \"ESSENTIEL\"\n# ‘text’ kept as is\n")
        .await
        .unwrap();
    let b = beneficiary(insurer.id, c.id, "1234567890", 1);
    store
        .insert_beneficiaries(std::slice::from_ref(&b))
        .await
        .unwrap();
    World {
        insurer: insurer.id,
        practice: practice.id,
        other: other.id,
        contract: c.id,
        beneficiary: b,
    }
}

fn scope(w: &World, approval: Option<&str>, fingerprint: Option<&str>) -> ClaimScope {
    ClaimScope {
        insurer_id: w.insurer,
        beneficiary_id: w.beneficiary.id,
        organisation_id: w.practice,
        today: day("2026-03-01"),
        approval_number: approval.map(str::to_string),
        fingerprint: fingerprint.map(str::to_string),
    }
}

fn counter(
    w: &World,
    amount: i64,
    approval: Option<(Uuid, &str)>,
    invoice: Option<Uuid>,
) -> CounterRecord {
    CounterRecord {
        id: new_id(),
        insurer_id: w.insurer,
        beneficiary_id: w.beneficiary.id,
        counter: if amount == 0 { "equipment" } else { "budget" }.into(),
        domain: "OPTI".into(),
        ear: None,
        budget: (amount != 0).then(|| "dent_other".to_string()),
        amount_cents: amount,
        on: day("2026-03-01"),
        approval_id: approval.map(|a| a.0),
        invoice_id: invoice,
        expires_on: approval.map(|a| day(a.1)),
    }
}

fn approval(w: &World, number: &str) -> ApprovalRecord {
    ApprovalRecord {
        id: new_id(),
        number: number.into(),
        insurer_id: w.insurer,
        beneficiary_id: w.beneficiary.id,
        organisation_id: w.practice,
        actor_id: new_id(),
        engagement_id: new_id(),
        contract_id: w.contract,
        domain: "OPTI".into(),
        status: ApprovalStatus::Active,
        care_date: day("2026-03-01"),
        valid_until: day("2026-05-31"),
        total_cents: 15006,
        lines: r#"[{"kind":"frame"}]"#.into(),
        answer: r#"{"lines":[],"total":15006,"consumptions":[]}"#.into(),
        created_at: at(30),
        closed_at: None,
    }
}

fn invoice(w: &World, status: &str, amounts: &[i64], fingerprint: &str) -> InvoiceRecord {
    InvoiceRecord {
        id: new_id(),
        insurer_id: w.insurer,
        organisation_id: w.practice,
        actor_id: new_id(),
        engagement_id: new_id(),
        beneficiary_id: w.beneficiary.id,
        approval_id: None,
        contract_id: Some(w.contract),
        contract_code: "ESSENTIEL".into(),
        domain: "OPTI".into(),
        care_date: day("2026-03-01"),
        status: status.into(),
        total_cents: amounts.iter().sum(),
        fingerprint: fingerprint.into(),
        created_at: at(40),
        lines: amounts
            .iter()
            .enumerate()
            .map(|(i, a)| InvoiceLineRecord {
                line_no: i as u32,
                kind: "lens".into(),
                class: Some("B".into()),
                complexity: Some("very_complex".into()),
                ear: None,
                quantity: 1,
                price_cents: 1_000_000,
                br_cents: 5,
                amo_cents: 3,
                amc_cents: *a,
                rejection: (*a == 0).then(|| "ceiling_reached".to_string()),
                steps: r#"[{"rule":"formula","before":0,"after":2,"text":"100% BR − AMO = 0.05 − 0.03 = 0.02 €"}]"#.into(),
                paid_run_id: None,
            })
            .collect(),
    }
}

pub async fn contract_documents_are_stored_with_their_version_and_keep_to_the_insurer(store: S) {
    let w = world(store.as_ref()).await;
    let text = store
        .find_contract_document(w.insurer, w.contract)
        .await
        .unwrap();
    assert_eq!(
        text.as_deref(),
        Some("code = \"ESSENTIEL\"\n# ‘text’ kept as is\n")
    );
    assert_eq!(
        store
            .get_contract(w.insurer, w.contract)
            .await
            .unwrap()
            .version,
        1
    );
    let other = given_insurer(store.as_ref(), "880000029").await;
    assert_eq!(
        store
            .find_contract_document(other.id, w.contract)
            .await
            .unwrap(),
        None
    );
    // The same version again: nothing written, the version's rule named.
    let mut again = contract(w.insurer, "ESSENTIEL", 1, "2026-01-01", None);
    again.guarantees = "{}".into();
    assert_eq!(
        store.insert_contract_document(&again, "x").await,
        Err(StoreError::Conflict {
            constraint: "contracts_version".into()
        })
    );
    assert_eq!(
        store
            .find_contract_document(w.insurer, again.id)
            .await
            .unwrap(),
        None
    );
}

pub async fn an_approval_reserves_counters_until_cancelled_and_keeps_to_its_practice(store: S) {
    let w = world(store.as_ref()).await;
    let a = approval(&w, "P0123456789ABCDEFGHJK");
    // Two reservations (an equipment and a budget): every counter of a claim is written.
    let reserved = vec![
        counter(&w, 0, Some((a.id, "2026-05-31")), None),
        counter(&w, 12_000, Some((a.id, "2026-05-31")), None),
    ];
    let (a2, r2) = (a.clone(), reserved.clone());
    let decide = move |ctx: &ClaimContext| -> Result<ClaimWrite, String> {
        assert!(ctx.counters.is_empty() && ctx.approval.is_none() && !ctx.duplicate);
        Ok(ClaimWrite::Approval {
            approval: a2.clone(),
            counters: r2.clone(),
        })
    };
    store
        .record_claim(&scope(&w, None, None), &decide)
        .await
        .unwrap();
    assert_eq!(
        store.find_approval(w.practice, &a.number).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.find_approval(w.other, &a.number).await.unwrap(), None);
    // The reservation counts until its last day, not after.
    let on = |d: &str| {
        let store = store.clone();
        let (i, b) = (w.insurer, w.beneficiary.id);
        let d = day(d);
        async move { store.list_counters(i, b, d).await.unwrap() }
    };
    assert_eq!(on("2026-05-31").await, reserved);
    assert!(on("2026-06-01").await.is_empty());
    // Under a claim naming the approval, its own reservation is left out.
    let decide = |ctx: &ClaimContext| -> Result<ClaimWrite, String> {
        assert!(ctx.counters.is_empty());
        assert_eq!(ctx.approval.as_ref().map(|x| x.id), Some(a.id));
        Err("stop".into())
    };
    assert_eq!(
        store
            .record_claim(&scope(&w, Some(&a.number), None), &decide)
            .await,
        Err(StoreError::Other("stop".into()))
    );
    // Another practice cannot cancel it; the practice can, once.
    assert_eq!(
        store.cancel_approval(w.other, &a.number, at(50)).await,
        Err(StoreError::NotFound)
    );
    let c = store
        .cancel_approval(w.practice, &a.number, at(50))
        .await
        .unwrap();
    assert_eq!(c.status, ApprovalStatus::Cancelled);
    assert_eq!(c.closed_at, Some(at(50)));
    assert!(on("2026-03-01").await.is_empty(), "released");
    assert_eq!(
        store.cancel_approval(w.practice, &a.number, at(51)).await,
        Err(StoreError::Conflict {
            constraint: "approvals_status".into()
        })
    );
}

pub async fn an_invoice_round_trips_with_its_lines_marks_duplicates_and_consumes_its_approval(
    store: S,
) {
    let w = world(store.as_ref()).await;
    let a = approval(&w, "P0123456789ABCDEFGHJM");
    let a2 = a.clone();
    let reserve = vec![counter(&w, 0, Some((a.id, "2026-05-31")), None)];
    let r2 = reserve.clone();
    store
        .record_claim(&scope(&w, None, None), &move |_: &ClaimContext| {
            Ok(ClaimWrite::Approval {
                approval: a2.clone(),
                counters: r2.clone(),
            })
        })
        .await
        .unwrap();
    let mut inv = invoice(&w, "partial", &[10000, 0, 5006], "f1");
    inv.approval_id = Some(a.id);
    let used = vec![counter(&w, 0, None, Some(inv.id))];
    let (i2, u2, aid) = (inv.clone(), used.clone(), a.id);
    store
        .record_claim(
            &scope(&w, Some(&a.number), Some("f1")),
            &move |ctx: &ClaimContext| {
                assert!(!ctx.duplicate);
                Ok(ClaimWrite::Invoice {
                    invoice: i2.clone(),
                    counters: u2.clone(),
                    consume_approval: Some(aid),
                    kept: None,
                })
            },
        )
        .await
        .unwrap();
    assert_eq!(store.get_invoice(w.practice, inv.id).await.unwrap(), inv);
    assert_eq!(
        store.get_invoice(w.other, inv.id).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.list_invoices(w.practice, 10).await.unwrap(),
        vec![inv.clone()]
    );
    assert!(store.list_invoices(w.other, 10).await.unwrap().is_empty());
    // The approval is invoiced; its reservation gave way to the invoice's counter.
    let a_now = store
        .find_approval(w.practice, &a.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a_now.status, ApprovalStatus::Invoiced);
    assert_eq!(
        store
            .list_counters(w.insurer, w.beneficiary.id, day("2026-03-01"))
            .await
            .unwrap(),
        used
    );
    // The same fingerprint again is a duplicate, for that practice only.
    let seen = |s: ClaimScope| {
        let store = store.clone();
        async move {
            let r = store
                .record_claim(&s, &|ctx: &ClaimContext| Err(format!("{}", ctx.duplicate)))
                .await;
            r.unwrap_err()
        }
    };
    assert_eq!(
        seen(scope(&w, None, Some("f1"))).await,
        StoreError::Other("true".into())
    );
    assert_eq!(
        seen(scope(&w, None, Some("f2"))).await,
        StoreError::Other("false".into())
    );
    let mut elsewhere = scope(&w, None, Some("f1"));
    elsewhere.organisation_id = w.other;
    assert_eq!(seen(elsewhere).await, StoreError::Other("false".into()));
    // A rejected invoice is no duplicate marker.
    let rej = invoice(&w, "rejected", &[0], "f3");
    let r2 = rej.clone();
    store
        .record_claim(&scope(&w, None, Some("f3")), &move |_: &ClaimContext| {
            Ok(ClaimWrite::Invoice {
                invoice: r2.clone(),
                counters: Vec::new(),
                consume_approval: None,
                kept: None,
            })
        })
        .await
        .unwrap();
    assert_eq!(
        seen(scope(&w, None, Some("f3"))).await,
        StoreError::Other("false".into())
    );
}

pub async fn a_failed_decision_writes_nothing(store: S) {
    let w = world(store.as_ref()).await;
    let r = store
        .record_claim(&scope(&w, None, None), &|_: &ClaimContext| Err("no".into()))
        .await;
    assert_eq!(r, Err(StoreError::Other("no".into())));
    // A decision whose write breaks (a duplicate approval number) leaves nothing either.
    let a = approval(&w, "P0123456789ABCDEFGHJN");
    let first = a.clone();
    store
        .record_claim(&scope(&w, None, None), &move |_: &ClaimContext| {
            Ok(ClaimWrite::Approval {
                approval: first.clone(),
                counters: Vec::new(),
            })
        })
        .await
        .unwrap();
    let mut dup = approval(&w, &a.number);
    dup.id = new_id();
    let c = counter(&w, 0, Some((dup.id, "2026-05-31")), None);
    let r = store
        .record_claim(&scope(&w, None, None), &move |_: &ClaimContext| {
            Ok(ClaimWrite::Approval {
                approval: dup.clone(),
                counters: vec![c.clone()],
            })
        })
        .await;
    assert_eq!(
        r,
        Err(StoreError::Conflict {
            constraint: "approvals_number".into()
        })
    );
    assert!(
        store
            .list_counters(w.insurer, w.beneficiary.id, day("2026-03-01"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// An invoice's answer kept for its `Idempotency-Key` is written in the invoice's transaction:
/// both or neither. A record no longer running (dropped as stale, taken by another request)
/// refuses the whole claim.
pub async fn an_invoice_keeps_its_answer_with_it_or_writes_nothing(store: S) {
    let w = world(store.as_ref()).await;
    let route = "POST /api/v1/invoices";
    let record = IdempotencyRecord {
        id: new_id(),
        actor_id: new_id(),
        organisation_id: w.practice,
        route: route.into(),
        key: "inv-1".into(),
        request_hash: None,
        status: None,
        response: None,
        created_at: at(39),
        expires_at: at(39) + time::Duration::hours(24),
    };
    store.insert_idempotency(&record).await.unwrap();
    let kept = KeptAnswer {
        id: record.id,
        request_hash: vec![7; 32],
        status: 201,
        sealed: b"sealed answer".to_vec(),
    };
    let inv = invoice(&w, "accepted", &[1200], "k1");
    let (i2, k2) = (inv.clone(), kept.clone());
    store
        .record_claim(&scope(&w, None, Some("k1")), &move |_: &ClaimContext| {
            Ok(ClaimWrite::Invoice {
                invoice: i2.clone(),
                counters: Vec::new(),
                consume_approval: None,
                kept: Some(k2.clone()),
            })
        })
        .await
        .unwrap();
    assert_eq!(store.get_invoice(w.practice, inv.id).await.unwrap(), inv);
    let done = store
        .find_idempotency(record.actor_id, route, "inv-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, Some(201));
    assert_eq!(done.request_hash, Some(vec![7; 32]));
    assert_eq!(done.response, Some(b"sealed answer".to_vec()));
    // The record is gone: the claim is refused and writes nothing.
    store.delete_idempotency(record.id).await.unwrap();
    let lost = invoice(&w, "accepted", &[1300], "k2");
    let (l2, k3) = (lost.clone(), kept.clone());
    let r = store
        .record_claim(&scope(&w, None, Some("k2")), &move |_: &ClaimContext| {
            Ok(ClaimWrite::Invoice {
                invoice: l2.clone(),
                counters: vec![],
                consume_approval: None,
                kept: Some(k3.clone()),
            })
        })
        .await;
    assert_eq!(
        r,
        Err(StoreError::Conflict {
            constraint: "idempotency_running".into()
        })
    );
    assert_eq!(
        store.get_invoice(w.practice, lost.id).await,
        Err(StoreError::NotFound)
    );
}

/// The guard's "unused checks" review: per account, the rights checks of a window and how many
/// no approval and no invoice named within the delay (a late one counts as unused).
pub async fn engagement_uses_count_checks_not_followed_by_a_claim_in_time(store: S) {
    let w = world(store.as_ref()).await;
    let hour = 3600;
    let (optician, other) = (new_id(), new_id());
    let check = |actor: Uuid, org: Uuid, seconds: i64, n: u32| app::rights::EngagementRecord {
        id: new_id(),
        number: format!("E{n:020}"),
        insurer_id: w.insurer,
        beneficiary_id: w.beneficiary.id,
        card_id: new_id(),
        organisation_id: org,
        actor_id: actor,
        domain: domain::rights::CareDomain::Opti,
        regime: domain::rights::Regime::PriorApproval,
        care_date: day("2026-03-01"),
        valid_until: day("2026-05-31"),
        request_id: new_id(),
        created_at: at(seconds),
    };
    let e1 = check(optician, w.practice, 0, 1);
    let e2 = check(optician, w.practice, hour, 2);
    let e3 = check(optician, w.practice, 2 * hour, 3);
    let e4 = check(other, w.other, 0, 4);
    let e5 = check(optician, w.practice, 100 * hour, 5); // outside the window
    let e6 = check(optician, w.practice, -2 * hour, 6); // before the window
    for e in [&e1, &e2, &e3, &e4, &e5, &e6] {
        store.insert_engagement(e).await.unwrap();
    }
    // e1 invoiced 3 hours later (used); e2 approved 72 hours later (too late: unused); e4
    // invoiced within the delay; e3 invoiced 49 hours later (too late: unused), and the
    // practice's invoice of e6 in between names another check (no use of e3).
    let mut late_invoice = invoice(&w, "accepted", &[1100], "u3");
    late_invoice.engagement_id = e3.id;
    late_invoice.created_at = at(51 * hour);
    let mut inv6 = invoice(&w, "accepted", &[1200], "u6");
    inv6.engagement_id = e6.id;
    inv6.created_at = at(4 * hour);
    let mut inv = invoice(&w, "accepted", &[1000], "u1");
    inv.engagement_id = e1.id;
    inv.created_at = at(3 * hour);
    let mut inv4 = invoice(&w, "accepted", &[1000], "u4");
    inv4.engagement_id = e4.id;
    inv4.organisation_id = w.other;
    inv4.created_at = at(47 * hour);
    let mut late = approval(&w, "P0123456789ABCDEFGHJP");
    late.engagement_id = e2.id;
    late.created_at = at(74 * hour);
    for write in [
        ClaimWrite::Invoice {
            invoice: inv,
            counters: Vec::new(),
            consume_approval: None,
            kept: None,
        },
        ClaimWrite::Invoice {
            invoice: late_invoice,
            counters: Vec::new(),
            consume_approval: None,
            kept: None,
        },
        ClaimWrite::Invoice {
            invoice: inv6,
            counters: Vec::new(),
            consume_approval: None,
            kept: None,
        },
        ClaimWrite::Invoice {
            invoice: inv4,
            counters: Vec::new(),
            consume_approval: None,
            kept: None,
        },
        ClaimWrite::Approval {
            approval: late,
            counters: Vec::new(),
        },
    ] {
        store
            .record_claim(&scope(&w, None, None), &move |_: &ClaimContext| {
                Ok(write.clone())
            })
            .await
            .unwrap();
    }
    let mut counts = store
        .count_engagement_uses(at(-hour), at(10 * hour), 48)
        .await
        .unwrap();
    counts.sort_by_key(|c| c.due);
    let mut want = vec![
        app::guard::engagements::UnusedChecks {
            account_id: other,
            organisation_id: w.other,
            due: 1,
            unused: 0,
        },
        app::guard::engagements::UnusedChecks {
            account_id: optician,
            organisation_id: w.practice,
            due: 3,
            unused: 2,
        },
    ];
    want.sort_by_key(|c| c.due);
    assert_eq!(counts, want);
    // A longer delay makes the late invoice, then also the late approval, count as uses.
    let longer = store
        .count_engagement_uses(at(-hour), at(10 * hour), 50)
        .await
        .unwrap();
    let mine = longer.iter().find(|c| c.account_id == optician).unwrap();
    assert_eq!((mine.due, mine.unused), (3, 1));
    let longest = store
        .count_engagement_uses(at(-hour), at(10 * hour), 96)
        .await
        .unwrap();
    let mine = longest.iter().find(|c| c.account_id == optician).unwrap();
    assert_eq!((mine.due, mine.unused), (3, 0));
    // No check in the window: nothing.
    assert!(
        store
            .count_engagement_uses(at(200 * hour), at(300 * hour), 48)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Two tasks claim from one beneficiary's budget at once, many rounds: the decision reads the
/// counters under the transaction and draws at most what is left of a 100.00 ceiling. The sum
/// drawn never passes the ceiling.
pub async fn racing_claims_never_pay_more_than_the_ceiling(store: S) {
    let w = Arc::new(world(store.as_ref()).await);
    const CEILING: i64 = 10_000;
    const ROUNDS: usize = 40;
    let claim = |n: usize| {
        let store = store.clone();
        let w = w.clone();
        async move {
            for i in 0..ROUNDS {
                let inv_id = new_id();
                let fp = format!("t{n}-{i}");
                let w2 = w.clone();
                let decide = move |ctx: &ClaimContext| -> Result<ClaimWrite, String> {
                    let used: i64 = ctx.counters.iter().map(|c| c.amount_cents).sum();
                    let draw = (CEILING - used).clamp(0, 700);
                    let mut inv = invoice(
                        &w2,
                        if draw > 0 { "accepted" } else { "rejected" },
                        &[draw],
                        &fp,
                    );
                    inv.id = inv_id;
                    let counters = if draw > 0 {
                        vec![counter(&w2, draw, None, Some(inv_id))]
                    } else {
                        Vec::new()
                    };
                    Ok(ClaimWrite::Invoice {
                        invoice: inv,
                        counters,
                        consume_approval: None,
                        kept: None,
                    })
                };
                loop {
                    match store.record_claim(&scope(&w, None, None), &decide).await {
                        Ok(_) => break,
                        Err(StoreError::Retryable) => continue,
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
        }
    };
    tokio::join!(claim(1), claim(2));
    let counters = store
        .list_counters(w.insurer, w.beneficiary.id, day("2026-03-01"))
        .await
        .unwrap();
    let drawn: i64 = counters.iter().map(|c| c.amount_cents).sum();
    assert_eq!(drawn, CEILING, "exactly the ceiling, never more");
    let paid: i64 = store
        .list_invoices(w.practice, 200)
        .await
        .unwrap()
        .iter()
        .map(|i| i.total_cents)
        .sum();
    assert_eq!(paid, CEILING);
}
