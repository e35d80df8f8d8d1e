#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::draft::{DraftOptions, draft};
use super::*;
use crate::ManualClock;
use crate::demo::tests::{MemStore, ports};
use crate::ledger::LedgerConfig;
use crate::store::{BeneficiaryRecord, InsurerRecord, OrganisationRecord};
use domain::accounts::OrganisationKind;
use domain::beneficiaries::Quality;
use domain::ids::{AmcNumber, BirthRank, MemberNumber};
use std::sync::Arc;
use time::macros::date;

struct World {
    ports: Ports,
    clock: Arc<ManualClock>,
    ledger: Ledger,
    insurers: Vec<InsurerRecord>,
    /// Per insurer: its beneficiaries.
    people: Vec<Vec<BeneficiaryRecord>>,
}

async fn world() -> World {
    let store = Arc::new(MemStore::default());
    let base = ports(store);
    let clock = Arc::new(ManualClock::new(base.clock.now()));
    let ports = Ports {
        clock: clock.clone(),
        ..base
    };
    let now = ports.clock.now();
    let mut insurers = Vec::new();
    let mut people = Vec::new();
    for (amc, name) in [("880000011", "Mutuelle A"), ("880000029", "Mutuelle B")] {
        let id = ports.new_id();
        ports
            .store
            .insert_organisation(&OrganisationRecord {
                id,
                kind: OrganisationKind::Insurer,
                name: name.into(),
                created_at: now,
            })
            .await
            .unwrap();
        let insurer = InsurerRecord {
            id,
            amc: AmcNumber::parse(amc).unwrap(),
            name: name.into(),
            created_at: now,
        };
        ports.store.insert_insurer(&insurer).await.unwrap();
        let rows: Vec<BeneficiaryRecord> = (0..30)
            .map(|i| BeneficiaryRecord {
                id: ports.new_id(),
                insurer_id: id,
                member_number: MemberNumber::parse(&format!("M{:04}", i / 2)).unwrap(),
                birth_rank: BirthRank::new(1 + (i % 2) as u8).unwrap(),
                nir_sealed: vec![1],
                last_name_sealed: vec![1],
                first_name_sealed: vec![1],
                birth_date_sealed: vec![1],
                marital_status_sealed: vec![1],
                nir_index: 0,
                quality: Quality::Assure,
                contract_id: Uuid::nil(),
                valid_from: date!(2026 - 01 - 01),
                valid_to: None,
                created_at: now,
                updated_at: now,
            })
            .collect();
        ports.store.insert_beneficiaries(&rows).await.unwrap();
        insurers.push(insurer);
        people.push(rows);
    }
    let ledger = Ledger::new(ports.clone(), LedgerConfig::default());
    World {
        ports,
        clock,
        ledger,
        insurers,
        people,
    }
}

struct Who {
    account: Uuid,
    organisation: Uuid,
    addr: IpAddr,
}

fn who(last_octet: u8) -> Who {
    Who {
        account: Uuid::from_u128(u128::from(last_octet)),
        organisation: Uuid::from_u128(1000 + u128::from(last_octet)),
        addr: IpAddr::from([192, 0, 2, last_octet]),
    }
}

async fn disclose(w: &World, by: &Who, insurer: usize, person: usize, purpose: Purpose) {
    let categories = match purpose {
        Purpose::Invoice => vec![DataCategory::Payment],
        _ => vec![
            DataCategory::Coverage,
            DataCategory::Guarantees,
            DataCategory::Engagement,
        ],
    };
    w.ledger
        .record(Disclosure {
            account_id: Some(by.account),
            organisation_id: by.organisation,
            credential: format!("passkey:{}", by.account),
            insurer_id: w.insurers[insurer].id,
            beneficiary_id: w.people[insurer][person].id,
            categories,
            purpose,
            request_id: "r".into(),
            client_addr: Some(by.addr),
        })
        .await
        .unwrap();
}

fn member_keys(s: &InsurerScope) -> Vec<(String, u8)> {
    s.members
        .iter()
        .map(|m| (m.member_number.clone(), m.birth_rank))
        .collect()
}

