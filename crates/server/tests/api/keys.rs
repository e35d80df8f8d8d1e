//! Key management acceptance: canaries absent from the SQLite file (+ WAL, SHM) and from a
//! `pg_dump`; KEK rotation, re-sealing, KEK retirement and crypto-shredding on SQLite and
//! PostgreSQL; a SoftHSM2 round trip driven by the `rempart` binary.

use app::Ports;
use app::beneficiaries::{new_record, open_identity};
use app::keys::Vault;
use app::store::Store;
use crypto::envelope::PLATFORM_SCOPE;
use crypto::{FieldRef, FileKeyProvider, KeyProvider, Sealer, SecureRandom, SeededRandom};
use domain::beneficiaries::{Beneficiary, Identity, MaritalStatus, Quality, Validity};
use domain::ids::{BirthRank, MemberNumber, Nir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use uuid::Uuid;

const CANARY_LAST: &str = "ZQXCANARYNOM";
const CANARY_FIRST: &str = "WQXCANARYPRENOM";

fn canary_nir(i: u64) -> Nir {
    let body = 1_370_475_000_000u64 + i * 1_000 + 17;
    let key = 97 - (body % 97);
    Nir::parse(&format!("{body}{key:02}")).unwrap()
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

struct Seeded {
    ports: Ports,
    canaries: Vec<(Uuid, Uuid)>,
    canary_strings: Vec<String>,
}

/// Demo data plus three canary beneficiaries (known NIRs, names, birth dates).
async fn seed(ports: Ports) -> Seeded {
    app::demo::seed(&ports, 7).await.unwrap();
    let insurers = ports.store.list_insurers().await.unwrap();
    let insurer = &insurers[0];
    let contract = &ports.store.list_contracts(insurer.id).await.unwrap()[0];
    let mut canaries = Vec::new();
    let mut strings = vec![CANARY_LAST.to_string(), CANARY_FIRST.to_string()];
    let mut rows = Vec::new();
    for i in 0..3u64 {
        let nir = canary_nir(i);
        strings.push(nir.as_str().to_string());
        let birth = time::Date::from_calendar_date(1937, time::Month::April, 11 + i as u8).unwrap();
        strings.push(format!("1937-04-{:02}", 11 + i));
        let b = Beneficiary {
            member_number: MemberNumber::parse(&format!("CANARY{i}")).unwrap(),
            identity: Identity {
                nir,
                birth_rank: BirthRank::new(1).unwrap(),
                last_name: CANARY_LAST.into(),
                first_name: CANARY_FIRST.into(),
                birth_date: birth,
                marital_status: MaritalStatus::Veuf,
            },
            quality: Quality::Assure,
            contract_code: contract.code.as_str().to_string(),
            validity: Validity {
                from: contract.effective_from,
                to: None,
            },
        };
        let id = ports.new_id();
        rows.push(
            new_record(
                &ports.vault,
                id,
                insurer.id,
                contract.id,
                &b,
                ports.clock.now(),
            )
            .unwrap(),
        );
        canaries.push((insurer.id, id));
    }
    ports.store.insert_beneficiaries(&rows).await.unwrap();
    // The practices' IBANs of the data set are canaries too.
    let platform = ports.vault.sealer(PLATFORM_SCOPE).unwrap();
    for p in ports.store.list_practices_page(None, 1000).await.unwrap() {
        let iban = platform
            .open_string(&FieldRef::new("practices", "iban", p.id), &p.iban_sealed)
            .unwrap();
        strings.push(iban.to_string());
    }
    Seeded {
        ports,
        canaries,
        canary_strings: strings,
    }
}

fn find_any(haystack: &[u8], needles: &[String]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| haystack.windows(n.len()).any(|w| w == n.as_bytes()))
        .cloned()
        .collect()
}

fn file_provider(dir: &Path, rng: Arc<dyn SecureRandom>) -> Arc<dyn KeyProvider> {
    match FileKeyProvider::open(dir, rng.clone()) {
        Ok(p) => Arc::new(p),
        Err(_) => Arc::new(FileKeyProvider::init(dir, rng).unwrap()),
    }
}

async fn ports_on(store: Arc<dyn Store>, provider: Arc<dyn KeyProvider>, seed: u64) -> Ports {
    let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(seed));
    let clock = Arc::new(app::ManualClock::new(
        time::macros::datetime!(2026-03-02 09:00 UTC),
    ));
    let vault = Vault::load(store.as_ref(), provider, rng.clone(), clock.as_ref())
        .await
        .unwrap();
    Ports {
        store,
        clock,
        rng,
        vault: Arc::new(vault),
    }
}

