//! Envelope encryption: data keys (DEKs) wrapped by the [`KeyProvider`]'s KEKs, one series of
//! data keys per *scope* (an insurer id, or [`PLATFORM_SCOPE`] for data that belongs to no
//! insurer, such as professionals' bank details).
//!
//! What the application stores per data key (a [`DataKeyRecord`], e.g. one row of a
//! `data_keys` table): `key_id` (u32, unique in the deployment, never reused), `scope`
//! (UUID), `version` (u32, ascending within the scope), `kek_version` (u32) and the wrapped
//! bytes (73 bytes from the file provider, 40 from PKCS#11). No plaintext key is stored.
//!
//! Key ids: the sealed-value header has a 4-byte key version field (see [`crate::sealing`]);
//! the [`EnvelopeSealer`] writes the data key's `key_id` there, so the stored format is the
//! same as [`crate::XChaChaSealer`]'s and a value names the exact data key that opens it. The
//! application allocates key ids (e.g. `max(key_id) + 1` under the key table's write lock;
//! data keys are created rarely: one per scope per rotation).
//!
//! Rotation: a new KEK version ([`KeyProvider::create_version`]) followed by
//! [`Keyring::rewrap`] of every record (fast: no field is touched); or a new data key version
//! for a scope, after which new values are sealed with it and a background job re-seals old
//! rows (found with [`crate::sealed_key_version`]). Deleting every record of a scope
//! crypto-shreds its data.

use crate::keys::{KeyError, KeyProvider};
use crate::random::SecureRandom;
use crate::sealing::{
    DataKey, FieldRef, SealError, Sealer, open_with, seal_with, sealed_key_version,
};
use chacha20poly1305::XChaCha20Poly1305;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The scope of data that belongs to no insurer.
pub const PLATFORM_SCOPE: Uuid = Uuid::nil();

/// A data key as generated: the key itself (to use now) and what to store.
#[derive(Debug)]
pub struct GeneratedKey {
    pub key: DataKey,
    pub wrapped: Vec<u8>,
    pub kek_version: u32,
}

/// Wraps, unwraps and rewraps data keys through a [`KeyProvider`].
#[derive(Clone)]
pub struct Keyring {
    provider: Arc<dyn KeyProvider>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("provider", &self.provider.describe())
            .finish()
    }
}

impl Keyring {
    pub fn new(provider: Arc<dyn KeyProvider>) -> Self {
        Self { provider }
    }

    pub fn provider(&self) -> &dyn KeyProvider {
        self.provider.as_ref()
    }

    /// A fresh random data key, wrapped with the current KEK version.
    pub fn generate_data_key(&self, rng: &dyn SecureRandom) -> Result<GeneratedKey, KeyError> {
        let kek_version = self.provider.current_version()?;
        let key = DataKey::generate(rng);
        let wrapped = self.provider.wrap(kek_version, &key)?;
        Ok(GeneratedKey {
            key,
            wrapped,
            kek_version,
        })
    }

    /// Unwraps a stored data key.
    pub fn load(&self, wrapped: &[u8], kek_version: u32) -> Result<DataKey, KeyError> {
        self.provider.unwrap(kek_version, wrapped)
    }

    /// Re-wraps a stored data key under another KEK version (the data key does not change, so
    /// no sealed value does).
    pub fn rewrap(
        &self,
        wrapped: &[u8],
        from_version: u32,
        to_version: u32,
    ) -> Result<Vec<u8>, KeyError> {
        self.provider.rewrap(from_version, to_version, wrapped)
    }
}

/// One stored data key; see the module documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyRecord {
    pub key_id: u32,
    pub scope: Uuid,
    pub version: u32,
    pub kek_version: u32,
    pub wrapped: Vec<u8>,
}

impl std::fmt::Debug for DataKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyRecord")
            .field("key_id", &self.key_id)
            .field("scope", &self.scope)
            .field("version", &self.version)
            .field("kek_version", &self.kek_version)
            .field("wrapped_len", &self.wrapped.len())
            .finish()
    }
}

/// Identifies an unwrapped data key held by an [`EnvelopeSealer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataKeyId {
    pub key_id: u32,
    pub scope: Uuid,
    pub version: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("data key id {0} appears twice")]
    DuplicateKeyId(u32),
    #[error("scope {scope} has two data keys with version {version}")]
    DuplicateVersion { scope: Uuid, version: u32 },
    #[error("no data key for scope {0}")]
    NoKeyForScope(Uuid),
}

