//! `rempart billing statement`: an insurer's bill over a period (app::payments::bill), CSV or
//! JSON, written 0600 through a temporary file.

use super::payments::parse_date;
use crate::cli::BillingStatementArgs;
use crate::config::Config;
use crate::storage::{self, MissingKeys};
use anyhow::Context;
use domain::ids::AmcNumber;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

pub async fn statement(config: &Config, args: &BillingStatementArgs) -> anyhow::Result<()> {
    let amc =
        AmcNumber::parse(&args.insurer).map_err(|e| anyhow::anyhow!("--insurer: {}", e.reason))?;
    let from = parse_date("--from", &args.from)?;
    let to = parse_date("--to", &args.to)?;
    if to < from {
        anyhow::bail!("--to: must be on or after --from");
    }
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let insurer = ports
        .store
        .find_insurer_by_amc(&amc)
        .await?
        .ok_or_else(|| anyhow::anyhow!("--insurer: no insurer with this AMC number"))?;
    let bill = app::payments::bill(&ports, insurer.id, from, to).await?;
    let bytes = app::payments::bill_bytes(&bill, args.json)?;
    let tmp = args.out.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "billing statement of {} from {from} to {to}: {} lines, {} EUR, {} runs → {}",
        bill.insurer.as_str(),
        bill.lines,
        bill.total,
        bill.runs.len(),
        args.out.display()
    );
    Ok(())
}
