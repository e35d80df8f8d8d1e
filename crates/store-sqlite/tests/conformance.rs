//! The store conformance suite on SQLite: each test gets a fresh temp-file database.

// Test code: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use store_conformance::Fixture;
use store_sqlite::SqliteStore;

async fn fresh_store() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&dir.path().join("rempart.db"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    Some(Fixture::new(Arc::new(store)).with_guard(dir))
}

store_conformance::conformance_suite!(fresh_store);
