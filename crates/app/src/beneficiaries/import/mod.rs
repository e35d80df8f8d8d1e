//! Importing an insurer's beneficiary file (the CSV of docs/formats.md): streamed, in
//! batches, each batch written in one transaction.
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
//! # Bounded memory
//!
//! One batch (default 2,000 rows, cut at a member boundary so a family stays in one batch) is
//! in memory, plus the next one being parsed on a blocking thread. Duplicates are found within a
//! batch by a set, and across batches by the database: every row an import writes (or, in a full
//! import, sees) carries `last_import_id`; a candidate already marked with the running import's
//! id was named earlier in the same file. (A partial import does not mark unchanged rows, so a
//! repeat of an unchanged row in a later batch is counted unchanged again; it changes nothing.)
//! The close step of a full import pages through the insurer's unmarked rows by id, a batch at a
//! time. The errors list keeps the first [`MAX_ERRORS`]; `errors_truncated` counts the rest.
//!
//! # Killed at any moment
//!
//! Every batch (its inserts, updates, markers and cards) commits in one transaction, so a kill
//! leaves whole batches. A new run is a new import (`imports` row, migration 0011) that reads
//! the whole file again: rows the killed run wrote are now identical (unchanged), the rest are
//! inserted or updated, and a full run re-marks every row it sees with its own id before
//! closing the unmarked ones. The end state is the file's content whatever the point of the
//! kill; the killed run's `imports` row stays `running`.
//!
//! # Cards
//!
//! After each batch's decisions, every family with an inserted beneficiary or a changed
//! validity gets a card ([`crate::cards::CardIssuer::issue`]) for the file's calendar year,
//! clipped to the family's validity, listing the members in effect during it; the card is
//! written in the batch's transaction.

pub mod parse;

pub use parse::{FieldError, RowError};

use crate::Ports;
use crate::cards::CardBeneficiary;
use crate::store::{
    BeneficiaryBatch, BeneficiaryRecord, ContractRecord, ImportRecord, ImportState,
    ImportedBeneficiary, InsurerRecord, StoreError,
};
use domain::beneficiaries::{Beneficiary, Identity};
use domain::ids::MemberNumber;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use time::{Date, Month};
use uuid::Uuid;

/// Rows per batch (and per transaction) unless told otherwise.
pub const DEFAULT_BATCH: usize = 2_000;
/// Errors kept in the report; further ones are only counted.
pub const MAX_ERRORS: usize = 10_000;

/// How to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Close the insurer's beneficiaries missing from the file.
    pub full: bool,
    /// The file's date (default: today by the clock).
    pub date: Option<Date>,
    /// Rows per transaction.
    pub batch_size: usize,
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

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    let batch_size = options.batch_size.max(1);
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
        ports,
        insurer,
        import_id: record.id,
        full: options.full,
        on,
        contracts: &contracts_by_id,
        cards: options.issue_cards,
    };

    let mut next = first;
    let outcome: Result<(), ImportError> = async {
        while let Some(chunk) = next {
            let rows = chunk.map_err(ImportError::File)?;
            ctx.apply_rows(rows, &mut report).await?;
            progress(report.read);
            next = rx.recv().await;
        }
        if options.full {
            ctx.close_unseen(&mut report).await?;
        }
        Ok(())
    }
    .await;
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

struct Ctx<'a> {
    ports: &'a Ports,
    insurer: &'a InsurerRecord,
    import_id: Uuid,
    full: bool,
    on: Date,
    contracts: &'a HashMap<Uuid, ContractRecord>,
    cards: bool,
}

/// A family member after the batch: its record and clear identity.
struct Member {
    record: BeneficiaryRecord,
    identity: Identity,
}

type IdentityKey = (MemberNumber, u8, String);

