//! The money path through the API on both backends, over the demo data set: rights check →
//! prior approval → invoice, golden amounts of the demo contracts to the cent, counters
//! reserved and released, idempotent invoices, a race for one approval, one ledger entry per
//! answer, and another practice's engagement or invoice answered 404.

use app::demo::{DemoCardRow, DemoSummary};
use app::store::{OrganisationRecord, PracticeRecord};
use domain::accounts::{OrganisationKind, Profession, Role};
use domain::ids::AmNumber;
use serde_json::{Value, json};
use testkit::{Backend, SignedIn, TestApp, backend_tests, spawn_app};

pub(crate) async fn seeded(backend: Backend) -> Option<(TestApp, DemoSummary)> {
    let app = spawn_app(backend).await?;
    let summary = app::demo::seed(&app.ports, 2024).await.unwrap();
    Some((app, summary))
}

fn date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn today(app: &TestApp) -> String {
    use app::Clock;
    date(app.clock.now().date())
}

/// The IBAN of the practices made by [`practice`].
pub(crate) const PRACTICE_IBAN: &str = testkit::TEST_PRACTICE_IBAN;

/// A practice of `profession` (AM number `97` + `n`, paid to [`PRACTICE_IBAN`]) and one of
/// its professionals, signed in.
pub(crate) async fn practice(app: &TestApp, profession: Profession, n: u32) -> SignedIn {
    use app::Clock;
    let id = app.ports.new_id();
    let now = app.clock.now();
    let iban_sealed = app.sealed_practice_iban(id);
    let name = format!("Cabinet {} {n}", profession.code());
    app.ports
        .store
        .insert_organisation(&OrganisationRecord {
            id,
            kind: OrganisationKind::Practice,
            name: name.clone(),
            created_at: now,
        })
        .await
        .unwrap();
    app.ports
        .store
        .insert_practice(&PracticeRecord {
            id,
            name,
            profession,
            am_number: AmNumber::parse(&format!("97{n:07}")).unwrap(),
            finess: None,
            siret: None,
            iban_sealed,
            created_at: now,
        })
        .await
        .unwrap();
    app.enrol(Role::Professional, id).await
}

/// Demo patients who are alone in their family with their birth date and rank, adults (≥ 20
/// on the test day: no age band changes their amounts), with their contract code.
pub(crate) async fn patients(app: &TestApp, summary: &DemoSummary) -> Vec<(DemoCardRow, String)> {
    let mut out = Vec::new();
    for row in &summary.cards {
        let alone = summary
            .cards
            .iter()
            .filter(|o| {
                o.member_number == row.member_number
                    && o.birth_date == row.birth_date
                    && o.birth_rank == row.birth_rank
            })
            .count()
            == 1;
        if !alone || row.birth_date.year() > 2000 {
            continue;
        }
        out.push((row.clone(), String::new()));
        if out.len() >= 40 {
            break;
        }
    }
    let _ = app;
    out
}

/// A rights check for `row` in `domain`: the engagement number and the contract code.
pub(crate) async fn engagement(
    app: &TestApp,
    who: &SignedIn,
    row: &DemoCardRow,
    domain: &str,
) -> (String, String) {
    let body = json!({
        "card": {"token": row.token},
        "patient": {"birth_date": date(row.birth_date), "birth_rank": row.birth_rank},
        "domain": domain,
        "care_date": today(app),
    });
    let response = app.post_as(who, "/api/v1/rights-checks", &body).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let number = answer["engagement"].as_str().unwrap().to_string();
    let e = app
        .ports
        .store
        .find_engagement(who.organisation_id, &number)
        .await
        .unwrap()
        .unwrap();
    let b = app
        .ports
        .store
        .get_beneficiary(e.insurer_id, e.beneficiary_id)
        .await
        .unwrap();
    let c = app
        .ports
        .store
        .get_contract(e.insurer_id, b.contract_id)
        .await
        .unwrap();
    (number, c.code.as_str().to_string())
}

fn line(kind: &str, class: Option<&str>, extra: Value, price: i64, br: i64, amo: i64) -> Value {
    let mut l = json!({"kind": kind, "price_cents": price, "br_cents": br, "amo_cents": amo});
    if let Some(c) = class {
        l["class"] = json!(c);
    }
    if let Value::Object(m) = extra {
        for (k, v) in m {
            l[k] = v;
        }
    }
    l
}

