//! Merkle tree maths of RFC 9162 §2 (the access ledger's tree), with SHA-256:
//!
//! - leaf hash `H(0x00 ‖ entry)`, interior node `H(0x01 ‖ left ‖ right)`, the root of the empty
//!   tree `H("")`;
//! - the root of `n` leaves (`MTH`), computed by streaming with [`RootBuilder`]: O(log n)
//!   memory, one hash per leaf plus one per interior node;
//! - inclusion (`PATH`) and consistency (`PROOF`) proofs, generated from any source of subtree
//!   roots (the ledger reads stored leaf hashes by range), and their verification
//!   (RFC 9162 §2.1.3.2 and §2.1.4.2).
//!
//! Proof generation is written over ranges: [`inclusion_ranges`] and [`consistency_ranges`]
//! name the leaf ranges `[start, end)` whose subtree roots form the proof, so the caller
//! decides how to compute each root (from leaves in memory, from the store, from a cache).

use sha2::{Digest, Sha256};

/// A SHA-256 hash (leaf, node or root).
pub type Hash = [u8; 32];

/// `H(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// `H(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `H("")`.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Streams leaf hashes in order and answers the root of the leaves seen so far (`MTH`).
///
/// Keeps the roots of the perfect subtrees that decompose `[0, n)` (at most 64): pushing a
/// leaf merges equal-height subtrees like a binary counter; the root folds them right to left,
/// which is exactly RFC 9162's split at the largest power of two below `n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootBuilder {
    /// (height, root) of each perfect subtree, leftmost (tallest) first.
    stack: Vec<(u32, Hash)>,
    size: u64,
}

impl RootBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many leaves were pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.stack.last() {
            if height != node.0 {
                break;
            }
            self.stack.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    /// Appends the root of a perfect subtree of `2^height` leaves that starts where the leaves
    /// pushed so far end; `size` must be a multiple of `2^height` (a compact-range step).
    /// Answers `false` (and changes nothing) otherwise.
    pub fn push_subtree(&mut self, height: u32, root: Hash) -> bool {
        if height >= 63 || !self.size.is_multiple_of(1u64 << height) {
            return false;
        }
        if let Some(&(h, _)) = self.stack.last()
            && h < height
        {
            return false;
        }
        let mut node = (height, root);
        while let Some(&(h, left)) = self.stack.last() {
            if h != node.0 {
                break;
            }
            self.stack.pop();
            node = (h + 1, node_hash(&left, &node.1));
        }
        self.stack.push(node);
        self.size += 1u64 << height;
        true
    }

    /// The root of the leaves pushed so far (`H("")` when none).
    pub fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }

    /// The (height, root) of the perfect subtrees that decompose `[0, size)`, tallest first.
    pub fn subtrees(&self) -> &[(u32, Hash)] {
        &self.stack
    }
}

/// The root of `leaves` (`MTH(D[n])`).
pub fn root(leaves: &[Hash]) -> Hash {
    let mut b = RootBuilder::new();
    for l in leaves {
        b.push(*l);
    }
    b.root()
}

/// Why a proof cannot be made or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {from} is larger than tree size {to}")]
    SizesOutOfOrder { from: u64, to: u64 },
    #[error("the proof does not verify")]
    Invalid,
}

/// The leaf ranges `[start, end)` whose roots form the inclusion proof of leaf `index` in the
/// tree of `size` leaves (RFC 9162 §2.1.3.1 `PATH(m, D[n])`), in proof order (the sibling
/// nearest the leaf first).
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<(u64, u64)>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    // Walk down from the root, collecting siblings, then reverse (PATH lists bottom-up).
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split(n);
        if m < k {
            out.push((start + k, start + n));
            n = k;
        } else {
            out.push((start, start + k));
            start += k;
            m -= k;
            n -= k;
        }
    }
    out.reverse();
    Ok(out)
}

/// The leaf ranges whose roots form the consistency proof from tree size `from` to `to`
/// (RFC 9162 §2.1.4.1 `PROOF(m, D[n])`), in proof order. Empty when `from` is 0 or equals
/// `to`.
pub fn consistency_ranges(from: u64, to: u64) -> Result<Vec<(u64, u64)>, ProofError> {
    if from > to {
        return Err(ProofError::SizesOutOfOrder { from, to });
    }
    if from == 0 || from == to {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start..start+n], b); the recursion depth is at most 64.
    fn sub(start: u64, m: u64, n: u64, b: bool, out: &mut Vec<(u64, u64)>) {
        if m == n {
            if !b {
                out.push((start, start + n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            sub(start, m, k, b, out);
            out.push((start + k, start + n));
        } else {
            sub(start + k, m - k, n - k, false, out);
            out.push((start, start + k));
        }
    }
    let mut out = Vec::new();
    sub(0, from, to, true, &mut out);
    Ok(out)
}

/// An inclusion proof made with `subtree_root` (the root of a leaf range).
pub fn inclusion_proof<E>(
    index: u64,
    size: u64,
    mut subtree_root: impl FnMut(u64, u64) -> Result<Hash, E>,
) -> Result<Result<Vec<Hash>, E>, ProofError> {
    let ranges = inclusion_ranges(index, size)?;
    Ok(ranges
        .into_iter()
        .map(|(s, e)| subtree_root(s, e))
        .collect())
}

/// A consistency proof made with `subtree_root`.
pub fn consistency_proof<E>(
    from: u64,
    to: u64,
    mut subtree_root: impl FnMut(u64, u64) -> Result<Hash, E>,
) -> Result<Result<Vec<Hash>, E>, ProofError> {
    let ranges = consistency_ranges(from, to)?;
    Ok(ranges
        .into_iter()
        .map(|(s, e)| subtree_root(s, e))
        .collect())
}

/// Verifies that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fnn, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::Invalid);
        }
        if fnn & 1 == 1 || fnn == sn {
            r = node_hash(p, &r);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::Invalid)
    }
}

