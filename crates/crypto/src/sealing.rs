//! Field sealing: the one seam through which every identifying column is written and read.
//!
//! Sealed layout (bytes): `0x01` (format) ‖ key version (u32, big endian) ‖ 24-byte nonce ‖
//! ciphertext with its 16-byte Poly1305 tag. The associated data is
//! `"rempart/seal/v1" ‖ table ‖ 0x00 ‖ column ‖ 0x00 ‖ row id (16 bytes) ‖ key version`, so a
//! ciphertext copied to another row, column, table or key version fails to open.

use crate::random::SecureRandom;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

const FORMAT: u8 = 0x01;
const HEADER: usize = 1 + 4 + 24;
const TAG: usize = 16;
const AAD_PREFIX: &[u8] = b"rempart/seal/v1";

/// Where a sealed value lives: its table, column and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef {
    pub table: &'static str,
    pub column: &'static str,
    pub row: Uuid,
}

impl FieldRef {
    pub fn new(table: &'static str, column: &'static str, row: Uuid) -> Self {
        Self { table, column, row }
    }

    fn aad(&self, key_version: u32) -> Vec<u8> {
        let mut aad =
            Vec::with_capacity(AAD_PREFIX.len() + self.table.len() + self.column.len() + 22);
        aad.extend_from_slice(AAD_PREFIX);
        aad.extend_from_slice(self.table.as_bytes());
        aad.push(0);
        aad.extend_from_slice(self.column.as_bytes());
        aad.push(0);
        aad.extend_from_slice(self.row.as_bytes());
        aad.extend_from_slice(&key_version.to_be_bytes());
        aad
    }
}

/// Sealing errors never carry the plaintext or the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("no key for key version {0}")]
    UnknownKeyVersion(u32),
    #[error("sealed value does not open for this field (tampered, moved or wrong key)")]
    Authentication,
    #[error("sealing failed")]
    Seal,
}

/// The seam: everything identifying goes through `seal` before the store and `open` after.
pub trait Sealer: Send + Sync {
    fn seal(&self, field: &FieldRef, plaintext: &[u8]) -> Result<Vec<u8>, SealError>;
    fn open(&self, field: &FieldRef, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError>;

    /// Convenience for text fields.
    fn open_string(&self, field: &FieldRef, sealed: &[u8]) -> Result<Zeroizing<String>, SealError> {
        let bytes = self.open(field, sealed)?;
        let s = std::str::from_utf8(&bytes).map_err(|_| SealError::Malformed)?;
        Ok(Zeroizing::new(s.to_string()))
    }
}

/// A 256-bit data key, zeroized on drop.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let key = Self(Zeroizing::new(bytes));
        bytes.zeroize();
        key
    }

    pub fn generate(rng: &dyn SecureRandom) -> Self {
        let mut b = Zeroizing::new([0u8; 32]);
        rng.fill(b.as_mut());
        Self(b)
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The XChaCha20-Poly1305 cipher keyed with this data key.
    pub(crate) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.expose().into())
    }
}

impl PartialEq for DataKey {
    /// Constant-time comparison (tests and rewrap checks).
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.ct_eq(&*other.0).into()
    }
}

impl Eq for DataKey {}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// XChaCha20-Poly1305 sealer over a set of versioned data keys; new values are sealed with
/// the current version, old versions still open.
pub struct XChaChaSealer {
    ciphers: BTreeMap<u32, XChaCha20Poly1305>,
    current: u32,
    rng: Arc<dyn SecureRandom>,
}

impl XChaChaSealer {
    pub fn new(
        keys: Vec<(u32, DataKey)>,
        current: u32,
        rng: Arc<dyn SecureRandom>,
    ) -> Result<Self, SealError> {
        let mut ciphers = BTreeMap::new();
        for (version, key) in keys {
            let cipher =
                XChaCha20Poly1305::new_from_slice(key.expose()).map_err(|_| SealError::Seal)?;
            ciphers.insert(version, cipher);
        }
        if !ciphers.contains_key(&current) {
            return Err(SealError::UnknownKeyVersion(current));
        }
        Ok(Self {
            ciphers,
            current,
            rng,
        })
    }

    pub fn current_version(&self) -> u32 {
        self.current
    }
}

impl Sealer for XChaChaSealer {
    fn seal(&self, field: &FieldRef, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let cipher = self
            .ciphers
            .get(&self.current)
            .ok_or(SealError::UnknownKeyVersion(self.current))?;
        seal_with(cipher, self.current, field, plaintext, self.rng.as_ref())
    }

