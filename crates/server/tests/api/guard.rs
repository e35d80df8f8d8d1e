//! Containment over HTTP: a suspended account or organisation gets a 403 problem saying whom
//! to contact on every authenticated route; lifting and switching from the console need an
//! operator administrator with a fresh passkey check; alerts are counted on `/metrics`; a kill
//! switch set through one store handle reaches another server process within a second.

use crate::helpers::assert_problem;
use crate::helpers::{csrf_of, post_form};
use app::guard::{Subject, SuspensionRecord};
use domain::accounts::{OrganisationKind, Role};
use reqwest::Response;
use testkit::{Backend, SignedIn, TestApp, backend_tests};
use uuid::Uuid;

backend_tests!(
    a_suspended_account_gets_a_403_naming_whom_to_contact,
    a_suspended_organisation_stops_all_its_accounts,
    lifting_in_the_console_needs_a_fresh_step_up,
    switching_in_the_console_needs_a_step_up_and_is_counted_on_metrics,
);

async fn suspend(app: &TestApp, subject: Subject, id: Uuid, organisation_id: Uuid) {
    use app::Clock;
    app.ports
        .store
        .insert_suspension(&SuspensionRecord {
            id: app.ports.new_id(),
            subject,
            subject_id: id,
            organisation_id,
            signal: "non_match".into(),
            reason: "11 non-matching lookups within an hour".into(),
            suspended_at: app.clock.now(),
            lifted_at: None,
            lifted_by: None,
        })
        .await
        .unwrap();
}

/// Polls `GET path` as `who` until it answers `status` (a bounded wait: the guard re-reads
/// suspensions at most every 500 ms).
async fn eventually(app: &TestApp, who: &SignedIn, path: &str, status: u16) -> Response {
    for _ in 0..40 {
        let r = app.get_as(who, path).await;
        if r.status().as_u16() == status {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never answered {status}");
}

async fn a_suspended_account_gets_a_403_naming_whom_to_contact(backend: Backend) {
    let Some(app) = testkit::spawn_app(backend).await else {
        return;
    };
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let pro = app.enrol(Role::Professional, practice).await;
    let colleague = app.enrol(Role::Professional, practice).await;
    assert_eq!(app.get_as(&pro, "/api/v1/me").await.status(), 200);
    suspend(&app, Subject::Account, pro.account_id, practice).await;
    let refused = eventually(&app, &pro, "/api/v1/me", 403).await;
    let body = assert_problem(refused, 403).await;
    assert_eq!(body["type"], "urn:rempart:problem:account-suspended");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Contact the rempart operator's security desk"),
        "{detail}"
    );
    assert!(detail.contains("quote the request id"), "{detail}");
    // The pages refuse it the same (the data pages and their forms), but it can sign out.
    let page = app.get_as(&pro, "/invoices").await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("account-suspended"));
    let mine = app.get_as(&colleague, "/me").await.text().await.unwrap();
    let csrf = crate::helpers::csrf_of(&mine);
    let r = crate::helpers::post_form(&app, &pro, "/invoices", &format!("csrf={csrf}")).await;
    assert_eq!(
        r.status(),
        403,
        "another session's token, or the suspension: refused"
    );
    // Only that account.
    assert_eq!(app.get_as(&colleague, "/api/v1/me").await.status(), 200);
    assert_eq!(app.get_as(&colleague, "/invoices").await.status(), 200);
    app.cleanup().await;
}

async fn a_suspended_organisation_stops_all_its_accounts(backend: Backend) {
    let Some(app) = testkit::spawn_app(backend).await else {
        return;
    };
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let other = app.given_organisation(OrganisationKind::Practice).await;
    let a = app.enrol(Role::Professional, practice).await;
    let b = app.enrol(Role::Professional, practice).await;
    let elsewhere = app.enrol(Role::Professional, other).await;
    suspend(&app, Subject::Organisation, practice, practice).await;
    for who in [&a, &b] {
        let body = assert_problem(eventually(&app, who, "/api/v1/me", 403).await, 403).await;
        assert_eq!(body["type"], "urn:rempart:problem:organisation-suspended");
    }
    assert_eq!(app.get_as(&elsewhere, "/api/v1/me").await.status(), 200);
    app.cleanup().await;
}

async fn lifting_in_the_console_needs_a_fresh_step_up(backend: Backend) {
    let Some(app) = testkit::spawn_app(backend).await else {
        return;
    };
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let pro = app.enrol(Role::Professional, practice).await;
    suspend(&app, Subject::Account, pro.account_id, practice).await;
    eventually(&app, &pro, "/api/v1/me", 403).await;

    let page = app.get_as(&admin, "/console/guard").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&pro.account_id.to_string()),
        "suspension listed"
    );
    let csrf = csrf_of(&page);
    let form = format!("csrf={csrf}&subject=account&id={}", pro.account_id);

    // Signed in more than 5 minutes ago: refused until a fresh passkey check.
    app.clock.advance(time::Duration::minutes(6));
    let needs = post_form(&app, &admin, "/console/guard/lift", &form).await;
    assert_eq!(needs.status(), 200);
    assert!(needs.text().await.unwrap().contains("fresh passkey check"));
    assert_eq!(
        app.ports
            .store
            .list_active_suspensions()
            .await
            .unwrap()
            .len(),
        1
    );
    // A professional cannot lift their own suspension: the console is not there for them.
    assert_eq!(
        post_form(&app, &pro, "/console/guard/lift", &form)
            .await
            .status(),
        403
    );

    assert_eq!(app.ports.store.ledger_size().await.unwrap(), 0);
    app.step_up(&admin).await;
    let done = post_form(&app, &admin, "/console/guard/lift", &form).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("lifted"));
    // The decision is in the ledger: who lifted, no data category.
    let entries = app.ports.store.list_ledger_entries(0, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].purpose, "suspension_lift");
    assert_eq!(entries[0].account_id, Some(admin.account_id));
    assert_eq!(entries[0].categories, "");
    assert!(
        app.ports
            .store
            .list_active_suspensions()
            .await
            .unwrap()
            .is_empty()
    );
    eventually(&app, &pro, "/api/v1/me", 200).await;
    let alerts = app.ports.store.list_alerts(10).await.unwrap();
    assert_eq!(alerts[0].action, "suspension_lifted");
    app.cleanup().await;
}

