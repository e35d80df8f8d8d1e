//! Cards: the published keys (`/api/v1/card-keys`), the printer export on both backends, and
//! the binary's `card verify`, `cards export` and the demo's `demo-cards.csv`.

use app::cards::CardExport;
use app::ledger::{Ledger, LedgerConfig};
use crypto::CardVerifyingKeys;
use domain::ids::AmcNumber;
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use testkit::{Backend, TestApp, backend_tests, spawn_app};

async fn seeded(backend: Backend) -> Option<(TestApp, app::demo::DemoSummary)> {
    let app = spawn_app(backend).await?;
    let summary = app::demo::seed(&app.ports, 2024).await.unwrap();
    Some((app, summary))
}

async fn card_keys_list_the_current_key_and_verify_a_demo_card(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let response = app
        .client
        .get(app.url("/api/v1/card-keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body = response.text().await.unwrap();
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let kid = app.ports.vault.card_signer().kid();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid && k["public_key"].as_str().unwrap().len() == 43),
        "{list}"
    );
    let keys = CardVerifyingKeys::from_json(&body).unwrap();
    let row = &summary.cards[0];
    let claims = crypto::cards::verify(&row.token, &keys).unwrap();
    assert_eq!(claims.member_number, row.member_number);
    let card = app.ports.store.get_card(claims.card_id).await.unwrap();
    assert_eq!(card.signing_kid, kid);
    assert!(app::cards::code_matches(
        app.ports.vault.code_hasher(),
        &card,
        &row.verification_code
    ));
    // In the OpenAPI document, without authentication.
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/card-keys"]["get"].is_object());
    app.cleanup().await;
}

async fn export_pages_reissue_codes_and_store_only_their_hash(backend: Backend) {
    let Some((app, summary)) = seeded(backend).await else {
        return;
    };
    let insurer = app
        .ports
        .store
        .find_insurer_by_amc(&AmcNumber::parse("880000011").unwrap())
        .await
        .unwrap()
        .unwrap();
    let keys = app.ports.vault.card_keys();
    let ledger = Ledger::new(app.ports.clone(), LedgerConfig::default());
    let export = CardExport {
        credential: "cli:printer-test".into(),
        request_id: "export-1".into(),
    };
    let ledger_before = app.ports.store.ledger_size().await.unwrap();
    let (first, next) = app::cards::export_page(&app.ports, &ledger, &export, &insurer, None, 40)
        .await
        .unwrap();
    assert_eq!(first.len(), 40);

    // A ledger that cannot be written fails the page, and none of its cards' codes changes.
    let page_two = app
        .ports
        .store
        .list_insurer_cards(insurer.id, next, 40)
        .await
        .unwrap();
    assert_eq!(page_two.len(), 40);
    let ledger_mid = app.ports.store.ledger_size().await.unwrap();
    app.store.set_ledger_down(true);
    let failed = app::cards::export_page(&app.ports, &ledger, &export, &insurer, next, 40).await;
    assert!(
        matches!(failed, Err(app::cards::CardError::Ledger(_))),
        "{failed:?}"
    );
    app.store.set_ledger_down(false);
    assert_eq!(
        app.ports
            .store
            .list_insurer_cards(insurer.id, next, 40)
            .await
            .unwrap(),
        page_two,
        "the failed page changed no code"
    );
    assert_eq!(app.ports.store.ledger_size().await.unwrap(), ledger_mid);
    let (second, _) = app::cards::export_page(&app.ports, &ledger, &export, &insurer, next, 40)
        .await
        .unwrap();
    assert_eq!(second[0].record.id, page_two[0].id);
    assert_ne!(
        app.ports.store.get_card(second[0].record.id).await.unwrap(),
        page_two[0],
        "the page that went through has new codes"
    );

    // Every printed beneficiary has exactly one entry, about them, by the exporter, for the
    // insurer (the cards go to its printer).
    let printed: Vec<_> = first
        .iter()
        .chain(&second)
        .flat_map(|c| c.beneficiaries.iter())
        .collect();
    let entries = app
        .ports
        .store
        .list_ledger_entries(ledger_before, 10_000)
        .await
        .unwrap();
    assert_eq!(entries.len(), printed.len());
    for e in &entries {
        assert_eq!(e.purpose, "card_export");
        assert_eq!(e.categories, "guarantees,identity,membership");
        assert_eq!((e.organisation_id, e.insurer_id), (insurer.id, insurer.id));
        assert_eq!(
            (e.account_id, e.credential.as_str()),
            (None, "cli:printer-test")
        );
        assert_eq!(e.request_id, "export-1");
    }
    let members: Vec<_> = first
        .iter()
        .chain(&second)
        .map(|c| c.record.member_number.clone())
        .collect();
    let family: Vec<Vec<u8>> = app
        .ports
        .store
        .find_beneficiaries_of_members(insurer.id, &members)
        .await
        .unwrap()
        .iter()
        .map(|b| app.ports.vault.pseudonym(insurer.id, b.record.id).to_vec())
        .collect();
    assert!(
        entries.iter().all(|e| family.contains(&e.pseudonym)),
        "every entry is about a member of an exported card's family"
    );
    for card in first.iter().chain(&second) {
        let stored = app.ports.store.get_card(card.record.id).await.unwrap();
        assert_eq!(stored, card.record, "new hash stored");
        assert!(app::cards::code_matches(
            app.ports.vault.code_hasher(),
            &stored,
            card.code.as_str()
        ));
        assert!(
            !stored
                .code_hash
                .windows(8)
                .any(|w| w == card.code.as_str().replace('-', "").as_bytes())
        );
        assert_eq!(
            crypto::cards::verify(&card.token, &keys).unwrap().card_id,
            card.record.id
        );
        assert!(!card.beneficiaries.is_empty());
        // The code the demo printed for this card no longer matches.
        if let Some(row) = summary.cards.iter().find(|r| {
            r.member_number == card.record.member_number.as_str()
                && crypto::cards::verify(&r.token, &keys).unwrap().card_id == card.record.id
        }) {
            assert!(!app::cards::code_matches(
                app.ports.vault.code_hasher(),
                &stored,
                &row.verification_code
            ));
        }
    }
    app.cleanup().await;
}

