//! `rempart keys …` (key-encryption keys and data keys) and `rempart beneficiaries erase`.
//!
//! Nothing printed here holds a secret, a NIR, a name, a date of birth or an IBAN: key ids,
//! versions, scopes (insurer ids) and counts only.

use crate::cli::{BeneficiariesCommand, EraseArgs, KeysCommand, KeysResealArgs};
use crate::config::{Config, KeysProvider};
use crate::storage::{self, MissingKeys};
use anyhow::{Context, bail};
use app::Ports;
use app::keys::{KeyStatus, ResealReport};
use crypto::{FileKeyProvider, KeyProvider, OsRandom, SecureRandom};
use domain::ids::{AmcNumber, MemberNumber};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

pub async fn run(config: &Config, command: &KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Init => init(config),
        KeysCommand::Rotate(args) => {
            let ports = storage::open(config, MissingKeys::Refuse).await?;
            let started = Instant::now();
            let report = ports.vault.rotate_kek(ports.store.as_ref()).await?;
            let secs = started.elapsed().as_secs_f64();
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"kek_version": report.kek_version, "created": report.created,
                        "rewrapped": report.rewrapped, "already": report.already, "seconds": secs})
                );
            } else {
                let what = if report.created {
                    "created"
                } else {
                    "resumed moving data keys to"
                };
                println!(
                    "rempart keys rotate: {what} KEK version {}; re-wrapped {} data key(s) ({} already under it) in {secs:.2}s",
                    report.kek_version, report.rewrapped, report.already
                );
                println!(
                    "  older KEK versions still unwrap; destroy one with `rempart keys retire --kek-version N` when you are ready"
                );
            }
            Ok(())
        }
        KeysCommand::Reseal(args) => reseal(config, args).await,
        KeysCommand::Retire(args) => {
            let ports = storage::open(config, MissingKeys::Refuse).await?;
            ports
                .vault
                .retire_kek(ports.store.as_ref(), args.kek_version)
                .await?;
            println!(
                "rempart keys retire: KEK version {} destroyed; backups whose data keys were wrapped only under it no longer open",
                args.kek_version
            );
            Ok(())
        }
        KeysCommand::Shred(args) => {
            if !args.yes {
                bail!(
                    "crypto-shredding cannot be undone: every copy of this insurer's sealed data (backups included) becomes unreadable; add --yes to confirm"
                );
            }
            let ports = storage::open(config, MissingKeys::Refuse).await?;
            let insurer = insurer_id(&ports, &args.insurer).await?;
            let n = ports.vault.shred(ports.store.as_ref(), insurer).await?;
            tracing::warn!(insurer = %insurer, keys = n, "crypto-shredded an insurer's data keys");
            println!(
                "rempart keys shred: destroyed {n} data key(s) of insurer {insurer}; its sealed rows no longer open"
            );
            Ok(())
        }
        KeysCommand::Status(args) => {
            let ports = storage::open(config, MissingKeys::Refuse).await?;
            let status = ports.vault.status(ports.store.as_ref()).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{}", status_text(&status));
            }
            Ok(())
        }
    }
}

/// `rempart keys init`: KEK version 1, refusing to overwrite.
fn init(config: &Config) -> anyhow::Result<()> {
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom);
    match config.keys_provider {
        KeysProvider::File => {
            let dir = config.keys_dir();
            if let Some(parent) = dir.parent()
                && !parent.as_os_str().is_empty()
            {
                storage::ensure_dir(parent)?;
            }
            FileKeyProvider::init(&dir, rng).with_context(|| {
                format!("cannot initialise the key directory {}", dir.display())
            })?;
            println!(
                "rempart keys init: created KEK version 1 in {} (file 0600, directory 0700); back it up apart from the database",
                dir.display()
            );
        }
        KeysProvider::Pkcs11 => {
            let p = storage::open_pkcs11(config)?;
            if let Ok(v) = p.current_version() {
                bail!("the PKCS#11 token already holds KEK version {v}; refusing to overwrite");
            }
            let v = p
                .create_version()
                .context("cannot create the KEK in the token")?;
            println!(
                "rempart keys init: created KEK version {v} in the PKCS#11 token (non-extractable, wrap/unwrap only)"
            );
        }
    }
    Ok(())
}

