//! The randomness port. Production uses the operating system's generator; tests use a
//! seeded ChaCha generator so every run is reproducible (invariant 7).

use rand::{RngCore, SeedableRng};
use std::sync::Mutex;

/// A source of cryptographically strong random bytes.
pub trait SecureRandom: Send + Sync {
    fn fill(&self, buf: &mut [u8]);

    fn next_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// 16 random bytes, e.g. for UUIDv7's random part.
    fn bytes16(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        b
    }
}

/// The thread-local CSPRNG of `rand` (ChaCha12, seeded and reseeded from the operating system).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::rng().fill_bytes(buf);
    }
}

/// A deterministic generator for tests and synthetic data (ChaCha20 from a 64-bit seed).
#[derive(Debug)]
pub struct SeededRandom(Mutex<rand::rngs::StdRng>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)))
    }
}

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.fill_bytes(buf);
    }
}
