//! `rempart payments run` and `rempart payments rewrite` (app::payments). Only ids, counts
//! and amounts are printed or logged; the IBANs are in the pain.001 file alone.

use crate::cli::{DebtorArgs, PaymentsCommand, PaymentsRewriteArgs, PaymentsRunArgs};
use crate::config::Config;
use crate::storage::{self, MissingKeys};
use anyhow::Context;
use domain::payments::Debtor;
use time::Date;
use time::macros::format_description;

pub async fn run(config: &Config, command: &PaymentsCommand) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::Run(args) => run_once(config, args).await,
        PaymentsCommand::Rewrite(args) => rewrite(config, args).await,
    }
}

/// A `YYYY-MM-DD` flag value; the error names the flag.
pub fn parse_date(flag: &str, value: &str) -> anyhow::Result<Date> {
    Date::parse(value.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| anyhow::anyhow!("{flag}: must be a date YYYY-MM-DD"))
}

pub fn debtor(args: &DebtorArgs) -> anyhow::Result<Debtor> {
    Ok(Debtor::parse(
        &args.debtor_name,
        &args.debtor_iban,
        &args.debtor_bic,
    )?)
}

async fn run_once(config: &Config, args: &PaymentsRunArgs) -> anyhow::Result<()> {
    let date = parse_date("--date", &args.date)?;
    let debtor = debtor(&args.debtor)?;
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let outcome = app::payments::run(&ports, &debtor, date, &args.out, None)
        .await
        .context("the payment run failed; run the same command again to resume it")?;
    let summary = match &outcome {
        None => serde_json::json!({ "run_id": null, "transfers": 0, "lines": 0, "total": "0.00" }),
        Some(o) => serde_json::json!({
            "run_id": o.run.id,
            "resumed": o.resumed,
            "dir": o.dir,
            "execution_date": o.run.execution_date.to_string(),
            "transfers": o.transfers.len(),
            "lines": o.line_count,
            "total": o.total.to_string(),
        }),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        match &outcome {
            None => println!("nothing to pay on or before {date}"),
            Some(o) => println!("{}", o.summary()),
        }
    }
    Ok(())
}

async fn rewrite(config: &Config, args: &PaymentsRewriteArgs) -> anyhow::Result<()> {
    let run_id: uuid::Uuid = args
        .run
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--run: must be a run id (UUID)"))?;
    let debtor = debtor(&args.debtor)?;
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let dir = app::payments::rewrite(&ports, &debtor, run_id, &args.out)
        .await
        .map_err(|e| match e {
            app::payments::PaymentsError::NotFound => anyhow::anyhow!("--run: no such run"),
            other => anyhow::Error::new(other),
        })?;
    println!("payment run {run_id} written again in {}", dir.display());
    Ok(())
}
