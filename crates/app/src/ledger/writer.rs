//! The ledger's writer task: group commit and checkpoints.
//!
//! Every [`Command`] goes through one channel. The task takes the first waiting command, then
//! every other one already queued (up to `max_batch` appends), writes all the appends — and the
//! engagements they grant — in one store transaction and answers each caller; while it writes,
//! new callers queue up and form the next batch. The task keeps the compact range of the tree
//! (the roots of the perfect subtrees of `[0, size)`, O(log n)) so that a checkpoint costs one
//! signature; it is built from the stored leaf hashes when the task starts and after another
//! process appended (a `Conflict` on the first index: PostgreSQL with several servers).

use super::encoding::entry_leaf_hash;
use super::proofs::hash32;
use super::store::{CHECKPOINT_CONSTRAINT, INDEX_CONSTRAINT};
use super::{
    Command, LedgerCheckpointRecord, LedgerConfig, LedgerEntryRecord, LedgerError, Receipt,
};
use crate::Ports;
use crate::rights::EngagementRecord;
use crate::store::StoreError;
use crypto::checkpoint::Checkpoint;
use crypto::merkle::RootBuilder;
use tokio::sync::{mpsc, oneshot};

/// Leaf hashes read per query when (re)building the tree.
const LEAF_PAGE: u64 = 65_536;
/// Times the writer lets other tasks run to fill a batch before writing it.
const YIELDS: usize = 4;
/// Attempts of one batch when other writers keep appending first.
const ATTEMPTS: usize = 16;

pub(crate) struct Writer {
    ports: Ports,
    config: LedgerConfig,
    /// `None`: unknown (not loaded yet, or a write failed and the store must be re-read).
    tree: Option<RootBuilder>,
}

type AppendReply = oneshot::Sender<Result<Receipt, LedgerError>>;

/// One queued append: the entry, the engagement it grants (if any), the caller's reply.
type Append = (LedgerEntryRecord, Option<EngagementRecord>, AppendReply);

impl Writer {
    pub(crate) fn new(ports: Ports, config: LedgerConfig) -> Self {
        Self {
            ports,
            config,
            tree: None,
        }
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let max = self.config.max_batch.max(1);
        while let Some(first) = rx.recv().await {
            let mut appends: Vec<Append> = Vec::new();
            let mut checkpoints = Vec::new();
            let mut next = Some(first);
            let mut yields = 0;
            loop {
                while let Some(cmd) = next.take() {
                    match cmd {
                        Command::Append {
                            entry,
                            grant,
                            reply,
                        } => appends.push((*entry, grant.map(|g| *g), reply)),
                        Command::Checkpoint { force, reply } => checkpoints.push((force, reply)),
                    }
                    if appends.len() < max {
                        next = rx.try_recv().ok();
                    }
                }
                // Let the callers that are about to record (woken by the previous batch's
                // answers) queue up before writing: a batch written as soon as its first
                // entry arrives leaves the others for one more durable commit.
                if appends.len() >= max || yields >= YIELDS {
                    break;
                }
                yields += 1;
                tokio::task::yield_now().await;
                next = rx.try_recv().ok();
                if next.is_none() && yields > 1 {
                    break;
                }
            }
            if !appends.is_empty() {
                self.append(appends).await;
            }
            for (force, reply) in checkpoints {
                let result = self.checkpoint(force).await;
                let _ = reply.send(result);
            }
        }
    }

    /// Reads the stored leaf hashes from the known size (or 0) to the stored size.
    async fn sync(&mut self) -> Result<&mut RootBuilder, LedgerError> {
        let store = self.ports.store.clone();
        let size = store.ledger_size().await?;
        let mut tree = match self.tree.take() {
            Some(t) if t.size() <= size => t,
            _ => RootBuilder::new(),
        };
        while tree.size() < size {
            let to = size.min(tree.size() + LEAF_PAGE);
            let hashes = store.ledger_leaf_hashes(tree.size(), to).await?;
            if hashes.is_empty() {
                return Err(LedgerError::Corrupt(format!(
                    "ledger entry {} is missing",
                    tree.size()
                )));
            }
            for h in hashes {
                tree.push(hash32(h, "leaf hash")?);
            }
        }
        Ok(self.tree.insert(tree))
    }

