//! Importing an insurer's beneficiary file (the CSV of docs/formats.md): streamed, in
//! batches, written in transactions of whole batches.
//!
//! # Semantics
//!
//! A beneficiary is identified by (insurer, member number, NIR, birth rank). For each valid row,
//! the stored beneficiaries of the row's member (one lookup per batch for all its members) are
//! the candidates; those with the same birth rank and NIR blind index are unsealed to confirm
//! the NIR. Then:
//! - no stored match: **inserted** (sealed, with its blind index);
//! - a match whose names, date of birth, marital status, quality, contract or validity differ:
//!   **updated** (every identifying field resealed, `updated_at` set);
//! - an identical match: **unchanged**, and nothing at all is written for it (except, in a full
//!   import, the `last_import_id` marker below);
//! - with `full`, every beneficiary of the insurer in effect on the file's date that the file
//!   did not name is **closed**: `valid_to` set to the file's date.
//!
//! Rows that do not parse, name an unknown contract or repeat an identity already seen in the
//! file are **rejected** one by one, with their line, the field and a reason, never the value.
//!
//! # Pipeline and bounded memory
//!
//! Three stages run at once, each on its own threads, with bounded hand-offs:
//! 1. a blocking thread reads and validates the CSV into batches (at most [`PIPELINE_BATCH`]
//!    rows, and at most the transaction size; cut at a member boundary so a family stays in
//!    one batch), at most one batch ahead;
//! 2. the import task looks each batch's members up (one query), decides every row, then seals
//!    the rows (XChaCha20-Poly1305, blind index) and issues the families' cards (unprinted: see
//!    "Cards" below) on every core (scoped threads over contiguous parts of the batch);
//! 3. a writer task applies the previous batches meanwhile, in one transaction until it holds
//!    `batch_size` rows of the file ([`Writer`], `Store::apply_beneficiary_batches`): with the
//!    command's 100,000, a bulk load writes each page of the random-key indexes once per
//!    100,000 rows, while only a few 5,000-row batches are in memory. At most one batch waits
//!    for the writer; transactions commit in file order, the next beginning once the
//!    previous has committed.
//!
//! The lookup of a batch may run while earlier batches are not committed yet only when it
//! shares no member with them: the rows a batch writes belong to its own members, so the
//! lookup of disjoint members reads the same rows before or after that commit. A batch naming
//! a member of an uncommitted batch closes the transaction and waits for its commit first.
//! Memory is therefore a handful of batches, and the writer's page cache, whatever the file
//! size.
//!
//! Duplicates are found within a batch by a set, and across batches by the database: every
//! row an import writes (or, in a full import, sees) carries `last_import_id`; a candidate
//! already marked with the running import's id was named earlier in the same file. (A partial
//! import does not mark unchanged rows, so a repeat of an unchanged row in a later batch is
//! counted unchanged again; it changes nothing.) The close step of a full import pages through
//! the insurer's unmarked rows by id, a batch at a time, after the last write. The errors list
//! keeps the first [`MAX_ERRORS`]; `errors_truncated` counts the rest.
//!
//! # Killed at any moment
//!
//! Every batch (its inserts, updates, markers and cards) commits whole, in its transaction, so
//! a kill leaves whole batches. A new run is a new import (`imports` row, migration 0011) that reads
//! the whole file again: rows the killed run wrote are now identical (unchanged), the rest are
//! inserted or updated, and a full run re-marks every row it sees with its own id before
//! closing the unmarked ones. The end state is the file's content whatever the point of the
//! kill; the killed run's `imports` row stays `running`.
//!
//! # Cards
//!
//! After each batch's decisions, every family with an inserted beneficiary or a changed
//! validity gets a card ([`crate::cards::CardIssuer::issue_unprinted`]) for the file's calendar
//! year, clipped to the family's validity, for the members in effect during it, with the
//! domains of its contract (read once per contract); the card is written in the batch's
//! transaction. Its token is signed, and its code drawn again, when it is printed
//! (`rempart cards export`).

pub mod parse;

pub use parse::{FieldError, RowError};

use crate::Ports;
use crate::store::{
    BeneficiaryBatch, BeneficiaryRecord, ContractRecord, ImportRecord, ImportState,
    ImportedBeneficiary, InsurerRecord, StoreError,
};
use domain::beneficiaries::{Beneficiary, Identity};
use domain::ids::MemberNumber;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use time::{Date, Month};
use uuid::Uuid;

