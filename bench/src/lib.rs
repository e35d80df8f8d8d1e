//! What the benchmark binaries share: a rempart data directory opened as `rempart` opens it
//! (the SQLite store, migrated; the key file, created when missing; the vault).

/// The allocator the `rempart` binary uses (crates/server/src/main.rs), so that the
/// benchmarks measure what the server runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use app::{Ports, SecureRandom, Store};
use crypto::{FileKeyProvider, OsRandom};
use std::path::Path;
use std::sync::Arc;

/// The ports over `data_dir` (created when missing: SQLite database and key file).
pub async fn open_data_dir(data_dir: &Path) -> anyhow::Result<Ports> {
    std::fs::create_dir_all(data_dir)?;
    let store = store_sqlite::SqliteStore::open(&data_dir.join("rempart.sqlite3"))
        .await
        .context("cannot open the SQLite store")?;
    store.migrate().await?;
    let store: Arc<dyn Store> = Arc::new(store);
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom);
    let keys = data_dir.join("keys");
    let provider = if keys.exists() {
        FileKeyProvider::open(&keys, rng.clone())?
    } else {
        FileKeyProvider::init(&keys, rng.clone())?
    };
    let clock = Arc::new(app::SystemClock);
    let vault = app::keys::Vault::load(
        store.as_ref(),
        Arc::new(provider),
        rng.clone(),
        clock.as_ref(),
    )
    .await
    .context("cannot load the vault")?;
    Ok(Ports {
        store,
        clock,
        rng,
        vault: Arc::new(vault),
    })
}
