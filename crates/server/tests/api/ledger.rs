//! The access ledger: group commit (dense, distinct indexes under concurrency; a store
//! failure fails every caller), `rempart ledger verify` on both backends (passes, then names
//! the first entry edited, deleted, swapped or cut off with raw SQL), the witness checkpoint,
//! and the checkpoint and proof routes (who may read them; proofs verify against a signed
//! checkpoint).

use app::ledger::checkpoint::{NoteVerifier, base64_decode, open_checkpoint};
use app::ledger::merkle::{Hash, verify_consistency, verify_inclusion};
use app::ledger::{DataCategory, Disclosure, Ledger, LedgerConfig, Purpose};
use app::{Ports, SecureRandom, Store};
use crypto::{FileKeyProvider, OsRandom};
use domain::accounts::{OrganisationKind, Role};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use testkit::{Backend, backend_tests, spawn_app};
use uuid::Uuid;

fn disclosure(i: u64) -> Disclosure {
    Disclosure {
        account_id: Some(Uuid::from_u128(1000 + u128::from(i % 3))),
        organisation_id: Uuid::from_u128(2000 + u128::from(i % 2)),
        credential: format!("passkey:{}", Uuid::from_u128(3000)),
        insurer_id: Uuid::from_u128(4000),
        beneficiary_id: Uuid::from_u128(5000 + u128::from(i % 5)),
        categories: vec![DataCategory::Coverage, DataCategory::Engagement],
        purpose: Purpose::RightsCheck,
        request_id: format!("req-{i}"),
        client_addr: Some("127.0.0.1".parse().unwrap()),
    }
}

async fn record_concurrently(ledger: &Ledger, n: u64) -> Vec<u64> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(
            async move { ledger.record(disclosure(i)).await },
        ));
    }
    let mut indexes = Vec::new();
    for t in tasks {
        indexes.push(t.await.unwrap().unwrap().index);
    }
    indexes.sort_unstable();
    indexes
}

async fn concurrent_records_get_distinct_dense_indexes_and_a_failure_fails_them_all(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ledger = Ledger::new(app.ports.clone(), LedgerConfig::default());
    let indexes = record_concurrently(&ledger, 300).await;
    assert_eq!(indexes, (0..300).collect::<Vec<_>>());
    let stored = app.ports.store.list_ledger_entries(0, 1000).await.unwrap();
    assert_eq!(stored.len(), 300);
    // The beneficiary id is not stored: only its pseudonym.
    let pseudonym = app
        .ports
        .vault
        .pseudonym(Uuid::from_u128(4000), Uuid::from_u128(5000));
    assert!(stored.iter().any(|e| e.pseudonym == pseudonym));
    assert!(stored.iter().all(|e| {
        e.pseudonym.len() == 32
            && !e
                .pseudonym
                .windows(16)
                .any(|w| w == Uuid::from_u128(5000).as_bytes())
    }));

    // The store fails: every waiting caller gets an error, nothing is written.
    app.store.set_down(true);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(
            async move { ledger.record(disclosure(i)).await },
        ));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    app.store.set_down(false);
    // Back up: appends continue densely after the last committed entry.
    let r = ledger.record(disclosure(999)).await.unwrap();
    assert_eq!(r.index, 300);
    app.cleanup().await;
}

