//! `rempart switch on|off --scope … [--reason …]` and `rempart switch list`: the kill
//! switches, stored in the database; every server process picks a change up within a second
//! (it re-reads them at most every `guard.poll_ms`, 500 ms), without a restart.

use crate::cli::{SwitchCommand, SwitchListArgs, SwitchSetArgs};
use crate::config::Config;
use anyhow::Context;
use app::guard::{Guard, GuardError, GuardStore, KillSwitchRecord, Scope};
use app::{Clock, SystemClock};
use serde::Serialize;
use std::sync::Arc;

/// The guard over the configured store, with the system clock (no keys needed).
pub async fn open_guard(config: &Config) -> anyhow::Result<(Guard, Arc<dyn app::Store>)> {
    let store = crate::storage::open_store(config).await?;
    let guard_store: Arc<dyn GuardStore> = store.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok((Guard::new(guard_store, clock, config.guard.clone()), store))
}

pub async fn run(config: &Config, command: &SwitchCommand) -> anyhow::Result<()> {
    match command {
        SwitchCommand::Off(args) => off(config, args).await,
        SwitchCommand::On(args) => on(config, args).await,
        SwitchCommand::List(args) => list(config, args).await,
    }
}

fn scope(text: &str) -> anyhow::Result<Scope> {
    Scope::parse(text).map_err(|e| anyhow::anyhow!("--{e}"))
}

async fn off(config: &Config, args: &SwitchSetArgs) -> anyhow::Result<()> {
    let scope = scope(&args.scope)?;
    let (guard, _) = open_guard(config).await?;
    match guard
        .switch_off(None, scope.clone(), args.reason.clone())
        .await
    {
        Ok(s) => {
            println!(
                "Lookups switched off for {scope} (every server within a second). Switch back on with: rempart switch on --scope {scope}"
            );
            if args.json {
                println!("{}", serde_json::to_string_pretty(&SwitchOut::from(&s))?);
            }
            Ok(())
        }
        Err(GuardError::Invalid(d)) => anyhow::bail!("{d}"),
        Err(e) => Err(e).context("cannot switch lookups off"),
    }
}

async fn on(config: &Config, args: &SwitchSetArgs) -> anyhow::Result<()> {
    let scope = scope(&args.scope)?;
    let (guard, _) = open_guard(config).await?;
    match guard.switch_on(None, scope.clone()).await {
        Ok(_) => {
            println!("Lookups switched back on for {scope}.");
            Ok(())
        }
        Err(GuardError::NotFound) => anyhow::bail!("lookups are not switched off for {scope}"),
        Err(e) => Err(e).context("cannot switch lookups back on"),
    }
}

/// A switch as printed.
#[derive(Debug, Serialize)]
struct SwitchOut {
    id: uuid::Uuid,
    scope: String,
    reason: Option<String>,
    engaged_by: Option<uuid::Uuid>,
    engaged_at: String,
}

impl From<&KillSwitchRecord> for SwitchOut {
    fn from(s: &KillSwitchRecord) -> Self {
        Self {
            id: s.id,
            scope: s.scope.to_string(),
            reason: s.reason.clone(),
            engaged_by: s.engaged_by,
            engaged_at: s
                .engaged_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }
}

async fn list(config: &Config, args: &SwitchListArgs) -> anyhow::Result<()> {
    let store = crate::storage::open_store(config).await?;
    let out: Vec<SwitchOut> = store
        .list_active_kill_switches()
        .await?
        .iter()
        .map(SwitchOut::from)
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if out.is_empty() {
        println!("No kill switch is on: lookups are open everywhere.");
    } else {
        for s in &out {
            println!(
                "{:<50} off since {}  {}",
                s.scope,
                s.engaged_at,
                s.reason.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}