/// Opens every canary and a page of every insurer's rows.
async fn all_open(ports: &Ports, canaries: &[(Uuid, Uuid)]) {
    for (insurer, id) in canaries {
        let r = ports.store.get_beneficiary(*insurer, *id).await.unwrap();
        let identity = open_identity(&ports.vault, &r).unwrap();
        assert_eq!(identity.last_name, CANARY_LAST);
        // The blind index finds it.
        let found = app::beneficiaries::find_by_nir(ports, *insurer, &identity.nir)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
    }
    for insurer in ports.store.list_insurers().await.unwrap() {
        for r in ports
            .store
            .list_beneficiaries_page(insurer.id, None, 200)
            .await
            .unwrap()
        {
            open_identity(&ports.vault, &r).unwrap();
        }
    }
}

/// Rotate, reseal, retire the old KEK, then shred one insurer; `reopen` loads a fresh vault
/// (as a restarted server would).
async fn lifecycle(seeded: &Seeded, provider: Arc<dyn KeyProvider>) {
    let ports = &seeded.ports;
    let store = ports.store.as_ref();
    all_open(ports, &seeded.canaries).await;

    let rotated = ports.vault.rotate_kek(store).await.unwrap();
    assert!(rotated.created);
    assert_eq!(rotated.kek_version, 2);
    assert!(rotated.rewrapped >= 6, "{rotated:?}");
    // Resumable: a second run finds nothing to move... and so starts a new rotation.
    all_open(ports, &seeded.canaries).await;
    let fresh = ports_on(ports.store.clone(), provider.clone(), 2).await;
    all_open(&fresh, &seeded.canaries).await;
    // The access-token key is a platform data key: another server process (a fresh vault on
    // the same database) hashes sessions and invitations the same, across a KEK rotation.
    assert_eq!(
        fresh.vault.token_key().hash("session", "a session id"),
        ports.vault.token_key().hash("session", "a session id")
    );

    let before: Vec<u32> = store
        .sealed_key_counts()
        .await
        .unwrap()
        .iter()
        .map(|c| c.key_id)
        .collect();
    ports
        .vault
        .new_seal_versions(store, ports.clock.as_ref())
        .await
        .unwrap();
    let report = ports
        .vault
        .reseal(store, ports.clock.as_ref(), 500, &mut |_| {})
        .await
        .unwrap();
    assert!(report.resealed > 0 && report.unreadable == 0, "{report:?}");
    let after: Vec<u32> = store
        .sealed_key_counts()
        .await
        .unwrap()
        .iter()
        .map(|c| c.key_id)
        .collect();
    assert!(
        after.iter().all(|k| !before.contains(k)),
        "{before:?} {after:?}"
    );
    // Resuming finds nothing left.
    let again = ports
        .vault
        .reseal(store, ports.clock.as_ref(), 500, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.resealed, 0);
    all_open(ports, &seeded.canaries).await;

    ports.vault.retire_kek(store, 1).await.unwrap();
    assert_eq!(provider.versions().unwrap(), vec![2]);
    let fresh = ports_on(ports.store.clone(), provider.clone(), 3).await;
    all_open(&fresh, &seeded.canaries).await;

    // Shred the canaries' insurer: nothing of it opens; the others still do.
    let (shredded, id) = seeded.canaries[0];
    assert!(ports.vault.shred(store, shredded).await.unwrap() >= 2);
    let r = store.get_beneficiary(shredded, id).await.unwrap();
    assert!(open_identity(&ports.vault, &r).is_err());
    let fresh = ports_on(ports.store.clone(), provider.clone(), 4).await;
    for r in store
        .list_beneficiaries_page(shredded, None, 10_000)
        .await
        .unwrap()
    {
        assert!(open_identity(&fresh.vault, &r).is_err());
    }
    for insurer in store.list_insurers().await.unwrap() {
        if insurer.id == shredded {
            continue;
        }
        for r in store
            .list_beneficiaries_page(insurer.id, None, 50)
            .await
            .unwrap()
        {
            open_identity(&fresh.vault, &r).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_canaries_stay_sealed_and_keys_rotate_reseal_retire_and_shred() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rempart.sqlite3");
    let store = store_sqlite::SqliteStore::open(&db).await.unwrap();
    store.migrate().await.unwrap();
    let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(1));
    let provider = file_provider(&dir.path().join("keys"), rng);
    let ports = ports_on(Arc::new(store), provider.clone(), 1).await;
    let seeded = seed(ports).await;

    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(b) = std::fs::read(&p) {
            bytes.extend_from_slice(&b);
        }
    }
    assert!(bytes.len() > 100_000);
    let hits = find_any(&bytes, &seeded.canary_strings);
    assert!(hits.is_empty(), "{} canaries found in clear", hits.len());

    lifecycle(&seeded, provider).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_canaries_stay_sealed_in_pg_dump_and_keys_rotate_reseal_retire_and_shred() {
    let Ok(base) = std::env::var("REMPART_TEST_PG_URL") else {
        assert!(!ci(), "REMPART_TEST_PG_URL is required under CI=true");
        eprintln!("SKIPPED: REMPART_TEST_PG_URL is not set");
        return;
    };
    let name = format!("rempart_keys_{}", Uuid::new_v4().simple());
    let psql = Command::new("psql")
        .args([&base, "-qc", &format!("CREATE DATABASE {name}")])
        .status();
    assert!(psql.is_ok_and(|s| s.success()), "cannot create {name}");
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let url = format!("{prefix}/{name}");
    let store = store_postgres::PgStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(1));
    let provider = file_provider(&dir.path().join("keys"), rng);
    let ports = ports_on(Arc::new(store), provider.clone(), 1).await;
    let seeded = seed(ports).await;

    match Command::new("pg_dump").arg(&url).output() {
        Ok(out) => {
            assert!(out.status.success(), "pg_dump failed");
            assert!(out.stdout.len() > 100_000);
            let hits = find_any(&out.stdout, &seeded.canary_strings);
            assert!(hits.is_empty(), "{} canaries found in pg_dump", hits.len());
        }
        Err(_) => {
            assert!(
                !ci(),
                "pg_dump (Debian's postgresql-client) is required under CI=true"
            );
            eprintln!("SKIPPED part: pg_dump is not installed");
        }
    }

    lifecycle(&seeded, provider).await;
    let _ = Command::new("psql")
        .args([&base, "-qc", &format!("DROP DATABASE {name} WITH (FORCE)")])
        .status();
}

