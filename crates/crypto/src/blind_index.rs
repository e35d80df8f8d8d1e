//! Blind indexes: a short keyed hash of a normalised value, stored beside its sealed
//! ciphertext so that an exact-match lookup finds a small bucket of candidate rows, which
//! are then unsealed and compared. The CipherSweet design (security.md §3), truncated on
//! purpose so that values collide.
//!
//! Value: `HMAC-SHA-256(index key, "rempart/blind-index/v1\0" ‖ purpose ‖ 0x00 ‖ normalised
//! value)`, first 4 bytes read big endian, shifted right to keep the top `bits` bits (1–32);
//! stored as an integer column. `purpose` separates fields (`"nir"`, …), so one index key
//! serves several fields without their indexes being comparable. The NIR is normalised by
//! [`domain::ids::Nir::parse`] (15 characters, no spaces, `2A`/`2B` upper case).
//!
//! **Why truncate.** The NIR space is about 10¹²: an untruncated index plus a leaked index key
//! gives every NIR by brute force. Truncated to `b` bits, `N` stored NIRs fall into `2^b`
//! buckets, about Poisson with mean `λ = N / 2^b`:
//!
//! | bits | λ at 35 M | buckets with exactly one real NIR (`2^b·λ·e^-λ`) |
//! |---|---|---|
//! | 20 (default) | 33.4 | ≈ 0 (10⁻⁷) |
//! | 21 | 16.7 | ≈ 2 |
//! | 22 | 8.3 | ≈ 8 300 (0.024 % of NIRs) |
//! | 24 | 2.1 | ≈ 4.3 M |
//!
//! At the default 20 bits a lookup unseals about 33 rows at national scale (a few per insurer,
//! since the lookup is per insurer), and a dump plus the index key narrows a row's NIR only to
//! its bucket, shared with ~33 real NIRs: no row is alone in its bucket. At 22 bits, by
//! contrast, about 8 300 rows would be alone in theirs. Alone does not mean pinned: the attacker still has to search the valid-NIR
//! space (≈ 2.4·10¹¹ numbers / 2²² buckets ≈ 57 000 candidates per bucket) unless side
//! knowledge (sex, birth month and year, department: ~10⁶ remaining numbers, ≈ 0.24 per
//! bucket) narrows it, in which case any index of more than ~20 bits identifies the row.
//! Target T3.3 ("≥ 2 real candidates per bucket") holds at 35 M only for `bits ≤ 20`, hence
//! [`BlindIndex::DEFAULT_BITS`] = 20;
//! [`BlindIndex::recommended_bits`] computes the largest size with fewer than one expected
//! single-occupant bucket for a population.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

const DOMAIN: &[u8] = b"rempart/blind-index/v1\0";

/// Truncated keyed hash for exact-match lookups. `Debug` hides the key.
#[derive(Clone)]
pub struct BlindIndex {
    key: Zeroizing<[u8; 32]>,
    bits: u8,
}

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlindIndex")
            .field("key", &"<redacted>")
            .field("bits", &self.bits)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlindIndexError {
    #[error("blind index size must be 1 to 32 bits, got {0}")]
    Bits(u8),
}

impl BlindIndex {
    /// The default size: ~33 real NIRs per bucket at 35 M, so that no bucket holds a single
    /// real NIR (`recommended_bits(35_000_000)`; security.md T3.3 needs ≥ 2 per bucket).
    pub const DEFAULT_BITS: u8 = 20;