/// Rows per transaction (one batch each) unless told otherwise: an import through the running
/// server (`POST …/beneficiary-imports`), which shares the store's one SQLite writer with the
/// ledger's group commits and keeps each of its transactions short.
pub const DEFAULT_BATCH: usize = 2_000;
/// Rows per transaction of a bulk import on its own (`rempart import beneficiaries`): a larger
/// transaction writes each page of the random-key lookup indexes once for more of its rows
/// (1M rows: 3.7 GB written with 15,000-row transactions, 1.7 GB with 100,000;
/// docs/benchmarks.md). The memory stays that of a few [`PIPELINE_BATCH`] batches and the
/// command's 48 MiB writer cache (`Workload::Bulk`): ~230 MiB peak RSS. Each transaction
/// holds SQLite's write lock for a second or two (docs/formats.md).
pub const BULK_BATCH: usize = 100_000;
/// Rows per batch of the pipeline (read, looked up, sealed and sent to the writer together) at
/// most: a transaction of more rows takes several batches, so that the memory goes to the
/// writer's page cache rather than to batches in flight (docs/benchmarks.md).
pub const PIPELINE_BATCH: usize = 5_000;
/// Errors kept in the report; further ones are only counted.
pub const MAX_ERRORS: usize = 10_000;

/// How to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Close the insurer's beneficiaries missing from the file.
    pub full: bool,
    /// The file's date (default: today by the clock).
    pub date: Option<Date>,
    /// Rows of the file per transaction (the last batch may take it up to one batch over).
    pub batch_size: usize,
    /// Rows per batch of the pipeline, at most (each transaction takes whole batches).
    pub pipeline_batch: usize,
    /// SHA-256 of the file, hex, when known (recorded with the import).
    pub digest: Option<String>,
    /// The API's `Idempotency-Key` (recorded with the import).
    pub idempotency_key: Option<String>,
    /// Issue the cards of the families that changed (default true).
    pub issue_cards: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            full: false,
            date: None,
            batch_size: DEFAULT_BATCH,
            pipeline_batch: PIPELINE_BATCH,
            digest: None,
            idempotency_key: None,
            issue_cards: true,
        }
    }
}

/// What an import did. Serialised as the report of docs/formats.md.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub import_id: Uuid,
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub closed: u64,
    pub rejected: u64,
    pub errors: Vec<RowError>,
    #[serde(skip_serializing_if = "is_zero")]
    pub errors_truncated: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ImportReport {
    fn reject(&mut self, error: RowError) {
        self.rejected += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        } else {
            self.errors_truncated += 1;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read (I/O, or not the documented header). Nothing after the last
    /// committed batch was written.
    #[error("{0}")]
    File(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("sealing failed")]
    Seal,
    #[error("a stored beneficiary could not be opened: {0}")]
    Open(String),
    #[error("card issuance failed: {0}")]
    Cards(String),
    #[error("keys: {0}")]
    Keys(String),
    /// A worker thread of the import stopped unexpectedly.
    #[error("import worker failed: {0}")]
    Worker(&'static str),
}

/// One parsed data line.
struct Row {
    line: u64,
    parsed: Result<(Beneficiary, Uuid), FieldError>,
}

/// What the reader thread sends: a batch of rows, or why the file cannot be read.
type Chunk = Result<Vec<Row>, String>;

/// Chooses, per contract code, the version a beneficiary is attached to: the one in effect on
/// the file's date, else the newest.
fn contract_versions(contracts: Vec<ContractRecord>, on: Date) -> HashMap<String, ContractRecord> {
    let mut chosen: HashMap<String, ContractRecord> = HashMap::new();
    for c in contracts {
        let in_effect = c.effective_from <= on && c.effective_to.is_none_or(|t| on <= t);
        let better = match chosen.get(c.code.as_str()) {
            None => true,
            Some(old) => {
                let old_in_effect =
                    old.effective_from <= on && old.effective_to.is_none_or(|t| on <= t);
                (in_effect, c.version) > (old_in_effect, old.version)
            }
        };
        if better {
            chosen.insert(c.code.as_str().to_string(), c);
        }
    }
    chosen
}

/// Reads `reader` as CSV on the current (blocking) thread and sends batches to `tx`.
fn read_file<R: Read>(
    reader: R,
    on: Date,
    batch_size: usize,
    contracts: &HashMap<String, Uuid>,
    tx: &tokio::sync::mpsc::Sender<Chunk>,
) {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    match csv.read_byte_record(&mut record) {
        Ok(true) => {
            let fields: Vec<&[u8]> = record.iter().collect();
            if let Err(e) = parse::check_header(&fields) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
        Ok(false) => {
            let _ = tx.blocking_send(Err("the file is empty (no header line)".into()));
            return;
        }
        Err(e) => {
            let _ = tx.blocking_send(Err(csv_problem(&e)));
            return;
        }
    }
    let cap = batch_size.max(1);
    let mut rows: Vec<Row> = Vec::with_capacity(cap);
    let mut last_member: Option<Vec<u8>> = None;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let _ = tx.blocking_send(Err(csv_problem(&e)));
                return;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        let member = record.get(0).map(<[u8]>::to_vec);
        // Cut at a member boundary once the batch is full (hard cap: twice the size).
        if rows.len() >= cap && (member != last_member || rows.len() >= 2 * cap) {
            if tx.blocking_send(Ok(std::mem::take(&mut rows))).is_err() {
                return;
            }
            rows.reserve(cap);
        }
        last_member = member;
        rows.push(Row {
            line,
            parsed: parse_record(&record, on, contracts),
        });
    }
    if !rows.is_empty() {
        let _ = tx.blocking_send(Ok(rows));
    }
}

fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("the file cannot be read: {}", io.kind()),
        _ => "the file is not CSV".to_string(),
    }
}

