//! Payments: from accepted, unpaid invoice lines to a payment run — one SEPA credit transfer
//! per professional (to that professional's IBAN) per run — and everything written from it:
//! the ISO 20022 `pain.001.001.09` file ([`pain001`]), a remittance statement per transfer
//! ([`statement`]) and the insurers' bills ([`billing`]).
//!
//! Pure: no clock, no randomness, no file. The caller (app layer) passes the run id, the
//! creation time and the execution date, the payees (bank details already unsealed) and the
//! lines; the writers take any `std::io::Write` it provides (a file, a `Vec<u8>`).
//!
//! ```text
//! build_run(RunParams, Vec<Payee>, Vec<PayableLine>) -> PaymentRun
//!   PaymentRun::paid_line_ids()           mark these lines paid, in the same transaction
//!                                         that records the run
//!   pain001::write(&run, &Debtor, w)      the bank file
//!   statement::write_csv(&run, &t, w)     one per transfer (professional)
//!   billing::bill(period, run.billed_lines()…) -> Vec<InsurerBill>; billing::write_csv/json
//! ```
//!
//! Rules: amounts are integer cents and strictly positive; a line appears once; every line's
//! professional has exactly one payee; a transfer holds at most 999 999 999.99 EUR (the SEPA
//! maximum) and the run total fits a pain.001 control sum (18 digits). Transfers are ordered
//! by professional id, lines within a transfer by invoice reference, line number and line id,
//! so the same input in any order gives the same run, byte for byte.

pub mod billing;
pub mod pain001;
pub mod sepa_text;
pub mod statement;

use crate::contracts::ContractCode;
use crate::ids::{AmcNumber, Bic, Iban};
use crate::money::Money;
use crate::rights::CareDomain;
use std::collections::{HashMap, HashSet};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Longest name in a SEPA file (EPC guidelines: 70 characters).
pub const MAX_NAME_CHARS: usize = 70;
/// Longest unstructured remittance information (`RmtInf/Ustrd`).
pub const MAX_REMITTANCE_CHARS: usize = 140;
/// Longest invoice reference accepted on a line.
pub const MAX_INVOICE_REF_CHARS: usize = 35;
/// The SEPA maximum for one credit transfer: 999 999 999.99 EUR.
pub const MAX_TRANSFER: Money = Money::from_cents(99_999_999_999);
/// The largest control sum a pain.001 file can carry (18 digits, two of them decimals).
pub const MAX_RUN_TOTAL: Money = Money::from_cents(999_999_999_999_999_999);
/// Most transfers in one run (the sequence number in a statement id has at most 8 digits).
pub const MAX_TRANSFERS: usize = 99_999_999;

/// Why a run could not be built or written. Errors name the field and the reason, and the
/// line or professional (by id) when there is one; never an IBAN, a name or a patient field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("line {line_id}: {field}: {reason}")]
    Line {
        line_id: Uuid,
        field: &'static str,
        reason: String,
    },
    #[error("professional {professional_id}: {field}: {reason}")]
    Payee {
        professional_id: Uuid,
        field: &'static str,
        reason: String,
    },
    #[error("{field}: amount overflows")]
    Overflow { field: &'static str },
    #[error("writing the {what} failed: {reason}")]
    Write { what: &'static str, reason: String },
}

/// Who is paid: a professional (or practice) and its confirmed bank details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    professional_id: Uuid,
    name: String,
    iban: Iban,
    bic: Option<Bic>,
}

impl Payee {
    /// The name is transliterated to the SEPA character set and cut to 70 characters; a name
    /// with no usable character is refused. The IBAN and BIC are already valid by type.
    pub fn new(
        professional_id: Uuid,
        name: &str,
        iban: Iban,
        bic: Option<Bic>,
    ) -> Result<Self, PaymentError> {
        let name = sepa_text::to_sepa_text(name, MAX_NAME_CHARS).ok_or(PaymentError::Payee {
            professional_id,
            field: "payee_name",
            reason: "has no letter or digit of the SEPA character set".into(),
        })?;
        Ok(Self {
            professional_id,
            name,
            iban,
            bic,
        })
    }

