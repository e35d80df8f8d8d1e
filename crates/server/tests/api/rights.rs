//! Rights checks (`POST /api/v1/rights-checks`) and the access log
//! (`/api/v1/insurers/{amc}/members/{member}/access-log…`) on both backends, over the demo
//! data set (real card tokens and verification codes).

use app::demo::{DemoCardRow, DemoSummary};
use app::store::{OrganisationRecord, PracticeRecord};
use domain::accounts::{OrganisationKind, Profession, Role};
use domain::ids::AmNumber;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use testkit::{Backend, SignedIn, TestApp, backend_tests, spawn_app};

const ROUTE: &str = "/api/v1/rights-checks";
const ALLOWED: [&str; 6] = [
    "covered",
    "domain",
    "care_date",
    "regime",
    "engagement",
    "valid_until",
];

async fn seeded(backend: Backend) -> Option<(TestApp, DemoSummary)> {
    let app = spawn_app(backend).await?;
    let summary = app::demo::seed(&app.ports, 2024).await.unwrap();
    Some((app, summary))
}

fn today(app: &TestApp) -> String {
    use app::Clock;
    let d = app.clock.now().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A practice of `profession` and a professional of it, signed in.
async fn professional(app: &TestApp, profession: Profession, n: u32) -> SignedIn {
    use app::Clock;
    let id = app.ports.new_id();
    let now = app.clock.now();
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
            am_number: AmNumber::parse(&format!("98{n:07}")).unwrap(),
            finess: None,
            siret: None,
            iban_sealed: vec![0],
            created_at: now,
        })
        .await
        .unwrap();
    app.enrol(Role::Professional, id).await
}

fn by_token(app: &TestApp, row: &DemoCardRow, domain: &str) -> Value {
    json!({
        "card": {"token": row.token},
        "patient": {"birth_date": date(row.birth_date), "birth_rank": row.birth_rank},
        "domain": domain,
        "care_date": today(app),
    })
}

fn typed(app: &TestApp, amc: &str, row: &DemoCardRow, code: &str, domain: &str) -> Value {
    json!({
        "card": {"amc": amc, "member_number": row.member_number, "verification_code": code},
        "patient": {"birth_date": date(row.birth_date), "birth_rank": row.birth_rank},
        "domain": domain,
        "care_date": today(app),
    })
}