fn parse_record(
    record: &csv::ByteRecord,
    on: Date,
    contracts: &HashMap<String, Uuid>,
) -> Result<(Beneficiary, Uuid), FieldError> {
    let mut fields: Vec<&str> = Vec::with_capacity(record.len());
    for (i, f) in record.iter().enumerate() {
        let field = crate::synthetic::CSV_HEADER
            .get(i)
            .copied()
            .unwrap_or("line");
        fields.push(
            std::str::from_utf8(f).map_err(|_| FieldError::new(field, "is not valid UTF-8"))?,
        );
    }
    let b = parse::parse_row(&fields, on)?;
    let contract = contracts.get(&b.contract_code).copied().ok_or_else(|| {
        FieldError::new("contract_code", "unknown contract code for this insurer")
    })?;
    Ok((b, contract))
}

/// Imports `reader` (a beneficiary CSV) for `insurer`. `progress` is called with the rows
/// read so far after each batch.
pub async fn import<R: Read + Send + 'static>(
    ports: &Ports,
    insurer: &InsurerRecord,
    options: &ImportOptions,
    reader: R,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    let on = options.date.unwrap_or_else(|| ports.clock.today());
    ports
        .vault
        .ensure_scope(ports, insurer.id)
        .await
        .map_err(|e| ImportError::Keys(e.to_string()))?;
    let contracts = contract_versions(ports.store.list_contracts(insurer.id).await?, on);
    let contract_ids: HashMap<String, Uuid> =
        contracts.iter().map(|(k, c)| (k.clone(), c.id)).collect();
    let contracts_by_id: HashMap<Uuid, ContractRecord> =
        contracts.into_values().map(|c| (c.id, c)).collect();

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(1);
    let batch_size = options.pipeline_batch.min(options.batch_size).max(1);
    let reader_thread = tokio::task::spawn_blocking(move || {
        read_file(reader, on, batch_size, &contract_ids, &tx);
    });

    // The header is checked before anything is written.
    let first = rx.recv().await;
    let first = match first {
        Some(Err(e)) => return Err(ImportError::File(e)),
        other => other,
    };

    let now = ports.clock.now();
    let mut record = ImportRecord {
        id: ports.new_id(),
        insurer_id: insurer.id,
        digest: options.digest.clone(),
        idempotency_key: options.idempotency_key.clone(),
        full: options.full,
        file_date: on,
        state: ImportState::Running,
        read: 0,
        inserted: 0,
        updated: 0,
        unchanged: 0,
        closed: 0,
        rejected: 0,
        started_at: now,
        finished_at: None,
    };
    ports.store.insert_import(&record).await?;
    let mut report = ImportReport {
        import_id: record.id,
        ..ImportReport::default()
    };
    let ctx = Ctx {
        shared: Arc::new(Shared {
            ports: ports.clone(),
            insurer: insurer.clone(),
            on,
            card_domains: contracts_by_id
                .iter()
                .map(|(id, c)| {
                    let domains = crate::cards::card_domains_text(c).map_err(|e| e.to_string());
                    (*id, domains)
                })
                .collect(),
            contracts: contracts_by_id,
            issuer: crate::cards::CardIssuer::from_vault(&ports.vault),
        }),
        import_id: record.id,
        full: options.full,
        cards: options.issue_cards,
    };

    let mut next = first;
    let mut writer = Writer::new(Arc::clone(&ports.store), options.batch_size);
    let outcome: Result<(), ImportError> = async {
        while let Some(chunk) = next {
            let rows = chunk.map_err(ImportError::File)?;
            ctx.apply_rows(rows, &mut report, &mut writer).await?;
            progress(report.read);
            next = rx.recv().await;
        }
        writer.commit().await?;
        if options.full {
            ctx.close_unseen(&mut report).await?;
        }
        Ok(())
    }
    .await;
    // On failure, the batches already sent (whole ones) commit before the import is marked.
    let _ = writer.commit().await;
    drop(rx);
    let _ = reader_thread.await;

    record.read = report.read;
    record.inserted = report.inserted;
    record.updated = report.updated;
    record.unchanged = report.unchanged;
    record.closed = report.closed;
    record.rejected = report.rejected;
    record.finished_at = Some(ports.clock.now());
    record.state = if outcome.is_ok() {
        ImportState::Done
    } else {
        ImportState::Failed
    };
    let finished = ports.store.update_import(&record).await;
    outcome?;
    finished?;
    Ok(report)
}

