//! Payment runs, insurer bills and IBAN changes: the app layer over `domain::payments`.
//!
//! A run, exactly once:
//! 1. due IBAN changes are applied ([`iban::apply_due`]);
//! 2. [`store::PaymentsStore::claim_payment_run`] records the run and claims its lines in
//!    ONE transaction (or hands back the run of the same cut-off date left `claimed` by a
//!    run killed half-way: same id, same creation time, same lines, same payees);
//! 3. the payees' IBANs are unsealed in memory only, `domain::payments::build_run` builds the
//!    run, and the files are written (each to a temporary name, then renamed):
//!    `OUT/<run id>/pain.001.xml`, `OUT/<run id>/statement-<statement id>.csv` per
//!    transfer, `OUT/<run id>/run.json` (the summary, no IBAN);
//! 4. the transfers are recorded and the run marked `written`.
//!
//! The pure core is deterministic given the run id, the creation time, the execution date
//! and the lines, so a resumed run writes the same bytes.

pub mod iban;
pub mod store;

use crate::Ports;
use crate::store::StoreError;
use crypto::{FieldRef, Sealer};
use domain::contracts::ContractCode;
use domain::ids::AmcNumber;
use domain::money::Money;
use domain::payments::billing::{self, BillingPeriod, InsurerBill};
use domain::payments::{
    BilledLine, Debtor, PaidLine, PayableLine, Payee, PaymentError, PaymentRun, RunParams,
    build_run, pain001, statement,
};
use domain::rights::CareDomain;
use std::io::Write;
use std::path::{Path, PathBuf};
use store::{PaymentRunRecord, RunLineRecord, RunStatus, TransferRecord};
use time::Date;
use uuid::Uuid;

/// The pain.001 file's name in a run directory.
pub const PAIN001_FILE: &str = "pain.001.xml";
/// The run summary's name in a run directory.
pub const SUMMARY_FILE: &str = "run.json";

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// Bad input: names the field and the reason.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("not found")]
    NotFound,
    /// The caller may see this but not do it (an operator who is not an administrator).
    #[error("forbidden")]
    Forbidden,
    /// A sensitive action needs a fresh user-verified passkey assertion.
    #[error("a fresh passkey check is required")]
    StepUpRequired,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// A sealed value could not be opened or sealed (never says which value).
    #[error("the vault refused a sealed bank detail of {what}")]
    Vault { what: String },
    #[error("writing {path}: {reason}")]
    Io { path: String, reason: String },
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub run: PaymentRunRecord,
    /// True when a run left half-way was finished instead of a new one claimed.
    pub resumed: bool,
    pub dir: PathBuf,
    pub transfers: Vec<TransferRecord>,
    pub total: Money,
    pub line_count: usize,
}