backend_tests!(
    card_keys_list_the_current_key_and_verify_a_demo_card,
    export_pages_reissue_codes_and_store_only_their_hash,
);

// --- the binary ---

fn rempart(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rempart"));
    cmd.arg("--data-dir")
        .arg(data)
        .env_remove("REMPART_DATABASE_URL")
        .stdin(Stdio::null());
    cmd
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Reads back the modules of an SVG written by `rempart cards export` and decodes them.
fn decode_svg(svg: &str) -> Vec<u8> {
    let vb = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let mut dims = vb.split(['"', ' ']);
    let vw: usize = dims.next().unwrap().parse().unwrap();
    let vh: usize = dims.next().unwrap().parse().unwrap();
    let (w, h) = (vw - 4, vh - 4);
    let mut pixels = vec![false; w * h];
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    for run in d.split('z').filter(|r| !r.is_empty()) {
        let run = run.strip_prefix('M').unwrap();
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(',').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let n: usize = rest.split('v').next().unwrap().parse().unwrap();
        for i in 0..n {
            pixels[(y - 2) * w + (x - 2 + i)] = true;
        }
    }
    datamatrix::DataMatrix::decode(&pixels, w).unwrap()
}

fn tampered(token: &str) -> String {
    let mut t = token.as_bytes().to_vec();
    let i = t.len() / 2;
    t[i] = if t[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(t).unwrap()
}

#[tokio::test]
async fn demo_cards_verify_offline_and_export_for_the_printer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut demo = rempart(&data)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    let mut out = std::io::BufReader::new(demo.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        banner.push_str(&line);
        if line.contains("listening on") {
            break;
        }
        line.clear();
    }
    // Keep reading what the demo prints next (its pipe must stay open).
    let drain = std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let cards_csv = data.join("demo-cards.csv");
    assert!(
        banner.contains(&format!("cards     {}", cards_csv.display())),
        "{banner}"
    );
    let addr = banner
        .split("listening on ")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_string();

    // demo-cards.csv: 0600, one row per beneficiary with a card this year.
    assert_eq!(mode(&cards_csv), 0o600);
    let mut reader = csv::Reader::from_path(&cards_csv).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "member_number",
            "first_name",
            "birth_date",
            "birth_rank",
            "verification_code",
            "datamatrix_token"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.len() > 9_000 && rows.len() <= 10_000, "{}", rows.len());

    // The published keys, saved from the running server.
    let keys_json = reqwest::get(format!("http://{addr}/api/v1/card-keys"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let keys = CardVerifyingKeys::from_json(&keys_json).unwrap();
    for row in &rows {
        let claims = crypto::cards::verify(&row[5], &keys).unwrap();
        assert_eq!(claims.member_number, &row[0]);
    }
    let keys_file = dir.path().join("card-keys.json");
    std::fs::write(&keys_file, &keys_json).unwrap();

    let token = rows[0][5].to_string();
    // --keys FILE
    let out = rempart(&data)
        .args(["card", "verify", &token, "--keys"])
        .arg(&keys_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("genuine") && text.contains("valid today"),
        "{text}"
    );
    assert!(text.contains(&rows[0][0]), "member number: {text}");
    assert!(
        text.contains("PHAR 100%") && text.contains("OPTI PEC"),
        "{text}"
    );
    assert!(text.contains("AMC       8800000"), "{text}");
    // --url of the running server, JSON.
    let out = rempart(&data)
        .args(["card", "verify", &token, "--json", "--url"])
        .arg(format!("http://{addr}"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["valid_today"], true);
    assert_eq!(v["domains"].as_array().unwrap().len(), 10);
    // A tampered token: exit 1, one line on stderr.
    let out = rempart(&data)
        .args(["card", "verify", &tampered(&token), "--keys"])
        .arg(&keys_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("invalid card token"), "{err}");
    // A non-loopback URL is refused.
    let out = rempart(&data)
        .args(["card", "verify", &token, "--url", "http://192.0.2.1:80"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    demo.kill().unwrap();
    demo.wait().unwrap();
    let _ = drain.join();

    // The local data dir's keys (no --keys / --url).
    let out = rempart(&data)
        .args(["card", "verify", &token])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // cards export
    let export = dir.path().join("print");
    let out = rempart(&data)
        .args([
            "cards",
            "export",
            "--insurer",
            "880000011",
            "--json",
            "--out",
        ])
        .arg(&export)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = summary["cards"].as_u64().unwrap() as usize;
    assert!(n > 1_000, "{summary}");
    assert_eq!(mode(&export), 0o700);
    assert_eq!(mode(&export.join("datamatrix")), 0o700);
    let csv_path = export.join("cards.csv");
    assert_eq!(mode(&csv_path), 0o600);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "card_id");
    assert_eq!(header[header.len() - 2..], ["verification_code", "token"]);
    let exported: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(exported.len(), n);
    // Every printed beneficiary was ledgered.
    let printed: usize = exported.iter().map(|r| r[7].split(';').count()).sum();
    assert_eq!(
        summary["ledgered"].as_u64(),
        Some(printed as u64),
        "{summary}"
    );
    let verify = rempart(&data)
        .args(["ledger", "verify", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert!(
        report["entries"].as_u64().unwrap() >= printed as u64,
        "{report}"
    );
    let svgs = std::fs::read_dir(export.join("datamatrix"))
        .unwrap()
        .count();
    assert_eq!(svgs, n);
    for row in exported.iter().step_by(97) {
        let svg_path = export.join("datamatrix").join(format!("{}.svg", &row[0]));
        assert_eq!(mode(&svg_path), 0o600);
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        let decoded = decode_svg(&svg);
        assert_eq!(decoded, row[row.len() - 1].as_bytes());
        let claims = crypto::cards::verify(&row[row.len() - 1], &keys).unwrap();
        assert_eq!(claims.card_id.to_string(), &row[0]);
        assert_eq!(&row[1], "880000011");
        assert!(!row[7].is_empty(), "first names printed");
    }
    // The export re-issued the codes: the demo file's code of an exported card is stale, the
    // export's code is current (checked through the store by `card verify`'s sibling test on
    // both backends); here, the code columns differ.
    let demo_codes: std::collections::HashSet<&str> = rows.iter().map(|r| &r[4]).collect();
    let fresh = exported
        .iter()
        .filter(|r| !demo_codes.contains(&r[r.len() - 2]))
        .count();
    assert!(fresh > n * 9 / 10);
    // --no-images: the CSV only.
    let csv_only = dir.path().join("print-csv");
    let out = rempart(&data)
        .args([
            "cards",
            "export",
            "--insurer",
            "880000011",
            "--no-images",
            "--out",
        ])
        .arg(&csv_only)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(csv_only.join("cards.csv").exists());
    assert!(!csv_only.join("datamatrix").exists());
}