/// What every batch of one import shares, owned so that the CPU work (sealing, signing) can
/// run on blocking threads.
struct Shared {
    ports: Ports,
    insurer: InsurerRecord,
    on: Date,
    contracts: HashMap<Uuid, ContractRecord>,
    /// Each contract's card domain list, its guarantee table read once (or why it cannot be).
    card_domains: HashMap<Uuid, Result<String, String>>,
    issuer: crate::cards::CardIssuer,
}

struct Ctx {
    shared: Arc<Shared>,
    import_id: Uuid,
    full: bool,
    cards: bool,
}

/// The import's writes: batches go, in file order, to a writer task that applies them in one
/// transaction (`Store::apply_beneficiary_batches`) until the transaction holds
/// `rows_per_transaction` rows of the file; the next batch opens the next transaction once
/// that one has committed. At most one batch waits for the writer.
struct Writer {
    store: Arc<dyn crate::store::Store>,
    rows_per_transaction: usize,
    pending: Option<Pending>,
}

/// A transaction not known to be committed yet.
struct Pending {
    /// The members of its batches: a batch naming one of them must see its rows, so its
    /// lookup waits for the commit.
    members: HashSet<MemberNumber>,
    /// Rows of the file its batches were prepared from.
    rows: usize,
    /// `None` once the transaction is closed (its last batch sent; committing).
    sender: Option<tokio::sync::mpsc::Sender<BeneficiaryBatch>>,
    write: tokio::task::JoinHandle<Result<usize, StoreError>>,
}

impl Writer {
    fn new(store: Arc<dyn crate::store::Store>, rows_per_transaction: usize) -> Self {
        Self {
            store,
            rows_per_transaction: rows_per_transaction.max(1),
            pending: None,
        }
    }