/// Class B frame 150.00 + two simple lenses 120.00 (BR 0.05 each, AMO 0.03 each).
fn optics_b() -> Value {
    json!([
        line("frame", Some("B"), json!({}), 15000, 5, 3),
        line(
            "lens",
            Some("B"),
            json!({"complexity": "simple"}),
            12000,
            5,
            3
        ),
        line(
            "lens",
            Some("B"),
            json!({"complexity": "simple"}),
            12000,
            5,
            3
        ),
    ])
}

async fn approve(app: &TestApp, who: &SignedIn, engagement: &str, lines: &Value) -> (u16, Value) {
    let r = app
        .post_as(
            who,
            "/api/v1/prior-approvals",
            &json!({"engagement": engagement, "lines": lines}),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn invoice(
    app: &TestApp,
    who: &SignedIn,
    key: &str,
    body: &Value,
) -> (u16, Value, bool) {
    let r = app
        .request_as(who, reqwest::Method::POST, "/api/v1/invoices")
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    (status, r.json().await.unwrap_or(Value::Null), replayed)
}

fn amounts(answer: &Value) -> Vec<i64> {
    answer["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amc_cents"].as_i64().unwrap())
        .collect()
}

fn assert_sum(answer: &Value) {
    let sum: i64 = amounts(answer).iter().sum();
    assert_eq!(answer["total_cents"].as_i64().unwrap(), sum, "{answer}");
    for l in answer["lines"].as_array().unwrap() {
        let steps = l["steps"].as_array().unwrap();
        assert!(!steps.is_empty());
        assert_eq!(steps.last().unwrap()["after"], l["amc_cents"]);
    }
}

async fn golden_amounts_end_to_end(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = practice(&app, Profession::Optician, 1).await;
    let audio = practice(&app, Profession::AudioProsthetist, 2).await;
    let dentist = practice(&app, Profession::Dentist, 3).await;
    let people = patients(&app, &summary).await;
    let mut seen = std::collections::BTreeSet::new();
    for (i, (row, _)) in people.iter().enumerate() {
        // Optics class B: approval, then the invoice held to it.
        let (number, code) = engagement(&app, &optician, row, "OPTI").await;
        if !seen.insert(code.clone()) && seen.len() < 2 {
            continue;
        }
        let (frame, lenses) = if code == "ESSENTIEL" {
            (10000, 5006)
        } else {
            (10000, 20006)
        };
        let (status, approval) = approve(&app, &optician, &number, &optics_b()).await;
        assert_eq!(status, 201, "{approval}");
        assert_eq!(approval["decision"], "accepted");
        assert_eq!(
            approval["total_cents"],
            frame + lenses,
            "{code}: {approval}"
        );
        assert_sum(&approval);
        let body = json!({"engagement": number, "approval": approval["number"], "care_date": today(&app), "lines": optics_b()});
        let (status, answer, _) = invoice(&app, &optician, &format!("o-{i}"), &body).await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!(answer["status"], "accepted", "{answer}");
        assert_eq!(answer["contract"], code.as_str());
        assert_eq!(answer["total_cents"], frame + lenses, "{code}: {answer}");
        assert_eq!(amounts(&answer)[0], frame, "frame limit");
        assert_sum(&answer);
        let rules: Vec<&str> = answer["lines"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["rule"].as_str().unwrap())
            .collect();
        // The frame's 100.00 € comes from the frame limit or from the class B ceiling's
        // allocation (frames first), whichever binds.
        assert!(
            rules.contains(&"frame_limit") || rules.contains(&"class_b_ceiling"),
            "{rules:?}"
        );

        // Hearing class II at 2,000.00: ESSENTIEL 960.00, CONFORT capped at 1,460.00.
        let (number, _) = engagement(&app, &audio, row, "AUDI").await;
        let aid = json!([line(
            "hearing_aid",
            Some("II"),
            json!({"ear": "left"}),
            200000,
            40000,
            24000
        )]);
        let (status, approval) = approve(&app, &audio, &number, &aid).await;
        assert_eq!(status, 201, "{approval}");
        let expected = if code == "ESSENTIEL" { 96000 } else { 146000 };
        assert_eq!(approval["total_cents"], expected, "{code}: {approval}");
        let body = json!({"engagement": number, "approval": approval["number"], "care_date": today(&app), "lines": aid});
        let (status, answer, _) = invoice(&app, &audio, &format!("a-{i}"), &body).await;
        assert_eq!(status, 201);
        assert_eq!(answer["total_cents"], expected, "{code}: {answer}");
        if code == "CONFORT" {
            let last = answer["lines"][0]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["rule"] == "class_ii_cap");
            assert!(last, "{answer}");
        }

        // Dental crown 500.00, BR 107.50, AMO 75.25: 300% → 247.25, 400% → 354.75.
        let (number, _) = engagement(&app, &dentist, row, "DENT").await;
        let crown = json!([line("prosthesis", None, json!({}), 50000, 10750, 7525)]);
        let (status, approval) = approve(&app, &dentist, &number, &crown).await;
        assert_eq!(status, 201, "{approval}");
        let expected = if code == "ESSENTIEL" { 24725 } else { 35475 };
        let body = json!({"engagement": number, "approval": approval["number"], "care_date": today(&app), "lines": crown});
        let (status, answer, _) = invoice(&app, &dentist, &format!("d-{i}"), &body).await;
        assert_eq!(status, 201);
        assert_eq!(answer["total_cents"], expected, "{code}: {answer}");
        // Without its approval, a prosthesis is rejected.
        // (another crown: the same lines again would be a duplicate invoice first)
        let other = json!([line("prosthesis", None, json!({}), 50100, 10750, 7525)]);
        let body = json!({"engagement": number, "care_date": today(&app), "lines": other});
        let (_, answer, _) = invoice(&app, &dentist, &format!("d2-{i}"), &body).await;
        assert_eq!(answer["status"], "rejected");
        assert_eq!(answer["lines"][0]["rejection"], "approval_missing");
        if seen.len() == 2 && seen.contains("ESSENTIEL") && seen.contains("CONFORT") {
            break;
        }
    }
    assert!(
        seen.contains("ESSENTIEL") && seen.contains("CONFORT"),
        "{seen:?}"
    );
    app.cleanup().await;
}

