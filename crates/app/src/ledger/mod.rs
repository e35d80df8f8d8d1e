//! The access ledger: every disclosure of personal data appends one entry, committed before
//! the answer leaves (invariant 3). Entries are the leaves of an RFC 9162 Merkle tree
//! (`crypto::merkle`); signed checkpoints (`crypto::checkpoint`, C2SP signed notes) commit to
//! the tree so that editing, removing or reordering an entry is detected
//! (`rempart ledger verify`, [`verify`]).
//!
//! - [`Disclosure`]: what a use case records (actor, organisation, credential, insurer,
//!   beneficiary, data categories, purpose, request id, client address). The beneficiary id
//!   becomes a pseudonym ([`crate::keys::Vault::pseudonym`]) and is never stored.
//! - [`Ledger::record`]: appends and waits for the durable commit. Group commit: one writer
//!   task per [`Ledger`] drains every waiting disclosure into one store transaction, so
//!   concurrent requests share one durable write. If the write fails, every caller of that
//!   batch gets an error (and must fail its request).
//! - checkpoints: every [`LedgerConfig::checkpoint_every`] entries (by the writer) and every
//!   minute ([`Ledger::spawn_checkpointer`], started by `serve` and `demo`) when the tree grew;
//!   the same minute, the proof tiles of the new whole blocks of 1,024 entries
//!   ([`Ledger::fill_tiles`]), which proofs read instead of the blocks' leaves.
//! - [`entry_encoding`]: the canonical, versioned leaf encoding (docs/formats.md).

mod encoding;
pub mod memory;
mod proofs;
pub mod store;
mod verify;
mod writer;

/// The cryptography of the ledger, for the layers above `app` (which do not see `crypto`).
pub use crypto::{checkpoint, merkle};
pub use encoding::{ENCODING_VERSION, entry_encoding, entry_leaf_hash};
pub use proofs::{ConsistencyProof, InclusionProof};
pub use store::{
    LedgerCheckpointRecord, LedgerEntryRecord, LedgerFilter, LedgerStore, LedgerTileRecord,
    LedgerVerificationRecord, TILE_HEIGHT, TILE_LEAVES,
};
pub use verify::{Problem, VerifyOptions, VerifyReport, verify};

use crate::Ports;
use crate::store::StoreError;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Why a disclosure was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// A professional checked a patient's rights (`POST /api/v1/rights-checks`).
    RightsCheck,
    /// A prior-approval request was answered.
    PriorApproval,
    /// An invoice was adjudicated.
    Invoice,
    /// An operator or insurer viewed a beneficiary in the console.
    ConsoleView,
    /// Cards were exported (names, birth dates on the card).
    CardExport,
    /// An incident report exported personal data.
    IncidentExport,
    /// A suspension was lifted (the guard's decision record).
    SuspensionLift,
}

impl Purpose {
    pub const ALL: [Purpose; 7] = [
        Purpose::RightsCheck,
        Purpose::PriorApproval,
        Purpose::Invoice,
        Purpose::ConsoleView,
        Purpose::CardExport,
        Purpose::IncidentExport,
        Purpose::SuspensionLift,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Purpose::RightsCheck => "rights_check",
            Purpose::PriorApproval => "prior_approval",
            Purpose::Invoice => "invoice",
            Purpose::ConsoleView => "console_view",
            Purpose::CardExport => "card_export",
            Purpose::IncidentExport => "incident_export",
            Purpose::SuspensionLift => "suspension_lift",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == s)
    }
}

/// A category of personal data disclosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataCategory {
    /// Covered or not, for one care domain on one date.
    Coverage,
    /// The regime: the rate printed on the card, or amounts guaranteed.
    Guarantees,
    /// The engagement number that guarantees payment.
    Engagement,
    /// Prior-approval amounts.
    Approval,
    /// Invoice amounts.
    Payment,
    /// First names, birth dates (card export, console).
    Identity,
    /// The insurer and member number (incident exports for the insurer's mailing).
    Membership,
}

impl DataCategory {
    pub const ALL: [DataCategory; 7] = [
        DataCategory::Coverage,
        DataCategory::Guarantees,
        DataCategory::Engagement,
        DataCategory::Approval,
        DataCategory::Payment,
        DataCategory::Identity,
        DataCategory::Membership,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DataCategory::Coverage => "coverage",
            DataCategory::Guarantees => "guarantees",
            DataCategory::Engagement => "engagement",
            DataCategory::Approval => "approval",
            DataCategory::Payment => "payment",
            DataCategory::Identity => "identity",
            DataCategory::Membership => "membership",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }

    /// The canonical stored form of a set of categories: codes in declaration order, no
    /// duplicate, comma-separated.
    pub fn join(categories: &[DataCategory]) -> String {
        let mut sorted = categories.to_vec();
        sorted.sort();
        sorted.dedup();
        sorted
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses the stored form; `None` if a code is unknown.
    pub fn split(text: &str) -> Option<Vec<DataCategory>> {
        if text.is_empty() {
            return Some(Vec::new());
        }
        text.split(',').map(DataCategory::parse).collect()
    }
}

/// One disclosure to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The person's account (`None` for a machine with a client certificate).
    pub account_id: Option<Uuid>,
    pub organisation_id: Uuid,
    /// `passkey:<credential uuid>` or `cert:<serial>`.
    pub credential: String,
    pub insurer_id: Uuid,
    /// Turned into a pseudonym by the ledger; never stored.
    pub beneficiary_id: Uuid,
    pub categories: Vec<DataCategory>,
    pub purpose: Purpose,
    pub request_id: String,
    pub client_addr: Option<IpAddr>,
}

/// Where a recorded entry sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The leaf index.
    pub index: u64,
    pub entry_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("invalid disclosure: {0}")]
    Invalid(&'static str),
    #[error("the ledger could not be written: {0}")]
    Store(#[from] StoreError),
    #[error("the ledger writer is not running")]
    Stopped,
    #[error("ledger key: {0}")]
    Key(String),
    #[error("{0}")]
    Proof(#[from] crypto::merkle::ProofError),
    #[error("a stored ledger value is corrupt: {0}")]
    Corrupt(String),
}

/// Settings of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerConfig {
    /// The checkpoint origin line and signing key name (`rempart.localhost/ledger`).
    pub origin: String,
    /// A checkpoint is made when the tree crosses a multiple of this many entries.
    pub checkpoint_every: u64,
    /// The most entries written in one transaction.
    pub max_batch: usize,
    /// How often [`Ledger::spawn_checkpointer`] makes a checkpoint (when the tree grew).
    pub checkpoint_period: Duration,
}

/// The default origin.
pub const DEFAULT_ORIGIN: &str = "rempart.localhost/ledger";

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            origin: DEFAULT_ORIGIN.to_string(),
            checkpoint_every: 10_000,
            max_batch: 4096,
            checkpoint_period: Duration::from_secs(60),
        }
    }
}

const MAX_TEXT: usize = 256;

pub(crate) enum Command {
    Append {
        entry: Box<LedgerEntryRecord>,
        /// The engagement the disclosure grants, stored in the same transaction.
        grant: Option<Box<crate::rights::EngagementRecord>>,
        reply: oneshot::Sender<Result<Receipt, LedgerError>>,
    },
    Checkpoint {
        force: bool,
        reply: oneshot::Sender<Result<Option<LedgerCheckpointRecord>, LedgerError>>,
    },
}

struct Inner {
    ports: Ports,
    config: LedgerConfig,
    sender: OnceLock<mpsc::Sender<Command>>,
}

/// The access ledger of one process. Cheap to clone; the writer task starts on first use
/// and stops when the last clone is dropped.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("origin", &self.inner.config.origin)
            .finish()
    }
}