    /// Makes what was written for `members` visible to a lookup: commits the pending
    /// transaction first when one of its batches names one of them.
    async fn make_visible(&mut self, members: &[MemberNumber]) -> Result<(), ImportError> {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| members.iter().any(|m| p.members.contains(m)))
        {
            self.commit().await?;
        }
        Ok(())
    }

    /// Sends `batch`, prepared from `rows` rows of the file naming `members`, to the open
    /// transaction (opening one once the previous has committed), and closes the transaction
    /// once it holds `rows_per_transaction` rows.
    async fn send(
        &mut self,
        batch: BeneficiaryBatch,
        members: Vec<MemberNumber>,
        rows: usize,
    ) -> Result<(), ImportError> {
        if self.pending.as_ref().is_some_and(|p| p.sender.is_none()) {
            self.commit().await?;
        }
        let pending = match &mut self.pending {
            Some(p) => p,
            None => {
                let (sender, receiver) = tokio::sync::mpsc::channel(1);
                let store = Arc::clone(&self.store);
                self.pending.insert(Pending {
                    members: HashSet::new(),
                    rows: 0,
                    sender: Some(sender),
                    write: tokio::spawn(
                        async move { store.apply_beneficiary_batches(receiver).await },
                    ),
                })
            }
        };
        let sent = match &pending.sender {
            Some(sender) => sender.send(batch).await.is_ok(),
            None => false,
        };
        if !sent {
            // The writer stopped on an error: that error.
            self.commit().await?;
            return Err(ImportError::Worker("the batch writer stopped"));
        }
        pending.members.extend(members);
        pending.rows += rows;
        if pending.rows >= self.rows_per_transaction {
            pending.sender = None;
        }
        Ok(())
    }

    /// Closes the pending transaction, if any, and waits for its commit.
    async fn commit(&mut self) -> Result<(), ImportError> {
        if let Some(mut p) = self.pending.take() {
            p.sender = None;
            p.write
                .await
                .map_err(|_| ImportError::Worker("the batch writer stopped"))??;
        }
        Ok(())
    }
}

/// A family member after the batch: the facts a card prints and its clear identity.
struct Member {
    valid_from: Date,
    valid_to: Option<Date>,
    quality: domain::beneficiaries::Quality,
    contract_id: Uuid,
    identity: Identity,
}

impl Member {
    fn stored(record: &BeneficiaryRecord, identity: Identity) -> Self {
        Self {
            valid_from: record.valid_from,
            valid_to: record.valid_to,
            quality: record.quality,
            contract_id: record.contract_id,
            identity,
        }
    }
}

/// A row to seal: a new beneficiary, or a changed one (with its creation time).
struct ToSeal {
    id: Uuid,
    contract_id: Uuid,
    beneficiary: Beneficiary,
    created_at: Option<time::OffsetDateTime>,
}

type IdentityKey = (MemberNumber, u8, String);

/// Threads for the CPU work of a batch: the machine's cores.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `f` over `items` on up to [`workers`] scoped threads (contiguous parts, results in the
/// order of `items`). Small inputs stay on the calling thread.
fn parallel_map<T, R, F>(items: Vec<T>, f: F) -> Result<Vec<R>, ImportError>
where
    T: Send,
    R: Send,
    F: Fn(T) -> Result<R, ImportError> + Sync,
{
    let n = workers().min(items.len() / 32).max(1);
    if n == 1 {
        return items.into_iter().map(&f).collect();
    }
    let per = items.len().div_ceil(n);
    let mut parts: Vec<Vec<T>> = Vec::with_capacity(n);
    let mut it = items.into_iter();
    loop {
        let part: Vec<T> = it.by_ref().take(per).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next();
        let others: Vec<_> = parts
            .map(|p| scope.spawn(move || p.into_iter().map(f).collect::<Result<Vec<R>, _>>()))
            .collect();
        let mut out: Vec<R> = match first {
            Some(p) => p.into_iter().map(f).collect::<Result<Vec<R>, _>>()?,
            None => Vec::new(),
        };
        for h in others {
            let part = h
                .join()
                .map_err(|_| ImportError::Worker("a sealing thread stopped"))??;
            out.extend(part);
        }
        Ok(out)
    })
}

impl Shared {
    fn open(&self, record: &BeneficiaryRecord) -> Result<Identity, ImportError> {
        crate::beneficiaries::open_identity(&self.ports.vault, record)
            .map_err(|e| ImportError::Open(e.to_string()))
    }

