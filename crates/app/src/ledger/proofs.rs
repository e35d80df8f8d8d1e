//! Inclusion and consistency proofs from the stored leaf hashes.
//!
//! A proof's subtree ranges are disjoint (`crypto::merkle::inclusion_ranges`,
//! `consistency_ranges`), so one pass over `[0, tree_size)` computes every subtree root of the
//! proof and the root(s) of the tree(s), in O(log n) memory. The pass reads each whole block of
//! 1,024 leaves as its stored tile (`ledger_tiles`, the block's root, derived by
//! [`fill_tiles`]) and only the blocks the proof looks inside — the leaf's, the older tree's
//! last, the ones holding a range smaller than a block — and the leaves after the last tile
//! leaf by leaf: about `tree_size / 1024 + 3 × 1024` hashes read instead of `tree_size`.
//! A wrong tile makes a wrong proof, which fails against the signed checkpoint; `rempart
//! ledger verify` checks every tile.

use super::LedgerError;
use super::store::{LedgerStore, LedgerTileRecord, TILE_HEIGHT, TILE_LEAVES};
use crypto::merkle::{self, Hash, RootBuilder};

/// Leaf hashes read per query.
const PAGE: u64 = 65_536;
/// Tiles read per query.
const TILE_PAGE: u64 = 65_536;

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

/// What one pass accumulates: the builders of the proof's ranges, of the whole tree, and the
/// older root and the leaf asked for.
struct Acc<'a> {
    ranges: &'a [(u64, u64)],
    /// The ranges' positions by start, and the first one not yet passed (positions are
    /// pushed in increasing order).
    order: Vec<usize>,
    cursor: usize,
    builders: Vec<RootBuilder>,
    whole: RootBuilder,
    snapshot: Option<u64>,
    root_at: Option<Hash>,
    leaf: Option<u64>,
    leaf_at: Option<Hash>,
}

impl<'a> Acc<'a> {
    fn new(ranges: &'a [(u64, u64)], snapshot: Option<u64>, leaf: Option<u64>) -> Self {
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_by_key(|&r| ranges[r].0);
        Self {
            ranges,
            order,
            cursor: 0,
            builders: vec![RootBuilder::new(); ranges.len()],
            whole: RootBuilder::new(),
            snapshot,
            root_at: (snapshot == Some(0)).then(merkle::empty_root),
            leaf,
            leaf_at: None,
        }
    }

    /// The range holding position `i` (the ranges are disjoint; `i` never decreases from one
    /// call to the next).
    fn range_at(&mut self, i: u64) -> Option<usize> {
        while self
            .order
            .get(self.cursor)
            .is_some_and(|&r| self.ranges[r].1 <= i)
        {
            self.cursor += 1;
        }
        let r = *self.order.get(self.cursor)?;
        (self.ranges[r].0 <= i).then_some(r)
    }

    fn push_leaf(&mut self, i: u64, h: Hash) {
        self.whole.push(h);
        if self.leaf == Some(i) {
            self.leaf_at = Some(h);
        }
        if let Some(r) = self.range_at(i) {
            self.builders[r].push(h);
        }
        if self.snapshot == Some(i + 1) {
            self.root_at = Some(self.whole.root());
        }
    }

    /// Whether the block of leaves `a..a + TILE_LEAVES` must be read leaf by leaf: the leaf
    /// asked for is in it, the older tree ends inside it, or a range of the proof is smaller
    /// than it (the ranges are aligned perfect subtrees: one that meets the block either
    /// holds it whole or lies inside it).
    fn needs_leaves(&self, a: u64) -> bool {
        let b = a + TILE_LEAVES;
        self.leaf.is_some_and(|l| a <= l && l < b)
            || self.snapshot.is_some_and(|s| a < s && s < b)
            || self
                .ranges
                .iter()
                .any(|&(x, y)| x < b && a < y && y - x < TILE_LEAVES)
    }

    /// The whole block `a..a + TILE_LEAVES` by its tile (when [`Acc::needs_leaves`] is false).
    fn push_tile(&mut self, a: u64, h: Hash) -> Result<(), LedgerError> {
        let misplaced = || LedgerError::Corrupt("a proof tile does not fit the tree".into());
        if !self.whole.push_subtree(TILE_HEIGHT, h) {
            return Err(misplaced());
        }
        if let Some(r) = self.range_at(a)
            && !self.builders[r].push_subtree(TILE_HEIGHT, h)
        {
            return Err(misplaced());
        }
        if self.snapshot == Some(a + TILE_LEAVES) {
            self.root_at = Some(self.whole.root());
        }
        Ok(())
    }
}

/// A stored hash as a `Hash` (`Corrupt` naming `what` when it is not 32 bytes).
pub(super) fn hash32(h: Vec<u8>, what: &str) -> Result<Hash, LedgerError> {
    h.try_into()
        .map_err(|_| LedgerError::Corrupt(format!("a {what} is not 32 bytes")))
}

