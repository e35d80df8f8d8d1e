//! Beneficiary imports (issue 3): generated files on both backends, re-import, bad rows, a
//! changed file, `--full`, and a kill -9 of the binary in the middle of a 200k-row import.

use app::beneficiaries::import::{ImportOptions, ImportReport, import};
use app::store::{ContractRecord, InsurerRecord, OrganisationRecord};
use app::synthetic;
use domain::accounts::OrganisationKind;
use domain::contracts::ContractCode;
use domain::ids::{AmcNumber, MemberNumber};
use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Stdio};
use testkit::{Backend, TestApp, backend_tests, spawn_app};
use time::macros::date;

const AMC: &str = "880000011";
const GUARANTEES: &str = r#"{"format":1,"contract":"C","lines":[{"domain":"PHAR","item":"*","formula":{"kind":"br_percent","percent":100}},{"domain":"OPTI","item":"class_a","formula":{"kind":"in_full"}}]}"#;

pub(crate) async fn insurer(app: &TestApp) -> InsurerRecord {
    let ports = &app.ports;
    let now = ports.clock.now();
    let id = ports.new_id();
    ports
        .store
        .insert_organisation(&OrganisationRecord {
            id,
            kind: OrganisationKind::Insurer,
            name: "Mutuelle test".into(),
            created_at: now,
        })
        .await
        .unwrap();
    let insurer = InsurerRecord {
        id,
        amc: AmcNumber::parse(AMC).unwrap(),
        name: "Mutuelle test".into(),
        created_at: now,
    };
    ports.store.insert_insurer(&insurer).await.unwrap();
    for code in synthetic::CONTRACT_CODES {
        ports
            .store
            .insert_contract(&ContractRecord {
                id: ports.new_id(),
                insurer_id: id,
                code: ContractCode::parse(code).unwrap(),
                version: 1,
                label: code.into(),
                responsible: true,
                effective_from: date!(2026 - 01 - 01),
                effective_to: None,
                guarantees: GUARANTEES.into(),
                created_at: now,
            })
            .await
            .unwrap();
    }
    insurer
}

/// `rows` generated rows as CSV lines (header first).
pub(crate) fn generated(rows: usize, seed: u64) -> Vec<String> {
    let config = synthetic::Config {
        seed,
        insurer: Some(AMC.into()),
        year: 2026,
    };
    let mut out = vec![synthetic::CSV_HEADER.join(",")];
    for b in synthetic::beneficiaries(&config).take(rows) {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(synthetic::csv_record(&b)).unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        out.push(line.trim_end().to_string());
    }
    out
}

pub(crate) fn body(lines: &[String]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

async fn run(
    app: &TestApp,
    insurer: &InsurerRecord,
    lines: &[String],
    options: &ImportOptions,
) -> ImportReport {
    import(
        &app.ports,
        insurer,
        options,
        Cursor::new(body(lines)),
        &|_| {},
    )
    .await
    .unwrap()
}

async fn stored(
    app: &TestApp,
    insurer: &InsurerRecord,
    lines: &[String],
) -> Vec<app::store::BeneficiaryRecord> {
    let mut members: Vec<MemberNumber> = lines[1..]
        .iter()
        .map(|l| MemberNumber::parse(l.split(',').next().unwrap()).unwrap())
        .collect();
    members.sort();
    members.dedup();
    let mut rows: Vec<_> = app
        .ports
        .store
        .find_beneficiaries_of_members(insurer.id, &members)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.record)
        .collect();
    rows.sort_by_key(|r| r.id);
    rows
}

fn with_field(line: &str, i: usize, value: &str) -> String {
    let mut f: Vec<&str> = line.split(',').collect();
    f[i] = value;
    f.join(",")
}