struct Entry {
    scope: Uuid,
    cipher: XChaCha20Poly1305,
}

struct Inner {
    by_id: BTreeMap<u32, Entry>,
    /// scope → (version, key id) of its newest data key.
    current: BTreeMap<Uuid, (u32, u32)>,
    default_scope: Uuid,
    rng: Arc<dyn SecureRandom>,
}

/// Seals with per-scope data keys. As a [`Sealer`] it seals with the default scope's newest
/// key and opens a value under whichever key its header names; [`EnvelopeSealer::for_scope`]
/// gives a sealer confined to one scope. Cheap to clone.
#[derive(Clone)]
pub struct EnvelopeSealer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EnvelopeSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeSealer")
            .field("key_ids", &self.inner.by_id.keys().collect::<Vec<_>>())
            .field("default_scope", &self.inner.default_scope)
            .finish()
    }
}

impl EnvelopeSealer {
    /// Unwraps every record through `keyring`.
    pub fn load(
        keyring: &Keyring,
        records: &[DataKeyRecord],
        default_scope: Uuid,
        rng: Arc<dyn SecureRandom>,
    ) -> Result<Self, EnvelopeError> {
        let mut keys = Vec::with_capacity(records.len());
        for r in records {
            let key = keyring.load(&r.wrapped, r.kek_version)?;
            keys.push((
                DataKeyId {
                    key_id: r.key_id,
                    scope: r.scope,
                    version: r.version,
                },
                key,
            ));
        }
        Self::from_keys(keys, default_scope, rng)
    }

    /// From data keys already unwrapped.
    pub fn from_keys(
        keys: Vec<(DataKeyId, DataKey)>,
        default_scope: Uuid,
        rng: Arc<dyn SecureRandom>,
    ) -> Result<Self, EnvelopeError> {
        let mut by_id = BTreeMap::new();
        let mut seen = BTreeMap::new();
        let mut current: BTreeMap<Uuid, (u32, u32)> = BTreeMap::new();
        for (id, key) in keys {
            if seen.insert((id.scope, id.version), id.key_id).is_some() {
                return Err(EnvelopeError::DuplicateVersion {
                    scope: id.scope,
                    version: id.version,
                });
            }
            if by_id
                .insert(
                    id.key_id,
                    Entry {
                        scope: id.scope,
                        cipher: key.cipher(),
                    },
                )
                .is_some()
            {
                return Err(EnvelopeError::DuplicateKeyId(id.key_id));
            }
            let slot = current.entry(id.scope).or_insert((id.version, id.key_id));
            if id.version > slot.0 {
                *slot = (id.version, id.key_id);
            }
        }
        if !current.contains_key(&default_scope) {
            return Err(EnvelopeError::NoKeyForScope(default_scope));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                by_id,
                current,
                default_scope,
                rng,
            }),
        })
    }

    /// The key id new values of `scope` are sealed with.
    pub fn current_key_id(&self, scope: Uuid) -> Option<u32> {
        self.inner.current.get(&scope).map(|&(_, id)| id)
    }

    /// A sealer that seals with `scope`'s newest key and opens only values sealed under one of
    /// `scope`'s keys (a value of another insurer is refused as an unknown key version).
    pub fn for_scope(&self, scope: Uuid) -> Result<ScopedSealer, EnvelopeError> {
        if !self.inner.current.contains_key(&scope) {
            return Err(EnvelopeError::NoKeyForScope(scope));
        }
        Ok(ScopedSealer {
            sealer: self.clone(),
            scope,
        })
    }

    fn seal_in(
        &self,
        scope: Uuid,
        field: &FieldRef,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let &(_, key_id) = self.inner.current.get(&scope).ok_or(SealError::Seal)?;
        let entry = self
            .inner
            .by_id
            .get(&key_id)
            .ok_or(SealError::UnknownKeyVersion(key_id))?;
        seal_with(
            &entry.cipher,
            key_id,
            field,
            plaintext,
            self.inner.rng.as_ref(),
        )
    }

    fn open_in(
        &self,
        scope: Option<Uuid>,
        field: &FieldRef,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let key_id = sealed_key_version(sealed)?;
        let entry = self
            .inner
            .by_id
            .get(&key_id)
            .ok_or(SealError::UnknownKeyVersion(key_id))?;
        if scope.is_some_and(|s| s != entry.scope) {
            return Err(SealError::UnknownKeyVersion(key_id));
        }
        open_with(&entry.cipher, field, sealed)
    }
}

