//! `rempart gen`: synthetic data files.
//!
//! `rempart gen beneficiaries --count N [--seed S] [--insurer AMC] --out FILE.csv` streams a
//! beneficiary file in the format of docs/formats.md: one family in memory at a time, a
//! buffered CSV writer, a progress bar on a terminal (none on a pipe) and a summary at the end.

use crate::cli::GenBeneficiariesArgs;
use anyhow::Context;
use app::Clock;
use app::synthetic::{self, CSV_HEADER};
use domain::ids::AmcNumber;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows between two progress updates.
const PROGRESS_EVERY: u64 = 16_384;

#[derive(Debug, serde::Serialize)]
struct Summary<'a> {
    rows: u64,
    seconds: f64,
    rows_per_second: u64,
    out: &'a str,
    seed: u64,
    year: i32,
}

/// Writes `args.count` synthetic beneficiaries to `args.out` (`-` = standard output).
pub fn beneficiaries(args: &GenBeneficiariesArgs) -> anyhow::Result<()> {
    if let Some(amc) = &args.insurer {
        AmcNumber::parse(amc).context("--insurer")?;
    }
    // Validities are relative to the current year; for a given seed the file only changes on
    // 1 January.
    let year = app::SystemClock.today().year();
    let config = synthetic::Config {
        seed: args.seed,
        insurer: args.insurer.clone(),
        year,
    };
    let to_stdout = args.out.as_os_str() == "-";
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(io::stdout().lock())
    } else {
        Box::new(
            File::create(&args.out)
                .with_context(|| format!("cannot create {}", args.out.display()))?,
        )
    };

    let progress = progress_bar(args.count);
    let started = Instant::now();
    let rows = write_csv(sink, &config, args.count, &progress)?;
    let elapsed = started.elapsed();
    progress.finish_and_clear();

    let out = if to_stdout {
        "-".to_string()
    } else {
        args.out.display().to_string()
    };
    let summary = Summary {
        rows,
        seconds: round3(elapsed),
        rows_per_second: per_second(rows, elapsed),
        out: &out,
        seed: args.seed,
        year,
    };
    let line = if args.json {
        serde_json::to_string(&summary)?
    } else {
        format!(
            "wrote {} rows in {:.3} s ({} rows/s) to {}",
            summary.rows,
            summary.seconds,
            summary.rows_per_second,
            display_out(&args.out, to_stdout)
        )
    };
    // The CSV owns standard output when it is the destination.
    if to_stdout {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(())
}

/// Streams `count` rows of the population of `config` as CSV into `sink`; returns the number
/// of rows written.
fn write_csv(
    sink: Box<dyn Write>,
    config: &synthetic::Config,
    count: u64,
    progress: &ProgressBar,
) -> anyhow::Result<u64> {
    let mut writer = csv::WriterBuilder::new()
        .buffer_capacity(1 << 20)
        .from_writer(sink);
    writer.write_record(CSV_HEADER)?;
    let mut rows = 0u64;
    for beneficiary in
        synthetic::beneficiaries(config).take(usize::try_from(count).unwrap_or(usize::MAX))
    {
        writer.write_record(synthetic::csv_record(&beneficiary))?;
        rows += 1;
        if rows.is_multiple_of(PROGRESS_EVERY) {
            progress.set_position(rows);
        }
    }
    writer.flush().context("writing the file")?;
    progress.set_position(rows);
    Ok(rows)
}

/// A rows/s progress bar on standard error when it is a terminal, hidden otherwise.
fn progress_bar(count: u64) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} rows  {rate}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} rows/s", state.per_sec());
                },
            );
    bar.set_style(style);
    bar
}

fn display_out(out: &Path, to_stdout: bool) -> String {
    if to_stdout {
        "standard output".to_string()
    } else {
        out.display().to_string()
    }
}

fn round3(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn per_second(rows: u64, d: Duration) -> u64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 {
        (rows as f64 / secs).round() as u64
    } else {
        rows
    }
}