async fn check(app: &TestApp, who: &SignedIn, body: &Value) -> (u16, String) {
    let response = app.post_as(who, ROUTE, body).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Rows of the demo whose patient is the only one of the family with that date and rank.
fn unique_rows(summary: &DemoSummary) -> Vec<&DemoCardRow> {
    summary
        .cards
        .iter()
        .filter(|row| {
            summary
                .cards
                .iter()
                .filter(|o| {
                    o.member_number == row.member_number
                        && o.birth_date == row.birth_date
                        && o.birth_rank == row.birth_rank
                })
                .count()
                == 1
        })
        .collect()
}

fn amc_of(summary: &DemoSummary, app: &TestApp, row: &DemoCardRow) -> String {
    let claims = crypto::cards::verify(&row.token, &app.ports.vault.card_keys()).unwrap();
    assert!(summary.insurers.iter().any(|i| i.amc == claims.amc_number));
    claims.amc_number
}

/// The engagements (rights checks answered "covered") stored for `account` today.
async fn engagements_of(app: &TestApp, account: uuid::Uuid) -> u32 {
    let now = app.ports.clock.now();
    app.ports
        .store
        .count_engagement_uses(
            now - time::Duration::days(1),
            now + time::Duration::days(1),
            0,
        )
        .await
        .unwrap()
        .iter()
        .filter(|u| u.account_id == account)
        .map(|u| u.due)
        .sum()
}

async fn ledger_size(app: &TestApp) -> u64 {
    app.ports.store.ledger_size().await.unwrap()
}

async fn answers_carry_only_the_allowed_fields_for_every_profession(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let rows = unique_rows(&summary);
    let mut covered = 0;
    for (n, profession) in Profession::ALL.into_iter().enumerate() {
        let who = professional(&app, profession, n as u32).await;
        for &domain in profession.domains() {
            for row in rows.iter().take(3) {
                let (status, body) = check(&app, &who, &by_token(&app, row, domain.code())).await;
                assert_eq!(status, 200, "{profession:?} {domain}: {body}");
                let answer: Value = serde_json::from_str(&body).unwrap();
                let keys: BTreeSet<&str> = answer
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                assert!(
                    keys.iter().all(|k| ALLOWED.contains(k)),
                    "{profession:?}: {keys:?}"
                );
                assert_eq!(answer["domain"], domain.code());
                assert_eq!(answer["care_date"], today(&app));
                // Never an identifier or a person: no member number, birth date, name.
                assert!(!body.contains(&row.member_number), "{body}");
                assert!(!body.contains(&date(row.birth_date)), "{body}");
                assert!(!body.contains(&row.first_name), "{body}");
                if answer["covered"] == true {
                    covered += 1;
                    assert_eq!(keys.len(), 6, "{body}");
                    let number = answer["engagement"].as_str().unwrap();
                    assert!(app::rights::is_engagement_number(number), "{number}");
                    let stored = app
                        .ports
                        .store
                        .find_engagement(who.organisation_id, number)
                        .await
                        .unwrap()
                        .unwrap();
                    assert_eq!(stored.domain, domain);
                    let kind = answer["regime"]["kind"].as_str().unwrap();
                    assert!(kind == "rate" || kind == "prior_approval", "{body}");
                    if domain.needs_prior_approval() {
                        assert_eq!(kind, "prior_approval");
                    }
                } else {
                    assert_eq!(keys.len(), 3, "{body}");
                }
            }
        }
    }
    assert!(covered > 0, "no covered answer at all");
    app.cleanup().await;
}

async fn every_non_match_is_byte_identical_and_an_optician_asking_phar_is_one(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = professional(&app, Profession::Optician, 1).await;
    let rows = unique_rows(&summary);
    let row = rows[0];
    let amc = amc_of(&summary, &app, row);
    // The genuine check answers.
    let (status, _) = check(&app, &optician, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 200);
    let (status, _) = check(
        &app,
        &optician,
        &typed(&app, &amc, row, &row.verification_code, "OPTI"),
    )
    .await;
    assert_eq!(status, 200);
    let before = ledger_size(&app).await;

    let mut tampered = row.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let other_family = rows
        .iter()
        .find(|r| r.member_number != row.member_number)
        .unwrap();
    let mut cases: Vec<(&str, Value)> = vec![
        ("malformed token", {
            let mut b = by_token(&app, row, "OPTI");
            b["card"]["token"] = json!("RP1.garbage");
            b
        }),
        ("tampered token", {
            let mut b = by_token(&app, row, "OPTI");
            b["card"]["token"] = json!(tampered);
            b
        }),
        ("wrong birth date", {
            let mut b = by_token(&app, row, "OPTI");
            b["patient"]["birth_date"] = json!("1901-02-03");
            b
        }),
        ("wrong birth rank", {
            let mut b = by_token(&app, row, "OPTI");
            b["patient"]["birth_rank"] = json!(9);
            b
        }),
        ("another family's patient", {
            let mut b = by_token(&app, row, "OPTI");
            b["patient"]["birth_date"] = json!(date(other_family.birth_date));
            b["patient"]["birth_rank"] = json!(other_family.birth_rank);
            b
        }),
        ("expired card", {
            let mut b = by_token(&app, row, "OPTI");
            b["care_date"] = json!("2025-12-31");
            b
        }),
        ("bad code", typed(&app, &amc, row, "0000-0000", "OPTI")),
        ("not a code", typed(&app, &amc, row, "?", "OPTI")),
        (
            "unknown insurer",
            typed(&app, "999999999", row, &row.verification_code, "OPTI"),
        ),
        ("unknown member", {
            let mut b = typed(&app, &amc, row, &row.verification_code, "OPTI");
            b["card"]["member_number"] = json!("0000000001");
            b
        }),
        ("optician asking PHAR", by_token(&app, row, "PHAR")),
        (
            "optician asking PHAR, typed",
            typed(&app, &amc, row, &row.verification_code, "PHAR"),
        ),
    ];
    // Each kind from its own optician practice: the guard's non-match signal (a passkey check
    // after 5 non-matches) is tested on its own below.
    let mut bodies = BTreeSet::new();
    for (i, (kind, body)) in cases.drain(..).enumerate() {
        let asker = professional(&app, Profession::Optician, 100 + i as u32).await;
        let response = app.post_as(&asker, ROUTE, &body).await;
        assert_eq!(response.status(), 404, "{kind}");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/problem+json",
            "{kind}"
        );
        let bytes = response.bytes().await.unwrap();
        bodies.insert(bytes.to_vec());
    }
    assert_eq!(bodies.len(), 1, "non-match bodies differ");
    let body = String::from_utf8(bodies.into_iter().next().unwrap()).unwrap();
    assert_eq!(body, web::api::rights::NO_MATCH_BODY);
    // Nothing was disclosed, so nothing was ledgered.
    assert_eq!(ledger_size(&app).await, before);
    app.cleanup().await;
}