async fn imports_then_reimports_as_a_no_op(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let lines = generated(1_500, 3);
    let options = ImportOptions {
        batch_size: 200,
        ..ImportOptions::default()
    };
    let first = run(&app, &insurer, &lines, &options).await;
    assert_eq!(
        (first.read, first.inserted, first.rejected),
        (1_500, 1_500, 0),
        "{:?}",
        first.errors
    );
    let counts = app.ports.store.counts().await.unwrap();
    assert_eq!(counts.beneficiaries, 1_500);
    assert!(counts.cards > 500, "one card per family: {}", counts.cards);
    let before = stored(&app, &insurer, &lines).await;

    app.clock.advance(time::Duration::hours(1));
    let again = run(&app, &insurer, &lines, &options).await;
    assert_eq!(
        (
            again.read,
            again.inserted,
            again.updated,
            again.unchanged,
            again.rejected
        ),
        (1_500, 0, 0, 1_500, 0)
    );
    assert_eq!(
        stored(&app, &insurer, &lines).await,
        before,
        "no row changed"
    );
    assert_eq!(app.ports.store.counts().await.unwrap().cards, counts.cards);
    app.cleanup().await;
}

async fn several_batches_share_a_transaction_and_still_see_each_other(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let mut lines = generated(1_200, 8);
    // A repeat, several pipeline batches later but in the same transaction, of a row whose
    // member is then only in the open transaction: its lookup must wait for the commit.
    lines.insert(300, lines[10].clone());
    let options = ImportOptions {
        full: true,
        date: Some(date!(2026 - 03 - 31)),
        batch_size: 600,
        pipeline_batch: 64,
        ..ImportOptions::default()
    };
    let first = run(&app, &insurer, &lines, &options).await;
    assert_eq!(
        (first.read, first.inserted, first.rejected, first.closed),
        (1_201, 1_200, 1, 0)
    );
    let got: Vec<(u64, &str)> = first.errors.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(got, vec![(301, "nir")]);
    let counts = app.ports.store.counts().await.unwrap();
    assert_eq!(counts.beneficiaries, 1_200);
    assert!(counts.cards > 400, "one card per family: {}", counts.cards);
    let before = stored(&app, &insurer, &lines).await;

    app.clock.advance(time::Duration::hours(1));
    let again = run(&app, &insurer, &lines, &options).await;
    assert_eq!(
        (
            again.inserted,
            again.updated,
            again.unchanged,
            again.rejected,
            again.closed
        ),
        (0, 0, 1_200, 1, 0)
    );
    assert_eq!(stored(&app, &insurer, &lines).await, before);
    assert_eq!(app.ports.store.counts().await.unwrap().cards, counts.cards);
    app.cleanup().await;
}

async fn bad_rows_are_reported_and_the_good_ones_imported(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let mut lines = generated(50, 4);
    let nir = lines[3].split(',').nth(1).unwrap().to_string();
    let bad_key = format!(
        "{}{}",
        &nir[..13],
        if &nir[13..] == "01" { "02" } else { "01" }
    );
    lines[3] = with_field(&lines[3], 1, &bad_key);
    lines[5] = with_field(&lines[5], 5, "1980-02-30");
    lines[7] = with_field(&lines[7], 8, "PLATINE");
    let duplicate = lines[10].clone();
    lines.push(duplicate);
    let report = run(&app, &insurer, &lines, &ImportOptions::default()).await;
    assert_eq!((report.read, report.inserted, report.rejected), (51, 47, 4));
    let got: Vec<(u64, &str)> = report.errors.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(
        got,
        vec![
            (4, "nir"),
            (6, "birth_date"),
            (8, "contract_code"),
            (52, "nir")
        ]
    );
    let json = serde_json::to_string(&report).unwrap();
    for value in [&bad_key[..], "1980-02-30", "PLATINE", &nir[..]] {
        assert!(!json.contains(value), "the report echoes a value");
    }
    assert!(report.errors[3].reason.contains("duplicate"));
    app.cleanup().await;
}

