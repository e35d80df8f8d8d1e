//! Cryptography of rempart. No primitive is written by hand: they come from RustCrypto,
//! dalek and cryptoki.
//!
//! - [`sealing`]: field sealing (XChaCha20-Poly1305, AAD binding table, column, row and key
//!   version) behind the [`Sealer`] seam.
//! - [`keys`]: the [`KeyProvider`] port — key-encryption keys by version, in files (dev) or a
//!   PKCS#11 token; the only I/O of this crate.
//! - [`envelope`]: data keys per scope (insurer) wrapped by the provider, and the
//!   [`EnvelopeSealer`] that seals with them.
//! - [`blind_index`]: truncated keyed hashes for exact-match lookups on sealed fields.
//! - [`cards`]: signed card tokens (Ed25519) for the datamatrix, verification codes.
//! - [`random`]: the randomness port.
//! - [`merkle`]: RFC 9162 Merkle trees (roots, inclusion and consistency proofs) of the ledger.
//! - [`checkpoint`]: C2SP signed-note checkpoints of the ledger (Ed25519).
//!
//! The byte layouts are described in each module and summarised in `README.md`.

pub mod blind_index;
pub mod cards;
pub mod checkpoint;
pub mod envelope;
pub mod keys;
pub mod merkle;
pub mod random;
pub mod sealing;

pub use blind_index::BlindIndex;
pub use cards::{
    CardClaims, CardDomain, CardSigningKey, CardVerifyingKeys, CodeHasher, Regime, TokenError,
};
pub use envelope::{DataKeyRecord, EnvelopeSealer, Keyring, ScopedSealer};
pub use keys::{FileKeyProvider, KeyError, KeyProvider, Pkcs11KeyProvider};
pub use random::{OsRandom, SecureRandom, SeededRandom};
pub use sealing::{DataKey, FieldRef, SealError, Sealer, XChaChaSealer, sealed_key_version};
