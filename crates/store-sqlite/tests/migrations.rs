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

/// A new database in `dir` with every migration before `version` applied (foreign keys
/// enforced or not), and all the migrations, to run the rest.
async fn migrated_before(
    dir: &Path,
    version: i64,
    foreign_keys: bool,
) -> (sqlx::SqliteConnection, sqlx::migrate::Migrator) {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.join("m.sqlite3"))
        .create_if_missing(true)
        .foreign_keys(foreign_keys)
        .connect()
        .await
        .unwrap();
    let all = sqlx::migrate!("./migrations");
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = all
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&mut conn).await.unwrap();
    (conn, all)
}

/// Migration 0032 rewrites the card domains of earlier releases (a JSON list) as the compact
/// text the application reads, in list order, and leaves rows already compact alone.
#[tokio::test]
async fn card_domains_of_earlier_releases_are_rewritten_as_compact_text() {
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, all) = migrated_before(dir.path(), 32, false).await;
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

/// Every row of `table` in rowid order, each column quoted: equal texts, equal rows.
async fn table_text(conn: &mut sqlx::SqliteConnection, table: &str, columns: &[&str]) -> String {
    let row = columns
        .iter()
        .map(|c| format!("quote({c})"))
        .collect::<Vec<_>>()
        .join(" || ',' || ");
    let sql = format!(
        "SELECT group_concat(r, char(10)) FROM (SELECT quote(rowid) || ':' || {row} AS r FROM {table} ORDER BY rowid)"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(conn)
        .await
        .unwrap()
}

/// Migration 0033 rebuilds `beneficiaries` and `cards` with foreign keys checked at COMMIT:
/// every row (its rowid and every column) and every index survives, and a broken key no longer
/// fails its statement but still fails its transaction, which leaves nothing behind.
#[tokio::test]
async fn registry_tables_keep_their_rows_and_check_their_keys_at_commit() {
    use sqlx::Connection;
    const BENEFICIARY: &[&str] = &[
        "id",
        "insurer_id",
        "member_number",
        "birth_rank",
        "nir_sealed",
        "last_name_sealed",
        "first_name_sealed",
        "birth_date_sealed",
        "marital_status_sealed",
        "quality",
        "contract_id",
        "valid_from",
        "valid_to",
        "created_at",
        "updated_at",
        "nir_index",
        "last_import_id",
    ];
    const CARD: &[&str] = &[
        "id",
        "insurer_id",
        "member_number",
        "convention_type",
        "routing_criterion",
        "valid_from",
        "valid_to",
        "domains",
        "created_at",
        "signing_kid",
        "code_hash",
    ];
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, all) = migrated_before(dir.path(), 33, true).await;
    for sql in [
        "INSERT INTO organisations (id, kind, name, created_at) VALUES (x'01', 'insurer', 'AMC', '2026-01-01T00:00:00.000000Z')",
        "INSERT INTO insurers (id, amc, name, created_at) VALUES (x'01', '1', 'AMC', '2026-01-01T00:00:00.000000Z')",
        "INSERT INTO contracts (id, insurer_id, code, version, label, responsible, effective_from, guarantees, created_at) \
         VALUES (x'0c', x'01', 'C', 1, 'C', 1, '2026-01-01', '[]', '2026-01-01T00:00:00.000000Z')",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    // Rows out of id order, one with a NULL validity end and import.
    for (id, member, valid_to) in [
        (3u8, "M3", Some("2026-06-30")),
        (1, "M1", None),
        (2, "M2", Some("2027-01-01")),
    ] {
        sqlx::query(
            "INSERT INTO beneficiaries (id, insurer_id, member_number, birth_rank, nir_sealed, last_name_sealed, \
             first_name_sealed, birth_date_sealed, marital_status_sealed, quality, contract_id, valid_from, valid_to, \
             created_at, updated_at, nir_index, last_import_id) VALUES (?1, x'01', ?2, ?1, x'aa', x'bb', x'cc', x'dd', x'ee', \
             'assure', x'0c', '2026-01-01', ?3, '2026-01-01T00:00:00.000000Z', '2026-01-02T00:00:00.000000Z', ?1 * 1000, \
             CASE WHEN ?3 IS NULL THEN NULL ELSE x'99' END)",
        )
        .bind(vec![id])
        .bind(member)
        .bind(valid_to)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO cards (id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, \
             domains, created_at, signing_kid, code_hash) VALUES (?1, x'01', ?2, 'TP', 'SSA', '2026-01-01', '2026-12-31', \
             'PHAR=100%', '2026-01-01T00:00:00.000000Z', ?1, x'0102')",
        )
        .bind(vec![id])
        .bind(member)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM beneficiaries WHERE member_number = 'M1'")
        .execute(&mut conn)
        .await
        .unwrap();
    let beneficiaries = table_text(&mut conn, "beneficiaries", BENEFICIARY).await;
    let cards = table_text(&mut conn, "cards", CARD).await;
    assert_eq!(beneficiaries.lines().count(), 2);

    all.run(&mut conn).await.unwrap();
    assert_eq!(
        table_text(&mut conn, "beneficiaries", BENEFICIARY).await,
        beneficiaries
    );
    assert_eq!(table_text(&mut conn, "cards", CARD).await, cards);
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('beneficiaries', 'cards') \
         AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "beneficiaries_member",
            "beneficiaries_nir_index",
            "cards_member"
        ]
    );
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("EXPLAIN QUERY PLAN SELECT * FROM beneficiaries WHERE id = x'02'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(
        plan.iter()
            .any(|(_, _, _, d)| d.contains("sqlite_autoindex_beneficiaries"))
    );

    // A card of no insurer: its statement passes, its COMMIT fails and leaves nothing.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO cards (id, insurer_id, member_number, convention_type, routing_criterion, valid_from, valid_to, \
         domains, created_at) VALUES (x'07', x'02', 'M7', 'TP', 'SSA', '2026-01-01', '2026-12-31', '', '2026-01-01T00:00:00.000000Z')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    let failed = tx.commit().await.unwrap_err();
    assert!(failed.to_string().contains("FOREIGN KEY"), "{failed}");
    let cards_after: i64 = sqlx::query_scalar("SELECT count(*) FROM cards")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(cards_after, 3);
}