async fn a_changed_file_updates_exactly_the_changed_rows(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let mut lines = generated(300, 5);
    run(&app, &insurer, &lines, &ImportOptions::default()).await;
    let before = stored(&app, &insurer, &lines).await;
    lines[2] = with_field(&lines[2], 3, "Nouveaunom");
    lines[20] = with_field(&lines[20], 10, "2026-06-30");
    app.clock.advance(time::Duration::hours(1));
    let report = run(&app, &insurer, &lines, &ImportOptions::default()).await;
    assert_eq!(
        (report.updated, report.unchanged, report.inserted),
        (2, 298, 0)
    );
    let after = stored(&app, &insurer, &lines).await;
    let changed = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.updated_at != b.updated_at)
        .count();
    assert_eq!(changed, 2);
    app.cleanup().await;
}

async fn a_full_import_closes_the_missing_at_the_date(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let lines = generated(400, 6);
    run(&app, &insurer, &lines, &ImportOptions::default()).await;
    // Drop the last 100 rows (whole families and the start of one are cut: any row missing).
    let kept: Vec<String> = lines[..301].to_vec();
    let on = date!(2026 - 03 - 31);
    let full = ImportOptions {
        full: true,
        date: Some(on),
        batch_size: 64,
        ..ImportOptions::default()
    };
    let report = run(&app, &insurer, &kept, &full).await;
    assert_eq!(report.unchanged, 300);
    let all = stored(&app, &insurer, &lines).await;
    let open_missing = lines[301..]
        .iter()
        .filter(|l| {
            let to = l.split(',').nth(10).unwrap();
            to.is_empty() || to > "2026-03-31"
        })
        .count();
    assert_eq!(report.closed as usize, open_missing, "{report:?}");
    let closed_at_date = all.iter().filter(|r| r.valid_to == Some(on)).count();
    assert_eq!(closed_at_date, open_missing);
    // Again: nothing more to close.
    let again = run(&app, &insurer, &kept, &full).await;
    assert_eq!((again.closed, again.unchanged, again.updated), (0, 300, 0));
    app.cleanup().await;
}

async fn the_header_must_be_the_documented_one(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let mut lines = generated(3, 7);
    lines[0] = lines[0].replace("nir,", "");
    let e = import(
        &app.ports,
        &insurer,
        &ImportOptions::default(),
        Cursor::new(body(&lines)),
        &|_| {},
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("no column \"nir\""), "{e}");
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 0);
    app.cleanup().await;
}

// --- the insurer API: POST /api/v1/insurers/{amc}/beneficiary-imports (the insurer's staff or
// machines; access and idempotency are tested in `idempotency.rs`) ---

pub(crate) async fn post_csv(
    app: &TestApp,
    who: &testkit::SignedIn,
    path: &str,
    csv: Vec<u8>,
) -> reqwest::Response {
    app.request_as(who, reqwest::Method::POST, path)
        .header("content-type", "text/csv")
        .header("idempotency-key", "import-test-1")
        .body(csv)
        .send()
        .await
        .unwrap()
}

async fn the_import_api_streams_a_file(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let who = app
        .enrol(domain::accounts::Role::InsurerStaff, insurer.id)
        .await;
    let mut lines = generated(2_500, 11);
    lines[7] = with_field(&lines[7], 5, "1980-02-30");
    let path = format!("/api/v1/insurers/{AMC}/beneficiary-imports?full=true&date=2026-03-01");
    let response = post_csv(&app, &who, &path, body(&lines)).await;
    assert_eq!(response.status().as_u16(), 201);
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(report["read"], 2_500);
    assert_eq!(report["inserted"], 2_499);
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["errors"][0]["line"], 8);
    assert_eq!(report["errors"][0]["field"], "birth_date");
    assert!(!report.to_string().contains("1980-02-30"));
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 2_499);
    let id = uuid::Uuid::parse_str(report["import_id"].as_str().unwrap()).unwrap();
    let run = app.ports.store.get_import(insurer.id, id).await.unwrap();
    assert_eq!(run.idempotency_key.as_deref(), Some("import-test-1"));
    assert!(run.full);
    assert_eq!(run.file_date, date!(2026 - 03 - 01));

    // The same file again (another key) changes nothing.
    let again: serde_json::Value = app
        .request_as(&who, reqwest::Method::POST, &path)
        .header("content-type", "text/csv")
        .header("idempotency-key", "import-test-2")
        .body(body(&lines))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &again["inserted"],
            &again["updated"],
            &again["unchanged"],
            &again["closed"]
        ),
        (&0.into(), &0.into(), &2_499.into(), &0.into())
    );

    // A bad header is a 422 problem; nothing written.
    let mut bad = lines.clone();
    bad[0] = bad[0].replace("nir,", "");
    let bad_header = app
        .request_as(&who, reqwest::Method::POST, &path)
        .header("content-type", "text/csv")
        .body(body(&bad))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(bad_header, 422).await;
    // Not CSV: 415; a bad date: 400.
    let response = app
        .request_as(&who, reqwest::Method::POST, &path)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(response, 415).await;
    let bad_date = format!("/api/v1/insurers/{AMC}/beneficiary-imports?date=2026-02-30");
    crate::helpers::assert_problem(post_csv(&app, &who, &bad_date, body(&lines)).await, 400).await;
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 2_499);
    app.cleanup().await;
}

