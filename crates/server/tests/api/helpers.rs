//! Shared assertions.

use serde_json::Value;

/// Asserts `response` is a problem document with `status`, whose `request_id` matches the
/// `x-request-id` header, and returns the document.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .expect("content-type")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.expect("problem is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    assert_eq!(body["instance"], format!("urn:uuid:{request_id}"), "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:rempart:problem:"),
        "{body}"
    );
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    let id = uuid::Uuid::parse_str(&request_id).expect("request id is a UUID");
    assert_eq!(id.get_version_num(), 7, "request id is a UUIDv7");
    body
}

/// The form token (`csrf` hidden field) of a page.
pub fn csrf_of(body: &str) -> String {
    let start = body.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    body[start..][..body[start..].find('"').unwrap()].to_string()
}

/// Submits an HTML form (`application/x-www-form-urlencoded`) as `who`.
pub async fn post_form(
    app: &testkit::TestApp,
    who: &testkit::SignedIn,
    path: &str,
    form: &str,
) -> reqwest::Response {
    app.request_as(who, reqwest::Method::POST, path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap()
}