    /// Parses the IBAN and BIC as well; errors name `payee_iban` or `payee_bic`.
    pub fn parse(
        professional_id: Uuid,
        name: &str,
        iban: &str,
        bic: Option<&str>,
    ) -> Result<Self, PaymentError> {
        let iban = Iban::parse(iban).map_err(|e| PaymentError::Payee {
            professional_id,
            field: "payee_iban",
            reason: e.reason,
        })?;
        let bic = bic
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(Bic::parse)
            .transpose()
            .map_err(|e| PaymentError::Payee {
                professional_id,
                field: "payee_bic",
                reason: e.reason,
            })?;
        Self::new(professional_id, name, iban, bic)
    }

    pub fn professional_id(&self) -> Uuid {
        self.professional_id
    }
    /// The name as it goes into the SEPA file.
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn iban(&self) -> &Iban {
        &self.iban
    }
    pub fn bic(&self) -> Option<&Bic> {
        self.bic.as_ref()
    }
}

/// The platform's settlement account, debited by the run (from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    name: String,
    iban: Iban,
    bic: Bic,
}

impl Debtor {
    /// `name` is also the initiating party; transliterated and cut like a payee's.
    pub fn new(name: &str, iban: Iban, bic: Bic) -> Result<Self, PaymentError> {
        let name = sepa_text::to_sepa_text(name, MAX_NAME_CHARS).ok_or(PaymentError::Invalid {
            field: "debtor_name",
            reason: "has no letter or digit of the SEPA character set".into(),
        })?;
        Ok(Self { name, iban, bic })
    }

    /// Parses the IBAN and BIC too; errors name `debtor_iban` or `debtor_bic`.
    pub fn parse(name: &str, iban: &str, bic: &str) -> Result<Self, PaymentError> {
        let iban = Iban::parse(iban).map_err(|e| PaymentError::Invalid {
            field: "debtor_iban",
            reason: e.reason,
        })?;
        let bic = Bic::parse(bic).map_err(|e| PaymentError::Invalid {
            field: "debtor_bic",
            reason: e.reason,
        })?;
        Self::new(name, iban, bic)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn iban(&self) -> &Iban {
        &self.iban
    }
    pub fn bic(&self) -> &Bic {
        &self.bic
    }
}

/// One accepted, unpaid invoice line as the app layer reads it from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayableLine {
    /// The invoice line's id: what gets marked paid.
    pub line_id: Uuid,
    /// The invoice reference the professional knows (never a patient identifier):
    /// 1 to 35 characters, ASCII letters and digits, `-`, `/` or `.`, starting with a letter or
    /// a digit.
    pub invoice_ref: String,
    /// The line number within the invoice.
    pub line_no: u32,
    /// Who is paid: must match exactly one [`Payee`].
    pub professional_id: Uuid,
    /// On whose behalf (billed to that insurer).
    pub insurer: AmcNumber,
    pub domain: CareDomain,
    pub contract: ContractCode,
    /// The AMC amount of the line, strictly positive.
    pub amount: Money,
    pub care_date: Date,
}

/// What identifies the run: chosen by the app layer (`run_id` from its id generator,
/// `created_at` from its clock, `execution_date` from the operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunParams {
    pub run_id: Uuid,
    /// `GrpHdr/CreDtTm`.
    pub created_at: OffsetDateTime,
    /// `ReqdExctnDt/Dt`: when the bank executes the transfers.
    pub execution_date: Date,
}

/// A line once it is in a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidLine {
    pub line_id: Uuid,
    pub invoice_ref: String,
    pub line_no: u32,
    pub insurer: AmcNumber,
    pub domain: CareDomain,
    pub contract: ContractCode,
    pub amount: Money,
    pub care_date: Date,
}

/// One SEPA credit transfer: every line of one professional in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    seq: u32,
    statement_id: String,
    remittance: String,
    payee: Payee,
    amount: Money,
    lines: Vec<PaidLine>,
}

impl Transfer {
    /// 1-based position in the run.
    pub fn seq(&self) -> u32 {
        self.seq
    }
    /// `{run reference}-{seq}`, at most 35 characters: the remittance statement's id, and the
    /// transfer's `EndToEndId` (the reference the professional's bank shows).
    pub fn statement_id(&self) -> &str {
        &self.statement_id
    }
    /// `RmtInf/Ustrd`: at most 140 characters of the SEPA set, naming the statement.
    pub fn remittance(&self) -> &str {
        &self.remittance
    }
    pub fn payee(&self) -> &Payee {
        &self.payee
    }
    pub fn amount(&self) -> Money {
        self.amount
    }
    pub fn lines(&self) -> &[PaidLine] {
        &self.lines
    }
}