async fn the_import_api_answers_404_for_an_unknown_amc(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let insurer = insurer(&app).await;
    let who = app
        .enrol(domain::accounts::Role::InsurerStaff, insurer.id)
        .await;
    let lines = generated(3, 12);
    for amc in ["880000029", "not-an-amc"] {
        let path = format!("/api/v1/insurers/{amc}/beneficiary-imports");
        let body =
            crate::helpers::assert_problem(post_csv(&app, &who, &path, body(&lines)).await, 404)
                .await;
        assert!(!body.to_string().contains(amc));
    }
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 0);
    app.cleanup().await;
}

backend_tests!(
    imports_then_reimports_as_a_no_op,
    several_batches_share_a_transaction_and_still_see_each_other,
    bad_rows_are_reported_and_the_good_ones_imported,
    a_changed_file_updates_exactly_the_changed_rows,
    a_full_import_closes_the_missing_at_the_date,
    the_header_must_be_the_documented_one,
    the_import_api_streams_a_file,
    the_import_api_answers_404_for_an_unknown_amc,
);

// --- the binary, killed with -9 ---

fn rempart(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rempart"));
    cmd.arg("--data-dir")
        .arg(dir)
        .env_remove("REMPART_DATABASE_URL");
    cmd
}

fn sqlite_count(db: &Path) -> u64 {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg("SELECT COUNT(*) FROM beneficiaries")
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .unwrap_or(0),
        _ => 0,
    }
}

