//! `rempart incident scope` and `rempart incident draft` (incident response).
//!
//! `scope` computes from the ledger who had data disclosed through the named accounts,
//! organisations, credentials or client addresses in a time window, per insurer, and prints
//! the counts (no member number on the terminal). With `--out` it writes the whole scope,
//! member numbers included, to a 0600 JSON file, after recording the export in the ledger (one
//! entry per person, purpose `incident_export`). `draft` reads that file and writes the notice
//! drafts per insurer (`app::incidents::draft`).

use crate::cli::{IncidentCommand, IncidentDraftArgs, IncidentScopeArgs};
use crate::config::Config;
use crate::storage::{self, MissingKeys};
use anyhow::{Context, bail};
use app::incidents::draft::{DraftOptions, draft, write};
use app::incidents::{Exporter, IncidentError, IncidentScope, ScopeQuery, export, scope};
use app::ledger::Ledger;
use domain::accounts::OrganisationKind;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub async fn run(config: &Config, command: &IncidentCommand) -> anyhow::Result<()> {
    match command {
        IncidentCommand::Scope(args) => scope_command(config, args).await,
        IncidentCommand::Draft(args) => draft_command(config, args).await,
    }
}

fn time_arg(name: &str, value: Option<&String>) -> anyhow::Result<Option<OffsetDateTime>> {
    value
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
                anyhow::anyhow!("--{name}: must be an RFC 3339 time, e.g. 2026-11-28T09:00:00Z")
            })
        })
        .transpose()
}

fn incident_error(e: IncidentError) -> anyhow::Error {
    match e {
        IncidentError::Invalid(reason) => anyhow::anyhow!("{reason}"),
        other => anyhow::Error::new(other),
    }
}

/// The summary printed: counts per insurer, never a member number.
#[derive(Debug, Serialize)]
struct Summary {
    entries_read: u64,
    entries_in_scope: u64,
    people: u64,
    seconds: f64,
    insurers: Vec<InsurerSummary>,
    /// Where the full scope was written (ledgered), when it was.
    written_to: Option<String>,
}

#[derive(Debug, Serialize)]
struct InsurerSummary {
    amc: String,
    name: String,
    people: u64,
    records: u64,
    categories: BTreeMap<String, u64>,
    first: String,
    last: String,
}

fn show(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

async fn scope_command(config: &Config, args: &IncidentScopeArgs) -> anyhow::Result<()> {
    let query = ScopeQuery {
        accounts: args.accounts.clone(),
        organisations: args.organisations.clone(),
        credentials: args.credentials.clone(),
        client_addrs: args.client_addrs.clone(),
        from: time_arg("from", args.from.as_ref())?,
        to: time_arg("to", args.to.as_ref())?,
    };
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let started = Instant::now();
    let result = scope(&ports, &query).await.map_err(incident_error)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut written_to = None;
    if let Some(path) = &args.out {
        let organisation_id = ports
            .store
            .list_organisations(OrganisationKind::Operator)
            .await?
            .first()
            .map_or(uuid::Uuid::nil(), |o| o.id);
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        let ledger = Ledger::new(ports.clone(), config.ledger());
        let n = export(
            &ports,
            &ledger,
            Exporter::CommandLine {
                organisation_id,
                user,
            },
            &result,
        )
        .await
        .map_err(incident_error)
        .context("the export could not be ledgered: nothing was written")?;
        let json = serde_json::to_string_pretty(&result)?;
        let mut file = super::cards::private_file(path)?;
        std::io::Write::write_all(&mut file, json.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        tracing::info!(people = n, "incident scope exported (ledgered)");
        written_to = Some(path.display().to_string());
    }
    let summary = Summary {
        entries_read: result.entries_read,
        entries_in_scope: result.entries_in_scope,
        people: result.people(),
        seconds,
        insurers: result
            .insurers
            .iter()
            .map(|i| InsurerSummary {
                amc: i.amc.clone(),
                name: i.name.clone(),
                people: i.people,
                records: i.records,
                categories: i.categories.clone(),
                first: show(i.first),
                last: show(i.last),
            })
            .collect(),
        written_to,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!(
        "{} ledger entries read in {:.1} s, {} in scope: {} people disclosed.",
        summary.entries_read, summary.seconds, summary.entries_in_scope, summary.people
    );
    for i in &summary.insurers {
        let cats: Vec<String> = i
            .categories
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        println!(
            "  {} {}: {} people, {} disclosures, {} to {}; categories (people): {}",
            i.amc,
            i.name,
            i.people,
            i.records,
            i.first,
            i.last,
            cats.join(", ")
        );
    }
    match &summary.written_to {
        Some(path) => println!(
            "The scope with the member numbers is in {path} (0600; the export is ledgered). Next: rempart incident draft --scope {path} --out DIR"
        ),
        None => println!(
            "To hand the member numbers to the insurers, add --out FILE (the export is ledgered)."
        ),
    }
    Ok(())
}

async fn draft_command(config: &Config, args: &IncidentDraftArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.scope)
        .with_context(|| format!("cannot read the scope file {}", args.scope.display()))?;
    let scope: IncidentScope = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "--scope: not a scope file written by `rempart incident scope --out` (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let mut measures = args.measures.clone();
    // What is in force now for the scope's subjects.
    let store = storage::open_store(config).await?;
    for s in store.list_active_suspensions().await? {
        if scope.query.accounts.contains(&s.subject_id)
            || scope.query.organisations.contains(&s.subject_id)
            || scope.query.organisations.contains(&s.organisation_id)
        {
            measures.push(format!(
                "{} {} suspended since {} ({})",
                s.subject.code(),
                s.subject_id,
                show(s.suspended_at),
                s.signal
            ));
        }
    }
    for sw in store.list_active_kill_switches().await? {
        measures.push(format!(
            "lookups switched off for {} since {}",
            sw.scope,
            show(sw.engaged_at)
        ));
    }
    let options = DraftOptions {
        operator: args.operator.clone(),
        contact: args
            .contact
            .clone()
            .unwrap_or_else(|| config.guard.operator_contact.clone()),
        detected_at: None,
        measures_taken: measures,
    };
    let files = draft(&scope, &options).map_err(incident_error)?;
    if files.is_empty() {
        bail!("--scope: the scope names no insurer: nothing to draft");
    }
    write(&args.out, &files).map_err(incident_error)?;
    println!(
        "{} drafts written under {} for {} insurer(s): art33-notification.md, art34-notice.fr.md, art34-notice.en.md, nis2-early-warning.md, members.csv each.",
        files.len(),
        args.out.display(),
        scope.insurers.len()
    );
    Ok(())
}