/// The stored tiles, asked block by block in increasing order and read a page at a time
/// (for proofs, and for `verify`'s check of the tiles).
pub(super) struct TileCursor {
    /// No tile is read at or past this block.
    end: u64,
    buffer: std::collections::VecDeque<LedgerTileRecord>,
    /// Every stored tile below this block has been read.
    fetched: u64,
}

impl TileCursor {
    pub(super) fn new(end: u64) -> Self {
        Self {
            end,
            buffer: Default::default(),
            fetched: 0,
        }
    }

    /// The stored tile of `block`; `None` when it is not stored or `block` is past the end.
    pub(super) async fn tile(
        &mut self,
        store: &dyn LedgerStore,
        block: u64,
    ) -> Result<Option<LedgerTileRecord>, LedgerError> {
        if block >= self.end {
            return Ok(None);
        }
        while self.buffer.front().is_some_and(|t| t.tile < block) {
            self.buffer.pop_front();
        }
        if self.buffer.is_empty() && self.fetched <= block {
            let to = self.end.min(block + TILE_PAGE);
            self.buffer.extend(store.ledger_tiles(block, to).await?);
            self.fetched = to;
        }
        Ok(match self.buffer.front() {
            Some(t) if t.tile == block => self.buffer.pop_front(),
            _ => None,
        })
    }
}

/// The stored leaf hashes of `from..to`, every one of which must exist.
async fn leaf_hashes(
    store: &dyn LedgerStore,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, LedgerError> {
    let page = store.ledger_leaf_hashes(from, to).await?;
    if page.len() as u64 != to - from {
        return Err(LedgerError::Corrupt(format!(
            "ledger entries are missing between {from} and {to}"
        )));
    }
    page.into_iter().map(|h| hash32(h, "leaf hash")).collect()
}

/// Pushes the stored leaf hashes of `from..to` (all of them must exist).
async fn push_leaves(
    store: &dyn LedgerStore,
    acc: &mut Acc<'_>,
    from: u64,
    to: u64,
) -> Result<(), LedgerError> {
    for (i, h) in (from..to).zip(leaf_hashes(store, from, to).await?) {
        acc.push_leaf(i, h);
    }
    Ok(())
}

/// One pass over `[0, size)`: the roots of `ranges` (disjoint), the root of the whole tree,
/// the root at `snapshot` leaves and the leaf at `leaf`. Whole blocks of 1,024 leaves are read
/// as their stored tile where one exists and the block needs no leaf of its own; the rest
/// leaf by leaf.
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
    let mut acc = Acc::new(ranges, snapshot, leaf);
    // Only whole blocks within the tree asked for.
    let tiled = store.ledger_tiles_end().await?.min(size / TILE_LEAVES);
    let mut tiles = TileCursor::new(tiled);
    let mut i = 0u64;
    while i < size {
        let block = i / TILE_LEAVES;
        if block < tiled {
            match tiles.tile(store, block).await? {
                Some(t) if !acc.needs_leaves(i) => acc.push_tile(i, hash32(t.hash, "tile")?)?,
                // No tile stored for this block, or the proof needs its leaves.
                _ => push_leaves(store, &mut acc, i, i + TILE_LEAVES).await?,
            }
            i += TILE_LEAVES;
        } else {
            let to = size.min(i + PAGE);
            push_leaves(store, &mut acc, i, to).await?;
            i = to;
        }
    }
    Ok(Pass {
        roots: acc.builders.iter().map(RootBuilder::root).collect(),
        root: acc.whole.root(),
        root_at: acc.root_at,
        leaf_at: acc.leaf_at,
    })
}

/// Derives and stores the tiles of the whole blocks appended since the last stored tile
/// (reading their leaf hashes once); answers how many were stored. Run by the checkpointer
/// ([`super::Ledger::spawn_checkpointer`]), so that the tiles trail the ledger by at most a
/// period; a proof reads the leaves of any block without a tile.
pub(crate) async fn fill_tiles(store: &dyn LedgerStore) -> Result<u64, LedgerError> {
    let full = store.ledger_size().await? / TILE_LEAVES;
    let mut next = store.ledger_tiles_end().await?;
    let mut stored = 0;
    while next < full {
        let to = full.min(next + PAGE / TILE_LEAVES);
        let leaves = leaf_hashes(store, next * TILE_LEAVES, to * TILE_LEAVES).await?;
        let tiles: Vec<LedgerTileRecord> = (next..to)
            .zip(leaves.chunks(TILE_LEAVES as usize))
            .map(|(tile, block)| LedgerTileRecord {
                tile,
                hash: merkle::root(block).to_vec(),
            })
            .collect();
        store.insert_ledger_tiles(&tiles).await?;
        stored += to - next;
        next = to;
    }
    Ok(stored)
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
