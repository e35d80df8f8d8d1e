//! `rempart import beneficiaries --insurer AMC FILE [--full] [--date D] [--report FILE.json]
//! [--batch N] [--json]`: imports an insurer's beneficiary file (docs/formats.md) into the store
//! of `--data-dir` or `--database-url`, with a progress bar (rows/s) on a terminal and a summary
//! at the end. Exit 1 when the file cannot be read at all (missing, unreadable, wrong header);
//! rejected rows are reported, not fatal.

use crate::cli::ImportBeneficiariesArgs;
use crate::config::Config;
use anyhow::{Context, bail};
use app::beneficiaries::import::{self, ImportOptions, ImportReport};
use domain::ids::AmcNumber;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{self, IsTerminal};
use std::time::Instant;

pub async fn beneficiaries(config: &Config, args: &ImportBeneficiariesArgs) -> anyhow::Result<()> {
    let amc = AmcNumber::parse(&args.insurer).context("--insurer")?;
    let date = args
        .date
        .as_deref()
        .map(|d| {
            import::parse::parse_date("date", d).map_err(|e| anyhow::anyhow!("--date {}", e.reason))
        })
        .transpose()?;
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let digest = import::digest(io::BufReader::new(file))
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;

    // A bulk load on its own: the SQLite writer gets the larger page cache of `Workload::Bulk`.
    let ports = crate::storage::open_for(
        config,
        crate::storage::MissingKeys::Refuse,
        crate::storage::Workload::Bulk,
    )
    .await?;
    let Some(insurer) = ports.store.find_insurer_by_amc(&amc).await? else {
        bail!("no insurer has the AMC number {}", amc.as_str());
    };
    let options = ImportOptions {
        full: args.full,
        date,
        batch_size: usize::try_from(args.batch).unwrap_or(import::BULK_BATCH),
        digest: Some(digest),
        ..ImportOptions::default()
    };

    let progress = progress_bar(size);
    let reading = CountingReader {
        inner: file,
        bar: progress.clone(),
    };
    let started = Instant::now();
    let bar = progress.clone();
    let result = import::import(&ports, &insurer, &options, reading, &move |rows| {
        let secs = started.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!("{rows} rows, {:.0} rows/s", rows as f64 / secs));
    })
    .await;
    progress.finish_and_clear();
    let report = result.map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let elapsed = started.elapsed();

    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(path, json)
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", summary(&report, elapsed.as_secs_f64()));
    }
    Ok(())
}

fn summary(r: &ImportReport, seconds: f64) -> String {
    let rate = if seconds > 0.0 {
        (r.read as f64 / seconds).round() as u64
    } else {
        r.read
    };
    let mut s = format!(
        "read {} rows in {seconds:.3} s ({rate} rows/s): {} inserted, {} updated, {} unchanged, {} closed, {} rejected",
        r.read, r.inserted, r.updated, r.unchanged, r.closed, r.rejected
    );
    for e in r.errors.iter().take(20) {
        s.push_str(&format!("\n  line {}: {}: {}", e.line, e.field, e.reason));
    }
    let more = r.rejected.saturating_sub(20);
    if more > 0 {
        s.push_str(&format!("\n  … and {more} more (see --report)"));
    }
    s
}

/// Counts the bytes read, for the progress bar.
struct CountingReader {
    inner: File,
    bar: ProgressBar,
}

impl io::Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(u64::try_from(n).unwrap_or(0));
        Ok(n)
    }
}

/// Bytes read, rows imported and rows/s on standard error when it is a terminal.
fn progress_bar(bytes: u64) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes}  {msg}  eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