impl Sealer for EnvelopeSealer {
    fn seal(&self, field: &FieldRef, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        self.seal_in(self.inner.default_scope, field, plaintext)
    }

    fn open(&self, field: &FieldRef, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        self.open_in(None, field, sealed)
    }
}

/// An [`EnvelopeSealer`] confined to one scope.
#[derive(Debug, Clone)]
pub struct ScopedSealer {
    sealer: EnvelopeSealer,
    scope: Uuid,
}

impl ScopedSealer {
    pub fn scope(&self) -> Uuid {
        self.scope
    }
}

impl Sealer for ScopedSealer {
    fn seal(&self, field: &FieldRef, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        self.sealer.seal_in(self.scope, field, plaintext)
    }

    fn open(&self, field: &FieldRef, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        self.sealer.open_in(Some(self.scope), field, sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::FileKeyProvider;
    use crate::random::SeededRandom;
    use crate::sealing::XChaChaSealer;
    use proptest::prelude::*;

    const INSURER_A: Uuid = Uuid::from_u128(0xA);
    const INSURER_B: Uuid = Uuid::from_u128(0xB);

    struct Fixture {
        _dir: tempfile::TempDir,
        keyring: Keyring,
        records: Vec<DataKeyRecord>,
        rng: Arc<dyn SecureRandom>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(11));
        let provider = FileKeyProvider::init(dir.path().join("keys"), rng.clone()).unwrap();
        let keyring = Keyring::new(Arc::new(provider));
        let mut records = Vec::new();
        for (key_id, scope, version) in [
            (1, PLATFORM_SCOPE, 1),
            (2, INSURER_A, 1),
            (3, INSURER_B, 1),
            (4, INSURER_A, 2),
        ] {
            let g = keyring.generate_data_key(rng.as_ref()).unwrap();
            records.push(DataKeyRecord {
                key_id,
                scope,
                version,
                kek_version: g.kek_version,
                wrapped: g.wrapped,
            });
        }
        Fixture {
            _dir: dir,
            keyring,
            records,
            rng,
        }
    }

    #[test]
    fn generated_keys_load_back_and_rewrap_keeps_the_key() {
        let f = fixture();
        let g = f.keyring.generate_data_key(f.rng.as_ref()).unwrap();
        assert_eq!(f.keyring.load(&g.wrapped, g.kek_version).unwrap(), g.key);
        let v2 = f.keyring.provider().create_version().unwrap();
        let re = f.keyring.rewrap(&g.wrapped, g.kek_version, v2).unwrap();
        assert_eq!(f.keyring.load(&re, v2).unwrap(), g.key);
        assert!(f.keyring.load(&re, g.kek_version).is_err());
    }

    #[test]
    fn scopes_seal_with_their_newest_key_and_open_only_their_own() {
        let f = fixture();
        let s =
            EnvelopeSealer::load(&f.keyring, &f.records, PLATFORM_SCOPE, f.rng.clone()).unwrap();
        let field = FieldRef::new("beneficiaries", "nir", Uuid::from_u128(1));
        let a = s.for_scope(INSURER_A).unwrap();
        let b = s.for_scope(INSURER_B).unwrap();
        let sealed_a = a.seal(&field, b"A-secret").unwrap();
        assert_eq!(
            sealed_key_version(&sealed_a).unwrap(),
            4,
            "newest version of A"
        );
        assert_eq!(&*a.open(&field, &sealed_a).unwrap(), b"A-secret");
        assert_eq!(&*s.open(&field, &sealed_a).unwrap(), b"A-secret");
        assert_eq!(
            b.open(&field, &sealed_a),
            Err(SealError::UnknownKeyVersion(4))
        );
        let sealed_p = s.seal(&field, b"iban").unwrap();
        assert_eq!(sealed_key_version(&sealed_p).unwrap(), 1);
        assert!(matches!(
            s.for_scope(Uuid::from_u128(0xC)),
            Err(EnvelopeError::NoKeyForScope(_))
        ));
        assert_eq!(s.current_key_id(INSURER_B), Some(3));
    }

    #[test]
    fn the_store_format_is_the_xchacha_sealers() {
        let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(3));
        let key = DataKey::generate(rng.as_ref());
        let env = EnvelopeSealer::from_keys(
            vec![(
                DataKeyId {
                    key_id: 9,
                    scope: PLATFORM_SCOPE,
                    version: 1,
                },
                key.clone(),
            )],
            PLATFORM_SCOPE,
            rng.clone(),
        )
        .unwrap();
        let x = XChaChaSealer::new(vec![(9, key)], 9, rng).unwrap();
        let field = FieldRef::new("t", "c", Uuid::from_u128(5));
        assert_eq!(
            &*x.open(&field, &env.seal(&field, b"v").unwrap()).unwrap(),
            b"v"
        );
        assert_eq!(
            &*env.open(&field, &x.seal(&field, b"w").unwrap()).unwrap(),
            b"w"
        );
    }

