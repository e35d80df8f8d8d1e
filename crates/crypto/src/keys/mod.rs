//! The `KeyProvider` port: key-encryption keys (KEKs) by version, used only to wrap and
//! unwrap 32-byte data keys. A KEK never leaves its provider: callers hand in a [`DataKey`]
//! and get opaque wrapped bytes back, or the reverse.
//!
//! Two implementations:
//!
//! - [`FileKeyProvider`]: KEKs as 32-byte files in a private directory (development, demo).
//!   Wrapped layout, 73 bytes: `0x01` ‖ 24-byte nonce ‖ XChaCha20-Poly1305(DEK) (32 bytes) ‖
//!   16-byte tag; AAD = `"rempart/kek-wrap/v1\0data-key\0"` ‖ KEK version (u32 BE).
//! - [`Pkcs11KeyProvider`]: non-extractable AES-256 KEKs in a PKCS#11 token labelled
//!   `rempart/kek/v<N>`; wrapped layout, 40 bytes: RFC 3394 AES key wrap (`CKM_AES_KEY_WRAP`)
//!   computed inside the token.
//!
//! The KEK version is not inside the wrapped bytes: the caller stores it next to them and
//! passes it back. With the file provider a wrong version fails authentication (it is bound
//! in the AAD); with AES key wrap it fails the RFC 3394 integrity check.

mod file;
mod pkcs11;

pub use file::FileKeyProvider;
pub use pkcs11::{KekProtection, Pkcs11KeyProvider};

use crate::sealing::DataKey;
use std::path::PathBuf;

/// Errors of key providers. None of them carries key material or a PIN.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no key-encryption key version {0}")]
    UnknownVersion(u32),
    #[error("the key provider holds no key-encryption key yet")]
    NoVersion,
    #[error("wrapped key is malformed (expected {expected} bytes, got {actual})")]
    Malformed { expected: usize, actual: usize },
    #[error(
        "wrapped key does not unwrap under key-encryption key version {0} (tampered or wrong version)"
    )]
    Unwrap(u32),
    #[error("{path}: {problem}")]
    InsecurePermissions { path: PathBuf, problem: String },
    #[error("{path}: already holds key-encryption keys; refusing to overwrite")]
    AlreadyInitialised { path: PathBuf },
    #[error("{path}: {problem}")]
    BadKeyFile { path: PathBuf, problem: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("PKCS#11 token with label {0:?} not found")]
    TokenNotFound(String),
    #[error("PKCS#11 token holds {count} objects labelled {label:?}; expected exactly one")]
    DuplicateLabel { label: String, count: usize },
    #[error("key-encryption key version {0} is the current version and cannot be destroyed")]
    CurrentVersion(u32),
    #[error("PKCS#11 {operation} failed: {detail}")]
    Pkcs11 {
        operation: &'static str,
        detail: String,
    },
}

impl KeyError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Holds KEKs by version and wraps/unwraps data keys with them. Object-safe; implementations
/// are `Send + Sync` and serialise what they must internally.
pub trait KeyProvider: Send + Sync {
    /// The newest KEK version: new data keys are wrapped with it.
    fn current_version(&self) -> Result<u32, KeyError>;

    /// Every KEK version this provider can unwrap with, ascending.
    fn versions(&self) -> Result<Vec<u32>, KeyError>;

    /// Wraps `dek` with KEK `kek_version`.
    fn wrap(&self, kek_version: u32, dek: &DataKey) -> Result<Vec<u8>, KeyError>;

    /// Unwraps bytes produced by [`KeyProvider::wrap`] with the same KEK version.
    fn unwrap(&self, kek_version: u32, wrapped: &[u8]) -> Result<DataKey, KeyError>;

    /// Re-wraps a data key from one KEK version to another. The default unwraps then wraps in
    /// memory; the PKCS#11 provider does it inside the token, so the data key never reaches
    /// the process.
    fn rewrap(
        &self,
        from_version: u32,
        to_version: u32,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let dek = self.unwrap(from_version, wrapped)?;
        self.wrap(to_version, &dek)
    }

    /// Rotation: creates KEK version `current + 1` (1 when empty) and returns it. Older
    /// versions keep unwrapping.
    fn create_version(&self) -> Result<u32, KeyError>;

    /// Retirement: destroys KEK `version` (the file is deleted, the token object destroyed).
    /// Whatever it wrapped no longer unwraps. Refused for the current version (the caller
    /// must rotate first and check that no stored data key is still under `version`).
    fn destroy_version(&self, version: u32) -> Result<(), KeyError>;

    /// A human description (kind, location, versions). Never contains a secret.
    fn describe(&self) -> String;
}

#[cfg(test)]
pub(crate) mod contract {
    //! Behaviour every provider must show; run by each implementation's tests.
    use super::*;
    use crate::random::SeededRandom;

    pub fn round_trip_rotation_and_tamper(p: &dyn KeyProvider) {
        let rng = SeededRandom::new(99);
        let v1 = p.current_version().unwrap();
        let dek = DataKey::generate(&rng);
        let w1 = p.wrap(v1, &dek).unwrap();
        assert_eq!(p.unwrap(v1, &w1).unwrap(), dek);
        assert!(
            !w1.windows(32).any(|w| w == dek.expose()),
            "wrapped bytes contain the key"
        );

        let v2 = p.create_version().unwrap();
        assert_eq!(v2, v1 + 1);
        assert_eq!(p.current_version().unwrap(), v2);
        assert_eq!(p.unwrap(v1, &w1).unwrap(), dek, "old version still unwraps");
        let w2 = p.rewrap(v1, v2, &w1).unwrap();
        assert_eq!(p.unwrap(v2, &w2).unwrap(), dek);
        assert!(p.versions().unwrap().ends_with(&[v1, v2]));

        // Wrong version, flipped bits, truncation: all refused without panicking.
        assert!(p.unwrap(v2, &w1).is_err());
        for i in 0..w1.len() {
            let mut t = w1.clone();
            t[i] ^= 0x40;
            assert!(p.unwrap(v1, &t).is_err(), "flipped byte {i} accepted");
        }
        assert!(p.unwrap(v1, &w1[..w1.len() - 1]).is_err());
        assert!(p.unwrap(v1, &[]).is_err());
        assert!(matches!(
            p.unwrap(v2 + 7, &w1),
            Err(KeyError::UnknownVersion(_))
        ));
        assert!(p.wrap(v2 + 7, &dek).is_err());
        let d = p.describe();
        assert!(!d.is_empty());
    }
}