async fn each_answer_has_exactly_one_ledger_entry(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = professional(&app, Profession::Optician, 1).await;
    let rows = unique_rows(&summary);
    let start = ledger_size(&app).await;
    for (i, row) in rows.iter().take(5).enumerate() {
        let (status, body) = check(&app, &optician, &by_token(&app, row, "OPTI")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(ledger_size(&app).await, start + i as u64 + 1);
    }
    let entries = app
        .ports
        .store
        .list_ledger_entries(start, 100)
        .await
        .unwrap();
    assert_eq!(entries.len(), 5);
    for e in &entries {
        assert_eq!(e.purpose, "rights_check");
        assert_eq!(e.organisation_id, optician.organisation_id);
        assert_eq!(e.account_id, Some(optician.account_id));
        assert!(e.credential.starts_with("passkey:"), "{}", e.credential);
        assert!(e.categories.starts_with("coverage"), "{}", e.categories);
    }
    app.cleanup().await;
}

async fn a_ledger_that_cannot_be_written_fails_the_check(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = professional(&app, Profession::Optician, 1).await;
    let rows = unique_rows(&summary);
    let row = rows[0];
    let before = ledger_size(&app).await;
    let engagements = engagements_of(&app, optician.account_id).await;
    app.store.set_ledger_down(true);
    let (status, body) = check(&app, &optician, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 503, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["type"], "urn:rempart:problem:unavailable");
    assert!(problem.get("engagement").is_none() && problem.get("covered").is_none());
    app.store.set_ledger_down(false);
    assert_eq!(ledger_size(&app).await, before);
    // No payment guarantee without its disclosure on record.
    assert_eq!(engagements_of(&app, optician.account_id).await, engagements);
    let (status, body) = check(&app, &optician, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 200);
    assert_eq!(ledger_size(&app).await, before + 1);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["covered"],
        json!(true)
    );
    assert_eq!(
        engagements_of(&app, optician.account_id).await,
        engagements + 1
    );
    app.cleanup().await;
}

async fn bad_input_is_refused_naming_the_field(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = professional(&app, Profession::Optician, 1).await;
    let row = &summary.cards[0];
    let good = by_token(&app, row, "OPTI");
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut b = good.clone();
                b["domain"] = json!("CURE");
                b
            },
            "domain",
        ),
        (
            {
                let mut b = good.clone();
                b["care_date"] = json!("2026-02-30");
                b
            },
            "care_date",
        ),
        (
            {
                let mut b = good.clone();
                b["care_date"] = json!("2024-01-01");
                b
            },
            "care_date",
        ),
        (
            {
                let mut b = good.clone();
                b["patient"]["birth_date"] = json!("04/01/1957");
                b
            },
            "patient.birth_date",
        ),
        (
            {
                let mut b = good.clone();
                b["patient"]["birth_rank"] = json!(0);
                b
            },
            "patient.birth_rank",
        ),
        (
            {
                let mut b = good.clone();
                b["card"] = json!({});
                b
            },
            "card",
        ),
        (
            {
                let mut b = good.clone();
                b["nir"] = json!("1570175123456");
                b
            },
            "nir",
        ),
    ];
    for (body, field) in cases {
        let (status, text) = check(&app, &optician, &body).await;
        assert_eq!(status, 422, "{field}: {text}");
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert!(
            problem["detail"].as_str().unwrap().starts_with(field),
            "{field}: {text}"
        );
    }
    let response = app
        .client
        .post(app.url(ROUTE))
        .header("cookie", &optician.cookie)
        .header("origin", &app.origin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // Insurer staff do not run rights checks.
    let insurer = app.given_organisation(OrganisationKind::Insurer).await;
    let staff = app.enrol(Role::InsurerStaff, insurer).await;
    let (status, _) = check(&app, &staff, &good).await;
    assert_eq!(status, 403);
    app.cleanup().await;
}

