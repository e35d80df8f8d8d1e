//! The ISO 20022 `pain.001.001.09` (CustomerCreditTransferInitiationV09) file of a payment
//! run, SEPA credit transfers: one group header, one payment information block (the run,
//! debiting the platform's settlement account), one transaction per transfer.
//!
//! Written with `quick-xml` events (every text is escaped by the writer, never concatenated);
//! every text is in the SEPA character set and within its field's length before it gets here
//! (see [`super::sepa_text`]). Amounts are written from integer cents with exactly two
//! decimals. The field-by-field mapping is in `docs/formats.md`.

use super::{Debtor, PaymentError, PaymentRun, Transfer};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::io::{self, Write};
use time::{Date, OffsetDateTime, UtcOffset};

/// The message's XML namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// Writes the run's pain.001 into `out` and gives it back. Refuses an empty run (a pain.001
/// carries at least one transaction). Nothing about the run is checked again here: a
/// [`PaymentRun`] is valid by construction.
pub fn write<W: Write>(run: &PaymentRun, debtor: &Debtor, out: W) -> Result<W, PaymentError> {
    if run.is_empty() {
        return Err(PaymentError::Invalid {
            field: "transfers",
            reason: "a pain.001 file needs at least one transfer".into(),
        });
    }
    let mut w = Writer::new_with_indent(out, b' ', 2);
    write_document(&mut w, run, debtor).map_err(|e| PaymentError::Write {
        what: "pain.001 file",
        reason: e.to_string(),
    })?;
    let mut out = w.into_inner();
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(|e| PaymentError::Write {
            what: "pain.001 file",
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// The whole file in memory.
pub fn to_vec(run: &PaymentRun, debtor: &Debtor) -> Result<Vec<u8>, PaymentError> {
    write(run, debtor, Vec::new())
}

type Xml<W> = Writer<W>;

fn start<W: Write>(w: &mut Xml<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn end<W: Write>(w: &mut Xml<W>, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// `<name>text</name>`, the text escaped by quick-xml.
fn text<W: Write>(w: &mut Xml<W>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))
        .map(|_| ())
}

/// `<outer><inner>…<leaf>value</leaf></inner></outer>` for a chain of single children.
fn nested<W: Write>(w: &mut Xml<W>, path: &[&str], leaf: &str, value: &str) -> io::Result<()> {
    for name in path {
        start(w, name)?;
    }
    text(w, leaf, value)?;
    for name in path.iter().rev() {
        end(w, name)?;
    }
    Ok(())
}

fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `YYYY-MM-DDThh:mm:ssZ`, in UTC, to the second.
fn iso_date_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn write_document<W: Write>(w: &mut Xml<W>, run: &PaymentRun, debtor: &Debtor) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(
        BytesStart::new("Document").with_attributes([("xmlns", NAMESPACE)]),
    ))?;
    start(w, "CstmrCdtTrfInitn")?;

    let count = run.transfers().len().to_string();
    let control_sum = run.total().to_string();

    start(w, "GrpHdr")?;
    text(w, "MsgId", run.reference())?;
    text(w, "CreDtTm", &iso_date_time(run.params().created_at))?;
    text(w, "NbOfTxs", &count)?;
    text(w, "CtrlSum", &control_sum)?;
    nested(w, &["InitgPty"], "Nm", debtor.name())?;
    end(w, "GrpHdr")?;

    start(w, "PmtInf")?;
    text(w, "PmtInfId", run.reference())?;
    text(w, "PmtMtd", "TRF")?;
    text(w, "BtchBookg", "true")?;
    text(w, "NbOfTxs", &count)?;
    text(w, "CtrlSum", &control_sum)?;
    nested(w, &["PmtTpInf", "SvcLvl"], "Cd", "SEPA")?;
    nested(
        w,
        &["ReqdExctnDt"],
        "Dt",
        &iso_date(run.params().execution_date),
    )?;
    nested(w, &["Dbtr"], "Nm", debtor.name())?;
    nested(w, &["DbtrAcct", "Id"], "IBAN", debtor.iban().as_str())?;
    nested(
        w,
        &["DbtrAgt", "FinInstnId"],
        "BICFI",
        debtor.bic().as_str(),
    )?;
    text(w, "ChrgBr", "SLEV")?;
    for transfer in run.transfers() {
        write_transaction(w, transfer)?;
    }
    end(w, "PmtInf")?;

    end(w, "CstmrCdtTrfInitn")?;
    end(w, "Document")
}

fn write_transaction<W: Write>(w: &mut Xml<W>, t: &Transfer) -> io::Result<()> {
    start(w, "CdtTrfTxInf")?;
    start(w, "PmtId")?;
    text(w, "InstrId", t.statement_id())?;
    text(w, "EndToEndId", t.statement_id())?;
    end(w, "PmtId")?;
    start(w, "Amt")?;
    w.create_element("InstdAmt")
        .with_attribute(("Ccy", "EUR"))
        .write_text_content(BytesText::new(&t.amount().to_string()))?;
    end(w, "Amt")?;
    if let Some(bic) = t.payee().bic() {
        nested(w, &["CdtrAgt", "FinInstnId"], "BICFI", bic.as_str())?;
    }
    nested(w, &["Cdtr"], "Nm", t.payee().name())?;
    nested(w, &["CdtrAcct", "Id"], "IBAN", t.payee().iban().as_str())?;
    nested(w, &["RmtInf"], "Ustrd", t.remittance())?;
    end(w, "CdtTrfTxInf")
}
