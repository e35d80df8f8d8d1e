//! Who may import an insurer's beneficiary file, and `Idempotency-Key` on writes: a retry
//! with the same key and request answers the first answer without running again; another
//! request under the same key is 422; a key still running is 409; keys are per caller.

use crate::helpers::assert_problem;
use crate::imports::{body, generated, insurer, post_csv};
use domain::accounts::{OrganisationKind, Role};
use serde_json::{Value, json};
use testkit::{Backend, TestApp, backend_tests, spawn_app};

const PATH: &str = "/api/v1/insurers/880000011/beneficiary-imports?date=2026-03-01";

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app(backend).await
}

async fn imports_are_for_the_insurers_own_staff_only(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let lines = generated(5, 21);
    // No session: 401, nothing imported.
    let anonymous = app
        .client
        .post(app.url(PATH))
        .header("content-type", "text/csv")
        .body(body(&lines))
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401).await;
    // Anyone of another organisation, the operator included: 404, as for an unknown insurer.
    let other_insurer = app.given_organisation(OrganisationKind::Insurer).await;
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    for (role, org) in [
        (Role::InsurerStaff, other_insurer),
        (Role::Professional, practice),
        (Role::OperatorAdmin, operator),
    ] {
        let who = app.enrol(role, org).await;
        let refused = assert_problem(post_csv(&app, &who, PATH, body(&lines)).await, 404).await;
        assert_eq!(refused["type"], "urn:rempart:problem:not-found", "{role}");
    }
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 0);
    // The insurer's own staff: imported.
    let staff = app.enrol(Role::InsurerStaff, insurer.id).await;
    let response = post_csv(&app, &staff, PATH, body(&lines)).await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 5);
    app.cleanup().await;
}

async fn an_import_retried_with_its_key_answers_the_first_report(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let staff = app.enrol(Role::InsurerStaff, insurer.id).await;
    let first_file = generated(40, 22);
    let send = |key: &'static str, lines: Vec<String>, path: &'static str| {
        app.request_as(&staff, reqwest::Method::POST, path)
            .header("content-type", "text/csv")
            .header("idempotency-key", key)
            .body(body(&lines))
            .send()
    };
    let first = send("march-full", first_file.clone(), PATH).await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["inserted"], 40);

    // The same file, the same key: the first report, not a second import.
    let again = send("march-full", first_file.clone(), PATH).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first run's report, byte for byte");
    let run = uuid::Uuid::parse_str(first["import_id"].as_str().unwrap()).unwrap();
    assert!(app.ports.store.get_import(insurer.id, run).await.is_ok());

    // The same key with another file, or another query: 422, nothing imported.
    let other_file = generated(41, 23);
    assert_problem(
        send("march-full", other_file.clone(), PATH).await.unwrap(),
        422,
    )
    .await;
    let other_query = "/api/v1/insurers/880000011/beneficiary-imports?date=2026-03-02";
    assert_problem(
        send("march-full", first_file.clone(), other_query)
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 40);

    // Another key imports (a re-import of the same rows changes nothing).
    let fresh = send("march-full-2", first_file, PATH).await.unwrap();
    assert_eq!(fresh.status(), 201);
    let fresh: Value = fresh.json().await.unwrap();
    assert_ne!(fresh["import_id"], first["import_id"]);
    assert_eq!(fresh["unchanged"], 40);

    // A failed run keeps nothing: a bad header is 422, then the same key with a good file runs.
    let mut bad = generated(3, 24);
    bad[0] = bad[0].replace("nir,", "");
    assert_problem(send("retry-me", bad, PATH).await.unwrap(), 422).await;
    let good = send("retry-me", generated(3, 24), PATH).await.unwrap();
    assert_eq!(good.status(), 201);
    app.cleanup().await;
}

async fn an_invitation_retried_with_its_key_is_the_same_invitation(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let practice = app.given_organisation(OrganisationKind::Insurer).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let other_admin = app.enrol(Role::OperatorAdmin, operator).await;
    app.step_up(&admin).await;
    app.step_up(&other_admin).await;
    let body = json!({"role": "insurer_staff", "organisation_id": practice, "display_name": "Gestionnaire"});
    let send = |who: &testkit::SignedIn, key: &str, body: &Value| {
        app.request_as(who, reqwest::Method::POST, "/api/v1/invitations")
            .header("idempotency-key", key)
            .json(body)
            .send()
    };
    let first = send(&admin, "inv-1", &body).await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = send(&admin, "inv-1", &body).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        again["link"], first["link"],
        "the same invitation, not a second"
    );

    // The kept answer holds the invitation token: it is stored sealed, never in clear.
    let admin_id = admin.account_id;
    let kept = app
        .ports
        .store
        .find_idempotency(admin_id, "POST /api/v1/invitations", "inv-1")
        .await
        .unwrap()
        .unwrap();
    let token = first["invitation"].as_str().unwrap();
    let sealed = kept.response.unwrap();
    assert!(
        !sealed.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is in clear in the idempotency table"
    );

    // Another body under the same key: 422.
    let other =
        json!({"role": "insurer_staff", "organisation_id": practice, "display_name": "Autre"});
    assert_problem(send(&admin, "inv-1", &other).await.unwrap(), 422).await;
    // Keys are per caller: another administrator's "inv-1" is their own.
    let theirs: Value = send(&other_admin, "inv-1", &body)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(theirs["link"], first["link"]);
    // Without a key, every request makes a new invitation.
    let a: Value = app
        .post_as(&admin, "/api/v1/invitations", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(a["link"], first["link"]);
    // A bad key: 400.
    assert_problem(send(&admin, "not a key", &body).await.unwrap(), 400).await;

    // While a request with the key still runs: 409 with retry-after.
    let now = app::Clock::now(app.clock.as_ref());
    app.ports
        .store
        .insert_idempotency(&app::idempotency::IdempotencyRecord {
            id: app.ports.new_id(),
            actor_id: admin_id,
            organisation_id: operator,
            route: "POST /api/v1/invitations".into(),
            key: "running".into(),
            request_hash: None,
            status: None,
            response: None,
            created_at: now,
            expires_at: now + time::Duration::hours(24),
        })
        .await
        .unwrap();
    let busy = send(&admin, "running", &body).await.unwrap();
    assert_eq!(busy.headers()["retry-after"], "1");
    assert_problem(busy, 409).await;

    // After 24 hours the key is forgotten (purged): the same key makes a new invitation.
    app.clock.advance(time::Duration::hours(25));
    let purged = app.access.purge_expired().await.unwrap();
    assert!(purged.idempotency >= 2, "{purged:?}");
    // (the sessions expired too: sign in again, which is a fresh user verification)
    let admin = app.login(&admin.passkey).await;
    let later: Value = send(&admin, "inv-1", &body)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(later["link"], first["link"]);
    app.cleanup().await;
}

backend_tests!(
    imports_are_for_the_insurers_own_staff_only,
    an_import_retried_with_its_key_answers_the_first_report,
    an_invitation_retried_with_its_key_is_the_same_invitation,
);