async fn checkpoints_and_proofs_are_served_to_witnesses_and_verify(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ledger = Ledger::new(
        app.ports.clone(),
        LedgerConfig {
            checkpoint_every: 10,
            ..LedgerConfig::default()
        },
    );
    for i in 0..37 {
        ledger.record(disclosure(i)).await.unwrap();
    }
    let made = ledger.checkpoint(true).await.unwrap().unwrap();
    assert_eq!(made.tree_size, 37);
    // Without force, nothing new to sign.
    assert!(ledger.checkpoint(false).await.unwrap().is_none());

    let auditor_org = app.given_organisation(OrganisationKind::Operator).await;
    let auditor = app.enrol(Role::Auditor, auditor_org).await;
    let practice = app.given_organisation(OrganisationKind::Practice).await;
    let professional = app.enrol(Role::Professional, practice).await;
    for path in [
        "/api/v1/ledger/keys",
        "/api/v1/ledger/checkpoints",
        "/api/v1/ledger/proofs/inclusion?index=0&tree_size=1",
        "/api/v1/ledger/proofs/consistency?from=1&to=2",
    ] {
        assert_eq!(
            app.get_as(&professional, path).await.status(),
            403,
            "{path}"
        );
        assert_eq!(app.get(path).await.status(), 401, "{path}");
    }

    let keys: Value = app
        .get_as(&auditor, "/api/v1/ledger/keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys["origin"], "rempart.localhost/ledger");
    let verifiers: Vec<NoteVerifier> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| NoteVerifier::parse(k["verifier_key"].as_str().unwrap()).unwrap())
        .collect();

    let cps: Value = app
        .get_as(&auditor, "/api/v1/ledger/checkpoints")
        .await
        .json()
        .await
        .unwrap();
    let sizes: Vec<u64> = cps["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tree_size"].as_u64().unwrap())
        .collect();
    // One every 10 entries (crossing 10, 20, 30) and the forced one.
    assert_eq!(sizes, [37, 30, 20, 10]);
    let latest = open_checkpoint(cps["latest"]["note"].as_str().unwrap(), &verifiers).unwrap();
    assert_eq!(latest.size, 37);
    let at20 =
        open_checkpoint(cps["checkpoints"][2]["note"].as_str().unwrap(), &verifiers).unwrap();

    let b64 = |v: &Value| -> Hash {
        base64_decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let entries = app.ports.store.list_ledger_entries(0, 100).await.unwrap();
    for index in [0u64, 7, 19, 36] {
        let p: Value = app
            .get_as(
                &auditor,
                &format!("/api/v1/ledger/proofs/inclusion?index={index}&tree_size=37"),
            )
            .await
            .json()
            .await
            .unwrap();
        let proof: Vec<Hash> = p["proof"].as_array().unwrap().iter().map(b64).collect();
        let leaf = app::ledger::entry_leaf_hash(&entries[index as usize]);
        assert_eq!(b64(&p["leaf_hash"]), leaf);
        verify_inclusion(&leaf, index, 37, &proof, &latest.root).unwrap();
    }
    let c: Value = app
        .get_as(&auditor, "/api/v1/ledger/proofs/consistency?from=20&to=37")
        .await
        .json()
        .await
        .unwrap();
    let proof: Vec<Hash> = c["proof"].as_array().unwrap().iter().map(b64).collect();
    verify_consistency(20, 37, &at20.root, &latest.root, &proof).unwrap();

    // Bad requests name the field.
    let r = app
        .get_as(
            &auditor,
            "/api/v1/ledger/proofs/inclusion?index=x&tree_size=3",
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("index"));
    let r = app
        .get_as(
            &auditor,
            "/api/v1/ledger/proofs/inclusion?index=3&tree_size=99",
        )
        .await;
    assert_eq!(r.status(), 422);
    app.cleanup().await;
}

backend_tests!(
    concurrent_records_get_distinct_dense_indexes_and_a_failure_fails_them_all,
    checkpoints_and_proofs_are_served_to_witnesses_and_verify,
);

// --- `rempart ledger verify` on a data directory (SQLite) or a PostgreSQL database ---

struct Deployment {
    dir: tempfile::TempDir,
    /// `None`: the embedded SQLite database of `data`.
    pg: Option<(String, String)>,
}

impl Deployment {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn rempart(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rempart"));
        cmd.current_dir(self.dir.path())
            .env_clear()
            .stdin(Stdio::null())
            .arg("--data-dir")
            .arg(self.data());
        if let Some((url, _)) = &self.pg {
            cmd.arg("--database-url").arg(url);
        }
        cmd.args(args).output().expect("run rempart")
    }

    fn sql(&self, statements: &str) {
        let status = match &self.pg {
            None => Command::new("sqlite3")
                .arg(self.data().join("rempart.sqlite3"))
                .arg(statements)
                .status(),
            Some((url, _)) => Command::new("psql")
                .args([url.as_str(), "-qc", statements])
                .status(),
        };
        assert!(status.unwrap().success(), "{statements}");
    }

    fn drop_database(&self) {
        if let Some((_, base)) = &self.pg {
            let name = self.pg.as_ref().unwrap().0.rsplit('/').next().unwrap();
            let _ = Command::new("psql")
                .args([
                    base.as_str(),
                    "-qc",
                    &format!("DROP DATABASE {name} WITH (FORCE)"),
                ])
                .status();
        }
    }
}

/// A deployment with `n` recorded disclosures and a checkpoint every 10 entries (and one at
/// the end), written through the real store and key provider, as a server would.
async fn deployment(backend: Backend, n: u64) -> Option<Deployment> {
    deployment_with(backend, n, 10).await.map(|(d, _)| d)
}

