//! Insurer billing: per insurer and period, what the platform paid on its behalf — by care
//! domain and contract, with the invoice references — so that the insurer can be debited and
//! reconcile. The input is the paid lines of the payment runs ([`PaymentRun::billed_lines`]),
//! so the bills add up to the runs to the cent.
//!
//! A run belongs to the period that contains its execution date (`ReqdExctnDt`); lines of
//! runs outside the period are left out. Formats: docs/formats.md, "Insurer billing".
//!
//! [`PaymentRun::billed_lines`]: super::PaymentRun::billed_lines

use super::statement::{csv_error, date, neutralise};
use super::{BilledLine, PaymentError};
use crate::contracts::ContractCode;
use crate::ids::AmcNumber;
use crate::money::Money;
use crate::rights::CareDomain;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use time::Date;
use uuid::Uuid;

/// Execution dates from `start` to `end`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    start: Date,
    end: Date,
}

impl BillingPeriod {
    pub fn new(start: Date, end: Date) -> Result<Self, PaymentError> {
        if start > end {
            return Err(PaymentError::Invalid {
                field: "period",
                reason: "the start must not be after the end".into(),
            });
        }
        Ok(Self { start, end })
    }
    pub fn start(&self) -> Date {
        self.start
    }
    pub fn end(&self) -> Date {
        self.end
    }
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }
}

/// The lines of one invoice paid in one transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledInvoice {
    pub invoice_ref: String,
    pub statement_id: String,
    pub lines: u64,
    pub amount: Money,
}

/// What was paid under one contract in one care domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillGroup {
    pub domain: CareDomain,
    pub contract: ContractCode,
    pub lines: u64,
    pub total: Money,
    /// Ordered by invoice reference, then statement id.
    pub invoices: Vec<BilledInvoice>,
}

/// One insurer's bill for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsurerBill {
    pub insurer: AmcNumber,
    pub period: BillingPeriod,
    pub lines: u64,
    pub total: Money,
    /// The payment runs that paid these lines, sorted.
    pub runs: Vec<Uuid>,
    /// Ordered by domain (declaration order of [`CareDomain`]), then contract code.
    pub groups: Vec<BillGroup>,
}

#[derive(Default)]
struct Acc {
    lines: u64,
    total: Money,
}

impl Acc {
    fn add(&mut self, amount: Money, field: &'static str) -> Result<(), PaymentError> {
        self.total = self
            .total
            .checked_add(amount)
            .map_err(|_| PaymentError::Overflow { field })?;
        self.lines += 1;
        Ok(())
    }
}

type InvoiceKey<'a> = (&'a str, &'a str);
type GroupKey<'a> = (CareDomain, &'a ContractCode);

#[derive(Default)]
struct InsurerAcc<'a> {
    acc: Acc,
    runs: BTreeSet<Uuid>,
    groups: HashMap<GroupKey<'a>, (Acc, HashMap<InvoiceKey<'a>, Acc>)>,
}

/// The bills of every insurer with a line paid in `period`, ordered by insurer number. A line
/// id given twice is refused (it would be billed twice), and so is an amount that is not
/// positive; sums are checked.
pub fn bill<'a>(
    period: BillingPeriod,
    lines: impl IntoIterator<Item = BilledLine<'a>>,
) -> Result<Vec<InsurerBill>, PaymentError> {
    let mut seen: HashSet<Uuid> = HashSet::new();
    let mut insurers: HashMap<&'a AmcNumber, InsurerAcc<'a>> = HashMap::new();
    for b in lines {
        if !period.contains(b.execution_date) {
            continue;
        }
        let l = b.line;
        if l.amount <= Money::ZERO {
            return Err(PaymentError::Line {
                line_id: l.line_id,
                field: "amc_amount",
                reason: "must be more than zero".into(),
            });
        }
        if !seen.insert(l.line_id) {
            return Err(PaymentError::Line {
                line_id: l.line_id,
                field: "line_id",
                reason: "is billed twice".into(),
            });
        }
        let ins = insurers.entry(&l.insurer).or_default();
        ins.acc.add(l.amount, "insurer_total")?;
        ins.runs.insert(b.run_id);
        let (group, invoices) = ins.groups.entry((l.domain, &l.contract)).or_default();
        group.add(l.amount, "group_total")?;
        invoices
            .entry((l.invoice_ref.as_str(), b.statement_id))
            .or_default()
            .add(l.amount, "invoice_total")?;
    }
    let mut bills: Vec<InsurerBill> = insurers
        .into_iter()
        .map(|(insurer, ins)| {
            let mut groups: Vec<BillGroup> = ins
                .groups
                .into_iter()
                .map(|((domain, contract), (acc, invoices))| {
                    let mut invoices: Vec<(InvoiceKey<'a>, Acc)> = invoices.into_iter().collect();
                    invoices.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    BillGroup {
                        domain,
                        contract: contract.clone(),
                        lines: acc.lines,
                        total: acc.total,
                        invoices: invoices
                            .into_iter()
                            .map(|((invoice_ref, statement_id), acc)| BilledInvoice {
                                invoice_ref: invoice_ref.to_string(),
                                statement_id: statement_id.to_string(),
                                lines: acc.lines,
                                amount: acc.total,
                            })
                            .collect(),
                    }
                })
                .collect();
            groups.sort_unstable_by(|a, b| (a.domain, &a.contract).cmp(&(b.domain, &b.contract)));
            InsurerBill {
                insurer: insurer.clone(),
                period,
                lines: ins.acc.lines,
                total: ins.acc.total,
                runs: ins.runs.into_iter().collect(),
                groups,
            }
        })
        .collect();
    bills.sort_unstable_by(|a, b| a.insurer.cmp(&b.insurer));
    Ok(bills)
}

pub const CSV_HEADER: [&str; 10] = [
    "record",
    "insurer",
    "period_start",
    "period_end",
    "domain",
    "contract",
    "invoice_reference",
    "statement_id",
    "lines",
    "amc_amount",
];

/// The file name the app layer should use: `billing-{insurer}-{start}-{end}.csv` / `.json`.
pub fn file_stem(bill: &InsurerBill) -> String {
    format!(
        "billing-{}-{}-{}",
        bill.insurer.as_str(),
        date(bill.period.start),
        date(bill.period.end)
    )
}

/// One `invoice` row per invoice and transfer, a `subtotal` row after each domain and
/// contract, a `total` row at the end.
pub fn write_csv<W: Write>(bill: &InsurerBill, out: W) -> Result<W, PaymentError> {
    let err = csv_error("insurer bill");
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER).map_err(&err)?;
    let insurer = neutralise(bill.insurer.as_str());
    let (start, end) = (date(bill.period.start), date(bill.period.end));
    for g in &bill.groups {
        let contract = neutralise(g.contract.as_str());
        for i in &g.invoices {
            w.write_record([
                "invoice",
                &insurer,
                &start,
                &end,
                g.domain.code(),
                &contract,
                &neutralise(&i.invoice_ref),
                &i.statement_id,
                &i.lines.to_string(),
                &i.amount.to_string(),
            ])
            .map_err(&err)?;
        }
        w.write_record([
            "subtotal",
            &insurer,
            &start,
            &end,
            g.domain.code(),
            &contract,
            "",
            "",
            &g.lines.to_string(),
            &g.total.to_string(),
        ])
        .map_err(&err)?;
    }
    w.write_record([
        "total",
        &insurer,
        &start,
        &end,
        "",
        "",
        "",
        "",
        &bill.lines.to_string(),
        &bill.total.to_string(),
    ])
    .map_err(&err)?;
    w.flush().map_err(|e| PaymentError::Write {
        what: "insurer bill",
        reason: e.to_string(),
    })?;
    w.into_inner().map_err(|e| PaymentError::Write {
        what: "insurer bill",
        reason: e.error().to_string(),
    })
}

