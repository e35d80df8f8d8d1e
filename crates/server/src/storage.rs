//! Opening what the server keeps: the store (PostgreSQL when `database_url` is set, else the
//! embedded SQLite file under the data directory), migrated; the key provider (KEK files in
//! `keys_dir`, or a PKCS#11 token); and the vault of data keys, stored in the database only
//! wrapped by the provider's KEK.

use crate::config::{Config, KeysProvider};
use anyhow::Context;
use app::keys::Vault;
use app::{Ports, SecureRandom, Store, SystemClock};
use crypto::{FileKeyProvider, KeyError, KeyProvider, OsRandom, Pkcs11KeyProvider};
use secrecy::ExposeSecret;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
pub use store_sqlite::Workload;

/// What to do when no key-encryption key exists yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingKeys {
    /// `rempart demo`: create KEK version 1 (file provider only).
    Create,
    /// `rempart serve` and the other commands: refuse, telling to run `rempart keys init`.
    Refuse,
}

/// Opens and migrates the store, opens the key provider and loads the vault, and builds the
/// production ports (system clock, OS randomness).
pub async fn open(config: &Config, missing: MissingKeys) -> anyhow::Result<Ports> {
    open_for(config, missing, Workload::Serving).await
}

/// [`open`], with the embedded SQLite database's writer tuned for `workload`
/// (`rempart import beneficiaries` opens it for a bulk load).
pub async fn open_for(
    config: &Config,
    missing: MissingKeys,
    workload: Workload,
) -> anyhow::Result<Ports> {
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom);
    ensure_dir(&config.data_dir)?;
    let provider = open_provider(config, rng.clone(), missing)?;
    let store = open_store_for(config, workload).await?;
    let clock = Arc::new(SystemClock);
    let vault = Vault::load(store.as_ref(), provider, rng.clone(), clock.as_ref())
        .await
        .context("cannot load the data keys")?;
    Ok(Ports {
        store,
        clock,
        rng,
        vault: Arc::new(vault),
    })
}

const NO_KEYS: &str = "no key-encryption key yet: run `rempart keys init` first (with the same --data-dir / --config)";

/// Opens the configured key provider. With [`MissingKeys::Create`] and the file provider, an
/// empty key directory gets KEK version 1.
pub fn open_provider(
    config: &Config,
    rng: Arc<dyn SecureRandom>,
    missing: MissingKeys,
) -> anyhow::Result<Arc<dyn KeyProvider>> {
    match config.keys_provider {
        KeysProvider::File => {
            let dir = config.keys_dir();
            let has_keys = std::fs::read_dir(&dir).is_ok_and(|mut entries| {
                entries.any(|e| {
                    e.is_ok_and(|e| {
                        let name = e.file_name();
                        let name = name.to_string_lossy();
                        name.starts_with("kek-v") && name.ends_with(".key")
                    })
                })
            });
            if !has_keys {
                if missing == MissingKeys::Create {
                    let p = FileKeyProvider::init(&dir, rng).with_context(|| {
                        format!("cannot create the key directory {}", dir.display())
                    })?;
                    tracing::info!(dir = %dir.display(), "created key-encryption key version 1");
                    return Ok(Arc::new(p));
                }
                anyhow::bail!("{}: {NO_KEYS}", dir.display());
            }
            let p = FileKeyProvider::open(&dir, rng)
                .with_context(|| format!("cannot open the key directory {}", dir.display()))?;
            Ok(Arc::new(p))
        }
        KeysProvider::Pkcs11 => {
            let p = open_pkcs11(config)?;
            match p.current_version() {
                Ok(_) => Ok(Arc::new(p)),
                Err(KeyError::NoVersion) => anyhow::bail!("PKCS#11 token: {NO_KEYS}"),
                Err(e) => Err(e).context("cannot read the PKCS#11 token"),
            }
        }
    }
}

/// Opens the configured PKCS#11 token (module, token label and PIN from the configuration).
pub fn open_pkcs11(config: &Config) -> anyhow::Result<Pkcs11KeyProvider> {
    let (Some(module), Some(token), Some(pin)) = (
        config.pkcs11_module.as_ref(),
        config.pkcs11_token.as_ref(),
        config.pkcs11_pin.as_ref(),
    ) else {
        anyhow::bail!(
            "keys_provider = \"pkcs11\" needs pkcs11_module, pkcs11_token and pkcs11_pin"
        );
    };
    Pkcs11KeyProvider::open(module, token, pin.clone()).context("cannot open the PKCS#11 token")
}

/// Opens the store named by the configuration and applies its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    open_store_for(config, Workload::Serving).await
}

/// [`open_store`] with the SQLite writer tuned for `workload` (PostgreSQL: no difference).
pub async fn open_store_for(config: &Config, workload: Workload) -> anyhow::Result<Arc<dyn Store>> {
    match &config.database_url {
        Some(url) => {
            let store = store_postgres::PgStore::connect(url.expose_secret())
                .await
                .context("cannot connect to PostgreSQL")?;
            store
                .migrate()
                .await
                .context("cannot migrate the PostgreSQL database")?;
            Ok(Arc::new(store))
        }
        None => {
            ensure_dir(&config.data_dir)?;
            let path = config.sqlite_path();
            let store = store_sqlite::SqliteStore::open_for(&path, workload)
                .await
                .with_context(|| format!("cannot open the database {}", path.display()))?;
            store
                .migrate()
                .await
                .context("cannot migrate the SQLite database")?;
            Ok(Arc::new(store))
        }
    }
}

/// Creates `dir` (and parents) readable by the owner only, if missing.
pub fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))
}
