//! `rempart-ledger-bench`: fills a data directory's access ledger through the real group-commit
//! writer (`app::ledger::Ledger::record`), as a server's rights checks would, and measures the
//! appends. The directory is then a normal rempart data directory: `rempart --data-dir DIR
//! ledger verify` and `rempart --data-dir DIR incident scope …` run on it (bench/ledger.sh).
//!
//!   rempart-ledger-bench --data-dir DIR --count N [--concurrency C]
//!
//! Disclosures come from 1,000 accounts of 500 organisations about 1,000,000 beneficiaries of
//! 2 insurers; account `00000000-0000-0000-0000-0000000003e8` is the one a scope can name.

use app::ledger::{DataCategory, Disclosure, Ledger, LedgerConfig, Purpose};
use clap::Parser;
use std::path::PathBuf;
use std::time::Instant;
use uuid::Uuid;

#[derive(Debug, Parser)]
struct Args {
    /// The data directory (created when missing: SQLite database and key file).
    #[arg(long)]
    data_dir: PathBuf,
    /// Disclosures to record.
    #[arg(long)]
    count: u64,
    /// Concurrent recorders (requests in flight).
    #[arg(long, default_value_t = 256)]
    concurrency: u64,
}

fn disclosure(i: u64) -> Disclosure {
    let account = 1000 + i % 1000;
    Disclosure {
        account_id: Some(Uuid::from_u128(u128::from(account))),
        organisation_id: Uuid::from_u128(u128::from(100_000 + account % 500)),
        credential: format!("passkey:{}", Uuid::from_u128(u128::from(200_000 + account))),
        insurer_id: Uuid::from_u128(u128::from(300_000 + i % 2)),
        beneficiary_id: Uuid::from_u128(u128::from(
            400_000 + (i.wrapping_mul(2_654_435_761)) % 1_000_000,
        )),
        categories: vec![
            DataCategory::Coverage,
            DataCategory::Guarantees,
            DataCategory::Engagement,
        ],
        purpose: Purpose::RightsCheck,
        request_id: format!("{:032x}", u128::from(i)),
        client_addr: Some(std::net::IpAddr::from([
            10,
            0,
            (account / 256) as u8,
            account as u8,
        ])),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let ports = bench::open_data_dir(&args.data_dir).await?;
    let store = ports.store.clone();
    let start_size = store.ledger_size().await?;
    let ledger = Ledger::new(ports, LedgerConfig::default());
    let started = Instant::now();
    let per_task = args.count / args.concurrency.max(1);
    let mut tasks = Vec::new();
    for t in 0..args.concurrency.max(1) {
        let ledger = ledger.clone();
        let first = start_size + t * per_task;
        tasks.push(tokio::spawn(async move {
            for i in first..first + per_task {
                ledger.record(disclosure(i)).await?;
            }
            Ok::<(), app::ledger::LedgerError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    ledger.checkpoint(true).await?;
    let written = per_task * args.concurrency.max(1);
    println!(
        "ledger appends: {written} entries in {seconds:.1} s = {:.0} entries/s ({} in flight); ledger size now {}",
        written as f64 / seconds,
        args.concurrency,
        store.ledger_size().await?
    );
    Ok(())
}
