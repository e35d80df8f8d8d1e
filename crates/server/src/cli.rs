//! The `rempart` command line. The same flag means the same thing on every command:
//! `--data-dir`, `--database-url`, `--config`, `--out`, `--json`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "rempart",
    version,
    about = "Third-party payment (tiers payant) for complementary health insurers, built so that a phished password yields nothing."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Configuration file (TOML). Precedence: defaults < this file < REMPART_* environment < flags.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory of the embedded SQLite database and the key files (as `demo` uses it).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// PostgreSQL URL (postgres://…); when set, used instead of the embedded SQLite database.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Log format: `text` (default on a terminal) or `json`.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or reuse) an embedded database with realistic synthetic data, print where to go, and serve.
    Demo(DemoArgs),
    /// Serve the API and the pages.
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Generate synthetic data files.
    #[command(subcommand)]
    Gen(GenCommand),
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum GenCommand {
    /// A synthetic insurer beneficiary file in the documented CSV format (docs/formats.md).
    Beneficiaries(GenBeneficiariesArgs),
}

#[derive(Debug, Args, Clone)]
pub struct GenBeneficiariesArgs {
    /// Number of beneficiary rows to write.
    #[arg(long)]
    pub count: u64,

    /// Seed of the generator: the same seed writes the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// AMC number whose contracts the rows refer to (used to vary member numbers per insurer).
    #[arg(long, value_name = "AMC")]
    pub insurer: Option<String>,

    /// Output file (`-` for standard output).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}