async fn switching_in_the_console_needs_a_step_up_and_is_counted_on_metrics(backend: Backend) {
    let Some(app) = testkit::spawn_app(backend).await else {
        return;
    };
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let analyst = app.enrol(Role::OperatorAnalyst, operator).await;
    let page = app
        .get_as(&admin, "/console/guard")
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let form = format!("csrf={csrf}&action=off&scope=domain%3AOPTI&reason=drill");
    app.clock.advance(time::Duration::minutes(6));
    let needs = post_form(&app, &admin, "/console/guard/switches", &form).await;
    assert!(needs.text().await.unwrap().contains("fresh passkey check"));
    assert!(
        app.ports
            .store
            .list_active_kill_switches()
            .await
            .unwrap()
            .is_empty()
    );

    // An analyst may look, not switch.
    app.step_up(&analyst).await;
    let analyst_page = app
        .get_as(&analyst, "/console/guard")
        .await
        .text()
        .await
        .unwrap();
    assert!(!analyst_page.contains(r#"action="/console/guard/switches""#));
    let analyst_csrf = csrf_of(&analyst_page);
    let refused = post_form(
        &app,
        &analyst,
        "/console/guard/switches",
        &form.replace(&csrf, &analyst_csrf),
    )
    .await;
    assert_eq!(refused.status(), 403);

    app.step_up(&admin).await;
    let done = post_form(&app, &admin, "/console/guard/switches", &form).await;
    let done = done.text().await.unwrap();
    assert!(
        done.contains("Lookups switched off for domain:OPTI"),
        "{done}"
    );
    let active = app.ports.store.list_active_kill_switches().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].engaged_by, Some(admin.account_id));
    // Not to a professional: the console is not there.
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let pro = app.enrol(Role::Professional, practice).await;
    assert_eq!(app.get_as(&pro, "/console/guard").await.status(), 404);

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"rempart_alerts_total{signal="kill_switch",severity="critical"} 1"#),
        "{metrics}"
    );
    // Back on.
    let back = post_form(
        &app,
        &admin,
        "/console/guard/switches",
        &format!("csrf={csrf}&action=on&scope=domain%3AOPTI"),
    )
    .await;
    assert!(back.text().await.unwrap().contains("switched back on"));
    assert!(
        app.ports
            .store
            .list_active_kill_switches()
            .await
            .unwrap()
            .is_empty()
    );
    app.cleanup().await;
}

/// A kill switch set by another process (`rempart switch off`, sharing the demo's database)
/// reaches the running server within a second, and `switch on` brings lookups back.
#[tokio::test]
async fn a_switch_set_by_another_process_reaches_a_running_server() {
    use crate::helpers::{enrol_on_demo, rempart, start_demo};
    use serde_json::json;
    let demo = start_demo();
    let origin = demo.origin();
    let data = demo.data();
    let optician = demo.invitation("profession", "optician");
    let cookie = enrol_on_demo(&demo, &origin, optician["invitation"].as_str().unwrap()).await;
    // A patient alone in their family with their birth date and rank.
    let mut reader = csv::Reader::from_path(data.join("demo-cards.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = rows
        .iter()
        .find(|r| {
            rows.iter()
                .filter(|o| o[0] == r[0] && o[2] == r[2] && o[3] == r[3])
                .count()
                == 1
        })
        .unwrap();
    let today = app::Clock::today(&app::SystemClock);
    let body = json!({
        "card": {"token": &row[5]},
        "patient": {"birth_date": &row[2], "birth_rank": row[3].parse::<u8>().unwrap()},
        "domain": "OPTI",
        "care_date": format!("{:04}-{:02}-{:02}", today.year(), u8::from(today.month()), today.day()),
    });
    let client = reqwest::Client::new();
    let check = || async {
        let r = client
            .post(format!("{origin}/api/v1/rights-checks"))
            .header("cookie", &cookie)
            .header("origin", &origin)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (status, text) = check().await;
    assert_eq!(status, 200, "{text}");

    let switch = |action: &str| {
        let out = rempart(demo.dir.path())
            .args(["switch", action, "--scope", "domain:OPTI"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Polls (every 200 ms, at most 5 s) until the check answers `want`; answers how long.
    let until = |want: u16| async move {
        let started = std::time::Instant::now();
        for _ in 0..25 {
            let (status, text) = check().await;
            if status == want {
                return (started.elapsed(), text);
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("the server never answered {want}");
    };
    switch("off");
    let (took, text) = until(503).await;
    assert!(text.contains("lookups-suspended"), "{text}");
    eprintln!("switch off reached the server after {took:?}");
    switch("on");
    let (took, _) = until(200).await;
    eprintln!("switch on reached the server after {took:?}");
}