impl RunOutcome {
    /// One line for people: ids, counts, the total and where the files are (no IBAN).
    pub fn summary(&self) -> String {
        format!(
            "payment run {}{}: {} transfers, {} lines, {} EUR in {}",
            self.run.id,
            if self.resumed { " (resumed)" } else { "" },
            self.transfers.len(),
            self.line_count,
            self.total,
            self.dir.display()
        )
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> PaymentsError + '_ {
    move |e| PaymentsError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The id a line carries through the pure core: the invoice id with the line number folded
/// into its last 32 bits (unique within a run: `build_run` refuses a duplicate).
pub fn line_id(invoice_id: Uuid, line_no: u32) -> Uuid {
    Uuid::from_u128(invoice_id.as_u128() ^ u128::from(line_no))
}

/// The invoice reference on statements and bills: the invoice id without hyphens
/// (32 characters, the SEPA reference alphabet).
pub fn invoice_ref(invoice_id: Uuid) -> String {
    invoice_id.simple().to_string()
}

fn corrupt(what: &str) -> PaymentsError {
    PaymentsError::Store(StoreError::Corrupt(format!("{what} is not valid")))
}

fn paid_line(l: &RunLineRecord) -> Result<PayableLine, PaymentsError> {
    Ok(PayableLine {
        line_id: line_id(l.invoice_id, l.line_no),
        invoice_ref: invoice_ref(l.invoice_id),
        line_no: l.line_no,
        professional_id: l.practice_id,
        insurer: AmcNumber::parse(&l.insurer_amc).map_err(|_| corrupt("insurer amc"))?,
        domain: l
            .domain
            .parse::<CareDomain>()
            .map_err(|_| corrupt("line domain"))?,
        contract: ContractCode::parse(&l.contract_code).map_err(|_| corrupt("contract code"))?,
        amount: Money::from_cents(l.amc_cents),
        care_date: l.care_date,
    })
}

/// Rebuilds the run of `record` from the store (lines and payees as claimed).
pub async fn rebuild(
    ports: &Ports,
    record: &PaymentRunRecord,
) -> Result<PaymentRun, PaymentsError> {
    let lines = ports.store.list_run_lines(record.id).await?;
    let payees = ports.store.list_run_payees(record.id).await?;
    let sealer = ports
        .vault
        .sealer(crypto::envelope::PLATFORM_SCOPE)
        .map_err(|_| PaymentsError::Vault {
            what: "the platform".into(),
        })?;
    let mut unsealed = Vec::with_capacity(payees.len());
    for p in &payees {
        let iban = sealer
            .open_string(
                &FieldRef::new("practices", "iban", p.practice_id),
                &p.iban_sealed,
            )
            .map_err(|_| PaymentsError::Vault {
                what: format!("practice {}", p.practice_id),
            })?;
        unsealed.push(Payee::parse(p.practice_id, &p.name, &iban, None)?);
    }
    let lines = lines.iter().map(paid_line).collect::<Result<Vec<_>, _>>()?;
    Ok(build_run(
        RunParams {
            run_id: record.id,
            created_at: record.created_at,
            execution_date: record.execution_date,
        },
        unsealed,
        lines,
    )?)
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename (0600).
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, PaymentsError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(path)
}

/// The run summary (`run.json`): ids, dates, amounts; no IBAN, no name.
pub fn summary_json(run: &PaymentRun, cutoff: Date) -> serde_json::Value {
    serde_json::json!({
        "run_id": run.run_id(),
        "reference": run.reference(),
        "cutoff_date": cutoff.to_string(),
        "execution_date": run.execution_date().to_string(),
        "transfers": run.transfers().iter().map(|t| serde_json::json!({
            "seq": t.seq(),
            "statement_id": t.statement_id(),
            "practice_id": t.payee().professional_id(),
            "lines": t.lines().len(),
            "amount": t.amount().to_string(),
            "statement_file": statement::file_name(t),
        })).collect::<Vec<_>>(),
        "line_count": run.line_count(),
        "total": run.total().to_string(),
        "pain001_file": PAIN001_FILE,
    })
}

/// Writes every file of the run into `out/<run id>/` and answers the transfers.
pub fn write_files(
    run: &PaymentRun,
    cutoff: Date,
    debtor: &Debtor,
    out: &Path,
) -> Result<(PathBuf, Vec<TransferRecord>), PaymentsError> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = out.join(run.run_id().to_string());
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io_err(&dir))?;
    let mut transfers = Vec::with_capacity(run.transfers().len());
    for t in run.transfers() {
        let csv = statement::write_csv(run, t, Vec::new())?;
        write_file(&dir, &statement::file_name(t), &csv)?;
        transfers.push(TransferRecord {
            run_id: run.run_id(),
            practice_id: t.payee().professional_id(),
            seq: t.seq(),
            statement_id: t.statement_id().to_string(),
            execution_date: run.execution_date(),
            amount_cents: t.amount().cents(),
            line_count: t.lines().len() as u64,
            statement_csv: String::from_utf8(csv).map_err(|_| PaymentsError::Io {
                path: statement::file_name(t),
                reason: "not UTF-8".into(),
            })?,
        });
    }
    let xml = pain001::to_vec(run, debtor)?;
    write_file(&dir, PAIN001_FILE, &xml)?;
    let summary =
        serde_json::to_vec_pretty(&summary_json(run, cutoff)).map_err(|e| PaymentsError::Io {
            path: SUMMARY_FILE.into(),
            reason: e.to_string(),
        })?;
    write_file(&dir, SUMMARY_FILE, &summary)?;
    Ok((dir, transfers))
}