fn keys_of(w: &World, insurer: usize, persons: &[usize]) -> Vec<(String, u8)> {
    let mut v: Vec<(String, u8)> = persons
        .iter()
        .map(|&p| {
            let b = &w.people[insurer][p];
            (b.member_number.as_str().to_string(), b.birth_rank.get())
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[tokio::test]
async fn the_scope_lists_exactly_the_people_disclosed_by_the_named_account_per_insurer() {
    let w = world().await;
    let (thief, honest) = (who(66), who(7));
    // The honest practice sees people 0..5 of insurer A; the thief 3..12 of A and 20..22 of B.
    for p in 0..5 {
        disclose(&w, &honest, 0, p, Purpose::RightsCheck).await;
    }
    for p in 3..12 {
        disclose(&w, &thief, 0, p, Purpose::RightsCheck).await;
        w.clock.advance(Duration::seconds(2));
    }
    disclose(&w, &thief, 0, 3, Purpose::Invoice).await;
    for p in 20..22 {
        disclose(&w, &thief, 1, p, Purpose::RightsCheck).await;
    }
    let query = ScopeQuery {
        accounts: vec![thief.account],
        ..ScopeQuery::default()
    };
    let s = scope(&w.ports, &query).await.unwrap();
    assert_eq!(s.entries_in_scope, 9 + 1 + 2);
    assert_eq!(s.insurers.len(), 2);
    let a = &s.insurers[0];
    assert_eq!(a.amc, "880000011");
    assert_eq!(member_keys(a), keys_of(&w, 0, &(3..12).collect::<Vec<_>>()));
    assert_eq!(a.people, 9);
    assert_eq!(a.records, 10);
    assert_eq!(a.categories.get("payment"), Some(&1));
    assert_eq!(a.categories.get("coverage"), Some(&9));
    let three = a
        .members
        .iter()
        .find(|m| (m.member_number.clone(), m.birth_rank) == keys_of(&w, 0, &[3])[0])
        .unwrap();
    assert_eq!(three.records, 2);
    assert!(three.categories.contains(&"payment".to_string()));
    assert!(a.first < a.last);
    let b = &s.insurers[1];
    assert_eq!(b.amc, "880000029");
    assert_eq!(member_keys(b), keys_of(&w, 1, &[20, 21]));
    assert_eq!(s.people(), 11);

    // The same by organisation, by credential, by client address.
    for q in [
        ScopeQuery {
            organisations: vec![thief.organisation],
            ..ScopeQuery::default()
        },
        ScopeQuery {
            credentials: vec![format!("passkey:{}", thief.account)],
            ..ScopeQuery::default()
        },
        ScopeQuery {
            client_addrs: vec![thief.addr],
            ..ScopeQuery::default()
        },
    ] {
        let again = scope(&w.ports, &q).await.unwrap();
        assert_eq!(again.insurers, s.insurers, "{q:?}");
    }
}

#[tokio::test]
async fn a_time_window_keeps_only_its_slice_and_stored_only_people_are_not_counted() {
    let w = world().await;
    let thief = who(66);
    let t0 = w.ports.clock.now();
    for p in 0..10 {
        disclose(&w, &thief, 0, p, Purpose::RightsCheck).await;
        w.clock.advance(Duration::minutes(10));
    }
    // People 3, 4, 5 were disclosed at t0 + 30, 40, 50 minutes.
    let query = ScopeQuery {
        accounts: vec![thief.account],
        from: Some(t0 + Duration::minutes(30)),
        to: Some(t0 + Duration::minutes(60)),
        ..ScopeQuery::default()
    };
    let s = scope(&w.ports, &query).await.unwrap();
    assert_eq!(member_keys(&s.insurers[0]), keys_of(&w, 0, &[3, 4, 5]));
    // Bisection: the slice read is the window (plus a minute of slack), not the ledger.
    assert!(s.entries_read <= 4, "read {}", s.entries_read);
    // A window with nobody: nothing, even though 30 people are stored.
    let empty = scope(
        &w.ports,
        &ScopeQuery {
            from: Some(t0 + Duration::days(1)),
            ..ScopeQuery::default()
        },
    )
    .await
    .unwrap();
    assert!(empty.insurers.is_empty());
    assert_eq!(empty.people(), 0);
}

#[tokio::test]
async fn an_empty_query_or_a_backwards_window_is_refused_naming_the_field() {
    let w = world().await;
    let e = scope(&w.ports, &ScopeQuery::default()).await.unwrap_err();
    assert!(e.to_string().starts_with("scope:"), "{e}");
    let t = w.ports.clock.now();
    let e = scope(
        &w.ports,
        &ScopeQuery {
            from: Some(t),
            to: Some(t),
            ..ScopeQuery::default()
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().starts_with("to:"), "{e}");
}

#[tokio::test]
async fn exporting_a_scope_is_ledgered_per_person_and_never_counts_in_a_later_scope() {
    let w = world().await;
    let thief = who(66);
    for p in [1, 2, 8] {
        disclose(&w, &thief, 0, p, Purpose::RightsCheck).await;
    }
    let query = ScopeQuery {
        from: Some(w.ports.clock.now() - Duration::hours(1)),
        ..ScopeQuery::default()
    };
    let s = scope(&w.ports, &query).await.unwrap();
    let before = w.ports.store.ledger_size().await.unwrap();
    let operator = Uuid::from_u128(9);
    let n = export(
        &w.ports,
        &w.ledger,
        Exporter::CommandLine {
            organisation_id: operator,
            user: "root".into(),
        },
        &s,
    )
    .await
    .unwrap();
    assert_eq!(n, 3);
    let entries = w.ports.store.list_ledger_entries(before, 10).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e.purpose == "incident_export"
        && e.categories == "identity,membership"
        && e.organisation_id == operator
        && e.credential == "cli:root"));
    // The export itself is not a breach: the same window still scopes the same three people.
    let again = scope(&w.ports, &query).await.unwrap();
    assert_eq!(again.insurers, s.insurers);
    // Only an operator person may export.
    let professional = crate::accounts::Actor {
        account_id: thief.account,
        organisation_id: thief.organisation,
        role: domain::accounts::Role::Professional,
        display_name: "x".into(),
        session_id: None,
        credential_id: None,
        last_uv_at: None,
    };
    assert!(matches!(
        export(&w.ports, &w.ledger, Exporter::Person(&professional), &s).await,
        Err(IncidentError::Forbidden)
    ));
}

#[tokio::test]
async fn drafts_are_written_per_insurer_with_counts_categories_and_the_phishing_warning() {
    let w = world().await;
    let thief = who(66);
    for p in 0..4 {
        disclose(&w, &thief, 0, p, Purpose::RightsCheck).await;
    }
    disclose(&w, &thief, 1, 7, Purpose::Invoice).await;
    let s = scope(
        &w.ports,
        &ScopeQuery {
            accounts: vec![thief.account],
            ..ScopeQuery::default()
        },
    )
    .await
    .unwrap();
    let files = draft(
        &s,
        &DraftOptions {
            operator: "rempart".into(),
            contact: "dpo@example.test".into(),
            detected_at: None,
            measures_taken: vec!["account suspended".into()],
        },
    )
    .unwrap();
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    for amc in ["880000011", "880000029"] {
        for f in [
            "art33-notification.md",
            "art34-notice.fr.md",
            "art34-notice.en.md",
            "nis2-early-warning.md",
            "members.csv",
        ] {
            assert!(
                names.contains(&format!("{amc}/{f}")),
                "{amc}/{f} in {names:?}"
            );
        }
    }
    let get = |p: &str| {
        &files
            .iter()
            .find(|f| f.path.display().to_string() == p)
            .unwrap()
            .contents
    };
    let art33 = get("880000011/art33-notification.md");
    assert!(art33.contains("Data subjects concerned: 4"));
    assert!(art33.contains("account suspended"));
    assert!(art33.contains("dpo@example.test"));
    assert!(get("880000011/art34-notice.en.md").contains("No one from Mutuelle A will ever ask"));
    assert!(get("880000011/art34-notice.fr.md").contains("Personne de chez"));
    assert!(get("880000029/art34-notice.en.md").contains("the amounts of an invoice"));
    let csv = get("880000011/members.csv");
    assert_eq!(csv.lines().count(), 1 + 4);
    assert!(csv.starts_with("member_number,birth_rank,birth_date,categories,records,first,last\n"));
    // The drafts name nobody: only the CSV carries member numbers.
    let m = w.people[0][0].member_number.as_str();
    assert!(!art33.contains(m));
    assert!(csv.contains(m));

    let dir = std::env::temp_dir().join(format!("rempart-drafts-{}", w.ports.new_id()));
    draft::write(&dir, &files).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("880000011/members.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
