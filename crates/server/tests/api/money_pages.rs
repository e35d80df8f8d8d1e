//! The money path's pages on both backends, over the demo data set: the professional's prior
//! approval, invoice and payments pages; the operator's payment runs and IBAN confirmations;
//! the insurer's contracts and billing statements. Each page shows what the API answers (the
//! same amounts to the cent), refuses what its role may not do, and a sensitive action waits
//! for a fresh passkey check.

use crate::helpers::{csrf_of, post_form};
use crate::invoices::{PRACTICE_IBAN, engagement, patients, practice};
use domain::accounts::{OrganisationKind, Profession, Role};
use testkit::{Backend, SignedIn, TestApp, TestOptions, backend_tests};

backend_tests!(
    a_professional_approves_invoices_and_is_paid_through_the_pages,
    iban_changes_on_the_pages_need_a_passkey_check_and_a_second_administrator,
    insurers_see_their_contracts_and_billing_and_nobody_else_does,
);

/// The text of the element with `id` (up to the next tag).
fn text_of(body: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}">"#);
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {body}"))
        + marker.len();
    body[start..][..body[start..].find('<').unwrap()].to_string()
}

async fn page(app: &TestApp, who: &SignedIn, path: &str) -> String {
    let r = app.get_as(who, path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn submit(app: &TestApp, who: &SignedIn, path: &str, form: &[(&str, &str)]) -> String {
    let r = post_form(app, who, path, &serde_urlencoded::to_string(form).unwrap()).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

fn today(app: &TestApp) -> String {
    use app::Clock;
    app.clock.now().date().to_string()
}

/// An app with the console's payment desk (files in a temporary directory) and the demo data.
async fn with_desk(
    backend: Backend,
) -> Option<(TestApp, app::demo::DemoSummary, tempfile::TempDir)> {
    let out = tempfile::tempdir().unwrap();
    let desk = web::PaymentDesk {
        debtor: Some(
            domain::payments::Debtor::parse(
                "REMPART SETTLEMENT",
                "FR7630001007941234567890185",
                "BDFEFRPPCCT",
            )
            .unwrap(),
        ),
        out_dir: Some(out.path().to_path_buf()),
        iban_cooling_off: time::Duration::hours(72),
    };
    let options = TestOptions {
        payments: Some(desk),
        ..TestOptions::default()
    };
    let app = testkit::spawn_app_with(backend, options).await?;
    let summary = app::demo::seed(&app.ports, 2024).await.unwrap();
    Some((app, summary, out))
}

/// The optics class B quote of the invoice tests (frame 150.00, two simple lenses 120.00,
/// BR 0.05 and AMO 0.03 each) as form fields.
fn optics_b<'a>(csrf: &'a str, engagement: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("engagement", engagement),
        ("kind1", "frame"),
        ("class1", "B"),
        ("price1", "150.00"),
        ("br1", "0.05"),
        ("amo1", "0.03"),
        ("kind2", "lens"),
        ("class2", "B"),
        ("complexity2", "simple"),
        ("price2", "120,00"),
        ("br2", "0.05"),
        ("amo2", "0.03"),
        ("kind3", "lens"),
        ("class3", "B"),
        ("complexity3", "simple"),
        ("price3", "120"),
        ("br3", "0.05"),
        ("amo3", "0.03"),
    ]
}

async fn a_professional_approves_invoices_and_is_paid_through_the_pages(backend: Backend) {
    let Some((app, summary, out)) = with_desk(backend).await else {
        return;
    };
    let optician = practice(&app, Profession::Optician, 1).await;
    let audio = practice(&app, Profession::AudioProsthetist, 2).await;
    let people = patients(&app, &summary).await;
    let (number, code) = engagement(&app, &optician, &people[0].0, "OPTI").await;
    // The golden amounts of the demo contracts (tests/api/invoices.rs).
    let expected = if code == "ESSENTIEL" {
        "150.06"
    } else {
        "300.06"
    };

    // Prior approval: a malformed amount names the row and the field, keeps what was typed.
    let form = page(&app, &optician, "/approvals").await;
    let csrf = csrf_of(&form);
    let mut bad = optics_b(&csrf, &number);
    bad[4] = ("price1", "150.005");
    let refused = submit(&app, &optician, "/approvals", &bad).await;
    assert!(
        text_of(&refused, "claim-error").starts_with("Line 1, price:"),
        "{refused}"
    );
    assert!(refused.contains(r#"value="150.005""#));
    assert!(!refused.contains("claim-answer"));

    // Amounts typed on a row without its kind: refused, not silently dropped.
    let mut kindless = optics_b(&csrf, &number);
    kindless.extend([("price4", "10.00"), ("br4", "1.00"), ("amo4", "0.60")]);
    let refused = submit(&app, &optician, "/approvals", &kindless).await;
    assert!(
        text_of(&refused, "claim-error").starts_with("Line 4, kind:"),
        "{refused}"
    );

    let approved = submit(&app, &optician, "/approvals", &optics_b(&csrf, &number)).await;
    assert_eq!(
        text_of(&approved, "claim-decision"),
        "accepted",
        "{approved}"
    );
    assert_eq!(text_of(&approved, "claim-total"), format!("{expected} €"));
    assert!(approved.contains("approval-cancel"));
    let approval = text_of(&approved, "claim-reference");
    assert!(approval.starts_with('P'), "{approval}");
    let shown = page(&app, &optician, &format!("/approvals?number={approval}")).await;
    assert_eq!(text_of(&shown, "claim-total"), format!("{expected} €"));
    // Another practice does not see it.
    let other = page(&app, &audio, &format!("/approvals?number={approval}")).await;
    assert!(text_of(&other, "claim-error").starts_with("No engagement or approval"));

    // The invoice under the approval: accepted, the same amount; sent again, a duplicate.
    let mut fields = optics_b(&csrf, &number);
    let date = today(&app);
    fields.push(("approval", &approval));
    fields.push(("care_date", &date));
    let invoiced = submit(&app, &optician, "/invoices", &fields).await;
    assert_eq!(
        text_of(&invoiced, "claim-decision"),
        "accepted",
        "{invoiced}"
    );
    assert_eq!(text_of(&invoiced, "claim-total"), format!("{expected} €"));
    let invoice_id = text_of(&invoiced, "claim-reference");
    let again = submit(&app, &optician, "/invoices", &fields).await;
    assert_eq!(text_of(&again, "claim-decision"), "rejected");
    assert!(again.contains("duplicate_invoice"));
    assert_eq!(text_of(&again, "claim-total"), "0.00 €");
    let listed = page(&app, &optician, "/invoices").await;
    assert_eq!(listed.matches(&invoice_id).count(), 1, "{listed}");
    assert!(listed.contains("invoices-recent"));

    // Payment runs: an analyst sees the runs, not the button; an administrator needs a fresh
    // passkey check, then the run pays the invoice once.
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let analyst = app.enrol(Role::OperatorAnalyst, operator).await;
    let runs = page(&app, &analyst, "/console/payments").await;
    assert!(runs.contains("runs-none"));
    assert!(!runs.contains("run-payments"));
    let csrf_a = csrf_of(&runs);
    let refused = submit(
        &app,
        &analyst,
        "/console/payments",
        &[("csrf", &csrf_a), ("date", &date)],
    )
    .await;
    assert!(text_of(&refused, "payments-notice").starts_with("Only operator administrators"));
    let desk = page(&app, &admin, "/console/payments").await;
    assert!(desk.contains("run-payments"));
    let csrf_admin = csrf_of(&desk);
    let run = [("csrf", csrf_admin.as_str()), ("date", date.as_str())];
    app.clock.advance(time::Duration::minutes(6)); // the sign-in's passkey check is stale
    let waiting = submit(&app, &admin, "/console/payments", &run).await;
    assert!(text_of(&waiting, "payments-notice").contains("fresh passkey check"));
    assert!(waiting.contains("runs-none"), "nothing ran");
    app.step_up(&admin).await;
    let done = submit(&app, &admin, "/console/payments", &run).await;
    let notice = text_of(&done, "payments-notice");
    assert!(
        notice.contains(&format!(": 1 transfers, 3 lines, {expected} EUR")),
        "{notice}"
    );
    let run_id = notice
        .strip_prefix("payment run ")
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    assert!(out.path().join(&run_id).join("pain.001.xml").is_file());
    assert!(done.contains("<td>written</td>"), "{done}");
    let twice = submit(&app, &admin, "/console/payments", &run).await;
    assert!(text_of(&twice, "payments-notice").starts_with("Nothing to pay"));

    // The professional sees the transfer and its statement; another practice does not.
    let received = page(&app, &optician, "/payments").await;
    assert_eq!(
        text_of(&received, "transfers-total"),
        format!("{expected} €")
    );
    assert_eq!(text_of(&received, "iban-current"), "FR76 **** … 0189");
    assert!(!received.contains(PRACTICE_IBAN));
    let link = received
        .split(r#"href="/payments/statements/"#)
        .nth(1)
        .unwrap();
    let statement_id = &link[..link.find('"').unwrap()];
    let path = format!("/payments/statements/{statement_id}");
    let csv = app.get_as(&optician, &path).await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.contains(&invoice_id.replace('-', "")), "{csv}");
    assert_eq!(app.get_as(&audio, &path).await.status(), 404);
    let nothing = page(&app, &audio, "/payments").await;
    assert!(nothing.contains("transfers-none"));

    // Pages not for the role say so, and never show another role's data.
    let insurer_staff = {
        let insurer = app.ports.store.list_insurers().await.unwrap()[0].id;
        app.enrol(Role::InsurerStaff, insurer).await
    };
    for path in ["/approvals", "/invoices", "/payments"] {
        let body = page(&app, &insurer_staff, path).await;
        assert!(
            body.contains("your account does not belong to one"),
            "{path}"
        );
    }
    assert_eq!(
        app.get_as(&optician, "/console/payments").await.status(),
        404
    );
    app.cleanup().await;
}

async fn iban_changes_on_the_pages_need_a_passkey_check_and_a_second_administrator(
    backend: Backend,
) {
    let Some((app, _, _out)) = with_desk(backend).await else {
        return;
    };
    const NEW_IBAN: &str = "FR1420041010050500013M02606";
    let pro = practice(&app, Profession::Optician, 1).await;
    let other = practice(&app, Profession::Optician, 2).await;
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let first = app.enrol(Role::OperatorAdmin, operator).await;
    let second = app.enrol(Role::OperatorAdmin, operator).await;
    let analyst = app.enrol(Role::OperatorAnalyst, operator).await;

    let mine = page(&app, &pro, "/payments").await;
    let csrf = csrf_of(&mine);
    let ask = [("csrf", csrf.as_str()), ("iban", NEW_IBAN)];
    app.clock.advance(time::Duration::minutes(6)); // the sign-ins' passkey checks are stale
    let waiting = submit(&app, &pro, "/payments/iban", &ask).await;
    assert!(text_of(&waiting, "payments-notice").contains("fresh passkey check"));
    assert!(!waiting.contains("iban-changes"), "nothing recorded");
    app.step_up(&pro).await;
    let typo = submit(
        &app,
        &pro,
        "/payments/iban",
        &[
            ("csrf", csrf.as_str()),
            ("iban", "FR1420041010050500013M02607"),
        ],
    )
    .await;
    let notice = text_of(&typo, "payments-notice");
    assert!(notice.starts_with("iban:"), "{notice}");
    assert!(!notice.contains("FR14"), "the value is never echoed");
    let asked = submit(&app, &pro, "/payments/iban", &ask).await;
    assert!(text_of(&asked, "payments-notice").contains("FR14 **** … 2606"));
    assert!(asked.contains("<td>requested</td>"));
    assert!(!asked.contains(NEW_IBAN));
    // The old IBAN is still the one paid; the other practice sees no change.
    assert_eq!(text_of(&asked, "iban-current"), "FR76 **** … 0189");
    assert!(
        !page(&app, &other, "/payments")
            .await
            .contains("iban-changes")
    );

    // The console: an analyst sees the change but has no button and cannot confirm.
    let list = page(&app, &analyst, "/console/iban").await;
    let change = list
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("<td>")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(change.starts_with(&pro.organisation_id.to_string()));
    assert!(!list.contains("confirm-"));
    let admin_list = page(&app, &first, "/console/iban").await;
    let id_start = admin_list.find(r#"id="confirm-"#).unwrap() + 12;
    let change_id = admin_list[id_start..][..36].to_string();
    let confirm = format!("/console/iban/{change_id}/confirm");
    let refused = submit(&app, &analyst, &confirm, &[("csrf", &csrf_of(&list))]).await;
    assert!(text_of(&refused, "iban-notice").starts_with("Only operator administrators"));
    // An administrator: a fresh passkey check first.
    let csrf_first = csrf_of(&admin_list);
    let waiting = submit(&app, &first, &confirm, &[("csrf", &csrf_first)]).await;
    assert!(text_of(&waiting, "iban-notice").contains("fresh passkey check"));
    app.step_up(&first).await;
    let confirmed = submit(&app, &first, &confirm, &[("csrf", &csrf_first)]).await;
    assert!(
        text_of(&confirmed, "iban-notice").starts_with("Change to FR14 **** … 2606 confirmed"),
        "{confirmed}"
    );
    let told = page(&app, &pro, "/payments").await;
    assert!(
        told.contains("<td>confirmed</td>"),
        "the professional is told"
    );

    // An administrator asks a change for a practice: the same person cannot confirm it.
    let asked = submit(
        &app,
        &first,
        "/console/iban",
        &[
            ("csrf", csrf_first.as_str()),
            ("practice_id", &other.organisation_id.to_string()),
            ("iban", NEW_IBAN),
        ],
    )
    .await;
    assert!(text_of(&asked, "iban-notice").contains("another administrator must confirm"));
    let start = asked.find(r#"id="confirm-"#).unwrap() + 12;
    let confirm = format!("/console/iban/{}/confirm", &asked[start..][..36]);
    let same = submit(&app, &first, &confirm, &[("csrf", &csrf_first)]).await;
    assert!(
        text_of(&same, "iban-notice").starts_with("confirmed_by: must be a second operator"),
        "{same}"
    );
    let list_second = page(&app, &second, "/console/iban").await;
    app.step_up(&second).await;
    let ok = submit(&app, &second, &confirm, &[("csrf", &csrf_of(&list_second))]).await;
    assert!(text_of(&ok, "iban-notice").contains("confirmed"), "{ok}");

    // A professional has no console and may not ask another practice's change.
    assert_eq!(app.get_as(&pro, "/console/iban").await.status(), 404);
    let r = post_form(
        &app,
        &pro,
        &confirm,
        &format!("csrf={}", csrf_of(&page(&app, &pro, "/payments").await)),
    )
    .await;
    assert_eq!(r.status(), 404);
    app.cleanup().await;
}

async fn insurers_see_their_contracts_and_billing_and_nobody_else_does(backend: Backend) {
    let Some((app, summary, _out)) = with_desk(backend).await else {
        return;
    };
    // A pharmacy's rights check tells which insurer covers the first demo patient.
    let pharmacist = practice(&app, Profession::Pharmacist, 1).await;
    let people = patients(&app, &summary).await;
    let (number, _) = engagement(&app, &pharmacist, &people[0].0, "PHAR").await;
    let insurer_id = app
        .ports
        .store
        .find_engagement(pharmacist.organisation_id, &number)
        .await
        .unwrap()
        .unwrap()
        .insurer_id;
    let insurers = app.ports.store.list_insurers().await.unwrap();
    let insurer = insurers.iter().find(|i| i.id == insurer_id).unwrap();
    let other = insurers.iter().find(|i| i.id != insurer_id).unwrap();
    let staff = app.enrol(Role::InsurerStaff, insurer.id).await;

    let contracts = page(&app, &staff, "/insurer/contracts").await;
    assert!(contracts.contains("<td>ESSENTIEL</td>"), "{contracts}");
    assert!(contracts.contains("<td>CONFORT</td>"));
    let csrf = csrf_of(&contracts);
    let bad = submit(
        &app,
        &staff,
        "/insurer/contracts",
        &[("csrf", csrf.as_str()), ("toml", "code = \"X\"\n")],
    )
    .await;
    let notice = text_of(&bad, "contracts-notice");
    assert!(notice.starts_with("Not loaded:"), "{notice}");
    assert!(bad.contains("code = &quot;X&quot;") || bad.contains("code = &#34;X&#34;"));
    let count = |body: &str| body.matches("<td>ESSENTIEL</td>").count();
    assert_eq!(count(&bad), count(&contracts), "nothing loaded");

    // Billing: nothing paid yet; then a pharmacy line at 100 % BR (10.00 − AMO 6.50 = 3.50)
    // paid by a run, to the cent; the CSV lists the invoice.
    let date = today(&app);
    let amc = insurer.amc.as_str();
    let bill_path = format!("/insurer/billing?amc={amc}&from={date}&to={date}");
    let empty = page(&app, &staff, &bill_path).await;
    assert_eq!(text_of(&empty, "billing-total"), "0.00 €");
    let form = page(&app, &pharmacist, "/invoices").await;
    let csrf = csrf_of(&form);
    let answer = submit(
        &app,
        &pharmacist,
        "/invoices",
        &[
            ("csrf", csrf.as_str()),
            ("engagement", &number),
            ("care_date", &date),
            ("kind1", "other"),
            ("price1", "10.00"),
            ("br1", "10.00"),
            ("amo1", "6.50"),
        ],
    )
    .await;
    assert_eq!(text_of(&answer, "claim-total"), "3.50 €", "{answer}");
    let invoice_id = text_of(&answer, "claim-reference");
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let desk = page(&app, &admin, "/console/payments").await;
    app.step_up(&admin).await;
    submit(
        &app,
        &admin,
        "/console/payments",
        &[("csrf", csrf_of(&desk).as_str()), ("date", date.as_str())],
    )
    .await;
    let bill = page(&app, &staff, &bill_path).await;
    assert_eq!(text_of(&bill, "billing-total"), "3.50 €", "{bill}");
    assert!(bill.contains("<td>PHAR</td>"));
    let csv_link = bill
        .split(r#"href=""#)
        .find(|s| s.starts_with("/insurer/billing.csv"))
        .unwrap();
    // The page escapes `&` as HTML does (`&#38;`); a browser follows the link unescaped.
    let csv_path = csv_link[..csv_link.find('"').unwrap()].replace("&#38;", "&");
    let csv = app.get_as(&staff, &csv_path).await;
    assert_eq!(csv.status(), 200, "{csv_path}");
    assert!(
        csv.text()
            .await
            .unwrap()
            .contains(&invoice_id.replace('-', ""))
    );

    // Another insurer's statement is 404 to this staff; the operator sees every insurer.
    let theirs = format!(
        "/insurer/billing.csv?amc={}&from={date}&to={date}",
        other.amc.as_str()
    );
    assert_eq!(app.get_as(&staff, &theirs).await.status(), 404);
    assert_eq!(app.get_as(&admin, &theirs).await.status(), 200);
    let operator_page = page(&app, &admin, "/insurer/billing").await;
    assert_eq!(
        operator_page.matches("<option value=").count(),
        insurers.len()
    );
    // A bad period names the field.
    let bad = page(&app, &staff, "/insurer/billing?from=2026-13-01&to=x").await;
    assert!(text_of(&bad, "billing-error").starts_with("From:"));
    // Professionals have neither page.
    let pro_contracts = page(&app, &pharmacist, "/insurer/contracts").await;
    assert!(pro_contracts.contains("your account does not belong to one"));
    assert!(!pro_contracts.contains("ESSENTIEL"));
    let pro_billing = page(&app, &pharmacist, "/insurer/billing").await;
    assert!(pro_billing.contains("for insurers and the operator"));
    let csv = format!("/insurer/billing.csv?amc={amc}&from={date}&to={date}");
    assert_eq!(app.get_as(&pharmacist, &csv).await.status(), 404);
    app.cleanup().await;
}