impl Ctx<'_> {
    fn open(&self, record: &BeneficiaryRecord) -> Result<Identity, ImportError> {
        crate::beneficiaries::open_identity(&self.ports.vault, record)
            .map_err(|e| ImportError::Open(e.to_string()))
    }

    async fn apply_rows(
        &self,
        rows: Vec<Row>,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        let now = self.ports.clock.now();
        report.read += u64::try_from(rows.len()).unwrap_or(u64::MAX);
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
        let stored = self
            .ports
            .store
            .find_beneficiaries_of_members(self.insurer.id, &members)
            .await?;
        // Candidates by (member, rank, blind index); identities opened lazily.
        let index = self.ports.vault.blind_index();
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
        let mut opened: HashMap<usize, Identity> = HashMap::new();
        let mut seen_in_batch: HashSet<IdentityKey> = HashSet::new();
        let mut batch = BeneficiaryBatch {
            insurer_id: self.insurer.id,
            import_id: self.import_id,
            ..BeneficiaryBatch::default()
        };
        // Members whose card must be (re)issued, and the rows of the file (clear identities).
        let mut card_members: HashSet<MemberNumber> = HashSet::new();
        let mut written: HashMap<Uuid, Identity> = HashMap::new();
        let mut touched: HashSet<usize> = HashSet::new();

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
            let nir_index = index.nir(&b.identity.nir);
            let mut found: Option<usize> = None;
            if let Some(candidates) = by_bucket.get(&(
                b.member_number.clone(),
                b.identity.birth_rank.get(),
                nir_index,
            )) {
                for &i in candidates {
                    let identity = match opened.entry(i) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(self.open(&stored[i].record)?)
                        }
                    };
                    if identity.nir == b.identity.nir {
                        found = Some(i);
                        break;
                    }
                }
            }
            match found {
                None => {
                    let id = self.ports.new_id();
                    let record = crate::beneficiaries::new_record(
                        &self.ports.vault,
                        id,
                        self.insurer.id,
                        contract_id,
                        &b,
                        now,
                    )
                    .map_err(|_| ImportError::Seal)?;
                    card_members.insert(b.member_number.clone());
                    written.insert(id, b.identity.clone());
                    batch.inserts.push(record);
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
                    touched.insert(i);
                    let old = &s.record;
                    let same_identity = opened.get(&i).is_some_and(|id| *id == b.identity);
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
                    let mut record = crate::beneficiaries::new_record(
                        &self.ports.vault,
                        old.id,
                        self.insurer.id,
                        contract_id,
                        &b,
                        now,
                    )
                    .map_err(|_| ImportError::Seal)?;
                    record.created_at = old.created_at;
                    if !same_validity {
                        card_members.insert(b.member_number.clone());
                    }
                    written.insert(old.id, b.identity.clone());
                    batch.updates.push(record);
                    report.updated += 1;
                }
            }
        }

        if self.cards && !card_members.is_empty() {
            // Each affected family as it will be after the batch.
            let mut families: HashMap<MemberNumber, Vec<Member>> = HashMap::new();
            let changed: HashMap<Uuid, &BeneficiaryRecord> = batch
                .inserts
                .iter()
                .chain(&batch.updates)
                .map(|r| (r.id, r))
                .collect();
            for (i, s) in stored.iter().enumerate() {
                if !card_members.contains(&s.record.member_number)
                    || changed.contains_key(&s.record.id)
                {
                    continue;
                }
                let identity = match opened.remove(&i) {
                    Some(id) => id,
                    None => self.open(&s.record)?,
                };
                families
                    .entry(s.record.member_number.clone())
                    .or_default()
                    .push(Member {
                        record: s.record.clone(),
                        identity,
                    });
            }
            for (id, r) in &changed {
                if card_members.contains(&r.member_number)
                    && let Some(identity) = written.remove(id)
                {
                    families
                        .entry(r.member_number.clone())
                        .or_default()
                        .push(Member {
                            record: (*r).clone(),
                            identity,
                        });
                }
            }
            for (member, family) in &families {
                if let Some(card) = self.issue_card(member, family)? {
                    batch.cards.push(card);
                }
            }
        }
        if !(batch.inserts.is_empty() && batch.updates.is_empty() && batch.seen.is_empty()) {
            self.ports.store.apply_beneficiary_batch(&batch).await?;
        }
        Ok(())
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
            .filter(|m| m.record.valid_from <= end && m.record.valid_to.is_none_or(|t| t >= start))
            .collect();
        if in_period.is_empty() {
            return Ok(None);
        }
        in_period.sort_by_key(|m| (quality_order(m.record.quality), m.record.birth_rank.get()));
        let from = in_period
            .iter()
            .map(|m| m.record.valid_from)
            .min()
            .unwrap_or(start)
            .max(start);
        let to = in_period
            .iter()
            .map(|m| m.record.valid_to.unwrap_or(end))
            .max()
            .unwrap_or(end)
            .min(end);
        let Some(contract) = in_period
            .first()
            .and_then(|m| self.contracts.get(&m.record.contract_id))
        else {
            return Ok(None);
        };
        let printed: Vec<CardBeneficiary> = in_period
            .iter()
            .map(|m| CardBeneficiary {
                first_name: m.identity.first_name.clone(),
                birth_date: m.identity.birth_date,
                birth_rank: m.identity.birth_rank,
            })
            .collect();
        let card = crate::cards::issue(
            self.ports,
            self.insurer,
            member,
            &printed,
            contract,
            (from, to),
        )
        .map_err(|e| ImportError::Cards(e.to_string()))?;
        Ok(Some(card.record))
    }

    /// Full import: closes, a page at a time, what the import did not see.
    async fn close_unseen(&self, report: &mut ImportReport) -> Result<(), ImportError> {
        let page = u32::try_from(DEFAULT_BATCH).unwrap_or(2_000);
        let mut after: Option<Uuid> = None;
        loop {
            let rows = self
                .ports
                .store
                .find_unseen_beneficiaries(self.insurer.id, self.import_id, self.on, after, page)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            let now = self.ports.clock.now();
            let mut batch = BeneficiaryBatch {
                insurer_id: self.insurer.id,
                import_id: self.import_id,
                ..BeneficiaryBatch::default()
            };
            for r in rows {
                let mut closed = r;
                closed.valid_to = Some(self.on);
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
                let stored = self
                    .ports
                    .store
                    .find_beneficiaries_of_members(self.insurer.id, &members)
                    .await?;
                let mut families: HashMap<MemberNumber, Vec<Member>> = HashMap::new();
                for s in stored {
                    let record = closed_ids
                        .get(&s.record.id)
                        .map_or(s.record, |c| (*c).clone());
                    let identity = self.open(&record)?;
                    families
                        .entry(record.member_number.clone())
                        .or_default()
                        .push(Member { record, identity });
                }
                for (member, family) in &families {
                    if let Some(card) = self.issue_card(member, family)? {
                        batch.cards.push(card);
                    }
                }
            }
            self.ports.store.apply_beneficiary_batch(&batch).await?;
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
