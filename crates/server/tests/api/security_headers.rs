//! Every response, success or error, carries the security headers.

use reqwest::Response;
use std::time::Duration;
use testkit::{Backend, TestOptions, spawn_app, spawn_app_with};

const EXPECTED: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("cache-control", "no-store"),
];

fn assert_secured(what: &str, response: &Response) {
    for (name, value) in EXPECTED {
        let got = response
            .headers()
            .get(*name)
            .unwrap_or_else(|| panic!("{what}: missing {name}"));
        assert_eq!(got, value, "{what}: {name}");
    }
    let permissions = response
        .headers()
        .get("permissions-policy")
        .unwrap_or_else(|| panic!("{what}: missing permissions-policy"))
        .to_str()
        .unwrap();
    for feature in [
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
    ] {
        assert!(
            permissions.contains(feature),
            "{what}: permissions-policy lacks {feature}"
        );
    }
    assert!(
        !permissions.contains('*'),
        "{what}: permissions-policy grants to everyone"
    );
    assert!(
        response.headers().get("x-request-id").is_some(),
        "{what}: missing x-request-id"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let options = TestOptions {
        test_routes: true,
        web: web::WebConfig {
            request_timeout: Duration::from_millis(300),
            ..Default::default()
        },
        ..TestOptions::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await.unwrap();
    let c = &app.client;

    let cases: Vec<(&str, Response, u16)> = vec![
        ("healthz", app.get("/healthz").await, 200),
        ("readyz", app.get("/readyz").await, 200),
        ("metrics", app.get("/metrics").await, 200),
        ("openapi", app.get("/api/openapi.json").await, 200),
        (
            "echo",
            app.post_json("/__test/echo", &serde_json::json!({"a": 1}))
                .await,
            200,
        ),
        ("404", app.get("/nowhere").await, 404),
        (
            "405",
            c.delete(app.url("/healthz")).send().await.unwrap(),
            405,
        ),
        (
            "400",
            c.post(app.url("/__test/echo"))
                .header("content-type", "application/json")
                .body("{nope")
                .send()
                .await
                .unwrap(),
            400,
        ),
        (
            "413",
            c.post(app.url("/__test/echo"))
                .header("content-type", "application/json")
                .body(vec![b' '; 2 * 1024 * 1024])
                .send()
                .await
                .unwrap(),
            413,
        ),
        ("500", app.get("/__test/internal").await, 500),
        ("timeout", app.get("/__test/slow").await, 503),
    ];
    for (what, response, status) in &cases {
        assert_eq!(response.status().as_u16(), *status, "{what}");
        assert_secured(what, response);
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "{what}: no HSTS unless configured"
        );
    }

    app.store.set_down(true);
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_secured("readyz down", &response);
    app.cleanup().await;
}

#[tokio::test]
async fn hsts_is_sent_when_configured() {
    let options = TestOptions {
        web: web::WebConfig {
            hsts: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await.unwrap();
    for path in ["/healthz", "/nowhere"] {
        let response = app.get(path).await;
        let hsts = response
            .headers()
            .get("strict-transport-security")
            .expect("HSTS")
            .to_str()
            .unwrap();
        assert!(
            hsts.starts_with("max-age=") && hsts.contains("includeSubDomains"),
            "{hsts}"
        );
        assert_secured(path, &response);
    }
    app.cleanup().await;
}

#[tokio::test]
async fn headers_are_also_sent_on_postgres() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    assert_secured("healthz", &app.get("/healthz").await);
    assert_secured("readyz", &app.get("/readyz").await);
    assert_secured("404", &app.get("/nowhere").await);
    app.cleanup().await;
}
