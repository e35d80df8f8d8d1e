//! The remittance statement of one transfer (CSV): which invoice lines the transfer pays, so
//! that the professional can reconcile the bank credit line by line. The transfer's
//! `EndToEndId` and remittance text carry the statement id; no patient identifier appears
//! (an invoice reference, a line number, a care date, a domain, an amount).
//!
//! Columns (docs/formats.md, "Remittance statement"): `record` (`line` or `total`), `run_id`,
//! `statement_id`, `execution_date`, `transfer_reference`, `invoice_reference`, `line`,
//! `care_date`, `domain`, `insurer`, `contract`, `amc_amount`, `total`.

use super::{PaymentError, PaymentRun, Transfer};
use std::io::Write;
use time::Date;

pub const HEADER: [&str; 13] = [
    "record",
    "run_id",
    "statement_id",
    "execution_date",
    "transfer_reference",
    "invoice_reference",
    "line",
    "care_date",
    "domain",
    "insurer",
    "contract",
    "amc_amount",
    "total",
];

/// A cell a spreadsheet would read as a formula gets a leading `'`.
pub(crate) fn neutralise(cell: &str) -> String {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

pub(crate) fn date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) fn csv_error(what: &'static str) -> impl Fn(csv::Error) -> PaymentError {
    move |e| PaymentError::Write {
        what,
        reason: e.to_string(),
    }
}

/// The file name the app layer should use: `statement-{statement_id}.csv`.
pub fn file_name(transfer: &Transfer) -> String {
    format!("statement-{}.csv", transfer.statement_id())
}

/// Writes the statement of `transfer` (a transfer of `run`): a header, one row per line in
/// the transfer's order, then a `total` row whose `total` is the transfer amount.
pub fn write_csv<W: Write>(
    run: &PaymentRun,
    transfer: &Transfer,
    out: W,
) -> Result<W, PaymentError> {
    let err = csv_error("remittance statement");
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(&err)?;
    let run_id = run.run_id().to_string();
    let execution_date = date(run.execution_date());
    for l in transfer.lines() {
        w.write_record([
            "line",
            &run_id,
            transfer.statement_id(),
            &execution_date,
            transfer.statement_id(),
            &neutralise(&l.invoice_ref),
            &l.line_no.to_string(),
            &date(l.care_date),
            l.domain.code(),
            &neutralise(l.insurer.as_str()),
            &neutralise(l.contract.as_str()),
            &l.amount.to_string(),
            "",
        ])
        .map_err(&err)?;
    }
    w.write_record([
        "total",
        &run_id,
        transfer.statement_id(),
        &execution_date,
        transfer.statement_id(),
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        &transfer.amount().to_string(),
    ])
    .map_err(&err)?;
    w.flush().map_err(|e| PaymentError::Write {
        what: "remittance statement",
        reason: e.to_string(),
    })?;
    w.into_inner().map_err(|e| PaymentError::Write {
        what: "remittance statement",
        reason: e.error().to_string(),
    })
}
