//! `rempart ledger verify` and `rempart ledger checkpoint` (the access ledger).
//!
//! `verify` recomputes the Merkle tree from the stored entries (re-encoding and re-hashing
//! each one), checks every stored checkpoint's signature and root, and a witness's checkpoint
//! file when given; it records the outcome (the console shows the last one) and fails (exit 1)
//! naming the first entry changed, removed or reordered. `checkpoint` writes the latest
//! signed checkpoint (making one first unless a checkpoint of the current tree exists) for a
//! witness to keep. Nothing printed holds personal data: indexes, sizes and hashes only.

use crate::cli::{LedgerCheckpointArgs, LedgerCommand, LedgerVerifyArgs};
use crate::config::Config;
use crate::storage::{self, MissingKeys};
use anyhow::{Context, bail};
use app::ledger::checkpoint::base64;
use app::ledger::{Ledger, LedgerVerificationRecord, VerifyOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

pub async fn run(config: &Config, command: &LedgerCommand) -> anyhow::Result<()> {
    match command {
        LedgerCommand::Verify(args) => verify(config, args).await,
        LedgerCommand::Checkpoint(args) => checkpoint(config, args).await,
    }
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} entries  {per_sec}  eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

async fn verify(config: &Config, args: &LedgerVerifyArgs) -> anyhow::Result<()> {
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let ledger = Ledger::new(ports.clone(), config.ledger());
    let witness = match &args.from_checkpoint {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the checkpoint file {}", path.display()))?,
        ),
        None => None,
    };
    let verifiers: Vec<_> = ledger
        .verifier_keys()
        .context("cannot load the ledger keys")?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let bar = progress_bar();
    let started = Instant::now();
    let report = app::ledger::verify(
        ports.store.clone(),
        &verifiers,
        &VerifyOptions { witness },
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await
    .context("the ledger could not be read")?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let record = LedgerVerificationRecord {
        id: ports.new_id(),
        at: ports.clock.now(),
        ok: report.ok(),
        entries: report.entries,
        checkpoints: report.checkpoints,
        first_bad_index: report.problem.as_ref().and_then(|p| p.first_bad_index()),
        summary: report.summary(),
    };
    if let Err(e) = ports.store.insert_ledger_verification(&record).await {
        tracing::warn!(error = %e, "cannot record the verification outcome");
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "ok": report.ok(),
                "entries": report.entries,
                "checkpoints": report.checkpoints,
                "root": base64(&report.root),
                "first_bad_index": record.first_bad_index,
                "summary": record.summary,
                "seconds": secs,
            })
        );
    } else if report.ok() {
        println!(
            "rempart ledger verify: {} entries and {} checkpoints verified in {secs:.1}s; root {}",
            report.entries,
            report.checkpoints,
            base64(&report.root)
        );
    }
    if !report.ok() {
        bail!("ledger verification failed: {}", report.summary());
    }
    Ok(())
}

async fn checkpoint(config: &Config, args: &LedgerCheckpointArgs) -> anyhow::Result<()> {
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let ledger = Ledger::new(ports.clone(), config.ledger());
    let made = ledger
        .checkpoint(true)
        .await
        .context("cannot make a checkpoint")?;
    let latest = match made {
        Some(c) => c,
        None => ports
            .store
            .latest_ledger_checkpoint()
            .await?
            .context("no checkpoint could be made")?,
    };
    std::fs::write(&args.out, latest.note.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"tree_size": latest.tree_size, "root": base64(&latest.root), "out": args.out})
        );
    } else {
        println!(
            "rempart ledger checkpoint: tree size {} written to {}; keep it and pass it to `rempart ledger verify --from-checkpoint`",
            latest.tree_size,
            args.out.display()
        );
    }
    Ok(())
}
