//! No reach across organisations: every route of the OpenAPI document, called by people of
//! other organisations with the objects of organisation A, answers 401/403/404, or answers
//! about the caller's own things without naming any of A's.

use crate::auth::{is_public, routes};
use domain::accounts::{OrganisationKind, Role};
use serde_json::{Value, json};
use testkit::{Backend, SignedIn, TestApp, spawn_app};

/// A request body naming A's objects wherever a route could take one.
fn body_naming(a: &Owner) -> Value {
    json!({
        "organisation_id": a.org,
        "role": "insurer_staff",
        "account_id": a.person.account_id,
        "id": a.passkey_id,
    })
}

struct Owner {
    org: uuid::Uuid,
    person: SignedIn,
    passkey_id: String,
}

async fn owner(app: &TestApp, role: Role, kind: OrganisationKind) -> Owner {
    let org = app.given_organisation(kind).await;
    let person = app.enrol(role, org).await;
    let list: Value = app
        .get_as(&person, "/api/v1/me/passkeys")
        .await
        .json()
        .await
        .unwrap();
    let passkey_id = list["passkeys"][0]["id"].as_str().unwrap().to_string();
    Owner {
        org,
        person,
        passkey_id,
    }
}

async fn walk(app: &TestApp, a: &Owner, intruder: &SignedIn) {
    let fill = |_: &str| a.passkey_id.clone();
    let secrets = [
        a.org.to_string(),
        a.person.account_id.to_string(),
        a.passkey_id.clone(),
    ];
    for (method, template, path) in routes(app, &fill).await {
        if is_public(&template) || template == "/api/v1/auth/logout" {
            continue;
        }
        // Query parameters naming A's organisation, on every route.
        let url = format!("{path}?organisation={}", a.org);
        let response = app
            .request_as(intruder, method.parse().unwrap(), &url)
            .json(&body_naming(a))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let refused = matches!(status, 400 | 401 | 403 | 404 | 409 | 422);
        assert!(
            refused || (200..300).contains(&status),
            "{method} {template}: {status}"
        );
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{method} {template} ({status}) names an object of another organisation"
            );
        }
    }
    // A's passkey is still there.
    let list: Value = app
        .get_as(&a.person, "/api/v1/me/passkeys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1);
}

async fn no_route_reaches_another_organisation(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Insurer A's staff, practice P1's professional: the owners.
    let insurer_a = owner(&app, Role::InsurerStaff, OrganisationKind::Insurer).await;
    let practice_1 = owner(&app, Role::Professional, OrganisationKind::Practice).await;
    // Intruders: insurer B's staff, practice P2's professional.
    let insurer_b = app.given_organisation(OrganisationKind::Insurer).await;
    let staff_b = app.enrol(Role::InsurerStaff, insurer_b).await;
    let practice_2 = app.given_organisation(OrganisationKind::Practice).await;
    let professional_2 = app.enrol(Role::Professional, practice_2).await;

    for intruder in [&staff_b, &professional_2] {
        walk(&app, &insurer_a, intruder).await;
        walk(&app, &practice_1, intruder).await;
    }
    walk(&app, &insurer_a, &practice_1.person).await;
    walk(&app, &practice_1, &insurer_a.person).await;

    // The explicit cases.
    let other = format!("/api/v1/accounts?organisation={}", insurer_a.org);
    assert_eq!(app.get_as(&staff_b, &other).await.status(), 404);
    let missing = format!("/api/v1/accounts?organisation={}", uuid::Uuid::now_v7());
    assert_eq!(app.get_as(&staff_b, &missing).await.status(), 404);
    let theirs = format!("/api/v1/me/passkeys/{}", insurer_a.passkey_id);
    assert_eq!(app.delete_as(&staff_b, &theirs).await.status(), 404);
    let orgs: Value = app
        .get_as(&staff_b, "/api/v1/organisations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orgs["organisations"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["organisations"][0]["id"], insurer_b.to_string());
    app.cleanup().await;
}

async fn operators_see_every_organisation(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let insurer = owner(&app, Role::InsurerStaff, OrganisationKind::Insurer).await;
    for role in [Role::OperatorAdmin, Role::OperatorAnalyst, Role::Auditor] {
        let who = app.enrol(role, operator).await;
        let url = format!("/api/v1/accounts?organisation={}", insurer.org);
        let list: Value = app.get_as(&who, &url).await.json().await.unwrap();
        assert_eq!(
            list["accounts"][0]["id"],
            insurer.person.account_id.to_string()
        );
        let orgs: Value = app
            .get_as(&who, "/api/v1/organisations")
            .await
            .json()
            .await
            .unwrap();
        assert!(orgs["organisations"].as_array().unwrap().len() >= 2);
    }
    app.cleanup().await;
}

testkit::backend_tests!(
    no_route_reaches_another_organisation,
    operators_see_every_organisation,
);