    async fn tree(&mut self) -> Result<&mut RootBuilder, LedgerError> {
        if self.tree.is_none() {
            self.sync().await?;
        }
        self.tree
            .as_mut()
            .ok_or_else(|| LedgerError::Corrupt("the ledger tree could not be loaded".into()))
    }

    async fn append(&mut self, batch: Vec<Append>) {
        let mut entries = Vec::with_capacity(batch.len());
        let mut grants = Vec::new();
        let mut replies = Vec::with_capacity(batch.len());
        for (entry, grant, reply) in batch {
            entries.push(entry);
            grants.extend(grant);
            replies.push(reply);
        }
        let result = self.write(&mut entries, &grants).await;
        match result {
            Ok(()) => {
                for (e, reply) in entries.iter().zip(replies) {
                    let _ = reply.send(Ok(Receipt {
                        index: e.index,
                        entry_id: e.id,
                    }));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, entries = entries.len(), "ledger append failed");
                for reply in replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }

    async fn write(
        &mut self,
        entries: &mut [LedgerEntryRecord],
        grants: &[EngagementRecord],
    ) -> Result<(), LedgerError> {
        let store = self.ports.store.clone();
        for _ in 0..ATTEMPTS {
            let tree = match self.tree().await {
                Ok(t) => t,
                Err(e) => {
                    self.tree = None;
                    return Err(e);
                }
            };
            let start = tree.size();
            let mut leaves = Vec::with_capacity(entries.len());
            for (i, e) in entries.iter_mut().enumerate() {
                e.index = start + i as u64;
                let leaf = entry_leaf_hash(e);
                e.leaf_hash = leaf.to_vec();
                leaves.push(leaf);
            }
            match store.append_ledger_entries(entries, grants).await {
                Ok(()) => {
                    for l in leaves {
                        tree.push(l);
                    }
                    let every = self.config.checkpoint_every.max(1);
                    let end = start + entries.len() as u64;
                    if start / every != end / every
                        && let Err(e) = self.checkpoint(true).await
                    {
                        tracing::warn!(error = %e, "ledger checkpoint after {every} entries failed");
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict { constraint }) if constraint == INDEX_CONSTRAINT => {
                    // Another process appended first: catch up and retry.
                    if let Err(e) = self.sync().await {
                        self.tree = None;
                        return Err(e);
                    }
                }
                Err(StoreError::Retryable) => {
                    self.tree = None;
                }
                Err(e) => {
                    // The outcome is unknown (the commit may have happened): re-read next time.
                    self.tree = None;
                    return Err(e.into());
                }
            }
        }
        self.tree = None;
        Err(LedgerError::Store(StoreError::Retryable))
    }

    /// Signs and stores a checkpoint of the current tree. Without `force`, only when the tree
    /// grew since the latest stored checkpoint.
    async fn checkpoint(
        &mut self,
        force: bool,
    ) -> Result<Option<LedgerCheckpointRecord>, LedgerError> {
        let store = self.ports.store.clone();
        // Pick up entries appended by other processes.
        let tree = match self.sync().await {
            Ok(t) => t,
            Err(e) => {
                self.tree = None;
                return Err(e);
            }
        };
        let size = tree.size();
        let root = tree.root();
        let latest = store.latest_ledger_checkpoint().await?;
        if let Some(l) = &latest
            && l.tree_size == size
        {
            return Ok(if force { latest } else { None });
        }
        if !force && latest.is_none() && size == 0 {
            return Ok(None);
        }
        let (_, signer) = self
            .ports
            .vault
            .ledger_signer(&self.config.origin)
            .map_err(|e| LedgerError::Key(e.to_string()))?;
        let note = signer
            .sign_checkpoint(&Checkpoint {
                origin: self.config.origin.clone(),
                size,
                root,
            })
            .map_err(|e| LedgerError::Key(e.to_string()))?;
        let at = self.ports.clock.now();
        let record = LedgerCheckpointRecord {
            tree_size: size,
            root: root.to_vec(),
            at: at
                .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
                .unwrap_or(at),
            note,
        };
        match store.insert_ledger_checkpoint(&record).await {
            Ok(()) => Ok(Some(record)),
            // Another process checkpointed the same size: the same tree, nothing to add.
            Err(StoreError::Conflict { constraint }) if constraint == CHECKPOINT_CONSTRAINT => {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}
