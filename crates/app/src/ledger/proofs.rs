//! Inclusion and consistency proofs from the stored leaf hashes.
//!
//! A proof's subtree ranges are disjoint (`crypto::merkle::inclusion_ranges`,
//! `consistency_ranges`), so one pass over the leaf hashes of `[0, tree_size)` computes every
//! subtree root of the proof and the root(s) of the tree(s): O(tree_size) reading, O(log n)
//! memory.

use super::LedgerError;
use super::store::LedgerStore;
use crypto::merkle::{self, Hash, RootBuilder};

/// Leaf hashes read per query.
const PAGE: u64 = 65_536;

/// Leaf `index` is in the tree of `tree_size` leaves whose root is `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub root: Hash,
    /// RFC 9162 `PATH(index, D[tree_size])`.
    pub path: Vec<Hash>,
}

/// The tree of `to` leaves extends the tree of `from` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub from_root: Hash,
    pub to_root: Hash,
    /// RFC 9162 `PROOF(from, D[to])`.
    pub path: Vec<Hash>,
}

struct Pass {
    roots: Vec<Hash>,
    root: Hash,
    root_at: Option<Hash>,
    leaf_at: Option<Hash>,
}

/// One pass over `[0, size)`: the roots of `ranges` (disjoint), the root of the whole tree,
/// the root at `snapshot` leaves and the leaf at `leaf`.
async fn pass(
    store: &dyn LedgerStore,
    size: u64,
    ranges: &[(u64, u64)],
    snapshot: Option<u64>,
    leaf: Option<u64>,
) -> Result<Pass, LedgerError> {
    let stored = store.ledger_size().await?;
    if size > stored {
        return Err(LedgerError::Invalid(
            "the tree size is larger than the ledger",
        ));
    }
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i].0);
    let mut builders = vec![RootBuilder::new(); ranges.len()];
    let mut cursor = 0usize;
    let mut whole = RootBuilder::new();
    let mut root_at = if snapshot == Some(0) {
        Some(merkle::empty_root())
    } else {
        None
    };
    let mut leaf_at = None;
    let mut i = 0u64;
    while i < size {
        let to = size.min(i + PAGE);
        let page = store.ledger_leaf_hashes(i, to).await?;
        if page.len() as u64 != to - i {
            return Err(LedgerError::Corrupt(format!(
                "ledger entries are missing between {i} and {to}"
            )));
        }
        for h in page {
            let h: Hash = h
                .try_into()
                .map_err(|_| LedgerError::Corrupt("a leaf hash is not 32 bytes".into()))?;
            whole.push(h);
            if leaf == Some(i) {
                leaf_at = Some(h);
            }
            while cursor < order.len() && ranges[order[cursor]].1 <= i {
                cursor += 1;
            }
            if let Some(&r) = order.get(cursor)
                && ranges[r].0 <= i
                && i < ranges[r].1
            {
                builders[r].push(h);
            }
            i += 1;
            if snapshot == Some(i) {
                root_at = Some(whole.root());
            }
        }
    }
    Ok(Pass {
        roots: builders.iter().map(RootBuilder::root).collect(),
        root: whole.root(),
        root_at,
        leaf_at,
    })
}

pub(crate) async fn inclusion(
    store: &dyn LedgerStore,
    index: u64,
    tree_size: u64,
) -> Result<InclusionProof, LedgerError> {
    let ranges = merkle::inclusion_ranges(index, tree_size)?;
    let p = pass(store, tree_size, &ranges, None, Some(index)).await?;
    let leaf_hash = p
        .leaf_at
        .ok_or_else(|| LedgerError::Corrupt("the leaf was not read".into()))?;
    Ok(InclusionProof {
        index,
        tree_size,
        leaf_hash,
        root: p.root,
        path: p.roots,
    })
}

pub(crate) async fn consistency(
    store: &dyn LedgerStore,
    from: u64,
    to: u64,
) -> Result<ConsistencyProof, LedgerError> {
    let ranges = merkle::consistency_ranges(from, to)?;
    let p = pass(store, to, &ranges, Some(from), None).await?;
    let from_root = p
        .root_at
        .ok_or_else(|| LedgerError::Corrupt("the older tree was not read".into()))?;
    Ok(ConsistencyProof {
        from,
        to,
        from_root,
        to_root: p.root,
        path: p.roots,
    })
}