async fn the_openapi_document_has_no_route_that_searches_or_lists_beneficiaries(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths[ROUTE].get("post").is_some());
    assert_eq!(paths[ROUTE].as_object().unwrap().len(), 1, "only POST");
    for (path, item) in paths {
        let lower = path.to_lowercase();
        for (method, op) in item.as_object().unwrap() {
            // No read of beneficiaries, whatever the path calls them.
            if method == "get" {
                assert!(
                    !lower.contains("beneficiar") && !lower.contains("patient"),
                    "{method} {path}"
                );
                if lower.contains("{member}") {
                    assert!(lower.ends_with("/access-log"), "{method} {path}");
                }
            }
            // No parameter that searches people.
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default().to_lowercase();
                let banned = [
                    "nir",
                    "name",
                    "first_name",
                    "last_name",
                    "search",
                    "q",
                    "query",
                ];
                assert!(
                    !banned.contains(&name.as_str())
                        && !name.contains("birth")
                        && !name.contains("nir"),
                    "{method} {path} takes {name}"
                );
            }
        }
    }
    app.cleanup().await;
}

/// The demo's first insurer's staff, signed in.
async fn insurer_staff(app: &TestApp, summary: &DemoSummary, index: usize) -> SignedIn {
    app.enrol(Role::InsurerStaff, summary.insurers[index].id)
        .await
}

