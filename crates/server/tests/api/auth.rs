//! Passkeys, sessions, step-up, CSRF: the acceptance of issue 4 (people's access), signing in
//! with a software passkey on the real server.

use crate::helpers::assert_problem;
use domain::accounts::{OrganisationKind, Role};
use serde_json::{Value, json};
use testkit::{Backend, TestApp, spawn_app};
use time::Duration;

const EVIL_ORIGIN: &str = "https://rempart.example.evil";

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app(backend).await
}

/// An organisation for each role.
async fn org_for(app: &TestApp, role: Role) -> uuid::Uuid {
    app.given_organisation(role.organisation_kind()).await
}

const ROLES: [Role; 5] = [
    Role::OperatorAdmin,
    Role::OperatorAnalyst,
    Role::Auditor,
    Role::InsurerStaff,
    Role::Professional,
];

async fn every_role_signs_in_with_a_passkey(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    for role in ROLES {
        let org = org_for(&app, role).await;
        let enrolled = app.enrol(role, org).await;
        assert_eq!(enrolled.role, role);
        assert_eq!(enrolled.organisation_id, org);
        // The demo-style cookie: plain-HTTP localhost drops `__Host-` and `Secure`.
        let c = &enrolled.set_cookie;
        assert!(c.starts_with("rempart="), "{c}");
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(!c.contains("Secure"), "{c}");
        assert_eq!(enrolled.token.len(), 43, "256 bits, base64url");

        let me = app.get_as(&enrolled, "/api/v1/me").await;
        assert_eq!(me.status(), 200);
        let me: Value = me.json().await.unwrap();
        assert_eq!(me["role"], role.code());
        assert_eq!(me["organisation"]["id"], org.to_string());

        // Sign out, sign in again with the same passkey: a new session id (rotated).
        let out = app
            .post_as(&enrolled, "/api/v1/auth/logout", &json!({}))
            .await;
        assert_eq!(out.status(), 204);
        let again = app.login(&enrolled.passkey).await;
        assert_ne!(again.token, enrolled.token);
        assert_eq!(again.account_id, enrolled.account_id);
        assert_eq!(app.get_as(&again, "/api/v1/me").await.status(), 200);
    }
    app.cleanup().await;
}

async fn an_assertion_for_a_phishing_origin_is_refused(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let org = app.given_organisation(OrganisationKind::Practice).await;
    let who = app.enrol(Role::Professional, org).await;
    let (ceremony, options) = app.login_start().await;
    // A real-time proxy relays our challenge; the passkey signs for the proxy's origin.
    let credential = who
        .passkey
        .assert_for_phishing_proxy(EVIL_ORIGIN, options.clone());
    let refused = app.login_finish(ceremony, &credential).await;
    let body = assert_problem(refused, 400).await;
    assert_eq!(body["type"], "urn:rempart:problem:ceremony-failed");
    // Without rewriting the rp id, the authenticator itself refuses the foreign origin.
    assert!(who.passkey.try_assert(EVIL_ORIGIN, options).is_none());
    app.cleanup().await;
}

async fn a_replayed_assertion_and_a_reused_ceremony_are_refused(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let org = app.given_organisation(OrganisationKind::Insurer).await;
    let who = app.enrol(Role::InsurerStaff, org).await;

    let (ceremony, options) = app.login_start().await;
    let credential = who.passkey.assert(&app.origin, options.clone());
    assert_eq!(app.login_finish(ceremony, &credential).await.status(), 200);
    // The same assertion again, on the same ceremony: the state is gone (single use).
    assert_problem(app.login_finish(ceremony, &credential).await, 400).await;
    // The same assertion on a new ceremony: wrong challenge.
    let (fresh, _) = app.login_start().await;
    assert_problem(app.login_finish(fresh, &credential).await, 400).await;
    // A fresh assertion for the used ceremony's options: the state is gone.
    let again = who.passkey.assert(&app.origin, options);
    assert_problem(app.login_finish(ceremony, &again).await, 400).await;
    // A ceremony past its 5 minutes.
    let (late, options) = app.login_start().await;
    app.clock.advance(Duration::minutes(6));
    let credential = who.passkey.assert(&app.origin, options);
    assert_problem(app.login_finish(late, &credential).await, 400).await;
    app.cleanup().await;
}

