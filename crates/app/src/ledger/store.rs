//! The ledger part of the store port (`LedgerStore`, a supertrait of `Store`): the entries
//! (`ledger_entries`), the signed checkpoints (`ledger_checkpoints`) and the results of
//! verifications (`ledger_verifications`). Append only: there is no update or delete.

use crate::store::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

/// The constraint named by `Conflict` when an appended batch does not start at the current
/// size of the ledger (another writer appended first) or is not consecutive.
pub const INDEX_CONSTRAINT: &str = "ledger_entries_pkey";
/// The constraint named by `Conflict` when a checkpoint of that tree size exists.
pub const CHECKPOINT_CONSTRAINT: &str = "ledger_checkpoints_pkey";

/// Leaves per proof tile: 2^`TILE_HEIGHT`.
pub const TILE_HEIGHT: u32 = 10;
/// Leaves per proof tile (1,024).
pub const TILE_LEAVES: u64 = 1 << TILE_HEIGHT;

/// A proof tile: the Merkle root of the 1,024 leaves `tile * 1024 .. (tile + 1) * 1024`,
/// derived from the stored leaf hashes (`ledger_tiles`). Proofs read the tiles of whole
/// blocks instead of their leaves; `rempart ledger verify` checks every tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTileRecord {
    pub tile: u64,
    /// 32 bytes.
    pub hash: Vec<u8>,
}

/// One ledger entry as stored. The text fields hold exactly what was hashed (the codes of
/// `app::ledger`), so that `rempart ledger verify` re-encodes what is stored, whatever it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntryRecord {
    /// The leaf index: dense from 0, unique (`ledger_entries_pkey`).
    pub index: u64,
    /// UUIDv7.
    pub id: Uuid,
    /// Truncated to the microsecond.
    pub at: OffsetDateTime,
    /// The person's account, when a person acted (not a machine).
    pub account_id: Option<Uuid>,
    pub organisation_id: Uuid,
    /// `passkey:<credential uuid>` or `cert:<serial>`.
    pub credential: String,
    pub insurer_id: Uuid,
    /// HMAC-SHA-256 pseudonym of the beneficiary (32 bytes), never an identifier.
    pub pseudonym: Vec<u8>,
    /// Data category codes, comma-separated, in canonical order.
    pub categories: String,
    /// The purpose code.
    pub purpose: String,
    pub request_id: String,
    /// The client's IP address, as text.
    pub client_addr: Option<String>,
    /// `H(0x00 ‖ encoding)` of this entry (32 bytes), kept for proofs.
    pub leaf_hash: Vec<u8>,
}

/// A signed checkpoint (`ledger_checkpoints`); the tree size is unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCheckpointRecord {
    pub tree_size: u64,
    /// The root hash (32 bytes).
    pub root: Vec<u8>,
    pub at: OffsetDateTime,
    /// The C2SP signed note.
    pub note: String,
}

/// The outcome of one verification (`rempart ledger verify` or the console), kept so the
/// console can show the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerVerificationRecord {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub ok: bool,
    /// How many entries were read.
    pub entries: u64,
    /// How many checkpoints were checked.
    pub checkpoints: u64,
    /// The first entry found changed, removed or reordered (when known).
    pub first_bad_index: Option<u64>,
    /// A one-line summary (no personal data: indexes and sizes only).
    pub summary: String,
}

/// What the auditor's view and incident scoping filter on. Every filter is optional; the
/// results come newest first (highest index first), `before` (exclusive) pages backwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    pub account_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub insurer_id: Option<Uuid>,
    /// Inclusive.
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub to: Option<OffsetDateTime>,
    /// Only entries with an index below this one.
    pub before: Option<u64>,
    pub limit: u32,
}

#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// The number of entries (the highest index plus one; 0 when empty).
    async fn ledger_size(&self) -> Result<u64, StoreError>;

    /// Appends `entries` in one transaction, all or nothing, with the engagements they
    /// disclose (`grants`: the rights checks' answers in the batch), so that an engagement
    /// exists exactly when its disclosure is ledgered. The first index must be the current
    /// size and the indexes consecutive; otherwise (another writer appended first, or a gap)
    /// nothing is written and the answer is `Conflict { constraint: INDEX_CONSTRAINT }`; a
    /// grant that cannot be stored (a duplicate id or number) fails the whole transaction
    /// with its own `Conflict`. Durable when it answers `Ok`.
    async fn append_ledger_entries(
        &self,
        entries: &[LedgerEntryRecord],
        grants: &[crate::rights::EngagementRecord],
    ) -> Result<(), StoreError>;

    /// Up to `limit` entries with an index at or above `from`, by index.
    async fn list_ledger_entries(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError>;

    /// The stored leaf hashes of indexes `from..to`, by index (fewer if entries are missing).
    async fn ledger_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Stores proof tiles; a tile already stored is left as it is (every process derives the
    /// same one from the same leaves).
    async fn insert_ledger_tiles(&self, tiles: &[LedgerTileRecord]) -> Result<(), StoreError>;

    /// The stored tiles numbered `from..to`, by number (fewer when some are not stored).
    async fn ledger_tiles(&self, from: u64, to: u64) -> Result<Vec<LedgerTileRecord>, StoreError>;

    /// The highest stored tile number plus one (0 when none).
    async fn ledger_tiles_end(&self) -> Result<u64, StoreError>;

    /// The entries of one beneficiary pseudonym at one insurer, newest first, below `before`.
    async fn find_ledger_entries_by_pseudonym(
        &self,
        insurer_id: Uuid,
        pseudonym: &[u8],
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError>;

    /// Entries matching `filter`, newest first.
    async fn find_ledger_entries(
        &self,
        filter: &LedgerFilter,
    ) -> Result<Vec<LedgerEntryRecord>, StoreError>;

    /// `Conflict { constraint: CHECKPOINT_CONSTRAINT }` when that tree size has one.
    async fn insert_ledger_checkpoint(
        &self,
        checkpoint: &LedgerCheckpointRecord,
    ) -> Result<(), StoreError>;

    /// The checkpoint of the largest tree size.
    async fn latest_ledger_checkpoint(&self) -> Result<Option<LedgerCheckpointRecord>, StoreError>;

    /// Up to `limit` checkpoints with a tree size below `before` (all when `None`), largest
    /// first.
    async fn list_ledger_checkpoints(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<LedgerCheckpointRecord>, StoreError>;

    async fn insert_ledger_verification(
        &self,
        verification: &LedgerVerificationRecord,
    ) -> Result<(), StoreError>;

    /// The most recent verification (by time, then id).
    async fn latest_ledger_verification(
        &self,
    ) -> Result<Option<LedgerVerificationRecord>, StoreError>;
}

/// The entries from index `from` on, read a page of `page` entries at a time by another task
/// while the caller works on the previous page (the whole-ledger scans, `verify` and the
/// incident scope, take the reading off their own thread). Pages come in index order, each
/// starting after the last entry of the one before; the channel closes after a short page or
/// an error. Dropping the receiver stops the reader.
pub fn read_ahead(
    store: std::sync::Arc<dyn LedgerStore>,
    from: u64,
    page: u32,
) -> tokio::sync::mpsc::Receiver<Result<Vec<LedgerEntryRecord>, StoreError>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        let mut from = from;
        loop {
            let entries = match store.list_ledger_entries(from, page).await {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let Some(last) = entries.last() else { return };
            from = last.index + 1;
            let short = entries.len() < page as usize;
            if tx.send(Ok(entries)).await.is_err() || short {
                return;
            }
        }
    });
    rx
}
