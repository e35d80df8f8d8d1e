//! The demo seed on a real SQLite store: counts, idempotence, and nothing identifying in the
//! database file.

use app::Ports;
use app::demo::seed;
use crypto::{SecureRandom, SeededRandom};
use domain::accounts::OrganisationKind;
use std::sync::Arc;

async fn sqlite_ports(path: &std::path::Path) -> Ports {
    let store = store_sqlite::SqliteStore::open(path).await.unwrap();
    store.migrate().await.unwrap();
    let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(1));
    let start = time::macros::datetime!(2026-03-02 09:00 UTC);
    let clock = Arc::new(app::ManualClock::new(start));
    let keys = path.with_extension("keys");
    let provider = match crypto::FileKeyProvider::open(&keys, rng.clone()) {
        Ok(p) => p,
        Err(_) => crypto::FileKeyProvider::init(&keys, rng.clone()).unwrap(),
    };
    let vault = app::keys::Vault::load(&store, Arc::new(provider), rng.clone(), clock.as_ref())
        .await
        .unwrap();
    Ports {
        store: Arc::new(store),
        clock,
        rng,
        vault: Arc::new(vault),
    }
}

#[tokio::test]
async fn seeds_once_and_leaves_no_identifying_field_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite3");
    let ports = sqlite_ports(&db).await;

    let first = seed(&ports, 2024).await.unwrap();
    assert!(!first.already_seeded);
    let c = first.counts;
    assert_eq!(
        (
            c.insurers,
            c.contracts,
            c.beneficiaries,
            c.professionals,
            c.practices
        ),
        (2, 4, 10_000, 30, 15)
    );
    assert_eq!(
        c.accounts, 31,
        "one per professional and the operator admin"
    );
    assert!(
        c.cards >= 3_000,
        "one card per family and validity year: {}",
        c.cards
    );

    let second = seed(&ports, 2024).await.unwrap();
    assert!(second.already_seeded);
    assert_eq!(second.counts, first.counts);
    assert_eq!(second.insurers, first.insurers);

    // Canaries: open a few seeded identities (the same population, regenerated from the seed).
    let population = app::synthetic::Population::new(&app::synthetic::Config {
        seed: 2024,
        insurer: None,
        year: 2026,
    });
    let mut canaries: Vec<String> = Vec::new();
    for (i, family) in population.take(40).enumerate() {
        let insurer = &first.insurers[i % first.insurers.len()];
        let members = ports
            .store
            .find_member(insurer.id, &family.member_number)
            .await
            .unwrap();
        assert_eq!(members.len(), family.members.len());
        for record in members {
            let identity = app::beneficiaries::open_identity(&ports.vault, &record).unwrap();
            canaries.push(identity.nir.as_str().to_string());
            canaries.push(format!(
                "{:04}-{:02}-{:02}",
                identity.birth_date.year(),
                u8::from(identity.birth_date.month()),
                identity.birth_date.day()
            ));
            canaries.push(identity.last_name.clone());
            canaries.push(identity.first_name.clone());
        }
    }
    // Names that the demo shows in clear on purpose (practices, professionals) are not canaries.
    let mut public = String::new();
    for org in ports
        .store
        .list_organisations(OrganisationKind::Practice)
        .await
        .unwrap()
    {
        public.push_str(&org.name);
        for p in ports.store.list_professionals(org.id).await.unwrap() {
            public.push_str(&p.display_name);
        }
    }
    // Dates that are also validity bounds (stored in clear) are not canaries either.
    canaries.retain(|c| {
        c.len() >= 4
            && !public.contains(c.as_str())
            && !c.ends_with("-01-01")
            && !c.ends_with("-12-31")
    });
    canaries.sort();
    canaries.dedup();
    assert!(canaries.len() > 60, "enough canaries: {}", canaries.len());

    let mut bytes = std::fs::read(&db).unwrap();
    for suffix in ["-wal", "-journal"] {
        if let Ok(more) = std::fs::read(format!("{}{suffix}", db.display())) {
            bytes.extend(more);
        }
    }
    let haystack = String::from_utf8_lossy(&bytes);
    for canary in &canaries {
        assert!(
            !haystack.contains(canary.as_str()),
            "an identifying value is stored in clear"
        );
    }
}

/// `rempart demo` serves the money path's consoles ready to try: its administrator may run
/// payments from the console (the demo's fictitious settlement account), and its insurers'
/// staff see their contracts.
#[tokio::test]
async fn the_demo_consoles_are_ready_for_the_money_path() {
    use crate::helpers::{enrol_on_demo, start_demo};
    let demo = start_demo();
    let origin = demo.origin();
    let invitation = |role: &str| {
        demo.invitation("role", role)["invitation"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let page = |cookie: String, path: &'static str| {
        let url = format!("http://{}{path}", demo.address);
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    let admin = enrol_on_demo(&demo, &origin, &invitation("operator_admin")).await;
    let runs = page(admin, "/console/payments").await;
    assert!(runs.contains(r#"id="run-payments""#), "{runs}");
    assert!(!runs.contains("payments-not-configured"));
    let staff = enrol_on_demo(&demo, &origin, &invitation("insurer_staff")).await;
    let contracts = page(staff, "/insurer/contracts").await;
    assert!(contracts.contains("<td>ESSENTIEL</td>") && contracts.contains("<td>CONFORT</td>"));
}
