//! An in-memory [`LedgerStore`] for unit tests and test doubles, with the same rules as the
//! real stores (dense indexes checked at append, newest first listings) and a switch that
//! makes every append fail.

use super::store::{
    CHECKPOINT_CONSTRAINT, INDEX_CONSTRAINT, LedgerCheckpointRecord, LedgerEntryRecord,
    LedgerFilter, LedgerStore, LedgerTileRecord, LedgerVerificationRecord,
};
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use uuid::Uuid;

#[derive(Default)]
struct Mem {
    entries: Vec<LedgerEntryRecord>,
    checkpoints: Vec<LedgerCheckpointRecord>,
    verifications: Vec<LedgerVerificationRecord>,
    tiles: BTreeMap<u64, Vec<u8>>,
}

#[derive(Default)]
pub struct MemLedger {
    mem: Mutex<Mem>,
    failing: AtomicBool,
    appends: AtomicUsize,
}

impl MemLedger {
    fn with<T>(&self, f: impl FnOnce(&mut Mem) -> T) -> T {
        match self.mem.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// While set, every append answers `Unavailable` and writes nothing.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// How many append transactions succeeded.
    pub fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl LedgerStore for MemLedger {
    async fn ledger_size(&self) -> Result<u64, StoreError> {
        Ok(self.with(|m| m.entries.len() as u64))
    }

    /// Keeps no engagements: a composite store hands `grants` to its rights store first and
    /// passes none here (any grant is refused, never dropped).
    async fn append_ledger_entries(
        &self,
        entries: &[LedgerEntryRecord],
        grants: &[crate::rights::EngagementRecord],
    ) -> Result<(), StoreError> {
        if !grants.is_empty() {
            return Err(StoreError::Other(
                "the in-memory ledger keeps no engagements".into(),
            ));
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "the test switched the ledger off".into(),
            ));
        }
        self.with(|m| {
            let size = m.entries.len() as u64;
            if entries
                .iter()
                .enumerate()
                .any(|(i, e)| e.index != size + i as u64)
            {
                return Err(StoreError::Conflict {
                    constraint: INDEX_CONSTRAINT.into(),
                });
            }
            m.entries.extend_from_slice(entries);
            Ok(())
        })?;
        self.appends.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn list_ledger_entries(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError> {
        Ok(self.with(|m| {
            m.entries
                .iter()
                .filter(|e| e.index >= from)
                .take(limit as usize)
                .cloned()
                .collect()
        }))
    }

    async fn ledger_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.with(|m| {
            m.entries
                .iter()
                .filter(|e| e.index >= from && e.index < to)
                .map(|e| e.leaf_hash.clone())
                .collect()
        }))
    }

    async fn insert_ledger_tiles(&self, tiles: &[LedgerTileRecord]) -> Result<(), StoreError> {
        self.with(|m| {
            for t in tiles {
                m.tiles.entry(t.tile).or_insert_with(|| t.hash.clone());
            }
        });
        Ok(())
    }

    async fn ledger_tiles(&self, from: u64, to: u64) -> Result<Vec<LedgerTileRecord>, StoreError> {
        Ok(self.with(|m| {
            m.tiles
                .range(from..to.max(from))
                .map(|(&tile, hash)| LedgerTileRecord {
                    tile,
                    hash: hash.clone(),
                })
                .collect()
        }))
    }

    async fn ledger_tiles_end(&self) -> Result<u64, StoreError> {
        Ok(self.with(|m| m.tiles.keys().next_back().map_or(0, |t| t + 1)))
    }

    async fn find_ledger_entries_by_pseudonym(
        &self,
        insurer_id: Uuid,
        pseudonym: &[u8],
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError> {
        Ok(self.with(|m| {
            m.entries
                .iter()
                .rev()
                .filter(|e| e.insurer_id == insurer_id && e.pseudonym == pseudonym)
                .filter(|e| before.is_none_or(|b| e.index < b))
                .take(limit as usize)
                .cloned()
                .collect()
        }))
    }

    async fn find_ledger_entries(
        &self,
        f: &LedgerFilter,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError> {
        Ok(self.with(|m| {
            m.entries
                .iter()
                .rev()
                .filter(|e| f.before.is_none_or(|b| e.index < b))
                .filter(|e| f.account_id.is_none_or(|a| e.account_id == Some(a)))
                .filter(|e| f.organisation_id.is_none_or(|o| e.organisation_id == o))
                .filter(|e| f.insurer_id.is_none_or(|i| e.insurer_id == i))
                .filter(|e| f.from.is_none_or(|t| e.at >= t))
                .filter(|e| f.to.is_none_or(|t| e.at < t))
                .take(f.limit as usize)
                .cloned()
                .collect()
        }))
    }

    async fn insert_ledger_checkpoint(
        &self,
        cp: &LedgerCheckpointRecord,
    ) -> Result<(), StoreError> {
        self.with(|m| {
            if m.checkpoints.iter().any(|c| c.tree_size == cp.tree_size) {
                return Err(StoreError::Conflict {
                    constraint: CHECKPOINT_CONSTRAINT.into(),
                });
            }
            m.checkpoints.push(cp.clone());
            m.checkpoints.sort_by_key(|c| c.tree_size);
            Ok(())
        })
    }

    async fn latest_ledger_checkpoint(&self) -> Result<Option<LedgerCheckpointRecord>, StoreError> {
        Ok(self.with(|m| m.checkpoints.last().cloned()))
    }

    async fn list_ledger_checkpoints(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<LedgerCheckpointRecord>, StoreError> {
        Ok(self.with(|m| {
            m.checkpoints
                .iter()
                .rev()
                .filter(|c| before.is_none_or(|b| c.tree_size < b))
                .take(limit as usize)
                .cloned()
                .collect()
        }))
    }

    async fn insert_ledger_verification(
        &self,
        v: &LedgerVerificationRecord,
    ) -> Result<(), StoreError> {
        self.with(|m| m.verifications.push(v.clone()));
        Ok(())
    }

    async fn latest_ledger_verification(
        &self,
    ) -> Result<Option<LedgerVerificationRecord>, StoreError> {
        Ok(self.with(|m| m.verifications.iter().max_by_key(|v| (v.at, v.id)).cloned()))
    }
}