/// Pays every accepted, unpaid line with a care date on or before `date` (the execution
/// date too), or finishes the run of that date left half-way. `None`: nothing to pay.
pub async fn run(
    ports: &Ports,
    debtor: &Debtor,
    date: Date,
    out: &Path,
    by: Option<Uuid>,
) -> Result<Option<RunOutcome>, PaymentsError> {
    iban::apply_due(ports).await?;
    let now = ports.clock.now();
    let created_at = now.replace_nanosecond(0).unwrap_or(now);
    let new = PaymentRunRecord {
        id: ports.new_id(),
        cutoff_date: date,
        execution_date: date,
        status: RunStatus::Claimed,
        created_by: by,
        created_at,
        written_at: None,
        line_count: 0,
        transfer_count: 0,
        total_cents: 0,
    };
    let Some(record) = ports.store.claim_payment_run(&new).await? else {
        return Ok(None);
    };
    let resumed = record.id != new.id;
    let built = rebuild(ports, &record).await?;
    let (dir, transfers) = write_files(&built, record.cutoff_date, debtor, out)?;
    ports
        .store
        .complete_payment_run(
            record.id,
            &transfers,
            built.total().cents(),
            ports.clock.now(),
        )
        .await?;
    tracing::info!(
        event = "payment_run_written",
        run_id = %record.id,
        resumed,
        transfers = transfers.len(),
        lines = built.line_count(),
        total_cents = built.total().cents(),
        "payment run written"
    );
    let record = ports.store.get_payment_run(record.id).await?;
    Ok(Some(RunOutcome {
        run: record,
        resumed,
        dir,
        transfers,
        total: built.total(),
        line_count: built.line_count(),
    }))
}

impl From<crate::accounts::AccessError> for PaymentsError {
    fn from(e: crate::accounts::AccessError) -> Self {
        match e {
            crate::accounts::AccessError::Forbidden => PaymentsError::Forbidden,
            crate::accounts::AccessError::StepUpRequired => PaymentsError::StepUpRequired,
            _ => PaymentsError::NotFound,
        }
    }
}

/// A payment run started by `actor` from the operator console: operator administrators only,
/// with a passkey check at most `step_up` old; otherwise as [`run`].
pub async fn run_as(
    ports: &Ports,
    actor: &crate::accounts::Actor,
    step_up: time::Duration,
    debtor: &Debtor,
    date: Date,
    out: &Path,
) -> Result<Option<RunOutcome>, PaymentsError> {
    crate::accounts::policy::may_move_money(actor)?;
    crate::accounts::require_step_up(actor, ports.clock.now(), step_up)?;
    run(ports, debtor, date, out, Some(actor.account_id)).await
}

/// The latest payment runs, newest first, for the operator console.
pub async fn runs_for(
    ports: &Ports,
    actor: &crate::accounts::Actor,
    limit: u32,
) -> Result<Vec<PaymentRunRecord>, PaymentsError> {
    crate::accounts::policy::may_see_payment_desk(actor)?;
    Ok(ports.store.list_payment_runs(limit.clamp(1, 200)).await?)
}

/// The transfers received by the caller's own practice, newest first.
pub async fn received(
    ports: &Ports,
    actor: &crate::accounts::Actor,
    limit: u32,
) -> Result<Vec<TransferRecord>, PaymentsError> {
    let practice = crate::accounts::policy::own_practice(actor)?;
    Ok(ports
        .store
        .list_practice_transfers(practice, limit.clamp(1, 200))
        .await?)
}

/// One transfer (with its remittance statement) of the caller's own practice; another
/// practice's statement is `NotFound`, as an unknown one.
pub async fn statement_of(
    ports: &Ports,
    actor: &crate::accounts::Actor,
    statement_id: &str,
) -> Result<TransferRecord, PaymentsError> {
    let practice = crate::accounts::policy::own_practice(actor)?;
    ports
        .store
        .find_practice_transfer(practice, statement_id)
        .await?
        .ok_or(PaymentsError::NotFound)
}