    #[test]
    fn inconsistent_key_sets_are_refused() {
        let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(4));
        let k = || DataKey::generate(rng.as_ref());
        let id = |key_id, scope, version| DataKeyId {
            key_id,
            scope,
            version,
        };
        let dup_id = vec![(id(1, INSURER_A, 1), k()), (id(1, INSURER_B, 1), k())];
        assert!(matches!(
            EnvelopeSealer::from_keys(dup_id, INSURER_A, rng.clone()),
            Err(EnvelopeError::DuplicateKeyId(1))
        ));
        let dup_v = vec![(id(1, INSURER_A, 1), k()), (id(2, INSURER_A, 1), k())];
        assert!(matches!(
            EnvelopeSealer::from_keys(dup_v, INSURER_A, rng.clone()),
            Err(EnvelopeError::DuplicateVersion { .. })
        ));
        let no_default = vec![(id(1, INSURER_A, 1), k())];
        assert!(matches!(
            EnvelopeSealer::from_keys(no_default, PLATFORM_SCOPE, rng.clone()),
            Err(EnvelopeError::NoKeyForScope(_))
        ));
    }

    #[test]
    fn a_shredded_key_leaves_its_values_unreadable() {
        let f = fixture();
        let s =
            EnvelopeSealer::load(&f.keyring, &f.records, PLATFORM_SCOPE, f.rng.clone()).unwrap();
        let field = FieldRef::new("beneficiaries", "last_name", Uuid::from_u128(2));
        let sealed = s
            .for_scope(INSURER_B)
            .unwrap()
            .seal(&field, b"Martin")
            .unwrap();
        let without_b: Vec<_> = f
            .records
            .iter()
            .filter(|r| r.scope != INSURER_B)
            .cloned()
            .collect();
        let s2 =
            EnvelopeSealer::load(&f.keyring, &without_b, PLATFORM_SCOPE, f.rng.clone()).unwrap();
        assert_eq!(
            s2.open(&field, &sealed),
            Err(SealError::UnknownKeyVersion(3))
        );
    }

    #[test]
    fn debug_shows_no_key_material() {
        let f = fixture();
        let s =
            EnvelopeSealer::load(&f.keyring, &f.records, PLATFORM_SCOPE, f.rng.clone()).unwrap();
        let text = format!("{s:?} {:?} {:?}", f.records[0], f.keyring);
        let key = f.keyring.load(&f.records[0].wrapped, 1).unwrap();
        assert!(!text.contains(&format!("{:?}", key.expose())), "{text}");
        assert!(
            !text.contains(&format!("{:?}", f.records[0].wrapped)),
            "{text}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn values_moved_between_rows_or_scopes_never_open(
            row_a in any::<u128>(), row_b in any::<u128>(), msg in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(8));
            let k = |key_id, scope| (DataKeyId { key_id, scope, version: 1 }, DataKey::generate(rng.as_ref()));
            let s = EnvelopeSealer::from_keys(vec![k(1, INSURER_A), k(2, INSURER_B)], INSURER_A, rng.clone()).unwrap();
            let fa = FieldRef::new("beneficiaries", "nir", Uuid::from_u128(row_a));
            let sealed = s.for_scope(INSURER_B).unwrap().seal(&fa, &msg).unwrap();
            prop_assert_eq!(&*s.open(&fa, &sealed).unwrap(), &msg[..]);
            prop_assert!(s.for_scope(INSURER_A).unwrap().open(&fa, &sealed).is_err());
            if row_a != row_b {
                let fb = FieldRef::new("beneficiaries", "nir", Uuid::from_u128(row_b));
                prop_assert_eq!(s.open(&fb, &sealed), Err(SealError::Authentication));
            }
            // Relabelling the key id to the other scope's key fails authentication.
            let mut relabelled = sealed.clone();
            relabelled[4] = 1;
            prop_assert_eq!(s.open(&fa, &relabelled), Err(SealError::Authentication));
        }
    }
}