/// A built payment run. Only [`build_run`] makes one, so its invariants hold: every amount
/// positive, each line in exactly one transfer, `total` = Σ transfers = Σ lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRun {
    params: RunParams,
    reference: String,
    transfers: Vec<Transfer>,
    total: Money,
    line_count: usize,
}

/// A paid line with what the insurer's bill needs (see [`billing`]), borrowed from a run (or
/// from lines the app layer read back from the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BilledLine<'a> {
    pub run_id: Uuid,
    pub execution_date: Date,
    pub statement_id: &'a str,
    pub line: &'a PaidLine,
}

impl PaymentRun {
    pub fn run_id(&self) -> Uuid {
        self.params.run_id
    }
    pub fn params(&self) -> &RunParams {
        &self.params
    }
    /// The run id in Crockford base 32 (26 characters): `MsgId` and `PmtInfId` of the file.
    pub fn reference(&self) -> &str {
        &self.reference
    }
    pub fn execution_date(&self) -> Date {
        self.params.execution_date
    }
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }
    /// Σ transfers (= Σ lines), the file's control sum.
    pub fn total(&self) -> Money {
        self.total
    }
    pub fn line_count(&self) -> usize {
        self.line_count
    }
    /// No line to pay: nothing to write (a pain.001 needs a transfer).
    pub fn is_empty(&self) -> bool {
        self.transfers.is_empty()
    }
    /// Every line id of the run, sorted, each once: the app layer marks exactly these paid,
    /// with the run id, in the transaction that records the run.
    pub fn paid_line_ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .transfers
            .iter()
            .flat_map(|t| t.lines.iter().map(|l| l.line_id))
            .collect();
        ids.sort_unstable();
        ids
    }
    /// The transfer paying `professional_id`, if any.
    pub fn transfer_for(&self, professional_id: Uuid) -> Option<&Transfer> {
        self.transfers
            .binary_search_by_key(&professional_id, |t| t.payee.professional_id)
            .ok()
            .and_then(|i| self.transfers.get(i))
    }
    /// Every line with its run and statement, for [`billing::bill`].
    pub fn billed_lines(&self) -> impl Iterator<Item = BilledLine<'_>> + '_ {
        self.transfers.iter().flat_map(move |t| {
            t.lines.iter().map(move |l| BilledLine {
                run_id: self.params.run_id,
                execution_date: self.params.execution_date,
                statement_id: &t.statement_id,
                line: l,
            })
        })
    }
}

fn check_invoice_ref(line: &PayableLine) -> Result<(), PaymentError> {
    let r = line.invoice_ref.as_bytes();
    let ok = !r.is_empty()
        && r.len() <= MAX_INVOICE_REF_CHARS
        && r[0].is_ascii_alphanumeric()
        && r.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(PaymentError::Line {
            line_id: line.line_id,
            field: "invoice_reference",
            reason: format!(
                "must be 1 to {MAX_INVOICE_REF_CHARS} ASCII letters, digits, '-', '/' or '.', \
                 starting with a letter or a digit"
            ),
        })
    }
}