/// A deployment with `n` recorded disclosures, a checkpoint every `every` entries (and one at
/// the end), and its ledger. With `every` above `n`, recorded 200 at a time.
async fn deployment_with(backend: Backend, n: u64, every: u64) -> Option<(Deployment, Ledger)> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (store, pg): (Arc<dyn Store>, _) = match backend {
        Backend::Sqlite => {
            let s = store_sqlite::SqliteStore::open(&data.join("rempart.sqlite3"))
                .await
                .unwrap();
            s.migrate().await.unwrap();
            (Arc::new(s), None)
        }
        Backend::Postgres => {
            let Ok(base) = std::env::var("REMPART_TEST_PG_URL") else {
                eprintln!("SKIPPED: REMPART_TEST_PG_URL is not set");
                return None;
            };
            let name = format!("rempart_ledger_{}", Uuid::new_v4().simple());
            let ok = Command::new("psql")
                .args([&base, "-qc", &format!("CREATE DATABASE {name}")])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot create {name}");
            let (prefix, _) = base.rsplit_once('/').unwrap();
            let url = format!("{prefix}/{name}");
            let s = store_postgres::PgStore::connect(&url).await.unwrap();
            s.migrate().await.unwrap();
            (Arc::new(s), Some((url, base)))
        }
    };
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom);
    let provider = FileKeyProvider::init(data.join("keys"), rng.clone()).unwrap();
    let clock = Arc::new(app::SystemClock);
    let vault = app::keys::Vault::load(
        store.as_ref(),
        Arc::new(provider),
        rng.clone(),
        clock.as_ref(),
    )
    .await
    .unwrap();
    let ports = Ports {
        store,
        clock,
        rng,
        vault: Arc::new(vault),
    };
    let ledger = Ledger::new(
        ports,
        LedgerConfig {
            checkpoint_every: every,
            ..LedgerConfig::default()
        },
    );
    if every > n {
        let mut recorded = 0;
        while recorded < n {
            let now = 200.min(n - recorded);
            record_concurrently(&ledger, now).await;
            recorded += now;
        }
    } else {
        // One at a time, so that a checkpoint is made at each multiple of `every`.
        for i in 0..n {
            ledger.record(disclosure(i)).await.unwrap();
        }
    }
    ledger.checkpoint(true).await.unwrap();
    Some((Deployment { dir, pg }, ledger))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_fails_naming(d: &Deployment, needle: &str) {
    let out = d.rempart(&["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(needle), "{}", stderr(&out));
}

async fn verify_passes_then_names_the_first_edited_deleted_swapped_or_cut_entry(backend: Backend) {
    // Edited field.
    let Some(d) = deployment(backend, 45).await else {
        return;
    };
    let ok = d.rempart(&["ledger", "verify", "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let summary: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(summary["entries"], 45);
    assert_eq!(summary["checkpoints"], 5);
    // A witness keeps a checkpoint; the ledger still extends it.
    let witness = d.dir.path().join("witness.txt");
    let w = d.rempart(&["ledger", "checkpoint", "--out", witness.to_str().unwrap()]);
    assert_eq!(w.status.code(), Some(0), "{}", stderr(&w));
    assert!(
        std::fs::read_to_string(&witness)
            .unwrap()
            .starts_with("rempart.localhost/ledger\n45\n")
    );
    let ok = d.rempart(&[
        "ledger",
        "verify",
        "--from-checkpoint",
        witness.to_str().unwrap(),
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    d.sql("UPDATE ledger_entries SET purpose = 'invoice' WHERE leaf_index = 13");
    assert_fails_naming(&d, "entry 13 was changed");
    d.drop_database();

    // Deleted entry.
    let d = deployment(backend, 45).await.unwrap();
    d.sql("DELETE FROM ledger_entries WHERE leaf_index = 21");
    assert_fails_naming(&d, "entry 21 was removed or reordered");
    d.drop_database();

    // Two entries swapped (their indexes exchanged).
    let d = deployment(backend, 45).await.unwrap();
    d.sql(
        "UPDATE ledger_entries SET leaf_index = 1000 WHERE leaf_index = 5; \
         UPDATE ledger_entries SET leaf_index = 5 WHERE leaf_index = 9; \
         UPDATE ledger_entries SET leaf_index = 9 WHERE leaf_index = 1000;",
    );
    assert_fails_naming(&d, "entry 5 was changed");
    d.drop_database();

    // The tail cut off, past the last checkpoint; and a witness catches a rewritten history.
    let d = deployment(backend, 45).await.unwrap();
    let witness = d.dir.path().join("witness.txt");
    let w = d.rempart(&["ledger", "checkpoint", "--out", witness.to_str().unwrap()]);
    assert_eq!(w.status.code(), Some(0), "{}", stderr(&w));
    d.sql("DELETE FROM ledger_entries WHERE leaf_index >= 40");
    assert_fails_naming(&d, "entries from 40 on were removed");
    // Even with the checkpoints removed too, the witness's copy names the cut.
    d.sql("DELETE FROM ledger_checkpoints WHERE tree_size > 40");
    let out = d.rempart(&[
        "ledger",
        "verify",
        "--from-checkpoint",
        witness.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("entries from 40 on were removed"),
        "{}",
        stderr(&out)
    );
    d.drop_database();
}

backend_tests!(verify_passes_then_names_the_first_edited_deleted_swapped_or_cut_entry);

/// Proof tiles: the checkpointer's `fill_tiles` stores the root of each whole block of 1,024
/// entries once; proofs read them and stay exactly the proofs computed from the leaves (and
/// verify against the roots of the leaves); `rempart ledger verify` names a changed tile, and a
/// proof over it no longer verifies.
async fn proofs_read_the_tiles_and_verify_checks_them(backend: Backend) {
    use app::ledger::merkle::root;
    let Some((d, ledger)) = deployment_with(backend, 2_600, 100_000).await else {
        return;
    };
    let store = ledger.ports().store.clone();
    let leaves: Vec<Hash> = store
        .ledger_leaf_hashes(0, 2_600)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.try_into().unwrap())
        .collect();
    assert_eq!(leaves.len(), 2_600);
    let inclusions = [
        (0u64, 2_600u64),
        (5, 1_024),
        (700, 2_049),
        (1_023, 2_600),
        (1_024, 2_600),
        (1_500, 2_600),
        (2_047, 2_048),
        (2_048, 2_600),
        (2_599, 2_600),
    ];
    let consistencies = [
        (1u64, 2_600u64),
        (1_000, 2_600),
        (1_024, 2_600),
        (1_500, 2_048),
        (2_047, 2_049),
        (2_048, 2_600),
    ];
    let mut from_leaves = Vec::new();
    for &(i, n) in &inclusions {
        from_leaves.push(ledger.inclusion_proof(i, n).await.unwrap().path);
    }
    for &(m, n) in &consistencies {
        from_leaves.push(ledger.consistency_proof(m, n).await.unwrap().path);
    }

    assert_eq!(store.ledger_tiles_end().await.unwrap(), 0);
    assert_eq!(ledger.fill_tiles().await.unwrap(), 2);
    assert_eq!(ledger.fill_tiles().await.unwrap(), 0, "nothing new");
    let tiles = store.ledger_tiles(0, 10).await.unwrap();
    assert_eq!(tiles.len(), 2);
    assert_eq!(tiles[0].hash, root(&leaves[..1_024]).to_vec());
    assert_eq!(tiles[1].hash, root(&leaves[1_024..2_048]).to_vec());

    let mut from_tiles = Vec::new();
    for &(i, n) in &inclusions {
        let p = ledger.inclusion_proof(i, n).await.unwrap();
        let n_leaves = usize::try_from(n).unwrap();
        assert_eq!(p.root, root(&leaves[..n_leaves]));
        verify_inclusion(
            &leaves[usize::try_from(i).unwrap()],
            i,
            n,
            &p.path,
            &root(&leaves[..n_leaves]),
        )
        .unwrap();
        from_tiles.push(p.path);
    }
    for &(m, n) in &consistencies {
        let p = ledger.consistency_proof(m, n).await.unwrap();
        let (m_leaves, n_leaves) = (usize::try_from(m).unwrap(), usize::try_from(n).unwrap());
        verify_consistency(
            m,
            n,
            &root(&leaves[..m_leaves]),
            &root(&leaves[..n_leaves]),
            &p.path,
        )
        .unwrap();
        from_tiles.push(p.path);
    }
    assert_eq!(from_tiles, from_leaves);

    let ok = d.rempart(&["ledger", "verify", "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    // Tile 1 replaced by tile 0's hash: named by verify; a proof over it fails.
    d.sql("UPDATE ledger_tiles SET hash = (SELECT hash FROM ledger_tiles WHERE tile = 0) WHERE tile = 1");
    assert_fails_naming(&d, "proof tile 1 (entries 1024 to 2047)");
    let p = ledger.inclusion_proof(100, 2_600).await.unwrap();
    assert!(verify_inclusion(&leaves[100], 100, 2_600, &p.path, &root(&leaves)).is_err());
    d.drop_database();
}

backend_tests!(proofs_read_the_tiles_and_verify_checks_them);