    fn open(&self, field: &FieldRef, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let version = sealed_key_version(sealed)?;
        let cipher = self
            .ciphers
            .get(&version)
            .ok_or(SealError::UnknownKeyVersion(version))?;
        open_with(cipher, field, sealed)
    }
}

/// The key version (key id) written in a sealed value's header, without opening it. Lets a
/// re-encryption job find the rows still sealed under an old data key.
pub fn sealed_key_version(sealed: &[u8]) -> Result<u32, SealError> {
    if sealed.len() < HEADER + TAG || sealed[0] != FORMAT {
        return Err(SealError::Malformed);
    }
    Ok(u32::from_be_bytes([
        sealed[1], sealed[2], sealed[3], sealed[4],
    ]))
}

/// Seals `plaintext` with `cipher`, writing `key_version` in the header and the AAD.
pub(crate) fn seal_with(
    cipher: &XChaCha20Poly1305,
    key_version: u32,
    field: &FieldRef,
    plaintext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; 24];
    rng.fill(&mut nonce);
    let aad = field.aad(key_version);
    let ct = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::Seal)?;
    let mut out = Vec::with_capacity(HEADER + ct.len());
    out.push(FORMAT);
    out.extend_from_slice(&key_version.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a sealed value with `cipher`; the key version is read from the header (the caller
/// picked `cipher` from it) and checked through the AAD.
pub(crate) fn open_with(
    cipher: &XChaCha20Poly1305,
    field: &FieldRef,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let version = sealed_key_version(sealed)?;
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&sealed[5..HEADER]);
    let aad = field.aad(version);
    cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &sealed[HEADER..],
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| SealError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    fn sealer(seed: u64) -> XChaChaSealer {
        let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(seed));
        let k1 = DataKey::generate(rng.as_ref());
        let k2 = DataKey::generate(rng.as_ref());
        XChaChaSealer::new(vec![(1, k1), (2, k2)], 2, rng).unwrap()
    }

    /// Every build seals on Poly1305's portable backend (`.cargo/config.toml`): the AVX2 one
    /// is ~4x slower on fields this short (docs/benchmarks.md). A build without the flag (a
    /// `RUSTFLAGS` that replaces it, the file removed) fails here rather than only importing
    /// slower.
    #[test]
    #[allow(clippy::assertions_on_constants)] // the constant is the build's configuration
    fn the_build_seals_on_poly1305s_portable_backend() {
        assert!(
            cfg!(poly1305_backend = "soft"),
            "built without --cfg poly1305_backend=\"soft\" (see .cargo/config.toml)"
        );
    }

    #[test]
    fn round_trip_opens_what_was_sealed() {
        let s = sealer(1);
        let f = FieldRef::new("beneficiaries", "nir", Uuid::from_u128(7));
        let sealed = s.seal(&f, b"255081416802538").unwrap();
        assert_eq!(&*s.open(&f, &sealed).unwrap(), b"255081416802538");
        assert!(!sealed.windows(15).any(|w| w == b"255081416802538"));
    }

    proptest! {
        #[test]
        fn a_ciphertext_moved_to_another_row_column_or_table_fails(
            row_a in any::<u128>(), row_b in any::<u128>(), col in 0usize..3, msg in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            let s = sealer(2);
            let cols = ["nir", "last_name", "birth_date"];
            let f = FieldRef::new("beneficiaries", cols[col], Uuid::from_u128(row_a));
            let sealed = s.seal(&f, &msg).unwrap();
            if row_a != row_b {
                prop_assert_eq!(s.open(&FieldRef::new("beneficiaries", cols[col], Uuid::from_u128(row_b)), &sealed), Err(SealError::Authentication));
            }
            let other_col = cols[(col + 1) % 3];
            prop_assert_eq!(s.open(&FieldRef::new("beneficiaries", other_col, Uuid::from_u128(row_a)), &sealed), Err(SealError::Authentication));
            prop_assert_eq!(s.open(&FieldRef::new("practices", cols[col], Uuid::from_u128(row_a)), &sealed), Err(SealError::Authentication));
            // Relabelling the key version in the header fails too.
            let mut relabelled = sealed.clone();
            relabelled[4] = 1;
            prop_assert_eq!(s.open(&f, &relabelled), Err(SealError::Authentication));
            // Any flipped bit fails.
            let mut flipped = sealed.clone();
            let i = sealed.len() - 1;
            flipped[i] ^= 0x01;
            prop_assert_eq!(s.open(&f, &flipped), Err(SealError::Authentication));
        }
    }
}