async fn reseal(config: &Config, args: &KeysResealArgs) -> anyhow::Result<()> {
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let current = ports
        .vault
        .new_seal_versions(ports.store.as_ref(), ports.clock.as_ref())
        .await?;
    if !args.json {
        eprintln!(
            "rempart keys reseal: {} scope(s) now seal with their newest data key; re-encrypting rows…",
            current.len()
        );
    }
    let terminal = std::io::stderr().is_terminal() && !args.json;
    let started = Instant::now();
    let mut progress = |r: &ResealReport| {
        if terminal {
            let secs = started.elapsed().as_secs_f64().max(1e-6);
            eprint!(
                "\r  scanned {} rows, re-sealed {} ({:.0} rows/s)   ",
                r.scanned,
                r.resealed,
                r.scanned as f64 / secs
            );
        }
    };
    let report = ports
        .vault
        .reseal(
            ports.store.as_ref(),
            ports.clock.as_ref(),
            args.batch,
            &mut progress,
        )
        .await?;
    if terminal {
        eprintln!();
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = report.scanned as f64 / secs.max(1e-6);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"scanned": report.scanned, "resealed": report.resealed,
                "skipped": report.skipped, "unreadable": report.unreadable,
                "seconds": secs, "rows_per_second": rate})
        );
    } else {
        println!(
            "rempart keys reseal: scanned {} rows, re-sealed {}, already current {}, unreadable (shredded) {} in {secs:.2}s ({rate:.0} rows/s)",
            report.scanned, report.resealed, report.skipped, report.unreadable
        );
    }
    Ok(())
}

fn status_text(s: &KeyStatus) -> String {
    let mut out = format!(
        "provider      {}\nKEK versions  {:?} (current {})\nblind index   {} bits\ndata keys:\n",
        s.provider,
        s.kek_versions,
        s.current_kek
            .map_or_else(|| "none".to_string(), |v| v.to_string()),
        s.blind_index_bits
    );
    for k in &s.keys {
        let rows: u64 = s
            .rows
            .iter()
            .filter(|r| r.key_id == k.key_id)
            .map(|r| r.rows)
            .sum();
        out.push_str(&format!(
            "  key {:>10}  scope {}  {:<12} v{:<3} KEK v{:<3} rows {:>9}{}\n",
            k.key_id,
            k.scope,
            k.purpose,
            k.version,
            k.kek_version,
            rows,
            if k.retired_at.is_some() {
                "  (retired)"
            } else {
                ""
            }
        ));
    }
    let known: std::collections::BTreeSet<u32> = s.keys.iter().map(|k| k.key_id).collect();
    for r in s.rows.iter().filter(|r| !known.contains(&r.key_id)) {
        out.push_str(&format!(
            "  {} rows of {} under key {} which no longer exists (shredded): unreadable\n",
            r.rows, r.table, r.key_id
        ));
    }
    out
}

async fn insurer_id(ports: &Ports, amc: &str) -> anyhow::Result<Uuid> {
    let amc = AmcNumber::parse(amc).map_err(|_| anyhow::anyhow!("--insurer: not an AMC number"))?;
    match ports.store.find_insurer_by_amc(&amc).await? {
        Some(i) => Ok(i.id),
        None => bail!("--insurer: no insurer with this AMC number"),
    }
}

/// `rempart beneficiaries erase`.
pub async fn beneficiaries(config: &Config, command: &BeneficiariesCommand) -> anyhow::Result<()> {
    match command {
        BeneficiariesCommand::Erase(args) => erase(config, args).await,
    }
}

async fn erase(config: &Config, args: &EraseArgs) -> anyhow::Result<()> {
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let insurer = insurer_id(&ports, &args.insurer).await?;
    let member =
        MemberNumber::parse(&args.member).map_err(|_| anyhow::anyhow!("--member: invalid"))?;
    let rows = ports.store.find_member(insurer, &member).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|b| args.birth_rank.is_none_or(|r| b.birth_rank.get() == r))
        .collect();
    if rows.is_empty() {
        bail!("no such beneficiary");
    }
    for b in &rows {
        ports.store.delete_beneficiary(insurer, b.id).await?;
    }
    println!(
        "rempart beneficiaries erase: deleted {} beneficiary row(s); copies in backups become unreadable when the KEK versions that wrapped their insurer's data keys are retired (docs/operating.md, Keys)",
        rows.len()
    );
    Ok(())
}