    /// Seals `rows` and issues the cards of `families`, on every core.
    fn seal_and_sign(
        &self,
        rows: Vec<ToSeal>,
        families: Vec<(MemberNumber, Vec<Member>)>,
        now: time::OffsetDateTime,
    ) -> Result<(Vec<BeneficiaryRecord>, Vec<crate::store::CardRecord>), ImportError> {
        let records = parallel_map(rows, |r| {
            let mut record = crate::beneficiaries::new_record(
                &self.ports.vault,
                r.id,
                self.insurer.id,
                r.contract_id,
                &r.beneficiary,
                now,
            )
            .map_err(|_| ImportError::Seal)?;
            if let Some(created) = r.created_at {
                record.created_at = created;
            }
            Ok(record)
        })?;
        let cards = parallel_map(families, |(member, family)| {
            self.issue_card(&member, &family)
        })?;
        Ok((records, cards.into_iter().flatten().collect()))
    }

    /// The card of `family` for the file's year, clipped to the family's validity.
    fn issue_card(
        &self,
        member: &MemberNumber,
        family: &[Member],
    ) -> Result<Option<crate::store::CardRecord>, ImportError> {
        let year = self.on.year();
        let (Ok(start), Ok(end)) = (
            Date::from_calendar_date(year, Month::January, 1),
            Date::from_calendar_date(year, Month::December, 31),
        ) else {
            return Ok(None);
        };
        let mut in_period: Vec<&Member> = family
            .iter()
            .filter(|m| m.valid_from <= end && m.valid_to.is_none_or(|t| t >= start))
            .collect();
        if in_period.is_empty() {
            return Ok(None);
        }
        in_period.sort_by_key(|m| (quality_order(m.quality), m.identity.birth_rank.get()));
        let from = in_period
            .iter()
            .map(|m| m.valid_from)
            .min()
            .unwrap_or(start)
            .max(start);
        let to = in_period
            .iter()
            .map(|m| m.valid_to.unwrap_or(end))
            .max()
            .unwrap_or(end)
            .min(end);
        let Some(contract) = in_period
            .first()
            .and_then(|m| self.contracts.get(&m.contract_id))
        else {
            return Ok(None);
        };
        let domains = self
            .card_domains
            .get(&contract.id)
            .ok_or_else(|| ImportError::Cards("a contract's card domains are missing".into()))?
            .as_deref()
            .map_err(|e| ImportError::Cards(e.clone()))?;
        let card = self
            .issuer
            .issue_unprinted(
                &self.ports,
                &self.insurer,
                member,
                in_period.len(),
                contract,
                (from, to),
                domains,
            )
            .map_err(|e| ImportError::Cards(e.to_string()))?;
        Ok(Some(card))
    }
}

