//! Cryptography of rempart: field sealing (XChaCha20-Poly1305 with associated data binding a
//! ciphertext to its table, column, row and key version) and the randomness port. Blind
//! indexes, envelope keys, the `KeyProvider` port, Ed25519 signing and Merkle maths join here
//! with their issues. No primitive is written by hand: they come from RustCrypto crates.

pub mod random;
pub mod sealing;

pub use random::{OsRandom, SecureRandom, SeededRandom};
pub use sealing::{FieldRef, SealError, Sealer, XChaChaSealer};