fn import_json(dir: &Path, file: &Path) -> serde_json::Value {
    let out = rempart(dir)
        .args([
            "import",
            "beneficiaries",
            "--insurer",
            "880000011",
            "--json",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_run_killed_with_sigkill_then_rerun_gives_exactly_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The demo's data dir: insurers 880000011 and 880000029.
    let mut demo = rempart(&data)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut out = std::io::BufReader::new(demo.stdout.take().unwrap());
        let mut line = String::new();
        while out.read_line(&mut line).unwrap() > 0 && !line.contains("listening on") {
            line.clear();
        }
    }
    demo.kill().unwrap();
    demo.wait().unwrap();
    let db = data.join("rempart.sqlite3");
    let before = sqlite_count(&db);
    assert!(before >= 10_000, "demo seeded: {before}");

    let file = dir.path().join("b.csv");
    let rows = 200_000u64;
    let status = rempart(&data)
        .args([
            "gen",
            "beneficiaries",
            "--count",
            &rows.to_string(),
            "--seed",
            "11",
            "--insurer",
            "880000011",
            "--out",
        ])
        .arg(&file)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let mut child = rempart(&data)
        // Several transactions of several batches in 200,000 rows: kill points vary.
        .args([
            "import",
            "beneficiaries",
            "--insurer",
            "880000011",
            "--batch",
            "30000",
        ])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it has written something, at a pseudo-random point after that.
    let extra = std::time::Duration::from_millis(u64::from(std::process::id() % 1500));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while sqlite_count(&db) <= before && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(extra).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = sqlite_count(&db);
    assert!(partial > before, "the import had started writing");

    let rerun = import_json(&data, &file);
    assert_eq!(rerun["read"], rows);
    assert_eq!(rerun["rejected"], 0, "{rerun}");
    assert_eq!(rerun["updated"], 0, "{rerun}");
    assert_eq!(
        rerun["inserted"].as_u64().unwrap() + rerun["unchanged"].as_u64().unwrap(),
        rows
    );
    assert_eq!(
        sqlite_count(&db),
        before + rows,
        "no duplicate, nothing missing"
    );
    // Every stored identity is opened and compared with the file: all unchanged.
    let check = import_json(&data, &file);
    assert_eq!(
        (
            check["inserted"].as_u64(),
            check["updated"].as_u64(),
            check["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(rows))
    );
}

// --- canaries in the logs of the server and of the CLI ---

/// `rows` generated rows whose names are canaries (`ZQXCANARY<tag><i>NOM`/`…PRENOM`); row 5 has
/// a bad NIR key (refused). Returns the lines and the canary strings (names, NIRs, dates of
/// birth that are not also validity bounds).
fn canary_file(rows: usize, seed: u64, tag: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = generated(rows, seed);
    let mut canaries = Vec::new();
    for (i, line) in lines.iter_mut().enumerate().skip(1) {
        let last = format!("ZQXCANARY{tag}{i}NOM");
        let first = format!("WQXCANARY{tag}{i}PRENOM");
        *line = with_field(&with_field(line, 3, &last), 4, &first);
        if i == 5 {
            let nir = line.split(',').nth(1).unwrap().to_string();
            let key: u32 = nir[13..].parse().unwrap();
            let bad = format!("{}{:02}", &nir[..13], (key + 1) % 97);
            *line = with_field(line, 1, &bad);
        }
        let f: Vec<&str> = line.split(',').collect();
        canaries.extend([last, first, f[1].to_string()]);
        if !f[5].ends_with("-01-01") && !f[5].ends_with("-12-31") {
            canaries.push(f[5].to_string());
        }
    }
    (lines, canaries)
}

/// The needles present in `haystack`. A needle made of letters, digits and `-` (a NIR, a
/// date, most names) is looked up among the haystack's tokens (maximal runs of such bytes and
/// non-ASCII bytes), any other needle by a plain substring search.
fn found(haystack: &[u8], needles: &[String]) -> Vec<String> {
    let token_byte = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b >= 0x80;
    let tokens: std::collections::HashSet<&[u8]> = haystack
        .split(|b| !token_byte(b))
        .filter(|t| !t.is_empty())
        .collect();
    needles
        .iter()
        .filter(|n| {
            if n.as_bytes().iter().all(token_byte) {
                tokens.contains(n.as_bytes())
            } else {
                haystack.windows(n.len()).any(|w| w == n.as_bytes())
            }
        })
        .cloned()
        .collect()
}

/// Every identity the demo seeded in the data directory `data`, opened with its keys: the
/// NIRs, the one-word names of 5 characters or more and the dates of birth that are not also validity
/// bounds (stored in clear).
async fn demo_identities(data: &Path) -> Vec<String> {
    use crypto::SecureRandom;
    let store = store_sqlite::SqliteStore::open(&data.join("rempart.sqlite3"))
        .await
        .unwrap();
    let rng: std::sync::Arc<dyn SecureRandom> = std::sync::Arc::new(crypto::OsRandom);
    let provider = crypto::FileKeyProvider::open(data.join("keys"), rng.clone()).unwrap();
    let clock = app::SystemClock;
    let vault = app::keys::Vault::load(&store, std::sync::Arc::new(provider), rng, &clock)
        .await
        .unwrap();
    let mut out = Vec::new();
    for insurer in app::store::Store::list_insurers(&store).await.unwrap() {
        let mut after = None;
        loop {
            let page = app::store::Store::list_beneficiaries_page(&store, insurer.id, after, 1000)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for record in &page {
                let identity = app::beneficiaries::open_identity(&vault, record).unwrap();
                let d = identity.birth_date;
                let date = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
                if !date.ends_with("-01-01") && !date.ends_with("-12-31") {
                    out.push(date);
                }
                out.push(identity.nir.as_str().to_string());
                // Names of one token (letters and hyphens): compound names with a space or an
                // apostrophe would need a substring scan of the whole file per name.
                for name in [identity.last_name, identity.first_name] {
                    if name.chars().count() >= 5
                        && name.chars().all(|c| c.is_alphanumeric() || c == '-')
                    {
                        out.push(name);
                    }
                }
            }
        }
    }
    // Names the demo shows in clear on purpose (insurers, practices, professionals) are not
    // canaries.
    let mut public = String::new();
    for kind in [OrganisationKind::Insurer, OrganisationKind::Practice] {
        for org in app::store::Store::list_organisations(&store, kind)
            .await
            .unwrap()
        {
            public.push_str(&org.name);
            public.push('\n');
            for p in app::store::Store::list_professionals(&store, org.id)
                .await
                .unwrap()
            {
                public.push_str(&p.display_name);
                public.push('\n');
            }
        }
    }
    out.retain(|c| !public.contains(c.as_str()));
    out.sort();
    out.dedup();
    out
}

/// `rempart demo` (the server: seeding, then serving a few requests) with debug logs, its
/// stdout and stderr captured; then the CLI (debug logs captured) imports a canary file with a
/// refused row. No identifying value of the demo's population or of the file (NIR, names,
/// dates of birth, the refused row's bad NIR included) is in the server's output, the CLI's
/// output, the SQLite file or its WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_stay_out_of_the_server_and_cli_logs_and_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out_path = dir.path().join("server.out");
    let err_path = dir.path().join("server.err");
    let mut server = rempart(&data)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "debug")
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let addr = loop {
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(rest) = out.split("listening on ").nth(1) {
            break rest.split(';').next().unwrap().trim().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the demo did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/", "/api/v1/card-keys"] {
        let _ = client.get(format!("http://{addr}{path}")).send().await;
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let (lines, file_canaries) = canary_file(300, 21, "B");
    // The search works: every canary of the file is in its clear bytes.
    assert_eq!(
        found(&body(&lines), &file_canaries).len(),
        file_canaries.len()
    );
    let file = dir.path().join("canaries.csv");
    std::fs::write(&file, body(&lines)).unwrap();
    let cli = rempart(&data)
        .env("RUST_LOG", "debug")
        .args(["import", "beneficiaries", "--insurer", AMC])
        .arg(&file)
        .output()
        .unwrap();
    assert!(cli.status.success());
    let summary = String::from_utf8_lossy(&cli.stdout);
    assert!(summary.contains("299 inserted"), "{summary}");
    assert!(summary.contains("1 rejected"), "{summary}");

    let mut canaries = demo_identities(&data).await;
    assert!(canaries.len() > 10_000, "the demo's population opened");
    canaries.extend(file_canaries);
    let server_out = std::fs::read(&out_path).unwrap();
    let server_err = std::fs::read(&err_path).unwrap();
    assert!(
        String::from_utf8_lossy(&server_err).contains("answered"),
        "the server's request log is captured"
    );
    for (what, bytes) in [
        ("server stdout", &server_out),
        ("server stderr", &server_err),
        ("CLI stdout", &cli.stdout),
        ("CLI stderr", &cli.stderr),
    ] {
        let hits = found(bytes, &canaries);
        assert!(hits.is_empty(), "{} canaries in the {what}", hits.len());
    }
    let db = data.join("rempart.sqlite3");
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", db.display())) {
            bytes.extend(b);
        }
    }
    assert!(bytes.len() > 100_000);
    let hits = found(&bytes, &canaries);
    assert!(hits.is_empty(), "{} canaries in the database", hits.len());
}