fn rempart(dir: &Path, args: &[&str], env: &[(&str, String)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rempart"));
    cmd.current_dir(dir).env_clear().args(args);
    if let Ok(conf) = std::env::var("SOFTHSM2_CONF") {
        cmd.env("SOFTHSM2_CONF", conf);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run rempart")
}

/// SoftHSM2: `keys init` (PKCS#11) by the binary, seeding through the same token, `keys
/// rotate` by the binary, then every row read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn softhsm_keys_init_seed_rotate_and_read_back() {
    let vars = [
        "REMPART_TEST_PKCS11_MODULE",
        "REMPART_TEST_PKCS11_TOKEN",
        "REMPART_TEST_PKCS11_PIN",
    ]
    .map(|v| std::env::var(v).ok());
    let [Some(module), Some(token), Some(pin)] = vars else {
        assert!(
            !ci(),
            "SoftHSM2 variables are required under CI=true (eval \"$(scripts/softhsm-setup.sh)\")"
        );
        eprintln!("SKIPPED: SoftHSM2 round trip (run eval \"$(scripts/softhsm-setup.sh)\")");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("REMPART_KEYS_PROVIDER", "pkcs11".to_string()),
        ("REMPART_PKCS11_MODULE", module.clone()),
        ("REMPART_PKCS11_TOKEN", token.clone()),
        ("REMPART_PKCS11_PIN", pin.clone()),
    ];
    let init = rempart(dir.path(), &["--data-dir", "data", "keys", "init"], &env);
    let text = String::from_utf8_lossy(&init.stderr);
    // The token is shared with the crypto crate's PKCS#11 test: it may already hold a KEK.
    assert!(
        init.status.success() || text.contains("refusing to overwrite"),
        "{text}"
    );
    assert!(!text.contains(&pin));

    let db = dir.path().join("data").join("rempart.sqlite3");
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let canaries = {
        let store = store_sqlite::SqliteStore::open(&db).await.unwrap();
        store.migrate().await.unwrap();
        let provider: Arc<dyn KeyProvider> =
            Arc::new(crypto::Pkcs11KeyProvider::open(&module, &token, pin.clone().into()).unwrap());
        let ports = ports_on(Arc::new(store), provider, 5).await;
        let seeded = seed(ports).await;
        all_open(&seeded.ports, &seeded.canaries).await;
        seeded.canaries
    };

    let rotate = rempart(dir.path(), &["--data-dir", "data", "keys", "rotate"], &env);
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let status = rempart(
        dir.path(),
        &["--data-dir", "data", "keys", "status", "--json"],
        &env,
    );
    assert!(status.status.success());
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let current = status["current_kek"].as_u64().unwrap();
    assert!(current >= 2);
    assert!(
        status["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kek_version"].as_u64() == Some(current))
    );

    let store = store_sqlite::SqliteStore::open(&db).await.unwrap();
    let provider: Arc<dyn KeyProvider> =
        Arc::new(crypto::Pkcs11KeyProvider::open(&module, &token, pin.into()).unwrap());
    let ports = ports_on(Arc::new(store), provider, 6).await;
    all_open(&ports, &canaries).await;
}
