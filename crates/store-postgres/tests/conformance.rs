//! The store conformance suite on PostgreSQL.
//!
//! Admin URL: `REMPART_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`.
//! Once per test process a template database `rempart_tpl_<epoch>_<random>` is created and
//! migrated; each test clones it (`CREATE DATABASE rempart_t_<epoch>_<random> TEMPLATE …`,
//! clones serialised: cloning needs the template free of sessions) and drops its clone
//! afterwards, pass or fail. libtest has no end-of-run hook, so the template outlives the
//! run: at start each run drops `rempart_tpl_*`/`rempart_t_*` databases older than
//! `STALE_AFTER`. If PostgreSQL is unreachable the tests fail when `CI=true`, and otherwise
//! each test says SKIPPED on stderr and returns.

// Test code: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Row};
use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;
use store_conformance::Fixture;
use store_postgres::PgStore;
use tokio::sync::{Mutex, OnceCell};
use uuid::Uuid;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Databases of earlier runs older than this are dropped (younger ones may be in use).
const STALE_AFTER_SECS: u64 = 15 * 60;

static TEMPLATE: OnceCell<Result<String, String>> = OnceCell::const_new();
static CLONING: Mutex<()> = Mutex::const_new(());

fn admin_url() -> String {
    std::env::var("REMPART_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// A fresh name `<prefix>_<unix seconds>_<random>`, and its age-bearing seconds.
fn fresh_name(prefix: &str) -> String {
    let id = Uuid::now_v7();
    let (secs, _) = id
        .get_timestamp()
        .expect("a v7 uuid has a timestamp")
        .to_unix();
    format!("{prefix}_{secs}_{}", &id.simple().to_string()[20..])
}

fn url_of(database: &str) -> String {
    PgConnectOptions::from_str(&admin_url())
        .expect("a valid admin URL")
        .database(database)
        .to_url_lossy()
        .to_string()
}

/// The server's address, without credentials (the URL may hold a password).
fn server() -> String {
    match PgConnectOptions::from_str(&admin_url()) {
        Ok(options) => format!("{}:{}", options.get_host(), options.get_port()),
        Err(_) => "an unparsable REMPART_TEST_PG_URL".to_string(),
    }
}

async fn admin() -> Result<PgConnection, sqlx::Error> {
    PgConnection::connect(&admin_url()).await
}

async fn execute(conn: &mut PgConnection, sql: String) {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .expect("an admin statement");
}

/// Drops the databases that earlier runs left behind.
async fn drop_stale(conn: &mut PgConnection, now_secs: u64) {
    let rows = sqlx::query(
        "SELECT datname FROM pg_database WHERE datname ~ '^rempart_(tpl|t)_[0-9]+_[0-9a-f]+$'",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("list databases");
    for row in rows {
        let name: String = row.get("datname");
        let secs: u64 = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        if secs.saturating_add(STALE_AFTER_SECS) < now_secs {
            execute(
                conn,
                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            )
            .await;
        }
    }
}

async fn create_template() -> Result<String, String> {
    let mut conn = admin()
        .await
        .map_err(|_| format!("no PostgreSQL at {}", server()))?;
    let name = fresh_name("rempart_tpl");
    let now: u64 = name
        .split('_')
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    drop_stale(&mut conn, now).await;
    execute(&mut conn, format!("CREATE DATABASE \"{name}\"")).await;
    let store = PgStore::connect(&url_of(&name))
        .await
        .expect("connect to the template");
    store.migrate().await.expect("migrate the template");
    store.close().await;
    conn.close().await.expect("close the admin connection");
    Ok(name)
}

async fn fresh_store() -> Option<Fixture> {
    let template = match TEMPLATE.get_or_init(create_template).await {
        Ok(template) => template.clone(),
        Err(why) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{why} (CI=true: the PostgreSQL run is not optional)");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
            return None;
        }
    };
    let name = fresh_name("rempart_t");
    {
        let _one_clone_at_a_time = CLONING.lock().await;
        let mut conn = admin().await.expect("admin connection");
        execute(
            &mut conn,
            format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
        )
        .await;
        conn.close().await.expect("close the admin connection");
    }
    let store = PgStore::connect(&url_of(&name))
        .await
        .expect("connect to the test database");
    let closing = store.clone();
    Some(Fixture::new(Arc::new(store)).with_teardown(async move {
        closing.close().await;
        let mut conn = admin().await.expect("admin connection");
        execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        )
        .await;
        let _ = conn.close().await;
    }))
}

store_conformance::conformance_suite!(fresh_store);