/// The bill as JSON (`serde::Serialize`, for [`write_json`] or an API answer). Amounts twice:
/// `*_cents` (integer, authoritative) and the euro text with two decimals.
pub struct BillJson<'a>(pub &'a InsurerBill);

/// Serialises a value through its `Display` (no intermediate `String`).
struct AsText<T>(T);

impl<T: std::fmt::Display> Serialize for AsText<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

struct Period(BillingPeriod);

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Period", 2)?;
        m.serialize_field("start", &date(self.0.start))?;
        m.serialize_field("end", &date(self.0.end))?;
        m.end()
    }
}

struct Groups<'a>(&'a [BillGroup]);

impl Serialize for Groups<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Group))
    }
}

struct Group<'a>(&'a BillGroup);

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.0;
        let mut m = s.serialize_struct("Group", 6)?;
        m.serialize_field("domain", g.domain.code())?;
        m.serialize_field("contract", g.contract.as_str())?;
        m.serialize_field("lines", &g.lines)?;
        m.serialize_field("total_cents", &g.total.cents())?;
        m.serialize_field("total", &AsText(g.total))?;
        m.serialize_field("invoices", &Invoices(&g.invoices))?;
        m.end()
    }
}

struct Invoices<'a>(&'a [BilledInvoice]);

impl Serialize for Invoices<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Invoice))
    }
}

struct Invoice<'a>(&'a BilledInvoice);

impl Serialize for Invoice<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = s.serialize_struct("Invoice", 5)?;
        m.serialize_field("invoice_reference", &i.invoice_ref)?;
        m.serialize_field("statement_id", &i.statement_id)?;
        m.serialize_field("lines", &i.lines)?;
        m.serialize_field("amount_cents", &i.amount.cents())?;
        m.serialize_field("amount", &AsText(i.amount))?;
        m.end()
    }
}

impl Serialize for BillJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.0;
        let mut m = s.serialize_struct("InsurerBill", 8)?;
        m.serialize_field("insurer", b.insurer.as_str())?;
        m.serialize_field("period", &Period(b.period))?;
        m.serialize_field("currency", "EUR")?;
        m.serialize_field("lines", &b.lines)?;
        m.serialize_field("total_cents", &b.total.cents())?;
        m.serialize_field("total", &AsText(b.total))?;
        m.serialize_field("runs", &b.runs)?;
        m.serialize_field("groups", &Groups(&b.groups))?;
        m.end()
    }
}

/// Writes [`BillJson`]: one compact JSON document and a final newline.
pub fn write_json<W: Write>(bill: &InsurerBill, out: W) -> Result<W, PaymentError> {
    let err = |e: std::io::Error| PaymentError::Write {
        what: "insurer bill",
        reason: e.to_string(),
    };
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer(&mut out, &BillJson(bill)).map_err(|e| PaymentError::Write {
        what: "insurer bill",
        reason: e.to_string(),
    })?;
    out.write_all(b"\n").map_err(err)?;
    let mut out = out.into_inner().map_err(|e| err(e.into_error()))?;
    out.flush().map_err(err)?;
    Ok(out)
}
