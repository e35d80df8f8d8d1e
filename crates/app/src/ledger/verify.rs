//! `rempart ledger verify`: recomputes the tree from the stored entries and checks it against
//! every stored checkpoint and, optionally, a witness's checkpoint.
//!
//! For each stored entry, by index: the index must be the next one (a gap means an entry was
//! removed, or moved); the entry is re-encoded and re-hashed, and the hash must equal the
//! stored leaf hash (so an edited field, or two swapped rows, is caught at its index). The
//! recomputed leaf hashes build the tree; at every checkpoint's size the recomputed root must
//! equal the signed root, and the signature must verify with a ledger key. A checkpoint whose
//! size is beyond the entries means entries were removed from the end.
//!
//! The proof tiles (`ledger_tiles`, the roots of whole blocks of 1,024 entries that proofs
//! read) are checked too: a tile that is not its block's root is named (`TileChanged`).
//!
//! What it cannot name precisely: an attacker who edits an entry AND rewrites its stored leaf
//! hash is caught by the first checkpoint after the entry, and the report names the range
//! between the last matching checkpoint and that one (`first_bad_index` is the start of the
//! range).

use super::LedgerError;
use super::encoding::entry_leaf_hash;
use super::proofs::TileCursor;
use super::store::{LedgerCheckpointRecord, LedgerStore, TILE_LEAVES};
use crypto::checkpoint::{Checkpoint, NoteVerifier, open_checkpoint};
use crypto::merkle::{Hash, RootBuilder};
use std::sync::Arc;

/// Entries read per query.
const PAGE: u32 = 20_000;

/// What verification found wrong (the first problem, in index order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry at `index` does not hash to its stored leaf hash: a field was edited, or
    /// rows were swapped.
    EntryChanged { index: u64 },
    /// No entry at `index` while later ones exist: removed (or moved).
    EntryMissing { index: u64 },
    /// A checkpoint covers `tree_size` entries but only `index` exist: entries from `index`
    /// on were removed.
    EntriesRemoved { index: u64, tree_size: u64 },
    /// The recomputed root at `tree_size` differs from the checkpoint's: an entry in
    /// `first_index..tree_size` was changed together with its stored leaf hash.
    RootMismatch { tree_size: u64, first_index: u64 },
    /// A stored checkpoint's signature does not verify with any ledger key.
    BadSignature { tree_size: u64 },
    /// The witness checkpoint does not verify or is not for this ledger.
    BadWitness(String),
    /// The stored proof tile `tile` is not the root of its 1,024 entries (which are intact):
    /// proofs over that block would not verify.
    TileChanged { tile: u64 },
}

impl Problem {
    /// The first entry index the problem names.
    pub fn first_bad_index(&self) -> Option<u64> {
        match self {
            Problem::EntryChanged { index }
            | Problem::EntryMissing { index }
            | Problem::EntriesRemoved { index, .. } => Some(*index),
            Problem::RootMismatch { first_index, .. } => Some(*first_index),
            Problem::BadSignature { .. } | Problem::BadWitness(_) | Problem::TileChanged { .. } => {
                None
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Problem::EntryChanged { index } => format!(
                "entry {index} was changed (it no longer hashes to its leaf: edited, or swapped with another)"
            ),
            Problem::EntryMissing { index } => {
                format!("entry {index} was removed or reordered (the indexes jump over it)")
            }
            Problem::EntriesRemoved { index, tree_size } => format!(
                "entries from {index} on were removed (a checkpoint covers {tree_size} entries)"
            ),
            Problem::RootMismatch {
                tree_size,
                first_index,
            } => format!(
                "the tree of {tree_size} entries does not match its checkpoint: an entry from {first_index} to {} was changed (with its leaf hash)",
                tree_size.saturating_sub(1)
            ),
            Problem::BadSignature { tree_size } => {
                format!("the checkpoint of size {tree_size} has no valid ledger signature")
            }
            Problem::BadWitness(why) => format!("the witness checkpoint is refused: {why}"),
            Problem::TileChanged { tile } => format!(
                "proof tile {tile} (entries {} to {}) does not match its entries, which are intact: proofs over them would not verify (docs/operating.md, \"Ledger\")",
                tile * TILE_LEAVES,
                (tile + 1) * TILE_LEAVES - 1
            ),
        }
    }
}

/// What to verify beyond the stored checkpoints.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// A checkpoint note kept by a witness (`rempart ledger checkpoint --out`).
    pub witness: Option<String>,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read (and rehashed).
    pub entries: u64,
    /// Checkpoints checked (stored, plus the witness's).
    pub checkpoints: u64,
    /// The recomputed root of the entries read.
    pub root: Hash,
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }

    pub fn summary(&self) -> String {
        match &self.problem {
            None => format!(
                "ledger verified: {} entries, {} checkpoints consistent",
                self.entries, self.checkpoints
            ),
            Some(p) => p.describe(),
        }
    }
}

/// The stored proof tiles, checked as the recomputed tree passes each block: a tree of the
/// tiles (each a leaf) grows as the entries' tree does, ten levels lower, so at each block's
/// end the top of the tiles' tree must equal the top of the entries' tree. Checks the tiles
/// stored from 0 on, up to the first one missing (the tiles' tree stops growing there).
struct Tiles {
    store: Arc<dyn LedgerStore>,
    cursor: TileCursor,
    tree: RootBuilder,
}

