//! Shared assertions.

use serde_json::Value;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

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

/// A running `rempart demo` in a temporary directory (stopped with SIGTERM when dropped).
pub struct Demo {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub address: String,
    pub dir: tempfile::TempDir,
    /// What the demo printed, up to its invitations' line.
    pub banner: String,
    stopped: bool,
}

impl Demo {
    /// The pages' origin, `http://localhost:PORT` (WebAuthn needs the host name).
    pub fn origin(&self) -> String {
        let port = self.address.rsplit(':').next().unwrap_or_default();
        format!("http://localhost:{port}")
    }

    /// The demo's data directory.
    pub fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Every invitation the demo wrote (`demo-invitations.json`).
    pub fn invitations(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.data().join("demo-invitations.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The first invitation whose `field` is `value` (e.g. `role` = `operator_admin`).
    pub fn invitation(&self, field: &str, value: &str) -> Value {
        self.invitations()
            .into_iter()
            .find(|i| i[field] == value)
            .unwrap_or_else(|| panic!("no demo invitation with {field} = {value}"))
    }

    /// Stops the demo (SIGTERM, then waits); its directory stays until the drop.
    pub fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `rempart` binary run in `dir` with `--data-dir data` and a clean environment.
pub fn rempart(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rempart"));
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--data-dir", "data"]);
    c
}

/// Starts `rempart demo` on a free loopback port and waits for its banner.
pub fn start_demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut child = rempart(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut address = None;
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let _ = child.kill();
            panic!("the demo ended early: {banner}");
        }
        if let Some(rest) = line.trim().strip_prefix("listening on ") {
            address = rest.split(';').next().map(str::to_string);
        }
        let done = line.contains("every demo invitation");
        banner.push_str(&line);
        if done {
            break;
        }
    }
    // Keep draining the demo's output so that it never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while stdout.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    Demo {
        child,
        address: address.expect("the listening address"),
        dir,
        banner,
        stopped: false,
    }
}

/// Enrols a passkey with `invitation` against the demo; answers the session cookie.
pub async fn enrol_on_demo(demo: &Demo, origin: &str, invitation: &str) -> String {
    let client = reqwest::Client::new();
    let start: Value = client
        .post(format!("http://{}/api/v1/auth/enrol/start", demo.address))
        .header("origin", origin)
        .json(&serde_json::json!({ "invitation": invitation }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let options = serde_json::from_value(start["options"].clone()).unwrap();
    let (_, credential) = testkit::TestPasskey::register(origin, options);
    let finish = client
        .post(format!("http://{}/api/v1/auth/enrol/finish", demo.address))
        .header("origin", origin)
        .json(&serde_json::json!({ "invitation": invitation, "credential": credential }))
        .send()
        .await
        .unwrap();
    assert_eq!(finish.status(), 200);
    finish.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}