    pub fn new(key: [u8; 32], bits: u8) -> Result<Self, BlindIndexError> {
        let key = Zeroizing::new(key);
        if !(1..=32).contains(&bits) {
            return Err(BlindIndexError::Bits(bits));
        }
        Ok(Self { key, bits })
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The index of an already-normalised value for `purpose` (a constant such as `"nir"`;
    /// it must not contain NUL, which terminates it in the hashed message).
    pub fn compute(&self, purpose: &str, normalised: &[u8]) -> u32 {
        debug_assert!(!purpose.contains('\0'), "blind index purpose contains NUL");
        let Ok(mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_ref()) else {
            // HMAC accepts keys of any length; this branch cannot be taken.
            return 0;
        };
        let tag = mac
            .chain_update(DOMAIN)
            .chain_update(purpose.as_bytes())
            .chain_update([0u8])
            .chain_update(normalised)
            .finalize()
            .into_bytes();
        let top = u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]]);
        if self.bits == 32 {
            top
        } else {
            top >> (32 - u32::from(self.bits))
        }
    }

    /// The index of a NIR (purpose `"nir"`, the parsed 15-character form).
    pub fn nir(&self, nir: &domain::ids::Nir) -> u32 {
        self.compute("nir", nir.as_str().as_bytes())
    }

    /// Mean number of stored values per bucket.
    pub fn expected_per_bucket(population: u64, bits: u8) -> f64 {
        population as f64 / 2f64.powi(i32::from(bits))
    }

    /// Expected number of buckets holding exactly one of `population` values (Poisson).
    pub fn expected_single_buckets(population: u64, bits: u8) -> f64 {
        let lambda = Self::expected_per_bucket(population, bits);
        2f64.powi(i32::from(bits)) * lambda * (-lambda).exp()
    }

    /// The largest size (1–32 bits) with fewer than one expected single-occupant bucket.
    pub fn recommended_bits(population: u64) -> u8 {
        (1..=32u8)
            .rev()
            .find(|&b| Self::expected_single_buckets(population, b) < 1.0)
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{SecureRandom, SeededRandom};
    use proptest::prelude::*;

    /// A NIR-like 15-digit string with a valid key.
    fn nir_like(rng: &dyn SecureRandom) -> String {
        let r = rng.next_u64();
        let body = format!(
            "{}{:02}{:02}{:02}{:03}{:03}",
            1 + r % 2,
            (r >> 1) % 100,
            1 + (r >> 8) % 12,
            1 + (r >> 12) % 95,
            (r >> 20) % 1000,
            (r >> 32) % 1000
        );
        let n: u64 = body.parse().unwrap();
        format!("{body}{:02}", 97 - n % 97)
    }

    #[test]
    fn known_answer_is_stable_and_matches_plain_hmac() {
        let idx = BlindIndex::new([7u8; 32], 22).unwrap();
        let v = idx.compute("nir", b"255081416802538");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7u8; 32]).unwrap();
        mac.update(b"rempart/blind-index/v1\x00nir\x00255081416802538");
        let t = mac.finalize().into_bytes();
        assert_eq!(v, u32::from_be_bytes([t[0], t[1], t[2], t[3]]) >> 10);
        // Pinned so a dependency upgrade cannot silently change stored indexes.
        assert_eq!(v, KNOWN_22);
        let full = BlindIndex::new([7u8; 32], 32)
            .unwrap()
            .compute("nir", b"255081416802538");
        assert_eq!(full >> 10, v);
    }

    const KNOWN_22: u32 = 2_489_863;

    #[test]
    fn nir_helper_uses_the_normalised_form() {
        let idx = BlindIndex::new([1u8; 32], 22).unwrap();
        let spaced = domain::ids::Nir::parse("2 55 08 14 168 025 38").unwrap();
        assert_eq!(idx.nir(&spaced), idx.compute("nir", b"255081416802538"));
    }

    #[test]
    fn sizes_outside_1_to_32_are_refused_and_debug_hides_the_key() {
        assert_eq!(
            BlindIndex::new([0; 32], 0).unwrap_err(),
            BlindIndexError::Bits(0)
        );
        assert_eq!(
            BlindIndex::new([0; 32], 33).unwrap_err(),
            BlindIndexError::Bits(33)
        );
        let text = format!("{:?}", BlindIndex::new([0xAB; 32], 22).unwrap());
        assert!(
            !text.contains("171") && !text.to_lowercase().contains("ab, "),
            "{text}"
        );
    }

    #[test]
    fn planning_maths() {
        let n = 35_000_000;
        assert!((BlindIndex::expected_per_bucket(n, 22) - 8.34).abs() < 0.01);
        assert!(BlindIndex::expected_single_buckets(n, 22) > 8_000.0);
        assert!(BlindIndex::expected_single_buckets(n, 20) < 1e-3);
        assert_eq!(BlindIndex::recommended_bits(n), 20);
        assert_eq!(BlindIndex::DEFAULT_BITS, BlindIndex::recommended_bits(n));
        assert_eq!(BlindIndex::recommended_bits(50_000), 12);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3))]
        #[test]
        fn two_hundred_thousand_nirs_fill_every_small_bucket_evenly(seed in any::<u64>(), key in any::<[u8; 32]>()) {
            let rng = SeededRandom::new(seed);
            let values: Vec<String> = (0..200_000).map(|_| nir_like(&rng)).collect();
            for bits in [8u8, 10, 12] {
                let idx = BlindIndex::new(key, bits).unwrap();
                let mut counts = vec![0u32; 1 << bits];
                for v in &values {
                    let i = idx.compute("nir", v.as_bytes());
                    prop_assert!(i < (1 << bits));
                    counts[i as usize] += 1;
                }
                let mean = 200_000.0 / f64::from(1u32 << bits);
                let min = f64::from(*counts.iter().min().unwrap());
                let max = f64::from(*counts.iter().max().unwrap());
                // Poisson tails: at 12 bits (mean 48.8) P(X < mean/3) per bucket is ~1e-8.
                prop_assert!(min > mean / 3.0, "bits {} min {} mean {}", bits, min, mean);
                prop_assert!(max < mean * 2.5, "bits {} max {} mean {}", bits, max, mean);
                // Chi-square stays near its degrees of freedom (k - 1), far from a skew.
                let chi: f64 = counts.iter().map(|&c| (f64::from(c) - mean).powi(2) / mean).sum();
                let k = f64::from(1u32 << bits);
                prop_assert!(chi < k * 1.3, "bits {} chi2 {} k {}", bits, chi, k);
            }
        }

        #[test]
        fn stable_and_separated_by_purpose_and_key(value in "[0-9]{15}", key in any::<[u8; 32]>(), bits in 1u8..=32) {
            let a = BlindIndex::new(key, bits).unwrap();
            let b = BlindIndex::new(key, bits).unwrap();
            prop_assert_eq!(a.compute("nir", value.as_bytes()), b.compute("nir", value.as_bytes()));
            prop_assert!(bits == 32 || a.compute("nir", value.as_bytes()) < (1u32 << bits));
            // Full-width indexes of different purposes or keys differ (2^-32 chance otherwise).
            let full = BlindIndex::new(key, 32).unwrap();
            let mut other_key = key;
            other_key[0] ^= 1;
            let other = BlindIndex::new(other_key, 32).unwrap();
            prop_assert_ne!(full.compute("nir", value.as_bytes()), full.compute("member", value.as_bytes()));
            prop_assert_ne!(full.compute("nir", value.as_bytes()), other.compute("nir", value.as_bytes()));
        }
    }
}