async fn the_access_log_shows_who_when_what_and_why_to_the_own_insurer_only(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = professional(&app, Profession::Optician, 1).await;
    let rows = unique_rows(&summary);
    let row = rows[0];
    let amc = amc_of(&summary, &app, row);
    let own = summary.insurers.iter().position(|i| i.amc == amc).unwrap();
    let (status, _) = check(&app, &optician, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 200);
    let (status, _) = check(&app, &optician, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 200);
    let path = format!(
        "/api/v1/insurers/{amc}/members/{}/access-log",
        row.member_number
    );
    let staff = insurer_staff(&app, &summary, own).await;
    let response = app.get_as(&staff, &path).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let log: Value = serde_json::from_str(&text).unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{text}");
    assert!(entries[0]["entry"].as_u64().unwrap() > entries[1]["entry"].as_u64().unwrap());
    let first = &entries[0];
    assert_eq!(first["organisation"], "Cabinet optician 1");
    assert_eq!(first["profession"], "optician");
    assert_eq!(first["purpose"], "rights_check");
    assert_eq!(first["reported"], false);
    assert!(
        first["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("coverage"))
    );
    // Never a person's account id or credential.
    assert!(!text.contains(&optician.account_id.to_string()), "{text}");
    assert!(!text.contains("passkey:"), "{text}");
    // Paging: one per page, then the next.
    let page: Value = app
        .get_as(&staff, &format!("{path}?limit=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
    let next = page["next_before"].as_u64().unwrap();
    let rest: Value = app
        .get_as(&staff, &format!("{path}?limit=1&before={next}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["entries"][0]["entry"], entries[1]["entry"]);
    assert!(rest.get("next_before").is_none());

    // Another insurer's staff, the professional, an unknown member: 404 alike.
    let other = insurer_staff(&app, &summary, 1 - own).await;
    assert_eq!(app.get_as(&other, &path).await.status(), 404);
    assert_eq!(app.get_as(&optician, &path).await.status(), 404);
    let unknown = format!("/api/v1/insurers/{amc}/members/0000000001/access-log");
    assert_eq!(app.get_as(&staff, &unknown).await.status(), 404);
    app.cleanup().await;
}

async fn not_me_records_the_report_once_and_alerts_the_operator(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let optician = professional(&app, Profession::Optician, 1).await;
    let rows = unique_rows(&summary);
    let row = rows[0];
    let amc = amc_of(&summary, &app, row);
    let own = summary.insurers.iter().position(|i| i.amc == amc).unwrap();
    let (status, _) = check(&app, &optician, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 200);
    let staff = insurer_staff(&app, &summary, own).await;
    let path = format!(
        "/api/v1/insurers/{amc}/members/{}/access-log",
        row.member_number
    );
    let log: Value = app.get_as(&staff, &path).await.json().await.unwrap();
    let entry = log["entries"][0]["entry"].as_u64().unwrap();
    let not_me = format!("{path}/{entry}/not-me");

    // Another insurer cannot report it; an entry outside the member's log is not found.
    let other = insurer_staff(&app, &summary, 1 - own).await;
    let response = app.post_as(&other, &not_me, &json!({})).await;
    assert_eq!(response.status(), 404);
    let response = app
        .post_as(
            &staff,
            &format!("{path}/{}/not-me", entry + 1000),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 404);

    let alerts_before = app.ports.store.list_alerts(1000).await.unwrap().len();
    let response = app.post_as(&staff, &not_me, &json!({})).await;
    assert_eq!(response.status(), 201);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["entry"], entry);
    let again = app.post_as(&staff, &not_me, &json!({})).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], report["id"]);
    let alerts = app.ports.store.list_alerts(1000).await.unwrap();
    assert_eq!(alerts.len(), alerts_before + 1);
    let alert = alerts.iter().find(|a| a.signal == "not_me").unwrap();
    assert_eq!(alert.organisation_id, Some(optician.organisation_id));
    assert_eq!(alert.account_id, Some(optician.account_id));
    let log: Value = app.get_as(&staff, &path).await.json().await.unwrap();
    assert_eq!(log["entries"][0]["reported"], true);
    app.cleanup().await;
}

/// Polls until `who`'s check gets `status` (the guard re-reads switches every 500 ms);
/// answers its body and how many checks answered 200 before.
async fn eventually_status(
    app: &TestApp,
    who: &SignedIn,
    body: &Value,
    status: u16,
) -> (String, u64) {
    let mut answered = 0;
    for _ in 0..40 {
        let (got, text) = check(app, who, body).await;
        if got == status {
            return (text, answered);
        }
        answered += u64::from(got == 200);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never got {status}");
}

async fn the_guard_stands_in_front_of_every_check(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let rows = unique_rows(&summary);
    let row = rows[0];
    let amc = amc_of(&summary, &app, row);
    let before = ledger_size(&app).await;

    // Non-matches: the fifth asks the person for a fresh passkey check; nothing answers
    // meanwhile, not even the right card.
    let guesser = professional(&app, Profession::Optician, 1).await;
    // (The sign-in's passkey check must be older than the demand.)
    app.clock.advance(time::Duration::minutes(1));
    let bad = typed(&app, &amc, row, "0000-0000", "OPTI");
    for _ in 0..5 {
        assert_eq!(check(&app, &guesser, &bad).await.0, 404);
    }
    let (status, body) = check(&app, &guesser, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("step-up-required"), "{body}");

    // A decoy card: the first lookup suspends the account; the next request gets the 403
    // that says whom to contact.
    let insurer = app
        .ports
        .store
        .find_insurer_by_amc(&domain::ids::AmcNumber::parse(&amc).unwrap())
        .await
        .unwrap()
        .unwrap();
    let decoy = app::guard::decoys::issue(&app.ports, &insurer, 1)
        .await
        .unwrap()
        .remove(0);
    // Every process re-reads the decoys with the switches, at most every 500 ms.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let curious = professional(&app, Profession::Optician, 2).await;
    let decoy_check = json!({
        "card": {"token": decoy.token},
        "patient": {"birth_date": "1970-01-01", "birth_rank": 1},
        "domain": "OPTI",
        "care_date": today(&app),
    });
    assert_eq!(check(&app, &curious, &decoy_check).await.0, 404);
    let (status, body) = check(&app, &curious, &by_token(&app, row, "OPTI")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("account-suspended"), "{body}");
    assert!(body.contains("Contact"), "{body}");

    // A kill switch set by another process (a second guard over the same store, as
    // `rempart switch` does) stops optics within a second, and only optics.
    let honest = professional(&app, Profession::Optician, 3).await;
    let pharmacist = professional(&app, Profession::Pharmacist, 4).await;
    assert_eq!(
        check(&app, &honest, &by_token(&app, row, "OPTI")).await.0,
        200
    );
    let other = app::guard::Guard::from_ports(&app.ports, app::guard::GuardConfig::default());
    other
        .switch_off(None, app::guard::Scope::Domain("OPTI".into()), None)
        .await
        .unwrap();
    let (body, answered) =
        eventually_status(&app, &honest, &by_token(&app, row, "OPTI"), 503).await;
    assert!(body.contains("lookups-suspended"), "{body}");
    assert!(body.contains("degraded mode"), "{body}");
    assert_eq!(
        check(&app, &pharmacist, &by_token(&app, row, "PHAR"))
            .await
            .0,
        200
    );
    // Exactly the answered checks were ledgered; no refusal was.
    assert_eq!(ledger_size(&app).await, before + 2 + answered);
    app.cleanup().await;
}

backend_tests!(
    the_guard_stands_in_front_of_every_check,
    answers_carry_only_the_allowed_fields_for_every_profession,
    every_non_match_is_byte_identical_and_an_optician_asking_phar_is_one,
    each_answer_has_exactly_one_ledger_entry,
    a_ledger_that_cannot_be_written_fails_the_check,
    bad_input_is_refused_naming_the_field,
    the_openapi_document_has_no_route_that_searches_or_lists_beneficiaries,
    the_access_log_shows_who_when_what_and_why_to_the_own_insurer_only,
    not_me_records_the_report_once_and_alerts_the_operator,
);
