//! Errors are RFC 9457 problem documents with the request id, and never show internals.

use crate::helpers::assert_problem;
use std::time::Duration;
use testkit::{Backend, TestApp, TestOptions, spawn_app_with};

async fn app() -> TestApp {
    let options = TestOptions {
        test_routes: true,
        web: web::WebConfig {
            request_timeout: Duration::from_millis(300),
            ..Default::default()
        },
        ..TestOptions::default()
    };
    spawn_app_with(Backend::Sqlite, options).await.unwrap()
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem_that_does_not_echo_the_path() {
    let app = app().await;
    let body = assert_problem(
        app.get("/api/v1/beneficiaries/1850775123456?name=DUPONT")
            .await,
        404,
    )
    .await;
    assert_eq!(body["type"], "urn:rempart:problem:not-found");
    let text = body.to_string();
    assert!(
        !text.contains("1850775123456") && !text.contains("DUPONT"),
        "{text}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = app().await;
    let response = app.client.post(app.url("/healthz")).send().await.unwrap();
    let body = assert_problem(response, 405).await;
    assert_eq!(body["type"], "urn:rempart:problem:method-not-allowed");
    app.cleanup().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = app().await;
    let big = vec![b' '; 1024 * 1024 + 1];
    let response = app
        .client
        .post(app.url("/__test/echo"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 413).await;
    assert_eq!(body["type"], "urn:rempart:problem:payload-too-large");
    // Also on a route that never reads its body.
    let response = app
        .client
        .post(app.url("/healthz"))
        .body(vec![0u8; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_body_within_the_limit_is_accepted() {
    let app = app().await;
    let response = app
        .post_json("/__test/echo", &serde_json::json!({ "hello": "world" }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({ "hello": "world" })
    );
    app.cleanup().await;
}

#[tokio::test]
async fn malformed_json_is_a_400_problem_without_parser_internals() {
    let app = app().await;
    let response = app
        .client
        .post(app.url("/__test/echo"))
        .header("content-type", "application/json")
        .body(r#"{"nir": "1850775123456", oops"#)
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 400).await;
    assert_eq!(body["type"], "urn:rempart:problem:bad-request");
    let text = body.to_string();
    assert!(
        !text.contains("1850775123456") && !text.contains("line") && !text.contains("column"),
        "{text}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn json_without_its_content_type_is_a_415_problem() {
    let app = app().await;
    let response = app
        .client
        .post(app.url("/__test/echo"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415).await;
    app.cleanup().await;
}

#[tokio::test]
async fn an_internal_error_is_a_500_problem_without_its_cause() {
    let app = app().await;
    let body = assert_problem(app.get("/__test/internal").await, 500).await;
    assert_eq!(body["type"], "urn:rempart:problem:internal");
    let text = body.to_string();
    for secret in ["hunter2", "password", "SELECT", "/var/lib", "nir"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_503_problem() {
    let app = app().await;
    let body = assert_problem(app.get("/__test/slow").await, 503).await;
    assert_eq!(body["type"], "urn:rempart:problem:timeout");
    app.cleanup().await;
}

#[tokio::test]
async fn the_request_id_is_ours_never_the_client_s() {
    let app = app().await;
    let sent = "0190a5d0-0000-7000-8000-000000000000";
    let r1 = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    let r2 = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    let id1 = r1.headers()["x-request-id"].to_str().unwrap().to_string();
    let id2 = r2.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id1, sent);
    assert_ne!(id1, id2);
    assert_eq!(uuid::Uuid::parse_str(&id1).unwrap().get_version_num(), 7);
    app.cleanup().await;
}
