//! Payment-run benchmark (run by `bench/payments.sh`): builds LINES accepted lines spread over
//! PROFESSIONALS payees, then times each step the app layer runs — building the run, writing
//! the pain.001, writing every remittance statement, billing the insurers (CSV and JSON).
//! The generation of the input lines is timed too, as the in-process baseline.
//!
//!   cargo run --release -p domain --example payment_run_bench -- [LINES] [PROFESSIONALS]
//!
//! Writes into memory (`io::sink`-like `Vec`s) so the figure is the code's, not the disk's.

use domain::contracts::ContractCode;
use domain::ids::{AmcNumber, Bic, Iban};
use domain::money::Money;
use domain::payments::billing::{self, BillingPeriod};
use domain::payments::{self, Debtor, PayableLine, Payee, RunParams, pain001, statement};
use domain::rights::CareDomain;
use std::error::Error;
use std::time::Instant;
use time::macros::{date, datetime};
use uuid::Uuid;

fn arg(n: usize, default: usize) -> Result<usize, Box<dyn Error>> {
    Ok(match std::env::args().nth(n) {
        Some(a) => a.parse()?,
        None => default,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let lines_wanted = arg(1, 1_000_000)?;
    let professionals = arg(2, 20_000)?.max(1);
    println!("lines {lines_wanted}, professionals {professionals}");

    let t = Instant::now();
    let insurers = [
        AmcNumber::parse("880000011")?,
        AmcNumber::parse("880000029")?,
    ];
    let contracts = [
        ContractCode::parse("ESSENTIEL")?,
        ContractCode::parse("CONFORT")?,
    ];
    let bic = Bic::parse("BNPAFRPPXXX")?;
    let mut payees = Vec::with_capacity(professionals);
    for p in 0..professionals {
        let iban = Iban::from_bban("FR", &format!("{:023}", p + 1))?;
        let name = format!("Optique Hélène n°{p}");
        let bic = (p % 3 != 0).then(|| bic.clone());
        payees.push(Payee::new(
            Uuid::from_u128(p as u128 + 1),
            &name,
            iban,
            bic,
        )?);
    }
    // A cheap deterministic scramble so professionals and amounts are not in input order.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut lines = Vec::with_capacity(lines_wanted);
    for i in 0..lines_wanted {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let professional = (x % professionals as u64) as u128 + 1;
        lines.push(PayableLine {
            line_id: Uuid::from_u128((1 << 64) + i as u128),
            invoice_ref: format!("F2026-{:08}", i / 2),
            line_no: (i % 2) as u32 + 1,
            professional_id: Uuid::from_u128(professional),
            insurer: insurers[i % 2].clone(),
            domain: CareDomain::ALL[(x % 10) as usize],
            contract: contracts[(x >> 8) as usize % 2].clone(),
            amount: Money::from_cents((x % 50_000) as i64 + 1),
            care_date: date!(2026 - 11 - 02),
        });
    }
    let expected: i64 = lines.iter().map(|l| l.amount.cents()).sum();
    let generate = t.elapsed();
    println!(
        "generate input   {:>8.3} s (baseline)",
        generate.as_secs_f64()
    );

    let t = Instant::now();
    let params = RunParams {
        run_id: Uuid::from_u128(0x019a_c9a2_7c00_7000_8000_0000_0000_0001),
        created_at: datetime!(2026-11-28 18:00:00 UTC),
        execution_date: date!(2026 - 11 - 30),
    };
    let run = payments::build_run(params, payees, lines)?;
    let build = t.elapsed();
    if run.total().cents() != expected {
        return Err("the run total differs from the sum of the lines".into());
    }
    println!(
        "build run        {:>8.3} s  {} transfers, total {} EUR, {:.0} lines/s",
        build.as_secs_f64(),
        run.transfers().len(),
        run.total(),
        run.line_count() as f64 / build.as_secs_f64()
    );

    let t = Instant::now();
    let ids = run.paid_line_ids();
    println!(
        "paid line ids    {:>8.3} s  {} ids",
        t.elapsed().as_secs_f64(),
        ids.len()
    );

    let t = Instant::now();
    let debtor = Debtor::parse(
        "Rempart Règlements",
        "FR7630006000011234567890189",
        "AGRIFRPP",
    )?;
    let xml = pain001::to_vec(&run, &debtor)?;
    let write = t.elapsed();
    println!(
        "write pain.001   {:>8.3} s  {:.1} MB",
        write.as_secs_f64(),
        xml.len() as f64 / 1e6
    );

    let t = Instant::now();
    let mut csv_bytes = 0usize;
    for transfer in run.transfers() {
        csv_bytes += statement::write_csv(&run, transfer, Vec::new())?.len();
    }
    let statements = t.elapsed();
    println!(
        "write statements {:>8.3} s  {} files, {:.1} MB",
        statements.as_secs_f64(),
        run.transfers().len(),
        csv_bytes as f64 / 1e6
    );

    let t = Instant::now();
    let period = BillingPeriod::new(date!(2026 - 11 - 01), date!(2026 - 11 - 30))?;
    let bills = billing::bill(period, run.billed_lines())?;
    let mut bill_bytes = 0usize;
    for b in &bills {
        bill_bytes += billing::write_csv(b, Vec::new())?.len();
        bill_bytes += billing::write_json(b, Vec::new())?.len();
    }
    let billed: i64 = bills.iter().map(|b| b.total.cents()).sum();
    if billed != expected {
        return Err("the bills differ from the run".into());
    }
    let bill = t.elapsed();
    println!(
        "bill insurers    {:>8.3} s  {} bills, {:.1} MB",
        bill.as_secs_f64(),
        bills.len(),
        bill_bytes as f64 / 1e6
    );

    let total = build + write + statements + bill;
    println!(
        "run + pain.001 {:>10.3} s; with statements and bills {:.3} s",
        (build + write).as_secs_f64(),
        total.as_secs_f64()
    );
    Ok(())
}
