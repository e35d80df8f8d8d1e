//! `/healthz`, `/readyz`, `/metrics` and `/api/openapi.json`.

use serde_json::Value;
use testkit::{Backend, backend_tests, spawn_app};

backend_tests!(
    healthz_answers_ok,
    readyz_answers_ready,
    readyz_answers_503_when_the_store_is_down,
    openapi_lists_the_routes_and_the_problem_schema
);

async fn healthz_answers_ok(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
    app.cleanup().await;
}

async fn readyz_answers_ready(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    app.cleanup().await;
}

async fn readyz_answers_503_when_the_store_is_down(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.store.set_down(true);
    let body = crate::helpers::assert_problem(app.get("/readyz").await, 503).await;
    assert_eq!(body["type"], "urn:rempart:problem:unavailable");
    assert!(
        !body.to_string().contains("switched"),
        "the cause stays in the logs: {body}"
    );
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.store.set_down(false);
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.cleanup().await;
}

async fn openapi_lists_the_routes_and_the_problem_schema(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = response.json().await.expect("valid JSON");
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    for path in ["/healthz", "/readyz", "/metrics", "/api/openapi.json"] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail", "request_id"] {
        assert!(
            problem["properties"][field].is_object(),
            "Problem.{field} is documented"
        );
    }
    assert!(doc["paths"]["/readyz"]["get"]["responses"]["503"].is_object());
    app.cleanup().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_never_by_raw_path() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    assert_eq!(
        app.get("/no/such/page/1234567890?nir=1850775123456")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.client
            .post(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();

    let value = |name: &str, labels: &[&str]| -> Option<f64> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .find(|l| labels.iter().all(|label| l.contains(label)))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    assert_eq!(
        value(
            "http_requests_total",
            &[r#"route="/healthz""#, r#"method="GET""#, r#"status="200""#]
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            "http_requests_total",
            &[r#"route="unmatched""#, r#"status="404""#]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            "http_requests_total",
            &[r#"route="/healthz""#, r#"method="POST""#, r#"status="405""#]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            "http_request_duration_seconds_count",
            &[r#"route="/healthz""#, r#"status="200""#]
        ),
        Some(3.0),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "latency is a histogram: {text}"
    );
    assert!(
        !text.contains("1234567890") && !text.contains("nir") && !text.contains("/no/such"),
        "no raw path in labels: {text}"
    );
    app.cleanup().await;
}
