//! `rempart migrate`: apply the database migrations and exit.

use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = crate::storage::open_store(config).await?;
    let backend = store.backend();
    tracing::info!(backend, "migrations applied");
    eprintln!("rempart: {backend} database is up to date");
    Ok(())
}