/// The remittance information of a transfer (`RmtInf/Ustrd`).
fn remittance_text(statement_id: &str, lines: usize, date: Date) -> String {
    format!(
        "REMPART RELEVE {statement_id} LIGNES {lines} DU {:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `total + amount`, refused past [`MAX_RUN_TOTAL`] (reached only with ten million transfers
/// at the SEPA maximum, so tested on this function rather than on a whole run).
fn add_to_run_total(total: Money, amount: Money) -> Result<Money, PaymentError> {
    let total = total
        .checked_add(amount)
        .map_err(|_| PaymentError::Overflow { field: "run_total" })?;
    if total > MAX_RUN_TOTAL {
        return Err(PaymentError::Invalid {
            field: "run_total",
            reason: format!("above the largest pain.001 control sum ({MAX_RUN_TOTAL} EUR)"),
        });
    }
    Ok(total)
}

/// Builds the run: validates every line, groups them per professional, orders everything,
/// sums in checked integer cents. All or nothing: any bad line refuses the whole run.
pub fn build_run(
    params: RunParams,
    payees: Vec<Payee>,
    lines: Vec<PayableLine>,
) -> Result<PaymentRun, PaymentError> {
    let mut payee_index: HashMap<Uuid, Payee> = HashMap::with_capacity(payees.len());
    for payee in payees {
        let id = payee.professional_id;
        if payee_index.insert(id, payee).is_some() {
            return Err(PaymentError::Payee {
                professional_id: id,
                field: "professional_id",
                reason: "has two payees in one run".into(),
            });
        }
    }

    let mut seen: HashSet<Uuid> = HashSet::with_capacity(lines.len());
    let mut groups: HashMap<Uuid, Vec<PaidLine>> = HashMap::new();
    for line in lines {
        if line.amount <= Money::ZERO {
            return Err(PaymentError::Line {
                line_id: line.line_id,
                field: "amc_amount",
                reason: "must be more than zero".into(),
            });
        }
        check_invoice_ref(&line)?;
        if !payee_index.contains_key(&line.professional_id) {
            return Err(PaymentError::Line {
                line_id: line.line_id,
                field: "professional_id",
                reason: "has no payee (bank details) in this run".into(),
            });
        }
        if !seen.insert(line.line_id) {
            return Err(PaymentError::Line {
                line_id: line.line_id,
                field: "line_id",
                reason: "appears twice in the run".into(),
            });
        }
        groups
            .entry(line.professional_id)
            .or_default()
            .push(PaidLine {
                line_id: line.line_id,
                invoice_ref: line.invoice_ref,
                line_no: line.line_no,
                insurer: line.insurer,
                domain: line.domain,
                contract: line.contract,
                amount: line.amount,
                care_date: line.care_date,
            });
    }
    let line_count = seen.len();
    drop(seen);

    if groups.len() > MAX_TRANSFERS {
        return Err(PaymentError::Invalid {
            field: "transfers",
            reason: format!("a run holds at most {MAX_TRANSFERS} transfers"),
        });
    }
    let mut groups: Vec<(Uuid, Vec<PaidLine>)> = groups.into_iter().collect();
    groups.sort_unstable_by_key(|(id, _)| *id);

    let reference = sepa_text::crockford_base32(params.run_id.as_u128());
    let mut transfers = Vec::with_capacity(groups.len());
    let mut total = Money::ZERO;
    for (index, (professional_id, mut lines)) in groups.into_iter().enumerate() {
        lines.sort_unstable_by(|a, b| {
            (a.invoice_ref.as_str(), a.line_no, a.line_id).cmp(&(
                b.invoice_ref.as_str(),
                b.line_no,
                b.line_id,
            ))
        });
        let mut amount = Money::ZERO;
        for l in &lines {
            amount = amount
                .checked_add(l.amount)
                .map_err(|_| PaymentError::Overflow {
                    field: "transfer_amount",
                })?;
        }
        if amount > MAX_TRANSFER {
            return Err(PaymentError::Payee {
                professional_id,
                field: "transfer_amount",
                reason: format!("above the SEPA maximum of {MAX_TRANSFER} EUR per transfer"),
            });
        }
        total = add_to_run_total(total, amount)?;
        let seq = u32::try_from(index + 1).map_err(|_| PaymentError::Invalid {
            field: "transfers",
            reason: format!("a run holds at most {MAX_TRANSFERS} transfers"),
        })?;
        let statement_id = format!("{reference}-{seq}");
        let remittance = remittance_text(&statement_id, lines.len(), params.execution_date);
        let payee = payee_index
            .remove(&professional_id)
            .ok_or(PaymentError::Payee {
                professional_id,
                field: "professional_id",
                reason: "has no payee (bank details) in this run".into(),
            })?;
        transfers.push(Transfer {
            seq,
            statement_id,
            remittance,
            payee,
            amount,
            lines,
        });
    }

    Ok(PaymentRun {
        params,
        reference,
        transfers,
        total,
        line_count,
    })
}

#[cfg(test)]
mod tests;