impl Tiles {
    async fn new(store: Arc<dyn LedgerStore>) -> Result<Self, LedgerError> {
        let end = store.ledger_tiles_end().await?;
        Ok(Self {
            store,
            cursor: TileCursor::new(end),
            tree: RootBuilder::new(),
        })
    }

    /// Called when the entries' `tree` has just completed block `tree.size() / 1024 - 1`.
    async fn check(&mut self, tree: &RootBuilder) -> Result<Option<Problem>, LedgerError> {
        let block = tree.size() / TILE_LEAVES - 1;
        if self.tree.size() != block {
            return Ok(None);
        }
        let Some(tile) = self.cursor.tile(self.store.as_ref(), block).await? else {
            return Ok(None);
        };
        let Ok(hash) = <[u8; 32]>::try_from(tile.hash.as_slice()) else {
            return Ok(Some(Problem::TileChanged { tile: block }));
        };
        self.tree.push(hash);
        let ours = self.tree.subtrees().last().map(|&(_, h)| h);
        let theirs = tree.subtrees().last().map(|&(_, h)| h);
        Ok((ours != theirs).then_some(Problem::TileChanged { tile: block }))
    }
}

/// A checkpoint to meet while streaming: its size and signed root.
struct Target {
    size: u64,
    root: Hash,
}

/// Verifies the whole ledger; `progress(done, total)` is called after each page. `verifiers`
/// are the ledger's verifier keys (every version, named by the origin).
pub async fn verify(
    store: Arc<dyn LedgerStore>,
    verifiers: &[NoteVerifier],
    options: &VerifyOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<VerifyReport, LedgerError> {
    let total = store.ledger_size().await?;
    let mut report = VerifyReport {
        entries: 0,
        checkpoints: 0,
        root: RootBuilder::new().root(),
        problem: None,
    };

    // Every stored checkpoint, smallest first; signatures first.
    let mut stored: Vec<LedgerCheckpointRecord> = Vec::new();
    let mut before = None;
    loop {
        let page = store.list_ledger_checkpoints(before, 1000).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.tree_size);
        stored.extend(page);
    }
    stored.reverse();
    let mut targets = Vec::with_capacity(stored.len() + 1);
    for cp in &stored {
        match open_checkpoint(&cp.note, verifiers) {
            Ok(c) if c.size == cp.tree_size => targets.push(Target {
                size: c.size,
                root: c.root,
            }),
            _ => {
                report.problem = Some(Problem::BadSignature {
                    tree_size: cp.tree_size,
                });
                return Ok(report);
            }
        }
    }
    if let Some(note) = &options.witness {
        match open_checkpoint(note, verifiers) {
            Ok(Checkpoint { size, root, .. }) => targets.push(Target { size, root }),
            Err(e) => {
                report.problem = Some(Problem::BadWitness(e.to_string()));
                return Ok(report);
            }
        }
    }
    targets.sort_by_key(|t| t.size);

    // Read pages ahead in another task while this one hashes.
    let mut rx = super::store::read_ahead(store.clone(), 0, PAGE);

    let mut tiles = Tiles::new(store.clone()).await?;
    let mut tree = RootBuilder::new();
    let mut next_target = 0usize;
    // The size of the last checkpoint that matched (the start of a mismatch range).
    let mut last_good = 0u64;
    let check_targets = |tree: &RootBuilder,
                         next_target: &mut usize,
                         last_good: &mut u64,
                         report: &mut VerifyReport|
     -> Option<Problem> {
        while let Some(t) = targets.get(*next_target) {
            if t.size != tree.size() {
                break;
            }
            report.checkpoints += 1;
            *next_target += 1;
            if tree.root() != t.root {
                return Some(Problem::RootMismatch {
                    tree_size: t.size,
                    first_index: *last_good,
                });
            }
            *last_good = t.size;
        }
        None
    };
    if let Some(p) = check_targets(&tree, &mut next_target, &mut last_good, &mut report) {
        report.problem = Some(p);
        return Ok(report);
    }
    while let Some(page) = rx.recv().await {
        let page = page?;
        for e in &page {
            let expected = tree.size();
            if e.index != expected {
                report.problem = Some(Problem::EntryMissing { index: expected });
                break;
            }
            let leaf = entry_leaf_hash(e);
            if e.leaf_hash.as_slice() != leaf.as_slice() {
                report.problem = Some(Problem::EntryChanged { index: expected });
                break;
            }
            tree.push(leaf);
            if let Some(p) = check_targets(&tree, &mut next_target, &mut last_good, &mut report) {
                report.problem = Some(p);
                break;
            }
            if tree.size().is_multiple_of(TILE_LEAVES)
                && let Some(p) = tiles.check(&tree).await?
            {
                report.problem = Some(p);
                break;
            }
        }
        report.entries = tree.size();
        progress(tree.size(), total);
        if report.problem.is_some() {
            break;
        }
    }
    drop(rx);
    report.entries = tree.size();
    report.root = tree.root();
    if report.problem.is_none()
        && let Some(t) = targets.get(next_target)
    {
        report.problem = Some(Problem::EntriesRemoved {
            index: tree.size(),
            tree_size: t.size,
        });
    }
    Ok(report)
}
