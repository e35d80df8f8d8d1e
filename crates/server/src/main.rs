//! The `rempart` binary: parse the command line, load the configuration, set up logs, run the
//! command. Exit codes: 0 ok, 1 failure, 2 bad usage or configuration.

mod cli;
mod commands;
mod config;
mod storage;
mod telemetry;
mod tls;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: SQLite through sqlx allocates and frees a value per
/// column of every row read, on one thread and dropped on another; glibc spent ~40 % of a
/// ledger scan in `malloc_consolidate` and friends (docs/benchmarks.md, "Allocator").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_FAILURE: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    // clap prints help/version (exit 0) or a usage error (exit 2) itself.
    let cli = cli::Cli::parse();

    let listen = match &cli.command {
        cli::Command::Serve(args) => args.listen.as_deref(),
        cli::Command::Demo(args) => args.listen.as_deref(),
        _ => None,
    };
    let overrides = config::Overrides::from_cli(&cli.global, listen);
    let config = match config::Config::load(cli.global.config.as_deref(), &overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("rempart: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    telemetry::init(&config);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rempart: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(commands::dispatch(&config, &cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::debug!(error = %format!("{e:#}"), "command failed");
            eprintln!("rempart: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
