//! Web pages (`web::portal`, `web::console`): HTML with the security headers and no inline
//! script or style, the two static assets, redirections to /login without a session, the
//! synchronizer token on forms, the step-up before an invitation, sign-out.

use crate::helpers::{csrf_of, post_form};
use domain::accounts::{OrganisationKind, Role};
use reqwest::Response;
use testkit::{Backend, spawn_app};

fn assert_page_headers(what: &str, response: &Response) {
    let h = response.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert!(h.get("x-request-id").is_some(), "{what}");
}

/// A page: 200, HTML, the headers, `no-store`, and nothing inline.
async fn html(what: &str, response: Response) -> String {
    assert_eq!(response.status(), 200, "{what}");
    assert_page_headers(what, &response);
    assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{what}"
    );
    let body = response.text().await.unwrap();
    assert!(!body.contains("<script>"), "{what}: inline script");
    assert!(!body.contains("style="), "{what}: inline style");
    assert!(!body.contains("<style"), "{what}: inline style");
    assert!(
        !body.to_lowercase().contains("onclick"),
        "{what}: inline handler"
    );
    assert!(body.contains(r#"<script src="/static/webauthn.js" defer></script>"#));
    body
}

fn assert_to_login(what: &str, response: &Response) {
    assert_eq!(response.status(), 303, "{what}");
    assert_eq!(response.headers()["location"], "/login", "{what}");
    assert_page_headers(what, response);
}

#[tokio::test]
async fn public_pages_and_assets() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let home = html("/", app.get("/").await).await;
    assert!(home.contains(r#"href="/login""#));
    let login = html("/login", app.get("/login").await).await;
    assert!(login.contains(r#"data-action="login""#));
    let bad = html(
        "/enrol (bad)",
        app.get("/enrol?invitation=not-an-invitation").await,
    )
    .await;
    assert!(bad.contains("invalid-invitation"));
    assert!(!bad.contains(r#"data-action="enrol""#));

    let org = app.given_organisation(OrganisationKind::Practice).await;
    let token = app.invite(Role::Professional, org).await;
    let page = html(
        "/enrol",
        app.get(&format!("/enrol?invitation={token}")).await,
    )
    .await;
    assert!(page.contains(r#"<dd id="invited-role">professional</dd>"#));
    assert!(page.contains("Test practice") || page.contains("Test Practice"));
    assert!(page.contains(&format!(r#"data-invitation="{token}""#)));
    // Looking does not use the invitation up.
    let again = html(
        "/enrol again",
        app.get(&format!("/enrol?invitation={token}")).await,
    )
    .await;
    assert!(again.contains(r#"data-action="enrol""#));

    for (path, kind) in [
        ("/static/webauthn.js", "text/javascript"),
        ("/static/rempart.css", "text/css"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_page_headers(path, &response);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert!(!response.text().await.unwrap().is_empty());
    }
    let js = web::portal::WEBAUTHN_JS;
    for needle in [
        "/api/v1/auth/enrol/start",
        "/api/v1/auth/login/finish",
        "navigator.credentials.create",
        "navigator.credentials.get",
    ] {
        assert!(js.contains(needle), "webauthn.js lacks {needle}");
    }

    assert_to_login("/me", &app.get("/me").await);
    assert_to_login("/console", &app.get("/console").await);
    app.cleanup().await;
}

#[tokio::test]
async fn my_account_revoke_and_sign_out() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let org = app.given_organisation(OrganisationKind::Practice).await;
    let pro = app.enrol(Role::Professional, org).await;
    let me = html("/me", app.get_as(&pro, "/me").await).await;
    assert!(me.contains(r#"<dd id="me-role">professional</dd>"#));
    assert!(me.contains(r#"data-action="add-passkey""#));
    assert!(
        !me.contains(r#"href="/console""#),
        "no console link for professionals"
    );
    let csrf = csrf_of(&me);

    // A professional does not see the console at all: the HTML "not found" page (a person's
    // browser asked), exactly as for a page that does not exist.
    let console = app.get_as(&pro, "/console").await;
    assert_eq!(console.status(), 404);
    assert_page_headers("/console as a professional", &console);
    assert!(
        console.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = console.text().await.unwrap();
    assert!(page.contains(r#"<p id="not-found">"#), "{page}");
    assert!(!page.contains("Operator console"));
    let posted = post_form(
        &app,
        &pro,
        "/console/invitations",
        &format!("csrf={csrf}&role=professional&organisation_id={org}"),
    )
    .await;
    assert_eq!(posted.status(), 404);
    assert!(
        posted
            .text()
            .await
            .unwrap()
            .contains(r#"<p id="not-found">"#)
    );

    // Revoking the last passkey is refused with a notice.
    let passkeys: serde_json::Value = app
        .get_as(&pro, "/api/v1/me/passkeys")
        .await
        .json()
        .await
        .unwrap();
    let id = passkeys["passkeys"][0]["id"].as_str().unwrap().to_string();
    let refused = html(
        "revoke last",
        post_form(
            &app,
            &pro,
            &format!("/me/passkeys/{id}/revoke"),
            &format!("csrf={csrf}"),
        )
        .await,
    )
    .await;
    assert!(refused.contains("last passkey"));

    // Forms without the token, or from another origin, are refused.
    let no_token = post_form(&app, &pro, "/logout", "csrf=forged").await;
    assert_eq!(no_token.status(), 403);
    let foreign = app
        .client
        .post(app.url("/logout"))
        .header("cookie", &pro.cookie)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    // `Origin: null` (what a browser sends under no-referrer) needs Sec-Fetch-Site.
    let null_origin = |site: Option<&str>| {
        let mut request = app
            .client
            .post(app.url("/logout"))
            .header("cookie", &pro.cookie)
            .header("origin", "null")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}"));
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    assert_eq!(null_origin(None).await.unwrap().status(), 403);
    assert_eq!(null_origin(Some("cross-site")).await.unwrap().status(), 403);
    assert_eq!(app.get_as(&pro, "/api/v1/me").await.status(), 200);

    // Sign-out (as a browser sends the form): home, cookie cleared, session gone.
    let out = null_origin(Some("same-origin")).await.unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/");
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(app.get_as(&pro, "/api/v1/me").await.status(), 401);
    assert_to_login("/me after sign-out", &app.get_as(&pro, "/me").await);
    app.cleanup().await;
}

#[tokio::test]
async fn console_lists_and_invites_after_a_step_up() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let page = html("/console", app.get_as(&admin, "/console").await).await;
    assert!(page.contains(&practice.to_string()), "organisations listed");
    assert!(page.contains("operator_admin"), "accounts listed");
    assert!(page.contains(r#"action="/console/invitations""#));
    let csrf = csrf_of(&page);
    let form = format!(
        "csrf={csrf}&role=professional&organisation_id={practice}&display_name=Dr+Test&professional_id=adeli%3A752812345"
    );

    // Sign-in was more than 5 minutes ago: a step-up is needed first.
    app.clock.advance(time::Duration::minutes(6));
    let needs = html(
        "invite without step-up",
        post_form(&app, &admin, "/console/invitations", &form).await,
    )
    .await;
    assert!(needs.contains("fresh passkey check"));
    assert!(!needs.contains("invitation-link"));

    // Without the form token: refused.
    let forged = post_form(
        &app,
        &admin,
        "/console/invitations",
        &form.replace(&csrf, "forged"),
    )
    .await;
    assert_eq!(forged.status(), 403);

    app.step_up(&admin).await;
    let made = html(
        "invite",
        post_form(&app, &admin, "/console/invitations", &form).await,
    )
    .await;
    let start = made
        .find(r#"<code id="invitation-link">"#)
        .expect("the link")
        + 27;
    let link = &made[start..][..made[start..].find('<').unwrap()];
    assert!(
        link.starts_with(&format!("{}/enrol?invitation=", app.origin)),
        "{link}"
    );
    // The link works once: its page shows the professional invitation.
    let token = link.rsplit('=').next().unwrap();
    let enrol = html(
        "/enrol from the console",
        app.get(&format!("/enrol?invitation={token}")).await,
    )
    .await;
    assert!(enrol.contains(r#"<dd id="invited-role">professional</dd>"#));

    // An analyst sees the lists but no invitation form.
    let analyst = app.enrol(Role::OperatorAnalyst, operator).await;
    let page = html("/console analyst", app.get_as(&analyst, "/console").await).await;
    assert!(!page.contains(r#"action="/console/invitations""#));
    app.cleanup().await;
}

/// The money path's pages (issue 6): without a session they send to /login; for their role
/// they are HTML with the security headers and nothing inline, and "my account" links them.
#[tokio::test]
async fn money_pages_are_html_for_their_roles_and_linked_from_my_account() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let insurer = app.given_organisation(OrganisationKind::Insurer).await;
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let pro = app.enrol(Role::Professional, practice).await;
    let staff = app.enrol(Role::InsurerStaff, insurer).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let pages: [(&testkit::SignedIn, &[&str]); 3] = [
        (&pro, &["/approvals", "/invoices", "/payments"]),
        (&staff, &["/insurer/contracts", "/insurer/billing"]),
        (
            &admin,
            &["/console/payments", "/console/iban", "/insurer/billing"],
        ),
    ];
    for (who, paths) in pages {
        let me = html("/me", app.get_as(who, "/me").await).await;
        for path in paths {
            assert_to_login(path, &app.get(path).await);
            let body = html(path, app.get_as(who, path).await).await;
            assert!(
                body.contains(r#"name="csrf""#),
                "{path}: the sign-out form at least"
            );
            assert!(
                me.contains(&format!(r#"href="{path}""#)),
                "/me links {path}"
            );
        }
    }
    // Forms of the money pages change state: without the session's form token, 403.
    let r = crate::helpers::post_form(&app, &pro, "/invoices", "engagement=E").await;
    assert_eq!(r.status(), 403);
    let r = crate::helpers::post_form(
        &app,
        &admin,
        "/console/payments",
        "csrf=forged&date=2026-01-01",
    )
    .await;
    assert_eq!(r.status(), 403);
    app.cleanup().await;
}
