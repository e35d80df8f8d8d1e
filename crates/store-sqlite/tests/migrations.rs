//! Both stores carry the same migrations: the same number is the same logical change.

// Test code: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("migrations directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|name| name.ends_with(".sql"))
        .collect()
}

#[test]
fn both_migration_directories_hold_the_same_file_names() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sqlite = names(&here.join("migrations"));
    let postgres = names(&here.join("../store-postgres/migrations"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[test]
fn migration_numbers_are_unique_and_follow_one_another() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let numbers: Vec<u32> = names(&here.join("migrations"))
        .iter()
        .map(|name| {
            name.split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("NNNN_verb_object.sql")
        })
        .collect();
    let expected: Vec<u32> = (1..=u32::try_from(numbers.len()).unwrap()).collect();
    assert_eq!(numbers, expected);
}

/// Migration 0032 rewrites the card domains of earlier releases (a JSON list) as the compact
/// text the application reads, in list order, and leaves rows already compact alone.
#[tokio::test]
async fn card_domains_of_earlier_releases_are_rewritten_as_compact_text() {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;
    let dir = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.path().join("m.sqlite3"))
        .create_if_missing(true)
        .foreign_keys(false)
        .connect()
        .await
        .unwrap();
    let all = sqlx::migrate!("./migrations");
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = all
        .migrations
        .iter()
        .filter(|m| m.version < 32)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&mut conn).await.unwrap();
    let json = r#"[{"domain":"PHAR","regime":"100%"},{"domain":"DENT","regime":"12.50%"},{"domain":"OPTI","regime":"PEC"}]"#;
    for (id, domains) in [(1u8, json), (2, "[]"), (3, "PHAR=90%")] {
        sqlx::query(
            "INSERT INTO cards (id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, \
             domains, created_at) VALUES (?1, x'00', 'M', 'TP', 'SSA', '2026-01-01', '2026-12-31', ?2, '2026-01-01T00:00:00.000000Z')",
        )
        .bind(vec![id])
        .bind(domains)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    all.run(&mut conn).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT domains FROM cards ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, ["PHAR=100%;DENT=12.50%;OPTI=PEC", "", "PHAR=90%"]);
}