/// Verifies that the tree of `to` leaves with root `to_root` extends the tree of `from` leaves
/// with root `from_root` (RFC 9162 §2.1.4.2). Sizes `0` and `from == to` take an empty proof
/// (and, for equal sizes, equal roots).
pub fn verify_consistency(
    from: u64,
    to: u64,
    from_root: &Hash,
    to_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if from > to {
        return Err(ProofError::SizesOutOfOrder { from, to });
    }
    if from == to {
        return if proof.is_empty() && from_root == to_root {
            Ok(())
        } else {
            Err(ProofError::Invalid)
        };
    }
    if from == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::Invalid)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::Invalid);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*from_root);
    }
    path.extend_from_slice(proof);
    let (mut fnn, mut sn) = (from - 1, to - 1);
    while fnn & 1 == 1 {
        fnn >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::Invalid);
        }
        if fnn & 1 == 1 || fnn == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    if fr == *from_root && sr == *to_root && sn == 0 {
        Ok(())
    } else {
        Err(ProofError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    //! Cross-checks against a straightforward recursive transcription of RFC 9162 §2.1
    //! (MTH, PATH, SUBPROOF/PROOF), written independently of the streaming code above.
    use super::*;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    mod rfc {
        use sha2::{Digest, Sha256};

        pub fn h(parts: &[&[u8]]) -> [u8; 32] {
            let mut s = Sha256::new();
            for p in parts {
                s.update(p);
            }
            s.finalize().into()
        }

        /// k: the largest power of two smaller than n.
        fn k_of(n: usize) -> usize {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            k
        }

        /// MTH(D[n]) over the entries themselves.
        pub fn mth(d: &[Vec<u8>]) -> [u8; 32] {
            match d.len() {
                0 => h(&[]),
                1 => h(&[&[0u8], &d[0]]),
                n => {
                    let k = k_of(n);
                    h(&[&[1u8], &mth(&d[..k]), &mth(&d[k..])])
                }
            }
        }

        /// PATH(m, D[n]).
        pub fn path(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
            let n = d.len();
            if n == 1 {
                return vec![];
            }
            let k = k_of(n);
            if m < k {
                let mut p = path(m, &d[..k]);
                p.push(mth(&d[k..]));
                p
            } else {
                let mut p = path(m - k, &d[k..]);
                p.push(mth(&d[..k]));
                p
            }
        }

        fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<[u8; 32]> {
            let n = d.len();
            if m == n {
                return if b { vec![] } else { vec![mth(d)] };
            }
            let k = k_of(n);
            if m <= k {
                let mut p = subproof(m, &d[..k], b);
                p.push(mth(&d[k..]));
                p
            } else {
                let mut p = subproof(m - k, &d[k..], false);
                p.push(mth(&d[..k]));
                p
            }
        }

        /// PROOF(m, D[n]) for 0 < m < n.
        pub fn proof(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
            subproof(m, d, true)
        }
    }

    fn entries(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
    }

    fn leaves(d: &[Vec<u8>]) -> Vec<Hash> {
        d.iter().map(|e| leaf_hash(e)).collect()
    }

    fn from_leaves(l: &[Hash]) -> impl FnMut(u64, u64) -> Result<Hash, ()> + '_ {
        |s, e| Ok(root(&l[s as usize..e as usize]))
    }

    #[test]
    fn hashes_follow_the_rfc_prefixes() {
        assert_eq!(leaf_hash(b"x"), rfc::h(&[&[0], b"x"]));
        assert_eq!(
            node_hash(&[1; 32], &[2; 32]),
            rfc::h(&[&[1], &[1; 32], &[2; 32]])
        );
        assert_eq!(empty_root(), <[u8; 32]>::from(Sha256::digest(b"")));
        // The well-known root of the empty tree.
        assert_eq!(empty_root()[..4], [0xe3, 0xb0, 0xc4, 0x42],);
    }

    #[test]
    fn roots_proofs_and_verification_agree_with_the_rfc_for_every_size_up_to_70() {
        for n in 0..=70usize {
            let d = entries(n);
            let l = leaves(&d);
            let r = root(&l);
            assert_eq!(r, rfc::mth(&d), "root of {n}");
            for m in 0..n {
                let proof = inclusion_proof(m as u64, n as u64, from_leaves(&l))
                    .unwrap()
                    .unwrap();
                assert_eq!(proof, rfc::path(m, &d), "PATH({m}, {n})");
                verify_inclusion(&l[m], m as u64, n as u64, &proof, &r).unwrap();
                // A proof of another leaf, or at another index, fails.
                if n > 1 {
                    let other = (m + 1) % n;
                    assert!(verify_inclusion(&l[other], m as u64, n as u64, &proof, &r).is_err());
                    assert!(verify_inclusion(&l[m], other as u64, n as u64, &proof, &r).is_err());
                }
            }
            for m in 1..n {
                let proof = consistency_proof(m as u64, n as u64, from_leaves(&l))
                    .unwrap()
                    .unwrap();
                assert_eq!(proof, rfc::proof(m, &d), "PROOF({m}, {n})");
                let old = rfc::mth(&d[..m]);
                verify_consistency(m as u64, n as u64, &old, &r, &proof).unwrap();
                assert!(verify_consistency(m as u64, n as u64, &r, &r, &proof).is_err());
            }
            verify_consistency(n as u64, n as u64, &r, &r, &[]).unwrap();
            verify_consistency(0, n as u64, &empty_root(), &r, &[]).unwrap();
        }
    }

    #[test]
    fn out_of_range_requests_are_refused() {
        assert!(inclusion_ranges(3, 3).is_err());
        assert!(consistency_ranges(4, 3).is_err());
        assert!(verify_inclusion(&[0; 32], 0, 0, &[], &empty_root()).is_err());
    }

    #[test]
    fn push_subtree_matches_pushing_the_leaves() {
        let l = leaves(&entries(45));
        let mut b = RootBuilder::new();
        assert!(!b.push_subtree(63, [0; 32]));
        assert!(b.push_subtree(5, root(&l[..32])));
        // A subtree taller than the last one, or not aligned, is refused.
        assert!(!b.push_subtree(6, [0; 32]));
        b.push(l[32]);
        assert!(!b.push_subtree(3, [0; 32]));
        assert_eq!(b.size(), 33);
        let mut b = RootBuilder::new();
        assert!(b.push_subtree(5, root(&l[..32])));
        assert!(b.push_subtree(3, root(&l[32..40])));
        for x in &l[40..45] {
            b.push(*x);
        }
        assert_eq!(b.root(), root(&l));
        assert_eq!(b.size(), 45);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn tampered_proofs_fail(n in 2usize..70, m_seed in any::<usize>(), byte in 0usize..32, which in any::<usize>()) {
            let d = entries(n);
            let l = leaves(&d);
            let r = root(&l);
            let m = m_seed % n;
            let mut proof = inclusion_proof(m as u64, n as u64, from_leaves(&l)).unwrap().unwrap();
            prop_assert!(verify_inclusion(&l[m], m as u64, n as u64, &proof, &r).is_ok());
            if !proof.is_empty() {
                let i = which % proof.len();
                proof[i][byte] ^= 1;
                prop_assert!(verify_inclusion(&l[m], m as u64, n as u64, &proof, &r).is_err());
                proof[i][byte] ^= 1;
                // Dropping or adding an element fails too.
                let mut shorter = proof.clone();
                shorter.pop();
                prop_assert!(verify_inclusion(&l[m], m as u64, n as u64, &shorter, &r).is_err());
                let mut longer = proof.clone();
                longer.push(r);
                prop_assert!(verify_inclusion(&l[m], m as u64, n as u64, &longer, &r).is_err());
            }
            let from = 1 + m_seed % (n - 1);
            let old = root(&l[..from]);
            let mut cp = consistency_proof(from as u64, n as u64, from_leaves(&l)).unwrap().unwrap();
            prop_assert!(verify_consistency(from as u64, n as u64, &old, &r, &cp).is_ok());
            let i = which % cp.len();
            cp[i][byte] ^= 1;
            prop_assert!(verify_consistency(from as u64, n as u64, &old, &r, &cp).is_err());
            cp[i][byte] ^= 1;
            // The tree changed after `from`: the old root no longer matches.
            let mut changed = l.clone();
            changed[from - 1][0] ^= 1;
            let bad_old = root(&changed[..from]);
            prop_assert!(verify_consistency(from as u64, n as u64, &bad_old, &r, &cp).is_err());
        }

        #[test]
        fn streaming_root_equals_the_recursive_root(n in 0usize..300) {
            let d = entries(n);
            prop_assert_eq!(root(&leaves(&d)), rfc::mth(&d));
        }
    }
}
