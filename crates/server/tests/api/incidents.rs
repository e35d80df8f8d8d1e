//! The auditor's ledger view (`/console/ledger`) and incident response in the console
//! (`/console/incidents`): who may see them, the filters, the scope's counts, and the export
//! that needs an operator administrator with a fresh passkey check and is ledgered.

use crate::helpers::{csrf_of, post_form};
use app::ledger::{DataCategory, Disclosure, Ledger, LedgerConfig, Purpose};
use domain::accounts::{OrganisationKind, Role};
use serde_json::Value;
use testkit::{Backend, TestApp, backend_tests};
use uuid::Uuid;

backend_tests!(
    auditors_see_the_ledger_filtered_with_checkpoints_and_others_do_not,
    the_console_scopes_an_incident_and_exports_it_with_a_fresh_passkey_check_ledgered,
);

/// Records `n` rights-check disclosures by `account` of `organisation` about the first `n`
/// beneficiaries of the demo's first insurer; answers their ids.
async fn disclose(app: &TestApp, account: Uuid, organisation: Uuid, n: u32) -> Vec<Uuid> {
    let insurer = app.ports.store.list_insurers().await.unwrap()[0].id;
    let people = app
        .ports
        .store
        .list_beneficiaries_page(insurer, None, n)
        .await
        .unwrap();
    let ledger = Ledger::new(app.ports.clone(), LedgerConfig::default());
    for b in &people {
        ledger
            .record(Disclosure {
                account_id: Some(account),
                organisation_id: organisation,
                credential: format!("passkey:{account}"),
                insurer_id: insurer,
                beneficiary_id: b.id,
                categories: vec![DataCategory::Coverage, DataCategory::Engagement],
                purpose: Purpose::RightsCheck,
                request_id: "r".into(),
                client_addr: Some("192.0.2.7".parse().unwrap()),
            })
            .await
            .unwrap();
    }
    ledger.checkpoint(true).await.unwrap();
    people.iter().map(|b| b.id).collect()
}

