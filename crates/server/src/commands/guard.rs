//! `rempart guard lift --account ID | --organisation ID`: lifts a suspension, ledgered first (the command line
//! is trusted like the operator with a fresh passkey check); `rempart guard hours --org ORG
//! --set "mon-fri 08:30-19:00" | --clear`: a practice's declared opening hours; `rempart guard
//! alerts`: the latest alerts.

use crate::cli::{GuardAlertsArgs, GuardCommand, GuardHoursArgs, GuardLiftArgs};
use crate::config::Config;
use anyhow::Context;
use app::guard::{GuardError, Subject, hours::OpeningHours};

pub async fn run(config: &Config, command: &GuardCommand) -> anyhow::Result<()> {
    match command {
        GuardCommand::Lift(args) => lift(config, args).await,
        GuardCommand::Hours(args) => hours(config, args).await,
        GuardCommand::Alerts(args) => alerts(config, args).await,
    }
}

async fn lift(config: &Config, args: &GuardLiftArgs) -> anyhow::Result<()> {
    let (subject, id) = match (args.account, args.organisation) {
        (Some(id), None) => (Subject::Account, id),
        (None, Some(id)) => (Subject::Organisation, id),
        _ => anyhow::bail!("name exactly one of --account or --organisation"),
    };
    let (guard, _) = super::switch::open_guard(config).await?;
    let ports = crate::storage::open(config, crate::storage::MissingKeys::Refuse).await?;
    let ledger = app::ledger::Ledger::new(ports, config.ledger());
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    match guard.lift_ledgered(&ledger, None, &user, subject, id).await {
        Ok(s) => {
            println!(
                "Suspension of {} {id} lifted (it was: {}, since {}).",
                subject.code(),
                s.signal,
                s.suspended_at
            );
            Ok(())
        }
        Err(GuardError::NotFound) => {
            anyhow::bail!("no open suspension for {} {id}", subject.code())
        }
        Err(e) => Err(e).context("cannot lift the suspension"),
    }
}

async fn hours(config: &Config, args: &GuardHoursArgs) -> anyhow::Result<()> {
    let store = crate::storage::open_store(config).await?;
    let org = app::machines::resolve_organisation(store.as_ref(), &args.org)
        .await
        .map_err(|_| anyhow::anyhow!("--org: no such organisation"))?;
    let text = match (&args.set, args.clear) {
        (Some(text), false) => {
            OpeningHours::parse(text).map_err(|e| anyhow::anyhow!("--set: {e}"))?;
            Some(text.trim().to_string())
        }
        (None, true) => None,
        _ => anyhow::bail!("give exactly one of --set HOURS or --clear"),
    };
    match store.set_practice_opening_hours(org, text.as_deref()).await {
        Ok(()) => {}
        Err(app::StoreError::NotFound) => anyhow::bail!("--org: not a practice"),
        Err(e) => return Err(e).context("cannot store the opening hours"),
    }
    match text {
        Some(t) => println!("Opening hours of {org}: {t} (French local time)."),
        None => println!("Opening hours of {org} cleared: always open."),
    }
    Ok(())
}

async fn alerts(config: &Config, args: &GuardAlertsArgs) -> anyhow::Result<()> {
    let store = crate::storage::open_store(config).await?;
    let alerts = store.list_alerts(args.limit).await?;
    if args.json {
        let out: Vec<app::guard::alerts::WebhookBody> = alerts
            .iter()
            .map(app::guard::alerts::WebhookBody::from)
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if alerts.is_empty() {
        println!("No alerts.");
    } else {
        for a in &alerts {
            println!(
                "{}  {:<8} {:<16} account {}  organisation {}  {}  {}",
                a.raised_at,
                a.severity,
                a.signal,
                a.account_id
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "-".into()),
                a.organisation_id
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "-".into()),
                a.action,
                a.detail
            );
        }
    }
    Ok(())
}
