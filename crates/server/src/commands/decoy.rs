//! `rempart decoy issue --insurer AMC [--count N] --out FILE`: decoy cards, held by no real
//! patient. The file (CSV, 0600) holds each decoy's datamatrix token and verification code, to
//! print or plant; they are shown nowhere else. A lookup of one suspends the account at once.

use crate::cli::DecoyIssueArgs;
use crate::config::Config;
use anyhow::Context;
use domain::ids::AmcNumber;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

pub async fn issue(config: &Config, args: &DecoyIssueArgs) -> anyhow::Result<()> {
    let amc = AmcNumber::parse(&args.insurer)
        .map_err(|_| anyhow::anyhow!("--insurer: not an AMC number"))?;
    let ports = crate::storage::open(config, crate::storage::MissingKeys::Refuse).await?;
    let insurer = ports
        .store
        .find_insurer_by_amc(&amc)
        .await?
        .ok_or_else(|| anyhow::anyhow!("--insurer: no insurer with that AMC number"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.out)
        .with_context(|| format!("cannot create {} (it must not exist)", args.out.display()))?;
    let decoys = app::guard::decoys::issue(&ports, &insurer, args.count)
        .await
        .context("cannot issue decoy cards")?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "card_id",
        "amc",
        "member_number",
        "valid_from",
        "valid_to",
        "verification_code",
        "token",
    ])?;
    for d in &decoys {
        csv.write_record([
            d.record.id.to_string(),
            d.record.amc.clone(),
            d.record.member_number.clone(),
            d.record.valid_from.to_string(),
            d.record.valid_to.to_string(),
            d.code.clone(),
            d.token.clone(),
        ])?;
    }
    let bytes = csv.into_inner().context("cannot write the decoy file")?;
    file.write_all(&bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{} decoy card(s) of {} issued and stored; tokens and codes in {} (0600). Any lookup of one suspends the account at once.",
        decoys.len(),
        amc,
        args.out.display()
    );
    Ok(())
}
