//! `rempart contracts load --insurer AMC FILE.toml [--json]`: loads a contract version from its
//! TOML text (docs/formats.md, "Contract (TOML)") into the store of `--data-dir` or
//! `--database-url`. Idempotent: the same version again changes nothing (exit 0, "unchanged");
//! a version already loaded with other content is refused naming the field (exit 1), as is an
//! invalid file (the field path and the reason).

use crate::cli::ContractsLoadArgs;
use crate::config::Config;
use anyhow::{Context, bail};
use domain::ids::AmcNumber;

pub async fn load(config: &Config, args: &ContractsLoadArgs) -> anyhow::Result<()> {
    let amc = AmcNumber::parse(&args.insurer).context("--insurer")?;
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let ports = crate::storage::open(config, crate::storage::MissingKeys::Refuse).await?;
    let Some(insurer) = ports.store.find_insurer_by_amc(&amc).await? else {
        bail!("no insurer has the AMC number {}", amc.as_str());
    };
    let loaded = app::contracts::load(&ports, insurer.id, &text)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let c = &loaded.contract;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "insurer": amc.as_str(),
                "code": c.code.as_str(),
                "version": c.version,
                "effective_from": c.effective_from.to_string(),
                "effective_to": c.effective_to.map(|d| d.to_string()),
                "created": loaded.created,
            })
        );
    } else {
        println!(
            "{} {} version {} ({} from {}{})",
            if loaded.created {
                "loaded"
            } else {
                "unchanged:"
            },
            c.code.as_str(),
            c.version,
            c.label,
            c.effective_from,
            c.effective_to
                .map(|d| format!(" to {d}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
