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
    /// After the appends, time this many inclusion proofs in the whole tree from the leaves,
    /// then derive the proof tiles (timed), then the same proofs from the tiles.
    #[arg(long, default_value_t = 0)]
    proofs: u64,
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
    if args.proofs > 0 {
        proofs(&ledger, args.proofs).await?;
    }
    Ok(())
}

/// Inclusion proofs at spread indexes in the whole tree, with the tiles the store has.
async fn time_proofs(ledger: &Ledger, n: u64, size: u64) -> anyhow::Result<(f64, Vec<Vec<u8>>)> {
    let started = Instant::now();
    let mut roots = Vec::new();
    for k in 0..n {
        let index = (k.wrapping_mul(2_654_435_761) + 17) % size;
        roots.push(ledger.inclusion_proof(index, size).await?.root.to_vec());
    }
    Ok((started.elapsed().as_secs_f64() / n as f64, roots))
}

async fn proofs(ledger: &Ledger, n: u64) -> anyhow::Result<()> {
    let store = ledger.ports().store.clone();
    let size = store.ledger_size().await?;
    let before_tiles = store.ledger_tiles_end().await?;
    let (leaves, roots) = time_proofs(ledger, n, size).await?;
    let started = Instant::now();
    let filled = ledger.fill_tiles().await?;
    let fill = started.elapsed().as_secs_f64();
    let (tiles, tiled_roots) = time_proofs(ledger, n, size).await?;
    anyhow::ensure!(roots == tiled_roots, "the proofs from the tiles differ");
    println!(
        "inclusion proofs in a tree of {size}: {:.1} ms each with {before_tiles} tiles stored; \
         fill_tiles stored {filled} tiles in {fill:.2} s; then {:.2} ms each from the tiles ({n} proofs each way)",
        leaves * 1000.0,
        tiles * 1000.0
    );
    Ok(())
}