impl Ctx {
    /// Decides every row of a batch, seals and signs on blocking threads, then hands the
    /// batch to a writer task (after the previous batch's write has ended: one write in
    /// flight, in file order).
    async fn apply_rows(
        &self,
        rows: Vec<Row>,
        report: &mut ImportReport,
        writer: &mut Writer,
    ) -> Result<(), ImportError> {
        let shared = &self.shared;
        let insurer_id = shared.insurer.id;
        let now = shared.ports.clock.now();
        let read = rows.len();
        report.read += u64::try_from(read).unwrap_or(u64::MAX);
        let mut good: Vec<(u64, Beneficiary, Uuid)> = Vec::with_capacity(rows.len());
        for row in rows {
            match row.parsed {
                Ok((b, contract)) => good.push((row.line, b, contract)),
                Err(e) => report.reject(e.at(row.line)),
            }
        }
        let mut members: Vec<MemberNumber> = good
            .iter()
            .map(|(_, b, _)| b.member_number.clone())
            .collect();
        members.sort();
        members.dedup();
        // A member of a batch not committed yet: its rows must be visible to this lookup.
        writer.make_visible(&members).await?;
        let stored = shared
            .ports
            .store
            .find_beneficiaries_of_members(insurer_id, &members)
            .await?;
        // Identities of the stored rows, opened on every core (a re-import opens them all);
        // an identity that does not open fails the import only where it is needed.
        let (stored, opened) = if stored.is_empty() {
            (stored, Vec::new())
        } else {
            let s = Arc::clone(shared);
            tokio::task::spawn_blocking(move || {
                let opened: Vec<Result<Identity, String>> =
                    parallel_map(stored.iter().collect(), |r: &ImportedBeneficiary| {
                        Ok(s.open(&r.record).map_err(|e| e.to_string()))
                    })?;
                Ok::<_, ImportError>((stored, opened))
            })
            .await
            .map_err(|_| ImportError::Worker("an opening thread stopped"))??
        };
        let opened_identity = |i: usize| -> Result<&Identity, ImportError> {
            match opened.get(i) {
                Some(Ok(identity)) => Ok(identity),
                Some(Err(e)) => Err(ImportError::Open(e.clone())),
                None => Err(ImportError::Open("missing".into())),
            }
        };
        // Candidates by (member, rank, blind index).
        let index = shared.ports.vault.blind_index();
        let mut by_bucket: HashMap<(MemberNumber, u8, u32), Vec<usize>> = HashMap::new();
        for (i, s) in stored.iter().enumerate() {
            by_bucket
                .entry((
                    s.record.member_number.clone(),
                    s.record.birth_rank.get(),
                    s.record.nir_index,
                ))
                .or_default()
                .push(i);
        }
        let mut seen_in_batch: HashSet<IdentityKey> = HashSet::new();
        let mut batch = BeneficiaryBatch {
            insurer_id,
            import_id: self.import_id,
            ..BeneficiaryBatch::default()
        };
        // Members whose card must be (re)issued; the rows to seal (inserts, then updates).
        let mut card_members: HashSet<MemberNumber> = HashSet::new();
        let mut to_insert: Vec<ToSeal> = Vec::new();
        let mut to_update: Vec<ToSeal> = Vec::new();

        for (line, b, contract_id) in good {
            let key = (
                b.member_number.clone(),
                b.identity.birth_rank.get(),
                b.identity.nir.as_str().to_string(),
            );
            if !seen_in_batch.insert(key) {
                report.reject(
                    FieldError::new(
                        "nir",
                        "duplicate member_number, nir and birth_rank in the file",
                    )
                    .at(line),
                );
                continue;
            }
            let mut found: Option<usize> = None;
            if !stored.is_empty() {
                let nir_index = index.nir(&b.identity.nir);
                if let Some(candidates) = by_bucket.get(&(
                    b.member_number.clone(),
                    b.identity.birth_rank.get(),
                    nir_index,
                )) {
                    for &i in candidates {
                        if opened_identity(i)?.nir == b.identity.nir {
                            found = Some(i);
                            break;
                        }
                    }
                }
            }
            match found {
                None => {
                    card_members.insert(b.member_number.clone());
                    to_insert.push(ToSeal {
                        id: shared.ports.new_id(),
                        contract_id,
                        beneficiary: b,
                        created_at: None,
                    });
                    report.inserted += 1;
                }
                Some(i) => {
                    let s: &ImportedBeneficiary = &stored[i];
                    if s.last_import_id == Some(self.import_id) {
                        report.reject(
                            FieldError::new(
                                "nir",
                                "duplicate member_number, nir and birth_rank in the file",
                            )
                            .at(line),
                        );
                        continue;
                    }
                    let old = &s.record;
                    let same_identity = *opened_identity(i)? == b.identity;
                    let same_validity =
                        old.valid_from == b.validity.from && old.valid_to == b.validity.to;
                    if same_identity
                        && same_validity
                        && old.quality == b.quality
                        && old.contract_id == contract_id
                    {
                        if self.full {
                            batch.seen.push(old.id);
                        }
                        report.unchanged += 1;
                        continue;
                    }
                    if !same_validity {
                        card_members.insert(b.member_number.clone());
                    }
                    to_update.push(ToSeal {
                        id: old.id,
                        contract_id,
                        beneficiary: b,
                        created_at: Some(old.created_at),
                    });
                    report.updated += 1;
                }
            }
        }

        // Each affected family as it will be after the batch.
        let mut families: Vec<(MemberNumber, Vec<Member>)> = Vec::new();
        if self.cards && !card_members.is_empty() {
            let mut by_member: HashMap<MemberNumber, Vec<Member>> = HashMap::new();
            let changed: HashSet<Uuid> = to_insert.iter().chain(&to_update).map(|r| r.id).collect();
            for (i, s) in stored.iter().enumerate() {
                if !card_members.contains(&s.record.member_number) || changed.contains(&s.record.id)
                {
                    continue;
                }
                let identity = opened_identity(i)?.clone();
                by_member
                    .entry(s.record.member_number.clone())
                    .or_default()
                    .push(Member::stored(&s.record, identity));
            }
            for r in to_insert.iter().chain(&to_update) {
                let b = &r.beneficiary;
                if card_members.contains(&b.member_number) {
                    by_member
                        .entry(b.member_number.clone())
                        .or_default()
                        .push(Member {
                            valid_from: b.validity.from,
                            valid_to: b.validity.to,
                            quality: b.quality,
                            contract_id: r.contract_id,
                            identity: b.identity.clone(),
                        });
                }
            }
            families = by_member.into_iter().collect();
            // File order of the families (deterministic card ids order within a batch).
            families.sort_by(|(a, _), (b, _)| a.cmp(b));
        }
        drop(opened);
        drop(stored);

        let inserts = to_insert.len();
        let mut rows = to_insert;
        rows.append(&mut to_update);
        if !(rows.is_empty() && families.is_empty()) {
            let s = Arc::clone(shared);
            let (mut records, cards) =
                tokio::task::spawn_blocking(move || s.seal_and_sign(rows, families, now))
                    .await
                    .map_err(|_| ImportError::Worker("a sealing thread stopped"))??;
            batch.updates = records.split_off(inserts);
            batch.inserts = records;
            batch.cards = cards;
        }
        if !(batch.inserts.is_empty() && batch.updates.is_empty() && batch.seen.is_empty()) {
            writer.send(batch, members, read).await?;
        }
        Ok(())
    }