async fn an_approval_reserves_the_renewal_and_cancelling_releases_it(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = practice(&app, Profession::Optician, 4).await;
    let people = patients(&app, &summary).await;
    let row = &people[0].0;
    let (e1, _) = engagement(&app, &optician, row, "OPTI").await;
    let (status, first) = approve(&app, &optician, &e1, &optics_b()).await;
    assert_eq!(status, 201);
    assert_eq!(first["status"], "active");
    // A second equipment within 24 months: the first's reservation counts.
    let (e2, _) = engagement(&app, &optician, row, "OPTI").await;
    let (_, second) = approve(&app, &optician, &e2, &optics_b()).await;
    assert_eq!(second["decision"], "rejected", "{second}");
    assert_eq!(
        second["lines"][0]["rejection"],
        "renewal_period_not_reached"
    );
    // Cancelled: released.
    let cancel = app
        .post_as(
            &optician,
            &format!(
                "/api/v1/prior-approvals/{}/cancel",
                first["number"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(cancel.status(), 200);
    let cancelled: Value = cancel.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    let again = app
        .post_as(
            &optician,
            &format!(
                "/api/v1/prior-approvals/{}/cancel",
                first["number"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), 409);
    let (_, third) = approve(&app, &optician, &e2, &optics_b()).await;
    assert_eq!(third["decision"], "accepted", "{third}");
    // The cancelled approval cannot be invoiced.
    let body = json!({"engagement": e1, "approval": first["number"], "care_date": today(&app), "lines": optics_b()});
    let (_, answer, _) = invoice(&app, &optician, "k-cancelled", &body).await;
    assert_eq!(answer["lines"][0]["rejection"], "approval_expired");
    app.cleanup().await;
}

async fn an_invoice_key_replays_the_answer_and_counts_once(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = practice(&app, Profession::Optician, 5).await;
    let people = patients(&app, &summary).await;
    let row = &people[1].0;
    let (number, _) = engagement(&app, &optician, row, "OPTI").await;
    let (_, approval) = approve(&app, &optician, &number, &optics_b()).await;
    let body = json!({"engagement": number, "approval": approval["number"], "care_date": today(&app), "lines": optics_b()});
    let ledger_before = app.ports.store.ledger_size().await.unwrap();
    let (s1, a1, r1) = invoice(&app, &optician, "same-key", &body).await;
    let (s2, a2, r2) = invoice(&app, &optician, "same-key", &body).await;
    assert_eq!((s1, s2), (201, 201));
    assert!(!r1 && r2);
    assert_eq!(a1, a2);
    assert_eq!(
        app.ports.store.ledger_size().await.unwrap(),
        ledger_before + 1
    );
    let list: Value = app
        .get_as(&optician, "/api/v1/invoices")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Without a key: 400; the same key with another body: 422.
    let r = app.post_as(&optician, "/api/v1/invoices", &body).await;
    assert_eq!(r.status(), 400);
    let mut other = body.clone();
    other["care_date"] = json!("2020-01-01");
    let (s, _, _) = invoice(&app, &optician, "same-key", &other).await;
    assert_eq!(s, 422);
    // Another key, the same invoice: a duplicate.
    let (_, dup, _) = invoice(&app, &optician, "other-key", &body).await;
    assert_eq!(dup["status"], "rejected");
    assert_eq!(dup["total_cents"], 0);
    app.cleanup().await;
}

async fn two_invoices_racing_for_one_approval_pay_it_once(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let audio = practice(&app, Profession::AudioProsthetist, 6).await;
    let people = patients(&app, &summary).await;
    for (round, (row, _)) in people.iter().take(5).enumerate() {
        let (number, _) = engagement(&app, &audio, row, "AUDI").await;
        let aid = json!([line(
            "hearing_aid",
            Some("I"),
            json!({"ear": "right"}),
            95000,
            40000,
            24000
        )]);
        let (_, approval) = approve(&app, &audio, &number, &aid).await;
        assert_eq!(approval["total_cents"], 71000);
        // Two different invoices (prices differ) quoting the same approval, at once.
        let cheaper = json!([line(
            "hearing_aid",
            Some("I"),
            json!({"ear": "right"}),
            94000,
            40000,
            24000
        )]);
        let b1 = json!({"engagement": number, "approval": approval["number"], "care_date": today(&app), "lines": aid});
        let b2 = json!({"engagement": number, "approval": approval["number"], "care_date": today(&app), "lines": cheaper});
        let (k1, k2) = (format!("r1-{round}"), format!("r2-{round}"));
        let (x, y) = tokio::join!(
            invoice(&app, &audio, &k1, &b1),
            invoice(&app, &audio, &k2, &b2)
        );
        assert_eq!((x.0, y.0), (201, 201));
        let paid = x.1["total_cents"].as_i64().unwrap() + y.1["total_cents"].as_i64().unwrap();
        assert!(paid <= 71000 && paid > 0, "round {round}: {} {}", x.1, y.1);
        let statuses = [
            x.1["status"].as_str().unwrap(),
            y.1["status"].as_str().unwrap(),
        ];
        assert!(statuses.contains(&"rejected"), "{statuses:?}");
    }
    app.cleanup().await;
}

async fn each_answer_is_ledgered_and_another_practice_gets_404(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = practice(&app, Profession::Optician, 7).await;
    let other = practice(&app, Profession::Optician, 8).await;
    let people = patients(&app, &summary).await;
    let row = &people[2].0;
    let (number, _) = engagement(&app, &optician, row, "OPTI").await;
    let start = app.ports.store.ledger_size().await.unwrap();
    let (_, approval) = approve(&app, &optician, &number, &optics_b()).await;
    let body = json!({"engagement": number, "approval": approval["number"], "care_date": today(&app), "lines": optics_b()});
    let (_, answer, _) = invoice(&app, &optician, "k1", &body).await;
    let entries = app
        .ports
        .store
        .list_ledger_entries(start, 10)
        .await
        .unwrap();
    let purposes: Vec<&str> = entries.iter().map(|e| e.purpose.as_str()).collect();
    assert_eq!(purposes, ["prior_approval", "invoice"]);
    assert!(
        entries
            .iter()
            .all(|e| e.organisation_id == optician.organisation_id)
    );
    assert_eq!(entries[0].categories, "approval");
    assert_eq!(entries[1].categories, "payment");
    // The other practice: the engagement, the approval and the invoice do not exist for it.
    let (s, _) = approve(&app, &other, &number, &optics_b()).await;
    assert_eq!(s, 404);
    let (s, _, _) = invoice(&app, &other, "k2", &body).await;
    assert_eq!(s, 404);
    let id = answer["id"].as_str().unwrap();
    assert_eq!(
        app.get_as(&other, &format!("/api/v1/invoices/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as(&optician, &format!("/api/v1/invoices/{id}"))
            .await
            .status(),
        200
    );
    let n = approval["number"].as_str().unwrap();
    assert_eq!(
        app.get_as(&other, &format!("/api/v1/prior-approvals/{n}"))
            .await
            .status(),
        404
    );
    assert_eq!(app.ports.store.ledger_size().await.unwrap(), start + 2);
    // A malformed line names its field.
    let bad = json!({"engagement": number, "care_date": today(&app), "lines": [line("lens", Some("Z"), json!({}), 1, 1, 0)]});
    let r = app
        .request_as(&optician, reqwest::Method::POST, "/api/v1/invoices")
        .header("idempotency-key", "k3")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("lines[0].class"));
    app.cleanup().await;
}

/// Degraded mode: while PHAR lookups are switched off, a pharmacy bills with the card and the
/// patient instead of an engagement; honoured up to the card's printed rate, ledgered, a
/// duplicate is caught; a wrong patient is the 404 of a non-match; without a switch on the care
/// day, the engagement is required.
async fn a_degraded_mode_invoice_is_honoured_while_lookups_are_switched_off(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let pharmacy = practice(&app, Profession::Pharmacist, 31).await;
    let (row, _) = patients(&app, &summary).await.remove(0);
    let body = |birth: &str| {
        json!({
            "card": {"token": row.token},
            "patient": {"birth_date": birth, "birth_rank": row.birth_rank},
            "domain": "PHAR",
            "care_date": today(&app),
            "lines": [line("other", None, json!({}), 1_000, 1_000, 650)],
        })
    };
    let birth = date(row.birth_date);
    // No switch: the engagement is required.
    let (status, answer, _) = invoice(&app, &pharmacy, "d0", &body(&birth)).await;
    assert_eq!(status, 422, "{answer}");
    // … whoever the patient is: outside degraded mode the answer tells no match apart.
    let (status, other, _) = invoice(&app, &pharmacy, "d0b", &body("1901-02-03")).await;
    assert_eq!(status, 422, "{other}");
    assert_eq!(other["detail"], answer["detail"]);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .starts_with("engagement:")
    );

    let other = app::guard::Guard::from_ports(&app.ports, app::guard::GuardConfig::default());
    other
        .switch_off(None, app::guard::Scope::Domain("PHAR".into()), None)
        .await
        .unwrap();
    let before = app.ports.store.ledger_size().await.unwrap();
    let (status, answer, _) = invoice(&app, &pharmacy, "d1", &body(&birth)).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["care_date"], today(&app), "{answer}");
    assert_eq!(answer["status"], "accepted", "{answer}");
    // 100% BR − AMO = 3.50 €, within the card's printed PHAR rate.
    assert_eq!(amounts(&answer), vec![350]);
    assert_eq!(app.ports.store.ledger_size().await.unwrap(), before + 1);
    // The same care again: a duplicate.
    let (_, again, _) = invoice(&app, &pharmacy, "d2", &body(&birth)).await;
    assert_eq!(again["status"], "rejected");
    assert_eq!(again["lines"][0]["rejection"], "duplicate_invoice");
    // Someone else's birth date: the non-match answer, nothing disclosed.
    let (status, _, _) = invoice(&app, &pharmacy, "d3", &body("1901-02-03")).await;
    assert_eq!(status, 404);
    // Both the engagement and the card: refused, naming the field.
    let mut both = body(&birth);
    both["engagement"] = json!("E0000000000000000000");
    let (status, answer, _) = invoice(&app, &pharmacy, "d4", &both).await;
    assert_eq!(status, 422);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .starts_with("engagement:")
    );
    // The guard watches these lookups too: guessing birth dates gets the account suspended
    // (the 11th non-match), and then nothing answers.
    let mut last = 0;
    for i in 0..12 {
        let guess = body(&format!("1902-03-{:02}", i + 1));
        let (status, _, _) = invoice(&app, &pharmacy, &format!("g{i}"), &guess).await;
        last = status;
        if status == 403 {
            break;
        }
        assert_eq!(status, 404);
    }
    assert_eq!(last, 403, "never suspended");
    let (status, answer, _) = invoice(&app, &pharmacy, "d5", &body(&birth)).await;
    assert_eq!(status, 403);
    assert_eq!(
        answer["type"], "urn:rempart:problem:account-suspended",
        "{answer}"
    );
    app.cleanup().await;
}

backend_tests!(a_degraded_mode_invoice_is_honoured_while_lookups_are_switched_off,);

backend_tests!(
    golden_amounts_end_to_end,
    an_approval_reserves_the_renewal_and_cancelling_releases_it,
    an_invoice_key_replays_the_answer_and_counts_once,
    two_invoices_racing_for_one_approval_pay_it_once,
    each_answer_is_ledgered_and_another_practice_gets_404,
);
