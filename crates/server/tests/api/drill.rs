//! `rempart drill` against a running `rempart demo`: the three scenarios of the 2024 attack end
//! where issue 7 says they must, and the incident scope of the hijacked session lists exactly
//! the members the drill received. Then `rempart incident scope --out` and `incident draft`
//! on the same data.

use crate::helpers::{enrol_on_demo as enrol, rempart, start_demo};
use serde_json::Value;

#[tokio::test]
async fn the_drill_against_the_demo_ends_where_it_must_and_the_scope_is_what_it_received() {
    let demo = start_demo();
    let origin = demo.origin();
    let made = demo.invitations();
    let optician = made
        .iter()
        .find(|i| i["profession"] == "optician")
        .expect("a demo optician");
    let other = made
        .iter()
        .find(|i| i["role"] == "professional" && i["organisation"] != optician["organisation"])
        .expect("another demo practice");
    let hijacked = enrol(&demo, &origin, optician["invitation"].as_str().unwrap()).await;
    let guesser = enrol(&demo, &origin, other["invitation"].as_str().unwrap()).await;

    // (Asked before the drill: a suspended account's /me answers 403.)
    let me: Value = reqwest::Client::new()
        .get(format!("http://{}/api/v1/me", demo.address))
        .header("cookie", &hijacked)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = me["account_id"].as_str().unwrap().to_string();
    let out = rempart(demo.dir.path())
        .args([
            "drill",
            "--target",
            &origin,
            "--cards",
            "data/demo-cards.csv",
            "--session",
            &hijacked,
            "--session",
            &guesser,
            "--check-scope",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["passed"], true, "{report:#}");
    let scenario = |name: &str| {
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scenario"] == name)
            .unwrap()
            .clone()
    };
    // (a) a phished password: no session, nothing disclosed.
    let a = scenario("a");
    assert_eq!(a["answered"], 0, "{a:#}");
    assert_eq!(a["people_disclosed"], 0);
    // (b) a hijacked session: some people before the guard stopped it, at most 20, and
    // suspended within a minute.
    let b = scenario("b");
    let people = b["people_disclosed"].as_u64().unwrap();
    assert!(people > 0 && people <= 20, "{b:#}");
    assert_eq!(b["suspended"], true, "{b:#}");
    assert!(b["seconds_to_suspension"].as_f64().unwrap() <= 60.0);
    // (c) enumeration: nothing, suspended after at most 10 non-matches.
    let c = scenario("c");
    assert_eq!(c["answered"], 0, "{c:#}");
    assert_eq!(c["suspended"], true, "{c:#}");
    assert!(c["non_matches"].as_u64().unwrap() <= 10, "{c:#}");
    // The incident scope of (b), from the ledger, is exactly what the drill received.
    assert_eq!(report["scope_check"]["equal"], true, "{report:#}");
    let per_insurer: u64 = report["scope_check"]["insurers"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v[1].as_u64().unwrap())
        .sum();
    assert_eq!(per_insurer, people);

    // The operator scopes the hijacked account, exports (ledgered) and drafts the notices.
    let scope = rempart(demo.dir.path())
        .args([
            "incident",
            "scope",
            "--account",
            &account,
            "--out",
            "scope.json",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        scope.status.success(),
        "{}",
        String::from_utf8_lossy(&scope.stderr)
    );
    let summary: Value = serde_json::from_slice(&scope.stdout).unwrap();
    assert_eq!(summary["people"].as_u64().unwrap(), people);
    let file = demo.dir.path().join("scope.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let drafts = rempart(demo.dir.path())
        .args([
            "incident",
            "draft",
            "--scope",
            "scope.json",
            "--out",
            "notices",
        ])
        .output()
        .unwrap();
    assert!(
        drafts.status.success(),
        "{}",
        String::from_utf8_lossy(&drafts.stderr)
    );
    let notices = demo.dir.path().join("notices");
    let insurers: Vec<_> = std::fs::read_dir(&notices).unwrap().collect();
    assert!(!insurers.is_empty());
    let mut rows = 0;
    for dir in insurers {
        let dir = dir.unwrap().path();
        let art33 = std::fs::read_to_string(dir.join("art33-notification.md")).unwrap();
        // The suspension by the guard is listed among the measures taken.
        assert!(art33.contains("suspended since"), "{art33}");
        let csv = std::fs::read_to_string(dir.join("members.csv")).unwrap();
        rows += csv.lines().count() - 1;
        assert!(dir.join("art34-notice.fr.md").exists());
        assert!(dir.join("nis2-early-warning.md").exists());
    }
    assert_eq!(rows as u64, people);
}

/// The drill only ever targets this machine.
#[test]
fn the_drill_refuses_a_target_that_is_not_loopback() {
    let dir = tempfile::tempdir().unwrap();
    for target in ["http://10.0.0.1:8080", "https://rempart.example.fr"] {
        let out = rempart(dir.path())
            .args(["drill", "--target", target, "--cards", "cards.csv"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--target: the drill only runs against a loopback address"),
            "{stderr}"
        );
    }
}