async fn auditors_see_the_ledger_filtered_with_checkpoints_and_others_do_not(backend: Backend) {
    let Some(app) = testkit::spawn_app(backend).await else {
        return;
    };
    app::demo::seed(&app.ports, 2024).await.unwrap();
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let auditor = app.enrol(Role::Auditor, operator).await;
    let pro = app.enrol(Role::Professional, practice).await;
    let colleague = app.enrol(Role::Professional, practice).await;
    disclose(&app, colleague.account_id, practice, 2).await;
    disclose(&app, pro.account_id, practice, 3).await;

    let page = app.get_as(&auditor, "/console/ledger").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert_eq!(page.matches("<td>rights_check</td>").count(), 5, "{page}");
    assert!(page.contains(&practice.to_string()));
    assert!(page.contains(r#"id="ledger-size">5<"#), "{page}");
    assert!(page.contains("<td>5</td>"), "the checkpoint of tree size 5");
    assert!(page.contains("Never verified"));

    // Another organisation's filter: none of these entries.
    let other = app
        .get_as(
            &auditor,
            &format!("/console/ledger?organisation={}", Uuid::nil()),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(other.matches("<td>rights_check</td>").count(), 0);
    let mine = app
        .get_as(
            &auditor,
            &format!("/console/ledger?account={}&from=2020-01-01", pro.account_id),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(mine.matches("<td>rights_check</td>").count(), 3);
    assert!(!mine.contains(&colleague.account_id.to_string()), "{mine}");
    // The colleague's, read through the practice's index like any account's.
    let theirs = app
        .get_as(
            &auditor,
            &format!("/console/ledger?account={}", colleague.account_id),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(theirs.matches("<td>rights_check</td>").count(), 2);
    assert!(!theirs.contains(&pro.account_id.to_string()), "{theirs}");
    // An account id the store does not know (no organisation to read through): found by
    // reading the ledger backwards.
    let unknown = Uuid::from_u128(77);
    disclose(&app, unknown, practice, 1).await;
    let by_unknown = app
        .get_as(&auditor, &format!("/console/ledger?account={unknown}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(by_unknown.matches("<td>rights_check</td>").count(), 1);
    // A bad filter names the field.
    let bad = app
        .get_as(&auditor, "/console/ledger?from=yesterday")
        .await
        .text()
        .await
        .unwrap();
    assert!(bad.contains("from: a date"), "{bad}");
    // Not for practices.
    assert_eq!(app.get_as(&pro, "/console/ledger").await.status(), 404);
    assert_eq!(app.get_as(&pro, "/console/incidents").await.status(), 404);
    app.cleanup().await;
}

async fn the_console_scopes_an_incident_and_exports_it_with_a_fresh_passkey_check_ledgered(
    backend: Backend,
) {
    let Some(app) = testkit::spawn_app(backend).await else {
        return;
    };
    app::demo::seed(&app.ports, 2024).await.unwrap();
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let analyst = app.enrol(Role::OperatorAnalyst, operator).await;
    let thief = Uuid::from_u128(66);
    let honest = Uuid::from_u128(7);
    let stolen = disclose(&app, thief, practice, 4).await;
    disclose(&app, honest, practice, 2).await;

    let page = app
        .get_as(&admin, "/console/incidents")
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let form =
        format!("csrf={csrf}&accounts={thief}&organisations=&credentials=&client_addrs=&from=&to=");
    let scoped = post_form(&app, &admin, "/console/incidents", &form).await;
    assert_eq!(scoped.status(), 200);
    let scoped = scoped.text().await.unwrap();
    assert!(
        scoped.contains("<strong>4</strong> people disclosed"),
        "{scoped}"
    );
    // Counts only on the page: no member number.
    let member = app
        .ports
        .store
        .list_beneficiaries_page(
            app.ports.store.list_insurers().await.unwrap()[0].id,
            None,
            1,
        )
        .await
        .unwrap()[0]
        .member_number
        .as_str()
        .to_string();
    assert!(!scoped.contains(&member));
    // A bad field is named.
    let bad = post_form(
        &app,
        &admin,
        "/console/incidents",
        &format!("csrf={csrf}&accounts=not-an-id"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        bad.contains("accounts: &#34;not-an-id&#34; is not valid"),
        "{bad}"
    );

    // Export: an analyst may not; an administrator needs a fresh passkey check.
    let before = app.ports.store.ledger_size().await.unwrap();
    let analyst_page = app
        .get_as(&analyst, "/console/incidents")
        .await
        .text()
        .await
        .unwrap();
    let analyst_form = form.replace(&csrf, &csrf_of(&analyst_page));
    assert_eq!(
        post_form(&app, &analyst, "/console/incidents/export", &analyst_form)
            .await
            .status(),
        403
    );
    app.clock.advance(time::Duration::minutes(6));
    let refused = post_form(&app, &admin, "/console/incidents/export", &form).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("step-up-required"));
    assert_eq!(app.ports.store.ledger_size().await.unwrap(), before);

    app.step_up(&admin).await;
    let exported = post_form(&app, &admin, "/console/incidents/export", &form).await;
    assert_eq!(exported.status(), 200);
    assert!(
        exported.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let scope: Value = exported.json().await.unwrap();
    let members = scope["insurers"][0]["members"].as_array().unwrap();
    assert_eq!(members.len(), 4);
    let ids: Vec<String> = members
        .iter()
        .map(|m| m["beneficiary_id"].as_str().unwrap().to_string())
        .collect();
    for id in &stolen {
        assert!(ids.contains(&id.to_string()));
    }
    assert!(members.iter().all(|m| m["birth_date"].is_string()));
    // Ledgered: one entry per person, by the administrator.
    let entries = app
        .ports
        .store
        .list_ledger_entries(before, 100)
        .await
        .unwrap();
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|e| e.purpose == "incident_export"
        && e.account_id == Some(admin.account_id)
        && e.categories == "identity,membership"));
    app.cleanup().await;
}
