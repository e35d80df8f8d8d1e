//! KEKs as files, for development and the demo.
//!
//! Directory layout: `<dir>/kek-v<N>.key`, each exactly 32 random bytes, mode 0600, in a
//! directory of mode 0700. `N` is a decimal version without leading zeros. Other file names
//! are ignored. [`FileKeyProvider::open`] refuses a directory looser than 0700 and any key
//! file looser than 0600 (or not a regular file), naming the file and the problem.
//!
//! A new version is written to a temporary file, synced, then published with a hard link,
//! which fails if the name exists: two processes can never both create `kek-v<N>.key`.
//!
//! Wrapped data key, 73 bytes: `0x01` ‖ 24-byte random nonce ‖ XChaCha20-Poly1305 ciphertext
//! of the 32-byte key ‖ 16-byte tag, with AAD `"rempart/kek-wrap/v1\0data-key\0"` ‖ KEK version
//! (u32 big endian), so a blob presented under another KEK version, or for another purpose,
//! fails to open.

use super::{KeyError, KeyProvider};
use crate::random::SecureRandom;
use crate::sealing::DataKey;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use zeroize::Zeroizing;

const FORMAT: u8 = 0x01;
const NONCE: usize = 24;
const WRAPPED_LEN: usize = 1 + NONCE + 32 + 16;
const AAD_PREFIX: &[u8] = b"rempart/kek-wrap/v1\0data-key\0";

/// A KEK held in memory, zeroized on drop.
struct Kek(Zeroizing<[u8; 32]>);

impl Kek {
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }
}

/// KEKs in a private directory. See the module documentation for the layout.
pub struct FileKeyProvider {
    dir: PathBuf,
    keks: RwLock<BTreeMap<u32, Kek>>,
    rng: Arc<dyn SecureRandom>,
    create: Mutex<()>,
}

impl std::fmt::Debug for FileKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeyProvider")
            .field("dir", &self.dir)
            .field("keks", &"<redacted>")
            .finish()
    }
}

fn file_name(version: u32) -> String {
    format!("kek-v{version}.key")
}