/// Writes the files of an existing run again (for a lost directory): the same bytes.
pub async fn rewrite(
    ports: &Ports,
    debtor: &Debtor,
    run_id: Uuid,
    out: &Path,
) -> Result<PathBuf, PaymentsError> {
    let record = match ports.store.get_payment_run(run_id).await {
        Err(StoreError::NotFound) => return Err(PaymentsError::NotFound),
        other => other?,
    };
    let built = rebuild(ports, &record).await?;
    Ok(write_files(&built, record.cutoff_date, debtor, out)?.0)
}

/// The bill of the insurer of `amc` for `actor`: its own staff and machines, or the operator;
/// anyone else (and an unknown AMC number) gets `NotFound`.
pub async fn bill_for(
    ports: &Ports,
    actor: &crate::accounts::Actor,
    amc: &str,
    from: Date,
    to: Date,
) -> Result<InsurerBill, PaymentsError> {
    let amc = domain::ids::AmcNumber::parse(amc).map_err(|_| PaymentsError::NotFound)?;
    let insurer = ports
        .store
        .find_insurer_by_amc(&amc)
        .await?
        .ok_or(PaymentsError::NotFound)?;
    let allowed = actor.is_operator()
        || (actor.role == domain::accounts::Role::InsurerStaff
            && actor.organisation_id == insurer.id);
    if !allowed {
        return Err(PaymentsError::NotFound);
    }
    bill(ports, insurer.id, from, to).await
}

/// The insurers whose bills `actor` may see: its own insurer for insurer staff, every insurer
/// for operators, none for anyone else.
pub async fn billable_insurers(
    ports: &Ports,
    actor: &crate::accounts::Actor,
) -> Result<Vec<crate::store::InsurerRecord>, PaymentsError> {
    if actor.is_operator() {
        return Ok(ports.store.list_insurers().await?);
    }
    match crate::accounts::policy::own_insurer(actor) {
        Ok(id) => Ok(vec![ports.store.get_insurer(id).await?]),
        Err(_) => Ok(Vec::new()),
    }
}

/// The bill of insurer `insurer_id` for the runs executed from `from` to `to` (inclusive).
pub async fn bill(
    ports: &Ports,
    insurer_id: Uuid,
    from: Date,
    to: Date,
) -> Result<InsurerBill, PaymentsError> {
    let period = BillingPeriod::new(from, to).map_err(|e| PaymentsError::Invalid {
        field: "period",
        reason: e.to_string(),
    })?;
    let insurer = match ports.store.get_insurer(insurer_id).await {
        Err(StoreError::NotFound) => return Err(PaymentsError::NotFound),
        other => other?,
    };
    let rows = ports.store.list_billed_lines(insurer_id, from, to).await?;
    let mut paid = Vec::with_capacity(rows.len());
    for r in &rows {
        let l = paid_line(&r.line)?;
        paid.push(PaidLine {
            line_id: l.line_id,
            invoice_ref: l.invoice_ref,
            line_no: l.line_no,
            insurer: l.insurer,
            domain: l.domain,
            contract: l.contract,
            amount: l.amount,
            care_date: l.care_date,
        });
    }
    let billed = rows.iter().zip(paid.iter()).map(|(r, line)| BilledLine {
        run_id: r.run_id,
        execution_date: r.execution_date,
        statement_id: &r.statement_id,
        line,
    });
    let bills = billing::bill(period, billed)?;
    Ok(bills
        .into_iter()
        .find(|b| b.insurer == insurer.amc)
        .unwrap_or(InsurerBill {
            insurer: insurer.amc,
            period,
            lines: 0,
            total: Money::ZERO,
            runs: Vec::new(),
            groups: Vec::new(),
        }))
}

/// The bill as CSV or JSON bytes.
pub fn bill_bytes(bill: &InsurerBill, json: bool) -> Result<Vec<u8>, PaymentsError> {
    Ok(if json {
        billing::write_json(bill, Vec::new())?
    } else {
        billing::write_csv(bill, Vec::new())?
    })
}