impl Ledger {
    pub fn new(ports: Ports, config: LedgerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                ports,
                config,
                sender: OnceLock::new(),
            }),
        }
    }

    pub fn config(&self) -> &LedgerConfig {
        &self.inner.config
    }

    pub fn ports(&self) -> &Ports {
        &self.inner.ports
    }

    fn sender(&self) -> &mpsc::Sender<Command> {
        self.inner.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel(65_536);
            let writer = writer::Writer::new(self.inner.ports.clone(), self.inner.config.clone());
            tokio::spawn(writer.run(rx));
            tx
        })
    }

    /// Records one disclosure and answers once it is durably committed.
    pub async fn record(&self, d: Disclosure) -> Result<Receipt, LedgerError> {
        self.append(d, None).await
    }

    /// Records one disclosure with the engagement it grants (a rights check's answer): both
    /// commit in the same group-commit transaction, or neither — an engagement never exists
    /// without its disclosure ledgered, and the answer costs the writer no transaction of its
    /// own.
    pub async fn record_granting(
        &self,
        d: Disclosure,
        engagement: crate::rights::EngagementRecord,
    ) -> Result<Receipt, LedgerError> {
        self.append(d, Some(Box::new(engagement))).await
    }

    async fn append(
        &self,
        d: Disclosure,
        grant: Option<Box<crate::rights::EngagementRecord>>,
    ) -> Result<Receipt, LedgerError> {
        let entry = self.entry(d)?;
        let (reply, answer) = oneshot::channel();
        self.sender()
            .send(Command::Append {
                entry: Box::new(entry),
                grant,
                reply,
            })
            .await
            .map_err(|_| LedgerError::Stopped)?;
        answer.await.map_err(|_| LedgerError::Stopped)?
    }

    /// Records every disclosure of `all`, up to 1,000 at a time so that they share the
    /// writer's group commits; answers how many were recorded. On the first failure it stops
    /// and fails: what was recorded before stays (an over-report, never an omission), and the
    /// caller must not hand the data over.
    pub async fn record_all(&self, all: Vec<Disclosure>) -> Result<u64, LedgerError> {
        let mut count = 0;
        let mut all = all.into_iter().peekable();
        while all.peek().is_some() {
            let chunk: Vec<Disclosure> = all.by_ref().take(1_000).collect();
            for r in futures::future::join_all(chunk.into_iter().map(|d| self.record(d))).await {
                r?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// The stored form of a disclosure (index and leaf hash are set by the writer).
    fn entry(&self, d: Disclosure) -> Result<LedgerEntryRecord, LedgerError> {
        let text_ok =
            |s: &str| !s.is_empty() && s.len() <= MAX_TEXT && !s.chars().any(char::is_control);
        if !text_ok(&d.credential) {
            return Err(LedgerError::Invalid(
                "credential: 1 to 256 characters, no control character",
            ));
        }
        if !text_ok(&d.request_id) {
            return Err(LedgerError::Invalid(
                "request_id: 1 to 256 characters, no control character",
            ));
        }
        // Every disclosure names what it disclosed; a suspension lift discloses nothing.
        if d.categories.is_empty() && d.purpose != Purpose::SuspensionLift {
            return Err(LedgerError::Invalid("categories: at least one"));
        }
        let ports = &self.inner.ports;
        let at = ports.clock.now();
        let at = at
            .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
            .unwrap_or(at);
        Ok(LedgerEntryRecord {
            index: 0,
            id: ports.new_id(),
            at,
            account_id: d.account_id,
            organisation_id: d.organisation_id,
            credential: d.credential,
            insurer_id: d.insurer_id,
            pseudonym: ports
                .vault
                .pseudonym(d.insurer_id, d.beneficiary_id)
                .to_vec(),
            categories: DataCategory::join(&d.categories),
            purpose: d.purpose.code().to_string(),
            request_id: d.request_id,
            client_addr: d.client_addr.map(|a| a.to_string()),
            leaf_hash: Vec::new(),
        })
    }

    /// Makes a checkpoint of the current tree (through the writer, so it sees every committed
    /// entry of this process). Without `force`, only when the tree grew since the latest
    /// checkpoint; answers the checkpoint made, if any.
    pub async fn checkpoint(
        &self,
        force: bool,
    ) -> Result<Option<LedgerCheckpointRecord>, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.sender()
            .send(Command::Checkpoint { force, reply })
            .await
            .map_err(|_| LedgerError::Stopped)?;
        answer.await.map_err(|_| LedgerError::Stopped)?
    }

    /// Derives and stores the proof tiles of the whole blocks of 1,024 entries appended since
    /// the last tile (the periodic checkpointer runs it); answers how many it stored.
    pub async fn fill_tiles(&self) -> Result<u64, LedgerError> {
        proofs::fill_tiles(self.inner.ports.store.as_ref()).await
    }

    /// Starts the periodic checkpointer: every `checkpoint_period`, a checkpoint if the tree
    /// grew and the proof tiles of the blocks completed since ([`Ledger::fill_tiles`]), until
    /// `shutdown` completes (then one last checkpoint).
    pub fn spawn_checkpointer(
        &self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let ledger = self.clone();
        let period = self.inner.config.checkpoint_period;
        tokio::spawn(async move {
            let mut shutdown = std::pin::pin!(shutdown);
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {
                        if let Err(e) = ledger.checkpoint(false).await {
                            tracing::warn!(error = %e, "periodic ledger checkpoint failed");
                        }
                        if let Err(e) = ledger.fill_tiles().await {
                            tracing::warn!(error = %e, "ledger proof tiles not derived");
                        }
                    }
                    () = &mut shutdown => {
                        if let Err(e) = ledger.checkpoint(false).await {
                            tracing::warn!(error = %e, "final ledger checkpoint failed");
                        }
                        break;
                    }
                }
            }
        })
    }

    /// The verifier keys of every signing-key version (`<name>+<key id>+<key>`), oldest first.
    pub fn verifier_keys(
        &self,
    ) -> Result<Vec<(u32, crypto::checkpoint::NoteVerifier)>, LedgerError> {
        self.inner
            .ports
            .vault
            .ledger_verifiers(&self.inner.config.origin)
            .map_err(|e| LedgerError::Key(e.to_string()))
    }

    /// An inclusion proof of leaf `index` in the tree of `tree_size` leaves (from the stored
    /// leaf hashes).
    pub async fn inclusion_proof(
        &self,
        index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, LedgerError> {
        proofs::inclusion(self.inner.ports.store.as_ref(), index, tree_size).await
    }

    /// A consistency proof from tree size `from` to `to`.
    pub async fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyProof, LedgerError> {
        proofs::consistency(self.inner.ports.store.as_ref(), from, to).await
    }
}