fn parse_file_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("kek-v")?.strip_suffix(".key")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn check_dir(dir: &Path) -> Result<(), KeyError> {
    let meta = fs::symlink_metadata(dir).map_err(|e| KeyError::io(dir, e))?;
    if !meta.is_dir() {
        return Err(KeyError::BadKeyFile {
            path: dir.to_path_buf(),
            problem: "is not a directory".into(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::InsecurePermissions {
            path: dir.to_path_buf(),
            problem: format!(
                "key directory has mode {mode:04o}; group and others must have no access (chmod 700)"
            ),
        });
    }
    Ok(())
}

fn read_kek(path: &Path) -> Result<Kek, KeyError> {
    let meta = fs::symlink_metadata(path).map_err(|e| KeyError::io(path, e))?;
    if !meta.file_type().is_file() {
        return Err(KeyError::BadKeyFile {
            path: path.to_path_buf(),
            problem: "is not a regular file (symlinks are refused)".into(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & !0o600 != 0 {
        return Err(KeyError::InsecurePermissions {
            path: path.to_path_buf(),
            problem: format!("key file has mode {mode:04o}, looser than 0600 (chmod 600)"),
        });
    }
    let bytes = Zeroizing::new(fs::read(path).map_err(|e| KeyError::io(path, e))?);
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::BadKeyFile {
            path: path.to_path_buf(),
            problem: format!("key file holds {} bytes, expected 32", bytes.len()),
        })?;
    Ok(Kek(Zeroizing::new(arr)))
}

fn load_all(dir: &Path) -> Result<BTreeMap<u32, Kek>, KeyError> {
    check_dir(dir)?;
    let mut keks = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(|e| KeyError::io(dir, e))? {
        let entry = entry.map_err(|e| KeyError::io(dir, e))?;
        let name = entry.file_name();
        let Some(version) = name.to_str().and_then(parse_file_name) else {
            continue;
        };
        keks.insert(version, read_kek(&entry.path())?);
    }
    Ok(keks)
}

/// Writes a fresh KEK as `kek-v<version>.key`, atomically and without ever replacing a file.
fn write_new_kek(dir: &Path, version: u32, rng: &dyn SecureRandom) -> Result<Kek, KeyError> {
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill(key.as_mut());
    let mut suffix = [0u8; 8];
    rng.fill(&mut suffix);
    let tmp = dir.join(format!(
        ".kek-v{version}.{:016x}.tmp",
        u64::from_le_bytes(suffix)
    ));
    let target = dir.join(file_name(version));
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(key.as_ref())?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(KeyError::io(&tmp, e));
    }
    let linked = fs::hard_link(&tmp, &target);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(Kek(key)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(KeyError::AlreadyInitialised { path: target })
        }
        Err(e) => Err(KeyError::io(&target, e)),
    }
}

impl FileKeyProvider {
    /// Creates `dir` (mode 0700) if needed and writes KEK version 1 (mode 0600). Refuses a
    /// directory that already holds a KEK file.
    pub fn init(dir: impl AsRef<Path>, rng: Arc<dyn SecureRandom>) -> Result<Self, KeyError> {
        let dir = dir.as_ref().to_path_buf();
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = fs::symlink_metadata(&dir).map_err(|e| KeyError::io(&dir, e))?;
                if !meta.is_dir() {
                    return Err(KeyError::BadKeyFile {
                        path: dir,
                        problem: "is not a directory".into(),
                    });
                }
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(|e| KeyError::io(&dir, e))?;
                let existing = load_all(&dir)?;
                if !existing.is_empty() {
                    return Err(KeyError::AlreadyInitialised { path: dir });
                }
            }
            Err(e) => return Err(KeyError::io(&dir, e)),
        }
        // DirBuilder's mode is filtered by the umask; make it exactly 0700.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| KeyError::io(&dir, e))?;
        let kek = write_new_kek(&dir, 1, rng.as_ref())?;
        let mut keks = BTreeMap::new();
        keks.insert(1, kek);
        Ok(Self {
            dir,
            keks: RwLock::new(keks),
            rng,
            create: Mutex::new(()),
        })
    }

    /// Opens an initialised directory, checking every permission first.
    pub fn open(dir: impl AsRef<Path>, rng: Arc<dyn SecureRandom>) -> Result<Self, KeyError> {
        let dir = dir.as_ref().to_path_buf();
        let keks = load_all(&dir)?;
        if keks.is_empty() {
            return Err(KeyError::NoVersion);
        }
        Ok(Self {
            dir,
            keks: RwLock::new(keks),
            rng,
            create: Mutex::new(()),
        })
    }

    /// The key directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u32, Kek>> {
        self.keks.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads the directory (another process may have rotated).
    fn reload(&self) -> Result<(), KeyError> {
        let fresh = load_all(&self.dir)?;
        let mut keks = self.keks.write().unwrap_or_else(|p| p.into_inner());
        *keks = fresh;
        Ok(())
    }

    fn with_kek<T>(
        &self,
        version: u32,
        f: impl Fn(&Kek) -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        if let Some(kek) = self.read().get(&version) {
            return f(kek);
        }
        self.reload()?;
        match self.read().get(&version) {
            Some(kek) => f(kek),
            None => Err(KeyError::UnknownVersion(version)),
        }
    }

    fn aad(version: u32) -> Vec<u8> {
        let mut aad = Vec::with_capacity(AAD_PREFIX.len() + 4);
        aad.extend_from_slice(AAD_PREFIX);
        aad.extend_from_slice(&version.to_be_bytes());
        aad
    }
}

impl KeyProvider for FileKeyProvider {
    fn current_version(&self) -> Result<u32, KeyError> {
        self.read()
            .keys()
            .next_back()
            .copied()
            .ok_or(KeyError::NoVersion)
    }

    fn versions(&self) -> Result<Vec<u32>, KeyError> {
        Ok(self.read().keys().copied().collect())
    }

    fn wrap(&self, kek_version: u32, dek: &DataKey) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE];
        self.rng.fill(&mut nonce);
        let aad = Self::aad(kek_version);
        let ct = self.with_kek(kek_version, |kek| {
            kek.cipher()
                .encrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: dek.expose(),
                        aad: &aad,
                    },
                )
                .map_err(|_| KeyError::Unwrap(kek_version))
        })?;
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn unwrap(&self, kek_version: u32, wrapped: &[u8]) -> Result<DataKey, KeyError> {
        if wrapped.len() != WRAPPED_LEN || wrapped[0] != FORMAT {
            return Err(KeyError::Malformed {
                expected: WRAPPED_LEN,
                actual: wrapped.len(),
            });
        }
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(&wrapped[1..1 + NONCE]);
        let aad = Self::aad(kek_version);
        let pt = self.with_kek(kek_version, |kek| {
            kek.cipher()
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &wrapped[1 + NONCE..],
                        aad: &aad,
                    },
                )
                .map(Zeroizing::new)
                .map_err(|_| KeyError::Unwrap(kek_version))
        })?;
        let bytes: [u8; 32] = pt
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Unwrap(kek_version))?;
        Ok(DataKey::from_bytes(bytes))
    }

    fn create_version(&self) -> Result<u32, KeyError> {
        let _guard = self.create.lock().unwrap_or_else(|p| p.into_inner());
        self.reload()?;
        let next = self.current_version().map_or(Ok(1), |v| {
            v.checked_add(1).ok_or(KeyError::UnknownVersion(v))
        })?;
        let kek = write_new_kek(&self.dir, next, self.rng.as_ref())?;
        self.keks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(next, kek);
        Ok(next)
    }

    fn destroy_version(&self, version: u32) -> Result<(), KeyError> {
        let _guard = self.create.lock().unwrap_or_else(|p| p.into_inner());
        self.reload()?;
        if !self.read().contains_key(&version) {
            return Err(KeyError::UnknownVersion(version));
        }
        if self.current_version()? == version {
            return Err(KeyError::CurrentVersion(version));
        }
        let path = self.dir.join(file_name(version));
        std::fs::remove_file(&path).map_err(|e| KeyError::io(&path, e))?;
        self.keks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&version);
        Ok(())
    }

    fn describe(&self) -> String {
        let versions: Vec<u32> = self.read().keys().copied().collect();
        format!(
            "key files in {} (KEK versions {versions:?})",
            self.dir.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    fn rng() -> Arc<dyn SecureRandom> {
        Arc::new(SeededRandom::new(5))
    }

    #[test]
    fn init_creates_private_files_and_satisfies_the_contract() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        let p = FileKeyProvider::init(&dir, rng()).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let f = dir.join("kek-v1.key");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read(&f).unwrap().len(), 32);
        assert_eq!(p.current_version().unwrap(), 1);
        super::super::contract::round_trip_rotation_and_tamper(&p);
        assert_eq!(
            fs::metadata(dir.join("kek-v2.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn reopened_provider_unwraps_what_the_first_wrapped() {
        let tmp = tempfile::tempdir().unwrap();
        let p = FileKeyProvider::init(tmp.path().join("k"), rng()).unwrap();
        let dek = DataKey::generate(&SeededRandom::new(1));
        let w = p.wrap(1, &dek).unwrap();
        assert_eq!(w.len(), WRAPPED_LEN);
        drop(p);
        let q = FileKeyProvider::open(tmp.path().join("k"), rng()).unwrap();
        assert_eq!(q.unwrap(1, &w).unwrap(), dek);
    }

    #[test]
    fn another_process_rotation_is_seen_on_unknown_version() {
        let tmp = tempfile::tempdir().unwrap();
        let a = FileKeyProvider::init(tmp.path().join("k"), rng()).unwrap();
        let b =
            FileKeyProvider::open(tmp.path().join("k"), Arc::new(SeededRandom::new(77))).unwrap();
        let v2 = b.create_version().unwrap();
        let dek = DataKey::generate(&SeededRandom::new(2));
        let w = b.wrap(v2, &dek).unwrap();
        assert_eq!(a.unwrap(v2, &w).unwrap(), dek);
        // And `a` creating the next version does not clobber b's v2.
        assert_eq!(a.create_version().unwrap(), 3);
        assert_eq!(b.unwrap(v2, &w).unwrap(), dek);
    }

    #[test]
    fn init_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("k");
        FileKeyProvider::init(&dir, rng()).unwrap();
        let before = fs::read(dir.join("kek-v1.key")).unwrap();
        let err = FileKeyProvider::init(&dir, Arc::new(SeededRandom::new(6))).unwrap_err();
        assert!(matches!(err, KeyError::AlreadyInitialised { .. }), "{err}");
        assert_eq!(fs::read(dir.join("kek-v1.key")).unwrap(), before);
    }

    #[test]
    fn open_refuses_loose_permissions_and_names_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("k");
        FileKeyProvider::init(&dir, rng()).unwrap();
        let f = dir.join("kek-v1.key");
        for mode in [0o640, 0o604, 0o644, 0o700, 0o666] {
            fs::set_permissions(&f, fs::Permissions::from_mode(mode)).unwrap();
            let err = FileKeyProvider::open(&dir, rng()).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, KeyError::InsecurePermissions { .. }), "{msg}");
            assert!(
                msg.contains("kek-v1.key") && msg.contains(&format!("{mode:04o}")),
                "{msg}"
            );
        }
        fs::set_permissions(&f, fs::Permissions::from_mode(0o400)).unwrap();
        FileKeyProvider::open(&dir, rng()).unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();
        let msg = FileKeyProvider::open(&dir, rng()).unwrap_err().to_string();
        assert!(msg.contains("0750"), "{msg}");
    }

    #[test]
    fn open_refuses_wrong_sizes_symlinks_and_empty_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("k");
        FileKeyProvider::init(&dir, rng()).unwrap();
        fs::write(dir.join("notes.txt"), b"ignored").unwrap();
        FileKeyProvider::open(&dir, rng()).unwrap();
        std::os::unix::fs::symlink(dir.join("kek-v1.key"), dir.join("kek-v2.key")).unwrap();
        let msg = FileKeyProvider::open(&dir, rng()).unwrap_err().to_string();
        assert!(
            msg.contains("kek-v2.key") && msg.contains("symlink"),
            "{msg}"
        );
        fs::remove_file(dir.join("kek-v2.key")).unwrap();
        let short = dir.join("kek-v3.key");
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&short)
            .unwrap();
        let msg = FileKeyProvider::open(&dir, rng()).unwrap_err().to_string();
        assert!(
            msg.contains("kek-v3.key") && msg.contains("0 bytes"),
            "{msg}"
        );
        let empty = tmp.path().join("empty");
        fs::DirBuilder::new().mode(0o700).create(&empty).unwrap();
        assert!(matches!(
            FileKeyProvider::open(&empty, rng()),
            Err(KeyError::NoVersion)
        ));
    }

    #[test]
    fn debug_and_describe_reveal_no_key() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("k");
        let p = FileKeyProvider::init(&dir, rng()).unwrap();
        let key = fs::read(dir.join("kek-v1.key")).unwrap();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        for text in [format!("{p:?}"), p.describe()] {
            assert!(
                !text.contains(&hex) && !text.contains(&format!("{:?}", key)),
                "{text}"
            );
        }
    }

    #[test]
    fn file_names_parse_strictly() {
        assert_eq!(parse_file_name("kek-v1.key"), Some(1));
        assert_eq!(parse_file_name("kek-v42.key"), Some(42));
        for bad in [
            "kek-v01.key",
            "kek-v.key",
            "kek-v1.key.tmp",
            "kek-v-1.key",
            "kek-v1a.key",
            "kek-v99999999999.key",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }
}
