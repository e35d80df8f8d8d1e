//! `rempart-guard-bench`: the guard's own CPU cost per rights check, without HTTP, TLS, the
//! database or the ledger around it — what `bench/rights.sh` compares with the server's CPU
//! per check (issue 7: the guard must add under 5 %).
//!
//!   rempart-guard-bench [--checks N] [--concurrency C] [--patients P]
//!
//! One optician's machine (a client certificate: no session) asks about P distinct patients in
//! turn, as `bench/rights.sh` does; each check is what `app::rights` asks of the guard:
//! `Guard::check_suspended` (authentication), `Guard::practice_profession`, `Guard::admit`,
//! then `Guard::observe` with a match. The guard
//! is on, with the limits and baselines raised as in `bench/common.sh` (`guard_on_config`),
//! over the in-memory guard store (in the steady state the guard reads its store only to
//! refresh switches, suspensions and decoys every `poll_ms`, and practices every minute).
//! Prints one JSON line: checks, wall seconds, checks/s, and the process's CPU time per
//! check in microseconds (user + system, from /proc/self/stat).

use app::accounts::Actor;
use app::guard::memory::MemGuard;
use app::guard::store::PracticeProfile;
use app::guard::{Baseline, Guard, GuardConfig, Observation, Outcome, Request};
use clap::Parser;
use domain::accounts::Role;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

#[derive(Debug, Parser)]
struct Args {
    /// Rights checks to run through the guard.
    #[arg(long, default_value_t = 2_000_000)]
    checks: u64,
    /// Concurrent tasks (requests in flight).
    #[arg(long, default_value_t = 32)]
    concurrency: u64,
    /// Distinct patients asked about, in turn.
    #[arg(long, default_value_t = 20_000)]
    patients: u64,
}

/// The guard of `bench/common.sh`'s `guard_on_config`: on, limits and baselines raised so that
/// one machine doing thousands of checks a second is measured, not stopped.
fn config() -> GuardConfig {
    let raised = Baseline {
        distinct_10min: 100_000_000,
        distinct_24h: 1_000_000_000,
    };
    let mut config = GuardConfig {
        enabled: true,
        account_per_minute: 100_000_000,
        account_burst: 1_000_000,
        organisation_per_minute: 100_000_000,
        organisation_burst: 1_000_000,
        default_baseline: raised,
        ..GuardConfig::default()
    };
    config.baselines.insert("optician".to_string(), raised);
    config
}

/// User + system CPU time of this process, in seconds (/proc/self/stat, clock ticks of 1/100 s).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unreadable /proc/self/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("short /proc/self/stat"))?
            .parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

async fn run(guard: Arc<Guard>, actor: Arc<Actor>, from: u64, to: u64, step: u64, patients: u64) {
    let client: Option<IpAddr> = Some(IpAddr::from([127, 0, 0, 1]));
    let mut i = from;
    while i < to {
        let patient = i % patients;
        let request = Request {
            actor: &actor,
            client,
            insurer: Some("880000011"),
            domain: Some("OPTI"),
        };
        // As a request does: the suspension check of authentication, then the rights check's.
        let suspended = guard.check_suspended(&actor).await.is_err();
        let _profession = guard.practice_profession(actor.organisation_id).await;
        if !suspended && guard.admit(&request).await.is_ok() {
            guard
                .observe(&Observation {
                    request,
                    card_id: Some(Uuid::from_u128(u128::from(1_000_000 + patient))),
                    member_number: None,
                    outcome: Outcome::Match {
                        beneficiary: Uuid::from_u128(u128::from(2_000_000 + patient)),
                    },
                })
                .await;
        }
        i += step;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let practice = Uuid::from_u128(100);
    let store = Arc::new(MemGuard::new());
    store.add_practice(
        practice,
        PracticeProfile {
            profession: "optician".to_string(),
            opening_hours: None,
        },
    );
    let guard = Arc::new(Guard::new(
        store,
        Arc::new(app::clock::SystemClock),
        config(),
    ));
    let actor = Arc::new(Actor {
        account_id: Uuid::from_u128(200),
        organisation_id: practice,
        role: Role::Professional,
        display_name: "bench optician software".to_string(),
        session_id: None,
        credential_id: None,
        last_uv_at: None,
    });
    let concurrency = args.concurrency.max(1);
    let patients = args.patients.max(1);
    // Warm-up: every patient seen once (the steady state of bench/rights.sh's loop).
    run(guard.clone(), actor.clone(), 0, patients, 1, patients).await;
    let cpu_before = cpu_seconds()?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        tasks.push(tokio::spawn(run(
            guard.clone(),
            actor.clone(),
            t,
            args.checks,
            concurrency,
            patients,
        )));
    }
    for task in tasks {
        task.await?;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds()? - cpu_before;
    let checks = args.checks as f64;
    println!(
        "{}",
        serde_json::json!({
            "label": "guard alone (check_suspended + practice_profession + admit + observe)",
            "checks": args.checks,
            "concurrency": concurrency,
            "patients": patients,
            "wall_s": (wall * 1000.0).round() / 1000.0,
            "checks_per_s": (checks / wall).round(),
            "cpu_us_per_check": (cpu / checks * 1e8).round() / 100.0,
        })
    );
    Ok(())
}