async fn an_invitation_reused_or_expired_is_refused(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let org = app.given_organisation(OrganisationKind::Insurer).await;
    let invitation = app.invite(Role::InsurerStaff, org).await;
    app.enrol_with(&invitation).await;
    let reused = app
        .post_origin(
            "/api/v1/auth/enrol/start",
            &json!({ "invitation": invitation }),
        )
        .await;
    let body = assert_problem(reused, 400).await;
    assert_eq!(body["type"], "urn:rempart:problem:invalid-invitation");
    assert!(!body.to_string().contains(&invitation), "never echoed");

    let expiring = app.invite(Role::InsurerStaff, org).await;
    app.clock.advance(Duration::hours(73));
    let expired = app
        .post_origin(
            "/api/v1/auth/enrol/start",
            &json!({ "invitation": expiring }),
        )
        .await;
    assert_problem(expired, 400).await;
    let unknown = app
        .post_origin(
            "/api/v1/auth/enrol/start",
            &json!({ "invitation": "not-a-token" }),
        )
        .await;
    assert_problem(unknown, 400).await;
    app.cleanup().await;
}

fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.to_lowercase());
                if k == "name"
                    && let Some(s) = v.as_str()
                {
                    out.push(s.to_lowercase());
                }
                keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

async fn no_route_accepts_a_password(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut names = Vec::new();
    keys(&doc, &mut names);
    for forbidden in ["password", "passwd", "pass_word", "otp", "pin"] {
        assert!(
            !names
                .iter()
                .any(|n| n == forbidden || n.contains("password")),
            "a field or parameter named like {forbidden}"
        );
    }
    app.cleanup().await;
}

/// Routes anyone may call: operations, the public card-signing keys (offline verification of
/// signed cards, no personal data), and the sign-in ceremonies themselves. A new public route
/// must be added here deliberately.
pub fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json" | "/api/v1/card-keys"
    ) || path.starts_with("/api/v1/auth/enrol/")
        || path.starts_with("/api/v1/auth/login/")
}

/// Every (method, path) of the OpenAPI document, with `{params}` filled by `fill`.
pub async fn routes(app: &TestApp, fill: &dyn Fn(&str) -> String) -> Vec<(String, String, String)> {
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                let mut concrete = String::new();
                let mut rest = path.as_str();
                while let Some(start) = rest.find('{') {
                    let end = rest[start..].find('}').unwrap() + start;
                    concrete.push_str(&rest[..start]);
                    concrete.push_str(&fill(&rest[start + 1..end]));
                    rest = &rest[end + 1..];
                }
                concrete.push_str(rest);
                out.push((method.to_uppercase(), path.clone(), concrete));
            }
        }
    }
    out
}

async fn every_data_route_without_a_session_answers_401(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let fill = |_: &str| uuid::Uuid::now_v7().to_string();
    let all = routes(&app, &fill).await;
    assert!(all.len() >= 15, "{all:?}");
    for (method, template, path) in all {
        if is_public(&template) {
            continue;
        }
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .header("origin", &app.origin)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {template}");
        assert_problem(response, 401).await;
    }
    app.cleanup().await;
}

async fn a_session_after_logout_or_past_its_limits_answers_401(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let org = app.given_organisation(OrganisationKind::Practice).await;
    let who = app.enrol(Role::Professional, org).await;
    app.post_as(&who, "/api/v1/auth/logout", &json!({})).await;
    assert_problem(app.get_as(&who, "/api/v1/me").await, 401).await;

    // Idle: 14 minutes is fine (and slides), 16 more is not.
    let who = app.login(&who.passkey).await;
    app.clock.advance(Duration::minutes(14));
    assert_eq!(app.get_as(&who, "/api/v1/me").await.status(), 200);
    app.clock.advance(Duration::minutes(14));
    assert_eq!(app.get_as(&who, "/api/v1/me").await.status(), 200);
    app.clock.advance(Duration::minutes(16));
    assert_problem(app.get_as(&who, "/api/v1/me").await, 401).await;

    // Absolute: 12 hours, however active.
    let who = app.login(&who.passkey).await;
    for _ in 0..(12 * 6 - 1) {
        app.clock.advance(Duration::minutes(10));
        assert_eq!(app.get_as(&who, "/api/v1/me").await.status(), 200);
    }
    app.clock.advance(Duration::minutes(10));
    assert_problem(app.get_as(&who, "/api/v1/me").await, 401).await;
    app.cleanup().await;
}