    /// Full import: closes, a page at a time, what the import did not see.
    async fn close_unseen(&self, report: &mut ImportReport) -> Result<(), ImportError> {
        let shared = &self.shared;
        let insurer_id = shared.insurer.id;
        let page = u32::try_from(DEFAULT_BATCH).unwrap_or(2_000);
        let mut after: Option<Uuid> = None;
        loop {
            let rows = shared
                .ports
                .store
                .find_unseen_beneficiaries(insurer_id, self.import_id, shared.on, after, page)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            let now = shared.ports.clock.now();
            let mut batch = BeneficiaryBatch {
                insurer_id,
                import_id: self.import_id,
                ..BeneficiaryBatch::default()
            };
            for r in rows {
                let mut closed = r;
                closed.valid_to = Some(shared.on);
                closed.updated_at = now;
                batch.updates.push(closed);
            }
            report.closed += u64::try_from(batch.updates.len()).unwrap_or(u64::MAX);
            if self.cards {
                let mut members: Vec<MemberNumber> = batch
                    .updates
                    .iter()
                    .map(|r| r.member_number.clone())
                    .collect();
                members.sort();
                members.dedup();
                let closed_ids: HashMap<Uuid, &BeneficiaryRecord> =
                    batch.updates.iter().map(|r| (r.id, r)).collect();
                let stored = shared
                    .ports
                    .store
                    .find_beneficiaries_of_members(insurer_id, &members)
                    .await?;
                let mut families: HashMap<MemberNumber, Vec<Member>> = HashMap::new();
                for s in stored {
                    let record = closed_ids.get(&s.record.id).map_or(&s.record, |c| *c);
                    let identity = shared.open(record)?;
                    families
                        .entry(record.member_number.clone())
                        .or_default()
                        .push(Member::stored(record, identity));
                }
                let mut families: Vec<(MemberNumber, Vec<Member>)> = families.into_iter().collect();
                families.sort_by(|(a, _), (b, _)| a.cmp(b));
                let s = Arc::clone(shared);
                let (_, cards) =
                    tokio::task::spawn_blocking(move || s.seal_and_sign(Vec::new(), families, now))
                        .await
                        .map_err(|_| ImportError::Worker("a signing thread stopped"))??;
                batch.cards = cards;
            }
            shared.ports.store.apply_beneficiary_batch(&batch).await?;
        }
        Ok(())
    }
}

fn quality_order(q: domain::beneficiaries::Quality) -> u8 {
    use domain::beneficiaries::Quality::*;
    match q {
        Assure => 0,
        Conjoint => 1,
        Concubin => 2,
        Enfant => 3,
        Autre => 4,
    }
}

/// SHA-256 of everything `reader` yields, lower-case hex (the digest recorded with an import).
pub fn digest<R: Read>(mut reader: R) -> std::io::Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
