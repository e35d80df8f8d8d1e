//! `rempart-payment-lines`: fills a data directory with accepted, unpaid invoice lines for the
//! end-to-end payment-run benchmark (bench/payments.sh): one insurer, PRACTICES pharmacies
//! with sealed IBANs, and LINES lines in invoices of 4 lines, each written through the store's
//! claim transaction (`MoneyStore::record_claim`, as the invoice API writes them), care date
//! yesterday. The directory is then a normal data directory: `rempart --data-dir DIR payments
//! run …` and `rempart --data-dir DIR billing statement …` run on it.
//!
//!   rempart-payment-lines --data-dir DIR --lines N [--practices P] [--concurrency C]

use anyhow::Context;
use app::Ports;
use app::invoices::store::{
    ClaimContext, ClaimScope, ClaimWrite, InvoiceLineRecord, InvoiceRecord,
};
use app::store::{InsurerRecord, OrganisationRecord, PracticeRecord};
use clap::Parser;
use crypto::{FieldRef, Sealer};
use domain::accounts::{OrganisationKind, Profession};
use domain::ids::{AmNumber, AmcNumber};
use std::path::PathBuf;
use std::time::Instant;
use uuid::Uuid;

/// Lines per invoice.
const PER_INVOICE: u64 = 4;
/// The practices' IBAN (a well-formed example; the run needs one it can open and write).
const IBAN: &str = "FR7630006000011234567890189";

#[derive(Debug, Parser)]
struct Args {
    /// The data directory (created when missing: SQLite database and key file).
    #[arg(long)]
    data_dir: PathBuf,
    /// Invoice lines to write (in invoices of 4).
    #[arg(long)]
    lines: u64,
    /// Payees (pharmacies) the lines are spread over.
    #[arg(long, default_value_t = 20_000)]
    practices: u64,
    /// Claims in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: u64,
}

async fn seed_parties(ports: &Ports, practices: u64) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
    let now = ports.clock.now();
    let insurer = ports.new_id();
    ports
        .store
        .insert_organisation(&OrganisationRecord {
            id: insurer,
            kind: OrganisationKind::Insurer,
            name: "Mutuelle du banc d'essai".into(),
            created_at: now,
        })
        .await?;
    ports
        .store
        .insert_insurer(&InsurerRecord {
            id: insurer,
            amc: AmcNumber::parse("880000011").context("AMC")?,
            name: "Mutuelle du banc d'essai".into(),
            created_at: now,
        })
        .await?;
    let sealer = ports
        .vault
        .sealer(crypto::envelope::PLATFORM_SCOPE)
        .map_err(|e| anyhow::anyhow!("the platform's data key: {e:?}"))?;
    let mut ids = Vec::new();
    for n in 0..practices {
        let id = ports.new_id();
        let name = format!("Pharmacie {n}");
        ports
            .store
            .insert_organisation(&OrganisationRecord {
                id,
                kind: OrganisationKind::Practice,
                name: name.clone(),
                created_at: now,
            })
            .await?;
        let iban_sealed = sealer
            .seal(&FieldRef::new("practices", "iban", id), IBAN.as_bytes())
            .map_err(|e| anyhow::anyhow!("seal: {e:?}"))?;
        ports
            .store
            .insert_practice(&PracticeRecord {
                id,
                name,
                profession: Profession::Pharmacist,
                am_number: AmNumber::parse(&format!("97{n:07}")).context("AM number")?,
                finess: None,
                siret: None,
                iban_sealed,
                created_at: now,
            })
            .await?;
        ids.push(id);
    }
    Ok((insurer, ids))
}

fn invoice(ports: &Ports, insurer: Uuid, practice: Uuid, i: u64) -> InvoiceRecord {
    let care = ports
        .clock
        .today()
        .previous_day()
        .unwrap_or(ports.clock.today());
    let lines: Vec<InvoiceLineRecord> = (0..PER_INVOICE)
        .map(|l| {
            let amc = 100 + ((i * PER_INVOICE + l) % 9_000) as i64;
            InvoiceLineRecord {
                line_no: l as u32 + 1,
                kind: "other".into(),
                class: None,
                complexity: None,
                ear: None,
                quantity: 1,
                price_cents: amc + 650,
                br_cents: amc + 650,
                amo_cents: 650,
                amc_cents: amc,
                rejection: None,
                steps: "[]".into(),
                paid_run_id: None,
            }
        })
        .collect();
    InvoiceRecord {
        id: ports.new_id(),
        insurer_id: insurer,
        organisation_id: practice,
        actor_id: practice,
        engagement_id: ports.new_id(),
        beneficiary_id: ports.new_id(),
        approval_id: None,
        contract_id: None,
        contract_code: if i.is_multiple_of(3) {
            "CONFORT"
        } else {
            "ESSENTIEL"
        }
        .into(),
        domain: "PHAR".into(),
        care_date: care,
        status: "accepted".into(),
        total_cents: lines.iter().map(|l| l.amc_cents).sum(),
        fingerprint: ports.new_id().to_string(),
        created_at: ports.clock.now(),
        lines,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let ports = bench::open_data_dir(&args.data_dir).await?;
    let started = Instant::now();
    let (insurer, practices) = seed_parties(&ports, args.practices.max(1)).await?;
    println!(
        "parties: 1 insurer, {} practices in {:.1} s",
        practices.len(),
        started.elapsed().as_secs_f64()
    );
    let invoices = args.lines.div_ceil(PER_INVOICE);
    let started = Instant::now();
    let workers = args.concurrency.max(1);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let ports = ports.clone();
        let practices = practices.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < invoices {
                let practice = practices[(i % practices.len() as u64) as usize];
                let inv = invoice(&ports, insurer, practice, i);
                let scope = ClaimScope {
                    insurer_id: insurer,
                    beneficiary_id: inv.beneficiary_id,
                    organisation_id: practice,
                    today: inv.care_date,
                    approval_number: None,
                    fingerprint: None,
                };
                ports
                    .store
                    .record_claim(&scope, &move |_: &ClaimContext| {
                        Ok(ClaimWrite::Invoice {
                            invoice: inv.clone(),
                            counters: Vec::new(),
                            consume_approval: None,
                            kept: None,
                        })
                    })
                    .await?;
                i += workers;
            }
            Ok::<(), app::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "invoice lines: {} in {invoices} invoices in {seconds:.1} s = {:.0} lines/s ({:.0} claims/s)",
        invoices * PER_INVOICE,
        (invoices * PER_INVOICE) as f64 / seconds,
        invoices as f64 / seconds
    );
    Ok(())
}