async fn step_up_is_required_then_satisfied(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let insurer = app.given_organisation(OrganisationKind::Insurer).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let invite = json!({ "role": "insurer_staff", "organisation_id": insurer });

    // Fresh from sign-in: allowed.
    let ok = app.post_as(&admin, "/api/v1/invitations", &invite).await;
    assert_eq!(ok.status(), 200);
    let ok: Value = ok.json().await.unwrap();
    assert!(ok["link"].as_str().unwrap().contains("/enrol?invitation="));

    // Six minutes later: step-up required.
    app.clock.advance(Duration::minutes(6));
    let body = assert_problem(
        app.post_as(&admin, "/api/v1/invitations", &invite).await,
        403,
    )
    .await;
    assert_eq!(body["type"], "urn:rempart:problem:step-up-required");
    assert_problem(
        app.post_as(&admin, "/api/v1/me/passkeys/start", &json!({}))
            .await,
        403,
    )
    .await;

    app.step_up(&admin).await;
    let ok = app.post_as(&admin, "/api/v1/invitations", &invite).await;
    assert_eq!(ok.status(), 200);
    // The invitation made there enrols an insurer staff member.
    let token = ok.json::<Value>().await.unwrap()["invitation"]
        .as_str()
        .unwrap()
        .to_string();
    let staff = app.enrol_with(&token).await;
    assert_eq!(staff.organisation_id, insurer);

    // Only operator administrators invite, whatever their freshness.
    let body = assert_problem(
        app.post_as(
            &staff,
            "/api/v1/invitations",
            &json!({ "role": "insurer_staff", "organisation_id": insurer }),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(body["type"], "urn:rempart:problem:forbidden");
    app.cleanup().await;
}

/// Sign-in and enrolment ceremonies are rate-limited per client address: past the burst, 429
/// problem `rate-limited` with `retry-after`; the allowance comes back with time.
#[tokio::test]
async fn sign_in_ceremonies_are_rate_limited_per_address() {
    let options = testkit::TestOptions {
        web: web::WebConfig {
            auth_rate_per_minute: 6,
            auth_rate_burst: 3,
            ..web::WebConfig::default()
        },
        ..testkit::TestOptions::default()
    };
    let app = testkit::spawn_app_with(Backend::Sqlite, options)
        .await
        .unwrap();
    for _ in 0..3 {
        let ok = app
            .post_origin("/api/v1/auth/login/start", &json!({}))
            .await;
        assert_eq!(ok.status(), 200);
    }
    let limited = app
        .post_origin("/api/v1/auth/login/start", &json!({}))
        .await;
    assert_eq!(limited.headers()["retry-after"], "10");
    let body = assert_problem(limited, 429).await;
    assert_eq!(body["type"], "urn:rempart:problem:rate-limited");
    // The same allowance covers enrolment and the finishing halves.
    let enrol = app
        .post_origin("/api/v1/auth/enrol/start", &json!({"invitation": "x"}))
        .await;
    assert_problem(enrol, 429).await;
    let finish = app
        .post_origin(
            "/api/v1/auth/login/finish",
            &json!({"ceremony": uuid::Uuid::now_v7(), "credential": {}}),
        )
        .await;
    assert_eq!(finish.status(), 429);
    // Other routes are not limited by it.
    assert_eq!(app.get("/healthz").await.status(), 200);
    // Ten seconds later (6 a minute), one more.
    app.clock.advance(Duration::seconds(10));
    let again = app
        .post_origin("/api/v1/auth/login/start", &json!({}))
        .await;
    assert_eq!(again.status(), 200);
    app.cleanup().await;
}

async fn passkeys_are_listed_added_and_revoked_by_their_owner(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let org = app.given_organisation(OrganisationKind::Insurer).await;
    let who = app.enrol(Role::InsurerStaff, org).await;
    let list: Value = app
        .get_as(&who, "/api/v1/me/passkeys")
        .await
        .json()
        .await
        .unwrap();
    let first = list["passkeys"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1);
    // Never the last one.
    assert_problem(
        app.delete_as(&who, &format!("/api/v1/me/passkeys/{first}"))
            .await,
        409,
    )
    .await;

    // Add a second passkey (fresh from sign-in: within the step-up window).
    let start = app
        .post_as(&who, "/api/v1/me/passkeys/start", &json!({}))
        .await;
    assert_eq!(start.status(), 200);
    let start: Value = start.json().await.unwrap();
    let options = serde_json::from_value(start["options"].clone()).unwrap();
    let (authenticator, credential) = testkit::TestPasskey::register(&app.origin, options);
    let finish = app
        .post_as(
            &who,
            "/api/v1/me/passkeys/finish",
            &json!({ "ceremony": start["ceremony"], "credential": credential, "label": "phone" }),
        )
        .await;
    assert_eq!(finish.status(), 200);
    let second = std::sync::Arc::new(testkit::TestPasskey::from_parts(
        authenticator,
        credential.id.clone(),
        who.account_id,
    ));
    let via_second = app.login(&second).await;
    assert_eq!(via_second.account_id, who.account_id);

    // Now the first can go; signing in with it fails.
    let gone = app
        .delete_as(&via_second, &format!("/api/v1/me/passkeys/{first}"))
        .await;
    assert_eq!(gone.status(), 204);
    let (ceremony, options) = app.login_start().await;
    let credential = who.passkey.assert(&app.origin, options);
    assert_problem(app.login_finish(ceremony, &credential).await, 400).await;
    app.cleanup().await;
}

async fn state_changing_requests_need_our_origin(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let org = app.given_organisation(OrganisationKind::Insurer).await;
    let who = app.enrol(Role::InsurerStaff, org).await;
    for origin in [Some(EVIL_ORIGIN), None] {
        let mut request = app
            .client
            .post(app.url("/api/v1/auth/logout"))
            .header("cookie", &who.cookie);
        if let Some(o) = origin {
            request = request.header("origin", o);
        }
        let body = assert_problem(request.send().await.unwrap(), 403).await;
        assert_eq!(body["type"], "urn:rempart:problem:csrf");
    }
    // Sec-Fetch-Site: same-origin is accepted without Origin.
    let ok = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", &who.cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    // The sign-in ceremonies too.
    let login = app
        .client
        .post(app.url("/api/v1/auth/login/start"))
        .header("origin", EVIL_ORIGIN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(login, 403).await;
    app.cleanup().await;
}

async fn access_responses_carry_the_security_headers(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let org = app.given_organisation(OrganisationKind::Insurer).await;
    let who = app.enrol(Role::InsurerStaff, org).await;
    let responses = vec![
        app.get_as(&who, "/api/v1/me").await,
        app.get_as(&who, "/api/v1/me/passkeys").await,
        app.get_as(&who, "/api/v1/organisations").await,
        app.post_origin("/api/v1/auth/login/start", &json!({}))
            .await,
        app.get("/api/v1/me").await,
    ];
    for r in responses {
        let h = r.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(h.contains_key("x-request-id"));
    }
    app.cleanup().await;
}

testkit::backend_tests!(
    every_role_signs_in_with_a_passkey,
    an_assertion_for_a_phishing_origin_is_refused,
    a_replayed_assertion_and_a_reused_ceremony_are_refused,
    an_invitation_reused_or_expired_is_refused,
    no_route_accepts_a_password,
    every_data_route_without_a_session_answers_401,
    a_session_after_logout_or_past_its_limits_answers_401,
    step_up_is_required_then_satisfied,
    passkeys_are_listed_added_and_revoked_by_their_owner,
    state_changing_requests_need_our_origin,
    access_responses_carry_the_security_headers,
);

/// `rempart demo` writes one invitation per demo role and per practice; one of them enrols a
/// passkey against the running demo; later, `rempart invite --json` makes another.
#[tokio::test]
async fn the_demo_writes_its_invitations_and_rempart_invite_makes_more() {
    use crate::helpers::{enrol_on_demo, rempart, start_demo};
    let mut demo = start_demo();
    let text = &demo.banner;
    assert!(
        text.contains("operator administrator  http://localhost:"),
        "{text}"
    );
    assert!(text.contains("optician ("), "{text}");
    let address = demo.address.clone();
    let origin = demo.origin();
    let data = demo.data();

    let file = data.join("demo-invitations.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let made: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let count = |role: &str| made.iter().filter(|i| i["role"] == role).count();
    assert_eq!(count("operator_admin"), 1);
    assert_eq!(count("operator_analyst"), 1);
    assert_eq!(count("auditor"), 1);
    assert_eq!(count("insurer_staff"), 2);
    assert_eq!(count("professional"), 15, "one per demo practice");
    for i in &made {
        for field in ["role", "organisation", "invitation", "link"] {
            assert!(i[field].is_string(), "{i}");
        }
        assert!(
            i["link"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{origin}/enrol?invitation="))
        );
    }

    // Enrol the optician's passkey against the running demo, then ask who we are.
    let optician = made.iter().find(|i| i["profession"] == "optician").unwrap();
    let cookie = enrol_on_demo(&demo, &origin, optician["invitation"].as_str().unwrap()).await;
    let client = reqwest::Client::new();
    assert!(cookie.starts_with("rempart="));
    let me: Value = client
        .get(format!("http://{address}/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "professional");
    assert_eq!(me["organisation"]["name"], optician["organisation"]);

    demo.stop();

    // After the demo: the command line makes a new invitation for an insurer, by AMC number.
    let out = rempart(demo.dir.path())
        .args([
            "invite",
            "--role",
            "insurer_staff",
            "--org",
            "880000011",
            "--name",
            "Camille",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let invite: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(invite["role"], "insurer_staff");
    assert_eq!(invite["organisation"], "Mutuelle des Tilleuls");
    assert!(
        invite["link"]
            .as_str()
            .unwrap()
            .contains("/enrol?invitation=")
    );
    assert_eq!(invite["invitation"].as_str().unwrap().len(), 43);
    // A professional needs the number the operator checked.
    let out = rempart(demo.dir.path())
        .args(["invite", "--role", "professional", "--org", "880000011"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
