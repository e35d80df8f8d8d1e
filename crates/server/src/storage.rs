//! Opening what the server keeps: the store (PostgreSQL when `database_url` is set, else the
//! embedded SQLite file under the data directory), migrated, and the ports around it.
//!
//! The field-sealing key is, for now, a file `<data_dir>/keys/sealing.key` (32 random bytes,
//! created 0600 on first use, refused if group or others may read it) — a temporary arrangement
//! until the key-management issue brings the `KeyProvider`.

use crate::config::Config;
use anyhow::{Context, bail};
use app::{Ports, SecureRandom, Store, SystemClock};
use crypto::sealing::DataKey;
use crypto::{OsRandom, XChaChaSealer};
use secrecy::ExposeSecret;
use std::fs::{DirBuilder, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

/// The version number of the single sealing key (until key rotation exists).
pub const SEALING_KEY_VERSION: u32 = 1;

/// Opens and migrates the store and builds the production ports (system clock, OS randomness).
pub async fn open(config: &Config) -> anyhow::Result<Ports> {
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom);
    ensure_dir(&config.data_dir)?;
    let key = load_or_create_key(&config.sealing_key_path(), rng.as_ref())?;
    let sealer = XChaChaSealer::new(
        vec![(SEALING_KEY_VERSION, key)],
        SEALING_KEY_VERSION,
        rng.clone(),
    )
    .context("cannot set up field sealing")?;
    let store = open_store(config).await?;
    Ok(Ports {
        store,
        clock: Arc::new(SystemClock),
        rng,
        sealer: Arc::new(sealer),
    })
}

/// Opens the store named by the configuration and applies its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
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
            let store = store_sqlite::SqliteStore::open(&path)
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

/// Reads the 32-byte key at `path`, creating it (mode 0600) on first use. A key file that group
/// or others may access is refused.
pub fn load_or_create_key(path: &Path, rng: &dyn SecureRandom) -> anyhow::Result<DataKey> {
    if let Some(parent) = path.parent() {
        ensure_dir(parent)?;
    }
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "the sealing key {} has mode {mode:04o}; it must be readable by its owner only (chmod 600 {})",
                    path.display(),
                    path.display()
                );
            }
            let mut file = std::fs::File::open(path)
                .with_context(|| format!("cannot open the sealing key {}", path.display()))?;
            let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(33));
            file.read_to_end(&mut bytes)
                .with_context(|| format!("cannot read the sealing key {}", path.display()))?;
            let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                anyhow::anyhow!("the sealing key {} is not 32 bytes long", path.display())
            })?;
            Ok(DataKey::from_bytes(array))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = DataKey::generate(rng);
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create the sealing key {}", path.display()))?;
            file.write_all(key.expose())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the sealing key {}", path.display()))?;
            tracing::info!(path = %path.display(), "created a new field-sealing key");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the sealing key {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::SeededRandom;

    #[test]
    fn key_is_created_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("sealing.key");
        let rng = SeededRandom::new(1);
        let k1 = load_or_create_key(&path, &rng).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let k2 = load_or_create_key(&path, &rng).unwrap();
        assert_eq!(k1.expose(), k2.expose());
    }

    #[test]
    fn loose_key_mode_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealing.key");
        load_or_create_key(&path, &SeededRandom::new(1)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create_key(&path, &SeededRandom::new(1)).unwrap_err();
        assert!(e.to_string().contains("0644"), "{e}");
    }

    #[test]
    fn short_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealing.key");
        std::fs::write(&path, b"short").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_or_create_key(&path, &SeededRandom::new(1)).is_err());
    }
}
